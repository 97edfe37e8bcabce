/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "conf.h"
#include "testutil.h"

static Settings *parse_ok(const char *text) {
        Settings *s = NULL;
        char *err = NULL;
        ck_assert_msg(settings_parse("/s.yml", text, strlen(text), &s, &err) == 0, "error: %s", err);
        return s;
}

static void parse_bad(const char *text, const char *message) {
        Settings *s = NULL;
        char *err = NULL;
        ck_assert_int_eq(settings_parse("/s.yml", text, strlen(text), &s, &err), -EINVAL);
        ck_assert_ptr_null(s);
        ck_assert_msg(err && strcmp(err, message) == 0, "got \"%s\", expected \"%s\"", err, message);
        free(err);
}

START_TEST(test_defaults) {
        Settings *s = parse_ok("# nothing set\n");
        char unit[128];

        ck_assert(s->autostart);
        ck_assert(s->reload_on_change);
        ck_assert_uint_eq(s->settle_ms, 1000);
        ck_assert_uint_eq(s->config_settle_ms, 200);
        ck_assert_int_eq(s->start_conf, START_CONF_MANUAL);
        ck_assert_ptr_null(s->template);
        ck_assert(settings_in_scope(s, "15", "main"));
        ck_assert_uint_eq(s->n_join, 0); /* join: off */
        ck_assert(s->pg_service);
        ck_assert_uint_eq(s->n_client_networks, 0);
        ck_assert(!settings_join_match(s, "15-main"));
        ck_assert_int_eq(settings_unit_name(s, "15", "my-db", unit, sizeof(unit)), 0);
        ck_assert_str_eq(unit, "patroni@15-my-db.service");
        settings_free(s);
}
END_TEST

START_TEST(test_all_keys) {
        Settings *s = parse_ok("include: ['15/*', '16/*']\n"
                               "exclude: \"*/test*\"\n"
                               "join: [\"15-*\", \"16-main\"]\n"
                               "autostart: no\n"
                               "pg_service: false\n"
                               "client_networks: [10.1.0.0/16, 'fd00:1::/64', 192.0.2.7/32]\n"
                               "reload_on_change: false\n"
                               "settle_ms: 250\n"
                               "config_settle_ms: 0\n"
                               "start_conf: keep\n"
                               "template: /etc/patroni/custom.yml.in\n"
                               "unit: patroni-%i.service\n"
                               "tls: {ca: /etc/ssl/ours/ca.pem, cert: /etc/ssl/ours/db1.pem, key: /etc/ssl/ours/db1.key}\n");
        char unit[128];

        ck_assert_uint_eq(s->n_join, 2);
        ck_assert(settings_join_match(s, "15-main"));
        ck_assert(settings_join_match(s, "16-main"));
        ck_assert(!settings_join_match(s, "16-other"));
        ck_assert_str_eq(s->tls_ca, "/etc/ssl/ours/ca.pem");
        ck_assert_str_eq(s->tls_cert, "/etc/ssl/ours/db1.pem");
        ck_assert_str_eq(s->tls_key, "/etc/ssl/ours/db1.key");

        ck_assert(!s->autostart);
        ck_assert(!s->pg_service);
        ck_assert_uint_eq(s->n_client_networks, 3);
        ck_assert_str_eq(s->client_networks[1], "fd00:1::/64");
        ck_assert(!s->reload_on_change);
        ck_assert_uint_eq(s->settle_ms, 250);
        ck_assert_uint_eq(s->config_settle_ms, 0);
        ck_assert_int_eq(s->start_conf, START_CONF_KEEP);
        ck_assert_str_eq(s->template, "/etc/patroni/custom.yml.in");
        ck_assert(settings_in_scope(s, "15", "main"));
        ck_assert(settings_in_scope(s, "16", "x"));
        ck_assert(!settings_in_scope(s, "13", "main"));
        ck_assert(!settings_in_scope(s, "15", "testing"));
        ck_assert_int_eq(settings_unit_name(s, "15", "main", unit, sizeof(unit)), 0);
        ck_assert_str_eq(unit, "patroni-15-main.service");
        settings_free(s);
}
END_TEST

