/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>

#include "fsutil.h"
#include "testutil.h"

static char *root;
static int dirfd_ = -1;

static void setup(void) {
        root = tmp_root();
        dirfd_ = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(dirfd_, 0);
}

static void teardown(void) {
        close(dirfd_);
        tmp_root_remove(root);
        root = NULL;
}

static size_t count_entries(void) {
        DIR *d = opendir(root);
        struct dirent *de;
        size_t n = 0;

        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

START_TEST(test_create) {
        struct stat st;
        char *text;

        ck_assert_int_eq(fs_write_atomic(dirfd_, "15-main.yml", "abc\n", 4, 0640, 0, 0, 0), 0);
        ck_assert_int_eq(fstatat(dirfd_, "15-main.yml", &st, 0), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0640);
        text = tmp_read(root, "15-main.yml");
        ck_assert_str_eq(text, "abc\n");
        free(text);
        ck_assert_uint_eq(count_entries(), 1); /* no temporary file left */
}
END_TEST

START_TEST(test_no_replace) {
        char *text;

        tmp_write(root, "x.yml", "old\n");
        ck_assert_int_eq(fs_write_atomic(dirfd_, "x.yml", "new\n", 4, 0640, 0, 0, 0), -EEXIST);
        text = tmp_read(root, "x.yml");
        ck_assert_str_eq(text, "old\n");
        free(text);
        ck_assert_int_eq(fs_write_atomic(dirfd_, "x.yml", "new\n", 4, 0640, 0, 0, FS_WRITE_REPLACE), 0);
        text = tmp_read(root, "x.yml");
        ck_assert_str_eq(text, "new\n");
        free(text);
        ck_assert_uint_eq(count_entries(), 1);
}
END_TEST

START_TEST(test_refuse_non_regular) {
        char path[4096];
        struct stat st;

        snprintf(path, sizeof(path), "%s/link.yml", root);
        ck_assert_int_eq(symlink("/etc/passwd", path), 0);
        ck_assert_int_eq(fs_write_atomic(dirfd_, "link.yml", "x", 1, 0640, 0, 0, FS_WRITE_REPLACE), -ELOOP);
        ck_assert_int_eq(lstat(path, &st), 0);
        ck_assert(S_ISLNK(st.st_mode));

        tmp_mkdirs(root, "dir.yml");
        ck_assert_int_eq(fs_write_atomic(dirfd_, "dir.yml", "x", 1, 0640, 0, 0, FS_WRITE_REPLACE), -EISDIR);

        snprintf(path, sizeof(path), "%s/fifo.yml", root);
        ck_assert_int_eq(mkfifo(path, 0600), 0);
        ck_assert_int_eq(fs_write_atomic(dirfd_, "fifo.yml", "x", 1, 0640, 0, 0, FS_WRITE_REPLACE), -EBADFD);
        ck_assert_uint_eq(count_entries(), 3);
}
END_TEST

START_TEST(test_read_only_dir) {
        if (geteuid() == 0)
                return; /* root ignores mode bits; the CLI tests use a read-only mount instead */
        ck_assert_int_eq(chmod(root, 0555), 0);
        ck_assert_int_eq(fs_write_atomic(dirfd_, "x.yml", "x", 1, 0640, 0, 0, 0), -EACCES);
        ck_assert_int_eq(chmod(root, 0755), 0);
        ck_assert_uint_eq(count_entries(), 0);
}
END_TEST

START_TEST(test_bad_name) {
        ck_assert_int_eq(fs_write_atomic(dirfd_, "a/b", "x", 1, 0640, 0, 0, 0), -EINVAL);
}
END_TEST

START_TEST(test_temp_names) {
        ck_assert(fs_is_temp_name(".15-main.yml.a1b2c3.tmp"));
        ck_assert(!fs_is_temp_name("15-main.yml"));
        ck_assert(!fs_is_temp_name(".15-main.yml.swp"));
}
END_TEST

START_TEST(test_read) {
        char path[4096], *text = NULL;
        int fd;

        snprintf(path, sizeof(path), "%s/fifo", root);
        ck_assert_int_eq(mkfifo(path, 0600), 0);
        fd = open(path, O_RDONLY | O_NONBLOCK);
        ck_assert_int_eq(fs_read_fd(fd, &text, NULL), -EBADFD);
        close(fd);

        fd = open(root, O_RDONLY | O_DIRECTORY);
        ck_assert_int_eq(fs_read_fd(fd, &text, NULL), -EISDIR);
        close(fd);

        snprintf(path, sizeof(path), "%s/big", root);
        fd = open(path, O_RDWR | O_CREAT, 0600);
        ck_assert_int_eq(ftruncate(fd, FS_READ_MAX + 1), 0);
        ck_assert_int_eq(fs_read_fd(fd, &text, NULL), -EFBIG);
        close(fd);
}
END_TEST

START_TEST(test_open_in_root) {
        int rootfd = tmp_rootfd(root), fd;
        char path[4096], *text = NULL;

        tmp_write(root, "etc/patroni/dcs.yml", "inside\n");
        tmp_mkdirs(root, "etc/link");
        /* An absolute symlink resolves inside the root, as in a chroot. */
        snprintf(path, sizeof(path), "%s/etc/link/abs", root);
        ck_assert_int_eq(symlink("/etc/patroni/dcs.yml", path), 0);
        ck_assert_int_eq(fs_read_in_root(rootfd, "/etc/link/abs", false, &text, NULL), 0);
        ck_assert_str_eq(text, "inside\n");
        free(text);
        ck_assert_int_eq(fs_read_in_root(rootfd, "/etc/link/abs", true, &text, NULL), -ELOOP);
        /* ".." cannot climb out */
        ck_assert_int_eq(fs_read_in_root(rootfd, "/../../../etc/patroni/dcs.yml", false, &text, NULL), 0);
        ck_assert_str_eq(text, "inside\n");
        free(text);
        /* RESOLVE_BENEATH refuses to leave */
        fd = fs_open_in_root(rootfd, "/etc", O_RDONLY | O_DIRECTORY, true);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(fs_open_beneath(fd, "link/abs", O_RDONLY), -EXDEV);
        close(fd);
        close(rootfd);
}
END_TEST

START_TEST(test_mkdir_in_root) {
        int rootfd = tmp_rootfd(root), fd;
        char path[4096];
        struct stat st;

        fd = fs_mkdir_in_root(rootfd, "/var/lib/x/y", 0700);
        ck_assert_int_ge(fd, 0);
        close(fd);
        snprintf(path, sizeof(path), "%s/var/lib/x/y", root);
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0700);
        fd = fs_mkdir_in_root(rootfd, "/var/lib/x/y", 0700); /* there already */
        ck_assert_int_ge(fd, 0);
        close(fd);
        /* a symlink on the way is not followed (-ENOTDIR: not a directory, as seen without following) */
        snprintf(path, sizeof(path), "%s/var/link", root);
        ck_assert_int_eq(symlink("lib/x", path), 0);
        ck_assert_int_eq(fs_mkdir_in_root(rootfd, "/var/link/z", 0700), -ENOTDIR);
        snprintf(path, sizeof(path), "%s/var/lib/x/z", root);
        ck_assert_int_eq(stat(path, &st), -1);
        close(rootfd);
}
END_TEST

