/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "macro.h"
#include "patroniconf.h"
#include "yamlutil.h"

static const char *const dcs_keys[] = { "etcd3", "etcd", "consul", "zookeeper", "exhibitor", "kubernetes", "raft" };

void patroniconf_done(PatroniConf *c) {
        free(c->scope);
        free(c->namespace);
        free(c->name);
        free(c->dcs_type);
        free(c->restapi_address);
        free(c->restapi_cafile);
        free(c->data_dir);
        free(c->postgresql_connect_address);
        free(c->dcs_section);
        free(c->bootstrap_method);
        free(c->dcs_plain_remote);
        free(c->dcs_cacert);
        free(c->dcs_cert);
        free(c->dcs_key);
        free(c->dcs_username);
        for (size_t i = 0; i < ELEMENTSOF(c->key_files); i++) {
                free(c->key_files[i]);
                free(c->cert_files[i]);
                free(c->cert_addresses[i]);
        }
        *c = (PatroniConf){};
}

_printf_(3, 4) static int fail(char **ret_error, const yaml_node_t *n, const char *fmt, ...) {
        char msg[256];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (n) {
                if (asprintf(ret_error, "line %zu, column %zu: %s", n->start_mark.line + 1, n->start_mark.column + 1,
                             msg) < 0)
                        *ret_error = NULL;
        } else if (!(*ret_error = strdup(msg)))
                return -ENOMEM;
        return -EINVAL;
}

int patroniconf_port_of(const char *hostport) {
        const char *c;

        if (!hostport || !(c = strrchr(hostport, ':')))
                return -EINVAL;
        return parse_port(c + 1);
}

/* A node on one line that two equal nodes share, whatever their style: key: {k: 'v', l: ['a']}. */
static void canonical_node(FILE *f, yaml_document_t *d, yaml_node_t *n, unsigned depth, size_t *budget) {
        if (*budget == 0)
                return;
        (*budget)--;
        if (!n || depth > YAML_MAX_DEPTH) {
                fputs("~", f);
                return;
        }
        if (n->type == YAML_SCALAR_NODE) {
                fprintf(f, "'%s'", (const char *) n->data.scalar.value);
                return;
        }
        if (n->type == YAML_SEQUENCE_NODE) {
                fputc('[', f);
                for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
                        if (i != n->data.sequence.items.start)
                                fputs(", ", f);
                        canonical_node(f, d, yaml_document_get_node(d, *i), depth + 1, budget);
                }
                fputc(']', f);
                return;
        }
        fputc('{', f);
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
                const char *k = yamlutil_scalar(yaml_document_get_node(d, p->key));
                fprintf(f, "%s%s: ", p != n->data.mapping.pairs.start ? ", " : "", k ? k : "?");
                canonical_node(f, d, yaml_document_get_node(d, p->value), depth + 1, budget);
        }
        fputc('}', f);
}

/* Aliases may make a document exponentially large when written out: each node once, or none. */
static int canonical(yaml_document_t *d, yaml_node_t *n, char **ret, const char *key) {
        size_t size = 0, budget = 10000;
        FILE *f = open_memstream(ret, &size);

        if (!f)
                return -ENOMEM;
        fprintf(f, "%s: ", key);
        canonical_node(f, d, n, 0, &budget);
        if (fclose(f) != 0)
                return -ENOMEM;
        if (budget == 0 || size > 64 * 1024) { /* not a DCS section anyone writes: nothing to compare */
                free(*ret);
                *ret = NULL;
        }
        return 0;
}

static bool loopback_host(const char *h, size_t n) {
        static const char *const names[] = { "localhost", "::1", "[::1]" };

        if (n >= 4 && strncmp(h, "127.", 4) == 0)
                return true;
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (n == strlen(names[i]) && strncmp(h, names[i], n) == 0)
                        return true;
        return false;
}

/* One endpoint, "host:port" or "scheme://host:port/...": plain and not loopback? */
static bool plain_remote(const char *e, const char *protocol) {
        const char *s = strstr(e, "://"), *h, *end;

        if (s ? (size_t) (s - e) != 4 || strncmp(e, "http", 4) != 0 : !streq(protocol, "http"))
                return false; /* https, or a scheme that is not http */
        h = s ? s + 3 : e;
        if (*h == '[')
                end = strchr(h, ']') ? strchr(h, ']') + 1 : h + strlen(h);
        else
                end = h + strcspn(h, ":/");
        return end > h && !loopback_host(h, (size_t) (end - h));
}

