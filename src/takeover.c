/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
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

#define FIRST_NORMAL_OID 16384ULL /* PostgreSQL's FirstNormalObjectId: below it, what initdb made */
#define PRISTINE_ENTRIES_MAX 100000

/* The number a relation file's or a database directory's name starts with ("16384", "16384.1", "16384_fsm"). */
static unsigned long long oid_of(const char *name) {
        char *end;
        if (name[0] < '0' || name[0] > '9')
                return 0;
        errno = 0;
        unsigned long long v = strtoull(name, &end, 10);
        return errno ? ULLONG_MAX : v;
}

/* DIR's entries (opened below ROOTFD, symlinks not followed): the first whose number is FIRST_NORMAL_OID or more
 * into WHICH. 1 found, 0 none, -errno. *BUDGET counts entries read. */
static int first_user_oid(int rootfd, const char *dir, char *which, size_t size, unsigned *budget) {
        int fd = fs_open_in_root(rootfd, dir, O_RDONLY | O_DIRECTORY, true);
        DIR *d;
        int r = 0;

        if (fd < 0)
                return fd;
        d = fdopendir(fd);
        if (!d) {
                r = negative_errno();
                close(fd);
                return r;
        }
        for (struct dirent *de; (de = readdir(d));) {
                if (++*budget > PRISTINE_ENTRIES_MAX) {
                        snprintf(which, size, "more than %d files", PRISTINE_ENTRIES_MAX);
                        r = 1;
                        break;
                }
                if (oid_of(de->d_name) >= FIRST_NORMAL_OID) {
                        snprintf(which, size, "%s", de->d_name);
                        r = 1;
                        break;
                }
        }
        closedir(d);
        return r;
}

int takeover_cluster_pristine(int rootfd, const PgCluster *c, char *why, size_t size) {
        char path[PATH_MAX], which[NAME_MAX + 1];
        unsigned budget = 0;
        int r;

        why[0] = 0;
        if (!c->data_directory || c->data_directory[0] != '/')
                return -ENOENT;
        /* A database made after initdb. */
        snprintf(path, sizeof(path), "%s/base", c->data_directory);
        r = first_user_oid(rootfd, path, which, sizeof(which), &budget);
        if (r != 0) {
                if (r > 0)
                        snprintf(why, size, "a database of its own (%s/%s)", path, which);
                return r > 0 ? 0 : r;
        }
        /* A table, index, sequence, ... in one of initdb's (a number of FirstNormalObjectId or above). */
        int fd = fs_open_in_root(rootfd, path, O_RDONLY | O_DIRECTORY, true);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
                r = fd < 0 ? fd : negative_errno();
                if (fd >= 0)
                        close(fd);
                return r;
        }
        for (struct dirent *de; r == 0 && (de = readdir(d));) {
                char db[PATH_MAX];
                if (de->d_name[0] == '.')
                        continue;
                if ((size_t) snprintf(db, sizeof(db), "%s/%s", path, de->d_name) >= sizeof(db))
                        continue;
                r = first_user_oid(rootfd, db, which, sizeof(which), &budget);
                if (r > 0)
                        snprintf(why, size, "a relation of its own (%s/%s)", db, which);
                else if (r == -ENOTDIR)
                        r = 0;
        }
        closedir(d);
        if (r != 0)
                return r > 0 ? 0 : r;
        /* A tablespace. */
        snprintf(path, sizeof(path), "%s/pg_tblspc", c->data_directory);
        r = first_user_oid(rootfd, path, which, sizeof(which), &budget);
        if (r > 0)
                snprintf(why, size, "a tablespace (%s/%s)", path, which);
        if (r == -ENOENT)
                r = 0;
        return r > 0 ? 0 : r < 0 ? r : 1;
}

#define STEP_KEY "TAKEOVER_STEP="
#define MARK_MAX 4096

/* A step name as the helper writes it: lower-case letters and dashes. */
static bool step_valid(const char *s, size_t n) {
        if (n == 0 || n > 32)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '-'))
                        return false;
        return true;
}

