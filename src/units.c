/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>

#include "macro.h"
#include "units.h"

const char *unit_verb_to_string(UnitVerb v) {
        static const char *const names[] = { [UNIT_START] = "start", [UNIT_STOP] = "stop", [UNIT_RELOAD] = "reload" };
        return names[v];
}

int units_request(UnitBackend *b, UnitVerb verb, const char *unit, const char *cluster) {
        return b->ops->request(b, verb, unit, cluster);
}

UnitState units_state(UnitBackend *b, const char *unit) {
        return b->ops->state(b, unit);
}

UnitBackend *units_free(UnitBackend *b) {
        if (b)
                b->ops->free(b);
        return NULL;
}

typedef struct DryRun {
        UnitBackend base;
        FILE *out;
} DryRun;

static int dry_request(UnitBackend *b, UnitVerb verb, const char *unit, const char *cluster) {
        DryRun *d = (DryRun *) b;

        if (fprintf(d->out, "dry-run: %s %s %s\n", unit_verb_to_string(verb), unit, cluster) < 0 || fflush(d->out) != 0)
                return -EIO;
        return 0;
}

static UnitState dry_state(UnitBackend *b, const char *unit) {
        (void) b;
        (void) unit;
        return UNIT_STATE_UNKNOWN;
}

static void dry_free(UnitBackend *b) {
        free(b);
}

static const UnitBackendOps dry_run_ops = {
        .request = dry_request,
        .state = dry_state,
        .free = dry_free,
};

UnitBackend *units_dry_run_new(FILE *out) {
        DryRun *d = calloc(1, sizeof(DryRun));

        if (!d)
                return NULL;
        d->base.ops = &dry_run_ops;
        d->out = out;
        return &d->base;
}
