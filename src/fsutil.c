/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fsutil.h"
#include "macro.h"

int fs_open_root(const char *dir) {
        int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? negative_errno() : fd;
}

static int openat2_or_fallback(int dirfd, const char *path, int flags, mode_t mode, uint64_t resolve) {
        struct open_how how = {
                .flags = (uint64_t) (flags | O_CLOEXEC),
                .mode = (flags & O_CREAT) ? mode : 0,
                .resolve = resolve,
        };
        long fd;

        fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
        if (fd >= 0)
                return (int) fd;
        if (errno != ENOSYS && errno != EPERM) /* EPERM: seccomp filters that deny openat2 */
                return negative_errno();

        /* Without openat2 (Linux before 5.6, or a filter that denies it) this is weaker: O_NOFOLLOW guards
         * only the last component, and the directories on the way resolve as openat() resolves them, so
         * neither RESOLVE_IN_ROOT nor RESOLVE_BENEATH holds. Debian 12's kernel (6.1) has openat2. */
        fd = openat(dirfd, path, flags | O_CLOEXEC | O_NOFOLLOW, mode);
        return fd < 0 ? negative_errno() : (int) fd;
}

int fs_open_in_root(int rootfd, const char *path, int flags, bool nofollow) {
        while (*path == '/')
                path++;
        if (*path == 0)
                path = ".";
        return openat2_or_fallback(rootfd, path, flags | (nofollow ? O_NOFOLLOW : 0), 0, RESOLVE_IN_ROOT);
}

int fs_open_beneath(int dirfd, const char *name, int flags) {
        return openat2_or_fallback(dirfd, name, flags, 0, RESOLVE_BENEATH);
}

int fs_check_secret_file(int rootfd, const char *path, char **ret_problem) {
        _cleanup_close_ int fd = fs_open_in_root(rootfd, path, O_PATH, true);
        struct stat st;
        int r;

        *ret_problem = NULL;
        if (fd == -ENOENT)
                return 0;
        if (fd < 0 || fstat(fd, &st) < 0) {
                r = fd < 0 ? fd : negative_errno();
                if (asprintf(ret_problem, "%s: %s", path, fs_describe_error(r)) < 0)
                        return -ENOMEM;
                return 1;
        }
        if (st.st_uid != 0)
                r = asprintf(ret_problem, "%s is owned by uid %u, not root: whoever owns it chooses the passwords and "
                                          "settings Patroni runs with (chown root:root %s; chmod 600 %s)",
                             path, (unsigned) st.st_uid, path, path);
        else if (st.st_mode & 0022)
                r = asprintf(ret_problem, "%s is writable by %s (mode %04o): chmod 600 %s", path,
                             st.st_mode & 0002 ? "every user" : "its group", (unsigned) (st.st_mode & 07777), path);
        else if (st.st_mode & 0004)
                r = asprintf(ret_problem, "%s is readable by every user (mode %04o), and holds passwords: chmod 600 %s",
                             path, (unsigned) (st.st_mode & 07777), path);
        else
                return 0;
        return r < 0 ? -ENOMEM : 1;
}

DIR *fs_opendir_at(int dirfd) {
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d;

        if (fd < 0)
                return NULL;
        d = fdopendir(fd);
        if (!d)
                safe_close(fd);
        return d;
}

size_t fs_nul_line(const char *text, size_t size) {
        const char *nul = memchr(text, 0, size);
        size_t line = 1;

        if (!nul)
                return 0;
        for (const char *p = text; (p = memchr(p, '\n', (size_t) (nul - p))); p++)
                line++;
        return line;
}

int fs_read_fd(int fd, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, alloc = 0;
        struct stat st;

        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EBADFD; /* FIFO, socket, device: not a configuration file */
        if ((uint64_t) st.st_size > FS_READ_MAX)
                return -EFBIG;

        /* Clear O_NONBLOCK which callers use only to avoid hanging on a FIFO at open. */
        int fl = fcntl(fd, F_GETFL);
        if (fl >= 0 && (fl & O_NONBLOCK))
                (void) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);

        for (;;) {
                if (alloc - size < 4096) {
                        size_t n = alloc ? alloc * 2 : (size_t) st.st_size + 4096;
                        if (n > FS_READ_MAX + 4096)
                                n = FS_READ_MAX + 4096;
                        if (n <= alloc)
                                return -EFBIG;
                        char *p = realloc(buf, n);
                        if (!p)
                                return -ENOMEM;
                        buf = p;
                        alloc = n;
                }
                ssize_t k = read(fd, buf + size, alloc - size - 1);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (k == 0)
                        break;
                size += (size_t) k;
                if (size > FS_READ_MAX)
                        return -EFBIG;
        }
        if (!buf && !(buf = malloc(1)))
                return -ENOMEM;
        buf[size] = 0;
        if (ret_size)
                *ret_size = size;
        *ret = TAKE_PTR(buf);
        return 0;
}

