/* SPDX-License-Identifier: GPL-2.0-or-later */
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

int main(void) {
        Suite *s = suite_create("yamlutil");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_resolver);
        tcase_add_test(tc, test_integer);
        tcase_add_test(tc, test_utf8);
        tcase_add_test(tc, test_events_roundtrip);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
