/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "reconcile.h"

static bool stopped(UnitState u) {
        return u == UNIT_STATE_INACTIVE || u == UNIT_STATE_FAILED;
}

/* The configuration: the only signal to start and stop a unit. */
static unsigned decide_config(const ClusterFacts *f, const ClusterMemo *prev, const Policy *p, bool cluster_changed,
                              ClusterMemo *next) {
        unsigned a = 0;

        if (f->config_present && f->config_conflict) {
                /* Another configuration has this data directory, scope or port: a second Patroni on the same
                 * data (an admin's backup copy, say). Never started nor reloaded; the memo stays as it was, so
                 * that once the conflict is gone it counts as new or changed. */
                if (!prev->conflict_logged)
                        a |= ACTION_LOG_CONFLICT;
                next->conflict_logged = true;
                return a;
        }
        next->conflict_logged = false;

        if (f->config_present && prev->removed)
                a |= ACTION_FORGET_REMOVAL; /* back, by whatever hand */
        if (f->config_present)
                next->removed = false;

        if (f->config_present && f->takeover_pending) {
                /* Handed over by the takeover unit, which starts patroni@ itself when the time comes. Tried
                 * again whenever the cluster changes, and at start-up or reload. */
                if (p->takeover && (!prev->config_known || cluster_changed || f->retry))
                        a |= ACTION_TAKEOVER;
                else if (!p->takeover && !prev->takeover_off_logged) {
                        a |= ACTION_LOG_TAKEOVER_OFF;
                        next->takeover_off_logged = true;
                }
                next->config_known = true;
                next->config_hash = f->config_hash;
        } else if (f->config_present) {
                next->takeover_off_logged = false;
                if (!prev->config_known) {
                        /* new, or first seen since start-up: this is what brings Patroni up at boot */
                        if (p->autostart && f->unit != UNIT_STATE_ACTIVE)
                                a |= ACTION_START;
                } else if (prev->config_hash != f->config_hash && p->reload_on_change) {
                        /* a unit an admin stopped is left alone until its configuration changes */
                        if (stopped(f->unit))
                                a |= p->autostart ? ACTION_START : 0;
                        else
                                a |= ACTION_RELOAD;
                }
                next->config_known = true;
                next->config_hash = f->config_hash;
        } else if (prev->config_known && p->removal_settle_ms > 0 &&
                   (!prev->absent || f->now_ms - prev->absent_since_ms < p->removal_settle_ms)) {
                /* an editor's save or a rename in two steps: not a removal yet */
                a |= ACTION_WAIT_REMOVAL;
                next->absent = true;
                next->absent_since_ms = prev->absent ? prev->absent_since_ms : f->now_ms;
                return a;
        } else if (prev->config_known) {
                if (f->unit != UNIT_STATE_INACTIVE)
                        a |= ACTION_STOP;
                next->config_known = false;
                next->config_hash = 0;
                if (f->cluster_present || f->join_ready) {
                        /* Removed by an admin: not generated again while the cluster stays as it is (a joined
                         * scope not cloned yet has no cluster: while there is none). */
                        a |= ACTION_REMEMBER_REMOVAL;
                        next->removed = true;
                        next->removed_sig = f->cluster_sig;
                }
        }
        return a;
}

/* vip-manager@V-C goes with the configuration: it runs while the configuration is known and a .vip is there. */
static unsigned decide_vip(const ClusterFacts *f, const ClusterMemo *prev, const Policy *p, ClusterMemo *next) {
        bool want = f->vip_present && next->config_known && !f->config_conflict && p->autostart;
        unsigned a = 0;

        if (want && !f->vip_installed) {
                if (!prev->vip_missing_logged)
                        a |= ACTION_LOG_VIP_MISSING;
                next->vip_missing_logged = true;
                want = false;
        } else
                next->vip_missing_logged = false;
        if (want && (!prev->vip_started || f->retry))
                a |= ACTION_VIP_START; /* at start-up and on reload too: a start of a running unit changes nothing */
        else if (want && prev->vip_hash != f->vip_hash)
                a |= ACTION_VIP_RESTART;
        else if (!want && prev->vip_started)
                a |= ACTION_VIP_STOP;
        next->vip_started = want;
        next->vip_hash = want ? f->vip_hash : 0;
        return a;
}

