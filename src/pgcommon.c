/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "macro.h"
#include "pgcommon.h"
#include "pgconf.h"

/* ^\d+\.?\d+$ as pg-common has it: "15", "9.6"; not "9", "15.", ".5". */
bool pgcommon_version_valid(const char *s) {
        size_t digits = 0;
        bool dot = false;

        if (!s || !isdigit((unsigned char) s[0]) || strlen(s) > PGCOMMON_VERSION_MAX)
                return false;
        for (const char *p = s; *p; p++) {
                if (isdigit((unsigned char) *p))
                        digits++;
                else if (*p == '.' && !dot && p != s && isdigit((unsigned char) p[1]))
                        dot = true;
                else
                        return false;
        }
        return digits >= 2;
}

/* ^[-.\w]+$ as pg-common has it, less names starting with a dot ("." "..", hidden files). */
bool pgcommon_cluster_name_valid(const char *s) {
        if (!s || !s[0] || s[0] == '.' || strlen(s) > PGCOMMON_CLUSTER_MAX)
                return false;
        for (const char *p = s; *p; p++)
                if (!isalnum((unsigned char) *p) && *p != '_' && *p != '-' && *p != '.')
                        return false;
        return true;
}

int pgcommon_version_compare(const char *a, const char *b) {
        unsigned long ma = strtoul(a, NULL, 10), mb = strtoul(b, NULL, 10);
        const char *da = strchr(a, '.'), *db = strchr(b, '.');
        unsigned long na = da ? strtoul(da + 1, NULL, 10) : 0, nb = db ? strtoul(db + 1, NULL, 10) : 0;

        if (ma != mb)
                return ma < mb ? -1 : 1;
        if (na != nb)
                return na < nb ? -1 : 1;
        return strcmp(a, b);
}

static const char *const start_conf_names[] = {
        [START_CONF_AUTO] = "auto",
        [START_CONF_MANUAL] = "manual",
        [START_CONF_DISABLED] = "disabled",
        [START_CONF_KEEP] = "keep",
};

int pgcommon_unit_name(const char *pattern, const char *version, const char *cluster, char *buf, size_t size) {
        const char *i = strstr(pattern, "%i");

        if (!i)
                return -EINVAL;
        if ((size_t) snprintf(buf, size, "%.*s%s-%s%s", (int) (i - pattern), pattern, version, cluster, i + 2) >= size)
                return -ENAMETOOLONG;
        return 0;
}

const char *start_conf_to_string(StartConf s) {
        return s >= 0 && (size_t) s < ELEMENTSOF(start_conf_names) ? start_conf_names[s] : NULL;
}

StartConf start_conf_from_string(const char *s) {
        for (size_t i = 0; i < ELEMENTSOF(start_conf_names); i++)
                if (streq(start_conf_names[i], s))
                        return (StartConf) i;
        return _START_CONF_INVALID;
}

void pgcluster_done(PgCluster *c) {
        free(c->version);
        free(c->name);
        free(c->data_directory);
        free(c->error);
        *c = (PgCluster){};
}

PgClusterList *pgcluster_list_free(PgClusterList *l) {
        if (!l)
                return NULL;
        for (size_t i = 0; i < l->n; i++)
                pgcluster_done(&l->clusters[i]);
        free(l->clusters);
        free(l);
        return NULL;
}

const PgCluster *pgcluster_list_find(const PgClusterList *l, const char *version, const char *name) {
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->clusters[i].version, version) && streq(l->clusters[i].name, name))
                        return &l->clusters[i];
        return NULL;
}

/* Like pg-common's get_cluster_start_conf(): the first non-comment word, "auto" if none. */
int pgcommon_parse_start_conf(const char *text, StartConf *ret, char **ret_word) {
        for (const char *line = text; line && *line;) {
                const char *eol = strchrnul(line, '\n'), *b = line, *e;
                const char *hash = memchr(line, '#', (size_t) (eol - line));

                e = hash ? hash : eol;
                while (b < e && isspace((unsigned char) *b))
                        b++;
                while (e > b && isspace((unsigned char) e[-1]))
                        e--;
                line = *eol ? eol + 1 : eol;
                if (b == e)
                        continue;
                for (size_t i = 0; i < START_CONF_KEEP; i++)
                        if ((size_t) (e - b) == strlen(start_conf_names[i]) &&
                            memcmp(b, start_conf_names[i], (size_t) (e - b)) == 0) {
                                *ret = (StartConf) i;
                                return 0;
                        }
                if (ret_word)
                        *ret_word = strndup(b, (size_t) (e - b));
                return -EINVAL;
        }
        *ret = START_CONF_AUTO;
        return 0;
}

