/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

#include "patroniconf.h"
#include "pgcommon.h"

/*
 * A configuration generated for a cluster that already has data marks the
 * cluster for a handover to Patroni: a file TAKEOVER_DIR/VERSION-CLUSTER,
 * written before the configuration. While it exists the daemon starts
 * TAKEOVER_UNIT (which runs patroni-debiand-takeover) instead of patroni@;
 * the helper removes it when Patroni runs the postmaster. It survives
 * restarts and crashes, so a handover cut short is carried on.
 *
 * The mark is also the helper's contract with the daemon. It holds, as
 * KEY=VALUE lines that the takeover unit reads as its EnvironmentFile=, the
 * values the daemon has validated: TAKEOVER_VERSION, TAKEOVER_NAME,
 * TAKEOVER_PATRONI_UNIT, TAKEOVER_START_CONF, TAKEOVER_PORT, TAKEOVER_CONFIG.
 * The daemon writes them again before each start of the unit (settings
 * may have changed). The helper adds TAKEOVER_STEP, the last step it
 * completed, which a rewrite keeps, so a handover cut short resumes there.
 */
#define STATE_DIR "/var/lib/patroni-debiand"
#define TAKEOVER_DIR STATE_DIR "/takeover"
#define TAKEOVER_UNIT "patroni-debiand-takeover@%i.service"

/* Does the cluster's data directory hold a database (PG_VERSION)? Unknown data directory: false.
 * A data directory reached through a symlink counts as having data. */
bool takeover_cluster_has_data(int rootfd, const PgCluster *c);

/* Does C hold nothing but what initdb made (its databases, no relation or database of a user's, no
 * tablespace)? 1 pristine, 0 not (WHY says what was found), -errno if its data directory cannot be read.
 * Conservative: a catalog rewritten by VACUUM FULL counts as not pristine. At most 100000 entries are read. */
int takeover_cluster_pristine(int rootfd, const PgCluster *c, char *why, size_t size);

/* What the daemon hands the helper. */
typedef struct TakeoverParams {
        const char *version, *cluster;
        const char *patroni_unit; /* the unit Patroni runs in (settings: unit) */
        StartConf start_conf;     /* manual, disabled or keep (settings: start_conf) */
        int port;                 /* the cluster's PostgreSQL port */
} TakeoverParams;

/* Write the mark with P's values (and its directories, root-only), keeping a step the helper recorded.
 * 0 or -errno. */
int takeover_mark(int rootfd, const TakeoverParams *p);

/* Mark C for a handover if its data directory has a database: 1 marked, 0 no data, else -errno and
 * *RET_ERROR names the file. */
int takeover_mark_if_data(int rootfd, const PgCluster *c, const TakeoverParams *p, char **ret_error);

/* The step the helper recorded in the mark ("" if none) into BUF. */
int takeover_step(int rootfd, const char *version, const char *cluster, char *buf, size_t size);

/* Is a handover pending for VERSION/CLUSTER? */
bool takeover_pending(int rootfd, const char *version, const char *cluster);

/* The takeover unit's name for VERSION-CLUSTER. */
int takeover_unit_name(const char *version, const char *cluster, char *buf, size_t size);
