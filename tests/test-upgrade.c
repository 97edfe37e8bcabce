/* SPDX-License-Identifier: GPL-2.0-or-later */
/* patroni-debianctl upgrade's core: backup, secrets into env.conf, the secure form; nothing on a dry run. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "envconf.h"
#include "macro.h"
#include "testutil.h"
#include "upgrade.h"

TMP_ROOT_FIXTURE("etc/patroni")

static const HardenTls TLS = { "/etc/patroni/tls/ca.pem", "/etc/patroni/tls/host.pem", "/etc/patroni/tls/host.key" };

/* What Debian's pg_createconfig_patroni writes, in part. */
static const char DEBIAN[] =
        "# written by hand\n"
        "scope: \"15-main\"\nname: db1\netcd3:\n  hosts: 10.0.0.9:2379\n"
        "restapi:\n  listen: 10.0.0.5:8008\n  connect_address: 10.0.0.5:8008\n"
        "bootstrap:\n  dcs:\n    postgresql:\n      pg_hba:\n      - host replication all 10.0.0.0/24 md5\n"
        "postgresql:\n  listen: \"*:5432\"\n  data_dir: /var/lib/postgresql/15/main\n"
        "  authentication:\n    replication:\n      username: replicator\n      password: \"rep-pass\"\n"
        "    superuser:\n      username: postgres\n      password:\n";

static UpgradeOptions opts(bool dry_run) {
        return (UpgradeOptions){ .tls = &TLS, .dry_run = dry_run, .postgres_gid = getegid(), .now = 1764645000 };
}

static char *listing(void) {
        char path[4200], *out = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&out, &size);
        struct dirent **names;
        snprintf(path, sizeof(path), "%s/etc/patroni", root);
        int n = scandir(path, &names, NULL, alphasort);
        for (int i = 0; i < n; i++) {
                if (names[i]->d_name[0] != '.' || strlen(names[i]->d_name) > 2)
                        fprintf(f, "%s ", names[i]->d_name);
                free(names[i]);
        }
        free(names);
        fclose(f);
        return out;
}

static mode_t mode_of(const char *rel) {
        char path[4200];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", root, rel);
        ck_assert_int_eq(stat(path, &st), 0);
        return st.st_mode & 07777;
}

START_TEST(test_upgrade) {
        UpgradeOptions o = opts(false);
        UpgradeResult r = {};
        char *err = NULL;

        if (geteuid() != 0)
                return; /* env.conf must be root's to be added to */
        tmp_write(root, "etc/patroni/15-main.yml", DEBIAN);
        tmp_write(root, "etc/patroni/env.conf", "PATRONI_SUPERUSER_PASSWORD=su\n");
        chmod(root, 0755);
        char path[4200];
        snprintf(path, sizeof(path), "%s/etc/patroni/env.conf", root);
        ck_assert_int_eq(chmod(path, 0600), 0);

        /* A dry run says what would change and writes nothing. */
        char *before = listing();
        ck_assert_int_eq(upgrade_config(rootfd, "15-main.yml", &(UpgradeOptions){ .tls = &TLS, .dry_run = true,
                                                                                   .now = o.now }, &r, &err), 1);
        ck_assert_ptr_null(err);
        ck_assert_uint_gt(r.hardened.n_changes, 5);
        ck_assert_str_eq(r.secrets_added, "PATRONI_REPLICATION_PASSWORD");
        ck_assert_str_eq(r.backup, "");
        char *after = listing();
        ck_assert_str_eq(before, after);
        free(before);
        free(after);
        upgrade_result_done(&r);

        ck_assert_int_eq(upgrade_config(rootfd, "15-main.yml", &o, &r, &err), 1);
        ck_assert_ptr_null(err);
        ck_assert_str_eq(r.backup, "/etc/patroni/15-main.yml.20251202T031000.bak");
        /* 1. the file as it was, root's alone */
        char *old = tmp_read(root, "etc/patroni/15-main.yml.20251202T031000.bak");
        ck_assert_str_eq(old, DEBIAN);
        free(old);
        ck_assert_int_eq(mode_of("etc/patroni/15-main.yml.20251202T031000.bak"), 0600);
        /* 2. its secret in env.conf, which keeps its own */
        char *env = tmp_read(root, "etc/patroni/env.conf");
        ck_assert_str_eq(env, "PATRONI_SUPERUSER_PASSWORD=su\nPATRONI_REPLICATION_PASSWORD=rep-pass\n");
        free(env);
        /* 3. the secure form, its comment kept, the backup named */
        char *now = tmp_read(root, "etc/patroni/15-main.yml");
        ck_assert(strncmp(now, "# written by hand\n# Made secure by patroni-debianctl upgrade on 2025-12-02 03:10:00 UTC; ",
                          88) == 0);
        ck_assert_ptr_nonnull(strstr(now, "# is /etc/patroni/15-main.yml.20251202T031000.bak.\n"));
        ck_assert_ptr_null(strstr(now, "rep-pass"));
        ck_assert_ptr_nonnull(strstr(now, "- hostssl replication all 10.0.0.0/24 scram-sha-256\n"));
        ck_assert_ptr_nonnull(strstr(now, "  certfile: /etc/patroni/tls/host.pem\n"));
        free(now);
        ck_assert_int_eq(mode_of("etc/patroni/15-main.yml"), 0640);
        upgrade_result_done(&r);

        /* Again: secure already, nothing written (no second backup). */
        before = listing();
        o.now += 60;
        ck_assert_int_eq(upgrade_config(rootfd, "15-main.yml", &o, &r, &err), 0);
        ck_assert_uint_eq(r.hardened.n_changes, 0);
        after = listing();
        ck_assert_str_eq(before, after);
        free(before);
        free(after);
        upgrade_result_done(&r);
}
END_TEST

