/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "macro.h"
#include "takeover.h"

bool takeover_cluster_has_data(int rootfd, const PgCluster *c) {
        char path[PATH_MAX];
        int fd;

        if (!c->data_directory || c->data_directory[0] != '/')
                return false;
        /* The data directory is the postgres user's: do not follow a symlink planted there. */
        if ((size_t) snprintf(path, sizeof(path), "%s/PG_VERSION", c->data_directory) >= sizeof(path))
                return false;
        fd = fs_open_in_root(rootfd, path, O_PATH, true);
        if (fd >= 0) {
                close(fd);
                return true;
        }
        return fd == -ELOOP;
}

/* mkdir -p of an absolute PATH below ROOTFD, each new level with MODE; returns an fd of the last. */
static int mkdir_in_root(int rootfd, const char *path, mode_t mode) {
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

int takeover_mark(int rootfd, const char *version, const char *cluster) {
        char name[NAME_MAX + 1], text[NAME_MAX + 2];
        _cleanup_close_ int dirfd = mkdir_in_root(rootfd, TAKEOVER_DIR, 0700);

        if (dirfd < 0)
                return dirfd;
        if ((size_t) snprintf(name, sizeof(name), "%s-%s", version, cluster) >= sizeof(name))
                return -ENAMETOOLONG;
        snprintf(text, sizeof(text), "%s/%s\n", version, cluster);
        return fs_write_atomic(dirfd, name, text, strlen(text), 0600, 0, 0, FS_WRITE_REPLACE);
}

bool takeover_pending(int rootfd, const char *version, const char *cluster) {
        char path[PATH_MAX];
        int fd;

        if ((size_t) snprintf(path, sizeof(path), TAKEOVER_DIR "/%s-%s", version, cluster) >= sizeof(path))
                return false;
        fd = fs_open_in_root(rootfd, path, O_PATH, true);
        if (fd < 0)
                return false;
        close(fd);
        return true;
}

int takeover_unit_name(const char *version, const char *cluster, char *buf, size_t size) {
        const char *i = strstr(TAKEOVER_UNIT, "%i");

        if ((size_t) snprintf(buf, size, "%.*s%s-%s%s", (int) (i - TAKEOVER_UNIT), TAKEOVER_UNIT, version, cluster,
                              i + 2) >= size)
                return -ENAMETOOLONG;
        return 0;
}
