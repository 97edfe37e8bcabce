/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <ev.h>
#include <inttypes.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "daemon.h"
#include "fsutil.h"
#include "log.h"
#include "macro.h"
#include "messages.h"
#include "reconcile.h"
#include "takeover.h"
#include "units.h"
#include "watch.h"

#define RETRY_MIN_S 1.0
#define RETRY_MAX_S 60.0

typedef struct Item {
        char version[32], cluster[64];
        char key[100]; /* "V/C" */
        ClusterMemo memo;
        bool read_warned; /* its configuration could not be read, and we said so */
        ev_timer settle;        /* quiet time after an event in the cluster directory */
        ev_timer config_settle; /* quiet time after an event on its configuration */
        struct Daemon *d;
} Item;

struct Daemon {
        DaemonOptions opts;
        struct ev_loop *loop;
        int rootfd;
        Settings *settings;
        GenInputs *gen;
        Watch *watch;
        UnitBackend *units;

        Item **items; /* sorted by key */
        size_t n_items, alloc_items;

        ev_io inotify_io;
        ev_signal sig_hup, sig_term, sig_int;
        ev_timer watchdog, retry, rescan;
        ev_periodic long_sleep;
        double retry_s;
        bool stopping;

        unsigned long n_generated, n_started, n_stopped, n_reloaded;
        char last_error[160];
};

/* ---- items ------------------------------------------------------------------------------- */

static size_t item_pos(const Daemon *d, const char *key, bool *found) {
        size_t lo = 0, hi = d->n_items;

        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                int c = strcmp(d->items[mid]->key, key);
                if (c == 0) {
                        *found = true;
                        return mid;
                }
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *found = false;
        return lo;
}

static void on_settle(struct ev_loop *loop, ev_timer *t, int revents);
static void on_config_settle(struct ev_loop *loop, ev_timer *t, int revents);

static Item *item_get(Daemon *d, const char *version, const char *cluster) {
        char key[100];
        bool found;
        size_t pos;
        Item *it;

        snprintf(key, sizeof(key), "%s/%s", version, cluster);
        pos = item_pos(d, key, &found);
        if (found)
                return d->items[pos];

        if (d->n_items == d->alloc_items) {
                size_t a = d->alloc_items ? d->alloc_items * 2 : 64;
                Item **p = reallocarray(d->items, a, sizeof(Item *));
                if (!p)
                        return NULL;
                d->items = p;
                d->alloc_items = a;
        }
        it = calloc(1, sizeof(Item));
        if (!it)
                return NULL;
        snprintf(it->version, sizeof(it->version), "%s", version);
        snprintf(it->cluster, sizeof(it->cluster), "%s", cluster);
        snprintf(it->key, sizeof(it->key), "%s", key);
        it->d = d;
        ev_init(&it->settle, on_settle);
        it->settle.data = it;
        ev_init(&it->config_settle, on_config_settle);
        it->config_settle.data = it;
        memmove(&d->items[pos + 1], &d->items[pos], (d->n_items - pos) * sizeof(Item *));
        d->items[pos] = it;
        d->n_items++;
        return it;
}

static void item_free(Daemon *d, Item *it) {
        ev_timer_stop(d->loop, &it->settle);
        ev_timer_stop(d->loop, &it->config_settle);
        free(it);
}

/* An item that knows nothing and waits for nothing is dropped, so memory stays flat under churn. */
static void item_maybe_drop(Daemon *d, Item *it) {
        static const ClusterMemo empty = {};
        bool found;
        size_t pos;

        if (memcmp(&it->memo, &empty, sizeof(empty)) != 0 || it->read_warned || ev_is_active(&it->settle) ||
            ev_is_active(&it->config_settle))
                return;
        pos = item_pos(d, it->key, &found);
        if (!found)
                return;
        memmove(&d->items[pos], &d->items[pos + 1], (d->n_items - pos - 1) * sizeof(Item *));
        d->n_items--;
        item_free(d, it);
}

/* ---- facts and actions ------------------------------------------------------------------- */

static uint64_t fnv1a(const char *p, size_t n) {
        uint64_t h = 0xcbf29ce484222325ULL;
        for (size_t i = 0; i < n; i++) {
                h ^= (unsigned char) p[i];
                h *= 0x100000001b3ULL;
        }
        return h;
}

