/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The stderr target, levels and the parsers; the journal target's fields are checked on a real journal in
 * tests/system. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "testutil.h"

/* What FN logs on stderr, as one string. */
static char *captured(void (*fn)(void)) {
        char *root = tmp_root(), path[4096], *out;
        int saved = dup(STDERR_FILENO), fd;

        snprintf(path, sizeof(path), "%s/err", root);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        fflush(stderr);
        dup2(fd, STDERR_FILENO);
        close(fd);
        fn();
        fflush(stderr);
        dup2(saved, STDERR_FILENO);
        close(saved);
        out = tmp_read(root, "err");
        tmp_root_remove(root);
        return out;
}

static void some_lines(void) {
        log_setup("prog", LOG_TARGET_STDERR);
        log_set_max_level(LOG_INFO);
        ck_assert_int_eq(log_error_errno(-ENOENT, "Cannot open %s: %m", "/x"), -ENOENT);
        ck_assert_int_eq(log_error_errno(ENOENT, "positive errno too: %m"), -ENOENT);
        ck_assert_int_eq(log_warning("a warning"), 0);
        log_fields(LOG_NOTICE, 0, &((LogFields){ .cluster = "15/main", .unit = "patroni@15-main.service" }),
                   "fields are for the journal only");
        log_info("info");
        log_debug("debug is below the level: not shown");
        log_set_max_level(LOG_DEBUG);
        log_debug("now it is");
}

START_TEST(test_stderr) {
        char *out = captured(some_lines);

        ck_assert_str_eq(out, "prog: error: Cannot open /x: No such file or directory\n"
                              "prog: error: positive errno too: No such file or directory\n"
                              "prog: warning: a warning\n"
                              "prog: fields are for the journal only\n"
                              "prog: info\n"
                              "prog: now it is\n");
        free(out);
        ck_assert_int_eq(log_get_max_level(), LOG_DEBUG);
        ck_assert_int_eq(log_get_target(), LOG_TARGET_STDERR);
}
END_TEST

static void long_line(void) {
        char big[5000];

        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        log_setup("prog", LOG_TARGET_STDERR);
        log_info("%s", big);
}

START_TEST(test_long_line_cut) {
        /* A message is cut to 2 KiB, never overflowing (a hostile file name can be long). */
        char *out = captured(long_line);
        ck_assert_uint_eq(strlen(out), strlen("prog: ") + 2047 + 1);
        free(out);
}
END_TEST

START_TEST(test_auto_target) {
        /* Without JOURNAL_STREAM naming our stderr, AUTO is stderr. */
        unsetenv("JOURNAL_STREAM");
        log_setup("prog", LOG_TARGET_AUTO);
        ck_assert_int_eq(log_get_target(), LOG_TARGET_STDERR);
        setenv("JOURNAL_STREAM", "1:2", 1); /* another stream */
        log_setup("prog", LOG_TARGET_AUTO);
        ck_assert_int_eq(log_get_target(), LOG_TARGET_STDERR);
        unsetenv("JOURNAL_STREAM");
}
END_TEST

START_TEST(test_parsers) {
        ck_assert_int_eq(log_level_from_string("debug"), LOG_DEBUG);
        ck_assert_int_eq(log_level_from_string("err"), LOG_ERR);
        ck_assert_int_eq(log_level_from_string("error"), LOG_ERR);
        ck_assert_int_eq(log_level_from_string("warn"), LOG_WARNING);
        ck_assert_int_eq(log_level_from_string("5"), LOG_NOTICE);
        ck_assert_int_eq(log_level_from_string("8"), -EINVAL);
        ck_assert_int_eq(log_level_from_string("verbose"), -EINVAL);
        ck_assert_int_eq(log_target_from_string("journal"), LOG_TARGET_JOURNAL);
        ck_assert_int_eq(log_target_from_string("stderr"), LOG_TARGET_STDERR);
        ck_assert_int_eq(log_target_from_string("auto"), LOG_TARGET_AUTO);
        ck_assert_int_eq(log_target_from_string("syslog"), -EINVAL);
}
END_TEST

int main(void) {
        Suite *s = suite_create("log");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_stderr);
        tcase_add_test(tc, test_long_line_cut);
        tcase_add_test(tc, test_auto_target);
        tcase_add_test(tc, test_parsers);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
