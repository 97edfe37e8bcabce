/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "patroniapi.h"
#include "testutil.h"

/* The member parser; patroniapi_probe is exercised against a real Patroni in tests/system. */

static const char *member(const char *body) {
        static char buf[64];
        if (patroniapi_member_from_json(body, strlen(body), buf, sizeof(buf)) < 0)
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
        /* \u escapes are read as what they stand for */
        ck_assert_str_eq(member("{\"role\": \"r\\u00e9plica\", \"state\": \"running\"}"), "r\xc3\xa9plica running");
        ck_assert_str_eq(member("{\"role\": \"replica\", \"state\": \"running\"} trailing"), "(invalid)");
        ck_assert_str_eq(member("{\"role\": 1, \"state\": \"running\"}"), "(invalid)");
        /* deeper than any answer of Patroni's: refused, not walked */
        char deep[200] = "{\"role\": \"replica\", \"state\": \"running\", \"x\": ";
        for (int i = 0; i < 40; i++)
                strcat(deep, "[");
        ck_assert_str_eq(member(deep), "(invalid)");
}
END_TEST

START_TEST(test_url) {
        static const struct {
                const char *address;
                bool tls;
                const char *url; /* NULL: refused */
        } rows[] = {
                { "10.0.0.5:8008", true, "https://10.0.0.5:8008/patroni" },
                { "10.0.0.5:8008", false, "http://10.0.0.5:8008/patroni" },
                { "*:8008", true, "https://127.0.0.1:8008/patroni" },
                { "0.0.0.0:8008", true, "https://127.0.0.1:8008/patroni" },
                { "[fd00::5]:8010", true, "https://[fd00::5]:8010/patroni" },
                { "[::]:8010", false, "http://[::1]:8010/patroni" },
                { "db1.example.org:8008", true, "https://db1.example.org:8008/patroni" },
                { "10.0.0.5", true, NULL },
                { "10.0.0.5:0", true, NULL },
                { "10.0.0.5:99999", true, NULL },
                { "user@10.0.0.5:8008", true, NULL },
                { "10.0.0.5/x:8008", true, NULL },
                { "", true, NULL },
        };
        for (size_t i = 0; i < sizeof(rows) / sizeof(*rows); i++) {
                char url[400];
                int r = patroniapi_url(rows[i].address, rows[i].tls, url, sizeof(url));
                if (!rows[i].url)
                        ck_assert_msg(r == -EINVAL, "row %zu (%s): accepted as %s", i, rows[i].address, url);
                else {
                        ck_assert_msg(r == 0, "row %zu (%s): refused", i, rows[i].address);
                        ck_assert_str_eq(url, rows[i].url);
                }
        }
}
END_TEST

/* Nothing listens: each probe says why, within the deadline. */
START_TEST(test_probe_unreachable) {
        ApiProbe p[] = { { .address = "127.0.0.1:1", .tls = true }, { .address = "nonsense" }, { .address = "" } };
        patroniapi_probe(p, 3, 2000);
        ck_assert_str_eq(p[0].state, "");
        ck_assert_msg(p[0].error[0], "no reason given");
        ck_assert_str_eq(p[1].error, "not an address: nonsense");
        ck_assert_str_eq(p[2].error, "");
}
END_TEST

int main(void) {
        Suite *s = suite_create("patroniapi");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_member);
        tcase_add_test(tc, test_url);
        tcase_add_test(tc, test_probe_unreachable);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
