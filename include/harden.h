/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * The secure form of a Patroni configuration, whatever template or person
 * made it. Generation applies it to every rendered configuration, and
 * "patroni-debianctl upgrade" to existing ones:
 *  - the REST API is served over TLS with TLS->cert and TLS->key only, and
 *    its clients (members among themselves, patronictl) verify peers against
 *    TLS->ca: restapi.certfile, keyfile and cafile, ctl.cacert; ctl.insecure
 *    goes;
 *  - PostgreSQL serves TLS with the same certificate (ssl, ssl_cert_file,
 *    ssl_key_file); replication and rewind connect with sslmode=verify-full
 *    and sslrootcert=TLS->ca;
 *  - pg_hba rules (postgresql.pg_hba, bootstrap.pg_hba and
 *    bootstrap.dcs.postgresql.pg_hba): over TCP from an address that is not
 *    loopback only hostssl; trust, password, md5 and ident over TCP become
 *    scram-sha-256, and "local ... trust" becomes peer;
 *  - no secret stays in the file: the passwords under
 *    postgresql.authentication, restapi and ctl authentication (patronictl
 *    uses the REST API's) and the etcd sections are taken out and handed
 *    back with the env.conf variable that carries each (Patroni prefers that
 *    variable to the file anyway); an etcd password comes with
 *    PATRONI_ETCD3_PROTOCOL (or _ETCD_), without which Patroni 3.0.2 does
 *    not apply it.
 *  - a rule for each of CLIENTS' networks, unless postgresql.pg_hba has it.
 * Nothing is changed that is already so; each change is said in one line
 * that holds no secret.
 */
typedef struct HardenTls {
        const char *ca, *cert, *key; /* absolute paths */
} HardenTls;

/* The client_networks: setting: each network gets "hostssl all all NETWORK scram-sha-256" at the end of
 * postgresql.pg_hba (when there is one: without it Patroni takes the DCS's rules, which are not a file's). */
typedef struct HardenClients {
        char *const *networks;
        size_t n;
} HardenClients;

typedef struct HardenSecret {
        char *key;   /* PATRONI_REPLICATION_PASSWORD, ... (and PATRONI_ETCD3_PROTOCOL with an etcd password) */
        char *value; /* never empty */
} HardenSecret;

typedef struct HardenResult {
        char *text; /* HEADER, then the configuration; NUL-terminated */
        size_t size;
        char **changes; /* one line each */
        size_t n_changes;
        HardenSecret *secrets;
        size_t n_secrets;
} HardenResult;

void harden_result_done(HardenResult *r);

/*
 * Harden TEXT, the YAML from PATH (named in messages). HEADER (comment lines, may be NULL) comes first in the
 * result; comments of TEXT are not kept. Errors: -EINVAL with "PATH: line L, column C: ..." in *RET_ERROR (bad
 * YAML, past the bounds, a section of the wrong type), -ENOMEM.
 */
int harden_config(const char *path, const char *text, size_t size, const HardenTls *tls,
                  const HardenClients *clients, const char *header, HardenResult *ret, char **ret_error);

/*
 * One pg_hba rule as the secure form has it: *RET is the new rule (NULL if it stays as it is). Returns 1 if
 * changed, 0 if not, -ENOMEM. Rules it cannot parse are left alone (PostgreSQL reports them).
 */
int harden_hba_rule(const char *rule, char **ret);
