/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "reconcile.h"
#include "testutil.h"

/* The decision table: one row per situation, with the memo before and the expected actions and memo after. */
typedef struct Row {
        const char *situation;
        ClusterFacts facts;
        ClusterMemo prev;
        Policy policy;
        const char *actions;
        ClusterMemo next;
} Row;

#define ON { .autostart = true, .reload_on_change = true, .takeover = true, .removal_settle_ms = 5000 }
#define NO_TAKEOVER { .autostart = true, .reload_on_change = true, .takeover = false, .removal_settle_ms = 5000 }
#define MARKED .takeover_pending = true
#define IN .in_scope = true
#define DIR .config_dir_present = true
#define GONE .now_ms = 10000                       /* facts: seen absent again at 10 s ... */
#define ABSENT .absent = true, .absent_since_ms = 1000 /* memo: ... and first at 1 s: removal_settle_ms is over */

static const Row rows[] = {
        { "start-up: config exists, unit state unknown",
          { IN, .config_present = true, .config_hash = 1 }, {}, ON,
          "start inspect-config", { .config_known = true, .config_hash = 1 } },
        { "start-up: config exists, unit already active",
          { IN, .config_present = true, .config_hash = 1, .unit = UNIT_STATE_ACTIVE }, {}, ON,
          "inspect-config", { .config_known = true, .config_hash = 1 } },
        { "start-up: config exists, unit failed",
          { IN, .config_present = true, .config_hash = 1, .unit = UNIT_STATE_FAILED }, {}, ON,
          "start inspect-config", { .config_known = true, .config_hash = 1 } },
        { "config appears (admin or generated)",
          { IN, .config_present = true, .config_hash = 7, .cluster_present = true, .cluster_sig = 2 },
          { .cluster_known = true, .cluster_sig = 2 }, ON,
          "start inspect-config", { .config_known = true, .config_hash = 7, .cluster_known = true, .cluster_sig = 2 } },
        { "config appears, autostart off",
          { IN, .config_present = true, .config_hash = 7 }, {}, { .autostart = false, .reload_on_change = true },
          "inspect-config", { .config_known = true, .config_hash = 7 } },
        { "config rewritten with the same content",
          { IN, .config_present = true, .config_hash = 7 }, { .config_known = true, .config_hash = 7 }, ON,
          "none", { .config_known = true, .config_hash = 7 } },
        { "config content changes",
          { IN, .config_present = true, .config_hash = 8 }, { .config_known = true, .config_hash = 7 }, ON,
          "reload inspect-config", { .config_known = true, .config_hash = 8 } },
        { "config changes, reload_on_change off",
          { IN, .config_present = true, .config_hash = 8 }, { .config_known = true, .config_hash = 7 },
          { .autostart = true, .reload_on_change = false },
          "inspect-config", { .config_known = true, .config_hash = 8 } },
        { "config changes while an admin has the unit stopped",
          { IN, .config_present = true, .config_hash = 8, .unit = UNIT_STATE_INACTIVE },
          { .config_known = true, .config_hash = 7 }, ON,
          "start inspect-config", { .config_known = true, .config_hash = 8 } },
        { "unit stopped by an admin, config unchanged: left alone",
          { IN, .config_present = true, .config_hash = 7, .unit = UNIT_STATE_INACTIVE },
          { .config_known = true, .config_hash = 7 }, ON,
          "none", { .config_known = true, .config_hash = 7 } },
        { "config absent, first seen so (an editor's save?): wait, from now on, nothing stopped",
          { IN, DIR, .now_ms = 10000, .cluster_present = true, .cluster_ready = true, .cluster_sig = 4 },
          { .config_known = true, .config_hash = 7, .cluster_known = true, .cluster_sig = 4 }, ON,
          "wait-removal",
          { .config_known = true, .config_hash = 7, .cluster_known = true, .cluster_sig = 4, .absent = true,
            .absent_since_ms = 10000 } },
        { "config still absent, not for removal_settle_ms yet: wait on, counted from the first time",
          { IN, DIR, .now_ms = 10000, .cluster_present = true, .cluster_ready = true, .cluster_sig = 4 },
          { .config_known = true, .config_hash = 7, .cluster_known = true, .cluster_sig = 4, .absent = true,
            .absent_since_ms = 8000 }, ON,
          "wait-removal",
          { .config_known = true, .config_hash = 7, .cluster_known = true, .cluster_sig = 4, .absent = true,
            .absent_since_ms = 8000 } },
        { "config back before removal_settle_ms (the save is over): nothing, no longer waiting",
          { IN, DIR, .now_ms = 10000, .config_present = true, .config_hash = 7, .cluster_present = true,
            .cluster_sig = 4 },
          { .config_known = true, .config_hash = 7, .cluster_known = true, .cluster_sig = 4, .absent = true,
            .absent_since_ms = 8000 }, ON,
          "none", { .config_known = true, .config_hash = 7, .cluster_known = true, .cluster_sig = 4 } },
        { "config absent with removal_settle_ms 0: stopped at once",
          { IN, .now_ms = 10000 }, { .config_known = true, .config_hash = 7 },
          { .autostart = true, .reload_on_change = true },
          "stop", {} },
        { "config cannot be read (mode 000, EIO): as if unchanged, said once",
          { IN, .config_present = true, .config_hash = 7, .config_read_error = true },
          { .config_known = true, .config_hash = 7 }, ON,
          "log-read-error", { .config_known = true, .config_hash = 7, .read_warned = true } },
        { "config still unreadable: nothing said again",
          { IN, .config_present = true, .config_hash = 7, .config_read_error = true },
          { .config_known = true, .config_hash = 7, .read_warned = true }, ON,
          "none", { .config_known = true, .config_hash = 7, .read_warned = true } },
        { "config readable again, changed meanwhile: reloaded and inspected; a new error would be said again",
          { IN, .config_present = true, .config_hash = 8 },
          { .config_known = true, .config_hash = 7, .read_warned = true }, ON,
          "reload inspect-config", { .config_known = true, .config_hash = 8 } },
        { "admin removes the config of an existing cluster: stop, and remember the cluster as it is",
          { IN, DIR, GONE, .cluster_present = true, .cluster_ready = true, .cluster_sig = 4 },
          { .config_known = true, .config_hash = 7, .cluster_known = true, .cluster_sig = 4, ABSENT }, ON,
          "stop remember-removal",
          { .cluster_known = true, .cluster_sig = 4, .removed = true, .removed_sig = 4 } },
        { "removed by the admin, a rescan (overflow, new version directory, reload) sees the cluster unchanged",
          { IN, DIR, .retry = true, .cluster_present = true, .cluster_ready = true, .cluster_sig = 4 },
          { .cluster_known = true, .cluster_sig = 4, .removed = true, .removed_sig = 4 }, ON,
          "none", { .cluster_known = true, .cluster_sig = 4, .removed = true, .removed_sig = 4 } },
        { "removed by the admin, then the cluster's files change: generated again",
          { IN, DIR, .cluster_present = true, .cluster_ready = true, .cluster_sig = 5 },
          { .cluster_known = true, .cluster_sig = 4, .removed = true, .removed_sig = 4 }, ON,
          "generate forget-removal", { .cluster_known = true, .cluster_sig = 5, .tried = true, .tried_sig = 5 } },
        { "start-up after a removal the daemon remembers: not generated",
          { IN, DIR, .cluster_present = true, .cluster_ready = true, .cluster_sig = 4, .removal_on_disk = true,
            .removal_sig_on_disk = 4 },
          {}, ON,
          "none", { .cluster_known = true, .cluster_sig = 4, .removed = true, .removed_sig = 4 } },
        { "start-up after a removal, the cluster made again since: generated",
          { IN, DIR, .cluster_present = true, .cluster_ready = true, .cluster_sig = 6, .removal_on_disk = true,
            .removal_sig_on_disk = 4 },
          {}, ON,
          "generate forget-removal", { .cluster_known = true, .cluster_sig = 6, .tried = true, .tried_sig = 6 } },
        { "the admin puts the removed config back: started, removal forgotten",
          { IN, DIR, .config_present = true, .config_hash = 7, .cluster_present = true, .cluster_sig = 4 },
          { .cluster_known = true, .cluster_sig = 4, .removed = true, .removed_sig = 4 }, ON,
          "start forget-removal inspect-config", { .config_known = true, .config_hash = 7, .cluster_known = true, .cluster_sig = 4 } },
        { "/etc/patroni itself gone: every config's removal remembered, none generated",
          { IN, GONE, .cluster_present = true, .cluster_ready = true, .cluster_sig = 4 },
          { .config_known = true, .config_hash = 7, .cluster_known = true, .cluster_sig = 4, ABSENT }, ON,
          "stop remember-removal",
          { .cluster_known = true, .cluster_sig = 4, .removed = true, .removed_sig = 4 } },
        { "a new cluster while /etc/patroni is gone: not generated (it would recreate the directory)",
          { IN, .cluster_present = true, .cluster_ready = true, .cluster_sig = 9 }, {}, ON,
          "none", { .cluster_known = true, .cluster_sig = 9 } },
        { "config removed or renamed away",
          { IN, GONE }, { .config_known = true, .config_hash = 7, ABSENT }, ON,
          "stop", {} },
        { "config removed, unit already inactive",
          { IN, GONE, .unit = UNIT_STATE_INACTIVE }, { .config_known = true, .config_hash = 7, ABSENT }, ON,
          "none", {} },
        { "cluster settled, no config: generate",
          { IN, DIR, .cluster_present = true, .cluster_ready = true, .cluster_sig = 1 }, {}, ON,
          "generate", { .cluster_known = true, .cluster_sig = 1, .tried = true, .tried_sig = 1 } },
        { "cluster not settled yet (no port, events still coming, a file open for writing)",
          { IN, DIR, .cluster_present = true, .cluster_sig = 1 }, {}, ON,
          "none", { .cluster_known = true, .cluster_sig = 1 } },
        { "cluster's files cannot be used: logged once, not generated",
          { IN, DIR, .cluster_present = true, .cluster_error = true, .cluster_sig = 1 }, {}, ON,
          "log-cluster-error", { .cluster_known = true, .cluster_sig = 1, .tried = true, .tried_sig = 1 } },
        { "cluster's files still unusable, unchanged: quiet",
          { IN, DIR, .cluster_present = true, .cluster_error = true, .cluster_sig = 1 },
          { .cluster_known = true, .cluster_sig = 1, .tried = true, .tried_sig = 1 }, ON,
          "none", { .cluster_known = true, .cluster_sig = 1, .tried = true, .tried_sig = 1 } },
        { "cluster settled, config exists (whoever wrote it): never overwrite",
          { IN, DIR, .cluster_present = true, .cluster_ready = true, .config_present = true, .config_hash = 3 },
          { .config_known = true, .config_hash = 3, .cluster_known = true }, ON,
          "none", { .config_known = true, .config_hash = 3, .cluster_known = true } },
        { "generation failed before, cluster unchanged: no retry loop",
          { IN, DIR, .cluster_present = true, .cluster_ready = true, .cluster_sig = 1 },
          { .tried = true, .tried_sig = 1, .cluster_known = true, .cluster_sig = 1 }, ON,
          "none", { .tried = true, .tried_sig = 1, .cluster_known = true, .cluster_sig = 1 } },
        { "generation failed before, the cluster's files changed: tried again",
          { IN, DIR, .cluster_present = true, .cluster_ready = true, .cluster_sig = 2 },
          { .tried = true, .tried_sig = 1, .cluster_known = true, .cluster_sig = 1 }, ON,
          "generate", { .tried = true, .tried_sig = 2, .cluster_known = true, .cluster_sig = 2 } },
        { "generation failed before, settings reloaded: tried again",
          { IN, DIR, .retry = true, .cluster_present = true, .cluster_ready = true, .cluster_sig = 1 },
          { .tried = true, .tried_sig = 1, .cluster_known = true, .cluster_sig = 1 }, ON,
          "generate", { .tried = true, .tried_sig = 1, .cluster_known = true, .cluster_sig = 1 } },
        { "cluster directory removed (clone helper): log only",
          { IN, .config_present = true, .config_hash = 3 },
          { .config_known = true, .config_hash = 3, .cluster_known = true }, ON,
          "log-cluster-gone", { .config_known = true, .config_hash = 3 } },
        { "cluster directory removed, no config",
          { IN }, { .cluster_known = true }, ON,
          "log-cluster-gone", {} },
        { "cluster dropped after its config was removed: the removal is forgotten with it",
          { IN, DIR }, { .cluster_known = true, .cluster_sig = 4, .removed = true, .removed_sig = 4 }, ON,
          "log-cluster-gone forget-removal", {} },
        { "config for a cluster that does not exist yet (replica before its clone)",
          { IN, .config_present = true, .config_hash = 4 }, {}, ON,
          "start inspect-config", { .config_known = true, .config_hash = 4 } },
        { "a copy of another config (same data directory or scope): never started, logged once",
          { IN, .config_present = true, .config_hash = 4, .config_conflict = true }, {}, ON,
          "log-conflict inspect-config", { .conflict_logged = true } },
        { "the copy still there: quiet",
          { IN, .config_present = true, .config_hash = 4, .config_conflict = true }, { .conflict_logged = true }, ON,
          "none", { .conflict_logged = true } },
        { "a running config edited into a conflict: not reloaded onto the other's data",
          { IN, .config_present = true, .config_hash = 5, .config_conflict = true, .unit = UNIT_STATE_ACTIVE },
          { .config_known = true, .config_hash = 4 }, ON,
          "log-conflict inspect-config", { .config_known = true, .config_hash = 4, .conflict_logged = true } },
        { "the conflict resolved (the original removed): started as new",
          { IN, .config_present = true, .config_hash = 4 }, { .conflict_logged = true }, ON,
          "start inspect-config", { .config_known = true, .config_hash = 4 } },
        { "out of scope: skipped, logged once",
          { .cluster_present = true, .cluster_ready = true }, {}, ON,
          "log-skipped", { .skip_logged = true } },
        { "out of scope, already logged",
          { .cluster_present = true, .cluster_ready = true, .config_present = true }, { .skip_logged = true }, ON,
          "none", { .skip_logged = true } },
        { "out of scope: a config is not started either",
          { .config_present = true, .config_hash = 9 }, {}, ON,
          "log-skipped", { .skip_logged = true } },
        { "back in scope after a reload, config already known and unchanged",
          { IN, .config_present = true, .config_hash = 9 }, { .config_known = true, .config_hash = 9, .skip_logged = true }, ON,
          "none", { .config_known = true, .config_hash = 9 } },
        { "nothing there, nothing known",
          { IN }, {}, ON,
          "none", {} },
        { "config and cluster both appear: start the config, no generation",
          { IN, DIR, .config_present = true, .config_hash = 5, .cluster_present = true, .cluster_ready = true,
            .cluster_sig = 1 }, {}, ON,
          "start inspect-config", { .config_known = true, .config_hash = 5, .cluster_known = true, .cluster_sig = 1 } },
        { "marked cluster: its new config starts the takeover unit, not patroni@",
          { IN, MARKED, .config_present = true, .config_hash = 5, .cluster_present = true, .cluster_ready = true },
          { .cluster_known = true }, ON,
          "takeover inspect-config", { .config_known = true, .config_hash = 5, .cluster_known = true } },
        { "marked cluster at start-up (a handover cut short): takeover again",
          { IN, MARKED, .retry = true, .config_present = true, .config_hash = 5, .cluster_present = true },
          {}, ON,
          "takeover inspect-config", { .config_known = true, .config_hash = 5, .cluster_known = true } },
        { "marked cluster whose files changed: tried again",
          { IN, MARKED, .config_present = true, .config_hash = 5, .cluster_present = true, .cluster_sig = 2 },
          { .config_known = true, .config_hash = 5, .cluster_known = true, .cluster_sig = 1 }, ON,
          "takeover", { .config_known = true, .config_hash = 5, .cluster_known = true, .cluster_sig = 2 } },
        { "marked cluster, settings reloaded: tried again",
          { IN, MARKED, .retry = true, .config_present = true, .config_hash = 5, .cluster_present = true },
          { .config_known = true, .config_hash = 5, .cluster_known = true }, ON,
          "takeover", { .config_known = true, .config_hash = 5, .cluster_known = true } },
        { "marked cluster, nothing changed (an overflow rescan, say): nothing",
          { IN, MARKED, .config_present = true, .config_hash = 5, .cluster_present = true },
          { .config_known = true, .config_hash = 5, .cluster_known = true }, ON,
          "none", { .config_known = true, .config_hash = 5, .cluster_known = true } },
        { "marked cluster, config edited: no reload of a Patroni that may not run yet",
          { IN, MARKED, .config_present = true, .config_hash = 6, .cluster_present = true },
          { .config_known = true, .config_hash = 5, .cluster_known = true }, ON,
          "inspect-config", { .config_known = true, .config_hash = 6, .cluster_known = true } },
        { "marked cluster, takeover off: nothing started, logged once",
          { IN, MARKED, .config_present = true, .config_hash = 5, .cluster_present = true }, { .cluster_known = true },
          NO_TAKEOVER,
          "log-takeover-off inspect-config",
          { .config_known = true, .config_hash = 5, .cluster_known = true, .takeover_off_logged = true } },
        { "marked cluster, takeover off, already logged",
          { IN, MARKED, .retry = true, .config_present = true, .config_hash = 5, .cluster_present = true },
          { .config_known = true, .config_hash = 5, .cluster_known = true, .takeover_off_logged = true }, NO_TAKEOVER,
          "none", { .config_known = true, .config_hash = 5, .cluster_known = true, .takeover_off_logged = true } },
        { "handed over (mark gone): the known config is not started again",
          { IN, .config_present = true, .config_hash = 5, .cluster_present = true, .unit = UNIT_STATE_ACTIVE },
          { .config_known = true, .config_hash = 5, .cluster_known = true }, ON,
          "none", { .config_known = true, .config_hash = 5, .cluster_known = true } },
        { "marked cluster's config removed: stop patroni@",
          { IN, MARKED, GONE, .cluster_present = true },
          { .config_known = true, .config_hash = 5, .cluster_known = true, ABSENT }, ON,
          "stop remember-removal", { .cluster_known = true, .removed = true } },

        /* join: a scope in the DCS, no cluster here */
        { "join: a scope to join, nothing here: generate the replica's config",
          { IN, DIR, .join_ready = true }, {}, ON, "generate", { .join_tried = true } },
        { "join: generating failed (no config came): not again until a reload",
          { IN, DIR, .join_ready = true }, { .join_tried = true }, ON, "none", { .join_tried = true } },
        { "join: ... and on reload, again",
          { IN, DIR, .retry = true, .join_ready = true }, { .join_tried = true }, ON, "generate", { .join_tried = true } },
        { "join: the config is there: started like any other (the scope is no longer to join)",
          { IN, .config_present = true, .config_hash = 3 }, { .join_tried = true }, ON,
          "start inspect-config", { .config_known = true, .config_hash = 3 } },
        { "join: no /etc/patroni: nothing generated",
          { IN, .join_ready = true }, {}, ON, "none", {} },
        { "join: out of scope (include/exclude): nothing",
          { DIR, .join_ready = true }, {}, ON, "none", {} },
        { "join: an admin removed the joined config before the clone: stopped, not generated again",
          { IN, DIR, GONE, .join_ready = true }, { .config_known = true, .config_hash = 3, ABSENT }, ON,
          "stop remember-removal", { .removed = true } },
        { "join: ... and later decisions leave it removed",
          { IN, DIR, .retry = true, .join_ready = true }, { .removed = true }, ON, "none", { .removed = true } },
        { "join: the scope lost its leader (not joinable now): nothing, the memo forgets the try",
          { IN, DIR }, { .join_tried = true }, ON, "none", {} },
        { "join: the config is removed while the scope has no leader: stopped as any removal, nothing remembered",
          { IN, DIR, GONE }, { .config_known = true, .config_hash = 3, ABSENT }, ON, "stop", {} },
        /* join: a pg-common cluster of that name here */
        { "join blocked: a local cluster, no config: neither generated nor handed over, said once",
          { IN, DIR, .cluster_present = true, .cluster_ready = true, .cluster_sig = 4, .join_blocked = true }, {}, ON,
          "log-join-blocked", { .cluster_known = true, .cluster_sig = 4, .join_blocked_logged = true } },
        { "join blocked, said already",
          { IN, DIR, .retry = true, .cluster_present = true, .cluster_ready = true, .cluster_sig = 4,
            .join_blocked = true },
          { .cluster_known = true, .cluster_sig = 4, .join_blocked_logged = true }, ON,
          "none", { .cluster_known = true, .cluster_sig = 4, .join_blocked_logged = true } },
        { "join: set, the DCS not read yet: a cluster here waits (its scope may be in the DCS)",
          { IN, DIR, .cluster_present = true, .cluster_ready = true, .cluster_sig = 4, .join_pending = true }, {}, ON,
          "none", { .cluster_known = true, .cluster_sig = 4 } },
        { "join: a pristine cluster here, its scope named by join: but not led in the DCS: waits, said once",
          { IN, DIR, .cluster_present = true, .cluster_ready = true, .cluster_sig = 4, .join_wait = true }, {}, ON,
          "log-join-wait", { .cluster_known = true, .cluster_sig = 4, .join_wait_logged = true } },
        { "join: ... said already",
          { IN, DIR, .retry = true, .cluster_present = true, .cluster_ready = true, .cluster_sig = 4, .join_wait = true },
          { .cluster_known = true, .cluster_sig = 4, .join_wait_logged = true }, ON,
          "none", { .cluster_known = true, .cluster_sig = 4, .join_wait_logged = true } },
        { "join: ... data written to it (not pristine now): handed over as any cluster",
          { IN, DIR, .cluster_present = true, .cluster_ready = true, .cluster_sig = 5 },
          { .cluster_known = true, .cluster_sig = 4, .join_wait_logged = true }, ON,
          "generate", { .cluster_known = true, .cluster_sig = 5, .tried = true, .tried_sig = 5 } },
        { "join blocked no more (the scope left the DCS): the cluster gets its config, as any new one",
          { IN, DIR, .cluster_present = true, .cluster_ready = true, .cluster_sig = 4 },
          { .cluster_known = true, .cluster_sig = 4, .join_blocked_logged = true }, ON,
          "generate", { .cluster_known = true, .cluster_sig = 4, .tried = true, .tried_sig = 4 } },
        { "join blocked, the local cluster dropped by the admin: the scope is joined",
          { IN, DIR, .join_ready = true }, { .cluster_known = true, .cluster_sig = 4, .join_blocked_logged = true }, ON,
          "generate log-cluster-gone", { .join_tried = true } },
#define VIP .vip_present = true, .vip_installed = true
#define K .config_known = true, .config_hash = 7
        { "vip: a .vip beside a new configuration: vip-manager@ starts with Patroni",
          { IN, .config_present = true, .config_hash = 7, VIP, .vip_hash = 3 }, {}, ON,
          "start inspect-config vip-start", { K, .vip_started = true, .vip_hash = 3 } },
        { "vip: a .vip appears beside a running configuration",
          { IN, .config_present = true, .config_hash = 7, VIP, .vip_hash = 3 }, { K }, ON,
          "vip-start", { K, .vip_started = true, .vip_hash = 3 } },
        { "vip: nothing changed",
          { IN, .config_present = true, .config_hash = 7, VIP, .vip_hash = 3 }, { K, .vip_started = true, .vip_hash = 3 }, ON,
          "none", { K, .vip_started = true, .vip_hash = 3 } },
        { "vip: the .vip changes: restarted (vip-manager reads it at start)",
          { IN, .config_present = true, .config_hash = 7, VIP, .vip_hash = 4 }, { K, .vip_started = true, .vip_hash = 3 }, ON,
          "vip-restart", { K, .vip_started = true, .vip_hash = 4 } },
        { "vip: start-up or reload: started again (a no-op if it runs)",
          { IN, .retry = true, .config_present = true, .config_hash = 7, VIP, .vip_hash = 3 },
          { K, .vip_started = true, .vip_hash = 3 }, ON,
          "vip-start", { K, .vip_started = true, .vip_hash = 3 } },
        { "vip: the .vip removed: stopped, Patroni left running",
          { IN, .config_present = true, .config_hash = 7 }, { K, .vip_started = true, .vip_hash = 3 }, ON,
          "vip-stop", { K } },
        { "vip: the configuration removed for good: both stopped",
          { IN, DIR, GONE, VIP, .vip_hash = 3 }, { K, ABSENT, .vip_started = true, .vip_hash = 3 }, ON,
          "stop vip-stop", {} },
        { "vip: the configuration away for a moment (an editor's save): vip-manager left running",
          { IN, DIR, .now_ms = 10000, VIP, .vip_hash = 3 }, { K, .vip_started = true, .vip_hash = 3 }, ON,
          "wait-removal", { K, .absent = true, .absent_since_ms = 10000, .vip_started = true, .vip_hash = 3 } },
        { "vip: vip-manager not installed: said once, nothing started",
          { IN, .config_present = true, .config_hash = 7, .vip_present = true, .vip_hash = 3 }, { K }, ON,
          "log-vip-missing", { K, .vip_missing_logged = true } },
        { "vip: ... said already: nothing (no loop)",
          { IN, .retry = true, .config_present = true, .config_hash = 7, .vip_present = true, .vip_hash = 3 },
          { K, .vip_missing_logged = true }, ON,
          "none", { K, .vip_missing_logged = true } },
        { "vip: ... vip-manager installed since: started",
          { IN, .config_present = true, .config_hash = 7, VIP, .vip_hash = 3 }, { K, .vip_missing_logged = true }, ON,
          "vip-start", { K, .vip_started = true, .vip_hash = 3 } },
        { "vip: a conflicting configuration: neither Patroni nor vip-manager",
          { IN, .config_present = true, .config_hash = 7, .config_conflict = true, VIP, .vip_hash = 3 }, {}, ON,
          "log-conflict inspect-config", { .conflict_logged = true } },
        { "vip: autostart off: not started",
          { IN, .config_present = true, .config_hash = 7, VIP, .vip_hash = 3 }, {}, { .autostart = false, .reload_on_change = true },
          "inspect-config", { K } },
        { "vip: out of scope: left alone",
          { .config_present = true, .config_hash = 7, VIP, .vip_hash = 3 }, { K, .vip_started = true, .vip_hash = 3 }, ON,
          "log-skipped", { K, .vip_started = true, .vip_hash = 3, .skip_logged = true } },
};

