/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>

#include "envconf.h"
#include "join.h"
#include "testutil.h"

static Settings *settings(const char *text) {
        Settings *s = NULL;
        char *err = NULL;
        ck_assert_int_eq(settings_parse("/s.yml", text, strlen(text), &s, &err), 0);
        return s;
}

/* The rules, one row each. */
START_TEST(test_decide) {
        static const struct {
                const char *situation, *settings;
                JoinFacts f;
                JoinVerdict want;
        } rows[] = {
                { "a scope to join", "join: ['15-*']",
                  { "15-main", .has_leader = true, .binaries = true }, JOIN_YES },
                { "join: empty (the default)", "{}", { "15-main", .has_leader = true, .binaries = true }, JOIN_OFF },
                { "no glob matches", "join: ['16-*']", { "15-main", .has_leader = true, .binaries = true }, JOIN_OFF },
                { "not VERSION-CLUSTER", "join: ['*']", { "main", .has_leader = true, .binaries = true }, JOIN_BAD_NAME },
                { "a version that is not one", "join: ['*']", { "x15-main", .has_leader = true, .binaries = true },
                  JOIN_BAD_NAME },
                { "a cluster name pg-common refuses", "join: ['*']", { "15-.hidden", .has_leader = true, .binaries = true },
                  JOIN_BAD_NAME },
                { "excluded", "join: ['15-*']\nexclude: ['15/main']",
                  { "15-main", .has_leader = true, .binaries = true }, JOIN_EXCLUDED },
                { "not included", "join: ['15-*']\ninclude: ['16/*']",
                  { "15-main", .has_leader = true, .binaries = true }, JOIN_EXCLUDED },
                { "configured here already", "join: ['15-*']",
                  { "15-main", .has_leader = true, .binaries = true, .config_present = true }, JOIN_HAS_CONFIG },
                { "no leader", "join: ['15-*']", { "15-main", .binaries = true }, JOIN_NO_LEADER },
                { "PostgreSQL 15 not installed", "join: ['15-*']", { "15-main", .has_leader = true }, JOIN_NO_BINARIES },
                { "a local cluster of that name", "join: ['15-*']",
                  { "15-main", .has_leader = true, .binaries = true, .cluster_present = true }, JOIN_LOCAL_CLUSTER },
                { "a dash in the cluster name", "join: ['9.6-*']",
                  { "9.6-my-db", .has_leader = true, .binaries = true }, JOIN_YES },
        };
        unsigned wrong = 0;

        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                Settings *s = settings(rows[i].settings);
                JoinVerdict v = join_decide(s, &rows[i].f);
                if (v != rows[i].want) {
                        fprintf(stderr, "%s: got %s, expected %s\n", rows[i].situation, join_verdict_to_string(v),
                                join_verdict_to_string(rows[i].want));
                        wrong++;
                }
                settings_free(s);
        }
        ck_assert_uint_eq(wrong, 0);
}
END_TEST

START_TEST(test_split) {
        char v[32], c[64];

        ck_assert_int_eq(join_scope_split("9.6-my-db", v, sizeof(v), c, sizeof(c)), 0);
        ck_assert_str_eq(v, "9.6");
        ck_assert_str_eq(c, "my-db");
        ck_assert_int_eq(join_scope_split("15-", v, sizeof(v), c, sizeof(c)), -EINVAL);
        ck_assert_int_eq(join_scope_split("-main", v, sizeof(v), c, sizeof(c)), -EINVAL);
        ck_assert_int_eq(join_scope_split("15main", v, sizeof(v), c, sizeof(c)), -EINVAL);
        ck_assert_int_eq(join_scope_split("15-a/b", v, sizeof(v), c, sizeof(c)), -EINVAL);
}
END_TEST

START_TEST(test_watch_conf) {
        DcsConfig *dcs = NULL;
        EtcdWatchConf c;
        char *err = NULL;
        char pw[] = "PATRONI_ETCD3_PASSWORD=sekrit";
        char *env[] = { pw, NULL };

        /* etcd3 with TLS and a user: endpoints, the files below the root, the password from env.conf */
        const char *yml = "etcd3:\n  hosts: [10.0.0.1:2379, 10.0.0.2:2379]\n  protocol: https\n"
                          "  cacert: /etc/patroni/etcd-tls/ca.pem\n  cert: /etc/patroni/etcd-tls/c.pem\n"
                          "  key: /etc/patroni/etcd-tls/c.key\n  username: patroni\n";
        ck_assert_int_eq(dcs_load_from(yml, NULL, &dcs, &err), 0);
        ck_assert_int_eq(join_watch_conf(dcs, env, "/tmp/r", "/postgresql-common/", &c, &err), 0);
        ck_assert_uint_eq(c.n_endpoints, 2);
        ck_assert_str_eq(c.endpoints[0], "https://10.0.0.1:2379");
        ck_assert_str_eq(c.endpoints[1], "https://10.0.0.2:2379");
        ck_assert_str_eq(c.cacert, "/tmp/r/etc/patroni/etcd-tls/ca.pem");
        ck_assert_str_eq(c.key, "/tmp/r/etc/patroni/etcd-tls/c.key");
        ck_assert_str_eq(c.username, "patroni");
        ck_assert_str_eq(c.password, "sekrit");
        ck_assert_str_eq(c.prefix, "/postgresql-common/");
        etcdwatch_conf_done(&c);
        /* the user without its password: said */
        ck_assert_int_eq(join_watch_conf(dcs, NULL, "/", "/p/", &c, &err), -EINVAL);
        ck_assert_str_eq(err, "join: /etc/patroni/dcs.yml names the etcd user patroni, and /etc/patroni/env.conf has no "
                              "PATRONI_ETCD3_PASSWORD");
        free(err);
        dcs_config_free(dcs);

        /* only etcd3 */
        ck_assert_int_eq(dcs_load_from("consul:\n  host: 127.0.0.1:8500\n", NULL, &dcs, &err), 0);
        ck_assert_int_eq(join_watch_conf(dcs, NULL, "/", "/p/", &c, &err), -EINVAL);
        ck_assert_str_eq(err, "join: only etcd3 is supported, and /etc/patroni/dcs.yml says consul");
        free(err);
        dcs_config_free(dcs);
        ck_assert_int_eq(dcs_load_from("etcd:\n  host: 127.0.0.1:2379\n", NULL, &dcs, &err), 0);
        ck_assert_int_eq(join_watch_conf(dcs, NULL, "/", "/p/", &c, &err), -EINVAL);
        ck_assert_ptr_nonnull(strstr(err, "says etcd"));
        free(err);
        dcs_config_free(dcs);
}
END_TEST

int main(void) {
        Suite *s = suite_create("join");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_decide);
        tcase_add_test(tc, test_split);
        tcase_add_test(tc, test_watch_conf);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
