/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdio.h>

#include "reconcile.h"

/* Starting, stopping and reloading patroni@ units: over D-Bus, or written down in a dry run. */

typedef enum UnitVerb {
        UNIT_START,
        UNIT_STOP,
        UNIT_RELOAD,
} UnitVerb;

typedef struct UnitBackend UnitBackend;

typedef struct UnitBackendOps {
        int (*request)(UnitBackend *b, UnitVerb verb, const char *unit, const char *cluster);
        UnitState (*state)(UnitBackend *b, const char *unit);
        void (*free)(UnitBackend *b);
} UnitBackendOps;

struct UnitBackend {
        const UnitBackendOps *ops;
};

const char *unit_verb_to_string(UnitVerb v);

/*
 * The dry run: each request is one line on OUT, nothing else happens:
 *   dry-run: VERB UNIT VERSION/CLUSTER
 * with VERB start, stop or reload. The state of every unit is unknown.
 */
UnitBackend *units_dry_run_new(FILE *out);

int units_request(UnitBackend *b, UnitVerb verb, const char *unit, const char *cluster);
UnitState units_state(UnitBackend *b, const char *unit);
UnitBackend *units_free(UnitBackend *b);