/* The last error, for STATUS=; cut to fit. */
static void set_error(Daemon *d, const char *msg) {
        size_t l = strnlen(msg, sizeof(d->last_error) - 1);

        memcpy(d->last_error, msg, l);
        d->last_error[l] = 0;
}

static void notify_status(Daemon *d) {
        size_t configs = 0, clusters = 0;

        for (size_t i = 0; i < d->n_items; i++) {
                configs += d->items[i]->memo.config_known;
                clusters += d->items[i]->memo.cluster_known;
        }
        (void) sd_notifyf(0, "STATUS=%zu clusters, %zu configurations, %lu generated, %lu starts requested%s%s",
                          clusters, configs, d->n_generated, d->n_started, d->last_error[0] ? "; last error: " : "",
                          d->last_error);
}

typedef struct Gathered {
        ClusterFacts facts;
        PgCluster cluster; /* valid when facts.cluster_present */
        char unit[256], config_path[PATH_MAX], pgcluster[100];
} Gathered;

static void gather(Daemon *d, Item *it, bool cluster_changed, Gathered *g) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        *g = (Gathered){};
        snprintf(g->pgcluster, sizeof(g->pgcluster), "%s/%s", it->version, it->cluster);
        snprintf(g->config_path, sizeof(g->config_path), PATRONI_DIR "/%s-%s.yml", it->version, it->cluster);
        (void) settings_unit_name(d->settings, it->version, it->cluster, g->unit, sizeof(g->unit));
        g->facts.in_scope = settings_in_scope(d->settings, it->version, it->cluster);

        /* /etc/patroni is root's: an admin's symlink there is followed. */
        _cleanup_close_ int fd = fs_open_in_root(d->rootfd, g->config_path, O_RDONLY | O_NONBLOCK | O_NOCTTY, false);
        struct stat st;
        r = fd < 0 ? fd : fs_read_fd(fd, &text, &size);
        if (r >= 0) {
                it->read_warned = false;
                g->facts.config_present = true;
                g->facts.config_hash = fnv1a(text, size);
                if (!it->memo.config_known || it->memo.config_hash != g->facts.config_hash) {
                        char name[NAME_MAX + 1];
                        snprintf(name, sizeof(name), "%s-%s.yml", it->version, it->cluster);
                        gen_inputs_note_config(d->gen, name, text, size);
                        if (fstat(fd, &st) >= 0 && (st.st_mode & S_IROTH))
                                log_fields(LOG_WARNING, 0,
                                           &((LogFields){ .cluster = g->pgcluster, .config_file = g->config_path }),
                                           "%s is readable by every user (mode %04o); a Patroni configuration may hold "
                                           "secrets: chmod o-r it (generated ones are 0640 root:postgres).",
                                           g->config_path, (unsigned) (st.st_mode & 07777));
                }
        } else if (r != -ENOENT) {
                if (!it->read_warned)
                        log_fields(LOG_WARNING, r, &((LogFields){ .cluster = g->pgcluster, .config_file = g->config_path }),
                                   "Cannot read %s: %s; ignoring it until it changes.", g->config_path,
                                   fs_describe_error(r));
                it->read_warned = true;
                /* As if unchanged: neither start nor stop on a read error. */
                g->facts.config_present = it->memo.config_known;
                g->facts.config_hash = it->memo.config_hash;
        }

        r = pgcommon_read_cluster(d->rootfd, it->version, it->cluster, &g->cluster);
        if (r >= 0) {
                g->facts.cluster_present = true;
                g->facts.cluster_ready = !ev_is_active(&it->settle) && g->cluster.has_postgresql_conf &&
                                         g->cluster.port > 0 && !g->cluster.error;
                g->facts.cluster_changed = cluster_changed;
                if (g->cluster.error && !ev_is_active(&it->settle) && g->facts.in_scope && !g->facts.config_present &&
                    !it->memo.generate_failed) {
                        log_fields(LOG_WARNING, 0, &((LogFields){ .cluster = g->pgcluster }),
                                   "Not generating a configuration for %s: %s", g->pgcluster, g->cluster.error);
                        it->memo.generate_failed = true;
                }
        }
        if (g->facts.config_present)
                g->facts.takeover_pending = takeover_pending(d->rootfd, it->version, it->cluster);
        g->facts.unit = d->units ? units_state(d->units, g->unit) : UNIT_STATE_UNKNOWN;
}

static void request_unit(Daemon *d, UnitVerb verb, const Gathered *g, const char *unit);

