/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Where Patroni's configurations live, one VERSION-CLUSTER.yml per cluster (as Debian's patroni package has it). */
#define PATRONI_DIR "/etc/patroni"

#define PATRONICONF_KEY_FILES_MAX 4

/* What we need to know of a Patroni YAML configuration, ours or an admin's. */
typedef struct PatroniConf {
        char *scope;
        char *namespace; /* normalised to "/ns/", Patroni's default "/service/" */
        char *name;
        char *dcs_type;  /* etcd3, etcd, consul, zookeeper, ... */
        int restapi_port; /* from restapi.listen, 0 if none */
        char *restapi_address; /* restapi.connect_address, else restapi.listen; NULL if neither */
        bool restapi_tls;      /* restapi.certfile is set */
        char *restapi_cafile;  /* ctl.cacert, else restapi.cafile: whom its clients trust; NULL if neither */
        bool restapi_auth;     /* restapi.authentication has a username and a password */
        char *dcs_plain_remote; /* an etcd endpoint reached over plain http that is not loopback; NULL if none */
        char *key_files[PATRONICONF_KEY_FILES_MAX]; /* private keys it names (REST API, patronictl, DCS, PostgreSQL) */
        /* certificates it names, the same four, and the address a server certificate must name (NULL: a client's) */
        char *cert_files[PATRONICONF_KEY_FILES_MAX];
        char *cert_addresses[PATRONICONF_KEY_FILES_MAX];
        int postgresql_port;   /* from postgresql.listen, 0 if none */
        char *postgresql_connect_address; /* "host:port" as members reach it, NULL if none */
        char *data_dir;        /* postgresql.data_dir, NULL if none */
        char *bootstrap_method; /* bootstrap.method, NULL if none (initdb) */
        char *dcs_section;     /* the DCS section on one line, the same for equal sections whatever their style */
        char *dcs_cacert, *dcs_cert, *dcs_key, *dcs_username; /* the DCS section's TLS files and user, NULL if none */
} PatroniConf;

void patroniconf_done(PatroniConf *c);

/*
 * Parse TEXT. With STRICT, it must be what Patroni needs to run: a mapping
 * with scope, name, restapi.listen/connect_address, postgresql.data_dir/
 * listen/connect_address and exactly one DCS section; duplicate keys are
 * errors anywhere. Errors say "line L, column C: ..." where a place is known.
 */
int patroniconf_parse(const char *text, size_t size, bool strict, PatroniConf *ret, char **ret_error);

/* Do A and B claim the same cluster (data directory, namespace and scope, or PostgreSQL port)? WHAT says which. */
bool patroniconf_same_cluster(const PatroniConf *a, const PatroniConf *b, char *what, size_t size);

/* The DCS section of the YAML document TEXT on one line (see dcs_section), for comparing two. */
int patroniconf_canonical_dcs(const char *text, size_t size, char **ret);

/* "host:port", "[v6]:port", "v6:port" -> port, or -EINVAL. */
int patroniconf_port_of(const char *hostport);
