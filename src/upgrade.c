/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "envconf.h"
#include "fsutil.h"
#include "macro.h"
#include "patroniconf.h"
#include "upgrade.h"

void upgrade_result_done(UpgradeResult *r) {
        harden_result_done(&r->hardened);
        free(r->secrets_added);
        free(r->secrets_dropped);
        *r = (UpgradeResult){};
}

/* The comment lines the file starts with (kept), then a line that says what was done. */
static char *header_of(const char *text, const char *name, const char *backup, time_t now) {
        char when[32];
        size_t n = 0;
        char *h;

        while (text[n] == '#') {
                const char *eol = strchr(text + n, '\n');
                if (!eol)
                        break;
                n = (size_t) (eol - text) + 1;
        }
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime(&now));
        if (asprintf(&h, "%.*s# Made secure by patroni-debianctl upgrade on %s; the file as it was, comments and "
                         "all,\n# is %s/%s.\n",
                     (int) n, text, when, PATRONI_DIR, backup[0] ? backup : name) < 0)
                return NULL;
        return h;
}

static int append_key(char **list, const char *key) {
        char *p;
        if (asprintf(&p, "%s%s%s", strempty(*list), *list ? ", " : "", key) < 0)
                return -ENOMEM;
        free(*list);
        *list = p;
        return 0;
}

int upgrade_config(int rootfd, const char *name, const UpgradeOptions *o, UpgradeResult *ret, char **ret_error) {
        _cleanup_free_ char *text = NULL, *path = NULL, *header = NULL, *error = NULL;
        _cleanup_close_ int dirfd = -EBADF;
        char backup[NAME_MAX + 1], stamp[32];
        size_t size;
        int r;

        *ret = (UpgradeResult){};
        *ret_error = NULL;
        if (asprintf(&path, PATRONI_DIR "/%s", name) < 0)
                return -ENOMEM;
        r = fs_read_in_root(rootfd, path, true, &text, &size);
        if (r < 0)
                return error_set(ret_error, r, "cannot read %s: %s", path, fs_describe_error(r));
        size_t nul = fs_nul_line(text, size);
        if (nul > 0)
                return error_set(ret_error, -EINVAL, "%s: line %zu holds a NUL byte", path, nul);

        strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", gmtime(&o->now));
        if ((size_t) snprintf(backup, sizeof(backup), "%s.%s.bak", name, stamp) >= sizeof(backup))
                return error_set(ret_error, -ENAMETOOLONG, "%s: the name is too long for a backup beside it", path);
        header = header_of(text, name, o->dry_run ? "" : backup, o->now);
        if (!header)
                return -ENOMEM;
        r = harden_config(path, text, size, o->tls, o->clients, header, &ret->hardened, &error);
        if (r < 0)
                return r == -ENOMEM ? r : error_set(ret_error, r, "%s", error ? error : path);
        /* What Patroni will read must still be a configuration. */
        PatroniConf pc = {};
        r = patroniconf_parse(ret->hardened.text, ret->hardened.size, false, &pc, &error);
        patroniconf_done(&pc);
        if (r < 0)
                return r == -ENOMEM ? r : error_set(ret_error, r,
                                                    "%s: the secure form does not parse: %s", path, strna(error));
        if (ret->hardened.n_changes == 0)
                return 0;

        /* The env.conf keys each secret goes to: added where missing, dropped where env.conf has its own. */
        _cleanup_(envconf_freep) char **env = envconf_read(rootfd, &(bool){ false });
        _cleanup_free_ EnvDefault *add = calloc(ret->hardened.n_secrets + 1, sizeof(EnvDefault));
        size_t n_add = 0;
        if (!add)
                return -ENOMEM;
        for (size_t i = 0; i < ret->hardened.n_secrets; i++) {
                const HardenSecret *s = &ret->hardened.secrets[i];
                bool dup = false;
                for (size_t j = 0; j < n_add && !dup; j++)
                        dup = streq(add[j].key, s->key);
                if (envconf_get(env, s->key) || dup)
                        r = append_key(&ret->secrets_dropped, s->key);
                else {
                        add[n_add++] = (EnvDefault){ s->key, s->value };
                        r = append_key(&ret->secrets_added, s->key);
                }
                if (r < 0)
                        return r;
        }
        if (o->dry_run)
                return 1;

        dirfd = fs_open_in_root(rootfd, PATRONI_DIR, O_RDONLY | O_DIRECTORY, true);
        if (dirfd < 0)
                return error_set(ret_error, dirfd, "cannot open %s: %s", PATRONI_DIR, fs_describe_error(dirfd));
        /* 1. The file as it was: root's alone, for it may hold passwords. */
        r = fs_write_atomic(dirfd, backup, text, size, 0600, 0, 0, o->chown ? FS_WRITE_CHOWN : 0);
        if (r < 0)
                return error_set(ret_error, r, "cannot write %s/%s: %s", PATRONI_DIR, backup, fs_describe_error(r));
        snprintf(ret->backup, sizeof(ret->backup), PATRONI_DIR "/%s", backup);
        /* 2. Its secrets, before the file that no longer holds them. */
        if (n_add > 0) {
                _cleanup_free_ char *added = NULL;
                r = envconf_add_missing(rootfd, add, n_add, &added, NULL, &error);
                if (r < 0)
                        return error_set(ret_error, r,
                                         "%s: %s (%s unchanged; its backup is %s)", PATRONI_DIR "/env.conf",
                                    error ? error : fs_describe_error(r), path, ret->backup);
        }
        /* 3. The secure form. */
        r = fs_write_atomic(dirfd, name, ret->hardened.text, ret->hardened.size, 0640, 0, o->postgres_gid,
                            FS_WRITE_REPLACE | (o->chown ? FS_WRITE_CHOWN : 0));
        if (r < 0)
                return error_set(ret_error, r, "cannot write %s: %s (unchanged)", path, fs_describe_error(r));
        return 1;
}