START_TEST(test_batch) {
        FsBatch *b = fs_batch_new(dirfd_);
        char *text;

        tmp_write(root, "b.yml", "admin's\n");
        ck_assert_int_eq(fs_batch_add(b, "a.yml", "A", 1, 0640, 0, 0, 0), 0);
        ck_assert_int_eq(fs_batch_add(b, "b.yml", "B", 1, 0640, 0, 0, 0), -EEXIST);
        ck_assert_int_eq(fs_batch_add(b, "c.yml", "C", 1, 0640, 0, 0, 0), 0);
        tmp_write(root, "c.yml", "raced\n"); /* appears between add and commit: not replaced */
        ck_assert_uint_eq(fs_batch_commit(b), 1);
        ck_assert_int_eq(b->items[0].result, 0);
        ck_assert_int_eq(b->items[1].result, -EEXIST);
        fs_batch_free(b);

        text = tmp_read(root, "a.yml");
        ck_assert_str_eq(text, "A");
        free(text);
        text = tmp_read(root, "b.yml");
        ck_assert_str_eq(text, "admin's\n");
        free(text);
        text = tmp_read(root, "c.yml");
        ck_assert_str_eq(text, "raced\n");
        free(text);
        ck_assert_uint_eq(count_entries(), 3); /* no temporary file left */

        /* Never committed: the temporary files go with the batch. */
        b = fs_batch_new(dirfd_);
        ck_assert_int_eq(fs_batch_add(b, "d.yml", "D", 1, 0640, 0, 0, 0), 0);
        fs_batch_free(b);
        ck_assert_uint_eq(count_entries(), 3);
}
END_TEST

/* More files than sync threads: every one is synced by some thread, then renamed, each to its own name. */
START_TEST(test_batch_many) {
        enum { N = 5 * FS_BATCH_SYNC_THREADS + 3 };
        FsBatch *b = fs_batch_new(dirfd_);
        char name[32], data[32];

        for (unsigned i = 0; i < N; i++) {
                snprintf(name, sizeof(name), "15-c%03u.yml", i);
                snprintf(data, sizeof(data), "cluster %u\n", i);
                ck_assert_int_eq(fs_batch_add(b, name, data, strlen(data), 0640, 0, 0, 0), 0);
        }
        tmp_write(root, "15-c057.yml", "raced\n");
        ck_assert_uint_eq(fs_batch_commit(b), 1);
        for (unsigned i = 0; i < N; i++) {
                char *text;
                struct stat st;

                snprintf(name, sizeof(name), "15-c%03u.yml", i);
                snprintf(data, sizeof(data), i == 57 ? "raced\n" : "cluster %u\n", i);
                ck_assert_int_eq(b->items[i].result, i == 57 ? -EEXIST : 0);
                text = tmp_read(root, name);
                ck_assert_str_eq(text, data);
                free(text);
                ck_assert_int_eq(fstatat(dirfd_, name, &st, AT_SYMLINK_NOFOLLOW), 0);
                if (i != 57)
                        ck_assert_uint_eq(st.st_mode & 07777, 0640);
        }
        fs_batch_free(b);
        ck_assert_uint_eq(count_entries(), N); /* no temporary file left */
}
END_TEST

int main(void) {
        Suite *s = suite_create("fsutil");
        TCase *tc = tcase_create("core");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_create);
        tcase_add_test(tc, test_no_replace);
        tcase_add_test(tc, test_refuse_non_regular);
        tcase_add_test(tc, test_read_only_dir);
        tcase_add_test(tc, test_bad_name);
        tcase_add_test(tc, test_temp_names);
        tcase_add_test(tc, test_read);
        tcase_add_test(tc, test_open_in_root);
        tcase_add_test(tc, test_mkdir_in_root);
        tcase_add_test(tc, test_batch);
        tcase_add_test(tc, test_batch_many);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
