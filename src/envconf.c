/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <unistd.h>

#include "envconf.h"
#include "fsutil.h"
#include "generate.h"
#include "macro.h"

#define SECRET_LEN 32

char **envconf_free(char **env) {
        for (char **e = env; e && *e; e++) {
                explicit_bzero(*e, strlen(*e)); /* passwords */
                free(*e);
        }
        free(env);
        return NULL;
}

/* Parse TEXT (NUL-terminated, no NUL inside) into KEY=VALUE strings. */
static char **parse(char *text) {
        char **env = NULL;
        size_t n = 0;

        for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *eq, *v, **p;
                size_t l;
                while (*line == ' ' || *line == '\t')
                        line++;
                if (!*line || *line == '#' || *line == ';' || !(eq = strchr(line, '=')))
                        continue;
                *eq = 0;
                v = eq + 1;
                l = strlen(v);
                while (l > 0 && (v[l - 1] == ' ' || v[l - 1] == '\t' || v[l - 1] == '\r'))
                        v[--l] = 0;
                if (l >= 2 && (v[0] == '"' || v[0] == '\'') && v[l - 1] == v[0]) {
                        v[l - 1] = 0;
                        v++;
                }
                l = strlen(line);
                while (l > 0 && (line[l - 1] == ' ' || line[l - 1] == '\t'))
                        line[--l] = 0;
                p = reallocarray(env, n + 2, sizeof(char *));
                if (!p)
                        return envconf_free(env);
                env = p;
                env[n + 1] = NULL;
                if (asprintf(&env[n], "%s=%s", line, v) < 0) {
                        env[n] = NULL;
                        return envconf_free(env);
                }
                n++;
        }
        if (!env)
                env = calloc(1, sizeof(char *)); /* exists, sets nothing */
        return env;
}

/* The variables in TEXT (SIZE bytes, no NUL line), parsed from a copy that is wiped after. */
static char **parse_copy(const char *text, size_t size) {
        char *copy = strndup(text, size);
        char **env;

        if (!copy)
                return NULL;
        env = parse(copy);
        explicit_bzero(copy, size);
        free(copy);
        return env;
}

char **envconf_read(int rootfd, bool *ret_exists) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        char **env;

        *ret_exists = fs_read_in_root(rootfd, PATRONI_ENV_CONF, true, &text, &size) >= 0;
        if (!*ret_exists || fs_nul_line(text, size) > 0)
                return NULL;
        env = parse(text);
        explicit_bzero(text, size);
        return env;
}

const char *envconf_get(char *const *env, const char *key) {
        size_t l = strlen(key);

        for (char *const *e = env; e && *e; e++)
                if (strncmp(*e, key, l) == 0 && (*e)[l] == '=')
                        return (*e)[l + 1] ? *e + l + 1 : NULL;
        return NULL;
}

/* SIZE - 1 random characters from an alphabet that needs no quoting anywhere. */
static int random_secret(char *buf, size_t size) {
        static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        unsigned char r[SECRET_LEN];

        if (size > sizeof(r) + 1)
                return -EINVAL;
        if (getrandom(r, size - 1, 0) != (ssize_t) (size - 1))
                return -EIO;
        for (size_t i = 0; i + 1 < size; i++)
                buf[i] = alphabet[r[i] % 64];
        buf[size - 1] = 0;
        explicit_bzero(r, sizeof(r));
        return 0;
}

/* OLD (and its SIZE) as it was read, wiped and freed. */
static void wipe(char *old, size_t size) {
        if (old)
                explicit_bzero(old, size);
        free(old);
}

