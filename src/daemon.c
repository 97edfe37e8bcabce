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

#include "bus.h"
#include "conf.h"
#include "daemon.h"
#include "envconf.h"
#include "etcdwatch.h"
#include "fsutil.h"
#include "join.h"
#include "pgservice.h"
#include "log.h"
#include "macro.h"
#include "messages.h"
#include "patroniconf.h"
#include "reconcile.h"
#include "removal.h"
#include "takeover.h"
#include "tlsca.h"
#include "units.h"
#include "watch.h"

#define VIP_UNIT_TEMPLATE "vip-manager@.service"
#define RETRY_MIN_S 1.0
#define RETRY_MAX_S 60.0

/* What a configuration says of itself (data directory, scope, ports, DCS): read when its content changes. */
typedef struct Claims {
        bool valid;
        uint64_t for_hash; /* the configuration content this was read from */
        PatroniConf conf;
        uint64_t key[3];   /* data directory, namespace and scope, port: hashed (0 if none), compared first */
} Claims;

typedef struct Item {
        char version[32], cluster[64];
        char key[100]; /* "V/C" */
        ClusterMemo memo;
        Claims claims;
        double unit_retry_s; /* after a failed unit request: when to decide again (doubles, up to RETRY_MAX_S) */
        bool unit_failed;    /* ... and that decision is a retry, as on reload: a handover is started again */
        bool dcs_changed;    /* its scope changed in the DCS: its next decision is logged with the verdict */
        /* A dry run writes nothing: what it would have written stands in for the file. */
        bool virtual_config, virtual_takeover;
        uint64_t virtual_hash;
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
        bool config_dir_missing_logged;
        ev_periodic long_sleep;
        ev_periodic tls_renew; /* once a day: the host's certificate, before it ends */
        EtcdWatch *etcd;       /* the DCS's namespace, watched (join:, pg_service:); NULL if neither or not etcd3 */
        ev_timer join_settle;  /* quiet time after the watch saw changes */
        ev_timer service_settle; /* quiet time before pg_service.conf is brought up to date */
        uint64_t service_error_hash, service_left_hash; /* of what was said last: said again only when it changes */
        bool etcd_up_logged;
        bool join_synced; /* the DCS was read since the watch started: clusters here waited for that */
        char etcd_last_error[200];
        double retry_s;
        bool stopping;

        unsigned long n_generated, n_started, n_stopped, n_reloaded;
        char last_error[160];
};

/* Does this host join scopes of the DCS (join: set, and the DCS watched)? */
static bool joining(const Daemon *d) {
        return d->etcd && d->settings->n_join > 0;
}

static void service_schedule(Daemon *d);

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
        ev_init(&it->config_settle, on_settle);
        it->config_settle.data = it;
        memmove(&d->items[pos + 1], &d->items[pos], (d->n_items - pos) * sizeof(Item *));
        d->items[pos] = it;
        d->n_items++;
        return it;
}

static void claims_done(Claims *c) {
        patroniconf_done(&c->conf);
        *c = (Claims){};
}

static uint64_t hash_str(const char *a, const char *b) {
        return !a || !b ? 0 : hash_bytes(hash_bytes(HASH_INIT, a, strlen(a) + 1), b, strlen(b) + 1);
}

/* Claims of CONF (taken over), read from content hashed to FOR_HASH. */
static void claims_set(Claims *c, uint64_t for_hash, PatroniConf *conf) {
        claims_done(c);
        *c = (Claims){ .valid = true, .for_hash = for_hash, .conf = *conf };
        *conf = (PatroniConf){};
        c->key[0] = hash_str("", c->conf.data_dir);
        c->key[1] = hash_str(c->conf.namespace, c->conf.scope);
        c->key[2] = (uint64_t) c->conf.postgresql_port;
}

static void item_free(Daemon *d, Item *it) {
        ev_timer_stop(d->loop, &it->settle);
        ev_timer_stop(d->loop, &it->config_settle);
        claims_done(&it->claims);
        free(it);
}

/* An item that knows nothing and waits for nothing is dropped, so memory stays flat under churn. */
static void item_maybe_drop(Daemon *d, Item *it) {
        static const ClusterMemo empty = {};
        bool found;
        size_t pos;

        if (!reconcile_memo_equal(&it->memo, &empty) || it->virtual_config ||
            ev_is_active(&it->settle) || ev_is_active(&it->config_settle))
                return;
        pos = item_pos(d, it->key, &found);
        if (!found)
                return;
        memmove(&d->items[pos], &d->items[pos + 1], (d->n_items - pos - 1) * sizeof(Item *));
        d->n_items--;
        item_free(d, it);
}

/* ---- facts ------------------------------------------------------------------------------ */

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

/* Everything known about one cluster at one moment: the decision's facts, and what the effects need. */
typedef struct Gathered {
        ClusterFacts facts;
        PgCluster cluster; /* valid when facts.cluster_present */
        char unit[UNIT_NAME_MAX + 1], config_path[PATH_MAX], config_name[NAME_MAX + 1], pgcluster[100];
        char vip_unit[UNIT_NAME_MAX + 1], vip_path[PATH_MAX];
        int read_error;      /* the configuration exists but cannot be read */
        mode_t config_mode;  /* of the configuration read */
        const Item *conflict_with;
        char conflict_what[PATH_MAX + 64];
        JoinVerdict join;    /* its scope in the DCS, when it is there (else JOIN_OFF) */
        int join_port;       /* the leader's PostgreSQL port */
        char join_leader[ETCD_NAME_MAX + 1], join_scope[100];
} Gathered;

/* Read what a configuration claims (data directory, scope, ports) when its content is new to us. A cache of
 * what is on disk, keyed by its content: reading the disk fills it, deciding never does. */
static void read_claims(Item *it, const char *text, size_t size, uint64_t hash) {
        _cleanup_free_ char *msg = NULL;
        PatroniConf conf = {};

        if (it->claims.valid && it->claims.for_hash == hash)
                return;
        if (patroniconf_parse(text, size, false, &conf, &msg) < 0)
                conf = (PatroniConf){}; /* unreadable YAML claims nothing; Patroni will refuse it */
        claims_set(&it->claims, hash, &conf);
}

static uint64_t now_ms(Daemon *d) {
        return (uint64_t) (ev_now(d->loop) * 1000.0);
}

/* Does a configuration the daemon already runs claim what IT's does? The first one keeps it. */
static const Item *find_conflict(const Daemon *d, const Item *it, char *what, size_t size) {
        for (size_t i = 0; i < d->n_items; i++) {
                const Item *o = d->items[i];

                const uint64_t *a = it->claims.key, *b = o->claims.key;
                if (o == it || !o->memo.config_known || o->memo.conflict_logged || !o->claims.valid)
                        continue;
                if (((a[0] && a[0] == b[0]) || (a[1] && a[1] == b[1]) || (a[2] && a[2] == b[2])) &&
                    patroniconf_same_cluster(&it->claims.conf, &o->claims.conf, what, size))
                        return o;
        }
        return NULL;
}

static bool config_dir_present(Daemon *d) {
        _cleanup_close_ int fd = fs_open_in_root(d->rootfd, PATRONI_DIR, O_PATH | O_DIRECTORY, true);
        return fd >= 0;
}

