/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>

/*
 * A reader for postgresql.conf-format files (postgresql.conf, createcluster.conf)
 * that accepts exactly what postgresql-common's read_conf_file() accepts:
 * "key = value", "key value", quoted values with '' and backslash escapes,
 * comments, and include / include_if_exists / include_dir with quoted paths
 * (relative ones resolved against the including file's directory). Keys are
 * lower-cased; a later setting wins.
 */

typedef struct PgConfEntry {
        char *key;
        char *value;
} PgConfEntry;

typedef struct PgConf {
        PgConfEntry *entries;
        size_t n_entries, alloc_entries;
        unsigned long long signature; /* of every file read (name, content, inode, mtime): same files, same value */
} PgConf;

/*
 * Bounds on the work one parse does: these files may be written by postgres. Each file is parsed once
 * however often it is included; past these, the parse fails with -E2BIG and says which bound.
 */
#define PGCONF_MAX_DEPTH 10
#define PGCONF_MAX_FILES 64
#define PGCONF_MAX_BYTES (1024U * 1024U) /* a real postgresql.conf and its includes: some 30 KiB */

PgConf *pgconf_free(PgConf *c);
static inline void pgconf_freep(PgConf **c) {
        pgconf_free(*c);
}

/* Last value set for KEY (lower-case), or NULL. */
const char *pgconf_get(const PgConf *c, const char *key);

/*
 * Parse TEXT (the content of PATH, an absolute path inside ROOTFD's tree).
 * Included files are opened in ROOTFD's tree without following a final
 * symlink; missing ones are skipped as pg-common does. On a syntax error
 * returns -EINVAL and *ret_error says "PATH:LINE: ...".
 */
int pgconf_parse_text(int rootfd, const char *path, const char *text, size_t size, PgConf *c, char **ret_error);

/* Read and parse FD, opened from PATH. A NUL byte in any file read is a syntax error naming its line. */
int pgconf_parse_fd(int rootfd, const char *path, int fd, PgConf *c, char **ret_error);

/* Read and parse PATH (absolute, in ROOTFD's tree). -ENOENT if it does not exist. */
int pgconf_parse_file(int rootfd, const char *path, PgConf *c, char **ret_error);