static void request(Daemon *d, UnitVerb verb, const Gathered *g) {
        request_unit(d, verb, g, g->unit);
}

static void request_unit(Daemon *d, UnitVerb verb, const Gathered *g, const char *unit) {
        static const char *const ids[] = { [UNIT_START] = MESSAGE_UNIT_START, [UNIT_STOP] = MESSAGE_UNIT_STOP,
                                           [UNIT_RELOAD] = MESSAGE_UNIT_RELOAD };
        static const char *const what[] = { [UNIT_START] = "Starting", [UNIT_STOP] = "Stopping",
                                            [UNIT_RELOAD] = "Reloading" };
        LogFields f = { .cluster = g->pgcluster, .unit = unit, .config_file = g->config_path,
                        .message_id = ids[verb] };
        int r;

        log_fields(LOG_INFO, 0, &f, "%s %s for %s.", what[verb], unit, g->pgcluster);
        r = units_request(d->units, verb, unit, g->pgcluster);
        if (r < 0) {
                char msg[512];
                snprintf(msg, sizeof(msg), "%s %s: %s", unit_verb_to_string(verb), unit, strerror(-r));
                set_error(d, msg);
                log_fields(LOG_ERR, r, &((LogFields){ .cluster = g->pgcluster, .unit = unit }),
                           "Failed to %s %s: %m", unit_verb_to_string(verb), unit);
                return;
        }
        if (verb == UNIT_START)
                d->n_started++;
        else if (verb == UNIT_STOP)
                d->n_stopped++;
        else
                d->n_reloaded++;
}

static void reconcile_item(Daemon *d, Item *it, bool cluster_changed);

static void generated(Daemon *d, Item *it, const GenOutput *out, const GenError *err) {
        LogFields f = { .cluster = it->key };
        char path[PATH_MAX];

        snprintf(path, sizeof(path), PATRONI_DIR "/%s", out->name);
        f.config_file = path;
        if (err->status == GEN_OK) {
                f.message_id = MESSAGE_CONFIG_GENERATED;
                log_fields(LOG_INFO, 0, &f, "Generated %s for %s (PostgreSQL port %d, REST API port %d).", path,
                           it->key, out->port, out->api_port);
                if (out->loopback)
                        log_fields(LOG_WARNING, 0, &f,
                                   "%s uses a loopback address, which Patroni rejects: set HOSTIP= in %s.", path,
                                   DCS_DEFAULTS);
                d->n_generated++;
        } else if (err->status != GEN_EXISTS) { /* written by someone else meanwhile: fine, start that one */
                f.message_id = MESSAGE_GENERATE_FAILED;
                log_fields(LOG_ERR, 0, &f, "Cannot generate %s for %s: %s. Will retry when the cluster or the "
                                           "settings change.", path, it->key, err->message ? err->message : "?");
                set_error(d, err->message ? err->message : "generation failed");
                it->memo.generate_failed = true;
        }
        /* The configuration is there now (or not): decide again, which starts the unit. */
        reconcile_item(d, it, false);
}

static int render_for(Daemon *d, Item *it, const Gathered *g, GenOutput *out, GenError *err) {
        GenRequest req = { .version = it->version, .cluster = it->cluster, .facts = &g->cluster };
        return gen_render(d->gen, &req, out, err);
}

/* A cluster that has data is marked for a handover before its configuration exists, so that the
 * configuration never shows up without the mark (a crash between leaves a mark and no configuration,
 * which the next scan completes). */
static int mark_for_takeover(Daemon *d, Item *it, const Gathered *g, GenError *err) {
        int r;

        if (!takeover_cluster_has_data(d->rootfd, &g->cluster))
                return 0;
        r = takeover_mark(d->rootfd, it->version, it->cluster);
        if (r < 0) {
                err->status = GEN_WRITE_FAILED;
                if (asprintf(&err->message, "cannot write %s/%s-%s: %s", TAKEOVER_DIR, it->version, it->cluster,
                             fs_describe_error(r)) < 0)
                        err->message = NULL;
        }
        return r;
}

