/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dcs.h"
#include "fsutil.h"
#include "macro.h"
#include "patroniconf.h"

DcsConfig *dcs_config_free(DcsConfig *c) {
        if (!c)
                return NULL;
        yamlutil_events_done(&c->pairs);
        free(c->source);
        free(c->type);
        free(c->endpoints);
        free(c->hostip);
        free(c->network);
        free(c);
        return NULL;
}

_printf_(2, 3) static int error_at(char **ret_error, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(ret_error, fmt, ap) < 0)
                *ret_error = NULL;
        va_end(ap);
        return -EINVAL;
}

/* ---- /etc/default/patroni ---------------------------------------------------------------- */

typedef struct Defaults {
        char *type, *hosts, *protocol, *cacert, *cert, *key, *username, *hostip, *network;
        unsigned type_line, hosts_line;
} Defaults;

static void defaults_done(Defaults *d) {
        free(d->type);
        free(d->hosts);
        free(d->protocol);
        free(d->cacert);
        free(d->cert);
        free(d->key);
        free(d->username);
        free(d->hostip);
        free(d->network);
}

/* One shell word: 'single', "double" (\ escapes \ " $ `), or bare up to whitespace/#. */
static int shell_value(const char *p, char **ret, const char **ret_end) {
        _cleanup_free_ char *v = malloc(strlen(p) + 1);
        size_t n = 0;

        if (!v)
                return -ENOMEM;
        while (*p && !isspace((unsigned char) *p) && *p != '#') {
                if (*p == '\'') {
                        const char *e = strchr(p + 1, '\'');
                        if (!e)
                                return -EINVAL;
                        memcpy(v + n, p + 1, (size_t) (e - p - 1));
                        n += (size_t) (e - p - 1);
                        p = e + 1;
                } else if (*p == '"') {
                        for (p++; *p != '"'; p++) {
                                if (!*p)
                                        return -EINVAL;
                                if (*p == '\\' && p[1] && strchr("\\\"$`", p[1]))
                                        p++;
                                else if (*p == '$' || *p == '`')
                                        return -EBADMSG; /* no expansion: say so rather than guess */
                                v[n++] = *p;
                        }
                        p++;
                } else if (*p == '$' || *p == '`' || *p == '\\' || *p == ';' || *p == '|' || *p == '&') {
                        return -EBADMSG;
                } else
                        v[n++] = *p++;
        }
        v[n] = 0;
        *ret_end = p;
        *ret = TAKE_PTR(v);
        return 0;
}

