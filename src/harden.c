/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "harden.h"
#include "macro.h"
#include "yamlutil.h"

void harden_result_done(HardenResult *r) {
        free(r->text);
        for (size_t i = 0; i < r->n_changes; i++)
                free(r->changes[i]);
        free(r->changes);
        for (size_t i = 0; i < r->n_secrets; i++) {
                free(r->secrets[i].key);
                if (r->secrets[i].value) {
                        explicit_bzero(r->secrets[i].value, strlen(r->secrets[i].value));
                        free(r->secrets[i].value);
                }
        }
        free(r->secrets);
        *r = (HardenResult){};
}

/* --- one pg_hba rule --- */

typedef struct Token {
        size_t start, end;
} Token;

/* Fields as PostgreSQL splits them: blanks between, "..." may hold blanks, # outside quotes ends the rule. */
static size_t tokenize(const char *s, Token *t, size_t max) {
        size_t n = 0, i = 0;

        while (n < max) {
                while (s[i] == ' ' || s[i] == '\t')
                        i++;
                if (!s[i] || s[i] == '#')
                        break;
                size_t start = i;
                bool quoted = false;
                for (; s[i] && (quoted || (s[i] != ' ' && s[i] != '\t' && s[i] != '#')); i++)
                        if (s[i] == '"')
                                quoted = !quoted;
                t[n++] = (Token){ start, i };
        }
        return n;
}

static bool token_is(const char *s, Token t, const char *word) {
        size_t n = strlen(word);
        return t.end - t.start == n && strncasecmp(s + t.start, word, n) == 0;
}

static bool token_in(const char *s, Token t, const char *const *words) {
        for (; *words; words++)
                if (token_is(s, t, *words))
                        return true;
        return false;
}

/* Prefix length of a dotted IPv4 netmask, -1 if it is not one (or not contiguous). */
static int mask_prefix(const char *mask) {
        struct in_addr a;
        if (inet_pton(AF_INET, mask, &a) != 1)
                return -1;
        uint32_t m = ntohl(a.s_addr);
        int n = __builtin_popcount(m);
        return n == 0 || n == 32 || (m << n) == 0 ? n : -1; /* ones, then zeros */
}

/* Does ADDR (with MASK, a separate netmask field, or NULL) stand for this host only? */
static bool local_address(const char *addr, const char *mask) {
        char a[INET6_ADDRSTRLEN + 8];
        int prefix = -1;

        if (strcasecmp(addr, "localhost") == 0 || strcasecmp(addr, "samehost") == 0)
                return true;
        if (strlen(addr) >= sizeof(a))
                return false;
        strcpy(a, addr);
        char *slash = strchr(a, '/');
        if (slash) {
                *slash = '\0';
                if (!slash[1] || strspn(slash + 1, "0123456789") != strlen(slash + 1) || strlen(slash + 1) > 3)
                        return false;
                prefix = atoi(slash + 1);
        } else if (mask)
                prefix = mask_prefix(mask);

        struct in_addr v4;
        struct in6_addr v6;
        if (inet_pton(AF_INET, a, &v4) == 1)
                return (ntohl(v4.s_addr) >> 24) == 127 && (prefix < 0 ? !mask : prefix >= 8);
        if (inet_pton(AF_INET6, a, &v6) == 1)
                return IN6_IS_ADDR_LOOPBACK(&v6) && (prefix < 0 ? !mask : prefix == 128);
        return false;
}

static char *token_dup(const char *s, Token t) {
        return strndup(s + t.start, t.end - t.start);
}

static int append(char *out, size_t len, size_t *p, const char *s, size_t n) {
        if (*p + n >= len)
                return -ENOBUFS;
        memcpy(out + *p, s, n);
        *p += n;
        out[*p] = '\0';
        return 0;
}

