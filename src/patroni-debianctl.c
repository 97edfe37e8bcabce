/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <getopt.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "envconf.h"
#include "tlscert.h"
#include "fsutil.h"
#include "dcs.h"
#include "patroniconf.h"
#include "pgservice.h"
#include "generate.h"
#include "join.h"
#include "takeover.h"
#include "tlsca.h"
#include "upgrade.h"
#include "bus.h"
#include "log.h"
#include "macro.h"
#include "pgcommon.h"
#include "status.h"
#include "watch.h"

static const char *program = "patroni-debianctl";

static void help(void) {
        printf("Usage: %s [--root DIR] COMMAND [OPTIONS] [ARGS]\n"
               "\n"
               "Commands:\n"
               "  generate [OPTIONS] VERSION CLUSTER\n"
               "                      Write /etc/patroni/VERSION-CLUSTER.yml for a pg-common cluster\n"
               "                      from /etc/patroni/config.yml.in (or the packaged template) and\n"
               "                      /etc/patroni/dcs.yml (or /etc/default/patroni).\n"
               "  list [--json]       One row per pg-common cluster and per configuration: port, whether\n"
               "                      the configuration is generated, the Patroni unit's state and the\n"
               "                      member's role and state from its REST API; with an etcd3 DCS, also\n"
               "                      each scope there: its leader and what this host does with it (join)\n"
               "  check VERSION/CLUSTER\n"
               "                      Check what the daemon would check for this cluster: settings,\n"
               "                      template, DCS, ports, its configuration, and patroni\n"
               "                      --validate-config where Patroni is installed; one line each\n"
               "  upgrade [--dry-run] VERSION/CLUSTER...|--all\n"
               "                      Bring existing configurations (an earlier version's, Debian's\n"
               "                      pg_createconfig_patroni's, an admin's) to the secure form that\n"
               "                      generate writes: TLS with verified peers, hostssl pg_hba rules,\n"
               "                      secrets moved to env.conf. Each file is backed up first\n"
               "                      (NAME.TIMESTAMP.bak, root only), then its Patroni is reloaded\n"
               "  join VERSION/CLUSTER\n"
               "                      Take a replica of the DCS's scope VERSION-CLUSTER here (etcd3), as\n"
               "                      join: in patroni-debiand.yml does; a pg-common cluster of that name\n"
               "                      in the way is dropped only if it holds nothing but what initdb made\n"
               "  connstr [--read-only] [--format=keyword|uri] VERSION/CLUSTER\n"
               "                      Print the connection string that reaches the cluster's leader (with\n"
               "                      --read-only: prefers a standby) from any host: every member's host\n"
               "                      and port from the DCS (etcd3; else this host's member), TLS verified\n"
               "                      with the CA the members use, else required\n"
               "  ctl VERSION/CLUSTER [PATRONICTL-ARGS...]\n"
               "                      Run patronictl -c /etc/patroni/VERSION-CLUSTER.yml PATRONICTL-ARGS\n"
               "                      (VERSION-CLUSTER is accepted too); its exit status is kept.\n"
               "\n"
               "Options of generate (also accepted after VERSION CLUSTER):\n"
               "  --hostip=ADDRESS    Address Patroni and PostgreSQL advertise (default: this host's)\n"
               "  --network=NET/LEN   Network allowed to replicate in pg_hba (default: the address's)\n"
               "  --port=PORT         PostgreSQL port (default: the cluster's, else highest + 1, else 5432)\n"
               "  --vip=ADDRESS       Also write VERSION-CLUSTER.vip for vip-manager from vip.in\n"
               "  --endpoint=URL[,URL] DCS endpoints for vip-manager (default: from the DCS configuration)\n"
               "  --force             Replace existing files\n"
               "  --stdout            Print the configuration instead of writing it\n"
               "  --template=FILE     Use FILE as the template\n"
               "\n"
               "Global options:\n"
               "  --root=DIR          Resolve /etc/... and /usr/lib/postgresql below DIR (default: /)\n"
               "  -h --help           Show this help\n"
               "  --version           Show the version\n"
               "\n"
               "Exit status of check: 0 no error found, 1 errors found, 2 usage error.\n"
               "Exit status of ctl: patronictl's; 2 unknown cluster or usage error, 127 no patronictl.\n"
               "Exit status of generate: 0 written, 2 usage error, 3 no such PostgreSQL version,\n"
               "4 configuration exists, 5 invalid input, 6 write failure, 1 other failure.\n"
               "Exit status of upgrade: 0 done (or nothing to do), 2 usage error, 5 a configuration\n"
               "that does not parse, 6 write failure, 1 other failure.\n",
               program);
}


#define DCS_READ_TIMEOUT_MS 1500 /* per endpoint: list and check read the DCS once */
/* The exit statuses, as --help and patroni-debianctl(1) give them. */
enum {
        EXIT_OK = 0,
        EXIT_FAILED = 1,
        EXIT_USAGE = 2,
        EXIT_NO_VERSION = 3,
        EXIT_EXISTS = 4,
        EXIT_INVALID_INPUT = 5,
        EXIT_WRITE_FAILED = 6,
};

static int exit_status_of(GenStatus s) {
        switch (s) {
        case GEN_OK:
                return EXIT_OK;
        case GEN_BAD_REQUEST:
                return EXIT_USAGE;
        case GEN_NO_VERSION:
                return EXIT_NO_VERSION;
        case GEN_EXISTS:
                return EXIT_EXISTS;
        case GEN_INVALID_INPUT:
                return EXIT_INVALID_INPUT;
        case GEN_WRITE_FAILED:
                return EXIT_WRITE_FAILED;
        case GEN_FAILED:
        default:
                return EXIT_FAILED;
        }
}

typedef struct Globals {
        const char *root;
} Globals;

static int open_root(const Globals *g) {
        int fd = fs_open_root(g->root);
        if (fd < 0)
                log_error_errno(fd, "cannot open root directory %s: %m", g->root);
        return fd;
}


/*
 * Run ARGV (found on PATH) with ENV's KEY=VALUE strings added to its environment (in the child only: never on
 * a command line), its stdout (and stderr if MERGE_STDERR, else /dev/null) into *RET_OUT, NUL-terminated, at
 * most 1 MiB. Returns the wait status, or -errno if it could not be run (127 from the child: not found).
 */
static int run_capture(const char *const argv[], char *const *env, bool merge_stderr, char **ret_out) {
        _cleanup_free_ char *out = NULL;
        int pipefd[2], status;
        size_t len = 0;
        pid_t pid;

        *ret_out = NULL;
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        fflush(stdout);
        pid = fork();
        if (pid == 0) {
                dup2(pipefd[1], STDOUT_FILENO);
                int err = merge_stderr ? pipefd[1] : open("/dev/null", O_WRONLY | O_CLOEXEC);
                if (err >= 0)
                        dup2(err, STDERR_FILENO);
                for (char *const *e = env; e && *e; e++)
                        putenv(*e);
                execvp(argv[0], (char *const *) argv); /* exec does not write them */
                _exit(127);
        }
        close(pipefd[1]);
        for (; pid > 0;) {
                char chunk[4096], *more;
                ssize_t n = read(pipefd[0], chunk, sizeof(chunk));
                if (n <= 0 || len > 1024 * 1024 || !(more = realloc(out, len + (size_t) n + 1)))
                        break;
                out = more;
                memcpy(out + len, chunk, (size_t) n);
                len += (size_t) n;
                out[len] = 0;
        }
        close(pipefd[0]);
        if (pid < 0 || waitpid(pid, &status, 0) < 0)
                return -errno;
        *ret_out = TAKE_PTR(out);
        return status;
}

/* Is the vip-manager that dpkg installed a 1.x (Debian 12's 1.0.2, etcd's v2 API only)? Asked of dpkg-query. */
static bool vip_manager_v1(const char *root) {
        char rootopt[PATH_MAX];
        _cleanup_free_ char *version = NULL;

        snprintf(rootopt, sizeof(rootopt), "--root=%s", root); /* dpkg's database below it */
        const char *argv[] = { "dpkg-query", rootopt, "-W", "-f=${Status} ${Version}", "vip-manager", NULL };
        int status = run_capture(argv, NULL, false, &version);
        if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || !version)
                return false;
        /* "install ok installed 1.0.2-6+b2" */
        const char *v = startswith(version, "install ok installed ");
        return v && startswith(v, "1.");
}

/* Before the first configuration: the REST API's credentials in env.conf, and the TLS files. */
static int prepare_host(GenInputs *in, const GenOutput *out, char **ret_added, char **ret_tls, GenError *err) {
        int r = gen_prepare_host(in, out, 1, ret_added, ret_tls, &err->message);
        if (r < 0)
                err->status = GEN_WRITE_FAILED;
        return r;
}

