/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/*
 * What should happen for one VERSION/CLUSTER, decided from plain facts and
 * what was decided before. No I/O, no clock: the daemon gathers the facts
 * and carries out the actions. The rules (doc/ARCHITECTURE.md, "The decision
 * table"; tests/test-reconcile.c states each row in words):
 *
 *  out of scope (include/exclude)        nothing; "skipped" logged once
 *  config appears (or at start-up)       start the unit (autostart)
 *  config content changes                reload the unit (reload_on_change);
 *                                        start it if known to be stopped
 *  config claims the data directory,     never started or reloaded; logged once
 *  scope or port of another one
 *  config unreadable                     as if unchanged; said once until it changes
 *  config new or changed                 inspect it (mode, DCS section): said once
 *  config absent, not yet for long       wait (an editor's save, a rename)
 *  config absent for removal_settle_ms   stop the unit; remember the cluster's
 *                                        signature as removed by the admin
 *  cluster settled, no config            generate the config, unless its config
 *                                        was removed while the cluster's files
 *                                        were as they are now, or generating for
 *                                        them was tried already (retried on reload)
 *  cluster directory removed             log it, nothing else
 *  no cluster, no config, a scope in     generate the config of a replica (join:),
 *  the DCS to join                       unless its config was removed or generating
 *                                        was tried already (retried on reload)
 *  a cluster here, no config, its scope  neither generated nor handed over: logged
 *  in the DCS to join                    once (the cluster is in the way)
 *  a cluster here, no config, join: set  wait: decided when the DCS is read
 *  and the DCS not read yet
 *  a pristine cluster here, no config,   neither generated nor handed over (it would
 *  a join: glob names its scope, which   lead the scope): logged once; joined over
 *  has no leader in the DCS              only by patroni-debianctl join
 *  config for a cluster marked for       instead of starting patroni@: start the
 *  takeover (generated while the         takeover unit, when the config is new,
 *  cluster had data)                     the cluster changed, or on start-up or
 *                                        reload; with takeover off, nothing
 *                                        (logged once)
 *  V-C.vip beside a configuration that   start vip-manager@V-C (autostart); restart
 *  runs (known, no conflict)             it when the .vip changes; stop it with the
 *                                        configuration's removal or the .vip's;
 *                                        vip-manager not installed: logged once
 */

typedef enum UnitState {
        UNIT_STATE_UNKNOWN, /* no unit manager to ask (dry run) */
        UNIT_STATE_ACTIVE,  /* active, activating, reloading */
        UNIT_STATE_INACTIVE,
        UNIT_STATE_FAILED,
} UnitState;

typedef struct ClusterFacts {
        bool in_scope;
        bool retry;           /* start-up or reload: try again what failed before */
        bool config_present;  /* /etc/patroni/V-C.yml */
        uint64_t config_hash;
        bool config_read_error; /* it exists but cannot be read: present and hash are the memo's */
        bool config_conflict;   /* another configuration already claims its data directory, scope or port */
        uint64_t now_ms;        /* a monotonic clock, for how long a configuration has been absent */
        bool config_dir_present; /* /etc/patroni: where configurations are generated */
        bool cluster_present;  /* /etc/postgresql/V/C/ */
        bool cluster_ready;    /* postgresql.conf with a port, readable, settled, not open for writing */
        bool cluster_error;    /* its files are there but cannot be used (syntax, bounds, NUL byte) */
        uint64_t cluster_sig;  /* its directory and the files read from it: equal while they are unchanged */
        bool removal_on_disk;  /* a removal remembered from before a restart, for removal_sig_on_disk */
        uint64_t removal_sig_on_disk;
        bool takeover_pending; /* marked for a handover to Patroni (it had data when its config was generated) */
        UnitState unit;
        bool join_ready;   /* its scope is in the DCS, and this host joins it (join.h) */
        bool join_blocked; /* ... would, but a pg-common cluster of that name is here */
        bool join_pending; /* join: is set and the DCS has not been read yet: a cluster here may be in the way */
        bool join_wait;    /* a join: glob names its scope, the DCS has no leader for it, and the cluster here holds
                            * nothing but what initdb made: left to pg-common until the DCS says who leads */
        bool vip_present;   /* /etc/patroni/V-C.vip, readable */
        uint64_t vip_hash;
        bool vip_installed; /* vip-manager@.service exists */
} ClusterFacts;

typedef struct ClusterMemo {
        bool config_known; /* acted on this config (hash) already */
        uint64_t config_hash;
        bool cluster_known;
        uint64_t cluster_sig;
        bool removed;        /* an admin removed its config while the cluster's signature was removed_sig */
        uint64_t removed_sig;
        bool tried;          /* generating was decided for the cluster as it was at tried_sig */
        uint64_t tried_sig;
        bool absent;            /* its known configuration is gone since absent_since_ms: a removal, if it lasts */
        uint64_t absent_since_ms;
        bool skip_logged;
        bool takeover_off_logged;
        bool conflict_logged;
        bool read_warned;
        bool join_tried;          /* generating to join was decided (until the scope is no longer joinable) */
        bool join_blocked_logged;
        bool join_wait_logged;
        bool vip_started;  /* vip-manager@V-C was asked to run, for the .vip whose content is vip_hash */
        uint64_t vip_hash;
        bool vip_missing_logged;
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
        ACTION_LOG_CONFLICT = 1 << 8,     /* not started: another configuration claims the same cluster */
        ACTION_LOG_CLUSTER_ERROR = 1 << 9, /* not generated: the cluster's files cannot be used */
        ACTION_WAIT_REMOVAL = 1 << 10,    /* absent, but not for long yet: decide again when it has been */
        ACTION_REMEMBER_REMOVAL = 1 << 11, /* keep the removal across restarts */
        ACTION_FORGET_REMOVAL = 1 << 12,
        ACTION_LOG_READ_ERROR = 1 << 13,  /* its configuration cannot be read */
        ACTION_INSPECT_CONFIG = 1 << 14,  /* new or changed: warn about its mode, note its DCS section */
        ACTION_LOG_JOIN_BLOCKED = 1 << 15, /* its scope is to be joined, but a local cluster is in the way */
        ACTION_LOG_JOIN_WAIT = 1 << 16,    /* a pristine cluster under a join: glob, its scope not led yet */
        ACTION_VIP_START = 1 << 17,        /* vip-manager@V-C */
        ACTION_VIP_RESTART = 1 << 18,      /* its .vip changed */
        ACTION_VIP_STOP = 1 << 19,
        ACTION_LOG_VIP_MISSING = 1 << 20,  /* a .vip, and no vip-manager@.service */
} Action;

/* What the unit manager is asked to do: a failure of one of these is tried again. */
#define ACTIONS_VIP (ACTION_VIP_START | ACTION_VIP_RESTART | ACTION_VIP_STOP)
#define ACTIONS_UNIT (ACTION_START | ACTION_RELOAD | ACTION_STOP | ACTION_TAKEOVER | ACTIONS_VIP)

typedef struct Policy {
        bool autostart;
        bool reload_on_change;
        bool takeover;
        unsigned removal_settle_ms; /* how long a configuration must stay away before its unit is stopped */
} Policy;

/* Returns a set of Action bits; *next is the memo to keep. */
unsigned reconcile_decide(const ClusterFacts *facts, const ClusterMemo *prev, const Policy *policy,
                          ClusterMemo *next);

/* Field by field (the struct has padding). */
bool reconcile_memo_equal(const ClusterMemo *a, const ClusterMemo *b);

/* "generate start" etc., for logs and tests. */
const char *reconcile_actions_to_string(unsigned actions, char *buf, unsigned size);