static int read_start_conf(int clusterfd, const char *path, StartConf *ret, char **ret_error) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *text = NULL, *word = NULL;
        int r;

        fd = openat(clusterfd, "start.conf", O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 && errno == ENOENT) {
                *ret = START_CONF_AUTO;
                return 0;
        }
        if (fd < 0)
                r = negative_errno();
        else
                r = fs_read_fd(fd, &text, NULL);
        if (r < 0) {
                if (asprintf(ret_error, "%s/start.conf: cannot read: %s", path,
                             fs_describe_error(r)) < 0)
                        *ret_error = NULL;
                return r;
        }
        r = pgcommon_parse_start_conf(text, ret, &word);
        if (r < 0 && asprintf(ret_error, "%s/start.conf: invalid mode \"%s\", must be one of auto, manual, disabled",
                              path, strna(word)) < 0)
                *ret_error = NULL;
        return r;
}

/* Every entry of the cluster directory (start.conf, pg_hba.conf, ...): name, inode, size, mtime. */
static int sign_entries(int clusterfd, unsigned long long *sig) {
        DIR *d = fs_opendir_at(clusterfd);
        struct dirent *de;
        size_t n = 0;

        if (!d)
                return negative_errno();
        /* readdir's order is the directory's own, the same while it does not change */
        while ((de = readdir(d)) && n++ < 4096) {
                struct stat st;
                if (de->d_name[0] == '.' || fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                *sig = hash_bytes(*sig, de->d_name, strlen(de->d_name) + 1);
                *sig = hash_bytes(*sig, &st.st_ino, sizeof(st.st_ino));
                *sig = hash_bytes(*sig, &st.st_size, sizeof(st.st_size));
                *sig = hash_bytes(*sig, &st.st_mtim, sizeof(st.st_mtim));
        }
        closedir(d);
        return 0;
}

static int read_cluster_at(int rootfd, int clusterfd, const char *path, PgCluster *c) {
        _cleanup_(pgconf_freep) PgConf *conf = NULL;
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *confpath = NULL;
        struct stat st;
        const char *v;
        int r;

        /* The directory itself: a cluster dropped and created again is another one. */
        if (fstat(clusterfd, &st) < 0)
                return negative_errno();
        c->signature = hash_bytes(HASH_INIT, &st.st_dev, sizeof(st.st_dev));
        c->signature = hash_bytes(c->signature, &st.st_ino, sizeof(st.st_ino));
        r = sign_entries(clusterfd, &c->signature);
        if (r < 0)
                return r;

        r = read_start_conf(clusterfd, path, &c->start_conf, &c->error);
        if (r < 0)
                return r;

        if (asprintf(&confpath, "%s/postgresql.conf", path) < 0)
                return -ENOMEM;
        fd = openat(clusterfd, "postgresql.conf", O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 && errno == ENOENT)
                return 0; /* pg_createcluster has not written it yet */
        conf = calloc(1, sizeof(PgConf));
        if (!conf)
                return -ENOMEM;
        r = fd < 0 ? negative_errno() : pgconf_parse_fd(rootfd, confpath, fd, conf, &c->error);
        c->signature = hash_bytes(c->signature, &conf->signature, sizeof(conf->signature));
        if (r < 0 && !c->error) {
                if (asprintf(&c->error, "%s: cannot read: %s", confpath, fs_describe_error(r)) < 0)
                        c->error = NULL;
                return r;
        }
        c->has_postgresql_conf = true;
        if (r < 0)
                return r;

        v = pgconf_get(conf, "port");
        if (v) {
                c->port = parse_port(v);
                if (c->port < 0) {
                        c->port = 0;
                        if (asprintf(&c->error, "%s: invalid port \"%s\"", confpath, v) < 0)
                                c->error = NULL;
                        return -EINVAL;
                }
        }

        v = pgconf_get(conf, "data_directory");
        if (v && v[0]) {
                c->data_directory = strdup(v);
                if (!c->data_directory)
                        return -ENOMEM;
        } else {
                /* pg-common's fallback: the pgdata symlink in the configuration directory. */
                char buf[PATH_MAX];
                ssize_t k = readlinkat(clusterfd, "pgdata", buf, sizeof(buf) - 1);
                if (k > 0) {
                        buf[k] = 0;
                        c->data_directory = strdup(buf);
                        if (!c->data_directory)
                                return -ENOMEM;
                }
        }
        return 0;
}

static int open_cluster_dir(int rootfd, const char *version, const char *name) {
        _cleanup_close_ int confdir = -1;
        char rel[PATH_MAX];

        confdir = fs_open_in_root(rootfd, PGCOMMON_CONF_DIR, O_RDONLY | O_DIRECTORY, true);
        if (confdir < 0)
                return confdir;
        snprintf(rel, sizeof(rel), "%s/%s", version, name);
        return fs_open_beneath(confdir, rel, O_RDONLY | O_DIRECTORY);
}

static int cluster_init(PgCluster *c, const char *version, const char *name) {
        *c = (PgCluster){ .start_conf = START_CONF_AUTO };
        c->version = strdup(version);
        c->name = strdup(name);
        return c->version && c->name ? 0 : -ENOMEM;
}

int pgcommon_read_cluster(int rootfd, const char *version, const char *name, PgCluster *ret) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *path = NULL;
        PgCluster c;
        int r;

        if (!pgcommon_version_valid(version) || !pgcommon_cluster_name_valid(name))
                return -EINVAL;

        fd = open_cluster_dir(rootfd, version, name);
        if (fd < 0)
                return fd == -EXDEV ? -ENOENT : fd;

        r = cluster_init(&c, version, name);
        if (r >= 0 && asprintf(&path, PGCOMMON_CONF_DIR "/%s/%s", version, name) < 0)
                r = -ENOMEM;
        if (r >= 0)
                r = read_cluster_at(rootfd, fd, path, &c);
        if (r == -ENOMEM) {
                pgcluster_done(&c);
                return r;
        }
        /* Other errors are recorded in c.error: the cluster exists, its files are bad. */
        *ret = c;
        return 0;
}

