/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "pgcommon.h"
#include "testutil.h"

static char *root;
static int rootfd = -1;

static void setup(void) {
        root = tmp_root();
        rootfd = tmp_rootfd(root);
}

static void teardown(void) {
        close(rootfd);
        tmp_root_remove(root);
        root = NULL;
}

START_TEST(test_names) {
        static const char *const good_versions[] = { "15", "9.6", "10", "16", "100" };
        static const char *const bad_versions[] = { "9", "", "15.", ".5", "1.2.3", "15a", "-15", "15 ", "1/5" };
        static const char *const good_names[] = { "main", "my-db", "rt-prj", "db.1", "a_b", "A", "15-x" };
        static const char *const bad_names[] = { "", ".", "..", ".hidden", "a/b", "a b", "x;y", "é",
                                                 "0123456789012345678901234567890123456789012345678901234567890123" };

        for (size_t i = 0; i < sizeof(good_versions) / sizeof(*good_versions); i++)
                ck_assert_msg(pgcommon_version_valid(good_versions[i]), "%s", good_versions[i]);
        for (size_t i = 0; i < sizeof(bad_versions) / sizeof(*bad_versions); i++)
                ck_assert_msg(!pgcommon_version_valid(bad_versions[i]), "%s", bad_versions[i]);
        for (size_t i = 0; i < sizeof(good_names) / sizeof(*good_names); i++)
                ck_assert_msg(pgcommon_cluster_name_valid(good_names[i]), "%s", good_names[i]);
        for (size_t i = 0; i < sizeof(bad_names) / sizeof(*bad_names); i++)
                ck_assert_msg(!pgcommon_cluster_name_valid(bad_names[i]), "%s", bad_names[i]);
}
END_TEST

START_TEST(test_version_order) {
        ck_assert_int_lt(pgcommon_version_compare("9.6", "15"), 0);
        ck_assert_int_lt(pgcommon_version_compare("9.6", "10"), 0);
        ck_assert_int_gt(pgcommon_version_compare("16", "15"), 0);
        ck_assert_int_lt(pgcommon_version_compare("9.5", "9.6"), 0);
        ck_assert_int_eq(pgcommon_version_compare("15", "15"), 0);
}
END_TEST

START_TEST(test_scan) {
        PgClusterList *l = NULL;
        char path[4096];

        tmp_write(root, "etc/postgresql/15/main/postgresql.conf", "port = 5433\ndata_directory = '/srv/15/main'\n");
        tmp_write(root, "etc/postgresql/15/main/start.conf", "# comment\n  manual  \n");
        tmp_write(root, "etc/postgresql/15/rt-prj/postgresql.conf", "port = 15432\n");
        tmp_write(root, "etc/postgresql/15/rt-prj/start.conf", "disabled\n");
        tmp_write(root, "etc/postgresql/9.6/old/postgresql.conf", "#port = 1\n");
        tmp_mkdirs(root, "etc/postgresql/16/fresh"); /* pg_createcluster has only just made it */
        tmp_write(root, "etc/postgresql/15/bad/postgresql.conf", "port = 70000\n");
        tmp_write(root, "etc/postgresql/15/.hidden/postgresql.conf", "port = 1\n");
        tmp_write(root, "etc/postgresql/x/main/postgresql.conf", "port = 1\n");
        tmp_write(root, "etc/postgresql/15/afile", "not a cluster\n");
        tmp_write(root, "elsewhere/out/postgresql.conf", "port = 1\n");
        snprintf(path, sizeof(path), "%s/etc/postgresql/15/escape", root);
        ck_assert_int_eq(symlink("../../../elsewhere/out", path), 0); /* leaves the tree */
        snprintf(path, sizeof(path), "%s/etc/postgresql/15/alias", root);
        ck_assert_int_eq(symlink("main", path), 0); /* stays inside: allowed */

        ck_assert_int_eq(pgcommon_scan(rootfd, NULL, &l), 0);
        ck_assert_uint_eq(l->n, 6);
        /* sorted: 9.6 before 15 before 16 */
        ck_assert_str_eq(l->clusters[0].version, "9.6");
        ck_assert_int_eq(l->clusters[0].port, 0);
        ck_assert(l->clusters[0].has_postgresql_conf);
        ck_assert_int_eq(l->clusters[0].start_conf, START_CONF_AUTO);

        ck_assert_str_eq(l->clusters[1].name, "alias");
        ck_assert_int_eq(l->clusters[1].port, 5433);
        ck_assert_str_eq(l->clusters[2].name, "bad");
        ck_assert_str_eq(l->clusters[2].error, "/etc/postgresql/15/bad/postgresql.conf: invalid port \"70000\"");
        ck_assert_str_eq(l->clusters[3].name, "main");
        ck_assert_int_eq(l->clusters[3].port, 5433);
        ck_assert_str_eq(l->clusters[3].data_directory, "/srv/15/main");
        ck_assert_int_eq(l->clusters[3].start_conf, START_CONF_MANUAL);
        ck_assert_ptr_null(l->clusters[3].error);
        ck_assert_str_eq(l->clusters[4].name, "rt-prj");
        ck_assert_int_eq(l->clusters[4].port, 15432);
        ck_assert_int_eq(l->clusters[4].start_conf, START_CONF_DISABLED);
        ck_assert_str_eq(l->clusters[5].version, "16");
        ck_assert(!l->clusters[5].has_postgresql_conf);

        ck_assert_ptr_nonnull(pgcluster_list_find(l, "15", "rt-prj"));
        ck_assert_ptr_null(pgcluster_list_find(l, "15", "escape"));
        pgcluster_list_free(l);
}
END_TEST

