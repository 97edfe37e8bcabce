/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "etcd.h"
#include "macro.h"
#include "testutil.h"

#define NS "/postgresql-common/"

/* base64 of S, as etcd's gateway writes keys and values */
static char *b64(const char *s) {
        static char buf[8][4096];
        static int next;
        char *out = buf[next++ % 8];
        EVP_EncodeBlock((unsigned char *) out, (const unsigned char *) s, (int) strlen(s));
        return out;
}

static char *kv(const char *key, const char *value) {
        char *s;
        ck_assert_int_ge(asprintf(&s, "{\"key\": \"%s\", \"value\": \"%s\", \"mod_revision\": \"7\"}", b64(key),
                                  b64(value)), 0);
        return s;
}

static const char *member_json(int port) {
        static char buf[256];
        snprintf(buf, sizeof(buf), "{\"conn_url\": \"postgres://10.0.0.1:%d/postgres\", \"api_url\": "
                 "\"https://10.0.0.1:8008/patroni\", \"state\": \"running\", \"role\": \"primary\"}", port);
        return buf;
}

START_TEST(test_range) {
        EtcdView *v = etcd_view_new(NS);
        char *err = NULL, *body;
        char *a = kv(NS "15-main/leader", "pdd-a"), *b = kv(NS "15-main/members/pdd-a", member_json(5432)),
             *c = kv(NS "15-main/members/pdd-b", member_json(5433)), *d = kv(NS "15-main/config", "{}"),
             *e = kv(NS "15-my-db/members/pdd-a", member_json(5434)), *f = kv("/service/x/leader", "other"),
             *g = kv(NS "bad scope/leader", "x"), *h = kv(NS "15-main/members/a/b", "{}");

        ck_assert_int_ge(asprintf(&body, "{\"header\": {\"cluster_id\": \"1\", \"revision\": \"42\"}, \"kvs\": "
                                         "[%s, %s, %s, %s, %s, %s, %s, %s], \"count\": \"8\"}",
                                  a, b, c, d, e, f, g, h), 0);
        ck_assert_int_eq(etcd_decode_range(v, body, strlen(body), &err), 0);
        ck_assert_int_eq(v->revision, 42);
        ck_assert_uint_eq(v->n_scopes, 2);
        const EtcdScope *s = etcd_view_find(v, "15-main");
        ck_assert_ptr_nonnull(s);
        ck_assert_str_eq(s->leader, "pdd-a");
        ck_assert_uint_eq(s->n_members, 2);
        ck_assert_int_eq(etcd_scope_leader_port(s), 5432);
        ck_assert(s->dirty);
        s = etcd_view_find(v, "15-my-db");
        ck_assert_ptr_null(s->leader);
        ck_assert_int_eq(etcd_scope_leader_port(s), 0);
        ck_assert_uint_eq(v->ignored, 1); /* the scope with a blank; other namespaces and keys are not counted */

        /* A second range read replaces the view. */
        free(body);
        ck_assert_int_ge(asprintf(&body, "{\"header\": {\"revision\": \"50\"}, \"kvs\": [%s]}", e), 0);
        ck_assert_int_eq(etcd_decode_range(v, body, strlen(body), &err), 0);
        ck_assert_uint_eq(v->n_scopes, 1);
        ck_assert_int_eq(v->revision, 50);
        /* An empty namespace: no kvs at all. */
        const char *empty = "{\"header\": {\"revision\": \"51\"}}";
        ck_assert_int_eq(etcd_decode_range(v, empty, strlen(empty), &err), 0);
        ck_assert_uint_eq(v->n_scopes, 0);

        /* Errors are said, the view kept. */
        const char *bad[] = { "", "[]", "{\"header\": {}}", "{\"header\": {\"revision\": \"x\"}}", "{} {}",
                              "{\"error\": {\"message\": \"etcdserver: user name is empty\"}}" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                ck_assert_int_eq(etcd_decode_range(v, bad[i], strlen(bad[i]), &err), -EINVAL);
                ck_assert_ptr_nonnull(err);
                free(err);
        }
        ck_assert_int_eq(etcd_decode_range(v, bad[5], strlen(bad[5]), &err), -EINVAL);
        ck_assert_str_eq(err, "range: etcdserver: user name is empty");
        free(err);
        ck_assert_int_eq(v->revision, 51);

        free(body);
        free(a), free(b), free(c), free(d), free(e), free(f), free(g), free(h);
        etcd_view_free(v);
}
END_TEST