static int parse_defaults(const char *text, Defaults *d, char **ret_error) {
        unsigned lineno = 0;

        for (const char *p = text; *p;) {
                const char *eol = strchrnul(p, '\n'), *q, *e;
                _cleanup_free_ char *line = strndup(p, (size_t) (eol - p)), *value = NULL;
                char **slot;
                size_t kl;
                int r;

                if (!line)
                        return -ENOMEM;
                lineno++;
                p = *eol ? eol + 1 : eol;

                q = line;
                while (isspace((unsigned char) *q))
                        q++;
                if (!*q || *q == '#')
                        continue;
                if (startswith(q, "export ") || startswith(q, "export\t"))
                        for (q += 7; isspace((unsigned char) *q); q++)
                                ;
                for (e = q; isalnum((unsigned char) *e) || *e == '_'; e++)
                        ;
                kl = (size_t) (e - q);
                if (kl == 0 || *e != '=')
                        return error_at(ret_error, "%s:%u: expected KEY=value", DCS_DEFAULTS, lineno);

#define KEY(name) (kl == strlen(name) && strncmp(q, name, kl) == 0)
                if (KEY("DCS_TYPE"))
                        slot = &d->type, d->type_line = lineno;
                else if (KEY("DCS_HOSTS"))
                        slot = &d->hosts, d->hosts_line = lineno;
                else if (KEY("DCS_PROTOCOL"))
                        slot = &d->protocol;
                else if (KEY("DCS_CACERT"))
                        slot = &d->cacert;
                else if (KEY("DCS_CERT"))
                        slot = &d->cert;
                else if (KEY("DCS_KEY"))
                        slot = &d->key;
                else if (KEY("DCS_USERNAME"))
                        slot = &d->username;
                else if (KEY("DCS_PASSWORD"))
                        return error_at(ret_error,
                                        "%s:%u: DCS_PASSWORD is refused: it would be copied into every generated "
                                        "configuration; put it in /etc/patroni/env.conf as PATRONI_ETCD3_PASSWORD "
                                        "with PATRONI_ETCD3_PROTOCOL (_ETCD_ for etcd) and keep DCS_USERNAME here",
                                        DCS_DEFAULTS, lineno);
                else if (KEY("HOSTIP"))
                        slot = &d->hostip;
                else if (KEY("NETWORK"))
                        slot = &d->network;
                else
                        return error_at(ret_error,
                                        "%s:%u: unknown key %.*s (known: DCS_TYPE, DCS_HOSTS, DCS_PROTOCOL, "
                                        "DCS_CACERT, DCS_CERT, DCS_KEY, DCS_USERNAME, HOSTIP, NETWORK)",
                                        DCS_DEFAULTS, lineno, (int) kl, q);
#undef KEY
                r = shell_value(e + 1, &value, &q);
                if (r == -EBADMSG)
                        return error_at(ret_error, "%s:%u: shell expansion is not supported, write the value literally",
                                        DCS_DEFAULTS, lineno);
                if (r < 0)
                        return r == -ENOMEM ? r : error_at(ret_error, "%s:%u: unterminated quote", DCS_DEFAULTS, lineno);
                while (isspace((unsigned char) *q))
                        q++;
                if (*q && *q != '#')
                        return error_at(ret_error, "%s:%u: unexpected text after the value", DCS_DEFAULTS, lineno);
                if (!yamlutil_utf8_valid(value))
                        return error_at(ret_error, "%s:%u: the value of %.*s is not valid UTF-8", DCS_DEFAULTS, lineno,
                                        (int) kl, e - kl);
                free(*slot);
                *slot = TAKE_PTR(value);
        }
        return 0;
}

static bool host_port_valid(const char *s) {
        const char *c = strrchr(s, ':');
        size_t hl;

        if (!c || patroniconf_port_of(s) < 0)
                return false;
        hl = (size_t) (c - s);
        if (hl == 0)
                return false;
        if (s[0] == '[') {
                char a[INET6_ADDRSTRLEN];
                struct in6_addr x;
                if (hl < 3 || s[hl - 1] != ']' || hl - 2 >= sizeof(a))
                        return false;
                memcpy(a, s + 1, hl - 2);
                a[hl - 2] = 0;
                return inet_pton(AF_INET6, a, &x) == 1;
        }
        for (const char *p = s; p < c; p++)
                if (!isalnum((unsigned char) *p) && *p != '.' && *p != '-' && *p != '_')
                        return false;
        return true;
}

static int push_kv(YamlEvents *e, const char *key, const char *value) {
        int r = yamlutil_events_push_scalar(e, key, YAML_PLAIN_SCALAR_STYLE);
        return r < 0 ? r : yamlutil_events_push_scalar(e, value, YAML_ANY_SCALAR_STYLE);
}

static int push_start(YamlEvents *e, bool mapping) {
        yaml_event_t ev;
        int ok = mapping ? yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE)
                         : yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
        return ok ? yamlutil_events_push(e, &ev) : -ENOMEM;
}

static int push_end(YamlEvents *e, bool mapping) {
        yaml_event_t ev;
        int ok = mapping ? yaml_mapping_end_event_initialize(&ev) : yaml_sequence_end_event_initialize(&ev);
        return ok ? yamlutil_events_push(e, &ev) : -ENOMEM;
}

