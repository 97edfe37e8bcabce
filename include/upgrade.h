/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "harden.h"

/*
 * "patroni-debianctl upgrade": an existing configuration (an earlier
 * version's, Debian's pg_createconfig_patroni's, an admin's) brought to the
 * secure form of harden.h. Only on request: the daemon never rewrites a
 * configuration. In this order, each step atomic:
 *  1. the file as it was is kept as /etc/patroni/NAME.TIMESTAMP.bak, root's
 *     and 0600 (it may hold passwords; comments live on only there);
 *  2. the secrets it held go into env.conf where env.conf lacks them
 *     (Patroni prefers env.conf's value anyway, so nothing changes for it);
 *  3. the secure form replaces it, root:postgres 0640, its leading comments
 *     kept and one line added that names the backup.
 * Nothing is written when nothing would change, or in a dry run.
 */
typedef struct UpgradeResult {
        HardenResult hardened;   /* changes: what was (or would be) changed */
        char backup[PATH_MAX];   /* "" if none was written */
        char *secrets_added;     /* env.conf keys added, comma-separated; NULL if none */
        char *secrets_dropped;   /* keys env.conf already had: the file's values were dropped; NULL if none */
} UpgradeResult;

void upgrade_result_done(UpgradeResult *r);

typedef struct UpgradeOptions {
        const HardenTls *tls;
        const HardenClients *clients; /* the client_networks: setting, NULL: none */
        bool dry_run;
        bool chown; /* root:postgres for the configuration (running as root) */
        gid_t postgres_gid;
        time_t now; /* for the backup's name and the added comment */
} UpgradeOptions;

/*
 * Upgrade /etc/patroni/NAME (below ROOTFD). Returns 1 if it changed (or would), 0 if it is secure already;
 * -errno with *RET_ERROR naming the file: -EINVAL for YAML that does not parse or has a section of the wrong
 * type, -ENOENT, -ELOOP (a symlink), write errors (nothing of NAME changed then).
 */
int upgrade_config(int rootfd, const char *name, const UpgradeOptions *o, UpgradeResult *ret, char **ret_error);