START_TEST(test_scan_empty) {
        PgClusterList *l = NULL;
        ck_assert_int_eq(pgcommon_scan(rootfd, NULL, &l), 0);
        ck_assert_uint_eq(l->n, 0);
        pgcluster_list_free(l);
}
END_TEST

START_TEST(test_read_cluster) {
        PgCluster c;
        char path[4096];

        tmp_write(root, "etc/postgresql/15/main/postgresql.conf", "port = 5432\n");
        tmp_write(root, "etc/postgresql/15/main/start.conf", "sometimes\n");
        ck_assert_int_eq(pgcommon_read_cluster(rootfd, "15", "main", &c), 0);
        ck_assert_str_eq(c.error,
                         "/etc/postgresql/15/main/start.conf: invalid mode \"sometimes\", must be one of auto, manual, disabled");
        pgcluster_done(&c);

        ck_assert_int_eq(pgcommon_read_cluster(rootfd, "15", "none", &c), -ENOENT);
        ck_assert_int_eq(pgcommon_read_cluster(rootfd, "15", "../x", &c), -EINVAL);

        /* A symlink planted as postgresql.conf (the directory is the postgres user's) is not followed. */
        tmp_write(root, "etc/shadow", "root:secret\n");
        tmp_mkdirs(root, "etc/postgresql/15/evil");
        snprintf(path, sizeof(path), "%s/etc/postgresql/15/evil/postgresql.conf", root);
        ck_assert_int_eq(symlink("/etc/shadow", path), 0);
        ck_assert_int_eq(pgcommon_read_cluster(rootfd, "15", "evil", &c), 0);
        ck_assert_str_eq(c.error, "/etc/postgresql/15/evil/postgresql.conf: cannot read: is a symbolic link, not followed");
        pgcluster_done(&c);

        /* A FIFO does not hang discovery. */
        tmp_mkdirs(root, "etc/postgresql/15/fifo");
        snprintf(path, sizeof(path), "%s/etc/postgresql/15/fifo/postgresql.conf", root);
        ck_assert_int_eq(mkfifo(path, 0600), 0);
        ck_assert_int_eq(pgcommon_read_cluster(rootfd, "15", "fifo", &c), 0);
        ck_assert_ptr_nonnull(c.error);
        pgcluster_done(&c);

        /* pgdata symlink fallback */
        tmp_write(root, "etc/postgresql/15/linked/postgresql.conf", "port = 5440\n");
        snprintf(path, sizeof(path), "%s/etc/postgresql/15/linked/pgdata", root);
        ck_assert_int_eq(symlink("/data/15/linked", path), 0);
        ck_assert_int_eq(pgcommon_read_cluster(rootfd, "15", "linked", &c), 0);
        ck_assert_str_eq(c.data_directory, "/data/15/linked");
        pgcluster_done(&c);
}
END_TEST

START_TEST(test_datadir_base) {
        char *base = NULL, *err = NULL;

        ck_assert_int_eq(pgcommon_datadir_base(rootfd, &base, &err), 0);
        ck_assert_str_eq(base, "/var/lib/postgresql");
        free(base);

        tmp_write(root, "etc/postgresql-common/createcluster.conf",
                  "# comment\ncreate_main_cluster = false\ndata_directory = '/srv/pg/%v/%c'\n");
        ck_assert_int_eq(pgcommon_datadir_base(rootfd, &base, &err), 0);
        ck_assert_str_eq(base, "/srv/pg");
        free(base);

        tmp_write(root, "etc/postgresql-common/createcluster.conf", "data_directory = '/data/'\n");
        ck_assert_int_eq(pgcommon_datadir_base(rootfd, &base, &err), 0);
        ck_assert_str_eq(base, "/data");
        free(base);

        /* pg-common itself rejects an unquoted path */
        tmp_write(root, "etc/postgresql-common/createcluster.conf", "data_directory = /data/\n");
        ck_assert_int_eq(pgcommon_datadir_base(rootfd, &base, &err), -EINVAL);
        ck_assert_str_eq(err, "/etc/postgresql-common/createcluster.conf:1: invalid value");
        free(err);

        tmp_write(root, "etc/postgresql-common/createcluster.conf", "data_directory = 'broken\n");
        ck_assert_int_eq(pgcommon_datadir_base(rootfd, &base, &err), -EINVAL);
        ck_assert_str_eq(err, "/etc/postgresql-common/createcluster.conf:1: invalid value");
        free(err);
}
END_TEST

START_TEST(test_binaries) {
        ck_assert(!pgcommon_have_binaries(rootfd, "15"));
        tmp_mkdirs(root, "usr/lib/postgresql/15/bin");
        ck_assert(pgcommon_have_binaries(rootfd, "15"));
}
END_TEST

int main(void) {
        Suite *s = suite_create("pgcommon");
        TCase *tc = tcase_create("core");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_names);
        tcase_add_test(tc, test_version_order);
        tcase_add_test(tc, test_scan);
        tcase_add_test(tc, test_scan_empty);
        tcase_add_test(tc, test_read_cluster);
        tcase_add_test(tc, test_datadir_base);
        tcase_add_test(tc, test_binaries);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