START_TEST(test_watch) {
        EtcdView *v = etcd_view_new(NS);
        EtcdWatchStatus st;
        char *err = NULL, *line;

        /* created: a line of the stream, the next one already behind it in the buffer */
        const char *created = "{\"result\": {\"header\": {\"revision\": \"10\"}, \"created\": true}}\n{\"result\"";
        ck_assert_int_eq(etcd_decode_watch(v, created, strchr(created, '\n') - created, &st, &err), 0);
        ck_assert(st.created);
        ck_assert(!st.canceled);
        ck_assert_int_eq(v->revision, 10);

        /* a member, then the leader key: the scope appears, changed */
        char *m = kv(NS "16-x/members/n1", member_json(6000)), *l = kv(NS "16-x/leader", "n1");
        ck_assert_int_ge(asprintf(&line, "{\"result\": {\"header\": {\"revision\": \"12\"}, \"events\": [{\"kv\": %s}, "
                                         "{\"type\": \"PUT\", \"kv\": %s}]}}", m, l), 0);
        ck_assert_int_eq(etcd_decode_watch(v, line, strlen(line), &st, &err), 0);
        ck_assert_uint_eq(st.events, 2);
        ck_assert_int_eq(v->revision, 12);
        const EtcdScope *s = etcd_view_find(v, "16-x");
        ck_assert_int_eq(etcd_scope_leader_port(s), 6000);
        ck_assert(s->dirty);
        ((EtcdScope *) s)->dirty = false;
        free(line);

        /* the same member again (its state changed, not its port): no change to the scope */
        ck_assert_int_ge(asprintf(&line, "{\"result\": {\"header\": {\"revision\": \"13\"}, \"events\": [{\"kv\": %s}]}}",
                                  m), 0);
        ck_assert_int_eq(etcd_decode_watch(v, line, strlen(line), &st, &err), 0);
        ck_assert(!s->dirty);
        free(line);

        /* the leader key deleted (its value is absent in a DELETE) */
        ck_assert_int_ge(asprintf(&line, "{\"result\": {\"header\": {\"revision\": \"14\"}, \"events\": [{\"type\": "
                                         "\"DELETE\", \"kv\": {\"key\": \"%s\", \"mod_revision\": \"14\"}}]}}",
                                  b64(NS "16-x/leader")), 0);
        ck_assert_int_eq(etcd_decode_watch(v, line, strlen(line), &st, &err), 0);
        ck_assert_ptr_null(s->leader);
        ck_assert(s->dirty);
        ck_assert_int_eq(v->revision, 14);
        free(line);

        /* compaction: canceled, with the revision it was compacted to; the view's revision is not advanced */
        const char *compacted = "{\"result\": {\"header\": {\"revision\": \"90\"}, \"canceled\": true, "
                                "\"compact_revision\": \"80\", \"cancel_reason\": \"etcdserver: mvcc: required revision "
                                "has been compacted\"}}";
        ck_assert_int_eq(etcd_decode_watch(v, compacted, strlen(compacted), &st, &err), 0);
        ck_assert(st.canceled);
        ck_assert_int_eq(st.compact_revision, 80);
        ck_assert_str_eq(st.reason, "etcdserver: mvcc: required revision has been compacted");
        ck_assert_int_eq(v->revision, 14);

        /* canceled without compaction (permission revoked) */
        const char *cancel = "{\"result\": {\"header\": {\"revision\": \"91\"}, \"canceled\": true}}";
        ck_assert_int_eq(etcd_decode_watch(v, cancel, strlen(cancel), &st, &err), 0);
        ck_assert(st.canceled);
        ck_assert_int_eq(st.compact_revision, 0);

        /* a gateway error line, and garbage */
        const char *e1 = "{\"error\": {\"grpc_code\": 16, \"message\": \"etcdserver: invalid auth token\"}}";
        ck_assert_int_eq(etcd_decode_watch(v, e1, strlen(e1), &st, &err), -EINVAL);
        ck_assert_str_eq(err, "watch: etcdserver: invalid auth token");
        free(err);
        ck_assert_int_eq(etcd_decode_watch(v, "{\"result\": ", 11, &st, &err), -EINVAL);
        free(err);

        /* events of the wrong shape are left out, the good ones kept */
        ck_assert_int_ge(asprintf(&line, "{\"result\": {\"events\": [{\"kv\": {\"key\": \"!!\"}}, {\"kv\": 3}, "
                                         "{\"type\": \"PUT\", \"kv\": %s}]}}", l), 0);
        ck_assert_int_eq(etcd_decode_watch(v, line, strlen(line), &st, &err), 0);
        ck_assert_uint_eq(st.events, 1);
        ck_assert_str_eq(s->leader, "n1");
        free(line);

        free(m), free(l);
        etcd_view_free(v);
}
END_TEST