int harden_hba_rule(const char *rule, char **ret) {
        static const char *const weak[] = { "trust", "password", "md5", "ident", NULL };
        static const char *const plain_tcp[] = { "host", "hostnossl", "hostnogssenc", NULL };
        static const char *const tcp[] = { "host", "hostssl", "hostnossl", "hostgssenc", "hostnogssenc", NULL };
        Token t[8];
        size_t n = tokenize(rule, t, ELEMENTSOF(t)), method;
        const char *new_type = NULL, *new_method = NULL;

        *ret = NULL;
        if (n >= 4 && token_is(rule, t[0], "local")) {
                method = 3;
                if (token_is(rule, t[method], "trust"))
                        new_method = "peer";
        } else if (n >= 5 && token_in(rule, t[0], tcp)) {
                _cleanup_free_ char *addr = token_dup(rule, t[3]), *mask = NULL;
                struct in_addr ignored;

                if (!addr)
                        return -ENOMEM;
                method = 4;
                /* "192.0.2.0 255.255.255.0": the netmask is a field of its own */
                if (n >= 6 && !strchr(addr, '/') && inet_pton(AF_INET, addr, &ignored) == 1) {
                        mask = token_dup(rule, t[4]);
                        if (!mask)
                                return -ENOMEM;
                        method = 5;
                }
                if (!local_address(addr, mask) && token_in(rule, t[0], plain_tcp))
                        new_type = "hostssl";
                if (token_in(rule, t[method], weak))
                        new_method = "scram-sha-256";
        } else
                return 0;
        if (!new_type && !new_method)
                return 0;

        size_t len = strlen(rule) + 32, p = 0;
        _cleanup_free_ char *out = malloc(len);
        if (!out)
                return -ENOMEM;
        out[0] = '\0';
        /* before the type, the type, what lies between, the method, the rest */
        if (append(out, len, &p, rule, t[0].start) < 0 ||
            append(out, len, &p, new_type ? new_type : rule + t[0].start,
                   new_type ? strlen(new_type) : t[0].end - t[0].start) < 0 ||
            append(out, len, &p, rule + t[0].end, t[method].start - t[0].end) < 0 ||
            append(out, len, &p, new_method ? new_method : rule + t[method].start,
                   new_method ? strlen(new_method) : t[method].end - t[method].start) < 0 ||
            append(out, len, &p, rule + t[method].end, strlen(rule + t[method].end)) < 0)
                return -ENOBUFS; /* cannot happen: the new words are at most 19 bytes longer */
        *ret = TAKE_PTR(out);
        return 1;
}

/* --- the document --- */

typedef struct Ctx {
        yaml_document_t d;
        const char *path;
        HardenResult *res;
        char **error;
} Ctx;

_printf_(2, 3) static int say(Ctx *c, const char *fmt, ...) {
        char *line;
        va_list ap;

        char **p = reallocarray(c->res->changes, c->res->n_changes + 1, sizeof(char *));
        if (!p)
                return -ENOMEM;
        c->res->changes = p;
        va_start(ap, fmt);
        int r = vasprintf(&line, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        c->res->changes[c->res->n_changes++] = line;
        return 0;
}

_printf_(3, 4) static int fail(Ctx *c, int id, const char *fmt, ...) {
        yaml_node_t *n = yaml_document_get_node(&c->d, id);
        char msg[256];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (asprintf(c->error, "%s: line %zu, column %zu: %s", c->path, n ? n->start_mark.line + 1 : 0,
                     n ? n->start_mark.column + 1 : 0, msg) < 0)
                *c->error = NULL;
        return -EINVAL;
}

static yaml_node_t *node(Ctx *c, int id) {
        return yaml_document_get_node(&c->d, id);
}

/* Index of KEY's pair in the mapping MAP, -1 if none (or MAP is no mapping). */
static int pair_index(Ctx *c, int map, const char *key) {
        yaml_node_t *m = node(c, map);
        if (!m || m->type != YAML_MAPPING_NODE)
                return -1;
        for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++)
                if (streq_ptr(yamlutil_scalar(node(c, p->key)), key))
                        return (int) (p - m->data.mapping.pairs.start);
        return -1;
}

static int value_id(Ctx *c, int map, int idx) {
        return node(c, map)->data.mapping.pairs.start[idx].value;
}

static int child(Ctx *c, int map, const char *key) {
        int i = pair_index(c, map, key);
        return i < 0 ? 0 : value_id(c, map, i);
}

