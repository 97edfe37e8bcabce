/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include "log.h"

/* Process-wide by nature (like stderr itself): who we are and where lines go. */
static struct {
        const char *program;
        LogTarget target;
        int max_level;
} log_state = {
        .program = "patroni-debiand",
        .target = LOG_TARGET_STDERR,
        .max_level = LOG_INFO,
};

static const char *const level_names[] = {
        [LOG_EMERG] = "emerg", [LOG_ALERT] = "alert",     [LOG_CRIT] = "crit",
        [LOG_ERR] = "err",     [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
        [LOG_INFO] = "info",   [LOG_DEBUG] = "debug",
};

/* Is stderr connected to the journal? systemd sets JOURNAL_STREAM=dev:inode. */
static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

void log_setup(const char *program, LogTarget target) {
        log_state.program = program;
        if (target == LOG_TARGET_AUTO)
                target = stderr_is_journal() ? LOG_TARGET_JOURNAL : LOG_TARGET_STDERR;
        log_state.target = target;
}

void log_set_max_level(int level) {
        log_state.max_level = level;
}

int log_get_max_level(void) {
        return log_state.max_level;
}

LogTarget log_get_target(void) {
        return log_state.target;
}

int log_level_from_string(const char *s) {
        for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
                if (level_names[i] && streq(level_names[i], s))
                        return (int) i;
        if (streq(s, "error"))
                return LOG_ERR;
        if (streq(s, "warn"))
                return LOG_WARNING;
        if (s[0] >= '0' && s[0] <= '7' && s[1] == 0)
                return s[0] - '0';
        return -EINVAL;
}

int log_target_from_string(const char *s) {
        if (streq(s, "auto"))
                return LOG_TARGET_AUTO;
        if (streq(s, "journal"))
                return LOG_TARGET_JOURNAL;
        if (streq(s, "stderr"))
                return LOG_TARGET_STDERR;
        return -EINVAL;
}

static void log_to_journal(int level, int error, const LogFields *f, const char *msg) {
        char prio[sizeof("PRIORITY=") + 2], err[sizeof("ERRNO=") + 12];
        _cleanup_free_ char *m = NULL, *ident = NULL, *cl = NULL, *unit = NULL, *cf = NULL, *mid = NULL;
        struct iovec iov[8];
        size_t n = 0;

#define ADD(buf, fmt, val)                                                                 \
        do {                                                                               \
                if (asprintf(&(buf), fmt, val) >= 0)                                       \
                        iov[n++] = (struct iovec){ .iov_base = (buf), .iov_len = strlen(buf) }; \
        } while (0)

        ADD(m, "MESSAGE=%s", msg);
        ADD(ident, "SYSLOG_IDENTIFIER=%s", log_state.program);
        snprintf(prio, sizeof(prio), "PRIORITY=%d", level);
        iov[n++] = (struct iovec){ .iov_base = prio, .iov_len = strlen(prio) };
        if (error != 0) {
                snprintf(err, sizeof(err), "ERRNO=%d", error);
                iov[n++] = (struct iovec){ .iov_base = err, .iov_len = strlen(err) };
        }
        if (f) {
                if (f->cluster)
                        ADD(cl, "PGCLUSTER=%s", f->cluster);
                if (f->unit)
                        ADD(unit, "UNIT=%s", f->unit);
                if (f->config_file)
                        ADD(cf, "CONFIG_FILE=%s", f->config_file);
                if (f->message_id)
                        ADD(mid, "MESSAGE_ID=%s", f->message_id);
        }
#undef ADD
        if (sd_journal_sendv(iov, (int) n) < 0)
                fprintf(stderr, "%s: %s\n", log_state.program, msg);
}

int log_internal(int level, int error, const LogFields *fields, const char *format, ...) {
        char buf[2048];
        va_list ap;

        if (error < 0)
                error = -error;

        if (level > log_state.max_level)
                return -error;

        errno = error; /* for %m */
        va_start(ap, format);
        vsnprintf(buf, sizeof(buf), format, ap);
        va_end(ap);

        if (log_state.target == LOG_TARGET_JOURNAL)
                log_to_journal(level, error, fields, buf);
        else
                fprintf(stderr, "%s: %s%s\n", log_state.program,
                        level <= LOG_ERR       ? "error: "
                        : level == LOG_WARNING ? "warning: "
                                               : "",
                        buf);

        return -error;
}
