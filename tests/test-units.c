/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The unit interface and its dry-run backend; the D-Bus backend is tests/test-bus.c. */
#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"
#include "units.h"

START_TEST(test_dry_run) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        UnitBackend *b = units_dry_run_new(f);

        ck_assert_ptr_nonnull(b);
        ck_assert_int_eq(units_request(b, UNIT_START, "patroni@15-main.service", "15/main"), 0);
        ck_assert_int_eq(units_request(b, UNIT_RELOAD, "patroni@15-main.service", "15/main"), 0);
        ck_assert_int_eq(units_request(b, UNIT_STOP, "pat@16-my-db.service", "16/my-db"), 0);
        /* a dry run knows no unit's state: the decision treats it as unknown, never as stopped */
        ck_assert_int_eq(units_state(b, "patroni@15-main.service"), UNIT_STATE_UNKNOWN);
        ck_assert_ptr_null(units_free(b));
        fclose(f);
        ck_assert_str_eq(buf, "dry-run: start patroni@15-main.service 15/main\n"
                              "dry-run: reload patroni@15-main.service 15/main\n"
                              "dry-run: stop pat@16-my-db.service 16/my-db\n");
        free(buf);
}
END_TEST

START_TEST(test_dry_run_write_error) {
        /* Where the line cannot be written (a full disk), the request fails: the caller says so and retries. */
        FILE *f = fopen("/dev/full", "we");
        UnitBackend *b;

        if (!f)
                return; /* no /dev/full in this sandbox: nothing to test against */
        b = units_dry_run_new(f);
        ck_assert_int_eq(units_request(b, UNIT_START, "patroni@15-main.service", "15/main"), -EIO);
        units_free(b);
        fclose(f);
}
END_TEST

START_TEST(test_names) {
        ck_assert_str_eq(unit_verb_to_string(UNIT_START), "start");
        ck_assert_str_eq(unit_verb_to_string(UNIT_STOP), "stop");
        ck_assert_str_eq(unit_verb_to_string(UNIT_RELOAD), "reload");
        ck_assert_ptr_null(units_free(NULL));
}
END_TEST

int main(void) {
        Suite *s = suite_create("units");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_dry_run);
        tcase_add_test(tc, test_dry_run_write_error);
        tcase_add_test(tc, test_names);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