static void execute(Daemon *d, Item *it, unsigned actions, const Gathered *g, bool generate) {
        if (actions & ACTION_LOG_SKIPPED)
                log_fields(LOG_INFO, 0, &((LogFields){ .cluster = g->pgcluster, .message_id = MESSAGE_CLUSTER_SKIPPED }),
                           "Leaving %s alone: excluded by the include/exclude settings.", g->pgcluster);
        if (actions & ACTION_LOG_CLUSTER_GONE)
                log_fields(LOG_INFO, 0, &((LogFields){ .cluster = g->pgcluster, .message_id = MESSAGE_CLUSTER_REMOVED }),
                           "Cluster directory %s/%s/%s is gone; nothing to do (the configuration decides).",
                           PGCOMMON_CONF_DIR, it->version, it->cluster);
        if ((actions & ACTION_START) && g->facts.unit == UNIT_STATE_FAILED)
                log_fields(LOG_WARNING, 0, &((LogFields){ .cluster = g->pgcluster, .unit = g->unit }),
                           "%s is in the failed state; clearing it and starting it again (see journalctl -u %s).",
                           g->unit, g->unit);
        if (actions & ACTION_LOG_TAKEOVER_OFF)
                log_fields(LOG_NOTICE, 0,
                           &((LogFields){ .cluster = g->pgcluster, .config_file = g->config_path,
                                          .message_id = MESSAGE_TAKEOVER_OFF }),
                           "Not handing %s over to Patroni (takeover: false): it stays with pg-common and %s is not "
                           "started. Remove %s/%s-%s once Patroni may run it.",
                           g->pgcluster, g->unit, TAKEOVER_DIR, it->version, it->cluster);
        if (actions & ACTION_TAKEOVER) {
                char unit[256];
                (void) takeover_unit_name(it->version, it->cluster, unit, sizeof(unit));
                log_fields(LOG_INFO, 0,
                           &((LogFields){ .cluster = g->pgcluster, .unit = unit, .config_file = g->config_path,
                                          .message_id = MESSAGE_TAKEOVER_START }),
                           "%s has data and runs under pg-common: handing it over to Patroni with %s.", g->pgcluster,
                           unit);
                request_unit(d, UNIT_START, g, unit);
        }
        if (actions & ACTION_STOP)
                request(d, UNIT_STOP, g);
        if (actions & ACTION_START)
                request(d, UNIT_START, g);
        if (actions & ACTION_RELOAD)
                request(d, UNIT_RELOAD, g);
        if ((actions & ACTION_GENERATE) && generate) {
                GenOutput out = {};
                GenError err = {};
                if (render_for(d, it, g, &out, &err) >= 0 && mark_for_takeover(d, it, g, &err) >= 0)
                        (void) gen_write(d->gen, &out, false, &err);
                generated(d, it, &out, &err);
                gen_output_done(&out);
                gen_error_done(&err);
        }
}

static Policy policy_of(const Settings *s) {
        return (Policy){ .autostart = s->autostart, .reload_on_change = s->reload_on_change, .takeover = s->takeover };
}

/* ---- stopping ---------------------------------------------------------------------------- */

static sigset_t *stop_signals(sigset_t *ss) {
        sigemptyset(ss);
        sigaddset(ss, SIGTERM);
        sigaddset(ss, SIGINT);
        return ss;
}

static void begin_stop(Daemon *d, int signum) {
        log_info("Received %s, stopping; Patroni units keep running.", strsignal(signum));
        (void) sd_notify(0, "STOPPING=1");
        d->stopping = true;
        /* A second signal ends the process at once, whatever it is doing. */
        ev_signal_stop(d->loop, &d->sig_term);
        ev_signal_stop(d->loop, &d->sig_int);
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        sigset_t ss;
        sigprocmask(SIG_UNBLOCK, stop_signals(&ss), NULL);
        ev_break(d->loop, EVBREAK_ALL);
}

static void on_stop_signal(struct ev_loop *loop, ev_signal *w, int revents) {
        (void) loop;
        (void) revents;
        begin_stop(w->data, w->signum);
}

/* Between two clusters of a long reconcile (start-up, reload, rescan): has a stop signal come? The loop
 * would see it only once the reconcile is over, and a second one would merge with it while it waits
 * (libev holds them blocked for its signalfd). Taken here, the reconcile ends after the write in hand,
 * and a second signal ends the process at once. */
static bool stop_requested(Daemon *d) {
        static const struct timespec now = { 0, 0 };
        sigset_t ss;
        int sig;

        if (d->stopping)
                return true;
        sig = sigtimedwait(stop_signals(&ss), NULL, &now);
        if (sig < 0)
                return false; /* none pending (EAGAIN) */
        begin_stop(d, sig);
        return true;
}

