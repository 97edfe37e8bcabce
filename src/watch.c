/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "macro.h"
#include "patroniconf.h"
#include "pgcommon.h"
#include "watch.h"


typedef enum WatchKind {
        WATCH_ANCESTOR, /* waiting for a child on the way to /etc/patroni or /etc/postgresql */
        WATCH_PG_ROOT,
        WATCH_VERSION,
        WATCH_CLUSTER,
        WATCH_PATRONI,
} WatchKind;

typedef struct WatchEntry {
        int wd;
        WatchKind kind;
        char version[32], cluster[64];
        char **writing; /* files in a cluster directory modified and not yet closed */
        size_t n_writing;
} WatchEntry;

struct Watch {
        int fd;
        char *root; /* real path of the root, "" for "/" */
        WatchCallbacks cb;
        void *userdata;
        WatchEntry *entries; /* sorted by wd */
        size_t n, alloc;
        size_t n_writing; /* over all entries */
};

#define DIR_MASK (IN_ONLYDIR | IN_DONT_FOLLOW | IN_DELETE_SELF | IN_MOVE_SELF)
#define TREE_MASK (DIR_MASK | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO)
#define CLUSTER_MASK (TREE_MASK | IN_MODIFY | IN_CLOSE_WRITE)
#define PATRONI_MASK (DIR_MASK | IN_CREATE | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE)
#define ANCESTOR_MASK (DIR_MASK | IN_CREATE | IN_MOVED_TO)

static void writing_clear(Watch *w, WatchEntry *e) {
        for (size_t i = 0; i < e->n_writing; i++)
                free(e->writing[i]);
        free(e->writing);
        w->n_writing -= e->n_writing;
        e->writing = NULL;
        e->n_writing = 0;
}

/* NAME in E's directory is being written (IN_MODIFY), or no longer (IN_CLOSE_WRITE, removed, moved away). */
static void writing_set(Watch *w, WatchEntry *e, const char *name, bool on) {
        for (size_t i = 0; i < e->n_writing; i++)
                if (streq(e->writing[i], name)) {
                        if (!on) {
                                free(e->writing[i]);
                                e->writing[i] = e->writing[--e->n_writing];
                                w->n_writing--;
                        }
                        return;
                }
        if (on) {
                char **p = reallocarray(e->writing, e->n_writing + 1, sizeof(char *));
                if (!p || !(p[e->n_writing] = strdup(name))) {
                        e->writing = p ? p : e->writing;
                        return; /* out of memory: the settle timer alone guards it */
                }
                e->writing = p;
                e->n_writing++;
                w->n_writing++;
        }
}

bool watch_cluster_busy(const Watch *w, const char *version, const char *cluster) {
        if (w->n_writing == 0)
                return false;
        for (size_t i = 0; i < w->n; i++)
                if (w->entries[i].kind == WATCH_CLUSTER && w->entries[i].n_writing > 0 &&
                    streq(w->entries[i].version, version) && streq(w->entries[i].cluster, cluster))
                        return true;
        return false;
}

Watch *watch_free(Watch *w) {
        if (!w)
                return NULL;
        for (size_t i = 0; i < w->n; i++)
                writing_clear(w, &w->entries[i]);
        safe_close(w->fd);
        free(w->root);
        free(w->entries);
        free(w);
        return NULL;
}

int watch_new(const char *root, const WatchCallbacks *cb, void *userdata, Watch **ret) {
        _cleanup_(watch_freep) Watch *w = calloc(1, sizeof(Watch));
        size_t l;

        if (!w)
                return -ENOMEM;
        w->fd = -1;
        w->cb = *cb;
        w->userdata = userdata;
        w->root = strdup(root);
        if (!w->root)
                return -ENOMEM;
        l = strlen(w->root);
        while (l > 0 && w->root[l - 1] == '/')
                w->root[--l] = 0;
        w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (w->fd < 0)
                return negative_errno();
        *ret = TAKE_PTR(w);
        return 0;
}

int watch_fd(const Watch *w) {
        return w->fd;
}

size_t watch_count(const Watch *w) {
        return w->n;
}

static WatchEntry *find(Watch *w, int wd, size_t *ret_pos) {
        size_t lo = 0, hi = w->n;

        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (w->entries[mid].wd < wd)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        if (ret_pos)
                *ret_pos = lo;
        return lo < w->n && w->entries[lo].wd == wd ? &w->entries[lo] : NULL;
}

static void forget(Watch *w, int wd) {
        size_t pos;

        if (!find(w, wd, &pos))
                return;
        writing_clear(w, &w->entries[pos]);
        memmove(&w->entries[pos], &w->entries[pos + 1], (w->n - pos - 1) * sizeof(WatchEntry));
        w->n--;
}