int takeover_step(int rootfd, const char *version, const char *cluster, char *buf, size_t size) {
        char path[PATH_MAX];
        _cleanup_free_ char *text = NULL;
        size_t n;
        int r;

        buf[0] = 0;
        if ((size_t) snprintf(path, sizeof(path), TAKEOVER_DIR "/%s-%s", version, cluster) >= sizeof(path))
                return -ENAMETOOLONG;
        r = fs_read_in_root(rootfd, path, true, &text, &n);
        if (r < 0)
                return r;
        /* Written by root's helper, but read with bounds all the same: one line, a known shape. */
        for (const char *line = text; line && line < text + n && n <= MARK_MAX;) {
                const char *eol = memchr(line, '\n', (size_t) (text + n - line));
                size_t len = eol ? (size_t) (eol - line) : (size_t) (text + n - line);
                if (len > strlen(STEP_KEY) && strncmp(line, STEP_KEY, strlen(STEP_KEY)) == 0 &&
                    step_valid(line + strlen(STEP_KEY), len - strlen(STEP_KEY)))
                        snprintf(buf, size, "%.*s", (int) (len - strlen(STEP_KEY)), line + strlen(STEP_KEY));
                line = eol ? eol + 1 : NULL;
        }
        return 0;
}

int takeover_mark(int rootfd, const TakeoverParams *p) {
        char name[NAME_MAX + 1], step[40], text[MARK_MAX];
        _cleanup_close_ int dirfd = fs_mkdir_in_root(rootfd, TAKEOVER_DIR, 0700);
        int n;

        if (dirfd < 0)
                return dirfd;
        if ((size_t) snprintf(name, sizeof(name), "%s-%s", p->version, p->cluster) >= sizeof(name))
                return -ENAMETOOLONG;
        if (takeover_step(rootfd, p->version, p->cluster, step, sizeof(step)) < 0)
                step[0] = 0;
        /* Every value is one the daemon validated: digits, dots, ASCII names, a unit name. No quoting needed,
         * and none would be safe to rely on: systemd reads this file. */
        n = snprintf(text, sizeof(text),
                     "# Handover of %s/%s to Patroni, pending. Written by patroni-debiand; read by its takeover\n"
                     "# unit as EnvironmentFile=. Removed by the helper once Patroni runs the cluster.\n"
                     "TAKEOVER_VERSION=%s\n"
                     "TAKEOVER_NAME=%s\n"
                     "TAKEOVER_PATRONI_UNIT=%s\n"
                     "TAKEOVER_START_CONF=%s\n"
                     "TAKEOVER_PORT=%d\n"
                     "TAKEOVER_CONFIG=" PATRONI_DIR "/%s-%s.yml\n"
                     "%s%s%s",
                     p->version, p->cluster, p->version, p->cluster, p->patroni_unit,
                     strna(start_conf_to_string(p->start_conf)), p->port, p->version, p->cluster,
                     step[0] ? STEP_KEY : "", step, step[0] ? "\n" : "");
        if (n < 0 || (size_t) n >= sizeof(text))
                return -ENAMETOOLONG;
        return fs_write_atomic(dirfd, name, text, (size_t) n, 0600, 0, 0, FS_WRITE_REPLACE);
}

int takeover_mark_if_data(int rootfd, const PgCluster *c, const TakeoverParams *p, char **ret_error) {
        int r;

        *ret_error = NULL;
        if (!takeover_cluster_has_data(rootfd, c))
                return 0;
        r = takeover_mark(rootfd, p);
        if (r < 0) {
                if (asprintf(ret_error, "cannot write %s/%s-%s: %s", TAKEOVER_DIR, p->version, p->cluster,
                             fs_describe_error(r)) < 0)
                        *ret_error = NULL;
                return r;
        }
        return 1;
}

bool takeover_pending(int rootfd, const char *version, const char *cluster) {
        char path[PATH_MAX];

        if ((size_t) snprintf(path, sizeof(path), TAKEOVER_DIR "/%s-%s", version, cluster) >= sizeof(path))
                return false;
        return probe(rootfd, path) == 0;
}

int takeover_unit_name(const char *version, const char *cluster, char *buf, size_t size) {
        return pgcommon_unit_name(TAKEOVER_UNIT, version, cluster, buf, size);
}