/* Decide and act for one cluster. CLUSTER_CHANGED: its directory settled after events. */
static void reconcile_item(Daemon *d, Item *it, bool cluster_changed) {
        const Policy policy = policy_of(d->settings);
        ClusterMemo next;
        Gathered g;
        unsigned actions;

        gather(d, it, cluster_changed, &g);
        actions = reconcile_decide(&g.facts, &it->memo, &policy, &next);
        it->memo = next;
        execute(d, it, actions, &g, true);
        pgcluster_done(&g.cluster);
}

/* Everything at once (start-up, rescan, reload): configurations to generate are written as one batch. */
static void reconcile_all(Daemon *d) {
        const Policy policy = policy_of(d->settings);
        Item **todo = NULL;
        GenOutput *outs = NULL;
        GenError *errs = NULL;
        size_t n = 0, n_all = d->n_items;
        Item **snapshot = n_all ? malloc(n_all * sizeof(Item *)) : NULL;

        if (n_all && !snapshot) {
                log_oom();
                return;
        }
        if (n_all)
                memcpy(snapshot, d->items, n_all * sizeof(Item *));
        todo = calloc(n_all ? n_all : 1, sizeof(Item *));
        outs = calloc(n_all ? n_all : 1, sizeof(GenOutput));
        errs = calloc(n_all ? n_all : 1, sizeof(GenError));
        if (!todo || !outs || !errs) {
                log_oom();
                goto finish;
        }

        for (size_t i = 0; i < n_all; i++) {
                Item *it = snapshot[i];
                ClusterMemo next;
                Gathered g;
                unsigned actions;

                if (stop_requested(d))
                        break; /* what is rendered so far is the write in hand */
                if (ev_is_active(&it->settle) || ev_is_active(&it->config_settle))
                        continue; /* its timer will decide */
                gather(d, it, true, &g); /* start-up, reload, rescan: every cluster counts as changed */
                actions = reconcile_decide(&g.facts, &it->memo, &policy, &next);
                it->memo = next;
                execute(d, it, actions & ~(unsigned) ACTION_GENERATE, &g, false);
                if ((actions & ACTION_GENERATE) && render_for(d, it, &g, &outs[n], &errs[n]) >= 0 &&
                    mark_for_takeover(d, it, &g, &errs[n]) >= 0)
                        todo[n++] = it;
                else if (actions & ACTION_GENERATE) {
                        generated(d, it, &outs[n], &errs[n]);
                        gen_output_done(&outs[n]);
                        gen_error_done(&errs[n]);
                }
                pgcluster_done(&g.cluster);
        }
        if (n > 0)
                (void) gen_write_many(d->gen, outs, n, false, errs);
        for (size_t i = 0; i < n; i++)
                generated(d, todo[i], &outs[i], &errs[i]);
        for (size_t i = 0; i < n_all; i++)
                item_maybe_drop(d, snapshot[i]);
finish:
        for (size_t i = 0; i < n; i++) {
                gen_output_done(&outs[i]);
                gen_error_done(&errs[i]);
        }
        free(todo);
        free(outs);
        free(errs);
        free(snapshot);
        notify_status(d);
}

/* ---- scanning ---------------------------------------------------------------------------- */

/* A cluster whose files changed within settle_ms may still be in the making: let it settle. */
static bool recently_changed(Daemon *d, const PgCluster *c) {
        char path[PATH_MAX];
        struct stat st;
        _cleanup_close_ int fd = -1;
        struct timespec now;

        snprintf(path, sizeof(path), PGCOMMON_CONF_DIR "/%s/%s", c->version, c->name);
        fd = fs_open_in_root(d->rootfd, path, O_RDONLY | O_DIRECTORY, true);
        if (fd < 0)
                return false;
        clock_gettime(CLOCK_REALTIME, &now);
        if (fstatat(fd, "postgresql.conf", &st, AT_SYMLINK_NOFOLLOW) < 0 && fstat(fd, &st) < 0)
                return false;
        double age = (double) (now.tv_sec - st.st_mtim.tv_sec) + (double) (now.tv_nsec - st.st_mtim.tv_nsec) / 1e9;
        return age * 1000.0 < (double) d->settings->settle_ms;
}

static void arm(Daemon *d, ev_timer *t, unsigned ms) {
        ev_timer_stop(d->loop, t);
        ev_timer_set(t, (double) ms / 1000.0, 0.);
        ev_timer_start(d->loop, t);
}

