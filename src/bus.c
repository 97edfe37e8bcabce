/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <ev.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include "log.h"
#include "macro.h"
#include "bus.h"
#include "units.h"

#define SYSTEMD_SERVICE "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER "org.freedesktop.systemd1.Manager"
#define RECONNECT_MIN_S 0.5
#define RECONNECT_MAX_S 30.0
#define STATE_PATTERN "patroni*.service"

typedef struct Request {
        UnitVerb verb;
        char unit[256], cluster[100];
        char *job; /* object path, once systemd queued it */
        struct Bus *owner;
        sd_bus_slot *slot;
        struct Request *next;
} Request;

typedef struct StateEntry {
        char *unit;
        UnitState state;
} StateEntry;

typedef struct Bus {
        UnitBackend base;
        struct ev_loop *loop;
        sd_bus *conn; /* the connection; NULL while disconnected */
        ev_io io;
        ev_timer timeout;
        ev_prepare prepare;
        ev_timer reconnect;
        double backoff;
        Request *queue;   /* not sent yet (or to send again) */
        Request *flight;  /* sent: waiting for the reply, then for JobRemoved */
        StateEntry *states;
        size_t n_states;
        bool states_known; /* a unit not listed is inactive */
        bool missing_reported;
} Bus;

static void bus_disconnect(Bus *b, int error);
static int bus_connect(Bus *b);
static void send_queue(Bus *b);

/* ---- unit states ------------------------------------------------------------------------- */

static void states_clear(Bus *b) {
        for (size_t i = 0; i < b->n_states; i++)
                free(b->states[i].unit);
        free(b->states);
        b->states = NULL;
        b->n_states = 0;
}

static void state_set(Bus *b, const char *unit, UnitState s) {
        StateEntry *p;

        for (size_t i = 0; i < b->n_states; i++)
                if (streq(b->states[i].unit, unit)) {
                        b->states[i].state = s;
                        return;
                }
        p = reallocarray(b->states, b->n_states + 1, sizeof(StateEntry));
        if (!p)
                return;
        b->states = p;
        p[b->n_states].unit = strdup(unit);
        if (!p[b->n_states].unit)
                return;
        p[b->n_states++].state = s;
}

static UnitState state_from_active(const char *active) {
        if (streq(active, "failed"))
                return UNIT_STATE_FAILED;
        if (streq(active, "inactive"))
                return UNIT_STATE_INACTIVE;
        return UNIT_STATE_ACTIVE; /* active, activating, reloading, deactivating */
}

static int read_unit_list(Bus *b, sd_bus_message *m) {
        const char *name, *active;
        int r;

        states_clear(b);
        r = sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "(ssssssouso)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(m, "(ssssssouso)", &name, NULL, NULL, &active, NULL, NULL, NULL, NULL, NULL,
                                        NULL)) > 0)
                state_set(b, name, state_from_active(active));
        if (r < 0)
                return r;
        b->states_known = true;
        return sd_bus_message_exit_container(m);
}

static int on_unit_list(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        Bus *b = userdata;
        int r;
        (void) e;

        if (sd_bus_message_is_method_error(m, NULL)) {
                log_warning("Cannot list units: %s, states unknown until the next try.",
                            sd_bus_message_get_error(m)->message);
                return 0;
        }
        r = read_unit_list(b, m);
        if (r < 0)
                log_warning_errno(r, "Cannot read the unit list: %m");
        return 0;
}

/* ---- requests and jobs ------------------------------------------------------------------- */

static void request_free(Request *q) {
        if (!q)
                return;
        sd_bus_slot_unref(q->slot);
        free(q->job);
        free(q);
}

static void list_append(Request **head, Request *q) {
        q->next = NULL;
        while (*head)
                head = &(*head)->next;
        *head = q;
}

static void list_remove(Request **head, Request *q) {
        for (; *head; head = &(*head)->next)
                if (*head == q) {
                        *head = q->next;
                        return;
                }
}

static const char *method_of(UnitVerb v) {
        return v == UNIT_START ? "StartUnit" : v == UNIT_STOP ? "StopUnit" : "ReloadOrRestartUnit";
}

