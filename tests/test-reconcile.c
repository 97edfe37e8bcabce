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

#define ON { .autostart = true, .reload_on_change = true, .takeover = true }
#define NO_TAKEOVER { .autostart = true, .reload_on_change = true, .takeover = false }
#define MARKED .takeover_pending = true
#define IN .in_scope = true

static const Row rows[] = {
        { "start-up: config exists, unit state unknown",
          { IN, .config_present = true, .config_hash = 1 }, {}, ON,
          "start", { .config_known = true, .config_hash = 1 } },
        { "start-up: config exists, unit already active",
          { IN, .config_present = true, .config_hash = 1, .unit = UNIT_STATE_ACTIVE }, {}, ON,
          "none", { .config_known = true, .config_hash = 1 } },
        { "start-up: config exists, unit failed",
          { IN, .config_present = true, .config_hash = 1, .unit = UNIT_STATE_FAILED }, {}, ON,
          "start", { .config_known = true, .config_hash = 1 } },
        { "config appears (admin or generated)",
          { IN, .config_present = true, .config_hash = 7, .cluster_present = true },
          { .cluster_known = true }, ON,
          "start", { .config_known = true, .config_hash = 7, .cluster_known = true } },
        { "config appears, autostart off",
          { IN, .config_present = true, .config_hash = 7 }, {}, { .autostart = false, .reload_on_change = true },
          "none", { .config_known = true, .config_hash = 7 } },
        { "config rewritten with the same content",
          { IN, .config_present = true, .config_hash = 7 }, { .config_known = true, .config_hash = 7 }, ON,
          "none", { .config_known = true, .config_hash = 7 } },
        { "config content changes",
          { IN, .config_present = true, .config_hash = 8 }, { .config_known = true, .config_hash = 7 }, ON,
          "reload", { .config_known = true, .config_hash = 8 } },
        { "config changes, reload_on_change off",
          { IN, .config_present = true, .config_hash = 8 }, { .config_known = true, .config_hash = 7 },
          { .autostart = true, .reload_on_change = false },
          "none", { .config_known = true, .config_hash = 8 } },
        { "config changes while an admin has the unit stopped",
          { IN, .config_present = true, .config_hash = 8, .unit = UNIT_STATE_INACTIVE },
          { .config_known = true, .config_hash = 7 }, ON,
          "start", { .config_known = true, .config_hash = 8 } },
        { "unit stopped by an admin, config unchanged: left alone",
          { IN, .config_present = true, .config_hash = 7, .unit = UNIT_STATE_INACTIVE },
          { .config_known = true, .config_hash = 7 }, ON,
          "none", { .config_known = true, .config_hash = 7 } },
        { "admin removes the config of an unchanged cluster: stop, and do not generate it again",
          { IN, .cluster_present = true, .cluster_ready = true },
          { .config_known = true, .config_hash = 7, .cluster_known = true }, ON,
          "stop", { .cluster_known = true } },
        { "config removed or renamed away",
          { IN }, { .config_known = true, .config_hash = 7 }, ON,
          "stop", {} },
        { "config removed, unit already inactive",
          { IN, .unit = UNIT_STATE_INACTIVE }, { .config_known = true, .config_hash = 7 }, ON,
          "none", {} },
        { "cluster settled, no config: generate",
          { IN, .cluster_present = true, .cluster_ready = true, .cluster_changed = true }, {}, ON,
          "generate", { .cluster_known = true } },
        { "cluster not settled yet (no port, or events still coming)",
          { IN, .cluster_present = true }, {}, ON,
          "none", { .cluster_known = true } },
        { "cluster settled, config exists (whoever wrote it): never overwrite",
          { IN, .cluster_present = true, .cluster_ready = true, .cluster_changed = true, .config_present = true,
            .config_hash = 3 },
          { .config_known = true, .config_hash = 3, .cluster_known = true }, ON,
          "none", { .config_known = true, .config_hash = 3, .cluster_known = true } },
        { "generation failed before: no retry loop",
          { IN, .cluster_present = true, .cluster_ready = true, .cluster_changed = true }, { .generate_failed = true }, ON,
          "none", { .generate_failed = true, .cluster_known = true } },
        { "cluster directory removed (clone helper): log only",
          { IN, .config_present = true, .config_hash = 3 },
          { .config_known = true, .config_hash = 3, .cluster_known = true }, ON,
          "log-cluster-gone", { .config_known = true, .config_hash = 3 } },
        { "cluster directory removed, no config",
          { IN }, { .cluster_known = true }, ON,
          "log-cluster-gone", {} },
        { "config for a cluster that does not exist yet (replica before its clone)",
          { IN, .config_present = true, .config_hash = 4 }, {}, ON,
          "start", { .config_known = true, .config_hash = 4 } },
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
          { IN, .config_present = true, .config_hash = 5, .cluster_present = true, .cluster_ready = true,
            .cluster_changed = true }, {}, ON,
          "start", { .config_known = true, .config_hash = 5, .cluster_known = true } },
        { "marked cluster: its new config starts the takeover unit, not patroni@",
          { IN, MARKED, .config_present = true, .config_hash = 5, .cluster_present = true, .cluster_ready = true },
          { .cluster_known = true }, ON,
          "takeover", { .config_known = true, .config_hash = 5, .cluster_known = true } },
        { "marked cluster at start-up (a handover cut short): takeover again",
          { IN, MARKED, .config_present = true, .config_hash = 5, .cluster_present = true, .cluster_changed = true },
          {}, ON,
          "takeover", { .config_known = true, .config_hash = 5, .cluster_known = true } },
        { "marked cluster whose directory changed (or a reload): tried again",
          { IN, MARKED, .config_present = true, .config_hash = 5, .cluster_present = true, .cluster_changed = true },
          { .config_known = true, .config_hash = 5, .cluster_known = true }, ON,
          "takeover", { .config_known = true, .config_hash = 5, .cluster_known = true } },
        { "marked cluster, nothing changed: nothing",
          { IN, MARKED, .config_present = true, .config_hash = 5, .cluster_present = true },
          { .config_known = true, .config_hash = 5, .cluster_known = true }, ON,
          "none", { .config_known = true, .config_hash = 5, .cluster_known = true } },
        { "marked cluster, config edited: no reload of a Patroni that may not run yet",
          { IN, MARKED, .config_present = true, .config_hash = 6, .cluster_present = true },
          { .config_known = true, .config_hash = 5, .cluster_known = true }, ON,
          "none", { .config_known = true, .config_hash = 6, .cluster_known = true } },
        { "marked cluster, takeover off: nothing started, logged once",
          { IN, MARKED, .config_present = true, .config_hash = 5, .cluster_present = true }, { .cluster_known = true },
          NO_TAKEOVER,
          "log-takeover-off",
          { .config_known = true, .config_hash = 5, .cluster_known = true, .takeover_off_logged = true } },
        { "marked cluster, takeover off, already logged",
          { IN, MARKED, .config_present = true, .config_hash = 5, .cluster_present = true, .cluster_changed = true },
          { .config_known = true, .config_hash = 5, .cluster_known = true, .takeover_off_logged = true }, NO_TAKEOVER,
          "none", { .config_known = true, .config_hash = 5, .cluster_known = true, .takeover_off_logged = true } },
        { "handed over (mark gone): the known config is not started again",
          { IN, .config_present = true, .config_hash = 5, .cluster_present = true, .unit = UNIT_STATE_ACTIVE },
          { .config_known = true, .config_hash = 5, .cluster_known = true }, ON,
          "none", { .config_known = true, .config_hash = 5, .cluster_known = true } },
        { "marked cluster's config removed: stop patroni@",
          { IN, MARKED, .cluster_present = true }, { .config_known = true, .config_hash = 5, .cluster_known = true }, ON,
          "stop", { .cluster_known = true } },
};

