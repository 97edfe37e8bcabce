/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The secure form of a Patroni configuration: pg_hba rules one by one, then whole documents. */
#include "harden.h"
#include "macro.h"
#include "testutil.h"

START_TEST(test_hba_rules) {
        static const struct {
                const char *in, *out; /* out NULL: unchanged */
        } rows[] = {
                /* Debian's template */
                { "host    replication     all             10.0.0.0/24             md5",
                  "hostssl    replication     all             10.0.0.0/24             scram-sha-256" },
                { "host    all             all             127.0.0.1/32            md5",
                  "host    all             all             127.0.0.1/32            scram-sha-256" },
                { "host    all             all             ::1/128                 md5",
                  "host    all             all             ::1/128                 scram-sha-256" },
                { "local   all             all                                     peer", NULL },
                /* already secure */
                { "hostssl replication replicator 10.0.0.0/24 scram-sha-256", NULL },
                { "host all all 127.0.0.1/32 scram-sha-256", NULL },
                { "host all all 127.0.0.0/8 scram-sha-256", NULL },
                { "host all all localhost scram-sha-256", NULL },
                { "hostgssenc all all 0.0.0.0/0 gss", NULL },
                { "host all all 0.0.0.0/0 reject", "hostssl all all 0.0.0.0/0 reject" },
                /* the network, however it is written */
                { "host all all 0.0.0.0/0 trust", "hostssl all all 0.0.0.0/0 scram-sha-256" },
                { "host all all all password", "hostssl all all all scram-sha-256" },
                { "host all all samenet md5", "hostssl all all samenet scram-sha-256" },
                { "host all all .example.org md5", "hostssl all all .example.org scram-sha-256" },
                { "host all all db1.example.org scram-sha-256", "hostssl all all db1.example.org scram-sha-256" },
                { "host all all ::/0 md5", "hostssl all all ::/0 scram-sha-256" },
                { "host all all 127.0.0.1/0 md5", "hostssl all all 127.0.0.1/0 scram-sha-256" },
                { "host all all ::1/64 md5", "hostssl all all ::1/64 scram-sha-256" },
                { "hostnossl all all 192.0.2.0/24 scram-sha-256", "hostssl all all 192.0.2.0/24 scram-sha-256" },
                { "hostnogssenc all all 192.0.2.0/24 cert", "hostssl all all 192.0.2.0/24 cert" },
                { "host all all 192.0.2.7/32 ident", "hostssl all all 192.0.2.7/32 scram-sha-256" },
                /* a separate netmask */
                { "host all all 192.0.2.0 255.255.255.0 md5", "hostssl all all 192.0.2.0 255.255.255.0 scram-sha-256" },
                { "host all all 127.0.0.1 255.255.255.255 trust", "host all all 127.0.0.1 255.255.255.255 scram-sha-256" },
                { "host all all 127.0.0.1 0.0.0.0 trust", "hostssl all all 127.0.0.1 0.0.0.0 scram-sha-256" },
                { "host all all 127.0.0.1 255.0.255.0 trust", "hostssl all all 127.0.0.1 255.0.255.0 scram-sha-256" },
                /* loopback trust lets any local user be any role */
                { "host all postgres 127.0.0.1/32 trust", "host all postgres 127.0.0.1/32 scram-sha-256" },
                { "local all all trust", "local all all peer" },
                { "local replication all md5", NULL },
                /* options and comments are kept */
                { "host all all 10.1.0.0/16 md5 clientcert=verify-ca # office",
                  "hostssl all all 10.1.0.0/16 scram-sha-256 clientcert=verify-ca # office" },
                { "HOST all all 10.1.0.0/16 MD5", "hostssl all all 10.1.0.0/16 scram-sha-256" },
                { "host \"all users\" all 10.1.0.0/16 md5", "hostssl \"all users\" all 10.1.0.0/16 scram-sha-256" },
                /* not parsed: left to PostgreSQL */
                { "host all all", NULL },
                { "# host all all 0.0.0.0/0 trust", NULL },
                { "include_dir conf.d", NULL },
                { "", NULL },
        };
        for (size_t i = 0; i < sizeof(rows) / sizeof(*rows); i++) {
                char *out = NULL;
                int r = harden_hba_rule(rows[i].in, &out);
                ck_assert_msg(r == (rows[i].out ? 1 : 0), "row %zu \"%s\": returned %d", i, rows[i].in, r);
                ck_assert_msg(streq_ptr(out, rows[i].out), "row %zu \"%s\": got \"%s\", want \"%s\"", i, rows[i].in,
                              out ? out : "(unchanged)", rows[i].out ? rows[i].out : "(unchanged)");
                free(out);
        }
}
END_TEST