static int defaults_to_dcs(Defaults *d, DcsConfig *c, char **ret_error) {
        static const char *const types[] = { "etcd3", "etcd", "consul", "zookeeper" };
        const char *proto = d->protocol ? d->protocol : "http";
        bool consul, zk;
        char **hosts = NULL;
        size_t n_hosts = 0;
        int r = 0;

        if (!d->type)
                return error_at(ret_error,
                                "DCS not configured: edit %s, or set DCS_TYPE and DCS_HOSTS in %s", DCS_YML,
                                DCS_DEFAULTS);
        bool known = false;
        for (size_t i = 0; i < ELEMENTSOF(types); i++)
                known = known || streq(types[i], d->type);
        if (!known)
                return error_at(ret_error, "%s:%u: DCS_TYPE \"%s\" is not one of etcd3, etcd, consul, zookeeper",
                                DCS_DEFAULTS, d->type_line, d->type);
        if (!d->hosts || !d->hosts[0])
                return error_at(ret_error, "%s: DCS_TYPE is set but DCS_HOSTS is missing", DCS_DEFAULTS);
        if (!streq(proto, "http") && !streq(proto, "https"))
                return error_at(ret_error, "%s: DCS_PROTOCOL \"%s\" is not http or https", DCS_DEFAULTS, proto);
        consul = streq(d->type, "consul");
        zk = streq(d->type, "zookeeper");

        for (char *s = d->hosts, *tok; (tok = strsep(&s, ","));) {
                char **p;
                if (!*tok)
                        continue;
                if (!host_port_valid(tok)) {
                        r = error_at(ret_error, "%s:%u: DCS_HOSTS entry \"%s\" is not host:port", DCS_DEFAULTS,
                                     d->hosts_line, tok);
                        break;
                }
                p = reallocarray(hosts, n_hosts + 1, sizeof(char *));
                if (!p) {
                        r = -ENOMEM;
                        break;
                }
                hosts = p;
                hosts[n_hosts++] = tok;
        }
        if (r == 0 && n_hosts == 0)
                r = error_at(ret_error, "%s: DCS_HOSTS is empty", DCS_DEFAULTS);
        if (r == 0 && consul && n_hosts > 1)
                r = error_at(ret_error, "%s:%u: consul takes one host (its local agent), DCS_HOSTS has %zu",
                             DCS_DEFAULTS, d->hosts_line, n_hosts);

        /* type: { hosts: [...] | host: h, protocol|scheme: https, cacert:, cert:, key: } */
        if (r == 0)
                r = yamlutil_events_push_scalar(&c->pairs, d->type, YAML_PLAIN_SCALAR_STYLE);
        if (r == 0)
                r = push_start(&c->pairs, true);
        if (r == 0 && consul)
                r = push_kv(&c->pairs, "host", hosts[0]);
        else if (r == 0) {
                r = yamlutil_events_push_scalar(&c->pairs, "hosts", YAML_PLAIN_SCALAR_STYLE);
                if (r == 0)
                        r = push_start(&c->pairs, false);
                for (size_t i = 0; r == 0 && i < n_hosts; i++)
                        r = yamlutil_events_push_scalar(&c->pairs, hosts[i], YAML_ANY_SCALAR_STYLE);
                if (r == 0)
                        r = push_end(&c->pairs, false);
        }
        if (r == 0 && d->protocol && !zk)
                r = push_kv(&c->pairs, consul ? "scheme" : "protocol", d->protocol);
        if (r == 0 && d->cacert)
                r = push_kv(&c->pairs, "cacert", d->cacert);
        if (r == 0 && d->cert)
                r = push_kv(&c->pairs, "cert", d->cert);
        if (r == 0 && d->key)
                r = push_kv(&c->pairs, "key", d->key);
        if (r == 0 && d->username)
                r = push_kv(&c->pairs, "username", d->username);
        if (r == 0)
                r = push_end(&c->pairs, true);

        if (r == 0 && !zk) {
                size_t len = 0;
                for (size_t i = 0; i < n_hosts; i++)
                        len += strlen(proto) + 4 + strlen(hosts[i]);
                c->endpoints = calloc(1, len + 1);
                if (!c->endpoints)
                        r = -ENOMEM;
                for (size_t i = 0; r == 0 && i < n_hosts; i++)
                        sprintf(c->endpoints + strlen(c->endpoints), "%s%s://%s", i ? "," : "", proto, hosts[i]);
        }
        if (r == 0 && (!(c->type = strdup(d->type)) || !(c->source = strdup(DCS_DEFAULTS))))
                r = -ENOMEM;
        free(hosts);
        return r;
}

