/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include "etcd.h"
#include "macro.h"

#define JSON_DEPTH 16

/* ---- base64 (libcrypto) ------------------------------------------------------------------------------- */

static char *b64_encode(const char *data, size_t size) {
        char *out;

        if (size > (1u << 20))
                return NULL;
        out = malloc(4 * ((size + 2) / 3) + 1);
        if (out)
                EVP_EncodeBlock((unsigned char *) out, (const unsigned char *) data, (int) size);
        return out;
}

/* TEXT (base64) into *RET (NUL-terminated, *RET_SIZE bytes before it). -EINVAL if it is not base64. */
static int b64_decode(const char *text, char **ret, size_t *ret_size) {
        size_t n = strlen(text), pad = 0;
        unsigned char *out;
        int m;

        *ret = NULL;
        if (n % 4 != 0 || n > ETCD_BODY_MAX)
                return -EINVAL;
        out = malloc(n / 4 * 3 + 1);
        if (!out)
                return -ENOMEM;
        m = n ? EVP_DecodeBlock(out, (const unsigned char *) text, (int) n) : 0;
        if (m < 0) {
                free(out);
                return -EINVAL;
        }
        /* EVP_DecodeBlock counts the padding's zero bytes. */
        while (pad < 2 && n > pad && text[n - 1 - pad] == '=')
                pad++;
        *ret_size = (size_t) m - pad;
        out[*ret_size] = 0;
        *ret = (char *) out;
        return 0;
}

/* ---- the view ---------------------------------------------------------------------------------------- */

static void scope_clear(EtcdScope *s) {
        free(s->name);
        free(s->leader);
        for (size_t i = 0; i < s->n_members; i++) {
                free(s->members[i].name);
                free(s->members[i].host);
        }
        free(s->members);
}

static void view_clear(EtcdView *v) {
        for (size_t i = 0; i < v->n_scopes; i++)
                scope_clear(&v->scopes[i]);
        free(v->scopes);
        v->scopes = NULL;
        v->n_scopes = 0;
        v->ignored = 0;
}

EtcdView *etcd_view_new(const char *prefix) {
        EtcdView *v = calloc(1, sizeof(EtcdView));

        if (!v || !(v->prefix = strdup(prefix)))
                return etcd_view_free(v);
        return v;
}

EtcdView *etcd_view_free(EtcdView *v) {
        if (!v)
                return NULL;
        view_clear(v);
        free(v->prefix);
        free(v);
        return NULL;
}

const EtcdScope *etcd_view_find(const EtcdView *v, const char *scope) {
        for (size_t i = 0; i < v->n_scopes; i++)
                if (streq(v->scopes[i].name, scope))
                        return &v->scopes[i];
        return NULL;
}

int etcd_scope_leader_port(const EtcdScope *s) {
        for (size_t i = 0; s->leader && i < s->n_members; i++)
                if (streq(s->members[i].name, s->leader))
                        return s->members[i].port;
        return 0;
}

/* A name as etcd gave it: 1 to ETCD_NAME_MAX printable ASCII bytes, no '/'. */
static bool name_ok(const char *s, size_t n) {
        if (n == 0 || n > ETCD_NAME_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (s[i] <= ' ' || s[i] > '~' || s[i] == '/')
                        return false;
        return true;
}

/* The scope NAME, made if MAKE (and there is room); NULL if not there or on ENOMEM. */
static EtcdScope *scope_get(EtcdView *v, const char *name, size_t n, bool make) {
        for (size_t i = 0; i < v->n_scopes; i++)
                if (strlen(v->scopes[i].name) == n && memcmp(v->scopes[i].name, name, n) == 0)
                        return &v->scopes[i];
        if (!make || v->n_scopes >= ETCD_SCOPES_MAX)
                return NULL;
        EtcdScope *more = reallocarray(v->scopes, v->n_scopes + 1, sizeof(EtcdScope));
        if (!more)
                return NULL;
        v->scopes = more;
        EtcdScope *s = &more[v->n_scopes];
        *s = (EtcdScope){ .name = strndup(name, n) };
        if (!s->name)
                return NULL;
        v->n_scopes++;
        return s;
}

/* A host as libpq takes it in a host list: letters, digits and ".-_:%", or an IPv6 address in brackets. */
static bool host_ok(const char *h) {
        size_t n = strlen(h);

        if (n == 0 || n > ETCD_HOST_MAX)
                return false;
        if (h[0] == '[')
                return n > 2 && h[n - 1] == ']' && strspn(h + 1, "0123456789abcdefABCDEF:.%") == n - 2;
        return strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") == n;
}

/* The PostgreSQL host and port of a member's JSON ({"conn_url": "postgres://host:port/postgres", ...}):
 * *RET_HOST (NULL if none or not a host) and *RET_PORT (0 if none). -ENOMEM only. */
static int member_address(const char *value, size_t size, char **ret_host, int *ret_port) {
        json_tokener *tok;
        json_object *o, *u;
        int port = 0, r = 0;

        *ret_host = NULL;
        *ret_port = 0;
        if (size > ETCD_MEMBER_VALUE_MAX || !(tok = json_tokener_new_ex(JSON_DEPTH)))
                return 0;
        o = json_tokener_parse_ex(tok, value, (int) size);
        if (o && json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, "conn_url", &u) &&
            json_object_is_type(u, json_type_string)) {
                CURLU *url = curl_url();
                char *p = NULL, *h = NULL;
                if (url && curl_url_set(url, CURLUPART_URL, json_object_get_string(u), CURLU_NON_SUPPORT_SCHEME) ==
                                   CURLUE_OK) {
                        if (curl_url_get(url, CURLUPART_PORT, &p, 0) == CURLUE_OK)
                                port = parse_port(p);
                        if (curl_url_get(url, CURLUPART_HOST, &h, 0) == CURLUE_OK && host_ok(h) &&
                            !(*ret_host = strdup(h)))
                                r = -ENOMEM;
                }
                curl_free(p);
                curl_free(h);
                curl_url_cleanup(url);
        }
        json_object_put(o);
        json_tokener_free(tok);
        *ret_port = port > 0 ? port : 0;
        return r;
}