START_TEST(test_table) {
        for (size_t i = 0; i < sizeof(rows) / sizeof(*rows); i++) {
                const Row *r = &rows[i];
                ClusterMemo next;
                char buf[128];
                unsigned a = reconcile_decide(&r->facts, &r->prev, &r->policy, &next);

                reconcile_actions_to_string(a, buf, sizeof(buf));
                ck_assert_msg(strcmp(buf, r->actions) == 0, "%s: actions \"%s\", expected \"%s\"", r->situation, buf,
                              r->actions);
                ck_assert_msg(memcmp(&next, &r->next, sizeof(next)) == 0, "%s: memo differs", r->situation);
        }
}
END_TEST

START_TEST(test_vim_save_sequence) {
        /* Seen through the quiet period a vim save is one change: reload once, never stop+start. */
        ClusterMemo m = {}, n;
        Policy p = ON;
        ClusterFacts f = { IN, .config_present = true, .config_hash = 1 };

        ck_assert_uint_eq(reconcile_decide(&f, &m, &p, &n), ACTION_START);
        m = n;
        f.config_hash = 2;
        ck_assert_uint_eq(reconcile_decide(&f, &m, &p, &n), ACTION_RELOAD);
        m = n;
        ck_assert_uint_eq(reconcile_decide(&f, &m, &p, &n), 0);
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
        tcase_add_test(tc, test_actions_to_string);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
