/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "conf.h"
#include "fsutil.h"
#include "macro.h"
#include "pgcommon.h"
#include "yamlutil.h"

Settings *settings_free(Settings *s) {
        if (!s)
                return NULL;
        free(s->path);
        strv_free(s->include, s->n_include);
        strv_free(s->exclude, s->n_exclude);
        strv_free(s->join, s->n_join);
        strv_free(s->client_networks, s->n_client_networks);
        free(s->template);
        free(s->unit);
        free(s->tls_ca);
        free(s->tls_cert);
        free(s->tls_key);
        free(s);
        return NULL;
}

Settings *settings_new(void) {
        _cleanup_(settings_freep) Settings *s = calloc(1, sizeof(Settings));

        if (!s)
                return NULL;
        s->autostart = true;
        s->pg_service = true;
        s->reload_on_change = true;
        s->takeover = true;
        s->settle_ms = 1000;
        s->config_settle_ms = 200;
        s->removal_settle_ms = 5000;
        s->start_conf = START_CONF_MANUAL;
        s->include = calloc(1, sizeof(char *));
        if (!s->include || !(s->include[0] = strdup("*")) || !(s->unit = strdup(SETTINGS_DEFAULT_UNIT)))
                return NULL;
        s->n_include = 1;
        return TAKE_PTR(s);
}

_printf_(4, 5) static int fail_at(char **ret_error, const char *path, const yaml_event_t *e, const char *fmt, ...) {
        char msg[256];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (asprintf(ret_error, "%s:%zu:%zu: %s", path, e->start_mark.line + 1, e->start_mark.column + 1, msg) < 0)
                *ret_error = NULL;
        return -EINVAL;
}

static const char *scalar_of(const yaml_event_t *e) {
        return e->type == YAML_SCALAR_EVENT ? (const char *) e->data.scalar.value : NULL;
}

