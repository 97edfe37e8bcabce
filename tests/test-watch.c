/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <poll.h>
#include <sys/inotify.h>

#include "testutil.h"
#include "watch.h"

typedef struct Seen {
        char log[8192];
        int rescans;
} Seen;

static void on_cluster(void *u, const char *v, const char *c) {
        Seen *s = u;
        snprintf(s->log + strlen(s->log), sizeof(s->log) - strlen(s->log), "cluster %s/%s\n", v, c);
}
static void on_config(void *u, const char *v, const char *c) {
        Seen *s = u;
        snprintf(s->log + strlen(s->log), sizeof(s->log) - strlen(s->log), "config %s/%s\n", v, c);
}
static void on_rescan(void *u, const char *why) {
        Seen *s = u;
        (void) why;
        s->rescans++;
}
static const WatchCallbacks cb = { .cluster_event = on_cluster, .config_event = on_config, .rescan = on_rescan };

/* Process events until none arrive for 100 ms. */
static void drain(Watch *w) {
        struct pollfd p = { .fd = watch_fd(w), .events = POLLIN };
        while (poll(&p, 1, 100) > 0)
                ck_assert_int_eq(watch_process(w), 0);
}

START_TEST(test_config_names) {
        char v[32], c[64];
        static const char *const bad[] = { "4913", "15-main.yml.swp", ".15-main.yml.swp", "15-main.yml~", ".#15-main.yml",
                                           ".15-main.yml.a1b2c3.tmp", "dcs.yml", "config.yml.in", "patroni-debiand.yml",
                                           "15-.yml", "-main.yml", "15main.yml", "15-main.yaml", ".yml", "9-x.yml" };

        ck_assert(watch_config_name("15-main.yml", v, sizeof(v), c, sizeof(c)));
        ck_assert_str_eq(v, "15");
        ck_assert_str_eq(c, "main");
        ck_assert(watch_config_name("15-rt-prj.yml", v, sizeof(v), c, sizeof(c)));
        ck_assert_str_eq(v, "15"); /* split on the first dash */
        ck_assert_str_eq(c, "rt-prj");
        ck_assert(watch_config_name("9.6-db.1.yml", v, sizeof(v), c, sizeof(c)));
        ck_assert_str_eq(c, "db.1");
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
                ck_assert_msg(!watch_config_name(bad[i], v, sizeof(v), c, sizeof(c)), "%s accepted", bad[i]);
}
END_TEST

static int n_events;
static void count(void *u, int wd, uint32_t mask, const char *name) {
        (void) u;
        (void) wd;
        (void) mask;
        (void) name;
        n_events++;
}

START_TEST(test_parse_events) {
        char buf[256] __attribute__((aligned(8))) = {};
        struct inotify_event e = { .wd = 3, .mask = IN_CREATE, .len = 16 };

        memcpy(buf, &e, sizeof(e));
        strcpy(buf + sizeof(e), "15-main.yml");
        e.len = 0;
        memcpy(buf + sizeof(e) + 16, &e, sizeof(e));
        n_events = 0;
        ck_assert_int_eq(watch_parse_events(buf, 2 * sizeof(e) + 16, count, NULL), 0);
        ck_assert_int_eq(n_events, 2);

        /* truncated header, name past the end, name without NUL */
        ck_assert_int_eq(watch_parse_events(buf, sizeof(e) - 1, count, NULL), -EBADMSG);
        ck_assert_int_eq(watch_parse_events(buf, sizeof(e) + 8, count, NULL), -EBADMSG);
        memset(buf + sizeof(e), 'x', 16);
        ck_assert_int_eq(watch_parse_events(buf, sizeof(e) + 16, count, NULL), -EBADMSG);
        ck_assert_int_eq(watch_parse_events(buf, 0, count, NULL), 0);
}
END_TEST

START_TEST(test_live) {
        char *root = tmp_root();
        Seen seen = {};
        Watch *w = NULL;
        char path[4096];

        /* Nothing exists yet: the watches wait on the nearest parents. */
        ck_assert_int_eq(watch_new(root, &cb, &seen, &w), 0);
        ck_assert_int_eq(watch_setup(w), 0);
        ck_assert_uint_eq(watch_count(w), 1); /* the root itself, waiting for etc */

        tmp_mkdirs(root, "etc/patroni");
        drain(w);
        ck_assert_int_ge(seen.rescans, 1);
        tmp_write(root, "etc/patroni/15-main.yml", "x\n");
        tmp_write(root, "etc/patroni/4913", "probe\n");
        tmp_write(root, "etc/patroni/15-main.yml.swp", "x\n");
        drain(w);
        ck_assert_str_eq(seen.log, "config 15/main\n");

        seen.log[0] = 0;
        tmp_mkdirs(root, "etc/postgresql/15");
        drain(w);
        tmp_mkdirs(root, "etc/postgresql/15/new");
        drain(w);
        tmp_write(root, "etc/postgresql/15/new/postgresql.conf", "port = 5433\n");
        drain(w);
        ck_assert_ptr_nonnull(strstr(seen.log, "cluster 15/new\n"));
        /* 3 = /etc/patroni, /etc/postgresql, 15; + the cluster */
        ck_assert_uint_eq(watch_count(w), 4);

        /* Removed and recreated: picked up again. */
        snprintf(path, sizeof(path), "rm -rf '%s/etc/patroni'", root);
        ck_assert_int_eq(system(path), 0);
        drain(w);
        tmp_mkdirs(root, "etc/patroni");
        drain(w);
        seen.log[0] = 0;
        tmp_write(root, "etc/patroni/16-x.yml", "x\n");
        drain(w);
        ck_assert_str_eq(seen.log, "config 16/x\n");

        /* A removed cluster directory is reported and its watch dropped. */
        seen.log[0] = 0;
        snprintf(path, sizeof(path), "rm -rf '%s/etc/postgresql/15/new'", root);
        ck_assert_int_eq(system(path), 0);
        drain(w);
        ck_assert_ptr_nonnull(strstr(seen.log, "cluster 15/new\n"));
        ck_assert_uint_eq(watch_count(w), 3);

        watch_free(w);
        tmp_root_remove(root);
}
END_TEST

int main(void) {
        Suite *s = suite_create("watch");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_config_names);
        tcase_add_test(tc, test_parse_events);
        tcase_add_test(tc, test_live);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
