/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <string.h>

#include "reconcile.h"

static bool stopped(UnitState u) {
        return u == UNIT_STATE_INACTIVE || u == UNIT_STATE_FAILED;
}

unsigned reconcile_decide(const ClusterFacts *f, const ClusterMemo *prev, const Policy *p, ClusterMemo *next) {
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

        /* The configuration: the only signal to start and stop a unit. */
        if (f->config_present && f->takeover_pending) {
                /* Handed over by the takeover unit, which starts patroni@ itself when the time comes. Tried
                 * again whenever the cluster changes or a start-up, reload or rescan looks at it. */
                if (p->takeover && (!prev->config_known || f->cluster_changed))
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
        } else if (prev->config_known) {
                if (f->unit != UNIT_STATE_INACTIVE)
                        a |= ACTION_STOP;
                next->config_known = false;
                next->config_hash = 0;
        }

        /* The cluster: a settled one without configuration gets one; a removed one is only logged. */
        if (f->cluster_present) {
                if (!f->config_present && f->cluster_ready && f->cluster_changed && !prev->generate_failed)
                        a |= ACTION_GENERATE;
                next->cluster_known = true;
        } else if (prev->cluster_known) {
                a |= ACTION_LOG_CLUSTER_GONE;
                next->cluster_known = false;
        }
        return a;
}

const char *reconcile_actions_to_string(unsigned a, char *buf, unsigned size) {
        static const char *const names[] = { "generate",         "start",       "reload",   "stop",
                                             "log-cluster-gone", "log-skipped", "takeover", "log-takeover-off" };
        size_t n = 0;

        buf[0] = 0;
        for (unsigned i = 0; i < sizeof(names) / sizeof(*names); i++)
                if (a & (1U << i))
                        n += (size_t) snprintf(buf + n, size > n ? size - n : 0, "%s%s", n ? " " : "", names[i]);
        if (!buf[0])
                snprintf(buf, size, "none");
        return buf;
}