static const HardenTls TLS = { "/etc/patroni/tls/ca.pem", "/etc/patroni/tls/host.pem", "/etc/patroni/tls/host.key" };

static bool has_change(const HardenResult *r, const char *prefix) {
        for (size_t i = 0; i < r->n_changes; i++)
                if (strncmp(r->changes[i], prefix, strlen(prefix)) == 0)
                        return true;
        return false;
}

/* What Debian's template renders to, in part. */
#define DEBIAN                                                                                                 \
        "scope: \"15-main\"\nname: db1\netcd3:\n  hosts: 10.0.0.9:2379\n  password: etcd-secret\n"             \
        "restapi:\n  listen: 10.0.0.5:8008\n  connect_address: 10.0.0.5:8008\n"                                \
        "bootstrap:\n  dcs:\n    ttl: 30\n    postgresql:\n      pg_hba:\n"                                    \
        "      - local   all  all  peer\n      - host replication all 10.0.0.0/24 md5\n"                       \
        "postgresql:\n  listen: \"*:5432\"\n  authentication:\n    replication:\n      username: \"replicator\"\n" \
        "      password: \"rep-pass\"\n    superuser:\n      username: \"postgres\"\n      password:\n"        \
        "  parameters:\n    logging_collector: 'on'\n"

START_TEST(test_debian_template) {
        HardenResult r = {};
        char *err = NULL;

        ck_assert_int_eq(harden_config("/etc/patroni/15-main.yml", DEBIAN, strlen(DEBIAN), &TLS, NULL, "# head\n", &r, &err), 0);
        ck_assert_ptr_null(err);
        ck_assert(strncmp(r.text, "# head\n", 7) == 0);
        ck_assert_uint_eq(strlen(r.text), r.size);
        /* TLS everywhere, peers verified */
        ck_assert_ptr_nonnull(strstr(r.text, "  certfile: /etc/patroni/tls/host.pem\n  keyfile: /etc/patroni/tls/host.key\n"
                                             "  cafile: /etc/patroni/tls/ca.pem\n"));
        ck_assert_ptr_nonnull(strstr(r.text, "ctl:\n  cacert: /etc/patroni/tls/ca.pem\n"));
        ck_assert_ptr_nonnull(strstr(r.text, "    ssl: \"on\"\n    ssl_cert_file: /etc/patroni/tls/host.pem\n"));
        ck_assert_ptr_nonnull(strstr(r.text, "      sslmode: verify-full\n      sslrootcert: /etc/patroni/tls/ca.pem\n"));
        /* the superuser has no connection from the network to verify */
        ck_assert_ptr_null(strstr(r.text, "superuser:\n      username: \"postgres\"\n      sslmode"));
        ck_assert_ptr_nonnull(strstr(r.text, "- hostssl replication all 10.0.0.0/24 scram-sha-256\n"));
        ck_assert_ptr_nonnull(strstr(r.text, "logging_collector: 'on'"));
        /* no secret left, each handed back once, none in a change line */
        ck_assert_ptr_null(strstr(r.text, "rep-pass"));
        ck_assert_ptr_null(strstr(r.text, "etcd-secret"));
        ck_assert_ptr_null(strstr(r.text, "password"));
        ck_assert_uint_eq(r.n_secrets, 3);
        ck_assert_str_eq(r.secrets[0].key, "PATRONI_REPLICATION_PASSWORD");
        ck_assert_str_eq(r.secrets[0].value, "rep-pass");
        ck_assert_str_eq(r.secrets[1].key, "PATRONI_ETCD3_PASSWORD");
        ck_assert_str_eq(r.secrets[1].value, "etcd-secret");
        /* without it Patroni 3.0.2 would not apply the password */
        ck_assert_str_eq(r.secrets[2].key, "PATRONI_ETCD3_PROTOCOL");
        ck_assert_str_eq(r.secrets[2].value, "http");
        for (size_t i = 0; i < r.n_changes; i++)
                ck_assert_msg(!strstr(r.changes[i], "rep-pass") && !strstr(r.changes[i], "etcd-secret"), "%s",
                              r.changes[i]);
        ck_assert(has_change(&r, "postgresql.authentication.superuser.password: taken out"));
        ck_assert(has_change(&r, "bootstrap.dcs.postgresql.pg_hba: \"host replication all 10.0.0.0/24 md5\" -> "));
        ck_assert(has_change(&r, "restapi.certfile: set to /etc/patroni/tls/host.pem"));

        /* Hardening its own output changes nothing more. */
        HardenResult again = {};
        ck_assert_int_eq(harden_config("x", r.text, r.size, &TLS, NULL, NULL, &again, &err), 0);
        ck_assert_uint_eq(again.n_changes, 0);
        ck_assert_uint_eq(again.n_secrets, 0);
        harden_result_done(&again);
        harden_result_done(&r);
}
END_TEST

