/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <syslog.h>

#include "macro.h"

typedef enum LogTarget {
        LOG_TARGET_AUTO,
        LOG_TARGET_JOURNAL,
        LOG_TARGET_STDERR,
} LogTarget;

/* Structured fields an admin can filter on with journalctl FIELD=value. */
typedef struct LogFields {
        const char *cluster;     /* PGCLUSTER=15/main */
        const char *unit;        /* UNIT=patroni@15-main.service */
        const char *config_file; /* CONFIG_FILE=/etc/patroni/15-main.yml */
        const char *message_id;  /* MESSAGE_ID=, see doc/patroni-debiand.catalog */
} LogFields;

void log_setup(const char *program, LogTarget target);
void log_set_max_level(int level);
int log_get_max_level(void);
LogTarget log_get_target(void);
int log_level_from_string(const char *s);
int log_target_from_string(const char *s);

/* Logs and returns -abs(error) (or 0 when error is 0). "%m" prints error. */
int log_internal(int level, int error, const LogFields *fields, const char *format, ...) _printf_(4, 5);

#define log_full_errno(level, error, ...) log_internal((level), (error), NULL, __VA_ARGS__)
#define log_debug(...) log_internal(LOG_DEBUG, 0, NULL, __VA_ARGS__)
#define log_info(...) log_internal(LOG_INFO, 0, NULL, __VA_ARGS__)
#define log_notice(...) log_internal(LOG_NOTICE, 0, NULL, __VA_ARGS__)
#define log_warning(...) log_internal(LOG_WARNING, 0, NULL, __VA_ARGS__)
#define log_error(...) log_internal(LOG_ERR, 0, NULL, __VA_ARGS__)
#define log_debug_errno(e, ...) log_internal(LOG_DEBUG, (e), NULL, __VA_ARGS__)
#define log_warning_errno(e, ...) log_internal(LOG_WARNING, (e), NULL, __VA_ARGS__)
#define log_error_errno(e, ...) log_internal(LOG_ERR, (e), NULL, __VA_ARGS__)
#define log_oom() log_internal(LOG_ERR, ENOMEM, NULL, "Out of memory.")

/* With structured fields: log_fields(LOG_INFO, 0, &(LogFields){ .cluster = "15/main" }, "..."). */
#define log_fields(level, error, fields, ...) log_internal((level), (error), (fields), __VA_ARGS__)