static int add_scalar(Ctx *c, const char *value, yaml_scalar_style_t style) {
        int id = yaml_document_add_scalar(&c->d, NULL, (yaml_char_t *) value, (int) strlen(value), style);
        return id > 0 ? id : -ENOMEM;
}

static bool null_scalar(const yaml_node_t *n) {
        const char *v = yamlutil_scalar(n);
        return v && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
               (!*v || streq(v, "~") || strcasecmp(v, "null") == 0);
}

/* The mapping at MAP's KEY (WHERE names it), made if missing or null. */
static int ensure_map(Ctx *c, int map, const char *key, const char *where) {
        int i = pair_index(c, map, key), id;

        if (i >= 0) {
                id = value_id(c, map, i);
                if (node(c, id)->type == YAML_MAPPING_NODE)
                        return id;
                if (!null_scalar(node(c, id)))
                        return fail(c, id, "%s is not a mapping", where);
        }
        id = yaml_document_add_mapping(&c->d, NULL, YAML_BLOCK_MAPPING_STYLE);
        if (id <= 0)
                return -ENOMEM;
        if (i >= 0) {
                node(c, map)->data.mapping.pairs.start[i].value = id;
                return id;
        }
        int k = add_scalar(c, key, YAML_PLAIN_SCALAR_STYLE);
        if (k < 0)
                return k;
        return yaml_document_append_mapping_pair(&c->d, map, k, id) ? id : -ENOMEM;
}

/* MAP's KEY set to VALUE (STYLE when it is new), said as "WHERE.KEY: old -> new". */
static int set_value(Ctx *c, int map, const char *where, const char *key, const char *value,
                     yaml_scalar_style_t style) {
        int i = pair_index(c, map, key), id;
        const char *old = NULL;

        if (i >= 0) {
                old = yamlutil_scalar(node(c, value_id(c, map, i)));
                if (streq_ptr(old, value))
                        return 0;
        }
        id = add_scalar(c, value, style);
        if (id < 0)
                return id;
        if (i >= 0) {
                old = yamlutil_scalar(node(c, value_id(c, map, i))); /* adding may have moved the nodes */
                int r = old ? say(c, "%s.%s: %s -> %s", where, key, old, value)
                            : say(c, "%s.%s: replaced by %s", where, key, value);
                node(c, map)->data.mapping.pairs.start[i].value = id;
                return r;
        }
        int k = add_scalar(c, key, YAML_PLAIN_SCALAR_STYLE);
        if (k < 0)
                return k;
        if (!yaml_document_append_mapping_pair(&c->d, map, k, id))
                return -ENOMEM;
        return say(c, "%s.%s: set to %s", where, key, value);
}

static void remove_pair(Ctx *c, int map, int i) {
        yaml_node_t *m = node(c, map);
        yaml_node_pair_t *p = m->data.mapping.pairs.start;
        size_t n = (size_t) (m->data.mapping.pairs.top - p);

        memmove(p + i, p + i + 1, (n - (size_t) i - 1) * sizeof(*p));
        m->data.mapping.pairs.top--;
}

/* KEY=VALUE for env.conf, where it has none. */
static int hand_back(Ctx *c, const char *key, const char *value) {
        HardenSecret *p = reallocarray(c->res->secrets, c->res->n_secrets + 1, sizeof(HardenSecret));
        if (!p)
                return -ENOMEM;
        c->res->secrets = p;
        HardenSecret *s = &c->res->secrets[c->res->n_secrets++];
        *s = (HardenSecret){ strdup(key), strdup(value) };
        return s->key && s->value ? 0 : -ENOMEM;
}

/* Take MAP's KEY out; if it held a value, hand it back as ENV. */
static int take_secret(Ctx *c, int map, const char *where, const char *key, const char *env) {
        int i = pair_index(c, map, key);
        if (i < 0)
                return 0;
        yaml_node_t *v = node(c, value_id(c, map, i));
        if (v->type != YAML_SCALAR_NODE)
                return fail(c, value_id(c, map, i), "%s.%s is not a string", where, key);
        if (!null_scalar(v)) {
                int r = hand_back(c, env, (const char *) v->data.scalar.value);
                if (r < 0)
                        return r;
        }
        remove_pair(c, map, i);
        return say(c, "%s.%s: taken out (Patroni reads %s from env.conf)", where, key, env);
}

