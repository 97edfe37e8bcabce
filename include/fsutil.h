/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <dirent.h>
#include <stdbool.h>
#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

/* Files larger than this are not configuration files. */
#define FS_READ_MAX (4U * 1024U * 1024U)

/* Open DIR as the root every other path is resolved in (O_PATH directory fd). */
int fs_open_root(const char *dir);

/*
 * Open an absolute PATH inside the tree of ROOTFD as if ROOTFD were "/":
 * absolute symlinks and ".." cannot leave it (openat2 RESOLVE_IN_ROOT).
 * With NOFOLLOW the last component must not be a symlink.
 */
int fs_open_in_root(int rootfd, const char *path, int flags, bool nofollow);

/* Open NAME below DIRFD; symlinks may not leave DIRFD's tree (RESOLVE_BENEATH). */
int fs_open_beneath(int dirfd, const char *name, int flags);

/* A DIR stream over the directory DIRFD refers to (DIRFD stays the caller's); NULL with errno on failure. */
DIR *fs_opendir_at(int dirfd);

/* Read a whole regular file (never a FIFO or device), at most FS_READ_MAX bytes, NUL-terminated. */
int fs_read_fd(int fd, char **ret, size_t *ret_size);
int fs_read_in_root(int rootfd, const char *path, bool nofollow, char **ret, size_t *ret_size);

/*
 * A file holding secrets (env.conf, a private key) must be root's and readable by no one else but, at
 * most, its group: 0 if so (or if it does not exist), 1 with *ret_problem saying what is wrong and what to
 * run, or -errno.
 */
int fs_check_secret_file(int rootfd, const char *path, char **ret_problem);

/* The 1-based line of the first NUL byte in TEXT, or 0 if it has none: a text file with one would be cut
 * short by every C-string reader, so the caller refuses it, naming the file and this line. */
size_t fs_nul_line(const char *text, size_t size);

typedef enum FsWriteFlags {
        FS_WRITE_REPLACE = 1 << 0, /* replace an existing regular file */
        FS_WRITE_CHOWN = 1 << 1,   /* fchown to uid:gid before any content is written */
} FsWriteFlags;

/*
 * Atomically create NAME in DIRFD with DATA: a temporary file (O_EXCL|O_NOFOLLOW)
 * in the same directory, owner and mode set before content, fsync, rename, fsync
 * of the directory. On failure the temporary file is removed and an existing
 * NAME is untouched. Without FS_WRITE_REPLACE an existing NAME is -EEXIST; a
 * symlink, directory or other non-regular file at NAME is refused (-ELOOP,
 * -EISDIR, -EBADFD).
 */
int fs_write_atomic(int dirfd, const char *name, const void *data, size_t size, mode_t mode, uid_t uid,
                    gid_t gid, FsWriteFlags flags);

/* mkdir -p of an absolute PATH below ROOTFD, no symlink followed, each new level with MODE; returns an
 * O_RDONLY|O_DIRECTORY fd of the last, or -errno. */
int fs_mkdir_in_root(int rootfd, const char *path, mode_t mode);

/*
 * Many files at once with the same guarantees as fs_write_atomic() but far
 * less waiting: every temporary file is written and its writeback started
 * when added; commit fsyncs them all, FS_BATCH_SYNC_THREADS at a time (the
 * file system carries concurrent fsyncs in shared journal commits), renames
 * each one that is durable, then fsyncs the directory once. Each item's
 * result is in items[i].result; commit returns how many failed. Items never
 * committed are removed by fs_batch_free().
 */
#define FS_BATCH_SYNC_THREADS 16

typedef struct FsBatchItem {
        char name[NAME_MAX + 1], tmp[NAME_MAX + 1];
        FsWriteFlags flags;
        int fd;
        int result;
} FsBatchItem;

typedef struct FsBatch {
        int dirfd; /* borrowed */
        FsBatchItem *items;
        size_t n;
} FsBatch;

FsBatch *fs_batch_new(int dirfd);
int fs_batch_add(FsBatch *b, const char *name, const void *data, size_t size, mode_t mode, uid_t uid, gid_t gid,
                 FsWriteFlags flags);
size_t fs_batch_commit(FsBatch *b);
FsBatch *fs_batch_free(FsBatch *b);
static inline void fs_batch_freep(FsBatch **b) {
        fs_batch_free(*b);
}

/* What a read or write error means for a file: "is a symbolic link, not followed", "not a regular file", ... */
const char *fs_describe_error(int r);

/* Is NAME one of our own temporary files (".NAME.XXXXXX.tmp")? */
bool fs_is_temp_name(const char *name);