static void scan_configs(Daemon *d) {
        _cleanup_close_ int fd = fs_open_in_root(d->rootfd, PATRONI_DIR, O_RDONLY | O_DIRECTORY, true);
        struct dirent *de;
        DIR *dir;

        if (fd < 0)
                return;
        dir = fdopendir(fd);
        if (!dir)
                return;
        TAKE_FD(fd);
        while ((de = readdir(dir))) {
                char v[32], c[64];
                if (watch_config_name(de->d_name, v, sizeof(v), c, sizeof(c)) && !item_get(d, v, c))
                        log_oom();
        }
        closedir(dir);
}

static void full_scan(Daemon *d) {
        _cleanup_(pgcluster_list_freep) PgClusterList *l = NULL;
        int r;

        watch_prune(d->watch);
        r = pgcommon_scan(d->rootfd, &l);
        if (r < 0)
                log_warning_errno(r, "Cannot list %s: %m, will look again on the next event.", PGCOMMON_CONF_DIR);
        for (size_t i = 0; l && i < l->n; i++) {
                Item *it = item_get(d, l->clusters[i].version, l->clusters[i].name);
                if (!it) {
                        log_oom();
                        continue;
                }
                if (!d->opts.once && !it->memo.cluster_known && recently_changed(d, &l->clusters[i]))
                        arm(d, &it->settle, d->settings->settle_ms);
        }
        scan_configs(d);
        reconcile_all(d);
}

/* ---- events ------------------------------------------------------------------------------ */

static void settled(Item *it, bool cluster_changed) {
        Daemon *d = it->d; /* it may be freed below */

        reconcile_item(d, it, cluster_changed);
        item_maybe_drop(d, it);
        notify_status(d);
}

static void on_settle(struct ev_loop *loop, ev_timer *t, int revents) {
        (void) loop;
        (void) revents;
        settled(t->data, true);
}

static void on_config_settle(struct ev_loop *loop, ev_timer *t, int revents) {
        (void) loop;
        (void) revents;
        settled(t->data, false);
}

static void cluster_event(void *userdata, const char *version, const char *cluster) {
        Daemon *d = userdata;
        Item *it = item_get(d, version, cluster);

        if (!it) {
                log_oom();
                return;
        }
        it->memo.generate_failed = false; /* the cluster changed: worth another try */
        arm(d, &it->settle, d->settings->settle_ms);
}

static void config_event(void *userdata, const char *version, const char *cluster) {
        Daemon *d = userdata;
        Item *it = item_get(d, version, cluster);

        if (!it) {
                log_oom();
                return;
        }
        arm(d, &it->config_settle, d->settings->config_settle_ms);
}

static void rescan_requested(void *userdata, const char *why) {
        Daemon *d = userdata;

        if (!ev_is_active(&d->rescan)) {
                log_info("Rescanning: %s.", why);
                ev_timer_set(&d->rescan, 0., 0.);
                ev_timer_start(d->loop, &d->rescan);
        }
}

static void add_failed(void *userdata, const char *path, int error) {
        Daemon *d = userdata;

        if (!ev_is_active(&d->retry)) {
                log_warning_errno(error, "Cannot watch %s: %m, will retry in %.0fs.", path, d->retry_s);
                ev_timer_set(&d->retry, d->retry_s, 0.);
                ev_timer_start(d->loop, &d->retry);
                d->retry_s = d->retry_s * 2 > RETRY_MAX_S ? RETRY_MAX_S : d->retry_s * 2;
        }
}

static void on_rescan(struct ev_loop *loop, ev_timer *t, int revents) {
        Daemon *d = t->data;
        (void) loop;
        (void) revents;
        full_scan(d);
}

static void on_retry(struct ev_loop *loop, ev_timer *t, int revents) {
        Daemon *d = t->data;
        (void) loop;
        (void) revents;
        if (watch_setup(d->watch) == 0) {
                log_info("Watching every directory again.");
                d->retry_s = RETRY_MIN_S;
        }
        full_scan(d);
}

static void on_inotify(struct ev_loop *loop, ev_io *w, int revents) {
        Daemon *d = w->data;
        int r;
        (void) loop;
        (void) revents;

        r = watch_process(d->watch);
        if (r < 0)
                log_error_errno(r, "Cannot read inotify events: %m");
}

/* libev wakes up every 60 s when no timer is pending, to notice jumps of the
 * wall clock, unless it has a timerfd to tell it about them, and it sets one
 * up for the first periodic watcher. This one exists for that: it is due in a
 * year and then re-armed, so an idle daemon never wakes up on its own. */
