/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading a Patroni YAML: the strict check, what it claims, the bounds of the loader under hostile input. */
#include "patroniconf.h"
#include "testutil.h"
#include "yamlutil.h"

static int parse_conf(const char *text, bool strict, PatroniConf *c, char **err) {
        return patroniconf_parse(text, strlen(text), strict, c, err);
}

#define GOOD                                                                                                   \
        "scope: '15-main'\nnamespace: /pc\nname: n1\netcd3: {hosts: '127.0.0.1:2379'}\n"                       \
        "restapi: {listen: '10.0.0.5:8008', connect_address: '10.0.0.5:8008'}\n"                               \
        "postgresql: {data_dir: /d, listen: '*:5432', connect_address: '10.0.0.5:5432'}\n"

START_TEST(test_patroniconf) {
        PatroniConf c = {};
        char *err = NULL;

        ck_assert_int_eq(parse_conf(GOOD, true, &c, &err), 0);
        ck_assert_str_eq(c.scope, "15-main");
        ck_assert_str_eq(c.namespace, "/pc/");
        ck_assert_str_eq(c.dcs_type, "etcd3");
        ck_assert_int_eq(c.restapi_port, 8008);
        patroniconf_done(&c);

        ck_assert_int_eq(parse_conf("scope: x\nrestapi: {listen: '[fd00::1]:8010'}\n", false, &c, &err), 0);
        ck_assert_str_eq(c.namespace, "/service/");
        ck_assert_int_eq(c.restapi_port, 8010);
        patroniconf_done(&c);
}
END_TEST

START_TEST(test_patroniconf_errors) {
        static const struct {
                const char *text, *message;
        } cases[] = {
                { "- a\n", "line 1, column 1: the configuration must be a mapping" },
                { "", "the configuration must be a mapping" },
                { GOOD "scope: again\n", "line 7, column 1: duplicate key \"scope\"" },
                { "scope: x\nname: n\n", "\"restapi\" must be a mapping" },
                { GOOD "etcd: {host: 'a:1'}\n", "line 7, column 7: more than one DCS section (\"etcd\")" },
                { "scope: ''\n", "line 1, column 8: \"scope\" is missing or empty" },
                { "a: [\n", "line 2, column 1: did not find expected node content while parsing a flow node" },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                PatroniConf c = {};
                char *err = NULL;
                ck_assert_int_eq(parse_conf(cases[i].text, true, &c, &err), -EINVAL);
                ck_assert_msg(err && strcmp(err, cases[i].message) == 0, "case %zu: got \"%s\"", i, err);
                free(err);
        }
}
END_TEST

/* A billion laughs: 10 levels of 9 aliases to the level below. Walked once per node, not 9^10 times. */
START_TEST(test_alias_bomb) {
        char *text = NULL, *err = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);
        PatroniConf c = {};

        fprintf(f, GOOD "x0: &a0 [lol]\n");
        for (int i = 1; i <= 10; i++) {
                fprintf(f, "x%d: &a%d [", i, i);
                for (int j = 0; j < 9; j++)
                        fprintf(f, "%s*a%d", j ? ", " : "", i - 1);
                fprintf(f, "]\n");
        }
        fclose(f);
        ck_assert_int_eq(patroniconf_parse(text, size, true, &c, &err), 0);
        patroniconf_done(&c);
        free(text);

        /* past the alias bound: refused, with the place */
        f = open_memstream(&text, &size);
        fprintf(f, "a: &a x\nb: [");
        for (int j = 0; j <= YAML_MAX_ALIASES; j++)
                fprintf(f, "%s*a", j ? ", " : "");
        fprintf(f, "]\n");
        fclose(f);
        ck_assert_int_eq(patroniconf_parse(text, size, false, &c, &err), -EINVAL);
        ck_assert_ptr_nonnull(strstr(err, "more than 1000 aliases"));
        free(err);
        free(text);
}
END_TEST