int fs_read_in_root(int rootfd, const char *path, bool nofollow, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -1;

        fd = fs_open_in_root(rootfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY, nofollow);
        if (fd < 0)
                return fd;
        return fs_read_fd(fd, ret, ret_size);
}

const char *fs_describe_error(int r) {
        switch (r) {
        case -ELOOP:
                return "is a symbolic link, not followed";
        case -EBADFD:
                return "not a regular file";
        case -EISDIR:
                return "is a directory";
        case -EFBIG:
                return "too large for a configuration file";
        case -ENOTUNIQ:
                return "every temporary file name tried is taken (something is in the way)";
        default:
                return strerror(-r);
        }
}

bool fs_is_temp_name(const char *name) {
        return name[0] == '.' && endswith(name, ".tmp");
}

static int write_all(int fd, const void *data, size_t size) {
        const char *p = data;

        while (size > 0) {
                ssize_t k = write(fd, p, size);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                p += k;
                size -= (size_t) k;
        }
        return 0;
}

int fs_mkdir_in_root(int rootfd, const char *path, mode_t mode) {
        char buf[PATH_MAX];
        int fd = -1;

        if ((size_t) snprintf(buf, sizeof(buf), "%s", path) >= sizeof(buf))
                return -ENAMETOOLONG;
        for (char *p = buf + 1;; p++) {
                if (*p != '/' && *p != 0)
                        continue;
                char c = *p;
                *p = 0;
                fd = fs_open_in_root(rootfd, buf, O_RDONLY | O_DIRECTORY, true);
                if (fd == -ENOENT) {
                        char *slash = strrchr(buf, '/');
                        *slash = 0;
                        _cleanup_close_ int parent = fs_open_in_root(rootfd, slash == buf ? "/" : buf,
                                                                     O_RDONLY | O_DIRECTORY, true);
                        *slash = '/';
                        if (parent < 0)
                                return parent;
                        if (mkdirat(parent, slash + 1, mode) < 0 && errno != EEXIST)
                                return -errno;
                        fd = fs_open_in_root(rootfd, buf, O_RDONLY | O_DIRECTORY, true);
                }
                *p = c;
                if (fd < 0)
                        return fd;
                if (c == 0)
                        return fd;
                safe_close(fd);
        }
}

static int check_target(int dirfd, const char *name, FsWriteFlags flags) {
        struct stat st;

        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        if (S_ISLNK(st.st_mode))
                return -ELOOP;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if (!(flags & FS_WRITE_REPLACE))
                return -EEXIST;
        return 0;
}

static int create_temp(int dirfd, const char *name, const void *data, size_t size, mode_t mode, uid_t uid,
                       gid_t gid, FsWriteFlags flags, char tmp[static NAME_MAX + 1]) {
        uint64_t rnd;
        int r;

        if (strchr(name, '/') || strlen(name) > NAME_MAX - 16)
                return -EINVAL;
        r = check_target(dirfd, name, flags);
        if (r < 0)
                return r;
        /* Like mkstemp(): another name if one is taken (by a crash's leftover, or by something planted). */
        int fd = -1;
        for (unsigned attempt = 0; fd < 0 && attempt < 8; attempt++) {
                if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
                        return negative_errno();
                snprintf(tmp, NAME_MAX + 1, ".%s.%06llx.tmp", name, (unsigned long long) (rnd & 0xffffffULL));
                /* 0600 until owner and mode are final, so no secret is ever readable by others. */
                fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd < 0 && errno != EEXIST)
                        return negative_errno();
        }
        if (fd < 0)
                return -ENOTUNIQ;
        if ((flags & FS_WRITE_CHOWN) && fchown(fd, uid, gid) < 0)
                goto fail;
        if (fchmod(fd, mode) < 0)
                goto fail;
        r = write_all(fd, data, size);
        if (r < 0) {
                errno = -r;
                goto fail;
        }
        /* Start writeback now, so that a batch's data goes out together. */
        (void) sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
        return fd;

fail:
        r = negative_errno();
        safe_close(fd);
        (void) unlinkat(dirfd, tmp, 0);
        return r;
}

