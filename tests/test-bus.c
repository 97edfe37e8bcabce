/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's unit backend against a private dbus-daemon and a fake systemd (org.freedesktop.systemd1,
 * in a child process): start, stop, reload, JobRemoved, a refused job, a failed job, systemd restarting
 * with a job in flight, and the bus going away and coming back.
 */
#include <ev.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "bus.h"
#include "log.h"
#include "testutil.h"

static char *root;         /* a temporary directory: the bus socket, the fake's call log, our stderr */
static char address[300];  /* unix:path=ROOT/bus */
static pid_t bus_pid = -1, fake_pid = -1;
static struct ev_loop *loop;
static UnitBackend *backend;

/* ---- the fake systemd (child process) ------------------------------------------------------- */

static unsigned job_id;

static void record(const char *what, const char *unit) {
        char path[PATH_MAX];
        FILE *f;

        snprintf(path, sizeof(path), "%s/calls", root);
        f = fopen(path, "ae");
        if (f) {
                fprintf(f, "%s %s\n", what, unit);
                fclose(f);
        }
}

/* StartUnit, StopUnit, ReloadOrRestartUnit: "refused@" units are refused, "hang@" ones never finish,
 * "fails@" ones finish with result "failed", every other one with "done". */
static int method_job(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *unit, *mode;
        char job[64];
        int r;
        (void) userdata;

        r = sd_bus_message_read(m, "ss", &unit, &mode);
        if (r < 0)
                return r;
        record(sd_bus_message_get_member(m), unit);
        if (strncmp(unit, "refused@", 8) == 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, "Access denied by the test");
        snprintf(job, sizeof(job), "/org/freedesktop/systemd1/job/%u", ++job_id);
        r = sd_bus_reply_method_return(m, "o", job);
        if (r < 0 || strncmp(unit, "hang@", 5) == 0)
                return r;
        return sd_bus_emit_signal(sd_bus_message_get_bus(m), "/org/freedesktop/systemd1",
                                  "org.freedesktop.systemd1.Manager", "JobRemoved", "uoss", job_id, job, unit,
                                  strncmp(unit, "fails@", 6) == 0 ? "failed" : "done");
}

static int method_reset_failed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *unit;
        (void) userdata;
        (void) error;

        if (sd_bus_message_read(m, "s", &unit) >= 0)
                record("ResetFailedUnit", unit);
        return sd_bus_reply_method_return(m, NULL);
}

static int method_subscribe(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        (void) userdata;
        (void) error;
        record("Subscribe", "-");
        return sd_bus_reply_method_return(m, NULL);
}

/* One unit known at start: patroni@15-main.service, inactive. */
static int method_list(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;
        (void) userdata;
        (void) error;

        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "a(ssssssouso)", 1, "patroni@15-main.service", "", "loaded",
                                          "inactive", "dead", "", "/org/freedesktop/systemd1/unit/x", 0, "", "/");
        return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

static int property_state(sd_bus *bus, const char *path, const char *interface, const char *property,
                          sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        (void) bus;
        (void) path;
        (void) interface;
        (void) property;
        (void) userdata;
        (void) error;
        return sd_bus_message_append(reply, "s", "failed");
}

static int find_unit(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                     sd_bus_error *error) {
        (void) bus;
        (void) path;
        (void) interface;
        (void) error;
        *found = userdata;
        return 1;
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("StartUnit", "ss", "o", method_job, 0),
        SD_BUS_METHOD("StopUnit", "ss", "o", method_job, 0),
        SD_BUS_METHOD("ReloadOrRestartUnit", "ss", "o", method_job, 0),
        SD_BUS_METHOD("ResetFailedUnit", "s", "", method_reset_failed, 0),
        SD_BUS_METHOD("Subscribe", "", "", method_subscribe, 0),
        SD_BUS_METHOD("ListUnitsByPatterns", "asas", "a(ssssssouso)", method_list, 0),
        SD_BUS_SIGNAL("JobRemoved", "uoss", 0),
        SD_BUS_VTABLE_END,
};

static const sd_bus_vtable unit_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("ActiveState", "s", property_state, 0, 0),
        SD_BUS_PROPERTY("SubState", "s", property_state, 0, 0),
        SD_BUS_VTABLE_END,
};

static int open_bus(sd_bus **ret) {
        sd_bus *b = NULL;
        int r = sd_bus_new(&b);

        if (r >= 0)
                r = sd_bus_set_address(b, address);
        if (r >= 0)
                r = sd_bus_set_bus_client(b, 1);
        if (r >= 0)
                r = sd_bus_start(b);
        if (r < 0) {
                sd_bus_unref(b);
                return r;
        }
        *ret = b;
        return 0;
}