static bool is_plain(const yaml_event_t *e) {
        return e->type == YAML_SCALAR_EVENT && e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static int parse_bool(const char *path, const yaml_event_t *e, const char *key, bool *ret, char **ret_error) {
        static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON" };
        static const char *const no[] = { "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF" };
        const char *v = scalar_of(e);

        if (v && is_plain(e)) {
                for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                        if (streq(v, yes[i])) {
                                *ret = true;
                                return 0;
                        }
                for (size_t i = 0; i < ELEMENTSOF(no); i++)
                        if (streq(v, no[i])) {
                                *ret = false;
                                return 0;
                        }
        }
        return fail_at(ret_error, path, e, "%s: expected true or false%s%s%s", key, v ? ", got \"" : "", v ? v : "",
                       v ? "\"" : "");
}

static int parse_ms(const char *path, const yaml_event_t *e, const char *key, unsigned max, unsigned *ret,
                    char **ret_error) {
        const char *v = scalar_of(e);
        char *end;
        unsigned long n;

        if (!v || !is_plain(e) || !yamlutil_is_integer(v) || v[0] == '-')
                return fail_at(ret_error, path, e, "%s: expected a number of milliseconds%s%s%s", key,
                               v ? ", got \"" : "", v ? v : "", v ? "\"" : "");
        errno = 0;
        n = strtoul(v, &end, 10);
        if (errno || n > max)
                return fail_at(ret_error, path, e, "%s: %s is out of range (0-%u)", key, v, max);
        *ret = (unsigned) n;
        return 0;
}

static int parse_string(const char *path, const yaml_event_t *e, const char *key, char **ret, char **ret_error) {
        const char *v = scalar_of(e);

        if (!v || !v[0] || (is_plain(e) && (streq(v, "~") || streq(v, "null"))))
                return fail_at(ret_error, path, e, "%s: expected a non-empty string", key);
        free(*ret);
        *ret = strdup(v);
        return *ret ? 0 : -ENOMEM;
}

/* "10.0.0.0/24", "fd00::/64": an address and a prefix length that fits it. */
static bool is_network(const char *v) {
        const char *slash = strchr(v, '/');
        char addr[INET6_ADDRSTRLEN], *end;
        unsigned char buf[sizeof(struct in6_addr)];
        unsigned long len;
        int family;

        if (!slash || (size_t) (slash - v) >= sizeof(addr) || !slash[1])
                return false;
        memcpy(addr, v, (size_t) (slash - v));
        addr[slash - v] = 0;
        family = strchr(addr, ':') ? AF_INET6 : AF_INET;
        if (inet_pton(family, addr, buf) != 1)
                return false;
        errno = 0;
        len = strtoul(slash + 1, &end, 10);
        return !errno && !*end && slash[1] >= '0' && slash[1] <= '9' && len <= (family == AF_INET ? 32u : 128u);
}

/* A list of globs (NETWORKS: of networks): a sequence of strings, or one string. I points at the value; returns
 * the index after it. */
static int parse_globs(const char *path, const YamlEvents *ev, size_t *i, const char *key, bool networks, char ***ret,
                       size_t *ret_n, char **ret_error) {
        char **v = NULL;
        size_t n = 0, j = *i, end;
        bool seq = ev->ev[j].type == YAML_SEQUENCE_START_EVENT;
        int r = 0;

        if (!seq && ev->ev[j].type != YAML_SCALAR_EVENT)
                return fail_at(ret_error, path, &ev->ev[j], "%s: expected a list of %s such as [\"%s\"]", key,
                               networks ? "networks" : "patterns",
                               networks ? "10.0.0.0/24" : streq(key, "join") ? "15-*" : "15/*");
        end = yamlutil_events_node_end(ev, j);
        for (size_t k = seq ? j + 1 : j; k < (seq ? end : end + 1); k++) {
                const char *g = scalar_of(&ev->ev[k]);
                char **p;
                if (!g || !g[0]) {
                        r = fail_at(ret_error, path, &ev->ev[k], "%s: expected a %s string", key,
                                    networks ? "network" : "pattern");
                        break;
                }
                if (networks && !is_network(g)) {
                        r = fail_at(ret_error, path, &ev->ev[k], "%s: \"%s\" is not a network such as 10.0.0.0/24 or "
                                    "fd00::/64", key, g);
                        break;
                }
                p = reallocarray(v, n + 1, sizeof(char *));
                if (!p || !(p[n] = strdup(g))) {
                        v = p ? p : v;
                        r = -ENOMEM;
                        break;
                }
                v = p;
                n++;
        }
        if (r < 0) {
                strv_free(v, n);
                return r;
        }
        strv_free(*ret, *ret_n);
        *ret = v;
        *ret_n = n;
        *i = end;
        return 0;
}

/* tls: {ca: PATH, cert: PATH, key: PATH}, all three, absolute. I points at the value; returns the index after it. */
static int parse_tls(const char *path, const YamlEvents *ev, size_t *i, Settings *s, char **ret_error) {
        static const char *const names[] = { "ca", "cert", "key" };
        char **slots[] = { &s->tls_ca, &s->tls_cert, &s->tls_key };
        size_t j = *i, end;
        int r;

        if (ev->ev[j].type != YAML_MAPPING_START_EVENT)
                return fail_at(ret_error, path, &ev->ev[j], "tls: expected a mapping with ca, cert and key (file paths)");
        end = yamlutil_events_node_end(ev, j);
        for (size_t k = j + 1; k < end; k = yamlutil_events_node_end(ev, k + 1) + 1) {
                const char *key = scalar_of(&ev->ev[k]), *v = scalar_of(&ev->ev[k + 1]);
                size_t n = 0;
                while (n < ELEMENTSOF(names) && !streq_ptr(key, names[n]))
                        n++;
                if (n == ELEMENTSOF(names))
                        return fail_at(ret_error, path, &ev->ev[k], "tls: unknown key \"%s\" (known: ca, cert, key)",
                                       strna(key));
                if (*slots[n])
                        return fail_at(ret_error, path, &ev->ev[k], "tls: %s is set twice", key);
                if (!v || v[0] != '/' || strstr(v, "/../") || endswith(v, "/.."))
                        return fail_at(ret_error, path, &ev->ev[k + 1], "tls: %s: expected an absolute file path", key);
                r = parse_string(path, &ev->ev[k + 1], key, slots[n], ret_error);
                if (r < 0)
                        return r;
        }
        for (size_t n = 0; n < ELEMENTSOF(names); n++)
                if (!*slots[n])
                        return fail_at(ret_error, path, &ev->ev[j], "tls: %s is missing (ca, cert and key go together)",
                                       names[n]);
        *i = end;
        return 0;
}

static int check_unit_pattern(const char *path, const yaml_event_t *e, const char *u, char **ret_error) {
        const char *i = strstr(u, "%i");

        if (!i || strstr(i + 2, "%i") || !endswith(u, ".service"))
                return fail_at(ret_error, path, e, "unit: \"%s\" must contain %%i once and end in .service", u);
        /* Every VERSION-CLUSTER must fit: a name cut short would be another unit. */
        if (strlen(u) - 2 + PGCOMMON_INSTANCE_MAX > UNIT_NAME_MAX)
                return fail_at(ret_error, path, e,
                               "unit: \"%.40s...\" is too long: with a VERSION-CLUSTER of %d characters the unit name "
                               "would pass systemd's %d", u, PGCOMMON_INSTANCE_MAX, UNIT_NAME_MAX);
        for (const char *p = u; *p; p++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_.@-%", *p))
                        return fail_at(ret_error, path, e, "unit: \"%s\" has a character not allowed in a unit name",
                                       u);
        return 0;
}

static const char *const known_keys =
        "include, exclude, join, client_networks, autostart, pg_service, reload_on_change, settle_ms, config_settle_ms, removal_settle_ms, "
        "start_conf, takeover, template, tls, unit";

static int apply(const char *path, const YamlEvents *ev, Settings *s, char **ret_error) {
        size_t top = 0, second = 0, docs = 0, end;
        int r = 0;

        for (size_t i = 0; i < ev->n; i++)
                if (ev->ev[i].type == YAML_DOCUMENT_START_EVENT) {
                        if (docs == 0)
                                top = i + 1;
                        else if (docs == 1)
                                second = i;
                        docs++;
                }
        if (docs == 0)
                return 0; /* empty, or only comments: all defaults */
        if (docs > 1)
                return fail_at(ret_error, path, &ev->ev[second], "holds more than one YAML document");
        if (ev->ev[top].type == YAML_SCALAR_EVENT && !ev->ev[top].data.scalar.value[0])
                return 0;
        if (ev->ev[top].type != YAML_MAPPING_START_EVENT)
                return fail_at(ret_error, path, &ev->ev[top], "expected a mapping of settings (%s)", known_keys);

        end = yamlutil_events_node_end(ev, top);
        for (size_t i = top + 1; i < end && r >= 0; i++) {
                const yaml_event_t *k = &ev->ev[i], *v = &ev->ev[i + 1];
                const char *key = scalar_of(k);

                if (!key)
                        return fail_at(ret_error, path, k, "expected a setting name (%s)", known_keys);
                for (size_t j = top + 1; j < i; j = yamlutil_events_node_end(ev, j + 1) + 1)
                        if (streq_ptr(scalar_of(&ev->ev[j]), key))
                                return fail_at(ret_error, path, k, "%s is set twice", key);
                i++;
                if (streq(key, "include"))
                        r = parse_globs(path, ev, &i, key, false, &s->include, &s->n_include, ret_error);
                else if (streq(key, "exclude"))
                        r = parse_globs(path, ev, &i, key, false, &s->exclude, &s->n_exclude, ret_error);
                else if (streq(key, "join"))
                        r = parse_globs(path, ev, &i, key, false, &s->join, &s->n_join, ret_error);
                else if (streq(key, "client_networks"))
                        r = parse_globs(path, ev, &i, key, true, &s->client_networks, &s->n_client_networks,
                                        ret_error);
                else if (streq(key, "autostart"))
                        r = parse_bool(path, v, key, &s->autostart, ret_error);
                else if (streq(key, "reload_on_change"))
                        r = parse_bool(path, v, key, &s->reload_on_change, ret_error);
                else if (streq(key, "pg_service"))
                        r = parse_bool(path, v, key, &s->pg_service, ret_error);
                else if (streq(key, "takeover"))
                        r = parse_bool(path, v, key, &s->takeover, ret_error);
                else if (streq(key, "settle_ms"))
                        r = parse_ms(path, v, key, 600000, &s->settle_ms, ret_error);
                else if (streq(key, "config_settle_ms"))
                        r = parse_ms(path, v, key, 60000, &s->config_settle_ms, ret_error);
                else if (streq(key, "removal_settle_ms"))
                        r = parse_ms(path, v, key, 600000, &s->removal_settle_ms, ret_error);
                else if (streq(key, "start_conf")) {
                        /* auto would have pg-common start the cluster beside Patroni */
                        const char *m = scalar_of(v);
                        StartConf sc = m ? start_conf_from_string(m) : _START_CONF_INVALID;
                        if (sc != START_CONF_MANUAL && sc != START_CONF_DISABLED && sc != START_CONF_KEEP)
                                r = fail_at(ret_error, path, v, "start_conf: expected manual, disabled or keep%s%s%s",
                                            m ? ", got \"" : "", m ? m : "", m ? "\"" : "");
                        else
                                s->start_conf = sc;
                } else if (streq(key, "template"))
                        r = parse_string(path, v, key, &s->template, ret_error);
                else if (streq(key, "tls"))
                        r = parse_tls(path, ev, &i, s, ret_error);
                else if (streq(key, "unit")) {
                        r = parse_string(path, v, key, &s->unit, ret_error);
                        if (r >= 0)
                                r = check_unit_pattern(path, v, s->unit, ret_error);
                } else
                        return fail_at(ret_error, path, k, "unknown setting \"%s\" (known: %s)", key, known_keys);
                if (r >= 0 && i < end && v->type != YAML_SCALAR_EVENT && !streq(key, "include") &&
                    !streq(key, "exclude") && !streq(key, "join") && !streq(key, "client_networks") &&
                    !streq(key, "tls"))
                        r = fail_at(ret_error, path, v, "%s: expected a single value", key);
        }
        return r;
}

int settings_parse(const char *path, const char *text, size_t size, Settings **ret, char **ret_error) {
        _cleanup_(settings_freep) Settings *s = settings_new();
        YamlEvents ev = {};
        YamlError err = {};
        int r;

        *ret_error = NULL;
        if (!s || !(s->path = strdup(path)))
                return -ENOMEM;
        if (memchr(text, 0, size)) {
                if (asprintf(ret_error, "%s: NUL byte in file", path) < 0)
                        *ret_error = NULL;
                return -EINVAL;
        }
        r = yamlutil_events_parse(text, size, &ev, &err);
        if (r == -EINVAL && asprintf(ret_error, "%s:%zu:%zu: %s", path, err.line, err.column, err.message) < 0)
                *ret_error = NULL;
        if (r >= 0)
                r = apply(path, &ev, s, ret_error);
        yamlutil_events_done(&ev);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

int settings_load(int rootfd, const char *path, Settings **ret, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        *ret_error = NULL;
        r = fs_read_in_root(rootfd, path, true, &text, &size);
        if (r == -ENOENT) {
                *ret = settings_new();
                return *ret ? 0 : -ENOMEM;
        }
        if (r < 0) {
                if (asprintf(ret_error, "%s: cannot read: %s", path, fs_describe_error(r)) < 0)
                        *ret_error = NULL;
                return r;
        }
        return settings_parse(path, text, size, ret, ret_error);
}

bool settings_in_scope(const Settings *s, const char *version, const char *cluster) {
        char vc[128];
        bool in = false;

        snprintf(vc, sizeof(vc), "%s/%s", version, cluster);
        for (size_t i = 0; i < s->n_include && !in; i++)
                in = fnmatch(s->include[i], vc, 0) == 0;
        for (size_t i = 0; i < s->n_exclude && in; i++)
                in = fnmatch(s->exclude[i], vc, 0) != 0;
        return in;
}

bool settings_join_match(const Settings *s, const char *scope) {
        for (size_t i = 0; i < s->n_join; i++)
                if (fnmatch(s->join[i], scope, 0) == 0)
                        return true;
        return false;
}

int settings_unit_name(const Settings *s, const char *version, const char *cluster, char *buf, size_t size) {
        return pgcommon_unit_name(s->unit, version, cluster, buf, size);
}