/* ---- /etc/patroni/dcs.yml ---------------------------------------------------------------- */

static const char *ev_scalar(const yaml_event_t *e) {
        return e->type == YAML_SCALAR_EVENT ? (const char *) e->data.scalar.value : NULL;
}

/* The index of the value of the pair whose key starts at I (a key may be a whole node: "? [a, b]"). */
static size_t pair_value(const YamlEvents *e, size_t i) {
        return yamlutil_events_node_end(e, i) + 1;
}

/* The index after the pair whose key starts at I. */
static size_t pair_next(const YamlEvents *e, size_t i) {
        return yamlutil_events_node_end(e, pair_value(e, i)) + 1;
}

/* vip-manager wants http(s)://host:port; derive it from host/hosts/url/urls/protocol. */
static int dcs_endpoints(const YamlEvents *pairs, size_t vstart, size_t vend, char **ret) {
        const char *proto = "http";
        _cleanup_free_ char *out = NULL;
        size_t len = 0;

        if (pairs->ev[vstart].type != YAML_MAPPING_START_EVENT)
                return 0;
        if (vend >= pairs->n)
                return 0; /* unbalanced: nothing to derive */
        for (size_t i = vstart + 1; i < vend; i = pair_next(pairs, i)) {
                const char *k = ev_scalar(&pairs->ev[i]), *v = NULL;
                if (pair_value(pairs, i) < vend)
                        v = ev_scalar(&pairs->ev[pair_value(pairs, i)]);
                if (k && v && (streq(k, "protocol") || streq(k, "scheme")))
                        proto = v;
        }
        for (size_t i = vstart + 1; i < vend; i = pair_next(pairs, i)) {
                const char *k = ev_scalar(&pairs->ev[i]);
                bool is_url;
                size_t j = pair_value(pairs, i), jend;

                if (j >= vend)
                        break;
                jend = yamlutil_events_node_end(pairs, j);

                if (!k || !(streq(k, "host") || streq(k, "hosts") || streq(k, "url") || streq(k, "urls")))
                        continue;
                is_url = k[0] == 'u';
                if (pairs->ev[j].type == YAML_SEQUENCE_START_EVENT)
                        j++;
                for (; j <= jend && j < vend; j++) {
                        const char *v = ev_scalar(&pairs->ev[j]);
                        _cleanup_free_ char *copy = v ? strdup(v) : NULL;
                        if (!v)
                                continue;
                        if (!copy)
                                return -ENOMEM;
                        for (char *s = copy, *tok; (tok = strsep(&s, ","));) {
                                char *p;
                                while (*tok == ' ')
                                        tok++;
                                if (!*tok)
                                        continue;
                                p = realloc(out, len + strlen(proto) + strlen(tok) + 5);
                                if (!p)
                                        return -ENOMEM;
                                out = p;
                                len += (size_t) sprintf(out + len, "%s%s%s%s", len ? "," : "", is_url ? "" : proto,
                                                        is_url ? "" : "://", tok);
                        }
                }
        }
        *ret = TAKE_PTR(out);
        return 0;
}

/* The first mapping key named "password" among the events from..to (a whole node), or NULL. */
static const yaml_event_t *password_key(const YamlEvents *e, size_t from, size_t to) {
        /* per open collection: is it a mapping, and is its next node a key? */
        bool is_map[YAML_MAX_DEPTH + 2], want_key[YAML_MAX_DEPTH + 2];
        size_t depth = 0;

        for (size_t i = from; i <= to && i < e->n; i++) {
                const yaml_event_t *ev = &e->ev[i];
                bool is_key = depth > 0 && is_map[depth - 1] && want_key[depth - 1];

                if (depth > 0 && is_map[depth - 1] && ev->type != YAML_MAPPING_END_EVENT &&
                    ev->type != YAML_SEQUENCE_END_EVENT)
                        want_key[depth - 1] = !want_key[depth - 1];
                switch (ev->type) {
                case YAML_SCALAR_EVENT:
                        if (is_key && strcasecmp((const char *) ev->data.scalar.value, "password") == 0)
                                return ev;
                        break;
                case YAML_MAPPING_START_EVENT:
                case YAML_SEQUENCE_START_EVENT:
                        if (depth >= ELEMENTSOF(is_map))
                                return NULL; /* deeper than the parser lets through */
                        is_map[depth] = ev->type == YAML_MAPPING_START_EVENT;
                        want_key[depth++] = true;
                        break;
                case YAML_MAPPING_END_EVENT:
                case YAML_SEQUENCE_END_EVENT:
                        if (depth > 0)
                                depth--;
                        break;
                default:
                        break;
                }
        }
        return NULL;
}

