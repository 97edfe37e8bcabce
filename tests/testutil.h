/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A fresh directory tree under $TMPDIR; removed by tmp_root_remove(). */
static inline char *tmp_root(void) {
        const char *t = getenv("TMPDIR");
        char *p;

        if (asprintf(&p, "%s/pdd-test-XXXXXX", t ? t : "/tmp") < 0)
                abort();
        ck_assert_ptr_nonnull(mkdtemp(p));
        return p;
}

static inline int tmp_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) ftw;
        if (flag == FTW_DP)
                return rmdir(path);
        return unlink(path);
}

static inline void tmp_root_remove(char *root) {
        if (!root)
                return;
        (void) chmod(root, 0755);
        nftw(root, tmp_rm_one, 16, FTW_DEPTH | FTW_PHYS);
        free(root);
}

/* mkdir -p ROOT/REL (REL may start with '/'). */
static inline void tmp_mkdirs(const char *root, const char *rel) {
        char path[4096];

        snprintf(path, sizeof(path), "%s/%s", root, rel);
        for (char *p = path + strlen(root) + 1; *p; p++)
                if (*p == '/' && p[-1] != '/') {
                        *p = 0;
                        (void) mkdir(path, 0755);
                        *p = '/';
                }
        (void) mkdir(path, 0755);
}

/* Write CONTENT to ROOT/REL, creating parent directories. */
static inline void tmp_write(const char *root, const char *rel, const char *content) {
        char path[4096], dir[4096];
        FILE *f;

        snprintf(dir, sizeof(dir), "%s", rel);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = 0;
                tmp_mkdirs(root, dir);
        }
        snprintf(path, sizeof(path), "%s/%s", root, rel);
        f = fopen(path, "we");
        ck_assert_ptr_nonnull(f);
        fputs(content, f);
        ck_assert_int_eq(fclose(f), 0);
}

static inline char *tmp_read(const char *root, const char *rel) {
        char path[4096];
        char *buf = NULL;
        size_t n = 0;
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", root, rel);
        f = fopen(path, "re");
        if (!f)
                return NULL;
        if (getdelim(&buf, &n, 0, f) < 0) {
                free(buf);
                buf = strdup("");
        }
        fclose(f);
        return buf;
}

static inline int tmp_rootfd(const char *root) {
        int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        return fd;
}

/* Run a suite and return the exit status automake expects. */
static inline int run_suite(Suite *s) {
        SRunner *sr = srunner_create(s);
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/*
 * The fixture of tests that need only a fresh root with DIR made in it: ROOT (its path) and ROOTFD (open),
 * made before each test by setup() and removed after it by teardown().
 */
#define TMP_ROOT_FIXTURE(dir)                   \
        static char *root;                      \
        static int rootfd = -1;                 \
        static void setup(void) {               \
                root = tmp_root();              \
                rootfd = tmp_rootfd(root);      \
                tmp_mkdirs(root, dir);          \
        }                                       \
        static void teardown(void) {            \
                close(rootfd);                  \
                tmp_root_remove(root);          \
        }