/* etcd and etcd3: host, hosts (a list, or a comma-separated string), url and urls, with protocol (http). */
static int plain_remote_endpoint(yaml_document_t *d, yaml_node_t *root, PatroniConf *c) {
        static const char *const keys[] = { "host", "hosts", "url", "urls" };
        yaml_node_t *dcs = yamlutil_map_get(d, root, "etcd3") ? yamlutil_map_get(d, root, "etcd3") : yamlutil_map_get(d, root, "etcd");
        const char *protocol = yamlutil_scalar(yamlutil_map_get(d, dcs, "protocol"));

        if (!protocol || !protocol[0])
                protocol = "http";
        for (size_t k = 0; dcs && k < ELEMENTSOF(keys) && !c->dcs_plain_remote; k++) {
                yaml_node_t *n = yamlutil_map_get(d, dcs, keys[k]);
                const char *one[64];
                size_t m = 0;
                if (n && n->type == YAML_SCALAR_NODE)
                        one[m++] = yamlutil_scalar(n);
                else if (n && n->type == YAML_SEQUENCE_NODE)
                        for (yaml_node_item_t *i = n->data.sequence.items.start;
                             i < n->data.sequence.items.top && m < ELEMENTSOF(one); i++)
                                if ((one[m] = yamlutil_scalar(yaml_document_get_node(d, *i))))
                                        m++;
                for (size_t i = 0; i < m && !c->dcs_plain_remote; i++) {
                        _cleanup_free_ char *copy = strdup(one[i]);
                        if (!copy)
                                return -ENOMEM;
                        for (char *save = NULL, *e = strtok_r(copy, ", ", &save); e; e = strtok_r(NULL, ", ", &save))
                                if (plain_remote(e, protocol)) {
                                        c->dcs_plain_remote = strdup(e);
                                        if (!c->dcs_plain_remote)
                                                return -ENOMEM;
                                        break;
                                }
                }
        }
        return 0;
}

bool patroniconf_same_cluster(const PatroniConf *a, const PatroniConf *b, char *what, size_t size) {
        if (a->data_dir && b->data_dir && streq(a->data_dir, b->data_dir))
                snprintf(what, size, "data directory %s", a->data_dir);
        else if (a->scope && b->scope && streq(a->scope, b->scope) && streq_ptr(a->namespace, b->namespace))
                snprintf(what, size, "scope %s%s", strempty(a->namespace), a->scope);
        else if (a->postgresql_port > 0 && a->postgresql_port == b->postgresql_port)
                snprintf(what, size, "PostgreSQL port %d", a->postgresql_port);
        else
                return false;
        return true;
}

int patroniconf_canonical_dcs(const char *text, size_t size, char **ret) {
        PatroniConf c = {};
        _cleanup_free_ char *msg = NULL;
        int r = patroniconf_parse(text, size, false, &c, &msg);

        if (r >= 0)
                *ret = TAKE_PTR(c.dcs_section);
        patroniconf_done(&c);
        return r;
}