int envconf_add_missing(int rootfd, const EnvDefault *defaults, size_t n, char **ret_added, char ***ret_env,
                        char **ret_error) {
        _cleanup_close_ int dirfd = -1;
        _cleanup_free_ char *added = NULL;
        _cleanup_(envconf_freep) char **env = NULL;
        char *old = NULL, *problem = NULL, *text = NULL;
        size_t old_size = 0, len, count = 0, i;
        FILE *f;
        int r;

        *ret_error = NULL;
        if (ret_added)
                *ret_added = NULL;
        if (ret_env)
                *ret_env = NULL;
        dirfd = fs_open_in_root(rootfd, PATRONI_DIR, O_RDONLY | O_DIRECTORY, true);
        if (dirfd < 0)
                return dirfd;
        if (flock(dirfd, LOCK_EX) < 0) /* the takeover helper takes the same lock */
                return negative_errno();
        /* Read once, under the lock: what is there decides what is added, and what is handed back. */
        r = fs_read_in_root(rootfd, PATRONI_ENV_CONF, true, &old, &old_size);
        if (r < 0 && r != -ENOENT)
                return r;
        if (old && fs_nul_line(old, old_size) > 0) {
                wipe(old, old_size);
                if (asprintf(ret_error, "%s holds a NUL byte; not adding secrets to it", PATRONI_ENV_CONF) < 0)
                        *ret_error = NULL;
                return -EINVAL;
        }
        env = old ? parse_copy(old, old_size) : NULL;
        if (old && !env) {
                wipe(old, old_size);
                return -ENOMEM;
        }
        for (i = 0; i < n && envconf_get(env, defaults[i].key); i++)
                ;
        if (i == n) {
                /* All there: nothing to write, whatever the file's mode (the daemon warns of that). */
                wipe(old, old_size);
                if (ret_env)
                        *ret_env = TAKE_PTR(env);
                return 0;
        }

        /* Secrets go only into a file only root can read and write. */
        r = fs_check_secret_file(rootfd, PATRONI_ENV_CONF, &problem);
        if (r != 0) {
                wipe(old, old_size);
                if (r > 0 && asprintf(ret_error, "not adding secrets to it: %s", problem) < 0)
                        *ret_error = NULL;
                free(problem);
                return r > 0 ? -EPERM : r;
        }
        f = open_memstream(&text, &len);
        if (!f) {
                wipe(old, old_size);
                return -ENOMEM;
        }
        if (old_size)
                fwrite(old, 1, old_size, f);
        if (old_size && old[old_size - 1] != '\n')
                fputc('\n', f);
        wipe(old, old_size);
        for (i = 0; i < n; i++) {
                char secret[SECRET_LEN + 1];
                if (envconf_get(env, defaults[i].key))
                        continue;
                if (!defaults[i].value && random_secret(secret, sizeof(secret)) < 0) {
                        fclose(f);
                        free(text);
                        return -EIO;
                }
                fprintf(f, "%s=%s\n", defaults[i].key, defaults[i].value ? defaults[i].value : secret);
                explicit_bzero(secret, sizeof(secret));
                char *more;
                if (asprintf(&more, "%s%s%s", added ? added : "", added ? ", " : "", defaults[i].key) < 0) {
                        fclose(f);
                        free(text);
                        return -ENOMEM;
                }
                free(added);
                added = more;
                count++;
        }
        if (fclose(f) != 0) {
                free(text);
                return -ENOMEM;
        }
        r = fs_write_atomic(dirfd, "env.conf", text, len, 0600, 0, 0,
                            FS_WRITE_REPLACE | (geteuid() == 0 ? FS_WRITE_CHOWN : 0));
        if (r < 0 && asprintf(ret_error, "cannot add %s: %s", added, fs_describe_error(r)) < 0)
                *ret_error = NULL;
        if (r >= 0 && ret_env && !(*ret_env = parse_copy(text, len)))
                r = -ENOMEM;
        explicit_bzero(text, len);
        free(text);
        if (r < 0)
                return r;
        if (ret_added)
                *ret_added = TAKE_PTR(added);
        return (int) count;
}

int envconf_ensure_restapi(int rootfd, char **ret_added, char **ret_error) {
        static const EnvDefault restapi[] = {
                { "PATRONI_RESTAPI_USERNAME", ENVCONF_RESTAPI_USER },
                { "PATRONI_RESTAPI_PASSWORD", NULL },
        };
        return envconf_add_missing(rootfd, restapi, ELEMENTSOF(restapi), ret_added, NULL, ret_error);
}