/* Like the daemon: a cluster that already has data is marked for a handover before its configuration is written. */
static int mark_for_takeover(int rootfd, const GenRequest *req, const Settings *s, bool *marked, GenError *err) {
        char unit[UNIT_NAME_MAX + 1];
        PgCluster c = {};
        int r = pgcommon_read_cluster(rootfd, req->version, req->cluster, &c);

        if (r >= 0 && settings_unit_name(s, req->version, req->cluster, unit, sizeof(unit)) >= 0) {
                TakeoverParams p = { .version = req->version, .cluster = req->cluster, .patroni_unit = unit,
                                     .start_conf = s->start_conf, .port = c.port };
                r = takeover_mark_if_data(rootfd, &c, &p, &err->message);
                if (r < 0)
                        err->status = GEN_WRITE_FAILED;
                *marked = r > 0;
        } else
                r = 0;
        pgcluster_done(&c);
        return r;
}

static int cmd_generate(Globals *g, int argc, char **argv) {
        enum { ARG_ROOT = 0x100, ARG_HOSTIP, ARG_NETWORK, ARG_PORT, ARG_VIP, ARG_ENDPOINT, ARG_FORCE, ARG_STDOUT, ARG_TEMPLATE };
        static const struct option options[] = {
                { "hostip", required_argument, NULL, ARG_HOSTIP },
                { "network", required_argument, NULL, ARG_NETWORK },
                { "port", required_argument, NULL, ARG_PORT },
                { "vip", required_argument, NULL, ARG_VIP },
                { "endpoint", required_argument, NULL, ARG_ENDPOINT },
                { "force", no_argument, NULL, ARG_FORCE },
                { "stdout", no_argument, NULL, ARG_STDOUT },
                { "template", required_argument, NULL, ARG_TEMPLATE },
                { "root", required_argument, NULL, ARG_ROOT },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_(gen_inputs_freep) GenInputs *in = NULL;
        _cleanup_close_ int rootfd = -1;
        GenRequest req = {};
        GenOutput out = {};
        GenError err = {};
        GenPaths paths = {
                .default_template = PKGDATADIR "/config.yml.in",
                .default_vip_template = PKGDATADIR "/vip.in",
                .temp_max_age_s = GEN_TEMP_MAX_AGE_S,
        };
        bool to_stdout = false, marked = false;
        _cleanup_free_ char *added = NULL, *tls_made = NULL;
        int c, status;

        argv[0] = (char *) program; /* getopt's messages name the program, not "generate" */
        optind = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case ARG_ROOT:
                        g->root = optarg;
                        break;
                case ARG_HOSTIP:
                        req.hostip = optarg;
                        break;
                case ARG_NETWORK:
                        req.network = optarg;
                        break;
                case ARG_PORT:
                        req.port = parse_port(optarg);
                        if (req.port < 0) {
                                log_error("invalid port \"%s\" (1-65535)", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case ARG_VIP:
                        req.vip = optarg;
                        break;
                case ARG_ENDPOINT:
                        req.endpoint = optarg;
                        break;
                case ARG_FORCE:
                        req.force = true;
                        break;
                case ARG_STDOUT:
                        to_stdout = true;
                        break;
                case ARG_TEMPLATE:
                        paths.template = optarg;
                        break;
                case 'h':
                        help();
                        return 0;
                default:
                        return EXIT_USAGE;
                }

        if (argc - optind != 2) {
                log_error("generate needs VERSION and CLUSTER, e.g. \"generate 15 main\" (see --help)");
                return EXIT_USAGE;
        }
        req.version = argv[optind];
        req.cluster = argv[optind + 1];
        if (to_stdout)
                req.force = true; /* nothing is replaced: do not refuse because the file exists */

        rootfd = open_root(g);
        if (rootfd < 0)
                return EXIT_USAGE;
        /* The daemon's settings: the same template as the daemon would use. */
        _cleanup_(settings_freep) Settings *settings = NULL;
        _cleanup_free_ char *serr = NULL;
        if (settings_load(rootfd, SETTINGS_PATH, &settings, &serr) < 0) {
                log_error("%s", serr ? serr : "out of memory");
                return EXIT_INVALID_INPUT;
        }
        gen_paths_from_settings(&paths, settings);

        if (gen_inputs_load(rootfd, g->root, &paths, &in, &err) < 0 || gen_render(in, &req, &out, &err) < 0 ||
            (!to_stdout && prepare_host(in, &out, &added, &tls_made, &err) < 0) ||
            (!to_stdout && mark_for_takeover(rootfd, &req, settings, &marked, &err) < 0) ||
            (!to_stdout && gen_write(in, &out, req.force, &err) < 0)) {
                log_error("%s", err.message ? err.message : "out of memory");
                status = exit_status_of(err.status);
                gen_error_done(&err);
                gen_output_done(&out);
                return status;
        }

        if (out.loopback)
                log_warning("only a loopback address was found for %s/%s: Patroni rejects loopback connect "
                            "addresses, pass --hostip or set HOSTIP= in %s",
                            req.version, req.cluster, DCS_DEFAULTS);
        if (to_stdout) {
                fputs(out.config, stdout);
                if (out.vip)
                        printf("---\n%s", out.vip);
        } else {
                printf("Wrote %s/%s (PostgreSQL port %d, REST API port %d)\n", PATRONI_DIR, out.name, out.port,
                       out.api_port);
                if (out.vip)
                        printf("Wrote %s/%s\n", PATRONI_DIR, out.vip_name);
                if (out.vip && streq_ptr(out.conf.dcs_type, "etcd3") && vip_manager_v1(g->root))
                        log_warning("the installed vip-manager (1.x) reads etcd through its v2 API, which does not see "
                                    "the leader key Patroni writes with etcd3: it will never raise %s; vip-manager 2 "
                                    "or later reads etcd3", req.vip);
                if (marked)
                        printf("%s/%s has data: marked for a handover to Patroni (%s/%s-%s), which patroni-debiand "
                               "carries out\n", req.version, req.cluster, TAKEOVER_DIR, req.version, req.cluster);
                if (added)
                        printf("Added %s to %s (root only): the REST API asks for them on every unsafe request. "
                               "Every other host of the cluster needs the same file\n", added, PATRONI_ENV_CONF);
                if (tls_made)
                        printf("Made %s: this host's certificate, from the CA that %s's %s derives (every host with "
                               "the same env.conf trusts it)\n", tls_made, PATRONI_ENV_CONF, TLSCA_SEED_KEY);
        }
        gen_output_done(&out);
        return fflush(stdout) == 0 ? 0 : EXIT_FAILED;
}


/* The clusters with a Patroni configuration, as "V/C, V/C" (sorted), for an error message. */
static char *known_configs(int rootfd) {
        _cleanup_(settings_freep) Settings *s = settings_new(); /* every cluster in scope */
        StatusRow *rows = NULL;
        size_t n = 0, len = 0;
        char *out;

        if (!s || status_collect(rootfd, s, &rows, &n) < 0)
                return NULL;
        for (size_t i = 0; i < n; i++)
                len += strlen(rows[i].version) + strlen(rows[i].cluster) + 3;
        out = calloc(1, len + 5);
        for (size_t i = 0; out && i < n; i++)
                if (!streq(rows[i].config, "none"))
                        sprintf(out + strlen(out), "%s%s/%s", out[0] ? ", " : "", rows[i].version, rows[i].cluster);
        if (out && !out[0])
                strcpy(out, "none");
        free(rows);
        return out;
}


/* "15/main" or "15-main" into version and cluster; logs and returns -EINVAL if it is neither. */
static int parse_cluster_arg(const char *arg, char *version, size_t vsize, char *cluster, size_t csize) {
        char inst[NAME_MAX + 1];
        const char *sep = strchr(arg, '/');

        if ((size_t) snprintf(inst, sizeof(inst), "%s", arg) < sizeof(inst)) {
                if (sep)
                        inst[sep - arg] = '-';
                if (pgcommon_split_instance(inst, version, vsize, cluster, csize) >= 0 && !(sep && strchr(sep + 1, '/')))
                        return 0;
        }
        log_error("invalid cluster \"%s\": expected VERSION/CLUSTER or VERSION-CLUSTER", arg);
        return -EINVAL;
}

/*
 * "COMMAND VERSION/CLUSTER ...": argv[1] is the cluster, or -h/--help. Returns 1 with VERSION and CLUSTER
 * set and the root open in *ROOTFD, 0 when help was shown, -EXIT_USAGE on a usage error or a root that
 * cannot be opened (said). EXTRA: more arguments than the cluster are a usage error.
 */
static int cluster_command_begin(const Globals *g, int argc, char **argv, bool extra, const char *example,
                                 char *version, size_t vsize, char *cluster, size_t csize, int *rootfd) {
        if (argc >= 2 && (streq(argv[1], "-h") || streq(argv[1], "--help"))) {
                help();
                return 0;
        }
        if (argc < 2 || extra) {
                log_error("%s needs VERSION/CLUSTER, e.g. \"%s\" (see --help)", argv[0], example);
                return -EXIT_USAGE;
        }
        if (parse_cluster_arg(argv[1], version, vsize, cluster, csize) < 0)
                return -EXIT_USAGE;
        *rootfd = open_root(g);
        return *rootfd < 0 ? -EXIT_USAGE : 1;
}

typedef struct Findings {
        unsigned errors, warnings;
} Findings;

static void finding(Findings *f, const char *level, const char *fmt, ...) _printf_(3, 4);
static void finding(Findings *f, const char *level, const char *fmt, ...) {
        va_list ap;

        f->errors += streq(level, "error");
        f->warnings += streq(level, "warning");
        printf("%-7s  ", level);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
}

/* What a finding of Patroni's validator means for this configuration. */
typedef struct ValidateContext {
        const PatroniConf *conf;   /* the configuration checked */
        char **env;                /* env.conf's KEY=VALUE pairs, as patroni@.service gets them */
        bool unit_active;          /* this cluster's Patroni runs (and holds its REST API port) */
        bool postmaster_running;   /* this cluster's own postmaster listens on its port */
        bool env_conf_exists;
} ValidateContext;

static bool env_has(char **env, const char *key) {
        return envconf_get(env, key) != NULL;
}

/*
 * Patroni's validator asks for things a configuration that runs does without, and checks ports that this
 * cluster's own processes hold. Such lines are "info" with the reason; everything else stays an error.
 */
static const char *classify(const char *line, const ValidateContext *v, char *why, size_t size) {
        if (startswith(line, "bootstrap.initdb ") && strstr(line, "is not defined") && v->conf->bootstrap_method &&
            !streq(v->conf->bootstrap_method, "initdb")) {
                snprintf(why, size, "only bootstrapping with initdb uses it; this configuration bootstraps with %s",
                         v->conf->bootstrap_method);
                return "info";
        }
        if (startswith(line, "bootstrap.pg_hba ") && strstr(line, "is not defined")) {
                snprintf(why, size, "Patroni's old place for the rules that postgresql.pg_hba and the DCS's "
                                    "postgresql.pg_hba hold now; Patroni runs without it");
                return "info";
        }
        if (startswith(line, "postgresql.authentication.superuser.password ") && strstr(line, "None is not a string") &&
            !env_has(v->env, "PATRONI_SUPERUSER_PASSWORD")) {
                snprintf(why, size, "Patroni connects as the superuser over the local socket with peer authentication "
                                    "and needs no password; the validator insists on one");
                return "info";
        }
        if (startswith(line, "postgresql.authentication.rewind ") && strstr(line, "is not defined") &&
            !env_has(v->env, "PATRONI_REWIND_USERNAME")) {
                /* A handover stores the replication and rewind settings together: an env.conf with the one and
                 * not the other did not come from a handover, and nothing will add the rewind user. */
                if (env_has(v->env, "PATRONI_REPLICATION_PASSWORD"))
                        return NULL;
                snprintf(why, size, "the handover creates the rewind role and puts PATRONI_REWIND_USERNAME and _PASSWORD "
                                    "in %s; other hosts get that file", PATRONI_ENV_CONF);
                return "info";
        }
        if (strstr(line, "is already in use")) {
                if (startswith(line, "restapi.listen ") && v->unit_active) {
                        snprintf(why, size, "held by this cluster's own Patroni, which runs");
                        return "info";
                }
                if (startswith(line, "postgresql.listen ") && v->postmaster_running) {
                        snprintf(why, size, "held by this cluster's own postmaster, which runs");
                        return "info";
                }
        }
        return NULL;
}

/* patroni --validate-config FILE, with env.conf's variables as the unit would have them; output becomes findings. */
static void validate_with_patroni(Findings *f, const char *file, const char *shown, const ValidateContext *v) {
        _cleanup_free_ char *out = NULL;
        const char *argv[] = { "patroni", "--validate-config", file, NULL };
        int status = run_capture(argv, v->env, true, &out);

        if (status < 0) {
                finding(f, "error", "cannot run patroni --validate-config: %s", strerror(-status));
                return;
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
                finding(f, "skipped", "patroni --validate-config: patroni is not installed");
                return;
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                finding(f, "ok", "patroni --validate-config %s", shown);
                return;
        }
        /* One finding per line Patroni printed; of a Python traceback, only its last line. */
        unsigned lines = 0, errors = 0;
        if (out && strstr(out, "Traceback (most recent call last)")) {
                char *last = NULL;
                for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
                        if (line[0] != ' ')
                                last = line;
                if (last) {
                        finding(f, "error", "patroni --validate-config %s: %s", shown, last);
                        lines++, errors++;
                }
        } else
                for (char *line = out ? strtok(out, "\n") : NULL; line; line = strtok(NULL, "\n"), lines++) {
                        char why[512];
                        const char *level = classify(line, v, why, sizeof(why));
                        if (level)
                                finding(f, level, "patroni --validate-config %s: %s (not a problem: %s)", shown, line,
                                        why);
                        else {
                                finding(f, "error", "patroni --validate-config %s: %s", shown, line);
                                errors++;
                        }
                }
        if (!lines)
                finding(f, "error", "patroni --validate-config %s failed (status %d)", shown,
                        WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        else if (!errors)
                finding(f, "ok", "patroni --validate-config %s: nothing but the notes above", shown);
}

/* join: what the daemon does with the cluster's scope in the DCS; a local cluster in the way, and whether it
 * holds more than initdb made. C: the pg-common cluster, NULL if there is none. */
static void check_join(Findings *f, const Globals *g, int rootfd, const Settings *s, GenInputs *in,
                       const char *version, const char *cluster, const PgCluster *c) {
        _cleanup_(etcd_view_freep) EtcdView *view = NULL;
        _cleanup_free_ char *error = NULL;
        char scope[NAME_MAX + 64], config[PATH_MAX];
        int r = join_read_dcs(rootfd, g->root, in, DCS_READ_TIMEOUT_MS, &view, &error);

        if (r == -ENOTSUP) {
                finding(f, "error", "join: only etcd3 is supported, and %s says %s", in->dcs ? in->dcs->source : "no DCS",
                        in->dcs ? strna(in->dcs->type) : "nothing");
                return;
        }
        if (r < 0) {
                finding(f, "warning", "join: the DCS was not read: %s", error ? error : strerror(-r));
                return;
        }
        if ((size_t) snprintf(scope, sizeof(scope), "%s-%s", version, cluster) >= sizeof(scope))
                return;
        const EtcdScope *sc = etcd_view_find(view, scope);
        if (!sc) {
                finding(f, "info", "join: the DCS has no scope %s in %s", scope, view->prefix);
                return;
        }
        snprintf(config, sizeof(config), PATRONI_DIR "/%s.yml", scope);
        JoinFacts jf = { .scope = scope, .has_leader = sc->leader != NULL,
                         .binaries = pgcommon_have_binaries(rootfd, version),
                         .config_present = fs_open_in_root(rootfd, config, O_PATH, false) != -ENOENT,
                         .cluster_present = c != NULL };
        JoinVerdict v = join_decide(s, &jf);
        if (v != JOIN_LOCAL_CLUSTER) {
                finding(f, "info", "join: the DCS has %s (leader %s): %s", scope, sc->leader ? sc->leader : "none",
                        join_verdict_to_string(v));
                return;
        }
        char why[PATH_MAX + 64];
        r = takeover_cluster_pristine(rootfd, c, why, sizeof(why));
        if (r > 0)
                finding(f, "warning",
                        "join: the DCS has %s (leader %s), and the pg-common cluster %s/%s here is in the way; it holds "
                        "nothing but what initdb made: drop it (pg_dropcluster --stop %s %s) and this host joins",
                        scope, strna(sc->leader), version, cluster, version, cluster);
        else if (r == 0)
                finding(f, "warning",
                        "join: the DCS has %s (leader %s), and the pg-common cluster %s/%s here is in the way; it holds "
                        "data of its own (%s), so it is neither replaced nor joined: move it under another name, or "
                        "take %s out of join:", scope, strna(sc->leader), version, cluster, why, scope);
        else
                finding(f, "warning",
                        "join: the DCS has %s (leader %s), and the pg-common cluster %s/%s here is in the way (what it "
                        "holds cannot be told: %s)", scope, strna(sc->leader), version, cluster, strerror(-r));
}

/* What anyone on the network could do to this cluster, and what to do about it. */
/* The hosts' own TLS files, which the first configuration written makes: not missing before that. */
static bool made_with_first_config(int rootfd, const char *path, bool generated) {
        if (!generated || (!streq(path, TLS_CA_FILE) && !streq(path, TLS_CERT_FILE) && !streq(path, TLS_KEY_FILE)))
                return false;
        _cleanup_close_ int fd = fs_open_in_root(rootfd, path, O_PATH, false);
        return fd == -ENOENT;
}

/*
 * Patroni 3.0.2 applies PATRONI_ETCD3_PASSWORD (or _ETCD_) only when another PATRONI_ETCD3_ setting it knows
 * is in the environment too; alone it takes it for a database user's password (a role "ETCD3" at bootstrap).
 */
static void check_dcs_password(Findings *f, char **env) {
        static const char *const suffixes[] = { "HOST", "HOSTS", "PORT", "PROTOCOL", "URL", "CACERT", "CERT", "KEY",
                                                "SRV", "PROXY", "USE_PROXIES" };
        for (size_t d = 0; d < 2; d++) {
                const char *dcs = d ? "ETCD" : "ETCD3";
                char key[64];
                bool companion = false;
                snprintf(key, sizeof(key), "PATRONI_%s_PASSWORD", dcs);
                if (!envconf_get(env, key))
                        continue;
                for (size_t i = 0; i < ELEMENTSOF(suffixes) && !companion; i++) {
                        char k[64];
                        snprintf(k, sizeof(k), "PATRONI_%s_%s", dcs, suffixes[i]);
                        companion = envconf_get(env, k) != NULL;
                }
                if (!companion)
                        finding(f, "error",
                                "%s sets %s alone: Patroni then takes it for the password of a database role %s and "
                                "reaches the DCS without it; add PATRONI_%s_PROTOCOL= (http or https, as in the DCS "
                                "configuration) next to it",
                                PATRONI_ENV_CONF, key, dcs, dcs);
        }
}

static void check_exposure(Findings *f, int rootfd, const PatroniConf *pc, char **env, const char *what,
                           bool generated, const char *version, const char *cluster) {
        bool said_tls = false;

        if (!pc->restapi_address)
                return; /* nothing parsed */
        if (!pc->restapi_auth &&
            !(envconf_get(env, "PATRONI_RESTAPI_USERNAME") && envconf_get(env, "PATRONI_RESTAPI_PASSWORD")))
                finding(f, "warning",
                        "%s: Patroni's REST API at %s asks for no password, so anyone who reaches it may restart "
                        "PostgreSQL, fail over or change any parameter: add PATRONI_RESTAPI_USERNAME and "
                        "PATRONI_RESTAPI_PASSWORD to %s (patroni-debianctl generate adds them when it writes a "
                        "configuration), copy it to the other hosts, then systemctl restart patroni@%s-%s",
                        what, pc->restapi_address, PATRONI_ENV_CONF, version, cluster);
        for (size_t i = 0; i < ELEMENTSOF(pc->key_files) && pc->key_files[i]; i++) {
                struct stat st;
                if (made_with_first_config(rootfd, pc->key_files[i], generated)) {
                        if (!said_tls)
                                finding(f, "info", "%s and %s are made with the first configuration written here "
                                        "(the hosts' own CA, from %s)", TLS_CERT_FILE, TLS_KEY_FILE, PATRONI_ENV_CONF);
                        said_tls = true;
                        continue;
                }
                _cleanup_close_ int fd = fs_open_in_root(rootfd, pc->key_files[i], O_PATH, false);
                if (fd >= 0 && fstat(fd, &st) < 0) {
                        int e = negative_errno();
                        safe_close(fd);
                        fd = e;
                }
                if (fd < 0)
                        finding(f, "warning", "%s names the key %s: %s", what, pc->key_files[i], fs_describe_error(fd));
                else if (st.st_mode & 0007)
                        finding(f, "warning",
                                "%s: the private key %s is %s by every user (mode %04o): chown root:postgres %s; "
                                "chmod 640 %s",
                                what, pc->key_files[i], st.st_mode & 0002 ? "writable" : "readable",
                                (unsigned) (st.st_mode & 07777), pc->key_files[i], pc->key_files[i]);
                else if (st.st_mode & 0020)
                        finding(f, "warning", "%s: the private key %s is writable by its group (mode %04o): chmod 640 %s",
                                what, pc->key_files[i], (unsigned) (st.st_mode & 07777), pc->key_files[i]);
        }
        for (size_t i = 0; i < ELEMENTSOF(pc->cert_files) && pc->cert_files[i]; i++) {
                _cleanup_free_ char *error = NULL;
                char host[300], date[32];
                TlsCert c;
                if (made_with_first_config(rootfd, pc->cert_files[i], generated)) {
                        if (!said_tls)
                                finding(f, "info", "%s and %s are made with the first configuration written here "
                                        "(the hosts' own CA, from %s)", TLS_CERT_FILE, TLS_KEY_FILE, PATRONI_ENV_CONF);
                        said_tls = true;
                        continue;
                }
                int r = tlscert_load(rootfd, pc->cert_files[i], &c, &error);
                if (r < 0) {
                        finding(f, "warning", "%s names the certificate %s: %s", what, pc->cert_files[i],
                                error ? error : fs_describe_error(r));
                        continue;
                }
                strftime(date, sizeof(date), "%Y-%m-%d", gmtime(&c.not_after));
                if (c.not_after < time(NULL) + 30 * 24 * 3600)
                        finding(f, "warning", "%s: the certificate %s %s on %s: renew it and reload Patroni", what,
                                pc->cert_files[i], c.not_after < time(NULL) ? "expired" : "expires", date);
                if (pc->cert_addresses[i] && tlscert_host_of(pc->cert_addresses[i], host, sizeof(host)) >= 0 &&
                    tlscert_names_host(rootfd, pc->cert_files[i], host) == 0)
                        finding(f, "warning",
                                "%s: the certificate %s does not name %s, which its peers connect to: a client that "
                                "verifies it refuses the connection; add it to the certificate's subjectAltName",
                                what, pc->cert_files[i], host);
        }
        if (pc->dcs_plain_remote)
                finding(f, "warning",
                        "%s: the DCS is reached over plain http at %s, another host: anyone on the network between "
                        "can read and write the cluster's keys, which set every member's PostgreSQL parameters. Run "
                        "etcd with TLS and client certificates, and set protocol: https, cacert, cert and key in %s",
                        what, pc->dcs_plain_remote, DCS_YML);
}

/* Is the postmaster of the cluster with DATA_DIR the one that listens on PORT (its socket's lock file)? */
static bool own_postmaster(int rootfd, int port, const char *data_dir) {
        char path[PATH_MAX];
        _cleanup_free_ char *text = NULL;
        char *line2;

        if (!data_dir || port <= 0)
                return false;
        snprintf(path, sizeof(path), "/var/run/postgresql/.s.PGSQL.%d.lock", port);
        if (fs_read_in_root(rootfd, path, true, &text, NULL) < 0 || !(line2 = strchr(text, '\n')))
                return false;
        line2++;
        return strncmp(line2, data_dir, strlen(data_dir)) == 0 && line2[strlen(data_dir)] == '\n';
}

/* Other configurations that claim the same cluster: the daemon starts only the first. */
static void check_same_cluster(Findings *f, int rootfd, const char *path, const PatroniConf *pc) {
        _cleanup_close_ int fd = fs_open_in_root(rootfd, PATRONI_DIR, O_RDONLY | O_DIRECTORY, true);
        const char *self = strrchr(path, '/') + 1;
        struct dirent *de;
        DIR *dir;

        if (fd < 0 || !(dir = fdopendir(fd)))
                return;
        TAKE_FD(fd);
        while ((de = readdir(dir))) {
                char v[32], c[64], what[PATH_MAX + 64];
                _cleanup_free_ char *text = NULL, *msg = NULL;
                PatroniConf other = {};
                size_t size;
                _cleanup_close_ int ofd = -1;

                if (streq(de->d_name, self) || !watch_config_name(de->d_name, v, sizeof(v), c, sizeof(c)))
                        continue;
                ofd = openat(dirfd(dir), de->d_name, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
                if (ofd < 0 || fs_read_fd(ofd, &text, &size) < 0 || patroniconf_parse(text, size, false, &other, &msg) < 0)
                        continue;
                if (patroniconf_same_cluster(pc, &other, what, sizeof(what)))
                        finding(f, "error", "%s has the same %s as %s/%s: the daemon starts only the one it saw first, "
                                            "and two Patroni on one cluster would destroy it; remove one of them",
                                path, what, PATRONI_DIR, de->d_name);
                patroniconf_done(&other);
        }
        closedir(dir);
}

/* check VERSION/CLUSTER: what the daemon would check, one finding per line. */
static int cmd_check(const Globals *g, int argc, char **argv) {
        char version[64], cluster[NAME_MAX + 1], path[PATH_MAX];
        _cleanup_close_ int rootfd = -1;
        _cleanup_free_ char *error = NULL, *text = NULL;
        _cleanup_(gen_inputs_freep) GenInputs *in = NULL;
        Settings *s = NULL;
        GenPaths paths = {
                .default_template = PKGDATADIR "/config.yml.in",
                .default_vip_template = PKGDATADIR "/vip.in",
                .keep_temp_files = true, /* a check changes nothing */
        };
        _cleanup_(envconf_freep) char **env = NULL;
        _cleanup_free_ char *secret_problem = NULL, *data_dir = NULL;
        ValidateContext vc = {};
        PatroniConf pc = {};
        int cluster_port = 0;
        GenRequest req = { .force = true };
        GenOutput out = {};
        GenError err = {};
        PgCluster c = {};
        Findings f = {};
        bool parsed = false;
        size_t size;
        int r;

        r = cluster_command_begin(g, argc, argv, argc > 2, "check 15/main", version, sizeof(version), cluster,
                                  sizeof(cluster), &rootfd);
        if (r <= 0)
                return -r;
        req.version = version;
        req.cluster = cluster;

        r = settings_load(rootfd, SETTINGS_PATH, &s, &error);
        if (r < 0) {
                finding(&f, "error", "%s", error ? error : "cannot read " SETTINGS_PATH);
                s = settings_new();
                if (!s)
                        return log_oom(), EXIT_FAILED;
        } else
                finding(&f, "ok", "settings %s", s->path ? s->path : "(none: every default)");
        if (!settings_in_scope(s, version, cluster))
                finding(&f, "warning", "%s/%s is excluded by the include/exclude settings: the daemon leaves it alone",
                        version, cluster);
        gen_paths_from_settings(&paths, s);

        env = envconf_read(rootfd, &vc.env_conf_exists);
        vc.env = env;
        r = fs_check_secret_file(rootfd, PATRONI_ENV_CONF, &secret_problem);
        if (r > 0)
                finding(&f, "warning", "%s", secret_problem);
        else if (r == 0 && vc.env_conf_exists)
                finding(&f, "ok", "%s: root's, readable by no other user", PATRONI_ENV_CONF);
        check_dcs_password(&f, env);

        r = pgcommon_read_cluster(rootfd, version, cluster, &c);
        if (r == -ENOENT)
                finding(&f, "ok", "no pg-common cluster %s/%s yet (a replica before its clone)", version, cluster);
        else if (r < 0 || c.error)
                finding(&f, "error", "pg-common cluster %s/%s: %s", version, cluster, c.error ? c.error : strerror(-r));
        else {
                finding(&f, "ok", "pg-common cluster %s/%s, port %d", version, cluster, c.port);
                cluster_port = c.port ? c.port : PGCOMMON_DEFAULT_PORT;
                data_dir = c.data_directory ? strdup(c.data_directory) : NULL;
                if (takeover_cluster_has_data(rootfd, &c))
                        finding(&f, "info", "%s/%s holds a database: %s", version, cluster,
                                s->takeover ? "a generated configuration hands it over to Patroni"
                                            : "takeover: false, so nothing would be started for it");
        }

        if (gen_inputs_load(rootfd, g->root, &paths, &in, &err) < 0)
                finding(&f, "error", "%s", err.message ? err.message : "cannot load the template and DCS inputs");
        else {
                finding(&f, "ok", "template and DCS inputs");
                if (s->n_join > 0)
                        check_join(&f, g, rootfd, s, in, version, cluster, r >= 0 && !c.error ? &c : NULL);
                if (gen_render(in, &req, &out, &err) < 0)
                        finding(&f, "error", "generating: %s", err.message ? err.message : "failed");
                else {
                        finding(&f, "ok", "a generated configuration would use PostgreSQL port %d, REST API port %d",
                                out.port, out.api_port);
                        if (out.loopback)
                                finding(&f, "warning", "only a loopback address was found: Patroni rejects loopback "
                                                       "connect addresses (set HOSTIP= in %s)", DCS_DEFAULTS);
                }
        }
        gen_error_done(&err);
        pgcluster_done(&c);

        snprintf(path, sizeof(path), PATRONI_DIR "/%s-%s.yml", version, cluster);
        r = fs_read_in_root(rootfd, path, false, &text, &size);
        if (r == -ENOENT)
                finding(&f, "info", "%s does not exist yet", path);
        else if (r < 0)
                finding(&f, "error", "%s: %s", path, fs_describe_error(r));
        else {
                _cleanup_free_ char *perr = NULL;
                if (patroniconf_parse(text, size, true, &pc, &perr) < 0)
                        finding(&f, "error", "%s: %s", path, perr ? perr : "not a Patroni configuration");
                else {
                        finding(&f, "ok", "%s: scope %s, REST API port %d", path, pc.scope, pc.restapi_port);
                        parsed = true;
                        check_same_cluster(&f, rootfd, path, &pc);
                        if (in && in->dcs_canonical && pc.dcs_section && !streq(in->dcs_canonical, pc.dcs_section))
                                finding(&f, "warning",
                                        "%s's DCS section differs from what %s gives now, and Patroni uses the file's: "
                                        "edit it, or move it away and run patroni-debianctl generate %s %s",
                                        path, in->dcs->source, version, cluster);
                }
        }

        /* Patroni's own check, of the configuration there or of the one that would be generated. */
        char full[PATH_MAX], tmp[PATH_MAX] = "";
        StatusRow row = {};
        snprintf(row.version, sizeof(row.version), "%.16s", version); /* valid versions are shorter */
        snprintf(row.cluster, sizeof(row.cluster), "%s", cluster);
        snprintf(row.unit, sizeof(row.unit), "-");
        status_units(&row, 1, s);
        vc.unit_active = streq(row.unit, "active") || streq(row.unit, "reloading");
        vc.postmaster_running = own_postmaster(rootfd, cluster_port, data_dir);
        if (!parsed && out.config && patroniconf_parse(out.config, out.config_size, false, &pc, &error) < 0)
                pc = (PatroniConf){};
        vc.conf = &pc;
        check_exposure(&f, rootfd, &pc, env, text ? path : "the configuration that would be generated", !text, version,
                       cluster);
        if (text && parsed) {
                /* What upgrade would change: each is a weakness (plain REST API, unverified or plain replication,
                 * pg_hba rules without TLS, a password in the file). */
                HardenTls tls = s->tls_ca ? (HardenTls){ s->tls_ca, s->tls_cert, s->tls_key }
                                          : (HardenTls){ TLS_CA_FILE, TLS_CERT_FILE, TLS_KEY_FILE };
                HardenResult hr = {};
                _cleanup_free_ char *herr = NULL;
                HardenClients clients = { s->client_networks, s->n_client_networks };
                if (harden_config(path, text, size, &tls, &clients, NULL, &hr, &herr) >= 0 && hr.n_changes > 0) {
                        finding(&f, "warning", "%s is not in the secure form that generate writes (%zu change%s): "
                                "patroni-debianctl upgrade --dry-run %s/%s lists them, without --dry-run makes them",
                                path, hr.n_changes, hr.n_changes == 1 ? "" : "s", version, cluster);
                        for (size_t k = 0; k < hr.n_changes; k++)
                                finding(&f, "info", "  %s", hr.changes[k]);
                }
                harden_result_done(&hr);
        }
        if (text && !parsed)
                finding(&f, "skipped", "patroni --validate-config: %s does not parse", path);
        else if (text) {
                snprintf(full, sizeof(full), "%s%s", streq(g->root, "/") ? "" : g->root, path);
                validate_with_patroni(&f, full, path, &vc);
        } else if (out.config) {
                const char *t = getenv("TMPDIR");
                snprintf(tmp, sizeof(tmp), "%s/patroni-debianctl-check-XXXXXX", t && t[0] ? t : "/tmp");
                int fd = mkstemp(tmp); /* 0600 */
                if (fd < 0 || write(fd, out.config, out.config_size) != (ssize_t) out.config_size) {
                        finding(&f, "error", "cannot write a temporary file for patroni --validate-config: %s",
                                strerror(errno));
                } else
                        validate_with_patroni(&f, tmp, "(the configuration that would be generated)", &vc);
                if (fd >= 0)
                        close(fd);
                (void) unlink(tmp);
        }
        gen_output_done(&out);
        patroniconf_done(&pc);
        settings_free(s);
        printf("%u error%s, %u warning%s\n", f.errors, f.errors == 1 ? "" : "s", f.warnings,
               f.warnings == 1 ? "" : "s");
        return f.errors ? 1 : 0;
}

/* Our environment, with env.conf's PATRONI_* variables in place of any of the same name. */
static char **patronictl_environment(char **env) {
        size_t n = 0, k = 0;
        char **envp;

        for (char **e = environ; *e; e++)
                n++;
        for (char **e = env; e && *e; e++)
                n++;
        envp = calloc(n + 1, sizeof(char *));
        if (!envp)
                return NULL;
        for (char **e = env; e && *e; e++)
                if (startswith(*e, "PATRONI_"))
                        envp[k++] = *e;
        for (char **e = environ; *e; e++) {
                size_t l = strcspn(*e, "=");
                bool shadowed = false;
                for (size_t i = 0; i < k && !shadowed; i++)
                        shadowed = strncmp(envp[i], *e, l + 1) == 0;
                if (!shadowed)
                        envp[k++] = *e;
        }
        return envp;
}

/* ctl VERSION/CLUSTER ARGS...: exec patronictl with the cluster's configuration. */
static int cmd_ctl(const Globals *g, int argc, char **argv) {
        char version[64], cluster[NAME_MAX + 1], path[PATH_MAX];
        _cleanup_close_ int rootfd = -1, fd = -1;

        int r = cluster_command_begin(g, argc, argv, false, "ctl 15/main list", version, sizeof(version), cluster,
                                      sizeof(cluster), &rootfd);
        if (r <= 0)
                return -r;
        snprintf(path, sizeof(path), PATRONI_DIR "/%s-%s.yml", version, cluster);
        fd = fs_open_in_root(rootfd, path, O_PATH, false);
        if (fd < 0) {
                _cleanup_free_ char *known = known_configs(rootfd);
                log_error("unknown cluster %s/%s: %s: %s (clusters with a Patroni configuration: %s)", version,
                          cluster, path, fd == -ENOENT ? "does not exist" : fs_describe_error(fd),
                          known ? known : "?");
                return EXIT_USAGE;
        }
        /* patronictl runs the user's way; the configuration is named by its path in the root. */
        char full[PATH_MAX];
        if ((size_t) snprintf(full, sizeof(full), "%s%s", streq(g->root, "/") ? "" : g->root, path) >= sizeof(full)) {
                log_error("path too long below %s", g->root);
                return EXIT_USAGE;
        }
        char **args = calloc((size_t) argc + 3, sizeof(char *));
        if (!args)
                return log_oom(), EXIT_FAILED;
        /* patronictl asks the REST API with the credentials Patroni runs with, from env.conf as the unit gets
         * them (where this user may read it): in its environment, never on its command line. */
        bool env_exists;
        _cleanup_(envconf_freep) char **env = envconf_read(rootfd, &env_exists);
        _cleanup_free_ char **envp = patronictl_environment(env);
        if (!envp) {
                free(args);
                return log_oom(), EXIT_FAILED;
        }
        args[0] = (char *) "patronictl";
        args[1] = (char *) "-c";
        args[2] = full;
        for (int i = 2; i < argc; i++)
                args[i + 1] = argv[i];
        fflush(stdout);
        execvpe(args[0], args, envp);
        log_error_errno(errno, "cannot run patronictl: %m (is the patroni package installed?)");
        free(args);
        return 127;
}


/* list [--json]: what pg-common, /etc/patroni, systemd and Patroni say about each cluster. */
static int cmp_strings(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The configurations to upgrade: the clusters named, or with --all every VERSION-CLUSTER.yml in /etc/patroni. */
static int upgrade_targets(int rootfd, bool all, char **args, int n_args, char ***ret, size_t *ret_n) {
        char **names = NULL;
        size_t n = 0;

        if (all) {
                _cleanup_close_ int fd = fs_open_in_root(rootfd, PATRONI_DIR, O_RDONLY | O_DIRECTORY, true);
                DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
                struct dirent *de;
                if (!d) {
                        log_error("cannot list %s: %s", PATRONI_DIR, fs_describe_error(fd < 0 ? fd : -errno));
                        return -EXIT_FAILED;
                }
                TAKE_FD(fd);
                while ((de = readdir(d))) {
                        char inst[NAME_MAX + 1], v[32], c[NAME_MAX + 1];
                        size_t len = strlen(de->d_name);
                        if (len < 5 || !endswith(de->d_name, ".yml") || de->d_name[0] == '.')
                                continue;
                        snprintf(inst, sizeof(inst), "%.*s", (int) (len - 4), de->d_name);
                        if (pgcommon_split_instance(inst, v, sizeof(v), c, sizeof(c)) < 0)
                                continue;
                        char **p = reallocarray(names, n + 1, sizeof(char *));
                        if (!p || !(p[n] = strdup(de->d_name))) {
                                closedir(d);
                                strv_free(p ? p : names, n);
                                return log_oom(), -EXIT_FAILED;
                        }
                        names = p;
                        n++;
                }
                closedir(d);
                qsort(names, n, sizeof(char *), cmp_strings);
        } else
                for (int i = 0; i < n_args; i++) {
                        char v[32], c[NAME_MAX + 1], name[NAME_MAX + 1];
                        if (parse_cluster_arg(args[i], v, sizeof(v), c, sizeof(c)) < 0 ||
                            gen_config_name(v, c, ".yml", name, sizeof(name)) < 0) {
                                strv_free(names, n);
                                return -EXIT_USAGE;
                        }
                        char **p = reallocarray(names, n + 1, sizeof(char *));
                        if (!p || !(p[n] = strdup(name))) {
                                strv_free(p ? p : names, n);
                                return log_oom(), -EXIT_FAILED;
                        }
                        names = p;
                        n++;
                }
        *ret = names;
        *ret_n = n;
        return 0;
}

/* Run a pg-common tool (found on PATH); its output, on failure, into *RET_WHY. 0, or -EIO. */
static int run_tool(const char *const argv[], char **ret_why) {
        _cleanup_free_ char *out = NULL;
        int status = run_capture(argv, NULL, true, &out);

        if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        if (out) {
                size_t n = strlen(out);
                while (n > 0 && out[n - 1] == '\n')
                        out[--n] = 0;
        }
        if (asprintf(ret_why, "%s failed: %s", argv[0],
                     status < 0 ? strerror(-status) : out && out[0] ? out : "no output") < 0)
                *ret_why = NULL;
        return -EIO;
}

/*
 * join VERSION/CLUSTER: a replica here of the DCS's scope VERSION-CLUSTER, as the daemon makes one for join:
 * (whatever the globs say: this is the admin's own choice). A pg-common cluster of that name in the way is
 * stopped and, only if it holds nothing but what initdb made, dropped; otherwise it is started again as it
 * was, and nothing else is done.
 */
/* The settings and the generator's inputs (template, DCS, TLS paths), as the daemon loads them: 0, or the
 * exit status after saying why. */
static int load_inputs(const Globals *g, int rootfd, Settings **ret_settings, GenInputs **ret_in) {
        _cleanup_(settings_freep) Settings *s = NULL;
        _cleanup_free_ char *error = NULL;
        GenPaths paths = { .default_template = PKGDATADIR "/config.yml.in", .default_vip_template = PKGDATADIR "/vip.in",
                           .temp_max_age_s = GEN_TEMP_MAX_AGE_S };
        GenError err = {};
        int status;

        if (settings_load(rootfd, SETTINGS_PATH, &s, &error) < 0) {
                log_error("%s", error ? error : "out of memory");
                return EXIT_INVALID_INPUT;
        }
        gen_paths_from_settings(&paths, s);
        if (gen_inputs_load(rootfd, g->root, &paths, ret_in, &err) < 0) {
                log_error("%s", err.message ? err.message : "out of memory");
                status = exit_status_of(err.status);
                gen_error_done(&err);
                return status;
        }
        *ret_settings = TAKE_PTR(s);
        return 0;
}

static int cmd_connstr(const Globals *g, int argc, char **argv) {
        enum { ARG_FORMAT = 0x100, ARG_READ_ONLY };
        static const struct option options[] = {
                { "format", required_argument, NULL, ARG_FORMAT },
                { "read-only", no_argument, NULL, ARG_READ_ONLY },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_(gen_inputs_freep) GenInputs *in = NULL;
        _cleanup_(etcd_view_freep) EtcdView *view = NULL;
        _cleanup_(settings_freep) Settings *s = NULL;
        _cleanup_free_ char *error = NULL, *text = NULL, *out = NULL;
        _cleanup_close_ int rootfd = -1;
        _cleanup_(patroniconf_done) PatroniConf pc = {};
        PgServiceFormat format = PGSERVICE_KEYWORD;
        PgService svc = {};
        bool read_only = false;
        char version[32], cluster[NAME_MAX + 1], name[NAME_MAX + 64], path[PATH_MAX];
        const char *scope = name, *ns = NULL;
        size_t size;
        int c, r;

        optind = 1;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case ARG_FORMAT:
                        if (streq(optarg, "uri"))
                                format = PGSERVICE_URI;
                        else if (!streq(optarg, "keyword")) {
                                log_error("connstr: --format=%s: keyword or uri", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case ARG_READ_ONLY:
                        read_only = true;
                        break;
                case 'h':
                        help();
                        return 0;
                default:
                        return EXIT_USAGE;
                }
        r = cluster_command_begin(g, argc - optind + 1, argv + optind - 1, argc - optind > 1, "connstr 15/main",
                                  version, sizeof(version), cluster, sizeof(cluster), &rootfd);
        if (r <= 0)
                return -r;
        r = load_inputs(g, rootfd, &s, &in);
        if (r != 0)
                return r;
        snprintf(name, sizeof(name), "%s-%s", version, cluster);
        /* Its scope and namespace are its configuration's when it has one here. */
        snprintf(path, sizeof(path), PATRONI_DIR "/%s.yml", name);
        if (fs_read_in_root(rootfd, path, true, &text, &size) >= 0 && patroniconf_parse(text, size, false, &pc, &error) >= 0) {
                scope = pc.scope ? pc.scope : name;
                ns = pc.namespace;
        }
        free(error);
        error = NULL;
        r = join_read_dcs(rootfd, g->root, in, DCS_READ_TIMEOUT_MS, &view, &error);
        if (r < 0 && r != -ENOTSUP) {
                log_error("connstr: %s", error ? error : strerror(-r));
                return EXIT_FAILED;
        }
        bool from_dcs;
        r = pgservice_of(name, view, scope, ns, pc.postgresql_connect_address, &svc, &from_dcs);
        if (r >= 0 && !from_dcs) /* no etcd3 DCS, or not (yet) in it: this host's member, as its configuration has it */
                log_warning("connstr: %s: only this host's member (%s): %s", name, pc.postgresql_connect_address,
                            view ? "its scope is not in the DCS" : "the DCS is not etcd3");
        if (r < 0) {
                pgservice_done(&svc);
                log_error("connstr: %s: %s", name,
                          r == -ENOMEM ? "out of memory"
                                       : view ? "no member with a host and port in the DCS, and no configuration here"
                                              : "no configuration here, and the DCS is not etcd3");
                return EXIT_INVALID_INPUT;
        }
        r = pgservice_connstr(&svc, read_only, gen_tls(in).ca, format, &out);
        pgservice_done(&svc);
        if (r < 0)
                return log_oom(), EXIT_FAILED;
        puts(out);
        return fflush(stdout) == 0 ? 0 : EXIT_FAILED;
}

static int cmd_join(const Globals *g, int argc, char **argv) {
        _cleanup_(gen_inputs_freep) GenInputs *in = NULL;
        _cleanup_(etcd_view_freep) EtcdView *view = NULL;
        _cleanup_(settings_freep) Settings *s = NULL;
        _cleanup_free_ char *error = NULL, *added = NULL, *tls_made = NULL;
        _cleanup_close_ int rootfd = -1;
        char version[32], cluster[NAME_MAX + 1], scope[NAME_MAX + 64], path[PATH_MAX];
        GenPaths paths = { .default_template = PKGDATADIR "/config.yml.in", .default_vip_template = PKGDATADIR "/vip.in",
                           .temp_max_age_s = GEN_TEMP_MAX_AGE_S };
        GenOutput out = {};
        GenError err = {};
        PgCluster c = {};
        int r, status;

        r = cluster_command_begin(g, argc, argv, argc > 2, "join 15/main", version, sizeof(version), cluster,
                                  sizeof(cluster), &rootfd);
        if (r <= 0)
                return -r;
        status = load_inputs(g, rootfd, &s, &in);
        if (status != 0)
                return status;
        r = join_read_dcs(rootfd, g->root, in, DCS_READ_TIMEOUT_MS, &view, &error);
        if (r < 0) {
                log_error("join: %s", r == -ENOTSUP ? "only etcd3 is supported" : error ? error : strerror(-r));
                return EXIT_INVALID_INPUT;
        }
        snprintf(scope, sizeof(scope), "%s-%s", version, cluster);
        const EtcdScope *sc = etcd_view_find(view, scope);
        if (!sc || !sc->leader) {
                log_error("join: the DCS has %s %s in %s: nothing to join", sc ? "no leader for" : "no scope", scope,
                          view->prefix);
                return EXIT_INVALID_INPUT;
        }
        snprintf(path, sizeof(path), PATRONI_DIR "/%s.yml", scope);
        if (fs_open_in_root(rootfd, path, O_PATH, false) != -ENOENT) {
                log_error("join: %s exists: this host is configured for %s/%s already", path, version, cluster);
                return EXIT_EXISTS;
        }

        r = pgcommon_read_cluster(rootfd, version, cluster, &c);
        if (r >= 0) {
                /* In the way: stopped (nothing may change while it is looked at), then dropped only if pristine. */
                const char *st[] = { "pg_ctlcluster", version, cluster, "status", NULL };
                const char *stop[] = { "pg_ctlcluster", version, cluster, "stop", "-m", "fast", NULL };
                const char *start[] = { "pg_ctlcluster", version, cluster, "start", NULL };
                const char *drop[] = { "pg_dropcluster", version, cluster, NULL };
                _cleanup_free_ char *why_tool = NULL;
                char why[PATH_MAX + 64];
                bool was_running = run_tool(st, &why_tool) >= 0;
                free(why_tool);
                why_tool = NULL;
                if (was_running && run_tool(stop, &why_tool) < 0) {
                        log_error("join: cannot stop %s/%s: %s", version, cluster, strna(why_tool));
                        pgcluster_done(&c);
                        return EXIT_FAILED;
                }
                r = takeover_cluster_pristine(rootfd, &c, why, sizeof(why));
                pgcluster_done(&c);
                if (r <= 0) {
                        if (r < 0)
                                snprintf(why, sizeof(why), "what it holds cannot be told: %s", strerror(-r));
                        if (was_running && run_tool(start, &why_tool) < 0)
                                log_error("join: and it cannot be started again: %s", strna(why_tool));
                        log_error("join: %s/%s holds data of its own (%s): it is not replaced. Move it away "
                                  "(pg_renamecluster) or drop it yourself if you do not need it", version, cluster,
                                  why);
                        return EXIT_INVALID_INPUT;
                }
                if (run_tool(drop, &why_tool) < 0) {
                        log_error("join: cannot drop %s/%s: %s", version, cluster, strna(why_tool));
                        return EXIT_FAILED;
                }
                printf("Dropped %s/%s, which held nothing but what initdb made\n", version, cluster);
                /* The cluster is gone: what the generator knew of it too. */
                in = gen_inputs_free(in);
                if (gen_inputs_load(rootfd, g->root, &paths, &in, &err) < 0) {
                        log_error("%s", err.message ? err.message : "out of memory");
                        status = exit_status_of(err.status);
                        gen_error_done(&err);
                        return status;
                }
        } else if (r != -ENOENT) {
                log_error("join: %s/%s: %s", version, cluster, strerror(-r));
                return EXIT_FAILED;
        }

        if (join_render(in, version, cluster, etcd_scope_leader_port(sc), view->prefix, &out, &err) < 0 && !err.status)
                err.status = GEN_FAILED;
        if (err.status != GEN_OK || prepare_host(in, &out, &added, &tls_made, &err) < 0 ||
            gen_write(in, &out, false, &err) < 0) {
                log_error("join: %s", err.message ? err.message : "out of memory");
                status = exit_status_of(err.status);
                gen_error_done(&err);
                gen_output_done(&out);
                return status;
        }
        printf("Wrote %s/%s (PostgreSQL port %d, REST API port %d): a replica of %s (leader %s), which Patroni "
               "clones once patroni-debiand starts it\n", PATRONI_DIR, out.name, out.port, out.api_port, scope,
               sc->leader);
        if (added)
                printf("Added %s to %s (root only): every host of the cluster needs the same file\n", added,
                       PATRONI_ENV_CONF);
        if (tls_made)
                printf("Made %s: this host's certificate\n", tls_made);
        gen_output_done(&out);
        return fflush(stdout) == 0 ? 0 : EXIT_FAILED;
}

static int cmd_upgrade(const Globals *g, int argc, char **argv) {
        _cleanup_close_ int rootfd = -1;
        _cleanup_(settings_freep) Settings *s = NULL;
        _cleanup_free_ char *error = NULL;
        char **names = NULL;
        size_t n = 0;
        bool all = false, dry_run = false;
        int first = 0, status = EXIT_OK, r;

        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "--all"))
                        all = true;
                else if (streq(argv[i], "--dry-run"))
                        dry_run = true;
                else if (streq(argv[i], "-h") || streq(argv[i], "--help")) {
                        help();
                        return 0;
                } else if (argv[i][0] == '-') {
                        log_error("upgrade: unknown option \"%s\" (--all, --dry-run)", argv[i]);
                        return EXIT_USAGE;
                } else if (!first)
                        first = i;
        }
        if (all == (first > 0)) {
                log_error("upgrade needs VERSION/CLUSTER... or --all (see --help)");
                return EXIT_USAGE;
        }
        rootfd = open_root(g);
        if (rootfd < 0)
                return EXIT_USAGE;
        if (settings_load(rootfd, SETTINGS_PATH, &s, &error) < 0) {
                log_error("%s", error ? error : "out of memory");
                return EXIT_INVALID_INPUT;
        }
        _cleanup_free_ char **args = calloc((size_t) argc, sizeof(char *));
        int n_args = 0;
        if (!args)
                return log_oom(), EXIT_FAILED;
        for (int i = first; first && i < argc; i++)
                if (argv[i][0] != '-')
                        args[n_args++] = argv[i];
        r = upgrade_targets(rootfd, all, args, n_args, &names, &n);
        if (r < 0)
                return -r;

        HardenTls setting = { s->tls_ca, s->tls_cert, s->tls_key };
        HardenTls tls = setting.ca ? setting : (HardenTls){ TLS_CA_FILE, TLS_CERT_FILE, TLS_KEY_FILE };
        GenHost host;
        if (!dry_run) {
                /* The REST API's credentials and the TLS files first: the secure form names them. */
                _cleanup_free_ const char **peers = calloc(n ? n : 1, sizeof(char *));
                _cleanup_free_ char *added = NULL, *made = NULL;
                PatroniConf *confs = calloc(n ? n : 1, sizeof(PatroniConf));
                if (!peers || !confs) {
                        free(confs);
                        strv_free(names, n);
                        return log_oom(), EXIT_FAILED;
                }
                for (size_t i = 0; i < n; i++) {
                        _cleanup_free_ char *path = NULL, *text = NULL, *msg = NULL;
                        size_t size;
                        if (asprintf(&path, PATRONI_DIR "/%s", names[i]) >= 0 &&
                            fs_read_in_root(rootfd, path, true, &text, &size) >= 0 &&
                            patroniconf_parse(text, size, false, &confs[i], &msg) >= 0)
                                peers[i] = confs[i].restapi_address;
                }
                r = gen_host_init(rootfd, &setting, &host, &error);
                if (r >= 0)
                        r = gen_host_prepare(&host, peers, n, &added, &made, &error);
                for (size_t i = 0; i < n; i++)
                        patroniconf_done(&confs[i]);
                free(confs);
                if (r < 0) {
                        log_error("%s", error ? error : fs_describe_error(r));
                        strv_free(names, n);
                        return EXIT_WRITE_FAILED;
                }
                if (added)
                        printf("Added %s to %s (root only): copy it to the other hosts of the clusters\n", added,
                               PATRONI_ENV_CONF);
                if (made)
                        printf("Made %s: this host's certificate, from the CA that %s's %s derives\n", made,
                               PATRONI_ENV_CONF, TLSCA_SEED_KEY);
        } else if (gen_host_init(rootfd, &setting, &host, &error) < 0) {
                log_error("%s", strna(error));
                strv_free(names, n);
                return EXIT_FAILED;
        }

        sd_bus *bus = NULL;
        for (size_t i = 0; i < n; i++) {
                _cleanup_(upgrade_result_done) UpgradeResult res = {};
                _cleanup_free_ char *msg = NULL;
                HardenClients clients = { s->client_networks, s->n_client_networks };
                UpgradeOptions o = { .tls = &tls, .clients = &clients, .dry_run = dry_run, .chown = host.chown,
                                     .postgres_gid = host.postgres_gid, .now = time(NULL) };
                char v[32], c[NAME_MAX + 1], inst[NAME_MAX + 1], unit[UNIT_NAME_MAX + 1];

                r = upgrade_config(rootfd, names[i], &o, &res, &msg);
                if (r < 0) {
                        log_error("%s", msg ? msg : fs_describe_error(r));
                        status = r == -EINVAL ? EXIT_INVALID_INPUT : r == -ENOMEM ? EXIT_FAILED : EXIT_WRITE_FAILED;
                        continue;
                }
                if (r == 0) {
                        printf("%s/%s: secure already\n", PATRONI_DIR, names[i]);
                        continue;
                }
                if (dry_run)
                        printf("%s/%s would change (nothing written):\n", PATRONI_DIR, names[i]);
                else
                        printf("%s/%s: made secure; the file as it was is %s\n", PATRONI_DIR, names[i], res.backup);
                for (size_t k = 0; k < res.hardened.n_changes; k++)
                        printf("  %s\n", res.hardened.changes[k]);
                if (res.secrets_added)
                        printf("  %s %s to %s\n", res.secrets_added, dry_run ? "would be moved" : "moved",
                               PATRONI_ENV_CONF);
                if (res.secrets_dropped)
                        printf("  %s: %s has its own, which Patroni used already\n", res.secrets_dropped,
                               PATRONI_ENV_CONF);
                if (dry_run)
                        continue;
                /* Patroni reads it again: TLS, pg_hba and the connection settings take effect on a reload. */
                snprintf(inst, sizeof(inst), "%.*s", (int) (strlen(names[i]) - 4), names[i]);
                if (pgcommon_split_instance(inst, v, sizeof(v), c, sizeof(c)) < 0 ||
                    settings_unit_name(s, v, c, unit, sizeof(unit)) < 0)
                        continue;
                if (!bus && bus_open_system(&bus) < 0) {
                        printf("  no system bus: reload %s yourself (systemctl reload %s)\n", unit, unit);
                        continue;
                }
                r = bus_unit_reload_if_active(bus, unit);
                if (r > 0)
                        printf("  %s reloaded\n", unit);
                else if (r == 0)
                        printf("  %s is not running: it reads the file when it starts\n", unit);
                else {
                        log_warning("cannot reload %s: %s; run systemctl reload %s", unit, strerror(-r), unit);
                        status = status ?: EXIT_FAILED;
                }
        }
        bus_close(bus);
        strv_free(names, n);
        if (fflush(stdout) != 0)
                return EXIT_FAILED;
        return status;
}

/* With an etcd3 DCS: its scopes, what this host does with each (join:), and those with no row here. Whatever
 * keeps it from being read is said on stderr; false then. */
static bool list_dcs(const Globals *g, int rootfd, const Settings *s, StatusRow **rows, size_t *n) {
        _cleanup_(gen_inputs_freep) GenInputs *in = NULL;
        _cleanup_(etcd_view_freep) EtcdView *view = NULL;
        _cleanup_free_ char *error = NULL;
        GenPaths paths = { .default_template = PKGDATADIR "/config.yml.in", .default_vip_template = PKGDATADIR "/vip.in",
                           .keep_temp_files = true, .settings_template = s->template,
                           .tls = { s->tls_ca, s->tls_cert, s->tls_key } };
        GenError err = {};
        int r;

        if (gen_inputs_load(rootfd, g->root, &paths, &in, &err) < 0) {
                gen_error_done(&err);
                return false; /* no template or DCS inputs to read it with: said by check */
        }
        r = join_read_dcs(rootfd, g->root, in, DCS_READ_TIMEOUT_MS, &view, &error);
        if (r == -ENOTSUP)
                return false;
        if (r < 0) {
                log_warning("the DCS was not read: %s", error ? error : strerror(-r));
                return false;
        }
        if (status_dcs(rootfd, s, view, rows, n) < 0) {
                log_oom();
                return false;
        }
        return true;
}

static int cmd_list(const Globals *g, int argc, char **argv) {
        _cleanup_close_ int rootfd = -1;
        _cleanup_free_ char *error = NULL;
        Settings *s = NULL;
        StatusRow *rows = NULL;
        size_t n = 0;
        bool json = false;
        int r;

        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "--json"))
                        json = true;
                else if (streq(argv[i], "-h") || streq(argv[i], "--help")) {
                        help();
                        return 0;
                } else {
                        log_error("list: unexpected argument \"%s\" (only --json)", argv[i]);
                        return EXIT_USAGE;
                }
        }
        rootfd = open_root(g);
        if (rootfd < 0)
                return EXIT_USAGE;
        r = settings_load(rootfd, SETTINGS_PATH, &s, &error);
        if (r < 0) {
                log_warning("%s; include/exclude not applied", error ? error : "cannot read " SETTINGS_PATH);
                s = settings_new();
                if (!s)
                        return log_oom(), EXIT_FAILED;
        }
        r = status_collect(rootfd, s, &rows, &n);
        if (r < 0) {
                log_error_errno(r, "cannot list the clusters: %m");
                settings_free(s);
                return EXIT_FAILED;
        }
        bool dcs = list_dcs(g, rootfd, s, &rows, &n);
        status_units(rows, n, s);
        status_patroni(rows, n, 1000);
        if (json)
                status_print_json(stdout, rows, n);
        else
                status_print_table(stdout, rows, n, dcs);
        free(rows);
        settings_free(s);
        return fflush(stdout) == 0 ? 0 : EXIT_FAILED;
}

int main(int argc, char **argv) {
        enum { ARG_ROOT = 0x100, ARG_VERSION };
        static const struct option options[] = {
                { "root", required_argument, NULL, ARG_ROOT },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {},
        };
        Globals g = { .root = "/" };
        int c;

        log_setup(program, LOG_TARGET_STDERR);

        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case ARG_ROOT:
                        g.root = optarg;
                        break;
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("%s %s\n", program, PACKAGE_VERSION);
                        return 0;
                default:
                        return EXIT_USAGE;
                }

        if (optind >= argc) {
                log_error("missing command (see --help)");
                return EXIT_USAGE;
        }
        if (streq(argv[optind], "generate"))
                return cmd_generate(&g, argc - optind, argv + optind);
        if (streq(argv[optind], "list"))
                return cmd_list(&g, argc - optind, argv + optind);
        if (streq(argv[optind], "check"))
                return cmd_check(&g, argc - optind, argv + optind);
        if (streq(argv[optind], "upgrade"))
                return cmd_upgrade(&g, argc - optind, argv + optind);
        if (streq(argv[optind], "join"))
                return cmd_join(&g, argc - optind, argv + optind);
        if (streq(argv[optind], "connstr"))
                return cmd_connstr(&g, argc - optind, argv + optind);
        if (streq(argv[optind], "ctl"))
                return cmd_ctl(&g, argc - optind, argv + optind);

        log_error("unknown command \"%s\" (see --help)", argv[optind]);
        return EXIT_USAGE;
}