static int cmp_cluster(const void *a, const void *b) {
        const PgCluster *x = a, *y = b;
        int r = pgcommon_version_compare(x->version, y->version);
        return r != 0 ? r : strcmp(x->name, y->name);
}

static int list_dir(int dirfd, bool (*valid)(const char *), char ***ret, size_t *ret_n) {
        DIR *d = fs_opendir_at(dirfd);
        char **names = NULL;
        size_t n = 0;
        struct dirent *de;

        if (!d)
                return negative_errno();

        while ((de = readdir(d))) {
                char **p;
                if (!valid(de->d_name))
                        continue;
                if (de->d_type != DT_DIR && de->d_type != DT_LNK && de->d_type != DT_UNKNOWN)
                        continue;
                p = reallocarray(names, n + 1, sizeof(char *));
                if (!p)
                        break;
                names = p;
                if (!(names[n] = strdup(de->d_name)))
                        break;
                n++;
        }
        closedir(d);
        *ret = names;
        *ret_n = n;
        return 0;
}

static void strv_free_n(char **v, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

int pgcommon_scan(int rootfd, const PgScanOptions *o, PgClusterList **ret) {
        static const PgScanOptions defaults = {};
        _cleanup_(pgcluster_list_freep) PgClusterList *l = NULL;
        _cleanup_close_ int confdir = -1;
        char **versions = NULL;
        size_t n_versions = 0, alloc = 0;
        int r;

        l = calloc(1, sizeof(PgClusterList));
        if (!l)
                return -ENOMEM;
        if (!o)
                o = &defaults;

        confdir = fs_open_in_root(rootfd, PGCOMMON_CONF_DIR, O_RDONLY | O_DIRECTORY, true);
        if (confdir == -ENOENT) {
                *ret = TAKE_PTR(l);
                return 0;
        }
        if (confdir < 0)
                return confdir;

        r = list_dir(confdir, pgcommon_version_valid, &versions, &n_versions);
        if (r < 0)
                return r;

        for (size_t i = 0; i < n_versions && r >= 0; i++) {
                _cleanup_close_ int vfd = fs_open_beneath(confdir, versions[i], O_RDONLY | O_DIRECTORY);
                char **names = NULL;
                size_t n_names = 0;

                if (vfd < 0)
                        continue; /* not a directory, or a symlink leaving the tree */
                if (list_dir(vfd, pgcommon_cluster_name_valid, &names, &n_names) < 0)
                        continue;

                for (size_t j = 0; j < n_names && r >= 0; j++) {
                        _cleanup_close_ int cfd = fs_open_beneath(vfd, names[j], O_RDONLY | O_DIRECTORY);
                        _cleanup_free_ char *path = NULL;
                        PgCluster *p, *c;

                        if (cfd < 0)
                                continue;
                        if (o->cancel && o->cancel(o->userdata)) {
                                r = -ECANCELED;
                                break;
                        }
                        if (l->n == alloc) {
                                alloc = alloc ? alloc * 2 : 16;
                                p = reallocarray(l->clusters, alloc, sizeof(PgCluster));
                                if (!p) {
                                        r = -ENOMEM;
                                        break;
                                }
                                l->clusters = p;
                        }
                        c = &l->clusters[l->n];
                        r = cluster_init(c, versions[i], names[j]);
                        if (r < 0 || asprintf(&path, PGCOMMON_CONF_DIR "/%s/%s", versions[i], names[j]) < 0) {
                                pgcluster_done(c);
                                r = -ENOMEM;
                                break;
                        }
                        l->n++;
                        r = o->names_only ? 0 : read_cluster_at(rootfd, cfd, path, c);
                        if (r != -ENOMEM)
                                r = 0;
                }
                strv_free_n(names, n_names);
        }
        strv_free_n(versions, n_versions);
        if (r < 0)
                return r;

        if (l->n > 1)
                qsort(l->clusters, l->n, sizeof(PgCluster), cmp_cluster);
        *ret = TAKE_PTR(l);
        return 0;
}

int pgcommon_datadir_base(int rootfd, char **ret, char **ret_error) {
        _cleanup_(pgconf_freep) PgConf *conf = calloc(1, sizeof(PgConf));
        _cleanup_free_ char *base = NULL;
        const char *v;
        size_t l;
        int r;

        *ret_error = NULL;
        if (!conf)
                return -ENOMEM;
        r = pgconf_parse_file(rootfd, PGCOMMON_CREATECLUSTER_CONF, conf, ret_error);
        if (r < 0 && r != -ENOENT) {
                if (!*ret_error &&
                    asprintf(ret_error, "%s: cannot read: %s", PGCOMMON_CREATECLUSTER_CONF, strerror(-r)) < 0)
                        *ret_error = NULL;
                return r;
        }

        v = r < 0 ? NULL : pgconf_get(conf, "data_directory");
        if (!v || v[0] != '/')
                v = PGCOMMON_DEFAULT_DATADIR_BASE;
        base = strndup(v, strcspn(v, "%"));
        if (!base)
                return -ENOMEM;
        l = strlen(base);
        while (l > 1 && base[l - 1] == '/')
                base[--l] = 0;
        *ret = TAKE_PTR(base);
        return 0;
}

bool pgcommon_have_binaries(int rootfd, const char *version) {
        char path[PATH_MAX];
        _cleanup_close_ int fd = -1;

        snprintf(path, sizeof(path), "/usr/lib/postgresql/%s/bin", version);
        fd = fs_open_in_root(rootfd, path, O_RDONLY | O_DIRECTORY, false);
        return fd >= 0;
}

int pgcommon_split_instance(const char *instance, char *version, size_t vsize, char *cluster, size_t csize) {
        const char *dash = strchr(instance, '-');

        if (!dash || (size_t) (dash - instance) >= vsize || strlen(dash + 1) >= csize)
                return -EINVAL;
        memcpy(version, instance, (size_t) (dash - instance));
        version[dash - instance] = 0;
        strcpy(cluster, dash + 1);
        return pgcommon_version_valid(version) && pgcommon_cluster_name_valid(cluster) ? 0 : -EINVAL;
}