static int require(yaml_document_t *d, yaml_node_t *root, const char *section, const char *key, char **ret_error) {
        yaml_node_t *sec = section ? yamlutil_map_get(d, root, section) : root;
        const char *v;
        char what[128];

        snprintf(what, sizeof(what), "%s%s%s", section ? section : "", section ? "." : "", key);
        if (section && (!sec || sec->type != YAML_MAPPING_NODE))
                return fail(ret_error, sec, "\"%s\" must be a mapping", section);
        v = yamlutil_scalar(yamlutil_map_get(d, sec, key));
        if (!v || !v[0])
                return fail(ret_error, yamlutil_map_get(d, sec, key), "\"%s\" is missing or empty", what);
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
                r = yamlutil_check_duplicates(d, ret_error);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < ELEMENTSOF(req); i++) {
                        r = require(d, root, req[i][0], req[i][1], ret_error);
                        if (r < 0)
                                return r;
                }
        }

        for (size_t i = 0; i < ELEMENTSOF(dcs_keys); i++) {
                yaml_node_t *n = yamlutil_map_get(d, root, dcs_keys[i]);
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
                r = canonical(d, n, &c->dcs_section, dcs_keys[i]);
                if (r < 0)
                        return r;
        }
        if (strict && !c->dcs_type)
                return fail(ret_error, NULL, "%s", "no DCS section (etcd3, etcd, consul, zookeeper, ...)");

        v = yamlutil_scalar(yamlutil_map_get(d, root, "scope"));
        if (v && !(c->scope = strdup(v)))
                return -ENOMEM;
        v = yamlutil_scalar(yamlutil_map_get(d, root, "name"));
        if (v && !(c->name = strdup(v)))
                return -ENOMEM;

        /* Patroni joins namespace and scope with exactly one slash on each side. */
        v = yamlutil_scalar(yamlutil_map_get(d, root, "namespace"));
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

        restapi = yamlutil_map_get(d, root, "restapi");
        v = yamlutil_scalar(yamlutil_map_get(d, restapi, "listen"));
        if (v) {
                r = patroniconf_port_of(v);
                if (r < 0 && strict)
                        return fail(ret_error, yamlutil_map_get(d, restapi, "listen"), "restapi.listen \"%s\" has no valid port",
                                    v);
                c->restapi_port = r < 0 ? 0 : r;
        }
        const char *connect = yamlutil_scalar(yamlutil_map_get(d, restapi, "connect_address"));
        if (connect || v) {
                c->restapi_address = strdup(connect ? connect : v);
                if (!c->restapi_address)
                        return -ENOMEM;
        }
        c->restapi_tls = yamlutil_scalar(yamlutil_map_get(d, restapi, "certfile")) != NULL;
        /* Whom its clients trust, as Patroni's own clients choose it. */
        const char *ca = yamlutil_scalar(yamlutil_map_get(d, yamlutil_map_get(d, root, "ctl"), "cacert"));
        if (!ca || !ca[0])
                ca = yamlutil_scalar(yamlutil_map_get(d, restapi, "cafile"));
        if (ca && ca[0] && !(c->restapi_cafile = strdup(ca)))
                return -ENOMEM;
        yaml_node_t *auth = yamlutil_map_get(d, restapi, "authentication");
        v = yamlutil_scalar(yamlutil_map_get(d, auth, "username"));
        c->restapi_auth = v && v[0] && (v = yamlutil_scalar(yamlutil_map_get(d, auth, "password"))) && v[0];
        r = plain_remote_endpoint(d, root, c);
        if (r < 0)
                return r;
        /* The private keys it names: readable by others, they would give away the certificates. */
        yaml_node_t *dcs = yamlutil_map_get(d, root, c->dcs_type ? c->dcs_type : "etcd3");
        /* What else talks to the DCS (vip-manager) needs the same TLS files and user. */
        const struct {
                const char *key, *alt;
                char **slot;
        } dcs_fields[] = { { "cacert", "ca_cert", &c->dcs_cacert }, { "cert", "certfile", &c->dcs_cert },
                           { "key", "keyfile", &c->dcs_key }, { "username", "user", &c->dcs_username } };
        for (size_t k = 0; k < ELEMENTSOF(dcs_fields); k++) {
                const char *f = yamlutil_scalar(yamlutil_map_get(d, dcs, dcs_fields[k].key));
                if (!f)
                        f = yamlutil_scalar(yamlutil_map_get(d, dcs, dcs_fields[k].alt));
                if (f && f[0] && !(*dcs_fields[k].slot = strdup(f)))
                        return -ENOMEM;
        }
        const char *keys[PATRONICONF_KEY_FILES_MAX] = {
                yamlutil_scalar(yamlutil_map_get(d, restapi, "keyfile")),
                yamlutil_scalar(yamlutil_map_get(d, yamlutil_map_get(d, root, "ctl"), "keyfile")),
                yamlutil_scalar(yamlutil_map_get(d, dcs, "key")) ? yamlutil_scalar(yamlutil_map_get(d, dcs, "key")) : yamlutil_scalar(yamlutil_map_get(d, dcs, "keyfile")),
                yamlutil_scalar(yamlutil_map_get(d, yamlutil_map_get(d, yamlutil_map_get(d, root, "postgresql"), "parameters"), "ssl_key_file")),
        };
        /* Each file once: the REST API and PostgreSQL often share one. */
        for (size_t k = 0, n = 0; k < ELEMENTSOF(keys); k++) {
                bool seen = false;
                for (size_t j = 0; j < n && !seen; j++)
                        seen = streq_ptr(c->key_files[j], keys[k]);
                if (keys[k] && keys[k][0] == '/' && !seen && !(c->key_files[n++] = strdup(keys[k])))
                        return -ENOMEM;
        }
        yaml_node_t *pg = yamlutil_map_get(d, root, "postgresql");
        const char *certs[PATRONICONF_KEY_FILES_MAX][2] = {
                { yamlutil_scalar(yamlutil_map_get(d, restapi, "certfile")), c->restapi_address },
                { yamlutil_scalar(yamlutil_map_get(d, yamlutil_map_get(d, root, "ctl"), "certfile")), NULL },
                { yamlutil_scalar(yamlutil_map_get(d, dcs, "cert")) ? yamlutil_scalar(yamlutil_map_get(d, dcs, "cert")) : yamlutil_scalar(yamlutil_map_get(d, dcs, "certfile")),
                  NULL },
                /* its address matters only to replicas that verify it */
                { yamlutil_scalar(yamlutil_map_get(d, yamlutil_map_get(d, pg, "parameters"), "ssl_cert_file")),
                  streq_ptr(yamlutil_scalar(yamlutil_map_get(d, yamlutil_map_get(d, yamlutil_map_get(d, pg, "authentication"), "replication"), "sslmode")),
                            "verify-full")
                          ? yamlutil_scalar(yamlutil_map_get(d, pg, "connect_address"))
                          : NULL },
        };
        for (size_t k = 0, n = 0; k < ELEMENTSOF(certs); k++) {
                if (!certs[k][0] || certs[k][0][0] != '/')
                        continue;
                size_t j = 0;
                while (j < n && !streq(c->cert_files[j], certs[k][0]))
                        j++;
                if (j < n) { /* the same file: one check, for the address the first use names */
                        if (!c->cert_addresses[j] && certs[k][1] && !(c->cert_addresses[j] = strdup(certs[k][1])))
                                return -ENOMEM;
                        continue;
                }
                if (!(c->cert_files[n] = strdup(certs[k][0])) ||
                    (certs[k][1] && !(c->cert_addresses[n] = strdup(certs[k][1]))))
                        return -ENOMEM;
                n++;
        }
        v = yamlutil_scalar(yamlutil_map_get(d, yamlutil_map_get(d, root, "bootstrap"), "method"));
        if (v && v[0] && !(c->bootstrap_method = strdup(v)))
                return -ENOMEM;
        v = yamlutil_scalar(yamlutil_map_get(d, yamlutil_map_get(d, root, "postgresql"), "data_dir"));
        if (v && v[0] && !(c->data_dir = strdup(v)))
                return -ENOMEM;
        v = yamlutil_scalar(yamlutil_map_get(d, yamlutil_map_get(d, root, "postgresql"), "connect_address"));
        if (v && v[0] && !(c->postgresql_connect_address = strdup(v)))
                return -ENOMEM;
        v = yamlutil_scalar(yamlutil_map_get(d, yamlutil_map_get(d, root, "postgresql"), "listen"));
        if (v) {
                /* "*:5432", "host1,host2:5432": the port follows the last colon */
                r = patroniconf_port_of(v);
                c->postgresql_port = r < 0 ? 0 : r;
        }
        return 0;
}

int patroniconf_parse(const char *text, size_t size, bool strict, PatroniConf *ret, char **ret_error) {
        yaml_document_t d;
        YamlError err = {};
        PatroniConf c = {};
        int r;

        *ret_error = NULL;
        /* Files others write, too: one bounded pass, no quadratic scanning of deep nesting. */
        r = yamlutil_load_bounded(text, size, &d, &err);
        if (r < 0) {
                if (r == -EINVAL && asprintf(ret_error, "line %zu, column %zu: %s", err.line, err.column,
                                             err.message) < 0)
                        *ret_error = NULL;
                return r;
        }
        r = collect(&d, yaml_document_get_root_node(&d), strict, &c, ret_error);
        yaml_document_delete(&d);
        if (r < 0) {
                patroniconf_done(&c);
                return r;
        }
        *ret = c;
        return 0;
}