static void log_unit_state(Bus *b, const char *unit, const char *cluster);

static int on_job_queued(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        Request *q = userdata;
        Bus *b = q->owner;
        const sd_bus_error *err;
        const char *job;
        (void) e;

        q->slot = sd_bus_slot_unref(q->slot);
        if (!sd_bus_message_is_method_error(m, NULL)) {
                if (sd_bus_message_read(m, "o", &job) >= 0 && (q->job = strdup(job)))
                        return 0; /* now wait for JobRemoved */
                list_remove(&b->flight, q);
                request_free(q);
                return 0;
        }

        err = sd_bus_message_get_error(m);
        list_remove(&b->flight, q);
        if (sd_bus_error_has_name(err, "org.freedesktop.systemd1.NoSuchUnit") ||
            sd_bus_error_has_name(err, "org.freedesktop.systemd1.LoadFailed")) {
                /* The template is not installed: say it once, do not retry. */
                if (!b->missing_reported)
                        log_fields(LOG_ERR, 0, &((LogFields){ .cluster = q->cluster, .unit = q->unit }),
                                   "Cannot %s %s: %s. Is the patroni package installed? Further such errors are "
                                   "logged at debug level.",
                                   unit_verb_to_string(q->verb), q->unit, err->message);
                else
                        log_debug("Cannot %s %s: %s", unit_verb_to_string(q->verb), q->unit, err->message);
                b->missing_reported = true;
        } else if (sd_bus_error_has_name(err, SD_BUS_ERROR_NO_REPLY) ||
                   sd_bus_error_has_name(err, SD_BUS_ERROR_DISCONNECTED)) {
                list_append(&b->queue, q); /* try again once connected */
                return 0;
        } else
                log_fields(LOG_ERR, 0, &((LogFields){ .cluster = q->cluster, .unit = q->unit }),
                           "systemd refused to %s %s: %s", unit_verb_to_string(q->verb), q->unit, err->message);
        request_free(q);
        return 0;
}

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        Bus *b = userdata;
        const char *job, *unit, *result;
        uint32_t id;
        (void) e;

        if (sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) < 0)
                return 0;
        for (Request *q = b->flight; q; q = q->next) {
                if (!q->job || !streq(q->job, job))
                        continue;
                list_remove(&b->flight, q);
                if (streq(result, "done") || streq(result, "skipped")) {
                        log_fields(LOG_INFO, 0, &((LogFields){ .cluster = q->cluster, .unit = q->unit }),
                                   "%s of %s: %s.", unit_verb_to_string(q->verb), q->unit, result);
                        state_set(b, q->unit, q->verb == UNIT_STOP ? UNIT_STATE_INACTIVE : UNIT_STATE_ACTIVE);
                        if (q->verb == UNIT_START)
                                b->missing_reported = false;
                } else {
                        log_fields(LOG_ERR, 0, &((LogFields){ .cluster = q->cluster, .unit = q->unit }),
                                   "%s of %s failed: job result \"%s\".", unit_verb_to_string(q->verb), q->unit,
                                   result);
                        state_set(b, q->unit, UNIT_STATE_FAILED);
                        log_unit_state(b, q->unit, q->cluster);
                }
                request_free(q);
                return 0;
        }
        return 0;
}

typedef struct StateQuery {
        char unit[256], cluster[100];
} StateQuery;

static int on_unit_props(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        StateQuery *sq = userdata;
        const char *key, *active = "?", *sub = "?";
        (void) e;

        if (!sd_bus_message_is_method_error(m, NULL) &&
            sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "{sv}") >= 0) {
                while (sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, "sv") > 0) {
                        const char *v = NULL;
                        if (sd_bus_message_read(m, "s", &key) < 0)
                                break;
                        if ((streq(key, "ActiveState") || streq(key, "SubState")) &&
                            sd_bus_message_read(m, "v", "s", &v) >= 0) {
                                if (key[0] == 'A')
                                        active = v;
                                else
                                        sub = v;
                        } else if (sd_bus_message_skip(m, "v") < 0)
                                break;
                        if (sd_bus_message_exit_container(m) < 0)
                                break;
                }
        }
        log_fields(LOG_ERR, 0, &((LogFields){ .cluster = sq->cluster, .unit = sq->unit }),
                   "%s is %s (%s); see journalctl -u %s.", sq->unit, active, sub, sq->unit);
        free(sq);
        return 0;
}