static int harden_hba(Ctx *c, int seq, const char *where) {
        yaml_node_t *s = node(c, seq);
        if (!s || null_scalar(s))
                return 0;
        if (s->type != YAML_SEQUENCE_NODE)
                return fail(c, seq, "%s is not a list", where);
        for (yaml_node_item_t *it = s->data.sequence.items.start; it < s->data.sequence.items.top; it++) {
                yaml_node_t *rule = node(c, *it);
                const char *text = yamlutil_scalar(rule);
                _cleanup_free_ char *new = NULL;

                if (!text)
                        return fail(c, *it, "%s: a rule is not a string", where);
                int r = harden_hba_rule(text, &new);
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;
                r = say(c, "%s: \"%s\" -> \"%s\"", where, text, new);
                if (r < 0)
                        return r;
                free(rule->data.scalar.value);
                rule->data.scalar.length = strlen(new);
                rule->data.scalar.value = (yaml_char_t *) TAKE_PTR(new);
        }
        return 0;
}

static int harden_tls(Ctx *c, int root, const HardenTls *tls) {
        int m, r;

        m = ensure_map(c, root, "restapi", "restapi");
        if (m < 0)
                return m;
        if ((r = set_value(c, m, "restapi", "certfile", tls->cert, YAML_PLAIN_SCALAR_STYLE)) < 0 ||
            (r = set_value(c, m, "restapi", "keyfile", tls->key, YAML_PLAIN_SCALAR_STYLE)) < 0 ||
            (r = set_value(c, m, "restapi", "cafile", tls->ca, YAML_PLAIN_SCALAR_STYLE)) < 0)
                return r;

        m = ensure_map(c, root, "ctl", "ctl");
        if (m < 0)
                return m;
        if ((r = set_value(c, m, "ctl", "cacert", tls->ca, YAML_PLAIN_SCALAR_STYLE)) < 0)
                return r;
        int i = pair_index(c, m, "insecure");
        if (i >= 0) {
                remove_pair(c, m, i);
                if ((r = say(c, "ctl.insecure: taken out (peers are verified)")) < 0)
                        return r;
        }

        int pg = ensure_map(c, root, "postgresql", "postgresql");
        if (pg < 0)
                return pg;
        m = ensure_map(c, pg, "parameters", "postgresql.parameters");
        if (m < 0)
                return m;
        if ((r = set_value(c, m, "postgresql.parameters", "ssl", "on", YAML_DOUBLE_QUOTED_SCALAR_STYLE)) < 0 ||
            (r = set_value(c, m, "postgresql.parameters", "ssl_cert_file", tls->cert, YAML_PLAIN_SCALAR_STYLE)) < 0 ||
            (r = set_value(c, m, "postgresql.parameters", "ssl_key_file", tls->key, YAML_PLAIN_SCALAR_STYLE)) < 0)
                return r;

        int auth = child(c, pg, "authentication");
        if (!auth)
                return 0;
        static const char *const roles[] = { "replication", "rewind" };
        for (size_t j = 0; j < ELEMENTSOF(roles); j++) {
                const char *role = roles[j];
                char where[64];
                int u = child(c, auth, role);
                if (!u || node(c, u)->type != YAML_MAPPING_NODE)
                        continue;
                snprintf(where, sizeof(where), "postgresql.authentication.%s", role);
                if ((r = set_value(c, u, where, "sslmode", "verify-full", YAML_PLAIN_SCALAR_STYLE)) < 0 ||
                    (r = set_value(c, u, where, "sslrootcert", tls->ca, YAML_PLAIN_SCALAR_STYLE)) < 0)
                        return r;
        }
        return 0;
}