/* client_networks: a hostssl rule each at the end of postgresql.pg_hba, once; one there already (however
 * spaced) is not added again; without postgresql.pg_hba (the DCS's rules apply) nothing is added. */
START_TEST(test_client_networks) {
        static const char text[] = "postgresql:\n  pg_hba:\n  - local all all peer\n"
                                   "  - hostssl  all   all  10.2.0.0/16   scram-sha-256\n";
        char n1[] = "10.1.0.0/16", n2[] = "10.2.0.0/16", n3[] = "fd00::/64";
        char *nets[] = { n1, n2, n3 };
        HardenClients clients = { nets, 3 };
        HardenResult r = {}, again = {};
        char *err = NULL;

        ck_assert_int_eq(harden_config("p", text, strlen(text), &TLS, &clients, NULL, &r, &err), 0);
        ck_assert(has_change(&r, "postgresql.pg_hba: \"hostssl all all 10.1.0.0/16 scram-sha-256\" added (client_networks)"));
        ck_assert(has_change(&r, "postgresql.pg_hba: \"hostssl all all fd00::/64 scram-sha-256\" added (client_networks)"));
        for (size_t i = 0; i < r.n_changes; i++)
                ck_assert_ptr_null(strstr(r.changes[i], "10.2.0.0/16"));
        ck_assert_ptr_nonnull(strstr(r.text, "- hostssl  all   all  10.2.0.0/16   scram-sha-256\n"
                                             "  - hostssl all all 10.1.0.0/16 scram-sha-256\n"
                                             "  - hostssl all all fd00::/64 scram-sha-256\n"));
        ck_assert_int_eq(harden_config("p", r.text, r.size, &TLS, &clients, NULL, &again, &err), 0);
        ck_assert_uint_eq(again.n_changes, 0);
        harden_result_done(&again);
        harden_result_done(&r);

        static const char none[] = "postgresql:\n  listen: 10.0.0.5:5432\n";
        ck_assert_int_eq(harden_config("p", none, strlen(none), &TLS, &clients, NULL, &r, &err), 0);
        for (size_t i = 0; i < r.n_changes; i++)
                ck_assert_ptr_null(strstr(r.changes[i], "client_networks"));
        ck_assert_ptr_null(strstr(r.text, "pg_hba"));
        harden_result_done(&r);
}
END_TEST