static void fake_systemd_main(int ready_fd) {
        sd_bus *b = NULL;
        int r;

        /* dbus-daemon makes its socket (bind) a moment before it accepts on it (listen): try for 5 s. */
        for (int i = 0; (r = open_bus(&b)) < 0 && i < 500; i++)
                usleep(10000);
        if (r < 0 ||
            sd_bus_add_object_vtable(b, NULL, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                                     manager_vtable, NULL) < 0 ||
            sd_bus_add_fallback_vtable(b, NULL, "/org/freedesktop/systemd1/unit", "org.freedesktop.systemd1.Unit",
                                       unit_vtable, find_unit, NULL) < 0 ||
            sd_bus_request_name(b, "org.freedesktop.systemd1", 0) < 0)
                _exit(1);
        (void) write(ready_fd, "x", 1);
        close(ready_fd);
        for (;;) {
                r = sd_bus_process(b, NULL);
                if (r < 0)
                        _exit(0); /* the bus went away */
                if (r == 0 && sd_bus_wait(b, UINT64_MAX) < 0)
                        _exit(0);
        }
}

/* ---- the processes -------------------------------------------------------------------------- */

static void start_bus(void) {
        char path[PATH_MAX], listen[PATH_MAX + 20];
        int fd;

        snprintf(path, sizeof(path), "%s/bus", root);
        unlink(path);
        snprintf(listen, sizeof(listen), "--address=unix:path=%s", path);
        bus_pid = fork();
        ck_assert_int_ge(bus_pid, 0);
        if (bus_pid == 0) {
                signal(SIGTERM, SIG_DFL);
                fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
                dup2(fd, STDOUT_FILENO);
                execlp("dbus-daemon", "dbus-daemon", "--session", "--nofork", "--nopidfile", "--nosyslog", listen,
                       (char *) NULL);
                _exit(127);
        }
        for (int i = 0; i < 500 && access(path, F_OK) < 0; i++)
                usleep(10000);
        ck_assert_msg(access(path, F_OK) == 0, "dbus-daemon did not make %s", path);
}

static void start_fake(void) {
        int p[2];
        char c;

        ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
        fake_pid = fork();
        ck_assert_int_ge(fake_pid, 0);
        if (fake_pid == 0) {
                signal(SIGTERM, SIG_DFL); /* not Check's handler, which ends the whole group */
                signal(SIGINT, SIG_DFL);
                close(p[0]);
                fake_systemd_main(p[1]);
        }
        close(p[1]);
        ck_assert_int_eq(read(p[0], &c, 1), 1); /* it owns org.freedesktop.systemd1 */
        close(p[0]);
}

static void stop_pid(pid_t *pid) {
        if (*pid > 0) {
                kill(*pid, SIGTERM);
                waitpid(*pid, NULL, 0);
        }
        *pid = -1;
}

static void on_deadline(struct ev_loop *l, ev_timer *t, int revents) {
        (void) t;
        (void) revents;
        ev_break(l, EVBREAK_ALL);
}

/* Run the loop until COND holds or SECONDS pass; returns COND. */
static bool run_until(bool (*cond)(const void *), const void *arg, double seconds) {
        ev_timer deadline;
        ev_tstamp end = ev_time() + seconds;

        ev_timer_init(&deadline, on_deadline, 0.05, 0.);
        while (!cond(arg) && ev_time() < end) {
                ev_timer_start(loop, &deadline);
                ev_run(loop, EVRUN_ONCE);
                ev_timer_stop(loop, &deadline);
        }
        return cond(arg);
}

static char *read_file(const char *name) {
        char *s = tmp_read(root, name);
        return s ? s : strdup("");
}

static bool calls_have(const void *line) {
        _cleanup_free_ char *calls = read_file("calls");
        return strstr(calls, line) != NULL;
}

static bool log_has(const void *text) {
        fflush(stderr);
        _cleanup_free_ char *log = read_file("stderr");
        return strstr(log, text) != NULL;
}

typedef struct Want {
        const char *unit;
        UnitState state;
} Want;

static bool state_is(const void *arg) {
        const Want *w = arg;
        return units_state(backend, w->unit) == w->state;
}

static void setup(void) {
        char path[PATH_MAX];
        int fd;

        root = tmp_root();
        snprintf(address, sizeof(address), "unix:path=%s/bus", root);
        setenv("DBUS_SYSTEM_BUS_ADDRESS", address, 1);
        snprintf(path, sizeof(path), "%s/stderr", root);
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_ge(dup2(fd, STDERR_FILENO), 0);
        close(fd);
        log_setup("test-bus", LOG_TARGET_STDERR);
        log_set_max_level(LOG_DEBUG);
        loop = ev_loop_new(EVFLAG_AUTO);
        start_bus();
        start_fake();
        ck_assert_int_eq(bus_units_new(loop, &backend), 0);
}

static void teardown(void) {
        backend = units_free(backend);
        ev_loop_destroy(loop);
        stop_pid(&fake_pid);
        stop_pid(&bus_pid);
        tmp_root_remove(root);
}

/* ---- the tests -------------------------------------------------------------------------------- */