#define LONG_SLEEP_S (365. * 24 * 3600)

static void on_long_sleep(struct ev_loop *loop, ev_periodic *p, int revents) {
        (void) revents;
        ev_periodic_set(p, ev_now(loop) + LONG_SLEEP_S, 0., NULL);
        ev_periodic_again(loop, p);
}

static void on_watchdog(struct ev_loop *loop, ev_timer *t, int revents) {
        (void) loop;
        (void) t;
        (void) revents;
        (void) sd_notify(0, "WATCHDOG=1");
}

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

/* ---- settings, reload -------------------------------------------------------------------- */

/* AT_START: the daemon is the only writer in /etc/patroni, so every leftover temporary file goes. */
static int load_all(const DaemonOptions *o, int rootfd, bool at_start, Settings **ret_settings, GenInputs **ret_gen,
                    char **ret_error) {
        _cleanup_(settings_freep) Settings *s = NULL;
        GenPaths paths = { .default_template = o->default_template,
                           .default_vip_template = o->default_vip_template,
                           .temp_max_age_s = at_start ? 0 : GEN_TEMP_MAX_AGE_S };
        GenError err = {};
        int r;

        r = settings_load(rootfd, o->config, &s, ret_error);
        if (r < 0)
                return r;
        paths.template = s->template;
        r = gen_inputs_load(rootfd, o->root, &paths, ret_gen, &err);
        if (r < 0) {
                *ret_error = err.message ? err.message : strdup("out of memory");
                return r;
        }
        *ret_settings = TAKE_PTR(s);
        return 0;
}

static void reload(Daemon *d) {
        _cleanup_free_ char *error = NULL;
        Settings *s = NULL;
        GenInputs *g = NULL;

        (void) sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64, now_usec());
        if (load_all(&d->opts, d->rootfd, false, &s, &g, &error) < 0) {
                log_fields(LOG_ERR, 0, &((LogFields){ .message_id = MESSAGE_RELOAD_REJECTED }),
                           "Invalid configuration, keeping the previous one: %s", error ? error : "out of memory");
                set_error(d, error ? error : "reload rejected");
                (void) sd_notify(0, "READY=1");
                notify_status(d);
                return;
        }
        settings_free(d->settings);
        gen_inputs_free(d->gen);
        d->settings = s;
        d->gen = g;
        d->last_error[0] = 0;
        for (size_t i = 0; i < d->n_items; i++)
                d->items[i]->memo.generate_failed = false;
        log_info("Reloaded settings from %s.", d->settings->path ? d->settings->path : "defaults");
        full_scan(d); /* existing configurations are never rewritten; units only where facts differ */
        (void) sd_notify(0, "READY=1");
}

static void on_sighup(struct ev_loop *loop, ev_signal *w, int revents) {
        (void) loop;
        (void) revents;
        reload(w->data);
}

/* ---- life cycle -------------------------------------------------------------------------- */

int daemon_check_config(const DaemonOptions *opts, char **ret_error, char **ret_warning) {
        _cleanup_close_ int rootfd = fs_open_root(opts->root);
        Settings *s = NULL;
        GenInputs *g = NULL;
        int r;

        *ret_warning = NULL;
        if (rootfd < 0) {
                if (asprintf(ret_error, "%s: cannot open: %s", opts->root, strerror(-rootfd)) < 0)
                        *ret_error = NULL;
                return rootfd;
        }
        r = load_all(opts, rootfd, false, &s, &g, ret_error);
        if (r >= 0 && g->dcs_error)
                *ret_warning = strdup(g->dcs_error);
        settings_free(s);
        gen_inputs_free(g);
        return r;
}

Daemon *daemon_free(Daemon *d) {
        if (!d)
                return NULL;
        for (size_t i = 0; i < d->n_items; i++)
                item_free(d, d->items[i]);
        free(d->items);
        /* The bus backend's watchers live in the loop: gone before it is. */
        units_free(d->units);
        if (d->loop) {
                ev_io_stop(d->loop, &d->inotify_io);
                ev_signal_stop(d->loop, &d->sig_hup);
                ev_signal_stop(d->loop, &d->sig_term);
                ev_signal_stop(d->loop, &d->sig_int);
                ev_timer_stop(d->loop, &d->watchdog);
                ev_timer_stop(d->loop, &d->retry);
                ev_timer_stop(d->loop, &d->rescan);
                ev_periodic_stop(d->loop, &d->long_sleep);
                ev_loop_destroy(d->loop);
        }
        watch_free(d->watch);
        gen_inputs_free(d->gen);
        settings_free(d->settings);
        safe_close(d->rootfd);
        free(d);
        return NULL;
}

