/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* postgresql-common ("pg-common") clusters: /etc/postgresql/VERSION/NAME/. */

#define PGCOMMON_CONF_DIR "/etc/postgresql"
#define PGCOMMON_CREATECLUSTER_CONF "/etc/postgresql-common/createcluster.conf"
#define PGCOMMON_DEFAULT_DATADIR_BASE "/var/lib/postgresql"
#define PGCOMMON_DEFAULT_PORT 5432
#define PGCOMMON_VERSION_MAX 16
#define PGCOMMON_CLUSTER_MAX 63
#define PGCOMMON_INSTANCE_MAX (PGCOMMON_VERSION_MAX + 1 + PGCOMMON_CLUSTER_MAX) /* "VERSION-CLUSTER" */

typedef enum StartConf {
        START_CONF_AUTO,
        START_CONF_MANUAL,
        START_CONF_DISABLED,
        START_CONF_KEEP, /* the start_conf setting only: leave start.conf as it is; never in a start.conf */
        _START_CONF_INVALID = -1,
} StartConf;

typedef struct PgCluster {
        char *version;
        char *name;
        int port;             /* from postgresql.conf, 0 if not set (yet) */
        char *data_directory; /* from postgresql.conf or the pgdata link, NULL if unknown */
        StartConf start_conf;
        bool has_postgresql_conf;
        unsigned long long signature; /* of its directory and the files read: the same while they do not change */
        char *error; /* why the cluster's files could not be read, NULL if fine */
} PgCluster;

typedef struct PgClusterList {
        PgCluster *clusters;
        size_t n;
} PgClusterList;

bool pgcommon_version_valid(const char *s);
bool pgcommon_cluster_name_valid(const char *s);
int pgcommon_version_compare(const char *a, const char *b);
/* PATTERN with its one "%i" replaced by the instance name VERSION-CLUSTER, as systemd expands it in a
 * template unit: "patroni@%i.service" -> "patroni@15-main.service". -EINVAL without "%i". */
int pgcommon_unit_name(const char *pattern, const char *version, const char *cluster, char *buf, size_t size);

const char *start_conf_to_string(StartConf s);
StartConf start_conf_from_string(const char *s);

void pgcluster_done(PgCluster *c);
PgClusterList *pgcluster_list_free(PgClusterList *l);
static inline void pgcluster_list_freep(PgClusterList **l) {
        pgcluster_list_free(*l);
}

/* start.conf's mode: the first word that is not a comment; "auto" if none. -EINVAL and *ret_word if unknown. */
int pgcommon_parse_start_conf(const char *text, StartConf *ret, char **ret_word);

/* Read one cluster's facts. -ENOENT if the cluster directory does not exist. */
int pgcommon_read_cluster(int rootfd, const char *version, const char *name, PgCluster *ret);

/*
 * All clusters, sorted by version (numerically) and name. A directory that is
 * not a valid version or cluster name, or a symlink leaving /etc/postgresql, is
 * skipped. A cluster whose files cannot be parsed is listed with ->error set.
 */
typedef struct PgScanOptions {
        bool names_only; /* list the clusters, read none of their files */
        /* Asked between two clusters: true ends the scan with -ECANCELED (a stop signal meanwhile). */
        bool (*cancel)(void *userdata);
        void *userdata;
} PgScanOptions;

int pgcommon_scan(int rootfd, const PgScanOptions *o, PgClusterList **ret);

const PgCluster *pgcluster_list_find(const PgClusterList *l, const char *version, const char *name);

/* The data_directory base from createcluster.conf (text before the first '%'), or the default. */
int pgcommon_datadir_base(int rootfd, char **ret, char **ret_error);

/* Does /usr/lib/postgresql/VERSION/bin/ exist? */
bool pgcommon_have_binaries(int rootfd, const char *version);

/* Split an instance name "15-my-db" on its first dash into version and cluster; both must be valid. */
int pgcommon_split_instance(const char *instance, char *version, size_t vsize, char *cluster, size_t csize);
