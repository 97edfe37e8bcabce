/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "dcs.h"
#include "hostinfo.h"
#include "harden.h"
#include "patroniconf.h"
#include "pgcommon.h"
#include "render.h"

#define PATRONI_TEMPLATE PATRONI_DIR "/config.yml.in"
#define PATRONI_VIP_TEMPLATE PATRONI_DIR "/vip.in"
#define PATRONI_ENV_CONF PATRONI_DIR "/env.conf" /* secrets, read by patroni@.service as its EnvironmentFile */
#define PATRONI_CONFIG_MODE 0640
#define API_PORT_OFFSET 2576  /* 8008 - 5432, as Debian's pg_createconfig_patroni */
#define GEN_TEMP_MAX_AGE_S 60 /* another process's write takes far less than this */

/* Why generating failed. patroni-debianctl maps these to its exit statuses. */
typedef enum GenStatus {
        GEN_OK,
        GEN_FAILED,        /* out of memory, unexpected system errors */
        GEN_BAD_REQUEST,   /* the request itself: version, port, address, VIP */
        GEN_NO_VERSION,    /* no /usr/lib/postgresql/VERSION/bin */
        GEN_EXISTS,        /* the configuration exists (no --force) */
        GEN_INVALID_INPUT, /* template, DCS, pg-common files, port in use, rendered result */
        GEN_WRITE_FAILED,  /* cannot write /etc/patroni/V-C.yml */
} GenStatus;

typedef struct GenError {
        GenStatus status;
        char *message; /* names the file, line or value; never a secret */
} GenError;

void gen_error_done(GenError *e);

/* Where the project's own templates are, used when /etc/patroni has none. */
typedef struct GenPaths {
        const char *template;          /* --template: a path on this machine, used instead of the search */
        const char *settings_template; /* the template: setting, a path below the root */
        const char *default_template;  /* $(pkgdatadir)/config.yml.in */
        const char *default_vip_template;
        HardenTls tls; /* the tls: setting; members NULL: the hosts' own (TLS_CA_FILE, ...) */
        HardenClients clients; /* the client_networks: setting */
        unsigned temp_max_age_s; /* our temporary files older than this are leftovers to remove (0: all) */
        bool keep_temp_files;    /* a check: remove nothing */
        bool (*cancel)(void *userdata); /* asked between two clusters while loading: a stop signal came */
        void *cancel_userdata;
} GenPaths;

struct Settings;
/* The settings' part of PATHS: the template: setting, tls: and client_networks:. */
void gen_paths_from_settings(GenPaths *paths, const struct Settings *s);

typedef struct ApiPort {
        char *file; /* V-C.yml */
        int port;    /* its REST API's, 0 if none */
        int pg_port; /* its PostgreSQL's (postgresql.listen), 0 if none */
} ApiPort;

/* Everything that does not depend on the cluster: loaded once, used for many. */
typedef struct GenInputs {
        int rootfd;      /* borrowed */
        char *root_path; /* for messages only */
        Template *config_template;
        Template *vip_template; /* loaded on first use */
        GenPaths paths;
        DcsConfig *dcs;
        char *dcs_error; /* why DCS failed to load, reported if the template needs it */
        char *dcs_canonical; /* the DCS section a configuration generated now gets (patroniconf_canonical_dcs) */
        char *datadir_base;
        char hostname[HOST_NAME_MAX + 1];
        HostAddr host;
        PgClusterList *clusters;
        ApiPort *api_ports;
        size_t n_api_ports;
        bool chown;
        gid_t postgres_gid;
} GenInputs;

typedef struct GenRequest {
        const char *version, *cluster;
        const char *hostip, *network, *vip, *endpoint;
        int port; /* 0: choose */
        bool port_or_next; /* PORT is a wish: if a cluster or another configuration has it, the next free one */
        bool force;
        const PgCluster *facts; /* the cluster as the caller just read it; NULL: from the inputs' scan */
} GenRequest;