static void log_unit_state(Bus *b, const char *unit, const char *cluster) {
        _cleanup_free_ char *path = NULL;
        StateQuery *sq = calloc(1, sizeof(StateQuery));

        if (!sq || sd_bus_path_encode(SYSTEMD_PATH "/unit", unit, &path) < 0) {
                free(sq);
                return;
        }
        snprintf(sq->unit, sizeof(sq->unit), "%s", unit);
        snprintf(sq->cluster, sizeof(sq->cluster), "%s", cluster);
        if (sd_bus_call_method_async(b->conn, NULL, SYSTEMD_SERVICE, path, "org.freedesktop.DBus.Properties", "GetAll",
                                     on_unit_props, sq, "s", "org.freedesktop.systemd1.Unit") < 0)
                free(sq);
}

static int send_one(Bus *b, Request *q) {
        int r;

        if (q->verb == UNIT_START) {
                /* A unit left failed would refuse nothing, but its state would stay "failed": clear it. */
                r = sd_bus_call_method_async(b->conn, NULL, SYSTEMD_SERVICE, SYSTEMD_PATH, SYSTEMD_MANAGER,
                                             "ResetFailedUnit", NULL, NULL, "s", q->unit);
                if (r < 0)
                        return r;
        }
        return sd_bus_call_method_async(b->conn, &q->slot, SYSTEMD_SERVICE, SYSTEMD_PATH, SYSTEMD_MANAGER,
                                        method_of(q->verb), on_job_queued, q, "ss", q->unit, "replace");
}

static void send_queue(Bus *b) {
        while (b->conn && b->queue) {
                Request *q = b->queue;
                int r;

                b->queue = q->next;
                free(q->job);
                q->job = NULL;
                r = send_one(b, q);
                if (r < 0) {
                        q->next = b->queue; /* keep it first */
                        b->queue = q;
                        bus_disconnect(b, r);
                        return;
                }
                list_append(&b->flight, q);
        }
}

/* ---- the connection on libev --------------------------------------------------------------- */

static void process(Bus *b) {
        int r;

        while (b->conn && (r = sd_bus_process(b->conn, NULL)) > 0)
                ;
        if (b->conn && (r < 0 || !sd_bus_is_open(b->conn)))
                bus_disconnect(b, r < 0 ? r : -ECONNRESET);
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents) {
        (void) loop;
        (void) revents;
        process(w->data);
}

static void on_timeout(struct ev_loop *loop, ev_timer *t, int revents) {
        (void) loop;
        (void) revents;
        process(t->data);
}

