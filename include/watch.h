/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * inotify over /etc/postgresql (and every version and cluster directory
 * below it) and /etc/patroni, below a root directory. A directory that does
 * not exist is waited for by watching its nearest existing parent. Watches
 * are added first; the caller scans afterwards, so nothing slips between.
 */

typedef struct WatchCallbacks {
        /* Something happened in or to /etc/postgresql/VERSION/CLUSTER. */
        void (*cluster_event)(void *userdata, const char *version, const char *cluster);
        /* /etc/patroni/VERSION-CLUSTER.yml (or .vip) was written, moved in, moved away or removed. */
        void (*config_event)(void *userdata, const char *version, const char *cluster);
        /* /etc/patroni or /etc/postgresql appeared or went away, the queue overflowed, an unknown
         * watch descriptor or a failed inotify_add_watch: the caller rescans everything. */
        void (*rescan)(void *userdata, const char *why);
        /* inotify_add_watch failed for PATH (errno ERROR): retry later (with backoff), then rescan. */
        void (*add_failed)(void *userdata, const char *path, int error);
} WatchCallbacks;

typedef struct Watch Watch;

int watch_new(const char *root, const WatchCallbacks *cb, void *userdata, Watch **ret);
Watch *watch_free(Watch *w);
static inline void watch_freep(Watch **w) {
        watch_free(*w);
}

int watch_fd(const Watch *w);
size_t watch_count(const Watch *w);

/* Add every watch that should exist (idempotent). Returns the number of failed adds. */
int watch_setup(Watch *w);

/* Drop the watches of cluster directories that are gone (after lost events, before a rescan). */
void watch_prune(Watch *w);

/* Is a file in /etc/postgresql/VERSION/CLUSTER modified and not closed yet (a write in progress)? */
bool watch_cluster_busy(const Watch *w, const char *version, const char *cluster);

/* Read and dispatch events until the queue is empty. */
int watch_process(Watch *w);

/* Walk a buffer of struct inotify_event records; -EBADMSG if one is truncated or malformed. */
typedef void (*WatchEventFn)(void *userdata, int wd, uint32_t mask, const char *name);
int watch_parse_events(const void *buf, size_t size, WatchEventFn fn, void *userdata);

/* Is NAME a configuration name "VERSION-CLUSTER.yml" (not an editor's probe, backup or temporary file)? */
bool watch_config_name(const char *name, char *version, size_t vsize, char *cluster, size_t csize);
