/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/*
 * What should happen for one VERSION/CLUSTER, decided from plain facts and
 * what was decided before. No I/O, no clock: the daemon gathers the facts
 * and carries out the actions. The rules (doc/patroni-debiand.8.in):
 *
 *  out of scope (include/exclude)        nothing; "skipped" logged once
 *  config appears (or at start-up)       start the unit (autostart)
 *  config content changes                reload the unit (reload_on_change);
 *                                        start it if known to be stopped
 *  config removed or renamed away        stop the unit
 *  cluster settled, no config            generate the config
 *  cluster directory removed             log it, nothing else
 *  config for a cluster marked for       instead of starting patroni@: start the
 *  takeover (generated while the         takeover unit (takeover), when the config
 *  cluster had data)                     is new or the cluster changed; with
 *                                        takeover off, nothing (logged once)
 */

typedef enum UnitState {
        UNIT_STATE_UNKNOWN, /* no unit manager to ask (dry run) */
        UNIT_STATE_ACTIVE,  /* active, activating, reloading */
        UNIT_STATE_INACTIVE,
        UNIT_STATE_FAILED,
} UnitState;

typedef struct ClusterFacts {
        bool in_scope;
        bool config_present; /* /etc/patroni/V-C.yml */
        uint64_t config_hash;
        bool cluster_present; /* /etc/postgresql/V/C/ */
        bool cluster_ready;   /* postgresql.conf with a port, readable, and settled */
        bool cluster_changed; /* its directory settled after events, or a start-up/reload/rescan looks at it */
        bool takeover_pending; /* marked for a handover to Patroni (it had data when its config was generated) */
        UnitState unit;
} ClusterFacts;

typedef struct ClusterMemo {
        bool config_known; /* acted on this config (hash) already */
        uint64_t config_hash;
        bool cluster_known;
        bool skip_logged;
        bool generate_failed; /* do not retry until the cluster changes or settings are reloaded */
        bool takeover_off_logged;
} ClusterMemo;

typedef enum Action {
        ACTION_GENERATE = 1 << 0,
        ACTION_START = 1 << 1,
        ACTION_RELOAD = 1 << 2,
        ACTION_STOP = 1 << 3,
        ACTION_LOG_CLUSTER_GONE = 1 << 4,
        ACTION_LOG_SKIPPED = 1 << 5,
        ACTION_TAKEOVER = 1 << 6,         /* start the takeover unit */
        ACTION_LOG_TAKEOVER_OFF = 1 << 7, /* takeover: false leaves a cluster with data to pg-common */
} Action;

typedef struct Policy {
        bool autostart;
        bool reload_on_change;
        bool takeover;
} Policy;

/* Returns a set of Action bits; *next is the memo to keep. */
unsigned reconcile_decide(const ClusterFacts *facts, const ClusterMemo *prev, const Policy *policy,
                          ClusterMemo *next);

/* "generate start" etc., for logs and tests. BUF gets at most 64 bytes. */
const char *reconcile_actions_to_string(unsigned actions, char *buf, unsigned size);
