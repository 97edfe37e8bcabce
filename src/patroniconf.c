/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "macro.h"
#include "patroniconf.h"

static const char *const dcs_keys[] = { "etcd3", "etcd", "consul", "zookeeper", "exhibitor", "kubernetes", "raft" };

void patroniconf_done(PatroniConf *c) {
        free(c->scope);
        free(c->namespace);
        free(c->name);
        free(c->dcs_type);
        free(c->restapi_address);
        *c = (PatroniConf){};
}

static int fail(char **ret_error, const yaml_node_t *n, const char *fmt, const char *arg) {
        char msg[256];

        snprintf(msg, sizeof(msg), fmt, arg);
        if (n) {
                if (asprintf(ret_error, "line %zu, column %zu: %s", n->start_mark.line + 1, n->start_mark.column + 1,
                             msg) < 0)
                        *ret_error = NULL;
        } else if (!(*ret_error = strdup(msg)))
                return -ENOMEM;
        return -EINVAL;
}

static yaml_node_t *map_get(yaml_document_t *d, yaml_node_t *map, const char *key) {
        if (!map || map->type != YAML_MAPPING_NODE)
                return NULL;
        for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
                yaml_node_t *k = yaml_document_get_node(d, p->key);
                if (k && k->type == YAML_SCALAR_NODE && streq((const char *) k->data.scalar.value, key))
                        return yaml_document_get_node(d, p->value);
        }
        return NULL;
}

static const char *scalar(const yaml_node_t *n) {
        if (!n || n->type != YAML_SCALAR_NODE)
                return NULL;
        return (const char *) n->data.scalar.value;
}

static int check_duplicates(yaml_document_t *d, yaml_node_t *n, unsigned depth, char **ret_error) {
        if (!n || depth > 64)
                return depth > 64 ? fail(ret_error, n, "%s", "nested too deeply") : 0;

        if (n->type == YAML_SEQUENCE_NODE) {
                for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
                        int r = check_duplicates(d, yaml_document_get_node(d, *i), depth + 1, ret_error);
                        if (r < 0)
                                return r;
                }
        } else if (n->type == YAML_MAPPING_NODE) {
                for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
                        yaml_node_t *k = yaml_document_get_node(d, p->key);
                        const char *ks = scalar(k);
                        int r;

                        if (ks)
                                for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++)
                                        if (streq_ptr(scalar(yaml_document_get_node(d, q->key)), ks))
                                                return fail(ret_error, k, "duplicate key \"%s\"", ks);
                        r = check_duplicates(d, yaml_document_get_node(d, p->value), depth + 1, ret_error);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int patroniconf_port_of(const char *hostport) {
        const char *c;
        char *end;
        long v;

        if (!hostport || !(c = strrchr(hostport, ':')))
                return -EINVAL;
        errno = 0;
        v = strtol(c + 1, &end, 10);
        if (errno || *end || end == c + 1 || v < 1 || v > 65535)
                return -EINVAL;
        return (int) v;
}

static int require(yaml_document_t *d, yaml_node_t *root, const char *section, const char *key, char **ret_error) {
        yaml_node_t *sec = section ? map_get(d, root, section) : root;
        const char *v;
        char what[128];

        snprintf(what, sizeof(what), "%s%s%s", section ? section : "", section ? "." : "", key);
        if (section && (!sec || sec->type != YAML_MAPPING_NODE))
                return fail(ret_error, sec, "\"%s\" must be a mapping", section);
        v = scalar(map_get(d, sec, key));
        if (!v || !v[0])
                return fail(ret_error, map_get(d, sec, key), "\"%s\" is missing or empty", what);
        return 0;
}

