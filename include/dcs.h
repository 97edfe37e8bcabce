/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "patroniconf.h"
#include "yamlutil.h"

#define DCS_YML "/etc/patroni/dcs.yml"
#define DCS_DEFAULTS "/etc/default/patroni"

/*
 * The DCS section of a Patroni configuration, from /etc/patroni/dcs.yml or,
 * when that is absent or holds only comments, from the shell-style keys of
 * /etc/default/patroni (DCS_TYPE, DCS_HOSTS, DCS_PROTOCOL, DCS_CACERT,
 * DCS_CERT, DCS_KEY). HOSTIP and NETWORK from /etc/default/patroni apply
 * in either case.
 */
typedef struct DcsConfig {
        YamlEvents pairs; /* key/value events of the top-level mapping, to splice */
        char *source;     /* the file the DCS section came from */
        char *type;       /* first top-level key: etcd3, etcd, consul, zookeeper, ... */
        char *endpoints;  /* "http://h:p,http://h2:p" when known (for vip-manager), else NULL */
        char *hostip;     /* HOSTIP= from /etc/default/patroni, or NULL */
        char *network;    /* NETWORK= from /etc/default/patroni, or NULL */
} DcsConfig;

DcsConfig *dcs_config_free(DcsConfig *c);
static inline void dcs_config_freep(DcsConfig **c) {
        dcs_config_free(*c);
}

/* Load from the files under ROOTFD. On bad input -EINVAL and "FILE:LINE: ..." in *ret_error. */
int dcs_load(int rootfd, DcsConfig **ret, char **ret_error);

/* The same from in-memory texts (either may be NULL), for tests and fuzzing. */
/* The DCS section as patroniconf_canonical_dcs() puts it (NULL if it has none), to compare with a configuration's. */
int dcs_canonical(const DcsConfig *c, char **ret);

int dcs_load_from(const char *dcs_yml, const char *defaults, DcsConfig **ret, char **ret_error);

/* What the DCS section says (type, TLS files, user) as patroniconf_parse() reads a configuration. */
int dcs_section_conf(const DcsConfig *c, PatroniConf *ret, char **ret_error);