START_TEST(test_errors) {
        parse_bad("autostart: maybe\n", "/s.yml:1:12: autostart: expected true or false, got \"maybe\"");
        parse_bad("autostart: 'yes'\n", "/s.yml:1:12: autostart: expected true or false, got \"yes\"");
        parse_bad("settle_ms: -5\n", "/s.yml:1:12: settle_ms: expected a number of milliseconds, got \"-5\"");
        parse_bad("settle_ms: 1s\n", "/s.yml:1:12: settle_ms: expected a number of milliseconds, got \"1s\"");
        parse_bad("settle_ms: 9999999\n", "/s.yml:1:12: settle_ms: 9999999 is out of range (0-600000)");
        parse_bad("\nsettle: 5\n",
                  "/s.yml:2:1: unknown setting \"settle\" (known: include, exclude, join, client_networks, autostart, pg_service, reload_on_change, "
                  "settle_ms, config_settle_ms, removal_settle_ms, start_conf, takeover, template, tls, unit)");
        parse_bad("start_conf: auto\n", "/s.yml:1:13: start_conf: expected manual, disabled or keep, got \"auto\"");
        parse_bad("include: {a: b}\n", "/s.yml:1:10: include: expected a list of patterns such as [\"15/*\"]");
        parse_bad("join: {a: b}\n", "/s.yml:1:7: join: expected a list of patterns such as [\"15-*\"]");
        parse_bad("join: [\"15-*\", \"\"]\n", "/s.yml:1:16: join: expected a pattern string");
        parse_bad("include: [a, [b]]\n", "/s.yml:1:14: include: expected a pattern string");
        parse_bad("client_networks: {a: b}\n", "/s.yml:1:18: client_networks: expected a list of networks such as "
                                              "[\"10.0.0.0/24\"]");
        parse_bad("client_networks: [10.0.0.0/24, 10.0.0.0]\n",
                  "/s.yml:1:32: client_networks: \"10.0.0.0\" is not a network such as 10.0.0.0/24 or fd00::/64");
        parse_bad("client_networks: [10.0.0.0/33]\n",
                  "/s.yml:1:19: client_networks: \"10.0.0.0/33\" is not a network such as 10.0.0.0/24 or fd00::/64");
        parse_bad("client_networks: ['fd00::/129']\n",
                  "/s.yml:1:19: client_networks: \"fd00::/129\" is not a network such as 10.0.0.0/24 or fd00::/64");
        parse_bad("client_networks: ['10.0.0.0/24 md5']\n",
                  "/s.yml:1:19: client_networks: \"10.0.0.0/24 md5\" is not a network such as 10.0.0.0/24 or fd00::/64");
        parse_bad("client_networks: ['10.0.0.0/+8']\n",
                  "/s.yml:1:19: client_networks: \"10.0.0.0/+8\" is not a network such as 10.0.0.0/24 or fd00::/64");
        parse_bad("client_networks: ['all']\n",
                  "/s.yml:1:19: client_networks: \"all\" is not a network such as 10.0.0.0/24 or fd00::/64");
        parse_bad("pg_service: 1\n", "/s.yml:1:13: pg_service: expected true or false, got \"1\"");
        parse_bad("unit: patroni.service\n", "/s.yml:1:7: unit: \"patroni.service\" must contain %i once and end in .service");
        parse_bad("unit: 'p@%i;rm.service'\n",
                  "/s.yml:1:7: unit: \"p@%i;rm.service\" has a character not allowed in a unit name");
        parse_bad("template: ''\n", "/s.yml:1:11: template: expected a non-empty string");
        parse_bad("autostart: [true]\n", "/s.yml:1:12: autostart: expected true or false");
        parse_bad("- a\n", "/s.yml:1:1: expected a mapping of settings (include, exclude, join, client_networks, autostart, pg_service, reload_on_change, "
                           "settle_ms, config_settle_ms, removal_settle_ms, start_conf, takeover, template, tls, unit)");
        parse_bad("autostart: true\nautostart: false\n", "/s.yml:2:1: autostart is set twice");
        parse_bad("tls: /etc/ssl\n", "/s.yml:1:6: tls: expected a mapping with ca, cert and key (file paths)");
        parse_bad("tls:\n  ca: /a\n  cert: /b\n", "/s.yml:2:3: tls: key is missing (ca, cert and key go together)");
        parse_bad("tls: {ca: /a, cert: /b, key: /c, crl: /d}\n", "/s.yml:1:34: tls: unknown key \"crl\" (known: ca, cert, key)");
        parse_bad("tls: {ca: a.pem, cert: /b, key: /c}\n", "/s.yml:1:11: tls: ca: expected an absolute file path");
        parse_bad("tls: {ca: /a, cert: /etc/../b, key: /c}\n", "/s.yml:1:21: tls: cert: expected an absolute file path");
        parse_bad("tls: {ca: /a, ca: /b, cert: /b, key: /c}\n", "/s.yml:1:15: tls: ca is set twice");
        parse_bad("tls: {ca: [/a], cert: /b, key: /c}\n", "/s.yml:1:11: tls: ca: expected an absolute file path");
        parse_bad("settle_ms: [\n", "/s.yml:2:1: did not find expected node content while parsing a flow node");
        parse_bad("a: 1\n---\nb: 2\n", "/s.yml:2:1: holds more than one YAML document");

        /* A pattern that the longest VERSION-CLUSTER (80 characters) would push past 255: refused, not cut. */
        char text[512], pat[300];
        Settings *s = NULL;
        char *err = NULL;
        memset(pat, 'p', 166);
        strcpy(pat + 166, "@%i.service"); /* 177 characters: 175 + 80 = 255 */
        snprintf(text, sizeof(text), "unit: '%s'\n", pat);
        ck_assert_int_eq(settings_parse("/s.yml", text, strlen(text), &s, &err), 0);
        settings_free(s);
        memset(pat, 'p', 167);
        strcpy(pat + 167, "@%i.service");
        snprintf(text, sizeof(text), "unit: '%s'\n", pat);
        ck_assert_int_eq(settings_parse("/s.yml", text, strlen(text), &s, &err), -EINVAL);
        ck_assert_ptr_nonnull(strstr(err, "is too long: with a VERSION-CLUSTER of 80 characters the unit name would pass "
                                          "systemd's 255"));
        free(err);
}
END_TEST