START_TEST(test_table) {
        unsigned wrong = 0;

        /* Every row is checked, and every wrong one named, before the test fails. */
        for (size_t i = 0; i < sizeof(rows) / sizeof(*rows); i++) {
                const Row *r = &rows[i];
                ClusterMemo next;
                char buf[128];
                unsigned a = reconcile_decide(&r->facts, &r->prev, &r->policy, &next);

                reconcile_actions_to_string(a, buf, sizeof(buf));
                if (strcmp(buf, r->actions) != 0) {
                        fprintf(stderr, "%s: actions \"%s\", expected \"%s\"\n", r->situation, buf, r->actions);
                        wrong++;
                }
                if (!reconcile_memo_equal(&next, &r->next)) {
                        fprintf(stderr, "%s: memo differs\n", r->situation);
                        wrong++;
                }
        }
        ck_assert_uint_eq(wrong, 0);
}
END_TEST

START_TEST(test_vim_save_sequence) {
        /* Seen through the quiet period a vim save is one change: reload once, never stop+start. */
        ClusterMemo m = {}, n;
        Policy p = ON;
        ClusterFacts f = { IN, .config_present = true, .config_hash = 1 };

        ck_assert_uint_eq(reconcile_decide(&f, &m, &p, &n), ACTION_START | ACTION_INSPECT_CONFIG);
        m = n;
        f.config_hash = 2;
        ck_assert_uint_eq(reconcile_decide(&f, &m, &p, &n), ACTION_RELOAD | ACTION_INSPECT_CONFIG);
        m = n;
        ck_assert_uint_eq(reconcile_decide(&f, &m, &p, &n), 0);
}
END_TEST

