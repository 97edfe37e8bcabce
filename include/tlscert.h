/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <time.h>

/* What a PEM certificate says of itself, read with OpenSSL's libcrypto. */
typedef struct TlsCert {
        time_t not_after;
        char subject[256]; /* one line, for messages */
} TlsCert;

/* The first certificate in PATH (below ROOTFD). -errno, or -EINVAL with *RET_ERROR when it is no certificate. */
int tlscert_load(int rootfd, const char *path, TlsCert *ret, char **ret_error);

/* Does the certificate in PATH name HOST: an IP address (in its IP subjectAltNames) or a DNS name? */
int tlscert_names_host(int rootfd, const char *path, const char *host);

/* "host:port", "[v6]:port" -> host into BUF; -EINVAL if there is none. */
int tlscert_host_of(const char *hostport, char *buf, size_t size);