/* Add (or refresh) a watch on the logical PATH. Returns the wd, or -errno. */
static int add(Watch *w, const char *path, uint32_t mask, const WatchEntry *proto) {
        char real[PATH_MAX];
        WatchEntry *e;
        size_t pos;
        int wd;

        if ((size_t) snprintf(real, sizeof(real), "%s%s", w->root, path) >= sizeof(real))
                return -ENAMETOOLONG;
        /*
         * Watch the directory through an fd we hold, then check it still has a name: a directory
         * removed between resolving the path and attaching the watch would otherwise keep a watch
         * that no IN_IGNORED ever reports. Removed after the check, it reports one as usual.
         */
        _cleanup_close_ int fd = open(real, O_PATH | O_DIRECTORY | O_CLOEXEC |
                                                    ((mask & IN_DONT_FOLLOW) ? O_NOFOLLOW : 0));
        char self[64];
        struct stat st;
        if (fd < 0)
                wd = -1;
        else {
                snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
                wd = inotify_add_watch(w->fd, self, mask & ~(uint32_t) IN_DONT_FOLLOW);
        }
        if (wd < 0) {
                int r = negative_errno();
                if (r == -ELOOP && (mask & IN_DONT_FOLLOW))
                        r = -ENOTDIR; /* a symlink where a directory was expected: not one to watch */
                if (r != -ENOENT && r != -ENOTDIR && w->cb.add_failed)
                        w->cb.add_failed(w->userdata, path, -r);
                return r;
        }
        if (fstat(fd, &st) == 0 && st.st_nlink == 0) {
                (void) inotify_rm_watch(w->fd, wd);
                forget(w, wd);
                return -ENOENT;
        }
        e = find(w, wd, &pos);
        if (!e) {
                if (w->n == w->alloc) {
                        size_t a = w->alloc ? w->alloc * 2 : 64;
                        WatchEntry *p = reallocarray(w->entries, a, sizeof(WatchEntry));
                        if (!p) {
                                (void) inotify_rm_watch(w->fd, wd);
                                return -ENOMEM;
                        }
                        w->entries = p;
                        w->alloc = a;
                }
                memmove(&w->entries[pos + 1], &w->entries[pos], (w->n - pos) * sizeof(WatchEntry));
                w->n++;
                e = &w->entries[pos];
                *e = *proto;
        }
        if (e->kind != proto->kind || !streq(e->version, proto->version) || !streq(e->cluster, proto->cluster)) {
                writing_clear(w, e);
                *e = *proto;
        }
        e->wd = wd;
        return wd;
}

static int add_cluster(Watch *w, const char *version, const char *cluster) {
        char path[PATH_MAX];
        WatchEntry proto = { .kind = WATCH_CLUSTER };

        snprintf(proto.version, sizeof(proto.version), "%s", version);
        snprintf(proto.cluster, sizeof(proto.cluster), "%s", cluster);
        snprintf(path, sizeof(path), PGCOMMON_CONF_DIR "/%s/%s", version, cluster);
        return add(w, path, CLUSTER_MASK, &proto);
}

/* Calls FN for every valid directory name in the logical PATH; FN returns how many watches it could not
 * add. Returns the sum. */
static int for_each_dir(Watch *w, const char *path, bool (*valid)(const char *),
                        int (*fn)(Watch *, const char *, const char *), const char *arg) {
        char real[PATH_MAX];
        struct dirent *de;
        DIR *d;
        int failed = 0;

        snprintf(real, sizeof(real), "%s%s", w->root, path);
        d = opendir(real);
        if (!d)
                return 0;
        while ((de = readdir(d)))
                if (valid(de->d_name) && (de->d_type == DT_DIR || de->d_type == DT_UNKNOWN))
                        failed += fn(w, arg, de->d_name);
        closedir(d);
        return failed;
}

/* 1 if a watch could not be added for a reason other than the directory being gone, else 0. */
static int failed(int r) {
        return r < 0 && r != -ENOENT && r != -ENOTDIR;
}

static int add_cluster_cb(Watch *w, const char *version, const char *cluster) {
        return failed(add_cluster(w, version, cluster));
}

/* Watch a version directory and its clusters; returns how many watches could not be added. */
static int add_version(Watch *w, const char *unused, const char *version) {
        char path[PATH_MAX];
        WatchEntry proto = { .kind = WATCH_VERSION };
        int r;

        (void) unused;
        snprintf(proto.version, sizeof(proto.version), "%s", version);
        snprintf(path, sizeof(path), PGCOMMON_CONF_DIR "/%s", version);
        r = add(w, path, TREE_MASK, &proto); /* watch first ... */
        if (r < 0)
                return failed(r);
        return for_each_dir(w, path, pgcommon_cluster_name_valid, add_cluster_cb, version); /* ... then look */
}

