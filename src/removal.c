/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "macro.h"
#include "removal.h"

static int name_of(const char *version, const char *cluster, char *buf, size_t size) {
        return (size_t) snprintf(buf, size, "%s-%s", version, cluster) >= size ? -ENAMETOOLONG : 0;
}

int removal_remember(int rootfd, const char *version, const char *cluster, uint64_t signature) {
        char name[NAME_MAX + 1], text[32];
        _cleanup_close_ int dirfd = -1;
        int r = name_of(version, cluster, name, sizeof(name));

        if (r < 0)
                return r;
        dirfd = fs_mkdir_in_root(rootfd, REMOVAL_DIR, 0700);
        if (dirfd < 0)
                return dirfd;
        snprintf(text, sizeof(text), "%016" PRIx64 "\n", signature);
        return fs_write_atomic(dirfd, name, text, strlen(text), 0600, 0, 0, FS_WRITE_REPLACE);
}

int removal_forget(int rootfd, const char *version, const char *cluster) {
        char name[NAME_MAX + 1];
        _cleanup_close_ int dirfd = fs_open_in_root(rootfd, REMOVAL_DIR, O_RDONLY | O_DIRECTORY, true);
        int r = name_of(version, cluster, name, sizeof(name));

        if (r < 0)
                return r;
        if (dirfd < 0)
                return dirfd == -ENOENT ? 0 : dirfd;
        if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
                return negative_errno();
        return 0;
}

int removal_recall(int rootfd, const char *version, const char *cluster, uint64_t *ret_signature) {
        char path[PATH_MAX], *end;
        _cleanup_free_ char *text = NULL;
        unsigned long long v;

        if ((size_t) snprintf(path, sizeof(path), REMOVAL_DIR "/%s-%s", version, cluster) >= sizeof(path))
                return 0;
        if (fs_read_in_root(rootfd, path, true, &text, NULL) < 0)
                return 0;
        errno = 0;
        v = strtoull(text, &end, 16);
        if (errno || end == text || (*end && *end != '\n'))
                return 0;
        *ret_signature = v;
        return 1;
}
