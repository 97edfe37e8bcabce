/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* What Patroni's REST API says of one member: asked of many members at once, with one deadline. */
typedef struct ApiProbe {
        const char *address; /* "host:port" as the configuration names it ("*:8008" is this host) */
        bool tls;            /* served over https: not asked (no TLS client here), state stays "" */
        char state[64];      /* "Leader running", "Replica streaming", ...; "" if it did not answer */
} ApiProbe;

/* GET /patroni of each probe's member, all at once, within TIMEOUT_MS. */
void patroniapi_probe(ApiProbe *probes, size_t n, int timeout_ms);

/* "Leader running" from a /patroni response body; -EINVAL if it is not one. */
int patroniapi_member_from_json(const char *body, char *buf, size_t size);
