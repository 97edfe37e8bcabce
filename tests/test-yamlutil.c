/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "patroniconf.h"
#include "testutil.h"
#include "yamlutil.h"

START_TEST(test_resolver) {
        static const char *const not_strings[] = { "",      "~",     "null",  "Null", "true", "False", "on",
                                                   "OFF",   "yes",   "n",     "Y",    "8008", "-1",    "0x1F",
                                                   "017",   "0o17",  "1_000", "1:30", "1.5",  ".5",    "1e3",
                                                   ".inf",  "-.Inf", ".nan",  "<<",   "=",    "2024-01-31",
                                                   "2001-12-14t21:59:43.10-05:00", "190:20:30.15", "0b101" };
        static const char *const strings[] = { "main",      "15-main",      "vm",         "10.0.0.5:8008",
                                               "fd00::1:5432", "/var/lib/pg", "node1",     "yes please",
                                               "1.2.3.4",   "15a",          "on-call",    "nullable",
                                               "127.0.0.1", "1:70",         "0x",         "a: b" };
        YamlResolver r;

        ck_assert_int_eq(yamlutil_resolver_init(&r), 0);
        for (size_t i = 0; i < sizeof(not_strings) / sizeof(*not_strings); i++)
                ck_assert_msg(!yamlutil_resolver_plain_is_string(&r, not_strings[i]), "\"%s\" taken as a string",
                              not_strings[i]);
        for (size_t i = 0; i < sizeof(strings) / sizeof(*strings); i++)
                ck_assert_msg(yamlutil_resolver_plain_is_string(&r, strings[i]), "\"%s\" not taken as a string",
                              strings[i]);
        yamlutil_resolver_done(&r);
}
END_TEST

START_TEST(test_integer) {
        ck_assert(yamlutil_is_integer("5432"));
        ck_assert(yamlutil_is_integer("0"));
        ck_assert(!yamlutil_is_integer("05432"));
        ck_assert(!yamlutil_is_integer(""));
        ck_assert(!yamlutil_is_integer("54a"));
}
END_TEST

START_TEST(test_utf8) {
        ck_assert(yamlutil_utf8_valid("plain ascii"));
        ck_assert(yamlutil_utf8_valid("ünïcødé €  \xf0\x9f\x98\x80"));
        ck_assert(!yamlutil_utf8_valid("\xf6\xb9\xb9\xb9")); /* above U+10FFFF: found by fuzzing the renderer */
        ck_assert(!yamlutil_utf8_valid("\xc0\xaf"));         /* overlong '/' */
        ck_assert(!yamlutil_utf8_valid("\xed\xa0\x80"));     /* a surrogate */
        ck_assert(!yamlutil_utf8_valid("\xe2\x82"));          /* truncated */
        ck_assert(!yamlutil_utf8_valid("\x80"));               /* a lone continuation byte */
}
END_TEST

START_TEST(test_events_roundtrip) {
        const char *text = "a: 1\nb: [x, \"y: z\"]\nc: {d: e}\n";
        YamlEvents e = {};
        YamlError err = {};
        char *out = NULL;

        ck_assert_int_eq(yamlutil_events_parse(text, strlen(text), &e, &err), 0);
        ck_assert_uint_eq(e.n, 18);
        ck_assert_uint_eq(yamlutil_events_node_end(&e, 2), 15); /* the top mapping */
        ck_assert_int_eq(yamlutil_events_emit(e.ev, e.n, &out, NULL), 0);
        ck_assert_str_eq(out, "a: 1\nb: [x, \"y: z\"]\nc: {d: e}\n");
        free(out);
        yamlutil_events_done(&e);

        ck_assert_int_eq(yamlutil_events_parse("a: [\n", 5, &e, &err), -EINVAL);
        ck_assert_uint_eq(err.line, 2);
        yamlutil_events_done(&e);
}
END_TEST

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

int main(void) {
        Suite *s = suite_create("yamlutil");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_resolver);
        tcase_add_test(tc, test_integer);
        tcase_add_test(tc, test_utf8);
        tcase_add_test(tc, test_events_roundtrip);
        tcase_add_test(tc, test_patroniconf);
        tcase_add_test(tc, test_patroniconf_errors);
        tcase_add_test(tc, test_port_of);
        tcase_add_test(tc, test_alias_bomb);
        tcase_add_test(tc, test_deep_nesting);
        tcase_add_test(tc, test_many_keys);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