static int apply_leader(EtcdScope *s, const char *value, size_t size) {
        if (!value) {
                if (!s->leader)
                        return 0;
                free(s->leader);
                s->leader = NULL;
                return 1;
        }
        if (!name_ok(value, size))
                return -EINVAL;
        if (s->leader && strlen(s->leader) == size && memcmp(s->leader, value, size) == 0)
                return 0;
        char *l = strndup(value, size);
        if (!l)
                return -ENOMEM;
        free(s->leader);
        s->leader = l;
        return 1;
}

static int apply_member(EtcdScope *s, const char *name, size_t n, const char *value, size_t size) {
        _cleanup_free_ char *host = NULL;
        size_t i;
        int port, r;

        for (i = 0; i < s->n_members; i++)
                if (strlen(s->members[i].name) == n && memcmp(s->members[i].name, name, n) == 0)
                        break;
        if (!value) {
                if (i == s->n_members)
                        return 0;
                free(s->members[i].name);
                free(s->members[i].host);
                s->members[i] = s->members[--s->n_members];
                return 1;
        }
        r = member_address(value, size, &host, &port);
        if (r < 0)
                return r;
        if (i < s->n_members) {
                if (s->members[i].port == port && streq_ptr(s->members[i].host, host))
                        return 0;
                s->members[i].port = port;
                free(s->members[i].host);
                s->members[i].host = TAKE_PTR(host);
                return 1;
        }
        if (s->n_members >= ETCD_MEMBERS_MAX)
                return -EINVAL;
        EtcdMember *more = reallocarray(s->members, s->n_members + 1, sizeof(EtcdMember));
        if (!more)
                return -ENOMEM;
        s->members = more;
        more[s->n_members] = (EtcdMember){ .name = strndup(name, n), .port = port };
        if (!more[s->n_members].name)
                return -ENOMEM;
        more[s->n_members].host = TAKE_PTR(host);
        s->n_members++;
        return 1;
}

int etcd_view_apply(EtcdView *v, const char *key, size_t key_size, const char *value, size_t value_size) {
        size_t plen = strlen(v->prefix);
        const char *rest, *slash, *end = key + key_size;
        int r;

        if (key_size <= plen || memcmp(key, v->prefix, plen) != 0)
                return 0;
        rest = key + plen;
        slash = memchr(rest, '/', (size_t) (end - rest));
        if (!slash || !name_ok(rest, (size_t) (slash - rest)))
                goto ignored;
        const char *what = slash + 1;
        size_t wlen = (size_t) (end - what);
        bool leader = wlen == 6 && memcmp(what, "leader", 6) == 0;
        bool member = wlen > 8 && memcmp(what, "members/", 8) == 0 && name_ok(what + 8, wlen - 8);
        if (!leader && !member)
                return 0; /* config, history, initialize, status, ...: not needed */
        EtcdScope *s = scope_get(v, rest, (size_t) (slash - rest), value != NULL);
        if (!s) {
                if (!value)
                        return 0; /* a scope never seen */
                if (v->n_scopes >= ETCD_SCOPES_MAX)
                        goto ignored;
                return -ENOMEM;
        }
        r = leader ? apply_leader(s, value, value_size) : apply_member(s, what + 8, wlen - 8, value, value_size);
        if (r == -EINVAL)
                goto ignored;
        if (r > 0)
                s->dirty = true;
        return r;
ignored:
        v->ignored++;
        return 0;
}