/* Watch TARGET (/etc/patroni or /etc/postgresql), or else its nearest existing ancestor. */
static int ensure(Watch *w, WatchKind target) {
        const char *path = target == WATCH_PATRONI ? PATRONI_DIR : PGCOMMON_CONF_DIR;
        static const char *const ancestors[] = { "/etc", "/" };
        WatchEntry proto = { .kind = target };
        int r, failed = 0;

        r = add(w, path, target == WATCH_PATRONI ? PATRONI_MASK : TREE_MASK, &proto);
        if (r >= 0) {
                if (target == WATCH_PG_ROOT)
                        failed += for_each_dir(w, path, pgcommon_version_valid, add_version, NULL);
                return failed;
        }
        if (r != -ENOENT && r != -ENOTDIR)
                return 1;

        for (size_t i = 0; i < ELEMENTSOF(ancestors); i++) {
                WatchEntry a = { .kind = WATCH_ANCESTOR };
                r = add(w, ancestors[i], ANCESTOR_MASK, &a);
                if (r >= 0 || (r != -ENOENT && r != -ENOTDIR))
                        return r >= 0 ? 0 : 1;
        }
        return 1;
}

/* Drop the watches of VERSION/CLUSTER's directory (all of them with CLUSTER NULL) whose directory is gone. */
static void drop_gone_clusters(Watch *w, const char *version, const char *cluster) {
        for (size_t i = 0; i < w->n;) {
                WatchEntry *e = &w->entries[i];
                char real[PATH_MAX];
                struct stat st;

                if (e->kind == WATCH_CLUSTER && (!cluster || (streq(e->version, version) && streq(e->cluster, cluster))) &&
                    (size_t) snprintf(real, sizeof(real), "%s" PGCOMMON_CONF_DIR "/%s/%s", w->root, e->version,
                                      e->cluster) < sizeof(real) &&
                    lstat(real, &st) < 0 && errno == ENOENT) {
                        (void) inotify_rm_watch(w->fd, e->wd);
                        forget(w, e->wd);
                } else
                        i++;
        }
}

/*
 * A removed directory's watch goes with it (IN_IGNORED), but the report may be lost when the queue
 * overflows, and a watch attached while the directory was being removed may never get one: whoever
 * rescans drops what is gone by name.
 */
void watch_prune(Watch *w) {
        drop_gone_clusters(w, NULL, NULL);
}

int watch_setup(Watch *w) {
        /*
         * Ancestor watches may serve both targets (one inode, one wd): drop them all, then let
         * ensure() add back those still needed. Whatever appears in between is found by ensure().
         */
        for (size_t i = 0; i < w->n;)
                if (w->entries[i].kind == WATCH_ANCESTOR) {
                        (void) inotify_rm_watch(w->fd, w->entries[i].wd);
                        forget(w, w->entries[i].wd);
                } else
                        i++;
        return ensure(w, WATCH_PATRONI) + ensure(w, WATCH_PG_ROOT);
}

static bool instance_file_name(const char *name, const char *suffix, char *version, size_t vsize, char *cluster,
                               size_t csize) {
        char base[NAME_MAX + 1];
        size_t l = strlen(name);

        size_t n = strlen(suffix);

        if (l <= n || l > NAME_MAX || !endswith(name, suffix) || name[0] == '.')
                return false;
        memcpy(base, name, l - n);
        base[l - n] = 0;
        return pgcommon_split_instance(base, version, vsize, cluster, csize) >= 0;
}

bool watch_config_name(const char *name, char *version, size_t vsize, char *cluster, size_t csize) {
        return instance_file_name(name, ".yml", version, vsize, cluster, csize);
}

int watch_parse_events(const void *buf, size_t size, WatchEventFn fn, void *userdata) {
        const char *p = buf, *end = p + size;

        while (p < end) {
                struct inotify_event ev;
                const char *name = NULL;

                if ((size_t) (end - p) < sizeof(ev))
                        return -EBADMSG;
                memcpy(&ev, p, sizeof(ev)); /* the buffer need not be aligned */
                if (ev.len > (size_t) (end - p) - sizeof(ev))
                        return -EBADMSG;
                if (ev.len > 0) {
                        name = p + sizeof(ev);
                        if (!memchr(name, 0, ev.len))
                                return -EBADMSG; /* not NUL-terminated within its record */
                }
                fn(userdata, ev.wd, ev.mask, name && name[0] ? name : NULL);
                p += sizeof(ev) + ev.len;
        }
        return 0;
}