static int parse_dcs_yml(const char *text, DcsConfig *c, bool *ret_empty, char **ret_error) {
        YamlEvents all = {};
        YamlError err = {};
        size_t docs = 0, top = 0, end;
        int r;

        r = yamlutil_events_parse(text, strlen(text), &all, &err);
        if (r == -EINVAL)
                r = error_at(ret_error, "%s:%zu:%zu: %s", DCS_YML, err.line, err.column, err.message);
        if (r < 0)
                goto finish;

        for (size_t i = 0; i < all.n; i++)
                if (all.ev[i].type == YAML_DOCUMENT_START_EVENT && docs++ == 0)
                        top = i + 1;
        *ret_empty = docs == 0;
        if (docs == 0)
                goto finish;
        if (docs > 1) {
                r = error_at(ret_error, "%s: holds %zu YAML documents, expected one", DCS_YML, docs);
                goto finish;
        }
        if (all.ev[top].type != YAML_MAPPING_START_EVENT) {
                if (all.ev[top].type == YAML_SCALAR_EVENT && !all.ev[top].data.scalar.value[0]) {
                        *ret_empty = true;
                        goto finish;
                }
                r = error_at(ret_error, "%s:%zu:%zu: expected a mapping such as \"etcd3: {hosts: ...}\"", DCS_YML,
                             all.ev[top].start_mark.line + 1, all.ev[top].start_mark.column + 1);
                goto finish;
        }
        end = yamlutil_events_node_end(&all, top);
        if (end == top + 1) {
                r = error_at(ret_error, "%s: the mapping is empty", DCS_YML);
                goto finish;
        }
        /* Whatever is here is copied into every generated configuration, which the postgres group reads. */
        const yaml_event_t *pw = password_key(&all, top, end);
        if (pw) {
                r = error_at(ret_error,
                             "%s:%zu:%zu: a password does not belong here: it would be copied into every generated "
                             "configuration. Put it in /etc/patroni/env.conf as PATRONI_ETCD3_PASSWORD, with "
                             "PATRONI_ETCD3_PROTOCOL (or PATRONI_<DCS>_...), and keep only the username here",
                             DCS_YML, pw->start_mark.line + 1, pw->start_mark.column + 1);
                goto finish;
        }
        for (size_t i = top + 1; i < end && r >= 0; i++) {
                if (all.ev[i].type == YAML_ALIAS_EVENT || ((all.ev[i].type == YAML_SCALAR_EVENT ||
                                                             all.ev[i].type == YAML_MAPPING_START_EVENT ||
                                                             all.ev[i].type == YAML_SEQUENCE_START_EVENT) &&
                                                            all.ev[i].data.scalar.anchor)) {
                        /* Anchors would meet the template's own when spliced into it. */
                        r = error_at(ret_error, "%s:%zu:%zu: anchors and aliases are not supported here", DCS_YML,
                                     all.ev[i].start_mark.line + 1, all.ev[i].start_mark.column + 1);
                        break;
                }
                r = yamlutil_events_push_copy(&c->pairs, &all.ev[i]);
        }
        if (r < 0)
                goto finish;

        const char *first = ev_scalar(&c->pairs.ev[0]);
        if (!first) {
                r = error_at(ret_error, "%s:%zu:%zu: DCS type keys must be plain names such as etcd3", DCS_YML,
                             c->pairs.ev[0].start_mark.line + 1, c->pairs.ev[0].start_mark.column + 1);
                goto finish;
        }
        if (!(c->type = strdup(first)) || !(c->source = strdup(DCS_YML))) {
                r = -ENOMEM;
                goto finish;
        }
        r = dcs_endpoints(&c->pairs, 1, yamlutil_events_node_end(&c->pairs, 1), &c->endpoints);
finish:
        yamlutil_events_done(&all);
        return r;
}