/* Facts only: what is on disk, what systemd says, what the watch saw. RETRY: start-up or reload. */
/* Its scope in the DCS (join:): the verdict, and the leader's name and port. */
static void gather_join(Daemon *d, Item *it, Gathered *g) {
        EtcdView *v = joining(d) ? etcdwatch_view(d->etcd) : NULL;
        const EtcdScope *s;

        g->join = JOIN_OFF;
        snprintf(g->join_scope, sizeof(g->join_scope), "%s-%s", it->version, it->cluster);
        g->facts.join_pending = joining(d) && !d->join_synced;
        if (!v || !(s = etcd_view_find(v, g->join_scope)))
                return;
        JoinFacts jf = { .scope = g->join_scope, .has_leader = s->leader != NULL,
                         .binaries = pgcommon_have_binaries(d->rootfd, it->version),
                         .config_present = g->facts.config_present || g->facts.config_read_error,
                         .cluster_present = g->facts.cluster_present };
        g->join = join_decide(d->settings, &jf);
        g->join_port = etcd_scope_leader_port(s);
        snprintf(g->join_leader, sizeof(g->join_leader), "%s", strempty(s->leader));
        g->facts.join_ready = g->join == JOIN_YES;
        g->facts.join_blocked = g->join == JOIN_LOCAL_CLUSTER;
}

/* A cluster here, no configuration, its scope named by join: and not led in the DCS: is it an empty one (what
 * installing postgresql-NN makes), which a handover would make the scope's leader? */
static void gather_join_wait(Daemon *d, Item *it, Gathered *g) {
        char why[PATH_MAX + 64];

        if (!joining(d) || !g->facts.cluster_present || g->facts.config_present || g->facts.config_read_error ||
            g->facts.join_blocked || g->facts.join_ready || !settings_join_match(d->settings, g->join_scope) ||
            it->memo.tried)
                return;
        /* The data directory is postgres's: read with bounds, symlinks not followed. */
        g->facts.join_wait = takeover_cluster_pristine(d->rootfd, &g->cluster, why, sizeof(why)) > 0;
}

/* Debian's vip-manager package ships vip-manager@.service; an admin may have one of their own. */
static bool vip_manager_installed(Daemon *d) {
        static const char *const paths[] = { "/etc/systemd/system/" VIP_UNIT_TEMPLATE,
                                             "/lib/systemd/system/" VIP_UNIT_TEMPLATE,
                                             "/usr/lib/systemd/system/" VIP_UNIT_TEMPLATE };
        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                int fd = fs_open_in_root(d->rootfd, paths[i], O_PATH | O_CLOEXEC, false);
                if (fd >= 0) {
                        close(fd);
                        return true;
                }
        }
        return false;
}

/* /etc/patroni/V-C.vip (generate --vip): vip-manager@V-C goes with the cluster's Patroni. */
static void gather_vip(Daemon *d, Item *it, Gathered *g) {
        _cleanup_free_ char *text = NULL;
        size_t size;

        snprintf(g->vip_path, sizeof(g->vip_path), PATRONI_DIR "/%s-%s.vip", it->version, it->cluster);
        snprintf(g->vip_unit, sizeof(g->vip_unit), "vip-manager@%s-%s.service", it->version, it->cluster);
        if (fs_read_in_root(d->rootfd, g->vip_path, true, &text, &size) < 0)
                return; /* absent, or a symlink (not followed): no virtual IP */
        g->facts.vip_present = true;
        g->facts.vip_hash = hash_bytes(HASH_INIT, text, size);
        g->facts.vip_installed = vip_manager_installed(d);
}

static void gather(Daemon *d, Item *it, bool retry, Gathered *g) {
        _cleanup_free_ char *text = NULL;
        ClusterFacts *f = &g->facts;
        size_t size;
        int r;

        *g = (Gathered){};
        snprintf(g->pgcluster, sizeof(g->pgcluster), "%s/%s", it->version, it->cluster);
        snprintf(g->config_name, sizeof(g->config_name), "%s-%s.yml", it->version, it->cluster);
        snprintf(g->config_path, sizeof(g->config_path), PATRONI_DIR "/%s", g->config_name);
        /* Settings only allow unit patterns that every valid VERSION-CLUSTER fits in. */
        f->in_scope = settings_unit_name(d->settings, it->version, it->cluster, g->unit, sizeof(g->unit)) >= 0 &&
                      settings_in_scope(d->settings, it->version, it->cluster);
        f->retry = retry || it->unit_failed;

        /* /etc/patroni is root's: an admin's symlink there is followed. */
        _cleanup_close_ int fd = fs_open_in_root(d->rootfd, g->config_path, O_RDONLY | O_NONBLOCK | O_NOCTTY, false);
        struct stat st;
        r = fd < 0 ? fd : fs_read_fd(fd, &text, &size);
        if (r >= 0) {
                f->config_present = true;
                f->config_dir_present = true;
                f->config_hash = hash_bytes(HASH_INIT, text, size);
                g->config_mode = fstat(fd, &st) >= 0 ? st.st_mode : 0;
                read_claims(it, text, size, f->config_hash);
        } else if (r == -ENOENT && it->virtual_config) {
                f->config_present = true;
                f->config_dir_present = true;
                f->config_hash = it->virtual_hash;
        } else if (r == -ENOENT)
                f->config_dir_present = config_dir_present(d);
        else {
                g->read_error = r;
                f->config_read_error = true;
                f->config_dir_present = true;
                /* As if unchanged: neither start nor stop on a read error. */
                f->config_present = it->memo.config_known;
                f->config_hash = it->memo.config_hash;
        }
        f->now_ms = now_ms(d);
        if (f->config_present && g->read_error == 0 && !it->virtual_config) {
                g->conflict_with = find_conflict(d, it, g->conflict_what, sizeof(g->conflict_what));
                f->config_conflict = g->conflict_with != NULL;
        }

        r = pgcommon_read_cluster(d->rootfd, it->version, it->cluster, &g->cluster);
        if (r >= 0) {
                bool settling = ev_is_active(&it->settle) || watch_cluster_busy(d->watch, it->version, it->cluster);
                f->cluster_present = true;
                f->cluster_sig = g->cluster.signature;
                f->cluster_ready = !settling && g->cluster.has_postgresql_conf && g->cluster.port > 0 && !g->cluster.error;
                f->cluster_error = !settling && g->cluster.error;
                if (!it->memo.cluster_known && !it->memo.config_known && !it->memo.removed) {
                        uint64_t sig;
                        f->removal_on_disk = removal_recall(d->rootfd, it->version, it->cluster, &sig) > 0;
                        f->removal_sig_on_disk = f->removal_on_disk ? sig : 0;
                }
        } else if (r == -ENOENT && joining(d) && !it->memo.config_known && !it->memo.removed) {
                /* A joined scope's configuration removed before its clone: remembered without a cluster (its
                 * signature 0); one remembered for a cluster since dropped is not this. */
                uint64_t sig;
                f->removal_on_disk = removal_recall(d->rootfd, it->version, it->cluster, &sig) > 0 && sig == 0;
        }
        if (f->config_present)
                f->takeover_pending = it->virtual_config ? it->virtual_takeover
                                                         : takeover_pending(d->rootfd, it->version, it->cluster);
        f->unit = d->units ? units_state(d->units, g->unit) : UNIT_STATE_UNKNOWN;
        gather_join(d, it, g);
        gather_join_wait(d, it, g);
        gather_vip(d, it, g);
}