/* SYNCED: what fsync() of FD returned (0 or -errno). The temporary file is renamed only if it is durable. */
static int commit_temp(int dirfd, int fd, int synced, const char *tmp, const char *name, FsWriteFlags flags) {
        int r = synced;

        if (close(fd) < 0 && r == 0)
                r = negative_errno();
        if (r == 0) {
                if (flags & FS_WRITE_REPLACE) {
                        if (renameat(dirfd, tmp, dirfd, name) < 0)
                                r = negative_errno();
                } else if (renameat2(dirfd, tmp, dirfd, name, RENAME_NOREPLACE) < 0) {
                        if (errno != EINVAL)
                                r = negative_errno();
                        /* File system without RENAME_NOREPLACE: link() never replaces either. */
                        else if (linkat(dirfd, tmp, dirfd, name, 0) < 0)
                                r = negative_errno();
                        else
                                (void) unlinkat(dirfd, tmp, 0);
                }
        }
        if (r < 0)
                (void) unlinkat(dirfd, tmp, 0);
        return r;
}

static int sync_fd(int fd) {
        return fsync(fd) < 0 ? negative_errno() : 0;
}

int fs_write_atomic(int dirfd, const char *name, const void *data, size_t size, mode_t mode, uid_t uid,
                    gid_t gid, FsWriteFlags flags) {
        char tmp[NAME_MAX + 1];
        int fd, r;

        fd = create_temp(dirfd, name, data, size, mode, uid, gid, flags, tmp);
        if (fd < 0)
                return fd;
        r = commit_temp(dirfd, fd, sync_fd(fd), tmp, name, flags);
        if (r < 0)
                return r;
        (void) fsync(dirfd);
        return 0;
}

FsBatch *fs_batch_new(int dirfd) {
        FsBatch *b = calloc(1, sizeof(FsBatch));
        if (b)
                b->dirfd = dirfd;
        return b;
}

int fs_batch_add(FsBatch *b, const char *name, const void *data, size_t size, mode_t mode, uid_t uid, gid_t gid,
                 FsWriteFlags flags) {
        FsBatchItem *items, *it;
        int fd;

        items = reallocarray(b->items, b->n + 1, sizeof(FsBatchItem));
        if (!items)
                return -ENOMEM;
        b->items = items;
        it = &items[b->n];
        *it = (FsBatchItem){ .flags = flags, .result = 0 };
        snprintf(it->name, sizeof(it->name), "%s", name);
        fd = create_temp(b->dirfd, name, data, size, mode, uid, gid, flags, it->tmp);
        if (fd < 0)
                return fd;
        it->fd = fd;
        b->n++;
        return 0;
}

/* fsync() of a batch's files, shared out between threads: concurrent fsyncs of new files are carried by
 * the same journal commits, where one after the other each waits for its own. */
typedef struct SyncWork {
        FsBatchItem *items;
        size_t n;
        atomic_size_t next;
} SyncWork;

static void *sync_worker(void *userdata) {
        SyncWork *w = userdata;
        size_t i;

        while ((i = atomic_fetch_add(&w->next, 1)) < w->n)
                w->items[i].result = sync_fd(w->items[i].fd);
        return NULL;
}

static void sync_batch(FsBatch *b) {
        SyncWork w = { .items = b->items, .n = b->n };
        pthread_t threads[FS_BATCH_SYNC_THREADS - 1];
        size_t want = b->n < FS_BATCH_SYNC_THREADS ? b->n - 1 : FS_BATCH_SYNC_THREADS - 1, started = 0;
        sigset_t all, old;

        atomic_init(&w.next, 0);
        /* Signals stay with the main thread (and its event loop). */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        while (started < want && pthread_create(&threads[started], NULL, sync_worker, &w) == 0)
                started++;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        sync_worker(&w); /* this thread too, and alone if no thread could be started */
        for (size_t i = 0; i < started; i++)
                pthread_join(threads[i], NULL);
}

size_t fs_batch_commit(FsBatch *b) {
        size_t failed = 0;

        if (b->n > 0)
                sync_batch(b);
        for (size_t i = 0; i < b->n; i++) {
                FsBatchItem *it = &b->items[i];
                it->result = commit_temp(b->dirfd, it->fd, it->result, it->tmp, it->name, it->flags);
                it->fd = -1;
                failed += it->result < 0;
        }
        if (failed < b->n)
                (void) fsync(b->dirfd);
        return failed;
}

FsBatch *fs_batch_free(FsBatch *b) {
        if (!b)
                return NULL;
        for (size_t i = 0; i < b->n; i++)
                if (b->items[i].fd >= 0) { /* never committed */
                        safe_close(b->items[i].fd);
                        (void) unlinkat(b->dirfd, b->items[i].tmp, 0);
                }
        free(b->items);
        free(b);
        return NULL;
}