/* A secret env.conf already holds: the file's value is dropped (Patroni used env.conf's), env.conf untouched. */
START_TEST(test_secret_already_in_env) {
        UpgradeOptions o = opts(false);
        UpgradeResult r = {};
        char *err = NULL;

        if (geteuid() != 0)
                return;
        tmp_write(root, "etc/patroni/15-main.yml", DEBIAN);
        tmp_write(root, "etc/patroni/env.conf", "PATRONI_REPLICATION_PASSWORD=from-env\n");
        char path[4200];
        snprintf(path, sizeof(path), "%s/etc/patroni/env.conf", root);
        chmod(path, 0600);
        ck_assert_int_eq(upgrade_config(rootfd, "15-main.yml", &o, &r, &err), 1);
        ck_assert_ptr_null(r.secrets_added);
        ck_assert_str_eq(r.secrets_dropped, "PATRONI_REPLICATION_PASSWORD");
        char *env = tmp_read(root, "etc/patroni/env.conf");
        ck_assert_str_eq(env, "PATRONI_REPLICATION_PASSWORD=from-env\n");
        free(env);
        upgrade_result_done(&r);
}
END_TEST

START_TEST(test_refusals) {
        UpgradeOptions o = opts(false);
        UpgradeResult r = {};
        char *err = NULL;

        /* broken YAML: named, nothing written */
        tmp_write(root, "etc/patroni/15-bad.yml", "scope: x\nrestapi: [\n");
        char *before = listing();
        ck_assert_int_eq(upgrade_config(rootfd, "15-bad.yml", &o, &r, &err), -EINVAL);
        ck_assert_ptr_nonnull(strstr(err, "/etc/patroni/15-bad.yml: line 3, column 1: "));
        free(err);
        char *after = listing();
        ck_assert_str_eq(before, after);
        free(before);
        free(after);

        /* a symlink: not followed */
        char target[4200], link[4200];
        snprintf(target, sizeof(target), "%s/elsewhere.yml", root);
        snprintf(link, sizeof(link), "%s/etc/patroni/15-link.yml", root);
        tmp_write(root, "elsewhere.yml", DEBIAN);
        ck_assert_int_eq(symlink(target, link), 0);
        ck_assert_int_eq(upgrade_config(rootfd, "15-link.yml", &o, &r, &err), -ELOOP);
        ck_assert_ptr_nonnull(strstr(err, "cannot read /etc/patroni/15-link.yml: "));
        free(err);
        char *kept = tmp_read(root, "elsewhere.yml");
        ck_assert_str_eq(kept, DEBIAN);
        free(kept);

        /* missing */
        ck_assert_int_eq(upgrade_config(rootfd, "15-none.yml", &o, &r, &err), -ENOENT);
        free(err);
}
END_TEST

int main(void) {
        Suite *s = suite_create("upgrade");
        TCase *tc = tcase_create("core");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_upgrade);
        tcase_add_test(tc, test_secret_already_in_env);
        tcase_add_test(tc, test_refusals);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