START_TEST(test_start_stop_reload) {
        /* Connected: subscribed, and the unit list read. */
        ck_assert(calls_have("Subscribe -"));
        ck_assert_int_eq(units_state(backend, "patroni@15-main.service"), UNIT_STATE_INACTIVE);
        ck_assert_int_eq(units_state(backend, "patroni@15-other.service"), UNIT_STATE_INACTIVE); /* not listed */

        ck_assert_int_eq(units_request(backend, UNIT_START, "patroni@15-main.service", "15/main"), 0);
        ck_assert(run_until(state_is, &(Want){ "patroni@15-main.service", UNIT_STATE_ACTIVE }, 5));
        ck_assert(calls_have("ResetFailedUnit patroni@15-main.service\nStartUnit patroni@15-main.service\n"));
        ck_assert(log_has("start of patroni@15-main.service: done."));

        ck_assert_int_eq(units_request(backend, UNIT_RELOAD, "patroni@15-main.service", "15/main"), 0);
        ck_assert(run_until(calls_have, "ReloadOrRestartUnit patroni@15-main.service", 5));
        ck_assert(run_until(log_has, "reload of patroni@15-main.service: done.", 5));
        ck_assert_int_eq(units_state(backend, "patroni@15-main.service"), UNIT_STATE_ACTIVE);

        ck_assert_int_eq(units_request(backend, UNIT_STOP, "patroni@15-main.service", "15/main"), 0);
        ck_assert(run_until(state_is, &(Want){ "patroni@15-main.service", UNIT_STATE_INACTIVE }, 5));
        ck_assert(calls_have("StopUnit patroni@15-main.service"));
}
END_TEST

START_TEST(test_refused_and_failed) {
        /* Refused: said with the unit, its state left as it was. */
        ck_assert_int_eq(units_request(backend, UNIT_START, "refused@15-x.service", "15/x"), 0);
        ck_assert(run_until(log_has, "systemd refused to start refused@15-x.service: Access denied by the test", 5));
        ck_assert_int_eq(units_state(backend, "refused@15-x.service"), UNIT_STATE_INACTIVE);

        /* Failed: the state is failed, and what systemd says of the unit is logged. */
        ck_assert_int_eq(units_request(backend, UNIT_START, "fails@15-y.service", "15/y"), 0);
        ck_assert(run_until(state_is, &(Want){ "fails@15-y.service", UNIT_STATE_FAILED }, 5));
        ck_assert(log_has("start of fails@15-y.service failed: job result \"failed\"."));
        ck_assert(run_until(log_has, "fails@15-y.service is failed (failed); see journalctl -u fails@15-y.service.", 5));
}
END_TEST

static bool count_at_least(const void *arg) {
        const Want *w = arg; /* unit, and how many StartUnit calls (in .state) */
        _cleanup_free_ char *calls = read_file("calls");
        char line[300];
        unsigned n = 0;

        snprintf(line, sizeof(line), "StartUnit %s\n", w->unit);
        for (const char *p = calls; (p = strstr(p, line)); p += strlen(line))
                n++;
        return n >= (unsigned) w->state;
}

START_TEST(test_systemd_restarts) {
        /* A job in flight when systemd goes away and comes back (a daemon-reexec): sent again. */
        ck_assert_int_eq(units_request(backend, UNIT_START, "hang@15-z.service", "15/z"), 0);
        ck_assert(run_until(calls_have, "StartUnit hang@15-z.service", 5));
        stop_pid(&fake_pid);
        start_fake();
        ck_assert(run_until(count_at_least, &(Want){ "hang@15-z.service", 2 }, 5));
        ck_assert(log_has("systemd is back on the bus"));
        ck_assert(run_until(calls_have, "StartUnit hang@15-z.service\nSubscribe -\n", 5)); /* renewed */
}
END_TEST

START_TEST(test_bus_goes_away) {
        /* The bus itself goes: requests made meanwhile wait, and go out once it is back. */
        stop_pid(&fake_pid);
        stop_pid(&bus_pid);
        ck_assert(run_until(log_has, "Cannot connect to the system bus", 5));
        ck_assert_int_eq(units_request(backend, UNIT_START, "patroni@15-late.service", "15/late"), 0);
        ck_assert_int_eq(units_state(backend, "patroni@15-late.service"), UNIT_STATE_UNKNOWN); /* not connected */
        start_bus();
        start_fake();
        ck_assert(run_until(log_has, "Connected to the system bus again.", 10));
        ck_assert(run_until(state_is, &(Want){ "patroni@15-late.service", UNIT_STATE_ACTIVE }, 5));
        ck_assert(calls_have("StartUnit patroni@15-late.service"));
}
END_TEST

int main(void) {
        Suite *s = suite_create("bus");
        TCase *tc = tcase_create("core");

        if (system("command -v dbus-daemon >/dev/null") != 0) {
                fprintf(stderr, "dbus-daemon is not installed: skipped\n");
                return 77;
        }
        signal(SIGPIPE, SIG_IGN);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_start_stop_reload);
        tcase_add_test(tc, test_refused_and_failed);
        tcase_add_test(tc, test_systemd_restarts);
        tcase_add_test(tc, test_bus_goes_away);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