/* ---- decoding ----------------------------------------------------------------------------------------- */

/* Only blanks in BODY from FROM to SIZE (BODY need not end there: a line of a stream). */
static bool blank_tail(const char *body, size_t from, size_t size) {
        for (size_t i = from; i < size; i++)
                if (!strchr(" \t\r\n", body[i]) || !body[i])
                        return false;
        return true;
}

static json_object *parse_object(const char *body, size_t size) {
        json_tokener *tok;
        json_object *o;

        if (size > ETCD_BODY_MAX || !(tok = json_tokener_new_ex(JSON_DEPTH)))
                return NULL;
        o = json_tokener_parse_ex(tok, body, (int) size);
        /* One whole object, nothing but blanks after it. */
        if (o && (json_tokener_get_error(tok) != json_tokener_success || !json_object_is_type(o, json_type_object) ||
                  !blank_tail(body, json_tokener_get_parse_end(tok), size))) {
                json_object_put(o);
                o = NULL;
        }
        json_tokener_free(tok);
        return o;
}

static json_object *member_of(json_object *o, const char *key, json_type type) {
        json_object *v;
        return o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, type) ? v : NULL;
}

/* An int64 as the gateway writes it (a string of digits), or a number; DEF if absent, -1 if malformed. */
static int64_t int64_of(json_object *o, const char *key, int64_t def) {
        json_object *v;
        char *end;

        if (!o || !json_object_object_get_ex(o, key, &v))
                return def;
        if (json_object_is_type(v, json_type_int))
                return json_object_get_int64(v);
        if (!json_object_is_type(v, json_type_string))
                return -1;
        const char *s = json_object_get_string(v);
        errno = 0;
        long long n = strtoll(s, &end, 10);
        return errno || end == s || *end || n < 0 ? -1 : n;
}

/* A kv object's key and value (base64) applied; DELETE: no value. 0 or -ENOMEM, -EINVAL if malformed. */
static int apply_kv(EtcdView *v, json_object *kv, bool deleted) {
        json_object *k = member_of(kv, "key", json_type_string), *val = member_of(kv, "value", json_type_string);
        _cleanup_free_ char *key = NULL, *value = NULL;
        size_t ksize, vsize = 0;
        int r;

        if (!k)
                return -EINVAL;
        r = b64_decode(json_object_get_string(k), &key, &ksize);
        if (r < 0)
                return r;
        if (!deleted) {
                r = b64_decode(val ? json_object_get_string(val) : "", &value, &vsize);
                if (r < 0)
                        return r;
        }
        r = etcd_view_apply(v, key, ksize, deleted ? NULL : value, vsize);
        return r < 0 ? r : 0;
}

static int decode_error(json_object *o, const char *what, char **ret_error) {
        json_object *e = member_of(o, "error", json_type_object);
        const char *msg = NULL;

        if (e) {
                json_object *m = member_of(e, "message", json_type_string);
                msg = m ? json_object_get_string(m) : NULL;
        }
        if (!msg) {
                json_object *m = member_of(o, "message", json_type_string);
                msg = m ? json_object_get_string(m) : NULL;
        }
        return error_set(ret_error, -EINVAL, "%s: %.160s", what, msg ? msg : "not the answer expected");
}

int etcd_decode_range(EtcdView *v, const char *body, size_t size, char **ret_error) {
        json_object *o = parse_object(body, size), *kvs;
        int64_t rev;
        int r = 0;

        *ret_error = NULL;
        if (!o)
                return error_set(ret_error, -EINVAL, "range: not one JSON object");
        rev = int64_of(member_of(o, "header", json_type_object), "revision", -1);
        if (rev < 0) {
                r = decode_error(o, "range", ret_error);
                json_object_put(o);
                return r;
        }
        view_clear(v);
        v->revision = rev;
        kvs = member_of(o, "kvs", json_type_array);
        for (size_t i = 0, n = kvs ? json_object_array_length(kvs) : 0; i < n && r >= 0; i++) {
                r = apply_kv(v, json_object_array_get_idx(kvs, i), false);
                if (r == -EINVAL) {
                        v->ignored++;
                        r = 0;
                }
        }
        for (size_t i = 0; i < v->n_scopes; i++)
                v->scopes[i].dirty = true;
        json_object_put(o);
        return r;
}

