/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "conf.h"
#include "daemon.h"
#include "log.h"
#include "macro.h"

static const char *program = "patroni-debiand";

static void help(void) {
        printf("Usage: %s [OPTIONS]\n"
               "\n"
               "Watch /etc/postgresql and /etc/patroni; generate a Patroni configuration for each\n"
               "settled postgresql-common cluster and start, reload and stop patroni@ units as\n"
               "configurations appear, change and go away.\n"
               "\n"
               "  --config=FILE          Settings (default " SETTINGS_PATH ", below --root)\n"
               "  --root=DIR             Resolve /etc/... below DIR (default /)\n"
               "  --dry-run              Change nothing: write to stderr what would be written\n"
               "                         where, and the unit actions that would be taken\n"
               "  --print-units          Write configurations, but write unit actions to stderr\n"
               "                         instead of asking systemd (hosts without systemd, tests)\n"
               "  --once                 Reconcile once, then exit\n"
               "  --check-config         Check settings, template and DCS inputs; exit 0 or 1\n"
               "  --log-target=TARGET    auto, journal or stderr (default auto: the journal when\n"
               "                         stderr is connected to it)\n"
               "  --log-level=LEVEL      debug, info, notice, warning, err (default info)\n"
               "  -h --help              Show this help\n"
               "  --version              Show the version\n"
               "\n"
               "Signals: SIGHUP reloads settings, template and DCS inputs (all or nothing);\n"
               "SIGTERM and SIGINT stop the daemon and leave Patroni running; a second one\n"
               "ends it at once.\n",
               program);
}

int main(int argc, char **argv) {
        enum { ARG_CONFIG = 0x100, ARG_ROOT, ARG_DRY_RUN, ARG_PRINT_UNITS, ARG_ONCE, ARG_CHECK, ARG_LOG_TARGET, ARG_LOG_LEVEL, ARG_VERSION };
        static const struct option options[] = {
                { "config", required_argument, NULL, ARG_CONFIG },
                { "root", required_argument, NULL, ARG_ROOT },
                { "dry-run", no_argument, NULL, ARG_DRY_RUN },
                { "print-units", no_argument, NULL, ARG_PRINT_UNITS },
                { "once", no_argument, NULL, ARG_ONCE },
                { "check-config", no_argument, NULL, ARG_CHECK },
                { "log-target", required_argument, NULL, ARG_LOG_TARGET },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {},
        };
        DaemonOptions o = {
                .root = "/",
                .config = SETTINGS_PATH,
                .default_template = PKGDATADIR "/config.yml.in",
                .default_vip_template = PKGDATADIR "/vip.in",
        };
        _cleanup_(daemon_freep) Daemon *d = NULL;
        LogTarget target = LOG_TARGET_AUTO;
        bool check = false;
        int c, r;

        log_setup(program, LOG_TARGET_STDERR);
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case ARG_CONFIG:
                        o.config = optarg;
                        break;
                case ARG_ROOT:
                        o.root = optarg;
                        break;
                case ARG_DRY_RUN:
                        o.dry_run = true;
                        break;
                case ARG_PRINT_UNITS:
                        o.print_units = true;
                        break;
                case ARG_ONCE:
                        o.once = true;
                        break;
                case ARG_CHECK:
                        check = true;
                        break;
                case ARG_LOG_TARGET:
                        r = log_target_from_string(optarg);
                        if (r < 0) {
                                log_error("invalid --log-target \"%s\" (auto, journal, stderr)", optarg);
                                return 2;
                        }
                        target = (LogTarget) r;
                        break;
                case ARG_LOG_LEVEL:
                        r = log_level_from_string(optarg);
                        if (r < 0) {
                                log_error("invalid --log-level \"%s\" (debug, info, notice, warning, err)", optarg);
                                return 2;
                        }
                        log_set_max_level(r);
                        break;
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("%s %s\n", program, PACKAGE_VERSION);
                        return 0;
                default:
                        return 2;
                }
        if (optind < argc) {
                log_error("unexpected argument \"%s\" (see --help)", argv[optind]);
                return 2;
        }

        if (check) {
                _cleanup_free_ char *error = NULL, *warning = NULL;
                r = daemon_check_config(&o, &error, &warning);
                if (warning)
                        log_warning("%s", warning);
                if (r < 0) {
                        log_error("%s", error ? error : "out of memory");
                        return 1;
                }
                printf("Settings, template and DCS inputs are valid.\n");
                return 0;
        }

        log_setup(program, target);
        r = daemon_new(&o, &d);
        if (r < 0)
                return 1;
        r = daemon_run(d);
        return r < 0 ? 1 : 0;
}