START_TEST(test_bounds) {
        EtcdView *v = etcd_view_new(NS);
        char key[512], name[ETCD_NAME_MAX + 2];

        /* names: too long, control characters, empty */
        memset(name, 'a', sizeof(name) - 1);
        name[sizeof(name) - 1] = 0;
        snprintf(key, sizeof(key), NS "%s/leader", name);
        ck_assert_int_eq(etcd_view_apply(v, key, strlen(key), "x", 1), 0);
        ck_assert_int_eq(etcd_view_apply(v, NS "a\tb/leader", strlen(NS "a\tb/leader"), "x", 1), 0);
        ck_assert_int_eq(etcd_view_apply(v, NS "/leader", strlen(NS "/leader"), "x", 1), 0);
        ck_assert_int_eq(etcd_view_apply(v, NS "s/leader", strlen(NS "s/leader"), "bad\nname", 8), 0);
        ck_assert_uint_eq(v->ignored, 4);
        /* a key with a NUL inside is compared as bytes */
        ck_assert_int_eq(etcd_view_apply(v, NS "s\0t/leader", sizeof(NS "s\0t/leader") - 1, "x", 1), 0);

        /* members per scope are bounded */
        for (int i = 0; i < ETCD_MEMBERS_MAX + 5; i++) {
                snprintf(key, sizeof(key), NS "big/members/m%d", i);
                etcd_view_apply(v, key, strlen(key), member_json(5432), strlen(member_json(5432)));
        }
        ck_assert_uint_eq(etcd_view_find(v, "big")->n_members, ETCD_MEMBERS_MAX);
        /* a member whose value is not JSON, or has no port: there, port 0 */
        ck_assert_int_eq(etcd_view_apply(v, NS "p/members/x", strlen(NS "p/members/x"), "not json", 8), 1);
        ck_assert_int_eq(etcd_view_apply(v, NS "p/leader", strlen(NS "p/leader"), "x", 1), 1);
        ck_assert_int_eq(etcd_scope_leader_port(etcd_view_find(v, "p")), 0);
        const char *noport = "{\"conn_url\": \"postgres://host/postgres\"}";
        ck_assert_int_eq(etcd_view_apply(v, NS "p/members/y", strlen(NS "p/members/y"), noport, strlen(noport)), 1);
        /* a member removed */
        ck_assert_int_eq(etcd_view_apply(v, NS "p/members/x", strlen(NS "p/members/x"), NULL, 0), 1);
        ck_assert_uint_eq(etcd_view_find(v, "p")->n_members, 1);
        ck_assert_int_eq(etcd_view_apply(v, NS "p/members/x", strlen(NS "p/members/x"), NULL, 0), 0);
        etcd_view_free(v);
}
END_TEST

