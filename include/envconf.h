/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * /etc/patroni/env.conf: the secrets patroni@.service (and the takeover
 * unit) read as their EnvironmentFile=, root's and mode 0600. Read the way
 * systemd reads such a file for the values this project writes (KEY=VALUE
 * lines, # and ; comments, optional quotes). Values never reach a log or a
 * command line.
 */
#define ENVCONF_RESTAPI_USER "patroni"

/* KEY=VALUE strings, NULL-terminated; NULL if the file does not exist (*RET_EXISTS false) or holds a NUL byte. */
char **envconf_read(int rootfd, bool *ret_exists);
/* The value of KEY in ENV, NULL if not set (or set empty). */
const char *envconf_get(char *const *env, const char *key);
/* Free (after wiping) a list from envconf_read. */
char **envconf_free(char **env);
static inline void envconf_freep(char ***env) {
        envconf_free(*env);
}

typedef struct EnvDefault {
        const char *key;
        const char *value; /* NULL: a random secret of 32 URL-safe characters */
} EnvDefault;

/*
 * Add KEY=VALUE for each of DEFAULTS that env.conf does not set yet, as one atomic rewrite that keeps its
 * bytes, root:root 0600, under the lock every writer of env.conf takes (flock on /etc/patroni). Refuses to
 * add to a file that is not root's or that others can read or write (*RET_ERROR says which and what to
 * do, or which keys could not be written and why); with nothing to add, the file is only read.
 * Returns how many were added; *RET_ADDED (if not NULL) gets their keys, comma-separated, and *RET_ENV (if
 * not NULL) what the file then sets, as envconf_read would give it (env.conf is read once, under the lock).
 */
int envconf_add_missing(int rootfd, const EnvDefault *defaults, size_t n, char **ret_added, char ***ret_env,
                        char **ret_error);

/* The REST API's credentials (PATRONI_RESTAPI_USERNAME and _PASSWORD): added where missing, as above. */
int envconf_ensure_restapi(int rootfd, char **ret_added, char **ret_error);