int daemon_new(const DaemonOptions *opts, Daemon **ret) {
        _cleanup_(daemon_freep) Daemon *d = calloc(1, sizeof(Daemon));
        _cleanup_free_ char *error = NULL;
        static const WatchCallbacks cb = {
                .cluster_event = cluster_event,
                .config_event = config_event,
                .rescan = rescan_requested,
                .add_failed = add_failed,
        };
        int r;

        if (!d)
                return log_oom();
        d->rootfd = -1;
        d->opts = *opts;
        d->retry_s = RETRY_MIN_S;

        d->rootfd = fs_open_root(opts->root);
        if (d->rootfd < 0)
                return log_error_errno(d->rootfd, "Cannot open root directory %s: %m", opts->root);
        r = load_all(opts, d->rootfd, !opts->once, &d->settings, &d->gen, &error);
        if (r < 0) {
                log_error("%s", error ? error : "out of memory");
                return r;
        }

        d->loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOENV | EVFLAG_SIGNALFD);
        if (!d->loop)
                return log_error_errno(ENOMEM, "Cannot create the event loop.");

        if (opts->dry_run) {
                d->units = units_dry_run_new(stderr);
                if (!d->units)
                        return log_oom();
        } else {
                r = units_bus_new(d->loop, &d->units);
                if (r < 0)
                        return log_error_errno(r, "Cannot talk to systemd over the system bus: %m");
        }

        r = watch_new(opts->root, &cb, d, &d->watch);
        if (r < 0)
                return log_error_errno(r, "Cannot set up inotify: %m");

        ev_io_init(&d->inotify_io, on_inotify, watch_fd(d->watch), EV_READ);
        d->inotify_io.data = d;
        ev_signal_init(&d->sig_hup, on_sighup, SIGHUP);
        d->sig_hup.data = d;
        ev_signal_init(&d->sig_term, on_stop_signal, SIGTERM);
        d->sig_term.data = d;
        ev_signal_init(&d->sig_int, on_stop_signal, SIGINT);
        d->sig_int.data = d;
        ev_init(&d->retry, on_retry);
        d->retry.data = d;
        ev_init(&d->rescan, on_rescan);
        d->rescan.data = d;
        ev_init(&d->watchdog, on_watchdog);
        d->watchdog.data = d;
        ev_periodic_init(&d->long_sleep, on_long_sleep, ev_now(d->loop) + LONG_SLEEP_S, 0., NULL);

        *ret = TAKE_PTR(d);
        return 0;
}

int daemon_run(Daemon *d) {
        uint64_t t0 = now_usec(), wd_usec = 0;
        size_t configs = 0, clusters = 0;

        signal(SIGPIPE, SIG_IGN);
        if (!d->opts.once) {
                ev_io_start(d->loop, &d->inotify_io);
                ev_signal_start(d->loop, &d->sig_hup);
                ev_signal_start(d->loop, &d->sig_term);
                ev_signal_start(d->loop, &d->sig_int);
                ev_periodic_start(d->loop, &d->long_sleep);
                /* Watch first, then scan: nothing slips between the two. */
                if (watch_setup(d->watch) > 0)
                        log_warning("Some directories cannot be watched yet; retrying with backoff.");
        }
        full_scan(d);
        if (d->stopping)
                return 0; /* a stop signal came during start-up */

        for (size_t i = 0; i < d->n_items; i++) {
                configs += d->items[i]->memo.config_known;
                clusters += d->items[i]->memo.cluster_known;
        }
        log_info("Watching %zu clusters and %zu configurations below %s (start-up took %.1f ms).", clusters, configs,
                 d->opts.root, (double) (now_usec() - t0) / 1000.0);
        if (d->opts.once)
                return 0;

        (void) sd_notify(0, "READY=1");
        notify_status(d);
        if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec > 0) {
                ev_timer_set(&d->watchdog, (double) wd_usec / 2e6, (double) wd_usec / 2e6);
                ev_timer_start(d->loop, &d->watchdog);
        }
        ev_run(d->loop, 0);
        return 0;
}