START_TEST(test_removal_in_steps) {
        /* A configuration removed at 1 s: waited for from then on, stopped once removal_settle_ms has passed. */
        ClusterMemo m = { .config_known = true, .config_hash = 7 }, n;
        Policy p = ON;
        ClusterFacts f = { IN, .now_ms = 1000 };

        ck_assert_uint_eq(reconcile_decide(&f, &m, &p, &n), ACTION_WAIT_REMOVAL);
        ck_assert(n.absent);
        ck_assert_uint_eq(n.absent_since_ms, 1000);
        m = n;
        f.now_ms = 5999;
        ck_assert_uint_eq(reconcile_decide(&f, &m, &p, &n), ACTION_WAIT_REMOVAL);
        ck_assert_uint_eq(n.absent_since_ms, 1000);
        m = n;
        f.now_ms = 6000;
        ck_assert_uint_eq(reconcile_decide(&f, &m, &p, &n), ACTION_STOP);
        ck_assert(!n.absent && !n.config_known);
}
END_TEST

START_TEST(test_actions_to_string) {
        char buf[64];
        ck_assert_str_eq(reconcile_actions_to_string(ACTION_GENERATE | ACTION_STOP, buf, sizeof(buf)), "generate stop");
        ck_assert_str_eq(reconcile_actions_to_string(0, buf, sizeof(buf)), "none");
}
END_TEST

int main(void) {
        Suite *s = suite_create("reconcile");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_table);
        tcase_add_test(tc, test_vim_save_sequence);
        tcase_add_test(tc, test_removal_in_steps);
        tcase_add_test(tc, test_actions_to_string);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