static int harden_secrets(Ctx *c, int root) {
        static const struct {
                const char *section, *sub, *key, *env;
        } secrets[] = {
                { "postgresql", "authentication.superuser", "password", "PATRONI_SUPERUSER_PASSWORD" },
                { "postgresql", "authentication.replication", "password", "PATRONI_REPLICATION_PASSWORD" },
                { "postgresql", "authentication.rewind", "password", "PATRONI_REWIND_PASSWORD" },
                { "restapi", "authentication", "username", "PATRONI_RESTAPI_USERNAME" },
                { "restapi", "authentication", "password", "PATRONI_RESTAPI_PASSWORD" },
                /* patronictl falls back to the REST API's credentials; Patroni 3.0.2 reads no PATRONI_CTL_* */
                { "ctl", "authentication", "username", "PATRONI_RESTAPI_USERNAME" },
                { "ctl", "authentication", "password", "PATRONI_RESTAPI_PASSWORD" },
                { "etcd3", NULL, "password", "PATRONI_ETCD3_PASSWORD" },
                { "etcd", NULL, "password", "PATRONI_ETCD_PASSWORD" },
        };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(secrets); i++) {
                char where[96], sub[64];
                int m = child(c, root, secrets[i].section);

                snprintf(where, sizeof(where), "%s%s%s", secrets[i].section, secrets[i].sub ? "." : "",
                         strempty(secrets[i].sub));
                if (secrets[i].sub) {
                        snprintf(sub, sizeof(sub), "%s", secrets[i].sub);
                        for (char *part = strtok(sub, "."); part && m; part = strtok(NULL, "."))
                                m = child(c, m, part);
                }
                if (!m || node(c, m)->type != YAML_MAPPING_NODE)
                        continue;
                size_t before = c->res->n_secrets;
                r = take_secret(c, m, where, secrets[i].key, secrets[i].env);
                if (r < 0)
                        return r;
                /* Patroni 3.0.2 applies PATRONI_ETCD3_PASSWORD only next to another PATRONI_ETCD3_ setting
                 * (alone it would take it for a database user's): the section's protocol goes with it. */
                if (c->res->n_secrets > before && !secrets[i].sub) {
                        char key[64];
                        const char *proto = yamlutil_scalar(node(c, child(c, m, "protocol")));
                        snprintf(key, sizeof(key), "PATRONI_%s_PROTOCOL", streq(secrets[i].section, "etcd3") ? "ETCD3" : "ETCD");
                        r = hand_back(c, key, proto && proto[0] ? proto : "http");
                        if (r < 0)
                                return r;
                }
        }
        /* An authentication section left empty by the above goes too. */
        static const char *const sections[] = { "restapi", "ctl" };
        for (size_t j = 0; j < ELEMENTSOF(sections); j++) {
                int m = child(c, root, sections[j]), i = pair_index(c, m, "authentication");
                if (i >= 0 && node(c, value_id(c, m, i))->type == YAML_MAPPING_NODE &&
                    node(c, value_id(c, m, i))->data.mapping.pairs.top ==
                            node(c, value_id(c, m, i))->data.mapping.pairs.start)
                        remove_pair(c, m, i);
        }
        return 0;
}

/* Is RULE, split as PostgreSQL splits it, the fields WANT (spaces between them, none quoted)? */
static bool hba_rule_is(const char *rule, const char *want) {
        Token t[8], w[8];
        size_t n = tokenize(rule, t, ELEMENTSOF(t));

        if (n != tokenize(want, w, ELEMENTSOF(w)))
                return false;
        for (size_t i = 0; i < n; i++)
                if (t[i].end - t[i].start != w[i].end - w[i].start ||
                    strncmp(rule + t[i].start, want + w[i].start, t[i].end - t[i].start) != 0)
                        return false;
        return true;
}