/* Before each loop iteration: wait for what sd-bus wants, until its timeout. */
static void on_prepare(struct ev_loop *loop, ev_prepare *p, int revents) {
        Bus *b = p->data;
        uint64_t until;
        struct timespec ts;
        int events;
        (void) revents;

        if (!b->conn)
                return;
        events = sd_bus_get_events(b->conn);
        if (events >= 0) {
                int want = ((events & POLLIN) ? EV_READ : 0) | ((events & POLLOUT) ? EV_WRITE : 0);
                if (want != (b->io.events & (EV_READ | EV_WRITE))) {
                        ev_io_stop(loop, &b->io);
                        ev_io_set(&b->io, b->io.fd, want);
                        ev_io_start(loop, &b->io);
                }
        }
        ev_timer_stop(loop, &b->timeout);
        if (sd_bus_get_timeout(b->conn, &until) >= 0 && until != UINT64_MAX) {
                uint64_t now;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                now = (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
                /* absolute: round up so we never wake before it is due */
                ev_timer_set(&b->timeout, until > now ? (double) (until - now + 999) / 1e6 : 0., 0.);
                ev_timer_start(loop, &b->timeout);
        }
}

/*
 * Whatever was sent may not have arrived, or systemd forgot it on re-executing: send it again
 * (start, stop and reload are idempotent).
 */
static void requeue_in_flight(Bus *b) {
        while (b->flight) {
                Request *q = b->flight;
                b->flight = q->next;
                q->slot = sd_bus_slot_unref(q->slot);
                list_append(&b->queue, q);
        }
}

/* Try again after the current backoff, and back off further for the next time. */
static void schedule_reconnect(Bus *b) {
        ev_timer_set(&b->reconnect, b->backoff, 0.);
        ev_timer_start(b->loop, &b->reconnect);
        b->backoff = b->backoff * 2 > RECONNECT_MAX_S ? RECONNECT_MAX_S : b->backoff * 2;
}

static int on_systemd_owner(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        Bus *b = userdata;
        const char *name, *old_owner, *new_owner;
        (void) e;

        /* The match names systemd (arg0); every other client coming and going is none of our business. */
        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 || !streq(name, SYSTEMD_SERVICE) ||
            !new_owner[0])
                return 0;
        /* systemd re-executed: it forgot our subscription and its queued jobs. */
        log_info("systemd is back on the bus; renewing the subscription and sending pending requests again.");
        (void) sd_bus_call_method_async(b->conn, NULL, SYSTEMD_SERVICE, SYSTEMD_PATH, SYSTEMD_MANAGER, "Subscribe",
                                        NULL, NULL, "");
        (void) sd_bus_call_method_async(b->conn, NULL, SYSTEMD_SERVICE, SYSTEMD_PATH, SYSTEMD_MANAGER,
                                        "ListUnitsByPatterns", on_unit_list, b, "asas", 0, 1, STATE_PATTERN);
        requeue_in_flight(b);
        send_queue(b);
        return 0;
}

static void on_reconnect(struct ev_loop *loop, ev_timer *t, int revents) {
        Bus *b = t->data;
        int r;
        (void) loop;
        (void) revents;

        r = bus_connect(b);
        if (r < 0) {
                log_warning_errno(r, "Cannot connect to the system bus: %m, will retry in %.1fs.", b->backoff);
                schedule_reconnect(b);
                return;
        }
        log_info("Connected to the system bus again.");
        b->backoff = RECONNECT_MIN_S;
        send_queue(b);
}

static void bus_disconnect(Bus *b, int error) {
        if (!b->conn)
                return;
        log_warning_errno(error, "Lost the system bus: %m, reconnecting in %.1fs.", b->backoff);
        ev_io_stop(b->loop, &b->io);
        ev_timer_stop(b->loop, &b->timeout);
        ev_prepare_stop(b->loop, &b->prepare);
        requeue_in_flight(b);
        b->conn = sd_bus_flush_close_unref(b->conn);
        b->states_known = false;
        schedule_reconnect(b);
}

/* Connect, subscribe, watch JobRemoved and systemd's name, learn unit states. */
static int bus_connect(Bus *b) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_open_system(&b->conn);
        if (r < 0)
                return r;
        /* Matches first, then Subscribe: no JobRemoved can slip between. */
        r = sd_bus_match_signal(b->conn, NULL, SYSTEMD_SERVICE, SYSTEMD_PATH, SYSTEMD_MANAGER, "JobRemoved",
                                on_job_removed, b);
        if (r >= 0)
                r = sd_bus_add_match(b->conn, NULL,
                                     "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                                     "interface='org.freedesktop.DBus',member='NameOwnerChanged',"
                                     "arg0='" SYSTEMD_SERVICE "'",
                                     on_systemd_owner, b);
        if (r >= 0)
                r = sd_bus_call_method(b->conn, SYSTEMD_SERVICE, SYSTEMD_PATH, SYSTEMD_MANAGER, "Subscribe", &error,
                                       NULL, "");
        if (r >= 0)
                r = sd_bus_call_method(b->conn, SYSTEMD_SERVICE, SYSTEMD_PATH, SYSTEMD_MANAGER, "ListUnitsByPatterns",
                                       &error, &reply, "asas", 0, 1, STATE_PATTERN);
        if (r >= 0)
                r = read_unit_list(b, reply);
        sd_bus_error_free(&error);
        if (r < 0) {
                b->conn = sd_bus_flush_close_unref(b->conn);
                return r;
        }
        ev_io_init(&b->io, on_io, sd_bus_get_fd(b->conn), EV_READ);
        b->io.data = b;
        ev_io_start(b->loop, &b->io);
        ev_prepare_start(b->loop, &b->prepare);
        return 0;
}

