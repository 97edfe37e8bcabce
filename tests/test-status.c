/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "status.h"
#include "testutil.h"

static const char *member(const char *body) {
        static char buf[64];
        if (status_member_from_json(body, buf, sizeof(buf)) < 0)
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

START_TEST(test_print) {
        StatusRow rows[2] = {
                { .version = "15", .cluster = "main", .port = 5432, .config = "generated", .unit = "active",
                  .patroni = "Leader running" },
                { .version = "15", .cluster = "x\"y", .port = 0, .config = "none", .unit = "-", .patroni = "-" },
        };
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        status_print_json(f, rows, 2);
        fclose(f);
        ck_assert_str_eq(buf, "[{\"version\": \"15\", \"cluster\": \"main\", \"port\": 5432, \"config\": \"generated\", "
                              "\"unit\": \"active\", \"patroni\": \"Leader running\"},\n"
                              " {\"version\": \"15\", \"cluster\": \"x\\\"y\", \"port\": null, \"config\": \"none\", "
                              "\"unit\": null, \"patroni\": null}]\n");
        free(buf);
        f = open_memstream(&buf, &size);
        status_print_table(f, rows, 2);
        fclose(f);
        ck_assert_str_eq(buf, "Ver Cluster Port  Config    Unit   Patroni\n"
                              "15  main    5432  generated active Leader running\n"
                              "15  x\"y     -     none      -      -\n");
        free(buf);

        /* What a member answered is anyone's text: C0, DEL and C1 controls are escaped in the table. */
        StatusRow evil = { .version = "15", .cluster = "e", .config = "admin", .unit = "-",
                           .patroni = "Leader\x1b[2J\r\n15 main\x7f\xc2\x9b" "1m ok \xc3\xa9" };
        f = open_memstream(&buf, &size);
        status_print_table(f, &evil, 1);
        fclose(f);
        ck_assert_str_eq(buf, "Ver Cluster Port  Config Unit Patroni\n"
                              "15  e       -     admin  -    Leader\\x1b[2J\\x0d\\x0a15 main\\x7f\\x9b" "1m ok \xc3\xa9\n");
        free(buf);
}
END_TEST

int main(void) {
        Suite *s = suite_create("status");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_member);
        tcase_add_test(tc, test_print);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
