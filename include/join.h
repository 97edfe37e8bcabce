/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "dcs.h"
#include "etcdwatch.h"
#include "generate.h"

/*
 * Joining: a scope in the DCS that this host takes a replica of, with no step
 * of the admin's but the join: setting. The rules (pure; tests/test-join.c
 * states each):
 *
 *   the scope is VERSION-CLUSTER, a valid version and cluster name
 *   a join: glob matches the scope; include/exclude admit VERSION/CLUSTER
 *   it has a leader in the DCS
 *   PostgreSQL VERSION is installed here (/usr/lib/postgresql/VERSION/bin)
 *   there is no configuration for it here
 *   no pg-common cluster of that name is here: one with its own data is
 *   never replaced, and is said (with what to do)
 *
 * The configuration is then generated as for a replica: the leader's port
 * where it is free here, else the next free one. The template must give it
 * that scope in the namespace watched (checked when it is rendered).
 */
typedef enum JoinVerdict {
        JOIN_YES,
        JOIN_OFF,          /* no join: glob matches the scope */
        JOIN_BAD_NAME,     /* not VERSION-CLUSTER */
        JOIN_EXCLUDED,     /* include/exclude */
        JOIN_NO_LEADER,
        JOIN_NO_BINARIES,
        JOIN_HAS_CONFIG,   /* already configured here: nothing to do */
        JOIN_LOCAL_CLUSTER, /* a pg-common cluster of that name is here */
        _JOIN_VERDICT_MAX,
} JoinVerdict;

typedef struct JoinFacts {
        const char *scope;
        bool has_leader;
        bool binaries;
        bool config_present;
        bool cluster_present;
} JoinFacts;

/* "15-main" into "15" and "main": -EINVAL unless a valid version and cluster name. */
int join_scope_split(const char *scope, char *version, size_t vsize, char *cluster, size_t csize);

JoinVerdict join_decide(const Settings *s, const JoinFacts *f);

/* For list and check: "joins", "no leader", ... */
const char *join_verdict_to_string(JoinVerdict v);

/*
 * The watch's settings from the DCS section (etcd3 only: any other type is an error that names it), the
 * variables of env.conf (ENV: PATRONI_ETCD3_USERNAME/_PASSWORD, as Patroni takes them) and the namespace.
 * Files the section names are opened below ROOT_PATH ("/" in production). -EINVAL with *RET_ERROR.
 */
int join_watch_conf(const DcsConfig *dcs, char *const *env, const char *root_path, const char *namespace,
                    EtcdWatchConf *ret, char **ret_error);

/* The DCS's namespace read once, as the daemon would watch it (the CLI): -errno with *RET_ERROR; -ENOTSUP if
 * the DCS is not etcd3 (nothing to say). */
int join_read_dcs(int rootfd, const char *root_path, GenInputs *in, int timeout_ms, EtcdView **ret, char **ret_error);

/* The configuration of a replica of VERSION-CLUSTER as join makes one: the leader's PostgreSQL port
 * LEADER_PORT where it is free here (0: chosen as generate does), else the next free one; the rendered scope
 * and namespace must be the DCS's (PREFIX), else GEN_INVALID_INPUT says what the template gives. */
int join_render(GenInputs *in, const char *version, const char *cluster, int leader_port, const char *prefix,
                GenOutput *out, GenError *err);
