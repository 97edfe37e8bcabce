/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "envconf.h"
#include "testutil.h"

TMP_ROOT_FIXTURE("etc/patroni")

static void write_env(const char *text, mode_t mode) {
        char path[4200];
        tmp_write(root, "etc/patroni/env.conf", text);
        snprintf(path, sizeof(path), "%s/etc/patroni/env.conf", root);
        ck_assert_int_eq(chmod(path, mode), 0);
}

START_TEST(test_read) {
        bool exists;
        char **env = envconf_read(rootfd, &exists);

        ck_assert(!exists);
        ck_assert_ptr_null(env);
        write_env("# comment\n; another\n  A=1\nB=\"x y\"\nC='q'\nD=\nE = spaced \nnot a pair\n", 0600);
        env = envconf_read(rootfd, &exists);
        ck_assert(exists);
        ck_assert_str_eq(envconf_get(env, "A"), "1");
        ck_assert_str_eq(envconf_get(env, "B"), "x y");
        ck_assert_str_eq(envconf_get(env, "C"), "q");
        ck_assert_ptr_null(envconf_get(env, "D")); /* set empty counts as not set */
        ck_assert_str_eq(envconf_get(env, "E"), " spaced");
        ck_assert_ptr_null(envconf_get(env, "AB"));
        ck_assert_ptr_null(envconf_get(env, "not a pair"));
        envconf_free(env);

        tmp_write(root, "etc/patroni/env.conf", "");
        env = envconf_read(rootfd, &exists);
        ck_assert(exists);
        ck_assert_ptr_nonnull(env); /* exists, sets nothing */
        ck_assert_ptr_null(env[0]);
        envconf_free(env);
}
END_TEST

START_TEST(test_add_missing) {
        char *added = NULL, *error = NULL, *text;
        static const EnvDefault defaults[] = { { "K1", "fixed" }, { "K2", NULL } };
        struct stat st;
        char path[4200];

        /* no file: made, root-only */
        ck_assert_int_eq(envconf_add_missing(rootfd, defaults, 2, &added, NULL, &error), 2);
        ck_assert_str_eq(added, "K1, K2");
        free(added);
        text = tmp_read(root, "etc/patroni/env.conf");
        ck_assert_ptr_nonnull(strstr(text, "K1=fixed\nK2="));
        ck_assert_uint_eq(strlen(strstr(text, "K2=") + 3), 33); /* 32 characters and the newline */
        free(text);
        snprintf(path, sizeof(path), "%s/etc/patroni/env.conf", root);
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0600);
        /* all there: nothing added, nothing rewritten; what the file sets handed back all the same */
        char **env = NULL;
        ck_assert_int_eq(envconf_add_missing(rootfd, defaults, 2, &added, &env, &error), 0);
        ck_assert_ptr_null(added);
        ck_assert_str_eq(envconf_get(env, "K1"), "fixed");
        ck_assert_uint_eq(strlen(envconf_get(env, "K2")), 32);
        envconf_free(env);

        /* an admin's file without a final newline: kept byte for byte, the line added after it */
        write_env("# mine\nK1=\"theirs\"", 0600);
        ck_assert_int_eq(envconf_add_missing(rootfd, defaults, 2, NULL, &env, &error), 1);
        text = tmp_read(root, "etc/patroni/env.conf");
        ck_assert(strncmp(text, "# mine\nK1=\"theirs\"\nK2=", 22) == 0);
        /* the variables as written: the admin's kept, the new one as in the file */
        ck_assert_str_eq(envconf_get(env, "K1"), "theirs");
        ck_assert(strncmp(strstr(text, "K2=") + 3, envconf_get(env, "K2"), 32) == 0);
        envconf_free(env);
        free(text);
}
END_TEST

START_TEST(test_refused) {
        char *error = NULL;
        static const EnvDefault d[] = { { "K", "v" } };

        if (geteuid() != 0)
                return; /* a file not root's is refused: only root can make one that is */
        write_env("A=1\n", 0640 | 0020); /* group-writable */
        ck_assert_int_eq(envconf_add_missing(rootfd, d, 1, NULL, NULL, &error), -EPERM);
        ck_assert_str_eq(error, "not adding secrets to it: /etc/patroni/env.conf is writable by its group (mode 0660): "
                                "chmod 600 /etc/patroni/env.conf");
        free(error);
        write_env("A=1\n", 0604);
        ck_assert_int_eq(envconf_add_missing(rootfd, d, 1, NULL, NULL, &error), -EPERM);
        free(error);
        char *text = tmp_read(root, "etc/patroni/env.conf");
        ck_assert_str_eq(text, "A=1\n"); /* untouched */
        free(text);
}
END_TEST

START_TEST(test_concurrent) {
        /* Eight writers at once (the daemon, generate, handovers): one password, every line whole. */
        pid_t pids[8];
        char *text;

        if (geteuid() != 0)
                return;
        for (int i = 0; i < 8; i++) {
                pids[i] = fork();
                if (pids[i] == 0) {
                        char *error = NULL;
                        _exit(envconf_ensure_restapi(rootfd, NULL, &error) < 0);
                }
        }
        for (int i = 0; i < 8; i++) {
                int status;
                ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
                ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        text = tmp_read(root, "etc/patroni/env.conf");
        ck_assert_ptr_nonnull(strstr(text, "PATRONI_RESTAPI_USERNAME=patroni\nPATRONI_RESTAPI_PASSWORD="));
        ck_assert_ptr_null(strstr(strstr(text, "PATRONI_RESTAPI_PASSWORD=") + 1, "PATRONI_RESTAPI_PASSWORD="));
        free(text);
}
END_TEST

int main(void) {
        Suite *s = suite_create("envconf");
        TCase *tc = tcase_create("core");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_read);
        tcase_add_test(tc, test_add_missing);
        tcase_add_test(tc, test_refused);
        tcase_add_test(tc, test_concurrent);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