int etcd_decode_watch(EtcdView *v, const char *line, size_t size, EtcdWatchStatus *ret, char **ret_error) {
        json_object *o = parse_object(line, size), *res, *events;
        int r = 0;

        *ret = (EtcdWatchStatus){};
        *ret_error = NULL;
        if (!o)
                return error_set(ret_error, -EINVAL, "watch: not one JSON object");
        res = member_of(o, "result", json_type_object);
        if (!res) {
                r = decode_error(o, "watch", ret_error);
                json_object_put(o);
                return r;
        }
        json_object *b;
        ret->created = (b = member_of(res, "created", json_type_boolean)) && json_object_get_boolean(b);
        ret->canceled = (b = member_of(res, "canceled", json_type_boolean)) && json_object_get_boolean(b);
        ret->compact_revision = int64_of(res, "compact_revision", 0);
        json_object *why = member_of(res, "cancel_reason", json_type_string);
        if (why)
                snprintf(ret->reason, sizeof(ret->reason), "%s", json_object_get_string(why));
        int64_t rev = int64_of(member_of(res, "header", json_type_object), "revision", 0);
        events = member_of(res, "events", json_type_array);
        for (size_t i = 0, n = events ? json_object_array_length(events) : 0; i < n && r >= 0; i++) {
                json_object *e = json_object_array_get_idx(events, i), *t = member_of(e, "type", json_type_string);
                json_object *kv = member_of(e, "kv", json_type_object);
                int64_t mod = int64_of(kv, "mod_revision", 0);
                r = kv ? apply_kv(v, kv, t && streq(json_object_get_string(t), "DELETE")) : -EINVAL;
                if (r == -EINVAL) {
                        v->ignored++;
                        r = 0;
                } else if (r >= 0)
                        ret->events++;
                if (mod > v->revision)
                        v->revision = mod;
        }
        if (rev > v->revision && !ret->canceled)
                v->revision = rev;
        json_object_put(o);
        return r;
}

int etcd_decode_token(const char *body, size_t size, char **ret) {
        json_object *o = parse_object(body, size), *t = member_of(o, "token", json_type_string);
        int r = -EINVAL;

        *ret = NULL;
        if (t && json_object_get_string(t)[0] && strlen(json_object_get_string(t)) < 4096)
                r = (*ret = strdup(json_object_get_string(t))) ? 0 : -ENOMEM;
        json_object_put(o);
        return r;
}

/* ---- requests ----------------------------------------------------------------------------------------- */

/* The end of the range of keys that start with PREFIX: its last byte plus one (etcdctl --prefix). */
static int prefix_range(const char *prefix, char **ret_key, char **ret_end) {
        size_t n = strlen(prefix);
        _cleanup_free_ char *end = strdup(prefix);

        if (!end || n == 0 || (unsigned char) end[n - 1] == 0xff)
                return end ? -EINVAL : -ENOMEM;
        end[n - 1]++;
        *ret_key = b64_encode(prefix, n);
        *ret_end = b64_encode(end, n);
        if (!*ret_key || !*ret_end) {
                free(*ret_key);
                free(*ret_end);
                return -ENOMEM;
        }
        return 0;
}

/* O as JSON text into *RET; O is released. */
static int to_text(json_object *o, char **ret) {
        *ret = o ? strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)) : NULL;
        json_object_put(o);
        return *ret ? 0 : -ENOMEM;
}

int etcd_range_body(const char *prefix, char **ret) {
        _cleanup_free_ char *key = NULL, *end = NULL;
        int r = prefix_range(prefix, &key, &end);
        json_object *o;

        if (r < 0)
                return r;
        o = json_object_new_object();
        if (o) {
                json_object_object_add(o, "key", json_object_new_string(key));
                json_object_object_add(o, "range_end", json_object_new_string(end));
        }
        return to_text(o, ret);
}

int etcd_watch_body(const char *prefix, int64_t revision, char **ret) {
        _cleanup_free_ char *key = NULL, *end = NULL;
        int r = prefix_range(prefix, &key, &end);
        json_object *o, *c;

        if (r < 0)
                return r;
        o = json_object_new_object();
        c = json_object_new_object();
        if (!o || !c) {
                json_object_put(o);
                json_object_put(c);
                return -ENOMEM;
        }
        json_object_object_add(c, "key", json_object_new_string(key));
        json_object_object_add(c, "range_end", json_object_new_string(end));
        if (revision > 0)
                json_object_object_add(c, "start_revision", json_object_new_int64(revision));
        json_object_object_add(o, "create_request", c);
        return to_text(o, ret);
}

int etcd_auth_body(const char *user, const char *password, char **ret) {
        json_object *o = json_object_new_object();

        if (o) {
                json_object_object_add(o, "name", json_object_new_string(user));
                json_object_object_add(o, "password", json_object_new_string(password));
        }
        return to_text(o, ret);
}