static bool is_symlink(Watch *w, const char *dir, const char *name) {
        char real[PATH_MAX];
        struct stat st;

        snprintf(real, sizeof(real), "%s%s/%s", w->root, dir, name);
        return lstat(real, &st) >= 0 && S_ISLNK(st.st_mode);
}

static void on_event(void *userdata, int wd, uint32_t mask, const char *name) {
        Watch *w = userdata;
        char version[32], cluster[64];
        WatchEntry *e, copy;

        if (mask & IN_Q_OVERFLOW) {
                /* Closes may have been lost with the rest: what was being written is not known any more. */
                for (size_t i = 0; i < w->n; i++)
                        writing_clear(w, &w->entries[i]);
                w->cb.rescan(w->userdata, "the inotify queue overflowed");
                return;
        }
        e = find(w, wd, NULL);
        if (!e) {
                if (!(mask & IN_IGNORED)) /* IN_IGNORED for a watch we already dropped is expected */
                        w->cb.rescan(w->userdata, "an event for an unknown watch descriptor");
                return;
        }
        copy = *e; /* the registry may change below */

        if (mask & IN_IGNORED) {
                /* The directory is gone (or moved): drop it, and fall back to waiting for it. */
                forget(w, wd);
                if (copy.kind == WATCH_PATRONI || copy.kind == WATCH_PG_ROOT || copy.kind == WATCH_ANCESTOR) {
                        watch_setup(w);
                        w->cb.rescan(w->userdata, "a watched directory went away");
                } else if (copy.kind == WATCH_CLUSTER)
                        w->cb.cluster_event(w->userdata, copy.version, copy.cluster);
                return;
        }
        if (mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
                if (copy.kind == WATCH_CLUSTER)
                        w->cb.cluster_event(w->userdata, copy.version, copy.cluster);
                if (mask & IN_MOVE_SELF) {
                        /* A moved directory keeps its watch; drop it, its path no longer means it. */
                        (void) inotify_rm_watch(w->fd, wd);
                }
                return;
        }

        switch (copy.kind) {
        case WATCH_ANCESTOR:
                if (!name || !(streq(name, "etc") || streq(name, "patroni") || streq(name, "postgresql")))
                        return;
                watch_setup(w);
                w->cb.rescan(w->userdata, "a watched directory appeared");
                return;
        case WATCH_PG_ROOT:
                if (!name || !pgcommon_version_valid(name))
                        return;
                if (mask & (IN_CREATE | IN_MOVED_TO)) {
                        add_version(w, NULL, name);
                        w->cb.rescan(w->userdata, "a version directory appeared");
                } else
                        w->cb.rescan(w->userdata, "a version directory went away");
                return;
        case WATCH_VERSION:
                if (!name || !pgcommon_cluster_name_valid(name))
                        return;
                if ((mask & (IN_CREATE | IN_MOVED_TO)) && (mask & IN_ISDIR))
                        add_cluster(w, copy.version, name);
                else if ((mask & (IN_DELETE | IN_MOVED_FROM)) && (mask & IN_ISDIR))
                        drop_gone_clusters(w, copy.version, name);
                w->cb.cluster_event(w->userdata, copy.version, name);
                return;
        case WATCH_CLUSTER:
                /* A file modified and not closed yet may be half-written: the cluster is not settled. */
                if (name && !(mask & IN_ISDIR)) {
                        e = find(w, wd, NULL);
                        if (mask & IN_MODIFY)
                                writing_set(w, e, name, true);
                        else if (mask & (IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM))
                                writing_set(w, e, name, false);
                }
                w->cb.cluster_event(w->userdata, copy.version, copy.cluster);
                return;
        case WATCH_PATRONI:
                /* V-C.yml, and V-C.vip (its vip-manager@ goes with it) */
                if (!name || (!watch_config_name(name, version, sizeof(version), cluster, sizeof(cluster)) &&
                              !instance_file_name(name, ".vip", version, sizeof(version), cluster, sizeof(cluster))))
                        return;
                /* A new file is acted on once written (IN_CLOSE_WRITE); a new symlink has no such event. */
                if ((mask & IN_CREATE) && !is_symlink(w, PATRONI_DIR, name))
                        return;
                w->cb.config_event(w->userdata, version, cluster);
                return;
        }
}

int watch_process(Watch *w) {
        /* Aligned as the kernel wants; room for many events per read. */
        char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));

        for (;;) {
                ssize_t n = read(w->fd, buf, sizeof(buf));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return errno == EAGAIN ? 0 : negative_errno();
                }
                if (n == 0)
                        return 0;
                if (watch_parse_events(buf, (size_t) n, on_event, w) < 0)
                        w->cb.rescan(w->userdata, "a malformed inotify event");
        }
}