static Policy policy_of(const Settings *s) {
        return (Policy){ .autostart = s->autostart, .reload_on_change = s->reload_on_change, .takeover = s->takeover,
                         .removal_settle_ms = s->removal_settle_ms };
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
        /* A second signal ends the process at once, whatever it is doing. The default action first:
         * ev_signal_stop() unblocks the signal, and one pending then must not meet a SIG_IGN inherited
         * from a shell that started the daemon in the background (it ignores SIGINT for such jobs). */
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        ev_signal_stop(d->loop, &d->sig_term);
        ev_signal_stop(d->loop, &d->sig_int);
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

/* ---- effects ---------------------------------------------------------------------------- */

static int request_unit(Daemon *d, UnitVerb verb, const Gathered *g, const char *unit) {
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
                           "Failed to %s %s: %m; will retry.", unit_verb_to_string(verb), unit);
                return r;
        }
        if (verb == UNIT_START)
                d->n_started++;
        else if (verb == UNIT_STOP)
                d->n_stopped++;
        else
                d->n_reloaded++;
        return 0;
}

static double ms(unsigned v) {
        return (double) v / 1000.0;
}

static void arm(Daemon *d, ev_timer *t, double s) {
        ev_timer_stop(d->loop, t);
        ev_timer_set(t, s, 0.);
        ev_timer_start(d->loop, t);
}

/* ACTION_INSPECT_CONFIG: what a new or changed configuration shows that an admin should hear about. */
static void inspect_config(Daemon *d, Item *it, const Gathered *g) {
        LogFields f = { .cluster = g->pgcluster, .config_file = g->config_path };

        if (g->config_mode & S_IROTH)
                log_fields(LOG_WARNING, 0, &f,
                           "%s is readable by every user (mode %04o); a Patroni configuration may hold secrets: chmod "
                           "o-r it (generated ones are 0640 root:postgres).",
                           g->config_path, (unsigned) (g->config_mode & 07777));
        if (!it->claims.valid)
                return;
        gen_inputs_note_api_port(d->gen, g->config_name, it->claims.conf.restapi_port,
                                 it->claims.conf.postgresql_port);
        /* Never rewritten by the daemon: a DCS that moved is for the admin to carry over. */
        if (d->gen->dcs_canonical && it->claims.conf.dcs_section &&
            !streq(d->gen->dcs_canonical, it->claims.conf.dcs_section))
                log_fields(LOG_WARNING, 0, &f,
                           "%s's DCS section differs from what %s gives now, and Patroni uses the file's. The "
                           "daemon does not rewrite it: edit it, or remove it to have it generated again.",
                           g->config_path, d->gen->dcs->source ? d->gen->dcs->source : "the DCS settings");
}

/* What the daemon hands the takeover helper for IT: the values it validated. */
static TakeoverParams takeover_params_of(const Daemon *d, const Item *it, const Gathered *g) {
        return (TakeoverParams){ .version = it->version, .cluster = it->cluster, .patroni_unit = g->unit,
                                 .start_conf = d->settings->start_conf, .port = g->cluster.port };
}

/* ACTION_TAKEOVER: the mark gets the values the helper runs with, then the takeover unit starts. */
static int start_takeover(Daemon *d, Item *it, const Gathered *g) {
        char unit[UNIT_NAME_MAX + 1];
        const TakeoverParams p = takeover_params_of(d, it, g);
        int r;

        (void) takeover_unit_name(it->version, it->cluster, unit, sizeof(unit));
        log_fields(LOG_INFO, 0,
                   &((LogFields){ .cluster = g->pgcluster, .unit = unit, .config_file = g->config_path,
                                  .message_id = MESSAGE_TAKEOVER_START }),
                   "%s has data and runs under pg-common: handing it over to Patroni with %s.", g->pgcluster, unit);
        if (!d->opts.dry_run && g->facts.cluster_present && (r = takeover_mark(d->rootfd, &p)) < 0) {
                log_fields(LOG_ERR, r, &((LogFields){ .cluster = g->pgcluster, .unit = unit }),
                           "Cannot write %s/%s-%s: %m; not starting %s, will retry.", TAKEOVER_DIR,
                           it->version, it->cluster, unit);
                return r;
        }
        return request_unit(d, UNIT_START, g, unit);
}