unsigned reconcile_decide(const ClusterFacts *f, const ClusterMemo *prev, const Policy *p, ClusterMemo *next) {
        bool cluster_changed;
        unsigned a = 0;

        *next = *prev;

        if (!f->in_scope) {
                if ((f->config_present || f->cluster_present) && !prev->skip_logged) {
                        a |= ACTION_LOG_SKIPPED;
                        next->skip_logged = true;
                }
                return a;
        }
        next->skip_logged = false;

        /* A removal remembered from before a restart counts as seen now. */
        if (!prev->cluster_known && !prev->config_known && !prev->removed && f->removal_on_disk) {
                next->removed = true;
                next->removed_sig = f->removal_sig_on_disk;
        }
        cluster_changed = f->cluster_present && (!prev->cluster_known || prev->cluster_sig != f->cluster_sig);

        if (f->config_read_error && !prev->read_warned)
                a |= ACTION_LOG_READ_ERROR;
        next->read_warned = f->config_read_error;
        /* new or changed content; a conflicting one (never known) only when its conflict is first said */
        if (f->config_present && !f->config_read_error &&
            (!prev->config_known || prev->config_hash != f->config_hash) &&
            !(f->config_conflict && prev->conflict_logged))
                a |= ACTION_INSPECT_CONFIG;

        ClusterMemo base = *next;
        next->absent = false; /* unless the configuration is still awaited */
        next->absent_since_ms = 0;
        a |= decide_config(f, &base, p, cluster_changed, next);

        /* The cluster: a settled one without configuration gets one; a removed one is only logged. */
        if (f->cluster_present) {
                bool removed_as_is = next->removed && next->removed_sig == f->cluster_sig;
                bool tried_as_is = prev->tried && prev->tried_sig == f->cluster_sig && !f->retry;

                if (next->removed && !removed_as_is && !f->config_present) {
                        a |= ACTION_FORGET_REMOVAL; /* its files changed since: a new start */
                        next->removed = false;
                }
                bool absent = !f->config_present && !(a & ACTION_WAIT_REMOVAL);

                if (absent && f->join_blocked) {
                        /* Its scope is in the DCS, to be joined: a handover of this cluster would fail (the DCS
                         * has members), and joining would replace it. Neither: said once. */
                        if (!prev->join_blocked_logged)
                                a |= ACTION_LOG_JOIN_BLOCKED;
                        next->join_blocked_logged = true;
                } else if (absent && f->join_pending) {
                        /* decided again once the DCS is read */
                } else if (absent && f->join_wait) {
                        /* Handed over, it would lead the scope that this host is to join: an empty cluster (the
                         * one installing postgresql-NN makes) waits for the DCS to say who leads. */
                        if (!prev->join_wait_logged)
                                a |= ACTION_LOG_JOIN_WAIT;
                        next->join_wait_logged = true;
                } else if (absent && !removed_as_is && !tried_as_is && f->config_dir_present) {
                        if (f->cluster_error) {
                                a |= ACTION_LOG_CLUSTER_ERROR;
                                next->tried = true;
                                next->tried_sig = f->cluster_sig;
                        } else if (f->cluster_ready) {
                                a |= ACTION_GENERATE;
                                next->tried = true;
                                next->tried_sig = f->cluster_sig;
                        }
                }
                next->cluster_known = true;
                next->cluster_sig = f->cluster_sig;
        } else {
                if (prev->cluster_known)
                        a |= ACTION_LOG_CLUSTER_GONE;
                if (next->removed && !f->config_present && (a & ACTION_LOG_CLUSTER_GONE)) {
                        a |= ACTION_FORGET_REMOVAL; /* dropped: a cluster made again under its name is another */
                        next->removed = false;
                }
                next->cluster_known = false;
                next->cluster_sig = 0;
                next->tried = false;
                next->tried_sig = 0;
                /* A scope in the DCS to join: the configuration of a replica, which Patroni clones from. */
                if (f->join_ready && !f->config_present && !(a & ACTION_WAIT_REMOVAL) && !next->removed &&
                    f->config_dir_present && (!prev->join_tried || f->retry)) {
                        a |= ACTION_GENERATE;
                        next->join_tried = true;
                }
        }
        if (!f->join_ready)
                next->join_tried = false;
        if (!f->join_blocked)
                next->join_blocked_logged = false;
        if (!f->join_wait)
                next->join_wait_logged = false;
        if (!next->removed)
                next->removed_sig = 0;
        return a | decide_vip(f, prev, p, next);
}

bool reconcile_memo_equal(const ClusterMemo *a, const ClusterMemo *b) {
        return a->config_known == b->config_known && a->config_hash == b->config_hash &&
               a->cluster_known == b->cluster_known && a->cluster_sig == b->cluster_sig && a->removed == b->removed &&
               a->removed_sig == b->removed_sig && a->tried == b->tried && a->tried_sig == b->tried_sig &&
               a->absent == b->absent && a->absent_since_ms == b->absent_since_ms && a->skip_logged == b->skip_logged &&
               a->takeover_off_logged == b->takeover_off_logged && a->conflict_logged == b->conflict_logged &&
               a->read_warned == b->read_warned && a->join_tried == b->join_tried &&
               a->join_blocked_logged == b->join_blocked_logged && a->join_wait_logged == b->join_wait_logged &&
               a->vip_started == b->vip_started && a->vip_hash == b->vip_hash &&
               a->vip_missing_logged == b->vip_missing_logged;
}

const char *reconcile_actions_to_string(unsigned a, char *buf, unsigned size) {
        static const char *const names[] = { "generate",         "start",          "reload",
                                             "stop",             "log-cluster-gone", "log-skipped",
                                             "takeover",         "log-takeover-off", "log-conflict",
                                             "log-cluster-error", "wait-removal",   "remember-removal",
                                             "forget-removal",   "log-read-error", "inspect-config",
                                             "log-join-blocked", "log-join-wait", "vip-start",
                                             "vip-restart",      "vip-stop",       "log-vip-missing" };
        size_t n = 0;

        buf[0] = 0;
        for (unsigned i = 0; i < ELEMENTSOF(names); i++)
                if (a & (1U << i))
                        n += (size_t) snprintf(buf + n, size > n ? size - n : 0, "%s%s", n ? " " : "", names[i]);
        if (!buf[0])
                snprintf(buf, size, "none");
        return buf;
}