START_TEST(test_bodies) {
        char *b = NULL, *t = NULL;

        ck_assert_int_eq(etcd_range_body(NS, &b), 0);
        /* range_end: the prefix with its last byte plus one ("/" + 1 = "0") */
        char want[512];
        snprintf(want, sizeof(want), "{\"key\":\"%s\",\"range_end\":\"%s\"}", b64(NS), b64("/postgresql-common0"));
        ck_assert_str_eq(b, want);
        free(b);
        ck_assert_int_eq(etcd_watch_body(NS, 43, &b), 0);
        ck_assert_ptr_nonnull(strstr(b, "\"start_revision\":43"));
        ck_assert_ptr_nonnull(strstr(b, "{\"create_request\":{\"key\":"));
        free(b);
        ck_assert_int_eq(etcd_watch_body(NS, 0, &b), 0);
        ck_assert_ptr_null(strstr(b, "start_revision"));
        free(b);
        /* quotes and backslashes in a password are JSON-escaped */
        ck_assert_int_eq(etcd_auth_body("patroni", "p\"w\\d", &b), 0);
        ck_assert_str_eq(b, "{\"name\":\"patroni\",\"password\":\"p\\\"w\\\\d\"}");
        free(b);
        const char *tok = "{\"header\": {}, \"token\": \"abc.123\"}";
        ck_assert_int_eq(etcd_decode_token(tok, strlen(tok), &t), 0);
        ck_assert_str_eq(t, "abc.123");
        free(t);
        ck_assert_int_eq(etcd_decode_token("{\"token\": \"\"}", 13, &t), -EINVAL);
        ck_assert_int_eq(etcd_decode_token("{\"error\": \"x\"}", 14, &t), -EINVAL);
}
END_TEST

/* A member's host from conn_url: names and addresses kept, anything a host list or a file line could not carry
 * left out; a changed host is a change. */
START_TEST(test_member_host) {
        EtcdView *v = etcd_view_new(NS);
        const char *ok[][2] = { { "postgres://10.0.0.1:5432/postgres", "10.0.0.1" },
                                { "postgres://db-1.example.org:5432/postgres", "db-1.example.org" },
                                { "postgres://[fd00::1]:5432/postgres", "[fd00::1]" } };
        const char *bad[] = { "postgres://a%20b:5432/postgres", "postgres://a%2Cb:5432/postgres", "not a url",
                              "postgres://a%0Ab:5432/postgres" };
        char key[] = NS "15-main/members/m";
        char value[512];

        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                snprintf(value, sizeof(value), "{\"conn_url\": \"%s\"}", ok[i][0]);
                ck_assert_int_eq(etcd_view_apply(v, key, strlen(key), value, strlen(value)), 1);
                const EtcdScope *s = etcd_view_find(v, "15-main");
                ck_assert_str_eq(s->members[0].host, ok[i][1]);
                ck_assert_int_eq(s->members[0].port, 5432);
                /* the same again: no change */
                ck_assert_int_eq(etcd_view_apply(v, key, strlen(key), value, strlen(value)), 0);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                snprintf(value, sizeof(value), "{\"conn_url\": \"%s\"}", bad[i]);
                ck_assert_int_ge(etcd_view_apply(v, key, strlen(key), value, strlen(value)), 0);
                ck_assert_ptr_null(etcd_view_find(v, "15-main")->members[0].host);
        }
        etcd_view_free(v);
}
END_TEST

int main(void) {
        Suite *s = suite_create("etcd");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_range);
        tcase_add_test(tc, test_watch);
        tcase_add_test(tc, test_bounds);
        tcase_add_test(tc, test_bodies);
        tcase_add_test(tc, test_member_host);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