/* The executor: carries out ACTIONS but generating (which the caller batches); returns those that failed. */
static unsigned apply(Daemon *d, Item *it, unsigned actions, const Gathered *g) {
        LogFields f = { .cluster = g->pgcluster, .config_file = g->config_path };
        unsigned failed = 0;
        int r;

        if (actions & ACTION_LOG_READ_ERROR)
                log_fields(LOG_WARNING, g->read_error, &f, "Cannot read %s: %s; ignoring it until it changes.",
                           g->config_path, fs_describe_error(g->read_error));
        if (actions & ACTION_INSPECT_CONFIG)
                inspect_config(d, it, g);
        if (actions & ACTION_LOG_SKIPPED)
                log_fields(LOG_INFO, 0, &((LogFields){ .cluster = g->pgcluster, .message_id = MESSAGE_CLUSTER_SKIPPED }),
                           "Leaving %s alone: excluded by the include/exclude settings.", g->pgcluster);
        if (actions & ACTION_LOG_CLUSTER_GONE)
                log_fields(LOG_INFO, 0, &((LogFields){ .cluster = g->pgcluster, .message_id = MESSAGE_CLUSTER_REMOVED }),
                           "Cluster directory %s/%s/%s is gone; nothing to do (the configuration decides).",
                           PGCOMMON_CONF_DIR, it->version, it->cluster);
        if (actions & ACTION_LOG_CLUSTER_ERROR)
                log_fields(LOG_WARNING, 0, &((LogFields){ .cluster = g->pgcluster, .message_id = MESSAGE_GENERATE_FAILED }),
                           "Not generating a configuration for %s: %s", g->pgcluster, strna(g->cluster.error));
        if (actions & ACTION_LOG_CONFLICT) {
                char other[PATH_MAX];
                snprintf(other, sizeof(other), PATRONI_DIR "/%s-%s.yml", g->conflict_with->version,
                         g->conflict_with->cluster);
                f.unit = g->unit;
                f.message_id = MESSAGE_CONFIG_CONFLICT;
                log_fields(LOG_WARNING, 0, &f,
                           "Not starting %s: %s has the same %s as %s, and two Patroni on one cluster would destroy it. "
                           "Remove one of them, or make it another cluster's.",
                           g->unit, g->config_path, g->conflict_what, other);
                f.unit = NULL;
                f.message_id = NULL;
        }
        if (actions & ACTION_WAIT_REMOVAL) {
                /* decide again when the removal has lasted removal_settle_ms */
                double left = ms(d->settings->removal_settle_ms) -
                              (double) (g->facts.now_ms - it->memo.absent_since_ms) / 1000.0;
                arm(d, &it->config_settle, left > 0.001 ? left : 0.001);
        }
        if (actions & ACTION_REMEMBER_REMOVAL) {
                f.message_id = MESSAGE_CONFIG_REMOVED;
                log_fields(LOG_NOTICE, 0, &f,
                           "%s was removed: not generating it again while %s stays as it is (patroni-debianctl "
                           "generate %s %s makes it again).",
                           g->config_path, g->pgcluster, it->version, it->cluster);
                f.message_id = NULL;
                if (!d->opts.dry_run && (r = removal_remember(d->rootfd, it->version, it->cluster, g->facts.cluster_sig)) < 0) {
                        failed |= ACTION_REMEMBER_REMOVAL;
                        log_fields(LOG_WARNING, r, &f, "Cannot remember the removal in %s: %m; a restart would "
                                                       "generate %s again.", REMOVAL_DIR, g->config_path);
                }
        }
        if ((actions & ACTION_FORGET_REMOVAL) && !d->opts.dry_run &&
            (r = removal_forget(d->rootfd, it->version, it->cluster)) < 0) {
                failed |= ACTION_FORGET_REMOVAL;
                log_fields(LOG_WARNING, r, &f, "Cannot remove %s/%s-%s: %m", REMOVAL_DIR, it->version, it->cluster);
        }
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
        if (actions & ACTION_LOG_JOIN_BLOCKED)
                log_fields(LOG_WARNING, 0, &((LogFields){ .cluster = g->pgcluster, .message_id = MESSAGE_JOIN_BLOCKED }),
                           "Not joining %s (leader %s in the DCS): the pg-common cluster %s is here already, and is "
                           "neither replaced nor handed over (a handover would fail: the DCS has members). If it "
                           "holds nothing you need, drop it (pg_dropcluster --stop %s %s) and this host joins; "
                           "else remove %s from join:.",
                           g->join_scope, g->join_leader, g->pgcluster, it->version, it->cluster, g->join_scope);
        if (actions & ACTION_LOG_JOIN_WAIT)
                log_fields(LOG_NOTICE, 0, &((LogFields){ .cluster = g->pgcluster, .message_id = MESSAGE_JOIN_BLOCKED }),
                           "Not handing %s over to Patroni: join: names its scope %s, which has no leader in the DCS, "
                           "and the cluster holds nothing but what initdb made; handed over, it would lead %s. It "
                           "stays with pg-common until the DCS has a leader (then patroni-debianctl join %s replaces "
                           "it with a replica); once it holds data of its own, systemctl reload patroni-debiand hands "
                           "it over.",
                           g->pgcluster, g->join_scope, g->join_scope, g->pgcluster);
        if ((actions & ACTION_TAKEOVER) && start_takeover(d, it, g) < 0)
                failed |= ACTION_TAKEOVER;
        if ((actions & ACTION_STOP) && request_unit(d, UNIT_STOP, g, g->unit) < 0)
                failed |= ACTION_STOP;
        if (!it->memo.config_known && it->claims.valid) {
                /* Its claims are free: configurations that waited for them look again. */
                claims_done(&it->claims);
                for (size_t i = 0; i < d->n_items; i++)
                        if (d->items[i]->memo.conflict_logged)
                                arm(d, &d->items[i]->config_settle, ms(d->settings->config_settle_ms));
        }
        if ((actions & ACTION_START) && request_unit(d, UNIT_START, g, g->unit) < 0)
                failed |= ACTION_START;
        if ((actions & ACTION_RELOAD) && request_unit(d, UNIT_RELOAD, g, g->unit) < 0)
                failed |= ACTION_RELOAD;
        if (actions & ACTION_LOG_VIP_MISSING)
                log_fields(LOG_WARNING, 0, &((LogFields){ .cluster = g->pgcluster, .config_file = g->vip_path }),
                           "%s is there, but vip-manager is not installed (no %s): %s gets no virtual IP. Install "
                           "vip-manager (2 or later with an etcd3 DCS), then: systemctl reload patroni-debiand.",
                           g->vip_path, VIP_UNIT_TEMPLATE, g->pgcluster);
        if ((actions & ACTION_VIP_STOP) && request_unit(d, UNIT_STOP, g, g->vip_unit) < 0)
                failed |= ACTION_VIP_STOP;
        if ((actions & ACTION_VIP_START) && request_unit(d, UNIT_START, g, g->vip_unit) < 0)
                failed |= ACTION_VIP_START;
        /* vip-manager reads its environment file when it starts: a reload is a restart */
        if ((actions & ACTION_VIP_RESTART) && request_unit(d, UNIT_RELOAD, g, g->vip_unit) < 0)
                failed |= ACTION_VIP_RESTART;
        return failed;
}

/*
 * Facts, decision, effects, outcomes: gather, decide, keep the new memo, carry out all but generating.
 * A unit request that failed leaves the configuration as it was known before, and the item is decided
 * again after a while, which asks again. Returns the actions.
 */
/* Its scope changed in the DCS: what this host does with it, with PGCLUSTER (not in join: at debug level). */
static void log_join_verdict(const Item *it, const Gathered *g) {
        bool removed = g->join == JOIN_YES && (it->memo.removed || g->facts.removal_on_disk);

        log_fields(g->join == JOIN_OFF || g->join == JOIN_HAS_CONFIG ? LOG_DEBUG : LOG_INFO, 0,
                   &((LogFields){ .cluster = g->pgcluster, .message_id = MESSAGE_DCS_WATCH }),
                   "DCS: %s, leader %s: %s.", g->join_scope, g->join_leader[0] ? g->join_leader : "none",
                   removed ? "not joined again, its configuration was removed here (patroni-debianctl generate "
                             "makes it again)"
                           : join_verdict_to_string(g->join));
}

static unsigned step(Daemon *d, Item *it, bool retry, Gathered *g) {
        const Policy policy = policy_of(d->settings);
        ClusterMemo prev = it->memo;
        unsigned actions, failed;

        gather(d, it, retry, g);
        if (it->dcs_changed) {
                log_join_verdict(it, g);
                it->dcs_changed = false;
        }
        actions = reconcile_decide(&g->facts, &prev, &policy, &it->memo);
        failed = apply(d, it, actions, g);
        if (failed & ACTIONS_UNIT) {
                /* decided again later, with backoff: a lasting failure is not a log line a second */
                it->memo.config_known = prev.config_known;
                it->memo.config_hash = prev.config_hash;
                it->memo.vip_started = prev.vip_started;
                it->memo.vip_hash = prev.vip_hash;
                it->unit_retry_s = it->unit_retry_s <= 0 ? RETRY_MIN_S
                                   : it->unit_retry_s * 2 > RETRY_MAX_S ? RETRY_MAX_S : it->unit_retry_s * 2;
                arm(d, &it->config_settle, it->unit_retry_s);
                it->unit_failed = true;
        } else {
                it->unit_failed = false;
                if (actions & ACTIONS_UNIT)
                        it->unit_retry_s = 0;
        }
        return actions;
}

/* ---- generating --------------------------------------------------------------------------- */

/* A cluster that has data is marked for a handover before its configuration exists, so that the
 * configuration never shows up without the mark (a crash between leaves a mark and no configuration,
 * which the next scan completes). */