START_TEST(test_load) {
        char *root = tmp_root(), *err = NULL, path[4096];
        int rootfd = tmp_rootfd(root);
        Settings *s = NULL;

        ck_assert_int_eq(settings_load(rootfd, SETTINGS_PATH, &s, &err), 0); /* missing: defaults */
        ck_assert_ptr_null(s->path);
        settings_free(s);

        tmp_write(root, "etc/patroni/patroni-debiand.yml", "settle_ms: 10\n");
        ck_assert_int_eq(settings_load(rootfd, SETTINGS_PATH, &s, &err), 0);
        ck_assert_uint_eq(s->settle_ms, 10);
        settings_free(s);

        snprintf(path, sizeof(path), "%s/etc/patroni/link.yml", root);
        ck_assert_int_eq(symlink("patroni-debiand.yml", path), 0);
        ck_assert_int_eq(settings_load(rootfd, "/etc/patroni/link.yml", &s, &err), -ELOOP);
        ck_assert_str_eq(err, "/etc/patroni/link.yml: cannot read: is a symbolic link, not followed");
        free(err);
        close(rootfd);
        tmp_root_remove(root);
}
END_TEST

int main(void) {
        Suite *s = suite_create("conf");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_defaults);
        tcase_add_test(tc, test_all_keys);
        tcase_add_test(tc, test_errors);
        tcase_add_test(tc, test_load);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
