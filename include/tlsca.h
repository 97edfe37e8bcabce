/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "patroniconf.h"

/*
 * The hosts' own certificates, when the tls: setting names none: a CA that
 * every host holding the same /etc/patroni/env.conf derives alike, and a
 * certificate for this host signed by it. Copying env.conf, which every host
 * needs anyway, is the only step: members then verify each other (Patroni's
 * REST API, PostgreSQL replication with sslmode=verify-full), and whoever
 * lacks env.conf cannot pass for one of them.
 *
 * The CA's key is a P-256 key derived (HKDF-SHA256) from the random
 * PATRONI_DEBIAND_CA_SEED in env.conf; it is never written anywhere. Its
 * certificate has the same subject and key on every host (its signature
 * differs: ECDSA's is randomised). The host's key (P-256) is made here and
 * never leaves the host.
 */
#define TLS_DIR PATRONI_DIR "/tls"
#define TLS_CA_FILE TLS_DIR "/ca.pem"          /* root:root 0644 */
#define TLS_CERT_FILE TLS_DIR "/host.pem"      /* root:root 0644 */
#define TLS_KEY_FILE TLS_DIR "/host.key"       /* root:postgres 0640: Patroni and PostgreSQL read it */
#define TLSCA_SEED_KEY "PATRONI_DEBIAND_CA_SEED"
#define TLSCA_HOST_DAYS 397
#define TLSCA_RENEW_DAYS 30

/* A CA certificate (PEM) for SEED: its subject and key are the same for the same seed. -EINVAL if the seed is
 * shorter than 32 bytes. */
int tlsca_ca_pem(const char *seed, char **ret, size_t *ret_size);

typedef struct TlsCaHost {
        const char *hostname;
        const char *const *addresses; /* NULL-terminated; loopback is always added */
        size_t n_addresses;
        uid_t uid; /* owner of the files; and postgres's group for the key (chown only if CHOWN) */
        gid_t key_gid;
        bool chown;
        const char *seed; /* env.conf's TLSCA_SEED_KEY as the caller read it, or NULL: read (and added) here */
} TlsCaHost;

/*
 * Make sure TLS_DIR holds the CA certificate for the seed (HOST's, else env.conf's, added to it first if
 * missing) and a host certificate signed by it that covers HOST's names and addresses and is valid for more
 * than TLSCA_RENEW_DAYS; what is missing, stale or does not match is made again. Returns 1 if anything was
 * written (*RET_WHAT says what), 0 if all was in place; -errno with *RET_ERROR naming the file.
 */
int tlsca_ensure(int rootfd, const TlsCaHost *host, char **ret_what, char **ret_error);