/* A hostssl rule for each client network SEQ (postgresql.pg_hba) does not have yet, at its end. */
static int harden_clients(Ctx *c, int seq, const HardenClients *clients) {
        for (size_t i = 0; clients && seq && i < clients->n; i++) {
                char want[256];
                bool found = false;
                yaml_node_t *s = node(c, seq);

                if (!s || s->type != YAML_SEQUENCE_NODE)
                        return 0;
                snprintf(want, sizeof(want), "hostssl all all %s scram-sha-256", clients->networks[i]);
                for (yaml_node_item_t *it = s->data.sequence.items.start; it < s->data.sequence.items.top && !found; it++) {
                        const char *text = yamlutil_scalar(node(c, *it));
                        found = text && hba_rule_is(text, want);
                }
                if (found)
                        continue;
                int id = yaml_document_add_scalar(&c->d, NULL, (yaml_char_t *) want, (int) strlen(want),
                                                  YAML_PLAIN_SCALAR_STYLE);
                if (!id || !yaml_document_append_sequence_item(&c->d, seq, id))
                        return -ENOMEM;
                int r = say(c, "postgresql.pg_hba: \"%s\" added (client_networks)", want);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int harden_document(Ctx *c, const HardenTls *tls, const HardenClients *clients) {
        yaml_node_t *root = yaml_document_get_root_node(&c->d);
        int r;

        if (!root || root->type != YAML_MAPPING_NODE)
                return fail(c, 1, "not a YAML mapping");
        /* The root is node 1: ids stay valid when nodes are added, pointers do not. */
        r = harden_secrets(c, 1);
        if (r < 0)
                return r;
        r = harden_tls(c, 1, tls);
        if (r < 0)
                return r;
        int pg = child(c, 1, "postgresql"), boot = child(c, 1, "bootstrap");
        int dcs = boot ? child(c, boot, "dcs") : 0, dcspg = dcs ? child(c, dcs, "postgresql") : 0;
        if ((r = harden_hba(c, child(c, pg, "pg_hba"), "postgresql.pg_hba")) < 0 ||
            (boot && (r = harden_hba(c, child(c, boot, "pg_hba"), "bootstrap.pg_hba")) < 0) ||
            (dcspg && (r = harden_hba(c, child(c, dcspg, "pg_hba"), "bootstrap.dcs.postgresql.pg_hba")) < 0))
                return r;
        return harden_clients(c, child(c, child(c, 1, "postgresql"), "pg_hba"), clients);
}

int harden_config(const char *path, const char *text, size_t size, const HardenTls *tls,
                  const HardenClients *clients, const char *header, HardenResult *ret, char **ret_error) {
        Ctx c = { .path = path, .res = ret, .error = ret_error };
        YamlBuffer o = {};
        YamlError yerr = {};
        yaml_emitter_t em;
        int r;

        *ret = (HardenResult){};
        *ret_error = NULL;
        r = yamlutil_load_bounded(text, size, &c.d, &yerr);
        if (r < 0) {
                if (r == -ENOMEM)
                        return r;
                if (asprintf(ret_error, "%s: line %zu, column %zu: %s", path, yerr.line, yerr.column,
                             yerr.message) < 0)
                        *ret_error = NULL;
                return -EINVAL;
        }
        /* A key twice: PyYAML takes the last one, so the one changed here might not be the one Patroni reads. */
        _cleanup_free_ char *dup = NULL;
        r = yamlutil_check_duplicates(&c.d, &dup);
        if (r < 0) {
                yaml_document_delete(&c.d);
                if (r == -ENOMEM || asprintf(ret_error, "%s: %s: Patroni would read only the last; keep one", path,
                                             strna(dup)) < 0)
                        *ret_error = NULL;
                return r;
        }
        r = harden_document(&c, tls, clients);
        if (r < 0) {
                yaml_document_delete(&c.d);
                harden_result_done(ret);
                return r;
        }

        if ((header && yamlutil_buffer_write(&o, (unsigned char *) header, strlen(header)) == 0) ||
            yamlutil_emitter_init(&em, &o) < 0) {
                yaml_document_delete(&c.d);
                free(o.data);
                harden_result_done(ret);
                return -ENOMEM;
        }
        /* yaml_emitter_dump() destroys the document, whether it succeeds or not. */
        if (!yaml_emitter_open(&em) || !yaml_emitter_dump(&em, &c.d) || !yaml_emitter_close(&em) ||
            !yaml_emitter_flush(&em))
                r = o.oom || em.error == YAML_MEMORY_ERROR ? -ENOMEM : -EINVAL;
        if (r == -EINVAL && asprintf(ret_error, "%s: cannot write YAML: %s", path, strna(em.problem)) < 0)
                *ret_error = NULL;
        yaml_emitter_delete(&em);
        if (r >= 0)
                r = yamlutil_space_sections(&o, header ? strlen(header) : 0);
        if (r < 0) {
                free(o.data);
                harden_result_done(ret);
                return r;
        }
        ret->text = o.data;
        ret->size = o.size;
        return 0;
}
