/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define CURL_ERROR_SIZE_COPY 256 /* libcurl's CURL_ERROR_SIZE */

/*
 * What Patroni's REST API says of one member: asked of many members at once
 * (libcurl's multi interface), with one deadline. Over https the member's
 * certificate is verified (against CAFILE, else the system's CAs) and must
 * name the address asked.
 */
typedef struct ApiProbe {
        const char *address; /* "host:port" as the configuration names it ("*:8008" is this host) */
        bool tls;            /* restapi.certfile is set: https */
        const char *cafile;  /* ctl.cacert or restapi.cafile, NULL: the system's */
        char state[64];      /* "Leader running", "Replica streaming", ...; "" if it did not answer */
        char error[CURL_ERROR_SIZE_COPY]; /* why not, when it did not ("certificate verify failed", ...) */
} ApiProbe;

/* GET /patroni of each probe's member, all at once, within TIMEOUT_MS. */
void patroniapi_probe(ApiProbe *probes, size_t n, int timeout_ms);

/* "Leader running" from a /patroni response body of SIZE bytes; -EINVAL if it is not one. */
int patroniapi_member_from_json(const char *body, size_t size, char *buf, size_t bufsize);

/* The URL for ADDRESS ("host:port", "[v6]:port", "*:port" is 127.0.0.1): -EINVAL if it is not one. */
int patroniapi_url(const char *address, bool tls, char *buf, size_t size);
