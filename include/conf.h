/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "pgcommon.h"

/* The daemon's settings: /etc/patroni/patroni-debiand.yml, every key optional. */

#define SETTINGS_PATH "/etc/patroni/patroni-debiand.yml"
#define SETTINGS_DEFAULT_UNIT "patroni@%i.service"
#define UNIT_NAME_MAX 255 /* systemd's limit */

typedef struct Settings {
        char *path;       /* the file read, or NULL when it does not exist (all defaults) */
        char **include;   /* fnmatch globs over "VERSION/CLUSTER"; default "*" */
        size_t n_include;
        char **exclude;   /* default none */
        size_t n_exclude;
        char **join;      /* fnmatch globs over DCS scopes ("15-main") this host joins as a replica; default none */
        size_t n_join;
        char **client_networks; /* CIDRs whose clients get a hostssl scram-sha-256 rule in generated configurations */
        size_t n_client_networks;
        bool autostart;        /* start patroni@ units for configurations (default true) */
        bool reload_on_change; /* reload a unit when its configuration changes (default true) */
        bool pg_service;       /* keep the clusters' libpq services in pg_service.conf (default true) */
        unsigned settle_ms;        /* quiet time before a new cluster is acted on (default 1000) */
        unsigned config_settle_ms; /* quiet time after a change in /etc/patroni (default 200) */
        unsigned removal_settle_ms; /* how long a configuration must stay away before its unit stops (default 5000) */
        StartConf start_conf;      /* start.conf for clusters handed over: manual (default), disabled, keep */
        bool takeover;             /* hand clusters that have data over to Patroni (default true) */
        char *template;            /* template path, NULL: /etc/patroni/config.yml.in, else packaged */
        char *unit;                /* unit name pattern, %i is VERSION-CLUSTER */
        char *tls_ca, *tls_cert, *tls_key; /* tls: the admin's CA and host certificate; NULL: the hosts' own (tlsca) */
} Settings;

Settings *settings_free(Settings *s);
static inline void settings_freep(Settings **s) {
        settings_free(*s);
}

/* All defaults. */
Settings *settings_new(void);

/* Parse TEXT from PATH. Errors: -EINVAL with "PATH:LINE:COLUMN: ..." in *ret_error. */
int settings_parse(const char *path, const char *text, size_t size, Settings **ret, char **ret_error);

/* Read PATH (absolute, below ROOTFD). A missing file gives the defaults. */
int settings_load(int rootfd, const char *path, Settings **ret, char **ret_error);

/* Does SCOPE match one of the join globs? */
bool settings_join_match(const Settings *s, const char *scope);

/* Is VERSION/CLUSTER matched by include and not by exclude? */
bool settings_in_scope(const Settings *s, const char *version, const char *cluster);

/* The unit for VERSION-CLUSTER: the pattern with %i replaced. */
int settings_unit_name(const Settings *s, const char *version, const char *cluster, char *buf, size_t size);

