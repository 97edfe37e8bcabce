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

/* 0 if PATH exists below ROOTFD (not through a symlink), else -errno. */
static int probe(int rootfd, const char *path) {
        int fd = fs_open_in_root(rootfd, path, O_PATH, true);

        if (fd < 0)
                return fd;
        close(fd);
        return 0;
}

bool takeover_cluster_has_data(int rootfd, const PgCluster *c) {
        char path[PATH_MAX];
        int r;

        if (!c->data_directory || c->data_directory[0] != '/')
                return false;
        /* The data directory is the postgres user's: do not follow a symlink planted there. */
        if ((size_t) snprintf(path, sizeof(path), "%s/PG_VERSION", c->data_directory) >= sizeof(path))
                return false;
        r = probe(rootfd, path);
        return r == 0 || r == -ELOOP;
}

int takeover_mark(int rootfd, const char *version, const char *cluster) {
        char name[NAME_MAX + 1], text[NAME_MAX + 2];
        _cleanup_close_ int dirfd = fs_mkdir_in_root(rootfd, TAKEOVER_DIR, 0700);

        if (dirfd < 0)
                return dirfd;
        if ((size_t) snprintf(name, sizeof(name), "%s-%s", version, cluster) >= sizeof(name))
                return -ENAMETOOLONG;
        snprintf(text, sizeof(text), "%s/%s\n", version, cluster);
        return fs_write_atomic(dirfd, name, text, strlen(text), 0600, 0, 0, FS_WRITE_REPLACE);
}

bool takeover_pending(int rootfd, const char *version, const char *cluster) {
        char path[PATH_MAX];

        if ((size_t) snprintf(path, sizeof(path), TAKEOVER_DIR "/%s-%s", version, cluster) >= sizeof(path))
                return false;
        return probe(rootfd, path) == 0;
}

int takeover_unit_name(const char *version, const char *cluster, char *buf, size_t size) {
        const char *i = strstr(TAKEOVER_UNIT, "%i");

        if ((size_t) snprintf(buf, size, "%.*s%s-%s%s", (int) (i - TAKEOVER_UNIT), TAKEOVER_UNIT, version, cluster,
                              i + 2) >= size)
                return -ENAMETOOLONG;
        return 0;
}
