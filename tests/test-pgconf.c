/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "pgconf.h"
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

static PgConf *parse(const char *text, int expect, char **err) {
        PgConf *c = calloc(1, sizeof(PgConf));
        char *e = NULL;
        int r = pgconf_parse_text(rootfd, "/etc/postgresql/15/main/postgresql.conf", text, strlen(text), c, &e);

        ck_assert_int_eq(r, expect);
        if (err)
                *err = e;
        else
                free(e);
        return c;
}

START_TEST(test_forms) {
        PgConf *c = parse("# comment\n"
                          "\n"
                          "   port = 5433   # trailing\n"
                          "Data_Directory='/srv/pg/15/main'\n"
                          "listen_addresses '*'\n"
                          "log_line_prefix = '%m [%p] it''s \\'x\\''\n"
                          "shared_buffers=128MB\n"
                          "max_connections 100\n"
                          "timezone = 'Etc/UTC'\n"
                          "empty = ''\n"
                          "neg = -1\n"
                          "windows = 'a'\r\n",
                          0, NULL);
        ck_assert_str_eq(pgconf_get(c, "port"), "5433");
        ck_assert_str_eq(pgconf_get(c, "data_directory"), "/srv/pg/15/main");
        ck_assert_str_eq(pgconf_get(c, "listen_addresses"), "*");
        ck_assert_str_eq(pgconf_get(c, "log_line_prefix"), "%m [%p] it's 'x'");
        ck_assert_str_eq(pgconf_get(c, "shared_buffers"), "128MB");
        ck_assert_str_eq(pgconf_get(c, "max_connections"), "100");
        ck_assert_str_eq(pgconf_get(c, "empty"), "");
        ck_assert_str_eq(pgconf_get(c, "neg"), "-1");
        ck_assert_str_eq(pgconf_get(c, "windows"), "a");
        ck_assert_ptr_null(pgconf_get(c, "missing"));
        pgconf_free(c);
}
END_TEST

START_TEST(test_later_wins) {
        PgConf *c = parse("port = 5432\nport = 5434\n", 0, NULL);
        ck_assert_str_eq(pgconf_get(c, "port"), "5434");
        pgconf_free(c);
}
END_TEST

START_TEST(test_errors) {
        static const struct {
                const char *text, *message;
        } cases[] = {
                { "port = \n", "/etc/postgresql/15/main/postgresql.conf:1: invalid value" },
                { "\nport = 'unterminated\n", "/etc/postgresql/15/main/postgresql.conf:2: invalid value" },
                { "port = 5432 junk\n", "/etc/postgresql/15/main/postgresql.conf:1: unexpected text after the value" },
                { "port = $x\n", "/etc/postgresql/15/main/postgresql.conf:1: invalid value" },
                { "port = '5432' junk\n", "/etc/postgresql/15/main/postgresql.conf:1: unexpected text after the value" },
                { "= 5\n", "/etc/postgresql/15/main/postgresql.conf:1: expected a parameter name" },
                { "port\n", "/etc/postgresql/15/main/postgresql.conf:1: expected '=' after the parameter name" },
                { "include = nope\n", "/etc/postgresql/15/main/postgresql.conf:1: include needs a quoted path" },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *err = NULL;
                PgConf *c = parse(cases[i].text, -EINVAL, &err);
                ck_assert_ptr_nonnull(err);
                ck_assert_str_eq(err, cases[i].message);
                free(err);
                pgconf_free(c);
        }
}
END_TEST

START_TEST(test_includes) {
        tmp_write(root, "etc/postgresql/15/main/conf.d/10-port.conf", "port = 6000\n");
        tmp_write(root, "etc/postgresql/15/main/conf.d/20-port.conf", "port = 6001\n");
        tmp_write(root, "etc/postgresql/15/main/conf.d/.hidden.conf", "port = 1\n");
        tmp_write(root, "etc/postgresql/15/main/conf.d/skip.txt", "port = 2\n");
        tmp_write(root, "etc/postgresql/15/main/extra.conf", "data_directory = '/x'\n");
        tmp_write(root, "etc/common.conf", "cluster_name = 'abs'\n");

        PgConf *c = parse("port = 5432\n"
                          "include_dir = 'conf.d'\n"
                          "include 'extra.conf'\n"
                          "include_if_exists = 'missing.conf'\n"
                          "INCLUDE '/etc/common.conf'\n",
                          0, NULL);
        ck_assert_str_eq(pgconf_get(c, "port"), "6001");
        ck_assert_str_eq(pgconf_get(c, "data_directory"), "/x");
        ck_assert_str_eq(pgconf_get(c, "cluster_name"), "abs");
        pgconf_free(c);
}
END_TEST

START_TEST(test_include_loop) {
        /* A file that includes itself is read once: nothing to loop on. */
        tmp_write(root, "etc/postgresql/15/main/loop.conf", "include 'loop.conf'\nport = 5999\n");
        PgConf *c = parse("include 'loop.conf'\n", 0, NULL);
        ck_assert_str_eq(pgconf_get(c, "port"), "5999");
        pgconf_free(c);
}
END_TEST