/* One pg_hba list under an anchor, used twice: rewritten once, still shared. */
START_TEST(test_aliases_and_replacements) {
        static const char text[] =
                "restapi:\n  listen: 10.0.0.5:8008\n  certfile: /etc/ssl/certs/ssl-cert-snakeoil.pem\n"
                "ctl:\n  insecure: true\n  authentication:\n    username: u\n    password: p\n"
                "bootstrap:\n  pg_hba: &hba\n  - host all all 0.0.0.0/0 md5\n"
                "postgresql:\n  pg_hba: *hba\n  parameters:\n    ssl: 'off'\n"
                "  authentication:\n    rewind: {username: rewind, sslmode: require}\n";
        HardenResult r = {};
        char *err = NULL;

        ck_assert_int_eq(harden_config("p", text, strlen(text), &TLS, NULL, NULL, &r, &err), 0);
        ck_assert(has_change(&r, "restapi.certfile: /etc/ssl/certs/ssl-cert-snakeoil.pem -> /etc/patroni/tls/host.pem"));
        ck_assert(has_change(&r, "ctl.insecure: taken out"));
        ck_assert(has_change(&r, "postgresql.parameters.ssl: off -> on"));
        ck_assert(has_change(&r, "postgresql.authentication.rewind.sslmode: require -> verify-full"));
        ck_assert(has_change(&r, "postgresql.pg_hba: \"host all all 0.0.0.0/0 md5\" -> \"hostssl all all 0.0.0.0/0 scram-sha-256\""));
        ck_assert(!has_change(&r, "bootstrap.pg_hba:")); /* the same node */
        ck_assert_ptr_null(strstr(r.text, "insecure"));
        ck_assert_ptr_null(strstr(r.text, "authentication:\n    username"));
        ck_assert_uint_eq(r.n_secrets, 2);
        ck_assert_str_eq(r.secrets[0].key, "PATRONI_RESTAPI_USERNAME");
        ck_assert_ptr_nonnull(strstr(r.text, "pg_hba: &id001\n"));
        ck_assert_ptr_nonnull(strstr(r.text, "pg_hba: *id001\n"));
        harden_result_done(&r);
}
END_TEST

START_TEST(test_errors) {
        static const struct {
                const char *text, *message;
        } cases[] = {
                { "- a\n", "f.yml: line 1, column 1: not a YAML mapping" },
                { "restapi: [a]\n", "f.yml: line 1, column 10: restapi is not a mapping" },
                { "postgresql:\n  parameters: 3\n", "f.yml: line 2, column 15: postgresql.parameters is not a mapping" },
                { "restapi: {}\npostgresql:\n  pg_hba: x\n", "f.yml: line 3, column 11: postgresql.pg_hba is not a list" },
                { "restapi: {}\npostgresql:\n  pg_hba: [[a]]\n", "f.yml: line 3, column 12: postgresql.pg_hba: a rule is not a string" },
                { "postgresql:\n  authentication:\n    superuser: {password: [x]}\n",
                  "f.yml: line 3, column 27: postgresql.authentication.superuser.password is not a string" },
                { "a: [\n", "f.yml: line 2, column 1: did not find expected node content while parsing a flow node" },
                /* Patroni (PyYAML) reads the last of two: what is changed might not be what it reads */
                { "postgresql:\n  authentication:\n    replication: {sslmode: verify-full, sslmode: disable}\n",
                  "f.yml: line 3, column 41: duplicate key \"sslmode\": Patroni would read only the last; keep one" },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                HardenResult r = {};
                char *err = NULL;
                ck_assert_int_eq(harden_config("f.yml", cases[i].text, strlen(cases[i].text), &TLS, NULL, NULL, &r, &err),
                                 -EINVAL);
                ck_assert_msg(err && strcmp(err, cases[i].message) == 0, "case %zu: got \"%s\"", i, err);
                ck_assert_ptr_null(r.text);
                free(err);
        }
}
END_TEST

int main(void) {
        Suite *s = suite_create("harden");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_hba_rules);
        tcase_add_test(tc, test_debian_template);
        tcase_add_test(tc, test_aliases_and_replacements);
        tcase_add_test(tc, test_errors);
        tcase_add_test(tc, test_client_networks);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
