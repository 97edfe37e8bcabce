/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

#include "generate.h"

typedef struct DaemonOptions {
        const char *root;   /* "/" unless relocated */
        const char *config; /* settings file, a path below root */
        bool dry_run;       /* change nothing: say what would be written, and which unit actions taken */
        bool print_units;   /* write configurations, but only write unit actions down (no systemd) */
        bool once;          /* one reconcile, then return */
        const char *default_template, *default_vip_template;
} DaemonOptions;

typedef struct Daemon Daemon;

/* Everything the daemon owns: loop, watches, timers, settings, generator inputs, unit backend. */
int daemon_new(const DaemonOptions *opts, Daemon **ret);
Daemon *daemon_free(Daemon *d);
static inline void daemon_freep(Daemon **d) {
        daemon_free(*d);
}

/* Watch, scan, reconcile, then serve events until SIGTERM/SIGINT (or return at once with --once). */
int daemon_run(Daemon *d);

/* Load and check settings, template and DCS inputs as a reload would; errors to *ret_error. */
int daemon_check_config(const DaemonOptions *opts, char **ret_error, char **ret_warning);