START_TEST(test_include_depth) {
        char *err = NULL, rel[128], text[128];
        for (int i = 0; i < 12; i++) {
                snprintf(rel, sizeof(rel), "etc/postgresql/15/main/d%d.conf", i);
                snprintf(text, sizeof(text), "include 'd%d.conf'\n", i + 1);
                tmp_write(root, rel, text);
        }
        PgConf *c = parse("include 'd0.conf'\n", -EINVAL, &err);
        ck_assert_ptr_nonnull(strstr(err, "includes nested too deeply"));
        free(err);
        pgconf_free(c);
}
END_TEST

/* 5 files per directory, each including the directory again, 10 levels deep: 5^10 reads unbounded. */
START_TEST(test_include_fanout) {
        char rel[128];
        for (int i = 0; i < 5; i++) {
                snprintf(rel, sizeof(rel), "etc/postgresql/15/main/fan/%d.conf", i);
                tmp_write(root, rel, "include_dir '.'\nport = 6100\n");
        }
        PgConf *c = parse("include_dir 'fan'\n", 0, NULL);
        ck_assert_str_eq(pgconf_get(c, "port"), "6100");
        ck_assert_uint_eq(c->n_entries, 5); /* each file once */
        pgconf_free(c);
}
END_TEST

START_TEST(test_include_budget) {
        char *err = NULL, rel[128];
        for (int i = 0; i < PGCONF_MAX_FILES + 1; i++) {
                snprintf(rel, sizeof(rel), "etc/postgresql/15/main/many/%03d.conf", i);
                tmp_write(root, rel, "port = 6200\n");
        }
        PgConf *c = parse("include_dir 'many'\n", -E2BIG, &err);
        ck_assert_ptr_nonnull(strstr(err, "/etc/postgresql/15/main/many"));
        ck_assert_ptr_nonnull(strstr(err, "more than"));
        free(err);
        pgconf_free(c);
}
END_TEST

START_TEST(test_nul_byte) {
        char *err = NULL;
        PgConf *c = calloc(1, sizeof(PgConf));
        static const char text[] = "port = 5\n# x\0port = 5433\n";
        ck_assert_int_eq(pgconf_parse_text(rootfd, "/etc/postgresql/15/main/postgresql.conf", text, sizeof(text) - 1, c,
                                           &err),
                         -EINVAL);
        ck_assert_str_eq(err, "/etc/postgresql/15/main/postgresql.conf:2: a NUL byte (not a text file)");
        free(err);
        pgconf_free(c);
        /* in an included file too */
        tmp_write(root, "etc/postgresql/15/main/inc.conf", "a = 1\n");
        char path[4096];
        snprintf(path, sizeof(path), "%s/etc/postgresql/15/main/inc.conf", root);
        FILE *f = fopen(path, "a");
        ck_assert_ptr_nonnull(f);
        fwrite("\0b = 2\n", 1, 7, f);
        fclose(f);
        c = parse("include 'inc.conf'\n", -EINVAL, &err);
        ck_assert_str_eq(err, "/etc/postgresql/15/main/inc.conf:2: a NUL byte (not a text file)");
        free(err);
        pgconf_free(c);
}
END_TEST

START_TEST(test_signature) {
        tmp_write(root, "etc/postgresql/15/main/inc.conf", "a = 1\n");
        PgConf *a = parse("include 'inc.conf'\nport = 1\n", 0, NULL), *b = parse("include 'inc.conf'\nport = 1\n", 0, NULL);
        ck_assert(a->signature == b->signature);
        pgconf_free(b);
        tmp_write(root, "etc/postgresql/15/main/inc.conf", "a = 2\n");
        b = parse("include 'inc.conf'\nport = 1\n", 0, NULL);
        ck_assert(a->signature != b->signature); /* an included file changed */
        pgconf_free(b);
        b = parse("include 'inc.conf'\nport = 2\n", 0, NULL);
        ck_assert(a->signature != b->signature);
        pgconf_free(a);
        pgconf_free(b);
}
END_TEST

START_TEST(test_include_symlink_not_followed) {
        char *err = NULL, path[4096];
        tmp_write(root, "secret", "password = 'x'\n");
        tmp_mkdirs(root, "etc/postgresql/15/main");
        snprintf(path, sizeof(path), "%s/etc/postgresql/15/main/evil.conf", root);
        ck_assert_int_eq(symlink("/secret", path), 0);
        PgConf *c = parse("include 'evil.conf'\n", -ELOOP, &err);
        ck_assert_str_eq(err, "/etc/postgresql/15/main/evil.conf: cannot read: is a symbolic link, not followed");
        free(err);
        pgconf_free(c);
}
END_TEST

int main(void) {
        Suite *s = suite_create("pgconf");
        TCase *tc = tcase_create("core");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_forms);
        tcase_add_test(tc, test_later_wins);
        tcase_add_test(tc, test_errors);
        tcase_add_test(tc, test_includes);
        tcase_add_test(tc, test_include_loop);
        tcase_add_test(tc, test_include_depth);
        tcase_add_test(tc, test_include_fanout);
        tcase_add_test(tc, test_include_budget);
        tcase_add_test(tc, test_nul_byte);
        tcase_add_test(tc, test_signature);
        tcase_add_test(tc, test_include_symlink_not_followed);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
