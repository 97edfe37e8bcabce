/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>

#include "etcd.h"

/*
 * A watch on a prefix in etcd (API v3, its JSON gateway), on the daemon's
 * libev loop through libcurl's multi interface: authenticate (when a user is
 * set), read the prefix (range), then watch it from the next revision. Any
 * failure, an end of the stream, a cancel or a compaction starts over (with
 * a new range read: a resync) after a backoff of 1 s doubling to 60 s, on the
 * next endpoint. Idle, it arms no timer: the connection's TCP keepalive
 * notices a peer that is gone. TLS peers are verified (CACERT, else the
 * system's CAs); CERT and KEY are the client's.
 */
typedef struct EtcdWatchConf {
        char **endpoints; /* "https://host:port", tried in turn */
        size_t n_endpoints;
        char *cacert, *cert, *key; /* paths as curl opens them; NULL: none */
        char *username, *password; /* NULL: no authentication */
        char *prefix;              /* the namespace, "/postgresql-common/" */
} EtcdWatchConf;

void etcdwatch_conf_done(EtcdWatchConf *c);

typedef struct EtcdWatch EtcdWatch;

/* The view changed (scopes flagged dirty), after a range read or a watch line. */
typedef void (*EtcdWatchChanged)(EtcdWatch *w, EtcdView *view, void *userdata);
/* The watch is up (MESSAGE says at which endpoint) or down (MESSAGE says why, and when it tries again). */
typedef void (*EtcdWatchState)(EtcdWatch *w, bool up, const char *message, void *userdata);

/* Starts at once. CONF is copied. */
int etcdwatch_new(struct ev_loop *loop, const EtcdWatchConf *conf, EtcdWatchChanged changed, EtcdWatchState state,
                  void *userdata, EtcdWatch **ret);
EtcdWatch *etcdwatch_free(EtcdWatch *w);

/* What is known (NULL before the first range read). */
EtcdView *etcdwatch_view(EtcdWatch *w);
/* Is the watch established (the view follows etcd now)? */
bool etcdwatch_up(const EtcdWatch *w);

/* One range read, blocking, within TIMEOUT_MS (the CLI): the view, or -errno with *RET_ERROR. */
int etcd_read_once(const EtcdWatchConf *conf, int timeout_ms, EtcdView **ret, char **ret_error);