static int collect(yaml_document_t *d, yaml_node_t *root, bool strict, PatroniConf *c, char **ret_error) {
        yaml_node_t *restapi;
        const char *v;
        int r;

        if (!root || root->type != YAML_MAPPING_NODE)
                return fail(ret_error, root, "%s", "the configuration must be a mapping");

        if (strict) {
                static const char *const req[][2] = {
                        { NULL, "scope" },
                        { NULL, "name" },
                        { "restapi", "listen" },
                        { "restapi", "connect_address" },
                        { "postgresql", "data_dir" },
                        { "postgresql", "listen" },
                        { "postgresql", "connect_address" },
                };
                r = check_duplicates(d, root, 0, ret_error);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < ELEMENTSOF(req); i++) {
                        r = require(d, root, req[i][0], req[i][1], ret_error);
                        if (r < 0)
                                return r;
                }
        }

        for (size_t i = 0; i < ELEMENTSOF(dcs_keys); i++) {
                yaml_node_t *n = map_get(d, root, dcs_keys[i]);
                if (!n)
                        continue;
                if (c->dcs_type) {
                        if (strict)
                                return fail(ret_error, n, "more than one DCS section (\"%s\")", dcs_keys[i]);
                        continue;
                }
                if (strict && n->type != YAML_MAPPING_NODE)
                        return fail(ret_error, n, "DCS section \"%s\" must be a mapping", dcs_keys[i]);
                if (!(c->dcs_type = strdup(dcs_keys[i])))
                        return -ENOMEM;
        }
        if (strict && !c->dcs_type)
                return fail(ret_error, NULL, "%s", "no DCS section (etcd3, etcd, consul, zookeeper, ...)");

        v = scalar(map_get(d, root, "scope"));
        if (v && !(c->scope = strdup(v)))
                return -ENOMEM;
        v = scalar(map_get(d, root, "name"));
        if (v && !(c->name = strdup(v)))
                return -ENOMEM;

        /* Patroni joins namespace and scope with exactly one slash on each side. */
        v = scalar(map_get(d, root, "namespace"));
        if (!v || !v[0])
                v = "/service/";
        while (*v == '/')
                v++;
        size_t l = strlen(v);
        while (l > 0 && v[l - 1] == '/')
                l--;
        if (asprintf(&c->namespace, l ? "/%.*s/" : "/", (int) l, v) < 0) {
                c->namespace = NULL;
                return -ENOMEM;
        }

        restapi = map_get(d, root, "restapi");
        v = scalar(map_get(d, restapi, "listen"));
        if (v) {
                r = patroniconf_port_of(v);
                if (r < 0 && strict)
                        return fail(ret_error, map_get(d, restapi, "listen"), "restapi.listen \"%s\" has no valid port",
                                    v);
                c->restapi_port = r < 0 ? 0 : r;
        }
        const char *connect = scalar(map_get(d, restapi, "connect_address"));
        if (connect || v) {
                c->restapi_address = strdup(connect ? connect : v);
                if (!c->restapi_address)
                        return -ENOMEM;
        }
        c->restapi_tls = scalar(map_get(d, restapi, "certfile")) != NULL;
        v = scalar(map_get(d, map_get(d, root, "postgresql"), "listen"));
        if (v) {
                /* "*:5432", "host1,host2:5432": the port follows the last colon */
                r = patroniconf_port_of(v);
                c->postgresql_port = r < 0 ? 0 : r;
        }
        return 0;
}

int patroniconf_parse(const char *text, size_t size, bool strict, PatroniConf *ret, char **ret_error) {
        yaml_parser_t p;
        yaml_document_t d;
        PatroniConf c = {};
        int r;

        *ret_error = NULL;
        if (!yaml_parser_initialize(&p))
                return -ENOMEM;
        yaml_parser_set_input_string(&p, (const unsigned char *) text, size);
        if (!yaml_parser_load(&p, &d)) {
                r = p.error == YAML_MEMORY_ERROR ? -ENOMEM : -EINVAL;
                if (r == -EINVAL && asprintf(ret_error, "line %zu, column %zu: %s", p.problem_mark.line + 1,
                                             p.problem_mark.column + 1, strna(p.problem)) < 0)
                        *ret_error = NULL;
                yaml_parser_delete(&p);
                return r;
        }
        r = collect(&d, yaml_document_get_root_node(&d), strict, &c, ret_error);
        yaml_document_delete(&d);
        yaml_parser_delete(&p);
        if (r < 0) {
                patroniconf_done(&c);
                return r;
        }
        *ret = c;
        return 0;
}