START_TEST(test_deep_nesting) {
        size_t n = 200000;
        char *text = malloc(2 * n + 2), *err = NULL;
        YamlEvents e = {};
        YamlError yerr = {};
        PatroniConf c = {};

        memset(text, '[', n);
        memset(text + n, ']', n);
        text[2 * n] = '\n';
        text[2 * n + 1] = 0;
        ck_assert_int_eq(yamlutil_events_parse(text, 2 * n + 1, &e, &yerr), -EINVAL);
        ck_assert_str_eq(yerr.message, "nested more than 64 levels deep");
        ck_assert_uint_eq(yerr.column, 65);
        yamlutil_events_done(&e);
        ck_assert_int_eq(patroniconf_parse(text, 2 * n + 1, false, &c, &err), -EINVAL);
        ck_assert_str_eq(err, "line 1, column 65: nested more than 64 levels deep");
        free(err);
        free(text);
}
END_TEST

/* Duplicate keys among many: found (the second one named), and in n log n. */
START_TEST(test_many_keys) {
        char *text = NULL, *err = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);
        PatroniConf c = {};

        fprintf(f, GOOD "tags:\n");
        for (int i = 0; i < 100000; i++)
                fprintf(f, "  k%d: %d\n", i, i);
        fprintf(f, "  k5: again\n");
        fclose(f);
        ck_assert_int_eq(patroniconf_parse(text, size, true, &c, &err), -EINVAL);
        ck_assert_str_eq(err, "line 100008, column 3: duplicate key \"k5\"");
        free(err);
        free(text);
}
END_TEST

START_TEST(test_port_of) {
        ck_assert_int_eq(patroniconf_port_of("10.0.0.1:8008"), 8008);
        ck_assert_int_eq(patroniconf_port_of("[::1]:8009"), 8009);
        ck_assert_int_eq(patroniconf_port_of("fd00::1:8010"), 8010);
        ck_assert_int_eq(patroniconf_port_of("host"), -EINVAL);
        ck_assert_int_eq(patroniconf_port_of("host:99999"), -EINVAL);
        ck_assert_int_eq(patroniconf_port_of("host:"), -EINVAL);
}
END_TEST

START_TEST(test_same_cluster) {
        PatroniConf a = {}, b = {};
        char *err = NULL, what[300];

        ck_assert_int_eq(parse_conf(GOOD, true, &a, &err), 0);
        /* the same data directory under another scope and port: one cluster */
        ck_assert_int_eq(parse_conf("scope: x\npostgresql: {data_dir: /d, listen: '*:5999'}\n", false, &b, &err), 0);
        ck_assert(patroniconf_same_cluster(&a, &b, what, sizeof(what)));
        ck_assert_ptr_nonnull(strstr(what, "data directory"));
        patroniconf_done(&b);
        /* another data directory, scope and port: another cluster */
        ck_assert_int_eq(parse_conf("scope: y\nnamespace: /pc\npostgresql: {data_dir: /e, listen: '*:5998'}\n", false, &b,
                                    &err), 0);
        ck_assert(!patroniconf_same_cluster(&a, &b, what, sizeof(what)));
        patroniconf_done(&b);
        /* the same scope in the same namespace: one cluster in the DCS */
        ck_assert_int_eq(parse_conf("scope: '15-main'\nnamespace: /pc/\npostgresql: {data_dir: /f}\n", false, &b, &err), 0);
        ck_assert(patroniconf_same_cluster(&a, &b, what, sizeof(what)));
        patroniconf_done(&b);
        patroniconf_done(&a);
}
END_TEST

int main(void) {
        Suite *s = suite_create("patroniconf");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_patroniconf);
        tcase_add_test(tc, test_patroniconf_errors);
        tcase_add_test(tc, test_same_cluster);
        tcase_add_test(tc, test_port_of);
        tcase_add_test(tc, test_alias_bomb);
        tcase_add_test(tc, test_deep_nesting);
        tcase_add_test(tc, test_many_keys);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