typedef struct GenOutput {
        char name[NAME_MAX + 1];     /* V-C.yml */
        char vip_name[NAME_MAX + 1]; /* V-C.vip, or "" */
        char *config, *vip;
        size_t config_size, vip_size;
        int port, api_port;
        int restapi_port; /* what restapi.listen says after rendering */
        bool loopback; /* the host address is loopback: Patroni will reject it */
        PatroniConf conf; /* the rendered configuration as patroniconf_parse() reads it */
} GenOutput;

void gen_output_done(GenOutput *o);

int gen_inputs_load(int rootfd, const char *root_path, const GenPaths *paths, GenInputs **ret, GenError *err);
GenInputs *gen_inputs_free(GenInputs *in);
static inline void gen_inputs_freep(GenInputs **in) {
        gen_inputs_free(*in);
}

/* A configuration NAME (V-C.yml) appeared or changed in /etc/patroni: note its REST API and PostgreSQL ports. */
void gen_inputs_note_api_port(GenInputs *in, const char *name, int port, int pg_port);

/* The DCS namespace configurations get ("/postgresql-common/"): the template's, which must not depend on the
 * cluster. -EINVAL with *RET_ERROR naming the template otherwise. */
int gen_namespace(GenInputs *in, char **ret, char **ret_error);

/*
 * Before a configuration is written: the REST API's credentials in env.conf (envconf_ensure_restapi), and the
 * TLS files: the tls: setting's are checked, else the hosts' own are made or renewed (tlsca_ensure) for this
 * host's addresses and the one each of OUTS gives its peers. What was
 * added (*RET_SECRETS: keys, *RET_TLS: files) is for the caller to say. -errno with *RET_ERROR naming the file.
 */
int gen_prepare_host(GenInputs *in, const GenOutput *outs, size_t n_outs, char **ret_secrets, char **ret_tls,
                     char **ret_error);

/* The same for callers without generator inputs (upgrade): the host as the files are made for it. */
typedef struct GenHost {
        int rootfd;
        HardenTls tls; /* the tls: setting, or all NULL: the hosts' own */
        char hostname[HOST_NAME_MAX + 1];
        gid_t postgres_gid;
        bool chown;
} GenHost;
int gen_host_init(int rootfd, const HardenTls *tls, GenHost *ret, char **ret_error);
void gen_host_of(const GenInputs *in, GenHost *ret);
/* Only the TLS files (checked, or made and renewed), not env.conf's credentials. */
int gen_host_tls(const GenHost *h, const char *const *peers, size_t n_peers, char **ret_tls, char **ret_error);
/* PEERS: "host:port" each configuration gives its peers (its REST API's connect address), NULL ones skipped. */
int gen_host_prepare(const GenHost *h, const char *const *peers, size_t n_peers, char **ret_secrets, char **ret_tls,
                     char **ret_error);

/* The TLS files configurations get: the tls: setting's, or the hosts' own. */
HardenTls gen_tls(const GenInputs *in);

/* Render and validate the configuration (and VIP file) for one cluster. Writes nothing. */
int gen_render(GenInputs *in, const GenRequest *req, GenOutput *out, GenError *err);

/* Write what gen_render produced to /etc/patroni, atomically, never replacing unless FORCE. */
int gen_write(GenInputs *in, const GenOutput *out, bool force, GenError *err);

/*
 * Write the configurations of many outputs (not their VIP files) with one set
 * of journal commits, as the daemon does at start-up. Returns how many failed;
 * ERRS[i] says why for each (status GEN_OK where written).
 */
size_t gen_write_many(GenInputs *in, const GenOutput *outs, size_t n, bool force, GenError *errs);

/* "V-C.yml" for a valid version and cluster name, or -EINVAL. */
int gen_config_name(const char *version, const char *cluster, const char *suffix, char *buf, size_t size);