int dcs_load_from(const char *dcs_yml, const char *defaults, DcsConfig **ret, char **ret_error) {
        _cleanup_(dcs_config_freep) DcsConfig *c = calloc(1, sizeof(DcsConfig));
        Defaults d = {};
        bool empty = true;
        int r = 0;

        *ret_error = NULL;
        if (!c)
                return -ENOMEM;

        if (defaults)
                r = parse_defaults(defaults, &d, ret_error);
        if (r >= 0 && dcs_yml)
                r = parse_dcs_yml(dcs_yml, c, &empty, ret_error);
        if (r >= 0 && empty) {
                yamlutil_events_done(&c->pairs);
                r = defaults_to_dcs(&d, c, ret_error);
        }
        if (r >= 0) {
                c->hostip = TAKE_PTR(d.hostip);
                c->network = TAKE_PTR(d.network);
                *ret = TAKE_PTR(c);
        }
        defaults_done(&d);
        return r;
}

/* The DCS section as a YAML document of its own. */
static int section_text(const DcsConfig *c, char **ret, size_t *ret_size) {
        YamlEvents all = {};
        yaml_event_t ev;
        int r = 0;

        *ret = NULL;
        if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) || (r = yamlutil_events_push(&all, &ev)) < 0 ||
            !yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) || (r = yamlutil_events_push(&all, &ev)) < 0 ||
            !yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE) ||
            (r = yamlutil_events_push(&all, &ev)) < 0)
                goto finish;
        for (size_t i = 0; r >= 0 && i < c->pairs.n; i++)
                r = yamlutil_events_push_copy(&all, &c->pairs.ev[i]);
        if (r < 0 || !yaml_mapping_end_event_initialize(&ev) || (r = yamlutil_events_push(&all, &ev)) < 0 ||
            !yaml_document_end_event_initialize(&ev, 1) || (r = yamlutil_events_push(&all, &ev)) < 0 ||
            !yaml_stream_end_event_initialize(&ev) || (r = yamlutil_events_push(&all, &ev)) < 0)
                goto finish;
        r = yamlutil_events_emit(all.ev, all.n, ret, ret_size);
finish:
        yamlutil_events_done(&all);
        return r < 0 ? r : 0;
}

int dcs_canonical(const DcsConfig *c, char **ret) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r = section_text(c, &text, &size);

        *ret = NULL;
        if (r >= 0)
                r = patroniconf_canonical_dcs(text, size, ret);
        return r < 0 ? r : 0;
}

int dcs_section_conf(const DcsConfig *c, PatroniConf *ret, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r = section_text(c, &text, &size);

        *ret = (PatroniConf){};
        *ret_error = NULL;
        return r < 0 ? r : patroniconf_parse(text, size, false, ret, ret_error);
}

static int read_optional(int rootfd, const char *path, char **ret, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        size_t size, nul;
        int r = fs_read_in_root(rootfd, path, true, &text, &size);

        *ret = NULL;
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return error_at(ret_error, "%s: cannot read: %s", path, fs_describe_error(r));
        nul = fs_nul_line(text, size);
        if (nul > 0) /* everything after it would be silently ignored */
                return error_at(ret_error, "%s:%zu: a NUL byte (not a text file)", path, nul);
        *ret = TAKE_PTR(text);
        return 0;
}

int dcs_load(int rootfd, DcsConfig **ret, char **ret_error) {
        _cleanup_free_ char *yml = NULL, *defaults = NULL;
        int r;

        *ret_error = NULL;
        r = read_optional(rootfd, DCS_YML, &yml, ret_error);
        if (r >= 0)
                r = read_optional(rootfd, DCS_DEFAULTS, &defaults, ret_error);
        if (r < 0)
                return r;
        return dcs_load_from(yml, defaults, ret, ret_error);
}