/* ---- the backend --------------------------------------------------------------------------- */

static int bus_request(UnitBackend *base, UnitVerb verb, const char *unit, const char *cluster) {
        Bus *b = (Bus *) base;
        Request *q = calloc(1, sizeof(Request));

        if (!q)
                return -ENOMEM;
        q->verb = verb;
        q->owner = b;
        snprintf(q->unit, sizeof(q->unit), "%s", unit);
        snprintf(q->cluster, sizeof(q->cluster), "%s", cluster);
        list_append(&b->queue, q);
        send_queue(b);
        return 0;
}

static UnitState bus_state(UnitBackend *base, const char *unit) {
        Bus *b = (Bus *) base;

        for (size_t i = 0; i < b->n_states; i++)
                if (streq(b->states[i].unit, unit))
                        return b->states[i].state;
        return b->states_known ? UNIT_STATE_INACTIVE : UNIT_STATE_UNKNOWN;
}

static void bus_free(UnitBackend *base) {
        Bus *b = (Bus *) base;

        ev_io_stop(b->loop, &b->io);
        ev_timer_stop(b->loop, &b->timeout);
        ev_prepare_stop(b->loop, &b->prepare);
        ev_timer_stop(b->loop, &b->reconnect);
        for (Request **l = &b->queue; l; l = l == &b->queue ? &b->flight : NULL)
                while (*l) {
                        Request *q = *l;
                        *l = q->next;
                        request_free(q);
                }
        if (b->conn) {
                (void) sd_bus_flush(b->conn); /* requests already handed over go out */
                b->conn = sd_bus_close_unref(b->conn);
        }
        states_clear(b);
        free(b);
}

static const UnitBackendOps bus_ops = {
        .request = bus_request,
        .state = bus_state,
        .free = bus_free,
};

int bus_units_new(struct ev_loop *loop, UnitBackend **ret) {
        Bus *b = calloc(1, sizeof(Bus));
        int r;

        if (!b)
                return -ENOMEM;
        b->base.ops = &bus_ops;
        b->loop = loop;
        b->backoff = RECONNECT_MIN_S;
        ev_init(&b->io, on_io);
        b->io.data = b;
        ev_init(&b->timeout, on_timeout);
        b->timeout.data = b;
        ev_prepare_init(&b->prepare, on_prepare);
        b->prepare.data = b;
        ev_init(&b->reconnect, on_reconnect);
        b->reconnect.data = b;

        r = bus_connect(b);
        if (r < 0) {
                free(b);
                return r;
        }
        *ret = &b->base;
        return 0;
}

/* ---- one-shot queries ---------------------------------------------------------------------- */

int bus_open_system(sd_bus **ret) {
        return sd_bus_open_system(ret);
}

sd_bus *bus_close(sd_bus *bus) {
        return sd_bus_flush_close_unref(bus);
}

int bus_unit_active_state(sd_bus *bus, const char *unit, char *buf, size_t size) {
        _cleanup_free_ char *path = NULL, *state = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_path_encode(SYSTEMD_PATH "/unit", unit, &path);
        if (r < 0)
                return r;
        r = sd_bus_get_property_string(bus, SYSTEMD_SERVICE, path, "org.freedesktop.systemd1.Unit", "ActiveState",
                                       &error, &state);
        sd_bus_error_free(&error);
        if (r < 0)
                return r;
        snprintf(buf, size, "%s", state);
        return 0;
}

int bus_unit_reload_if_active(sd_bus *bus, const char *unit) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        char state[32];
        int r;

        r = bus_unit_active_state(bus, unit, state, sizeof(state));
        if (r < 0)
                return r;
        if (!streq(state, "active"))
                return 0;
        r = sd_bus_call_method(bus, SYSTEMD_SERVICE, SYSTEMD_PATH, SYSTEMD_MANAGER, "ReloadUnit", &error, NULL, "ss",
                               unit, "replace");
        sd_bus_error_free(&error);
        return r < 0 ? r : 1;
}
