/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

#include "pgcommon.h"

/*
 * A configuration generated for a cluster that already has data marks the
 * cluster for a handover to Patroni: a file TAKEOVER_DIR/VERSION-CLUSTER,
 * written before the configuration. While it exists the daemon starts
 * TAKEOVER_UNIT (which runs patroni-debiand-takeover) instead of patroni@;
 * the helper removes it when Patroni runs the postmaster. It survives
 * restarts and crashes, so a handover cut short is carried on.
 */
#define STATE_DIR "/var/lib/patroni-debiand"
#define TAKEOVER_DIR STATE_DIR "/takeover"
#define TAKEOVER_UNIT "patroni-debiand-takeover@%i.service"

/* Does the cluster's data directory hold a database (PG_VERSION)? Unknown data directory: false.
 * A data directory reached through a symlink counts as having data. */
bool takeover_cluster_has_data(int rootfd, const PgCluster *c);

/* Create the marker (and its directories, root-only). 0 or -errno. */
int takeover_mark(int rootfd, const char *version, const char *cluster);

/* Is a handover pending for VERSION/CLUSTER? */
bool takeover_pending(int rootfd, const char *version, const char *cluster);

/* The takeover unit's name for VERSION-CLUSTER. */
int takeover_unit_name(const char *version, const char *cluster, char *buf, size_t size);
