/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "conf.h"

/* One row of "patroni-debianctl list": a pg-common cluster, or a configuration without one. */
typedef struct StatusRow {
        char version[32];
        char cluster[NAME_MAX + 1];
        int port;           /* 0: unknown */
        const char *config; /* "generated", "admin", "none", "excluded", or "present" (exists, not readable) */
        char unit[32];      /* the Patroni unit's ActiveState, "-" without a bus */
        char patroni[64];   /* "Leader running", "Replica streaming", ..., "-" if unreachable */
        char patroni_error[256]; /* why it is "-" when the member was asked ("certificate verify failed", ...) */
        bool has_cluster;   /* a pg-common cluster (not only a configuration or a scope in the DCS) */
        char dcs_leader[130]; /* its scope in the DCS: the leader ("" none); dcs_join NULL if not there or unread */
        const char *dcs_join; /* what this host does with the scope: join_verdict_to_string() */
        char handover[40];  /* a handover to Patroni is pending: "pending" or the helper's last step; "" if not
                             * (or not readable by this user) */
        char api[300];      /* REST API host:port from the configuration, "" if unknown */
        bool api_tls;
        char api_cafile[256]; /* whom to trust for it, "" for the system's CAs */
} StatusRow;

/* Rows for every cluster and every VERSION-CLUSTER.yml below ROOTFD, sorted; unit and Patroni still "-". */
int status_collect(int rootfd, const Settings *s, StatusRow **ret, size_t *ret_n);

/* ActiveState of each row's unit (SETTINGS' pattern) over the system bus; rows stay "-" without one. */
void status_units(StatusRow *rows, size_t n, const Settings *s);

/* Each reachable member's role and state from GET /patroni, all at once, within TIMEOUT_MS. */
void status_patroni(StatusRow *rows, size_t n, int timeout_ms);

/* The scopes of VIEW (the DCS's namespace): each row whose scope is there gets its leader and what this host
 * does with it, and a scope with no row here gets one (Port: the leader's). -ENOMEM. */
struct EtcdView;
int status_dcs(int rootfd, const Settings *s, const struct EtcdView *view, StatusRow **rows, size_t *n);

/* DCS: whether the table has the DCS column (the DCS was read). */
void status_print_table(FILE *f, const StatusRow *rows, size_t n, bool dcs);
void status_print_json(FILE *f, const StatusRow *rows, size_t n);
