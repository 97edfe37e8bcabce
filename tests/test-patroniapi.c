/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "patroniapi.h"
#include "testutil.h"

/* The member parser; patroniapi_probe is exercised against a real Patroni in tests/system. */

static const char *member(const char *body) {
        static char buf[64];
        if (patroniapi_member_from_json(body, buf, sizeof(buf)) < 0)
                return "(invalid)";
        return buf;
}

START_TEST(test_member) {
        /* Patroni 3.0.2's /patroni of a primary: a nested "state" in "replication" must not win. */
        ck_assert_str_eq(member("{\"state\": \"running\", \"postmaster_start_time\": \"2026-11-26 09:00:00\", "
                                "\"role\": \"master\", \"server_version\": 150005, \"xlog\": {\"location\": 67}, "
                                "\"timeline\": 1, \"replication\": [{\"usename\": \"replicator\", \"state\": "
                                "\"streaming\", \"sync_state\": \"async\"}], \"patroni\": {\"version\": \"3.0.2\"}}"),
                         "Leader running");
        ck_assert_str_eq(member("{\"role\":\"replica\",\"state\":\"running\",\"replication_state\":\"streaming\"}"),
                         "Replica streaming");
        ck_assert_str_eq(member("{\"role\": \"replica\", \"state\": \"starting\"}"), "Replica starting");
        ck_assert_str_eq(member("{\"role\": \"primary\", \"state\": \"running\"}"), "Leader running");
        ck_assert_str_eq(member("{\"role\": \"standby_leader\", \"state\": \"running\"}"), "Standby Leader running");
        ck_assert_str_eq(member(" {\"x\": [1, {\"a\": \"}\"}], \"role\": \"replica\", \"state\": \"stopped\"} "),
                         "Replica stopped");
        ck_assert_str_eq(member("{\"role\": \"rep\\\"lica\", \"state\": \"running\"}"), "rep\"lica running");
        ck_assert_str_eq(member(""), "(invalid)");
        ck_assert_str_eq(member("[]"), "(invalid)");
        ck_assert_str_eq(member("{\"role\": \"master\"}"), "(invalid)");
        ck_assert_str_eq(member("{\"role\": \"master\", \"state\": "), "(invalid)");
        ck_assert_str_eq(member("{\"role\": \"master\" \"state\": \"running\"}"), "(invalid)");
        ck_assert_str_eq(member("{\"role\": \"mas"), "(invalid)");
        ck_assert_str_eq(member("<html>502 Bad Gateway</html>"), "(invalid)");
}
END_TEST

int main(void) {
        Suite *s = suite_create("patroniapi");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_member);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
