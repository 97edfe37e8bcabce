/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon object on a relocated root, one reconcile (--once) with unit actions written down: what it
 * generates, marks and starts, what a dry run leaves alone, and the settings check a reload runs. The
 * event loop over time (settling, reloads, signals, overflows) is tests/integration/.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "testutil.h"

#define TEMPLATE                                                                                               \
        "scope: \"@VERSION@-@CLUSTER@\"\n"                                                                     \
        "name: @HOSTNAME@\n"                                                                                   \
        "@DCS_CONFIG@\n"                                                                                       \
        "restapi:\n  listen: \"@HOSTIP@:@API_PORT@\"\n  connect_address: \"@HOSTIP@:@API_PORT@\"\n"            \
        "postgresql:\n  listen: \"*:@PORT@\"\n  connect_address: \"@HOSTIP@:@PORT@\"\n"                        \
        "  data_dir: @DATADIR_BASE@/@VERSION@/@CLUSTER@\n"

static char *root;

static void setup(void) {
        root = tmp_root();
        tmp_write(root, "etc/patroni/config.yml.in", TEMPLATE);
        tmp_write(root, "etc/patroni/dcs.yml", "etcd3:\n  hosts: 127.0.0.1:2379\n");
        tmp_write(root, "etc/default/patroni", "HOSTIP=192.0.2.10\n");
        tmp_mkdirs(root, "usr/lib/postgresql/15/bin");
        tmp_write(root, "etc/postgresql/15/fresh/postgresql.conf", "port = 5433\n");
        tmp_write(root, "etc/postgresql/15/old/postgresql.conf",
                  "port = 5434\ndata_directory = '/var/lib/postgresql/15/old'\n");
        tmp_write(root, "var/lib/postgresql/15/old/PG_VERSION", "15\n");
        tmp_write(root, "etc/patroni/15-admin.yml", "scope: a\nname: n\npostgresql:\n  listen: '*:5440'\n");
}

static void teardown(void) {
        tmp_root_remove(root);
}

/* One reconcile with OPTS; what it said on stderr. */
static char *run_once(bool dry_run, const char *config) {
        char path[4200], *out;
        int saved = dup(STDERR_FILENO), fd;
        DaemonOptions o = { .root = root, .config = config ? config : "/etc/patroni/patroni-debiand.yml",
                            .dry_run = dry_run, .print_units = !dry_run, .once = true };
        Daemon *d = NULL;
        int r;

        snprintf(path, sizeof(path), "%s/stderr", root);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        fflush(stderr);
        dup2(fd, STDERR_FILENO);
        close(fd);
        log_setup("patroni-debiand", LOG_TARGET_STDERR);
        r = daemon_new(&o, &d);
        if (r >= 0)
                r = daemon_run(d);
        daemon_free(d);
        fflush(stderr);
        dup2(saved, STDERR_FILENO);
        close(saved);
        ck_assert_int_ge(r, 0);
        out = tmp_read(root, "stderr");
        unlink(path);
        return out;
}

static bool exists(const char *rel) {
        char path[4200];
        snprintf(path, sizeof(path), "%s/%s", root, rel);
        return access(path, F_OK) == 0;
}

START_TEST(test_once) {
        char *out = run_once(false, NULL), path[4200], *text;
        struct stat st;

        /* the settled cluster without data: generated (0640), then its unit started */
        snprintf(path, sizeof(path), "%s/etc/patroni/15-fresh.yml", root);
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0640);
        text = tmp_read(root, "etc/patroni/15-fresh.yml");
        ck_assert_ptr_nonnull(strstr(text, "listen: \"*:5433\""));
        ck_assert_ptr_nonnull(strstr(text, "192.0.2.10:8009"));
        free(text);
        ck_assert_ptr_nonnull(strstr(out, "dry-run: start patroni@15-fresh.service 15/fresh\n"));
        /* the one with data: marked with the daemon's values, handed over by the takeover unit, not started */
        text = tmp_read(root, "var/lib/patroni-debiand/takeover/15-old");
        ck_assert_ptr_nonnull(strstr(text, "TAKEOVER_PATRONI_UNIT=patroni@15-old.service\n"));
        ck_assert_ptr_nonnull(strstr(text, "TAKEOVER_PORT=5434\n"));
        free(text);
        ck_assert_ptr_nonnull(strstr(out, "dry-run: start patroni-debiand-takeover@15-old.service 15/old\n"));
        ck_assert_ptr_null(strstr(out, "start patroni@15-old"));
        /* an admin's configuration without a cluster (a replica before its clone): started as it is */
        ck_assert_ptr_nonnull(strstr(out, "dry-run: start patroni@15-admin.service 15/admin\n"));
        ck_assert_ptr_nonnull(strstr(out, "Watching 2 clusters and 3 configurations"));
        free(out);

        /* Once more: everything is there, each unit asked to start once more (a start-up), nothing written. */
        out = run_once(false, NULL);
        ck_assert_ptr_null(strstr(out, "Generated"));
        ck_assert_ptr_nonnull(strstr(out, "dry-run: start patroni@15-fresh.service 15/fresh\n"));
        free(out);
}
END_TEST

START_TEST(test_dry_run) {
        char *out = run_once(true, NULL);

        ck_assert_ptr_nonnull(strstr(out, "dry-run: would write /etc/patroni/15-fresh.yml (mode 0640, root:postgres):\n"));
        ck_assert_ptr_nonnull(strstr(out, "dry-run: start patroni@15-fresh.service 15/fresh\n"));
        ck_assert_ptr_nonnull(strstr(out, "dry-run: start patroni-debiand-takeover@15-old.service 15/old\n"));
        ck_assert(!exists("etc/patroni/15-fresh.yml"));
        ck_assert(!exists("etc/patroni/15-old.yml"));
        ck_assert(!exists("var/lib/patroni-debiand"));
        free(out);
}
END_TEST

START_TEST(test_settings) {
        char *error = NULL, *warning = NULL, *out;
        DaemonOptions o = { .root = root, .config = "/etc/patroni/patroni-debiand.yml" };

        /* The unit setting and the scope decide: excluded clusters are left alone. */
        tmp_write(root, "etc/patroni/patroni-debiand.yml", "unit: \"pat@%i.service\"\nexclude: [\"15/old\"]\n");
        ck_assert_int_eq(daemon_check_config(&o, &error, &warning), 0);
        free(warning);
        out = run_once(false, NULL);
        ck_assert_ptr_nonnull(strstr(out, "dry-run: start pat@15-fresh.service 15/fresh\n"));
        ck_assert_ptr_nonnull(strstr(out, "Leaving 15/old alone: excluded by the include/exclude settings."));
        ck_assert(!exists("etc/patroni/15-old.yml"));
        free(out);

        /* What a reload would refuse names the file and the line. */
        tmp_write(root, "etc/patroni/patroni-debiand.yml", "autostart: true\nsettle_ms: soon\n");
        ck_assert_int_lt(daemon_check_config(&o, &error, &warning), 0);
        ck_assert_ptr_nonnull(error);
        ck_assert_ptr_nonnull(strstr(error, "/etc/patroni/patroni-debiand.yml:2"));
        free(error);
        free(warning);
}
END_TEST

int main(void) {
        Suite *s = suite_create("daemon");
        TCase *tc = tcase_create("core");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_once);
        tcase_add_test(tc, test_dry_run);
        tcase_add_test(tc, test_settings);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
