/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "takeover.h"
#include "testutil.h"

#define MARK "var/lib/patroni-debiand/takeover/15-main"

static const TakeoverParams params = { .version = "15", .cluster = "main", .patroni_unit = "patroni@15-main.service",
                                       .start_conf = START_CONF_MANUAL, .port = 5433 };

START_TEST(test_has_data) {
        char *root = tmp_root();
        int rootfd = tmp_rootfd(root);
        PgCluster c = { .data_directory = (char *) "/var/lib/postgresql/15/main" };

        ck_assert(!takeover_cluster_has_data(rootfd, &c)); /* no directory */
        tmp_mkdirs(root, "var/lib/postgresql/15/main");
        ck_assert(!takeover_cluster_has_data(rootfd, &c)); /* empty: a new cluster, Patroni bootstraps it */
        tmp_write(root, "var/lib/postgresql/15/main/PG_VERSION", "15\n");
        ck_assert(takeover_cluster_has_data(rootfd, &c));
        /* PG_VERSION as a symlink (the postgres user's directory): counted as data, never followed */
        char link[4200];
        snprintf(link, sizeof(link), "%s/var/lib/postgresql/15/main/PG_VERSION", root);
        ck_assert_int_eq(unlink(link), 0);
        ck_assert_int_eq(symlink("/etc/shadow", link), 0);
        ck_assert(takeover_cluster_has_data(rootfd, &c));
        /* no data directory known, or a relative one: false */
        c.data_directory = NULL;
        ck_assert(!takeover_cluster_has_data(rootfd, &c));
        c.data_directory = (char *) "var/lib/postgresql/15/main";
        ck_assert(!takeover_cluster_has_data(rootfd, &c));
        close(rootfd);
        tmp_root_remove(root);
}
END_TEST

START_TEST(test_mark_contract) {
        char *root = tmp_root(), *text, step[40], path[4200];
        int rootfd = tmp_rootfd(root);
        struct stat st;

        ck_assert(!takeover_pending(rootfd, "15", "main"));
        ck_assert_int_eq(takeover_mark(rootfd, &params), 0);
        ck_assert(takeover_pending(rootfd, "15", "main"));
        text = tmp_read(root, MARK);
        ck_assert_ptr_nonnull(strstr(text, "\nTAKEOVER_VERSION=15\nTAKEOVER_NAME=main\n"
                                           "TAKEOVER_PATRONI_UNIT=patroni@15-main.service\nTAKEOVER_START_CONF=manual\n"
                                           "TAKEOVER_PORT=5433\nTAKEOVER_CONFIG=/etc/patroni/15-main.yml\n"));
        ck_assert_ptr_null(strstr(text, "TAKEOVER_STEP"));
        free(text);
        snprintf(path, sizeof(path), "%s/" MARK, root);
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0600);

        /* The helper records a step; the daemon's next write (new settings) keeps it. */
        tmp_write(root, MARK, "TAKEOVER_VERSION=15\nTAKEOVER_STEP=start-conf\n");
        ck_assert_int_eq(takeover_step(rootfd, "15", "main", step, sizeof(step)), 0);
        ck_assert_str_eq(step, "start-conf");
        TakeoverParams p = params;
        p.start_conf = START_CONF_KEEP;
        p.patroni_unit = "pat@15-main.service";
        ck_assert_int_eq(takeover_mark(rootfd, &p), 0);
        text = tmp_read(root, MARK);
        ck_assert_ptr_nonnull(strstr(text, "TAKEOVER_PATRONI_UNIT=pat@15-main.service\nTAKEOVER_START_CONF=keep\n"));
        ck_assert_ptr_nonnull(strstr(text, "\nTAKEOVER_STEP=start-conf\n"));
        free(text);

        /* A step line that is not a step name is not carried over (nothing but a-z and dashes reaches systemd). */
        tmp_write(root, MARK, "TAKEOVER_STEP=roles\nEVIL=1\nTAKEOVER_STEP=x;rm -rf /\n");
        ck_assert_int_eq(takeover_step(rootfd, "15", "main", step, sizeof(step)), 0);
        ck_assert_str_eq(step, "roles");
        ck_assert_int_eq(takeover_mark(rootfd, &params), 0);
        text = tmp_read(root, MARK);
        ck_assert_ptr_null(strstr(text, "EVIL"));
        ck_assert_ptr_null(strstr(text, "rm -rf"));
        free(text);
        close(rootfd);
        tmp_root_remove(root);
}
END_TEST

START_TEST(test_mark_if_data) {
        char *root = tmp_root(), *error = NULL;
        int rootfd = tmp_rootfd(root);
        PgCluster c = { .data_directory = (char *) "/var/lib/postgresql/15/main" };

        ck_assert_int_eq(takeover_mark_if_data(rootfd, &c, &params, &error), 0);
        ck_assert(!takeover_pending(rootfd, "15", "main"));
        tmp_write(root, "var/lib/postgresql/15/main/PG_VERSION", "15\n");
        ck_assert_int_eq(takeover_mark_if_data(rootfd, &c, &params, &error), 1);
        ck_assert(takeover_pending(rootfd, "15", "main"));

        /* The state directory cannot be made (a file in its way): -errno and a message naming the file. */
        char *root2 = tmp_root();
        int rootfd2 = tmp_rootfd(root2);
        tmp_write(root2, "var/lib/postgresql/15/main/PG_VERSION", "15\n");
        tmp_write(root2, "var/lib/patroni-debiand", "a file, not a directory");
        ck_assert_int_lt(takeover_mark_if_data(rootfd2, &c, &params, &error), 0);
        ck_assert_ptr_nonnull(error);
        ck_assert_ptr_nonnull(strstr(error, "cannot write /var/lib/patroni-debiand/takeover/15-main: "));
        free(error);
        close(rootfd2);
        tmp_root_remove(root2);
        close(rootfd);
        tmp_root_remove(root);
}
END_TEST

START_TEST(test_unit_name) {
        char buf[64];

        ck_assert_int_eq(takeover_unit_name("15", "my-db", buf, sizeof(buf)), 0);
        ck_assert_str_eq(buf, "patroni-debiand-takeover@15-my-db.service");
        ck_assert_int_eq(takeover_unit_name("15", "a-very-long-cluster-name-that-does-not-fit", buf, 40),
                         -ENAMETOOLONG);
}
END_TEST

int main(void) {
        Suite *s = suite_create("takeover");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_has_data);
        tcase_add_test(tc, test_mark_contract);
        tcase_add_test(tc, test_mark_if_data);
        tcase_add_test(tc, test_unit_name);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