static int mark_for_takeover(Daemon *d, Item *it, const Gathered *g, GenError *err) {
        const TakeoverParams p = takeover_params_of(d, it, g);
        int r;

        if (d->opts.dry_run)
                return 0;
        r = takeover_mark_if_data(d->rootfd, &g->cluster, &p, &err->message);
        if (r < 0)
                err->status = GEN_WRITE_FAILED;
        return r;
}

/* Before configurations are written: the REST API's credentials in env.conf, which Patroni reads when it
 * starts. Without them no configuration is written (each of N says why): Patroni would serve its unsafe
 * endpoints to anyone. */
static int prepare_host(Daemon *d, const GenOutput *outs, GenError *errs, size_t n) {
        _cleanup_free_ char *added = NULL, *tls = NULL, *error = NULL;
        int r = gen_prepare_host(d->gen, outs, n, &added, &tls, &error);

        if (added)
                log_fields(LOG_NOTICE, 0,
                           &((LogFields){ .config_file = PATRONI_ENV_CONF, .message_id = MESSAGE_SECRET_GENERATED }),
                           "Added %s to %s (root only): the REST API asks for them on every unsafe request. Every "
                           "other host of a cluster needs the same file: copy it there before starting Patroni.",
                           added, PATRONI_ENV_CONF);
        if (tls)
                log_fields(LOG_NOTICE, 0, &((LogFields){ .config_file = TLS_CERT_FILE }),
                           "Made %s: this host's certificate, from the CA that %s's %s derives; every host with the "
                           "same env.conf trusts it.", tls, PATRONI_ENV_CONF, TLSCA_SEED_KEY);
        if (r >= 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                errs[i].status = GEN_WRITE_FAILED;
                errs[i].message = strdup(error ? error : fs_describe_error(r));
        }
        return r;
}

/* A dry run writes nothing: it says what it would write and where, and remembers it as if written. */
static void dry_run_write(Daemon *d, Item *it, const GenOutput *out, const PgCluster *c) {
        bool takeover = takeover_cluster_has_data(d->rootfd, c);

        fprintf(stderr, "dry-run: would write %s/%s (mode %04o, root:postgres)%s:\n%s", PATRONI_DIR, out->name,
                PATRONI_CONFIG_MODE, takeover ? " and the handover mark " TAKEOVER_DIR "/..." : "", out->config);
        fflush(stderr);
        it->virtual_config = true;
        it->virtual_hash = hash_bytes(HASH_INIT, out->config, out->config_size);
        it->virtual_takeover = takeover;
}

static void report_generated(Daemon *d, Item *it, const GenOutput *out, const GenError *err) {
        LogFields f = { .cluster = it->key };
        char path[PATH_MAX];

        snprintf(path, sizeof(path), PATRONI_DIR "/%s-%s.yml", it->version, it->cluster);
        f.config_file = path;
        if (err->status == GEN_OK) {
                f.message_id = MESSAGE_CONFIG_GENERATED;
                log_fields(LOG_INFO, 0, &f, "%s %s for %s (PostgreSQL port %d, REST API port %d).",
                           d->opts.dry_run ? "Would generate" : "Generated", path, it->key, out->port, out->api_port);
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
        }
}

/*
 * Decide and act for ITEMS: each is gathered, decided and acted on; the configurations to generate are
 * rendered, then written as one batch (one set of journal commits), and each cluster that got one is
 * decided again, which starts its unit. One cluster after a settle timer is a batch of one.
 */
static void reconcile_items(Daemon *d, Item **items, size_t n_items, bool retry) {
        _cleanup_free_ Item **todo = calloc(n_items ? n_items : 1, sizeof(Item *));
        _cleanup_free_ GenOutput *outs = calloc(n_items ? n_items : 1, sizeof(GenOutput));
        _cleanup_free_ GenError *errs = calloc(n_items ? n_items : 1, sizeof(GenError));
        size_t n = 0;

        if (!todo || !outs || !errs) {
                log_oom();
                return;
        }
        for (size_t i = 0; i < n_items; i++) {
                Item *it = items[i];
                Gathered g;

                if (n_items > 1 && stop_requested(d))
                        break; /* what is rendered so far is the write in hand */
                if (n_items > 1 && (ev_is_active(&it->settle) || ev_is_active(&it->config_settle)))
                        continue; /* its timer will decide */
                if (step(d, it, retry, &g) & ACTION_GENERATE) {
                        GenRequest req = { .version = it->version, .cluster = it->cluster, .facts = &g.cluster };
                        EtcdView *view = etcdwatch_view(d->etcd);
                        bool join = g.facts.join_ready && !g.facts.cluster_present && view;
                        if (join)
                                log_fields(LOG_INFO, 0, &((LogFields){ .cluster = g.pgcluster, .message_id = MESSAGE_JOIN }),
                                           "Joining %s: its leader %s is in the DCS, and join: names it; generating "
                                           "the configuration of a replica, which Patroni clones.", g.join_scope,
                                           g.join_leader);
                        /* A replica of the DCS's scope: the leader's port where it is free here. */
                        if ((join ? join_render(d->gen, it->version, it->cluster, g.join_port, view->prefix, &outs[n],
                                                &errs[n])
                                  : gen_render(d->gen, &req, &outs[n], &errs[n])) >= 0 &&
                            mark_for_takeover(d, it, &g, &errs[n]) >= 0) {
                                if (d->opts.dry_run)
                                        dry_run_write(d, it, &outs[n], &g.cluster);
                                todo[n++] = it;
                        } else {
                                report_generated(d, it, &outs[n], &errs[n]);
                                gen_output_done(&outs[n]);
                                gen_error_done(&errs[n]);
                        }
                }
                pgcluster_done(&g.cluster);
        }
        if (n > 0 && !d->opts.dry_run && prepare_host(d, outs, errs, n) >= 0)
                (void) gen_write_many(d->gen, outs, n, false, errs);
        for (size_t i = 0; i < n; i++) {
                Gathered g;
                report_generated(d, todo[i], &outs[i], &errs[i]);
                if (errs[i].status == GEN_OK && !d->opts.dry_run) {
                        /* What it claims is known from rendering it: not parsed again when it is read back. */
                        claims_set(&todo[i]->claims, hash_bytes(HASH_INIT, outs[i].config, outs[i].config_size),
                                   &outs[i].conf);
                }
                /* The configuration is there now (or another's is): decide again, which starts the unit. */
                (void) step(d, todo[i], false, &g);
                pgcluster_done(&g.cluster);
                gen_output_done(&outs[i]);
                gen_error_done(&errs[i]);
        }
        service_schedule(d); /* configurations may have come or gone */
        notify_status(d);
}

