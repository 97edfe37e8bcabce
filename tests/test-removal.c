/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <sys/stat.h>

#include "removal.h"
#include "testutil.h"

START_TEST(test_remember_recall_forget) {
        char *root = tmp_root(), path[4096];
        int rootfd = tmp_rootfd(root);
        uint64_t sig = 0;
        struct stat st;

        ck_assert_int_eq(removal_recall(rootfd, "15", "main", &sig), 0);
        ck_assert_int_eq(removal_forget(rootfd, "15", "main"), 0); /* nothing to forget: fine */
        ck_assert_int_eq(removal_remember(rootfd, "15", "my-db", 0xfedcba9876543210ULL), 0);
        ck_assert_int_eq(removal_recall(rootfd, "15", "my-db", &sig), 1);
        ck_assert(sig == 0xfedcba9876543210ULL);
        snprintf(path, sizeof(path), "%s" REMOVAL_DIR "/15-my-db", root);
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0600);
        snprintf(path, sizeof(path), "%s" REMOVAL_DIR, root);
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0700);

        ck_assert_int_eq(removal_remember(rootfd, "15", "my-db", 7), 0); /* replaced */
        ck_assert_int_eq(removal_recall(rootfd, "15", "my-db", &sig), 1);
        ck_assert(sig == 7);
        ck_assert_int_eq(removal_forget(rootfd, "15", "my-db"), 0);
        ck_assert_int_eq(removal_recall(rootfd, "15", "my-db", &sig), 0);

        /* garbage holds nothing back */
        tmp_write(root, "var/lib/patroni-debiand/removed/15-x", "not a number\n");
        ck_assert_int_eq(removal_recall(rootfd, "15", "x", &sig), 0);
        close(rootfd);
        tmp_root_remove(root);
}
END_TEST

int main(void) {
        Suite *s = suite_create("removal");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_remember_recall_forget);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