/* Everything at once (start-up, rescan, reload). */
static void reconcile_all(Daemon *d, bool retry) {
        size_t n = d->n_items;
        _cleanup_free_ Item **snapshot = n ? malloc(n * sizeof(Item *)) : NULL;

        if (n && !snapshot) {
                log_oom();
                return;
        }
        if (n)
                memcpy(snapshot, d->items, n * sizeof(Item *));
        reconcile_items(d, snapshot, n, retry);
        for (size_t i = 0; i < n; i++)
                item_maybe_drop(d, snapshot[i]);
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

/* Start-up, reload (RETRY: failed generations and handovers are tried again) and rescans. Returns how
 * many directories could not be watched (add_failed has said which, and armed the retry). */
static int full_scan(Daemon *d, bool retry) {
        _cleanup_(pgcluster_list_freep) PgClusterList *l = NULL;
        bool dir_present;
        int unwatched = 0, r;

        /* Watch first, then scan: nothing slips between the two. A rescan after an overflow must also
         * watch what appeared meanwhile, not only drop what went away. */
        watch_prune(d->watch);
        if (!d->opts.once)
                unwatched = watch_setup(d->watch);
        dir_present = config_dir_present(d);
        if (!dir_present && !d->config_dir_missing_logged)
                log_notice("%s does not exist: nothing is generated until it is made again (it is not made by the "
                           "daemon: an admin who moved it away meant it).", PATRONI_DIR);
        d->config_dir_missing_logged = !dir_present;
        /* Only the names: each cluster's files are read when it is decided on, between two stop checks. */
        r = pgcommon_scan(d->rootfd, &(PgScanOptions){ .names_only = true }, &l);
        if (r < 0)
                log_warning_errno(r, "Cannot list %s: %m, will look again on the next event.", PGCOMMON_CONF_DIR);
        for (size_t i = 0; l && i < l->n; i++) {
                Item *it = item_get(d, l->clusters[i].version, l->clusters[i].name);
                if (!it) {
                        log_oom();
                        continue;
                }
                if (!d->opts.once && !it->memo.cluster_known && recently_changed(d, &l->clusters[i]))
                        arm(d, &it->settle, ms(d->settings->settle_ms));
        }
        scan_configs(d);
        reconcile_all(d, retry);
        return unwatched;
}

/* ---- events ------------------------------------------------------------------------------ */

static void on_settle(struct ev_loop *loop, ev_timer *t, int revents) {
        Item *it = t->data;
        Daemon *d = it->d; /* it may be freed below */
        (void) loop;
        (void) revents;

        reconcile_items(d, &it, 1, false);
        item_maybe_drop(d, it);
}

static void cluster_event(void *userdata, const char *version, const char *cluster) {
        Daemon *d = userdata;
        Item *it = item_get(d, version, cluster);

        if (!it) {
                log_oom();
                return;
        }
        arm(d, &it->settle, ms(d->settings->settle_ms));
}

static void config_event(void *userdata, const char *version, const char *cluster) {
        Daemon *d = userdata;
        Item *it = item_get(d, version, cluster);

        if (!it) {
                log_oom();
                return;
        }
        /* A removal waits longer (removal_settle_ms, counted from when it is seen): an editor's save is
         * often a removal first. */
        arm(d, &it->config_settle, ms(d->settings->config_settle_ms));
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
        full_scan(d, false);
}

static void on_retry(struct ev_loop *loop, ev_timer *t, int revents) {
        Daemon *d = t->data;
        (void) loop;
        (void) revents;
        if (full_scan(d, false) == 0) {
                log_info("Watching every directory again.");
                d->retry_s = RETRY_MIN_S;
        }
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
#define TLS_RENEW_CHECK_S (24. * 3600)

static void on_long_sleep(struct ev_loop *loop, ev_periodic *p, int revents) {
        (void) revents;
        ev_periodic_set(p, ev_now(loop) + LONG_SLEEP_S, 0., NULL);
        ev_periodic_again(loop, p);
}

/*
 * The host's own certificate (no tls: setting), for the configurations that name it: made again when the
 * host's addresses changed or it is within TLSCA_RENEW_DAYS of its end, at start-up, on reload and once a
 * day. Patroni and PostgreSQL read a new one when reloaded, so every running Patroni unit is.
 */
static void renew_tls(Daemon *d) {
        _cleanup_free_ const char **peers = NULL;
        _cleanup_free_ char *made = NULL, *error = NULL;
        GenHost h;
        size_t n = 0, used = 0;
        int r;

        if (d->opts.dry_run || d->settings->tls_ca || !d->gen)
                return;
        peers = calloc(d->n_items + 1, sizeof(char *));
        if (!peers)
                return (void) log_oom();
        /* Only for the configurations that use it: a host with only its own files gets none made. */
        for (size_t i = 0; i < d->n_items; i++) {
                const PatroniConf *c = &d->items[i]->claims.conf;
                bool uses = false;
                for (size_t k = 0; d->items[i]->claims.valid && k < ELEMENTSOF(c->cert_files) && c->cert_files[k]; k++)
                        uses = uses || streq(c->cert_files[k], TLS_CERT_FILE);
                if (uses && c->restapi_address)
                        peers[n++] = c->restapi_address;
                used += uses;
        }
        if (used == 0)
                return;
        gen_host_of(d->gen, &h);
        r = gen_host_tls(&h, peers, n, &made, &error);
        if (r < 0) {
                log_fields(LOG_ERR, r, &((LogFields){ .config_file = TLS_CERT_FILE }),
                           "Cannot renew this host's certificate: %s", error ? error : fs_describe_error(r));
                return;
        }
        if (!made)
                return;
        log_fields(LOG_NOTICE, 0, &((LogFields){ .config_file = TLS_CERT_FILE }),
                   "Made %s again (new addresses, or near its end); reloading Patroni to use it.", made);
        for (size_t i = 0; i < d->n_items; i++) {
                Item *it = d->items[i];
                char unit[UNIT_NAME_MAX + 1];
                if (!it->memo.config_known ||
                    settings_unit_name(d->settings, it->version, it->cluster, unit, sizeof(unit)) < 0 ||
                    units_state(d->units, unit) != UNIT_STATE_ACTIVE)
                        continue;
                Gathered g = {};
                snprintf(g.pgcluster, sizeof(g.pgcluster), "%s", it->key);
                (void) request_unit(d, UNIT_RELOAD, &g, unit);
        }
}

static void on_tls_renew(struct ev_loop *loop, ev_periodic *p, int revents) {
        (void) loop;
        (void) revents;
        renew_tls(p->data);
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

typedef enum LoadFor {
        LOAD_START,  /* the daemon is the only writer in /etc/patroni, so every leftover temporary file goes */
        LOAD_RELOAD, /* leftovers older than GEN_TEMP_MAX_AGE_S go */
        LOAD_CHECK,  /* a check, or a dry run: change nothing */
} LoadFor;

static bool cancel_on_stop(void *userdata) {
        return stop_requested(userdata);
}

/* D: the running daemon, whose stop signals end a long load (NULL before the loop runs: the default action
 * of SIGTERM ends the process then). */
/* The DCS watch's settings: for join: (only etcd3, else an error) and for pg_service: (members of every
 * scope; without etcd3 there is no watch, and the services name what this host's configurations say). The
 * namespace is the template's. None when neither is on. */
static int load_dcs_watch(const DaemonOptions *o, int rootfd, const Settings *s, GenInputs *g, EtcdWatchConf *ret,
                     char **ret_error) {
        _cleanup_(envconf_freep) char **env = NULL;
        _cleanup_free_ char *ns = NULL, *error = NULL;
        int r;

        *ret = (EtcdWatchConf){};
        if (s->n_join == 0 && !s->pg_service)
                return 0;
        if (!g->dcs) {
                if (s->n_join == 0)
                        return 0;
                return error_set(ret_error, -EINVAL, "%s: join: needs the DCS: %s", strna(s->path),
                                 g->dcs_error ? g->dcs_error : "no " DCS_YML " nor " DCS_DEFAULTS);
        }
        r = gen_namespace(g, &ns, &error);
        if (r >= 0) {
                env = envconf_read(rootfd, &(bool){ false });
                r = join_watch_conf(g->dcs, env, o->root, ns, ret, &error);
        }
        if (r < 0 && s->n_join == 0) {
                etcdwatch_conf_done(ret); /* pg_service: alone goes without the watch */
                return 0;
        }
        if (r < 0 && error)
                return error_set(ret_error, r, "%s: %s", strna(s->path), error);
        return r;
}

static int load_all(const DaemonOptions *o, int rootfd, LoadFor what, Daemon *d, Settings **ret_settings,
                    GenInputs **ret_gen, EtcdWatchConf *ret_join, char **ret_error) {
        _cleanup_(settings_freep) Settings *s = NULL;
        GenPaths paths = { .default_template = o->default_template,
                           .default_vip_template = o->default_vip_template,
                           .temp_max_age_s = what == LOAD_START ? 0 : GEN_TEMP_MAX_AGE_S,
                           .keep_temp_files = what == LOAD_CHECK || o->dry_run,
                           .cancel = d ? cancel_on_stop : NULL,
                           .cancel_userdata = d };
        GenError err = {};
        int r;

        r = settings_load(rootfd, o->config, &s, ret_error);
        if (r < 0)
                return r;
        gen_paths_from_settings(&paths, s);
        r = gen_inputs_load(rootfd, o->root, &paths, ret_gen, &err);
        if (r < 0) {
                *ret_error = err.message ? err.message : strdup("out of memory");
                return r;
        }
        r = load_dcs_watch(o, rootfd, s, *ret_gen, ret_join, ret_error);
        if (r < 0) {
                *ret_gen = gen_inputs_free(*ret_gen);
                return r;
        }
        *ret_settings = TAKE_PTR(s);
        return 0;
}

/* ---- join: the DCS watched ----------------------------------------------------------------- */

static void on_join_settle(struct ev_loop *loop, ev_timer *t, int revents) {
        Daemon *d = t->data;
        EtcdView *v = etcdwatch_view(d->etcd);
        _cleanup_free_ Item **items = NULL;
        size_t n = 0;

        (void) loop;
        (void) revents;
        if (!v)
                return;
        service_schedule(d); /* members came, went or moved */
        if (!joining(d)) {
                /* watched for pg_service: only: no scope is decided on */
                for (size_t i = 0; i < v->n_scopes; i++)
                        v->scopes[i].dirty = false;
                return;
        }
        if (!(items = calloc(v->n_scopes ? v->n_scopes : 1, sizeof(Item *))))
                return (void) log_oom();
        for (size_t i = 0; i < v->n_scopes; i++) {
                EtcdScope *s = &v->scopes[i];
                char version[32], cluster[64];
                if (!s->dirty)
                        continue;
                s->dirty = false;
                if (join_scope_split(s->name, version, sizeof(version), cluster, sizeof(cluster)) < 0)
                        continue; /* not VERSION-CLUSTER: not one of a template's scopes */
                Item *it = item_get(d, version, cluster);
                if (!it)
                        return (void) log_oom();
                it->dcs_changed = true; /* its next decision says its verdict */
                items[n++] = it;
        }
        reconcile_items(d, items, n, false);
        for (size_t i = 0; i < n; i++)
                item_maybe_drop(d, items[i]);
        if (!d->join_synced) {
                /* The first read: clusters here that waited for it are decided now. */
                d->join_synced = true;
                reconcile_all(d, false);
        }
}

static void on_etcd_changed(EtcdWatch *w, EtcdView *view, void *userdata) {
        Daemon *d = userdata;
        (void) w;
        (void) view;
        /* A burst of events is one decision; the work is not done inside libcurl's callback. */
        if (!ev_is_active(&d->join_settle)) {
                ev_timer_set(&d->join_settle, ms(d->settings->config_settle_ms), 0.);
                ev_timer_start(d->loop, &d->join_settle);
        }
}

static void on_etcd_state(EtcdWatch *w, bool up, const char *message, void *userdata) {
        Daemon *d = userdata;
        LogFields f = { .message_id = MESSAGE_DCS_WATCH };
        (void) w;

        if (up) {
                log_fields(LOG_INFO, 0, &f, "DCS watch: %s.", message);
                d->etcd_up_logged = true;
                d->etcd_last_error[0] = 0;
                return;
        }
        /* Down: said when it goes down, and when the reason changes; the retries of one outage at debug level. */
        bool same = strncmp(d->etcd_last_error, message, strcspn(message, ";")) == 0 && d->etcd_last_error[0];
        log_fields(same ? LOG_DEBUG : LOG_WARNING, 0, &f, "DCS watch: %s. Nothing is removed or stopped meanwhile.",
                   message);
        snprintf(d->etcd_last_error, sizeof(d->etcd_last_error), "%.*s", (int) strcspn(message, ";"), message);
        d->etcd_up_logged = false;
}

/* The watch for CONF (none if it names no endpoint), replacing the running one. */
static void dcs_watch_start(Daemon *d, EtcdWatchConf *conf) {
        d->etcd = etcdwatch_free(d->etcd);
        ev_timer_stop(d->loop, &d->join_settle);
        d->etcd_last_error[0] = 0;
        d->join_synced = false;
        if (conf->n_endpoints == 0 || d->opts.once)
                return;
        int r = etcdwatch_new(d->loop, conf, on_etcd_changed, on_etcd_state, d, &d->etcd);
        if (r < 0)
                log_error_errno(r, "Cannot set up the DCS watch: %m");
}

/* ---- pg_service.conf: the clusters' libpq services ------------------------------------------------ */

/* IT's service: its members from the DCS when the watch holds its scope, else the one its configuration
 * names (its own). -ENOENT if it has none to give. */
static int service_of(const Item *it, const EtcdView *v, PgService *ret) {
        const PatroniConf *c = &it->claims.conf;
        char name[100];
        bool from_dcs;

        snprintf(name, sizeof(name), "%s-%s", it->version, it->cluster);
        return pgservice_of(name, v, c->scope, c->namespace, c->postgresql_connect_address, ret, &from_dcs);
}

static void service_update(Daemon *d) {
        _cleanup_(pgservice_update_done) PgServiceUpdate u = {};
        const EtcdView *v = d->etcd ? etcdwatch_view(d->etcd) : NULL;
        PgService *list = NULL;
        size_t n = 0;
        int r;

        if (d->etcd && !v)
                return; /* not read yet: the members come with the first read */
        if (d->settings->pg_service) {
                list = calloc(d->n_items ? d->n_items : 1, sizeof(PgService));
                if (!list)
                        return (void) log_oom();
                for (size_t i = 0; i < d->n_items; i++) {
                        const Item *it = d->items[i];
                        if (!it->memo.config_known || !it->claims.valid ||
                            !settings_in_scope(d->settings, it->version, it->cluster))
                                continue;
                        r = service_of(it, v, &list[n]);
                        if (r == -ENOMEM) {
                                pgservice_list_free(list, n);
                                return (void) log_oom();
                        }
                        n += r == 0;
                }
        }
        /* pg_service: false: our block is taken out, once */
        r = pgservice_update_file(d->rootfd, list, n, gen_tls(d->gen).ca, d->opts.dry_run, &u);
        pgservice_list_free(list, n);
        LogFields f = { .config_file = PGSERVICE_PATH, .message_id = MESSAGE_PG_SERVICE };
        if (r < 0) {
                uint64_t h = hash_str("", u.error ? u.error : "out of memory");
                if (h != d->service_error_hash)
                        log_fields(LOG_ERR, 0, &f, "Cannot bring the libpq services up to date: %s. Nothing else is "
                                   "affected; they are written once that is fixed.", u.error ? u.error : "out of memory");
                d->service_error_hash = h;
                return;
        }
        d->service_error_hash = 0;
        if (u.changed)
                log_fields(LOG_INFO, 0, &f, "%s %s: the services of %zu cluster%s (VERSION-CLUSTER reaches the leader, "
                           "VERSION-CLUSTER-ro prefers a standby).", d->opts.dry_run ? "Would update" : "Updated",
                           PGSERVICE_PATH, n - u.n_left_out, n - u.n_left_out == 1 ? "" : "s");
        uint64_t h = HASH_INIT;
        for (size_t i = 0; i < u.n_left_out; i++)
                h = hash_bytes(h, u.left_out[i], strlen(u.left_out[i]) + 1);
        if (u.n_left_out > 0 && h != d->service_left_hash)
                for (size_t i = 0; i < u.n_left_out; i++)
                        log_fields(LOG_NOTICE, 0, &f, "No service %s in %s: a section of that name (or %s-ro) is the "
                                   "admin's there, or its member list is longer than a line libpq reads.",
                                   u.left_out[i], PGSERVICE_PATH, u.left_out[i]);
        d->service_left_hash = u.n_left_out > 0 ? h : 0;
}

static void on_service_settle(struct ev_loop *loop, ev_timer *t, int revents) {
        (void) loop;
        (void) revents;
        service_update(t->data);
}

/* A burst of changes is one update. */
static void service_schedule(Daemon *d) {
        if (!ev_is_active(&d->service_settle) && !d->stopping) {
                ev_timer_set(&d->service_settle, ms(d->settings->config_settle_ms), 0.);
                ev_timer_start(d->loop, &d->service_settle);
        }
}

/* env.conf holds the passwords Patroni runs with: said at start-up and on every reload while it is open. */
static void check_secrets(Daemon *d) {
        _cleanup_free_ char *problem = NULL;

        if (fs_check_secret_file(d->rootfd, PATRONI_ENV_CONF, &problem) > 0)
                log_fields(LOG_WARNING, 0, &((LogFields){ .config_file = PATRONI_ENV_CONF }), "%s", problem);
}

static void reload(Daemon *d) {
        _cleanup_free_ char *error = NULL;
        Settings *s = NULL;
        GenInputs *g = NULL;
        _cleanup_(etcdwatch_conf_done) EtcdWatchConf join = {};

        (void) sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64, now_usec());
        if (load_all(&d->opts, d->rootfd, LOAD_RELOAD, d, &s, &g, &join, &error) < 0) {
                if (d->stopping)
                        return; /* a stop signal came while loading: nothing to keep or report */
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
        log_info("Reloaded settings from %s.", d->settings->path ? d->settings->path : "defaults");
        check_secrets(d);
        dcs_watch_start(d, &join); /* read again from the start: the scopes are decided on as the view fills */
        full_scan(d, true); /* existing configurations are never rewritten; units only where facts differ */
        renew_tls(d);
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
        EtcdWatchConf join = {};
        r = load_all(opts, rootfd, LOAD_CHECK, NULL, &s, &g, &join, ret_error);
        if (r >= 0 && g->dcs_error)
                *ret_warning = strdup(g->dcs_error);
        etcdwatch_conf_done(&join);
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
        /* The bus backend's and the DCS watch's watchers live in the loop: gone before it is. */
        units_free(d->units);
        etcdwatch_free(d->etcd);
        if (d->loop) {
                ev_io_stop(d->loop, &d->inotify_io);
                ev_signal_stop(d->loop, &d->sig_hup);
                ev_signal_stop(d->loop, &d->sig_term);
                ev_signal_stop(d->loop, &d->sig_int);
                ev_timer_stop(d->loop, &d->watchdog);
                ev_timer_stop(d->loop, &d->retry);
                ev_timer_stop(d->loop, &d->rescan);
                ev_timer_stop(d->loop, &d->join_settle);
                ev_timer_stop(d->loop, &d->service_settle);
                ev_periodic_stop(d->loop, &d->long_sleep);
                ev_periodic_stop(d->loop, &d->tls_renew);
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
        _cleanup_(etcdwatch_conf_done) EtcdWatchConf join = {};
        r = load_all(opts, d->rootfd, opts->once ? LOAD_RELOAD : LOAD_START, NULL, &d->settings, &d->gen, &join,
                     &error);
        if (r < 0) {
                log_error("%s", error ? error : "out of memory");
                return r;
        }

        check_secrets(d);
        d->loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOENV | EVFLAG_SIGNALFD);
        if (!d->loop)
                return log_error_errno(ENOMEM, "Cannot create the event loop.");

        if (opts->dry_run || opts->print_units) {
                d->units = units_dry_run_new(stderr);
                if (!d->units)
                        return log_oom();
        } else {
                r = bus_units_new(d->loop, &d->units);
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
        ev_periodic_init(&d->tls_renew, on_tls_renew, 0., TLS_RENEW_CHECK_S, NULL);
        d->tls_renew.data = d;
        ev_init(&d->join_settle, on_join_settle);
        d->join_settle.data = d;
        ev_init(&d->service_settle, on_service_settle);
        d->service_settle.data = d;
        dcs_watch_start(d, &join);

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
                ev_periodic_start(d->loop, &d->tls_renew);
        }
        if (full_scan(d, true) > 0)
                log_warning("Some directories cannot be watched yet; retrying with backoff.");
        if (d->stopping)
                return 0; /* a stop signal came during start-up */

        renew_tls(d);
        for (size_t i = 0; i < d->n_items; i++) {
                configs += d->items[i]->memo.config_known;
                clusters += d->items[i]->memo.cluster_known;
        }
        log_info("Watching %zu clusters and %zu configurations below %s (start-up took %.1f ms).", clusters, configs,
                 d->opts.root, (double) (now_usec() - t0) / 1000.0);
        if (d->opts.once) {
                service_update(d); /* the one pass: no timer runs */
                return 0;
        }

        (void) sd_notify(0, "READY=1");
        notify_status(d);
        if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec > 0) {
                ev_timer_set(&d->watchdog, (double) wd_usec / 2e6, (double) wd_usec / 2e6);
                ev_timer_start(d->loop, &d->watchdog);
        }
        ev_run(d->loop, 0);
        return 0;
}
