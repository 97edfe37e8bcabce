/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "fsutil.h"
#include "macro.h"
#include "pgconf.h"

PgConf *pgconf_free(PgConf *c) {
        if (!c)
                return NULL;
        for (size_t i = 0; i < c->n_entries; i++) {
                free(c->entries[i].key);
                free(c->entries[i].value);
        }
        free(c->entries);
        free(c);
        return NULL;
}

const char *pgconf_get(const PgConf *c, const char *key) {
        for (size_t i = c->n_entries; i > 0; i--)
                if (streq(c->entries[i - 1].key, key))
                        return c->entries[i - 1].value;
        return NULL;
}

static int pgconf_set(PgConf *c, const char *key, size_t keylen, char *value) {
        _cleanup_free_ char *k = strndup(key, keylen), *v = value;
        PgConfEntry *e;

        if (!k)
                return -ENOMEM;
        for (char *p = k; *p; p++)
                *p = (char) tolower((unsigned char) *p);

        if (c->n_entries == c->alloc_entries) {
                size_t a = c->alloc_entries ? c->alloc_entries * 2 : 32;
                e = reallocarray(c->entries, a, sizeof(PgConfEntry));
                if (!e)
                        return -ENOMEM;
                c->entries = e;
                c->alloc_entries = a;
        }
        c->entries[c->n_entries++] = (PgConfEntry){ .key = TAKE_PTR(k), .value = TAKE_PTR(v) };
        return 0;
}

static const char *skip_ws(const char *p) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\f' || *p == '\v')
                p++;
        return p;
}

/* After a value: only whitespace and an optional comment may follow. */
static bool rest_is_comment(const char *p) {
        p = skip_ws(p);
        return *p == 0 || *p == '#';
}

static bool is_key_char(char ch) {
        return isalnum((unsigned char) ch) || ch == '_' || ch == '.' || ch == '-';
}

/*
 * A quoted value: '...' where '' is a quote and \x is x. A backslash-escaped
 * quote does not end the string. Returns the byte after the closing quote.
 */
static const char *parse_quoted(const char *p, char **ret) {
        _cleanup_free_ char *v = NULL;
        size_t n = 0;

        if (*p != '\'')
                return NULL;
        v = malloc(strlen(p) + 1);
        if (!v)
                return NULL;
        for (p++;; p++) {
                if (*p == 0)
                        return NULL;
                if (*p == '\\' && p[1] != 0) {
                        v[n++] = *++p;
                        continue;
                }
                if (*p == '\'') {
                        if (p[1] == '\'') {
                                v[n++] = '\'';
                                p++;
                                continue;
                        }
                        break;
                }
                v[n++] = *p;
        }
        v[n] = 0;
        *ret = TAKE_PTR(v);
        return p + 1;
}

/* A simple value: -?[[:alnum:]][[:alnum:]._:/+-]* */
static const char *parse_simple(const char *p, char **ret) {
        const char *s = p;

        if (*p == '-')
                p++;
        if (!isalnum((unsigned char) *p))
                return NULL;
        while (isalnum((unsigned char) *p) || (*p && strchr("._:/+-", *p)))
                p++;
        if (*p != 0 && !strchr(" \t\r\f\v#", *p))
                return NULL;
        *ret = strndup(s, (size_t) (p - s));
        return *ret ? p : NULL;
}

/* Accept "kw" followed by whitespace, '=' or a quote, case-insensitively. */
static const char *match_keyword(const char *p, const char *kw) {
        size_t l = strlen(kw);

        if (strncasecmp(p, kw, l) != 0)
                return NULL;
        p += l;
        if (is_key_char(*p))
                return NULL;
        p = skip_ws(p);
        if (*p == '=')
                p = skip_ws(p + 1);
        return p;
}

static char *path_relative_to(const char *path, const char *parent) {
        const char *slash;
        char *r;

        if (path[0] == '/')
                return strdup(path);
        slash = strrchr(parent, '/');
        if (streq(path, ".")) /* include_dir '.': the including file's own directory */
                return strndup(parent, slash ? (size_t) (slash - parent) : 0);
        if (asprintf(&r, "%.*s/%s", slash ? (int) (slash - parent) : 0, parent, path) < 0)
                return NULL;
        return r;
}

/*
 * One parse and everything it reads. The files may be written by postgres, a less privileged user than
 * the daemon: the work they cause is bounded, not only their nesting. Each file (by device and inode) is
 * read once, and all of them together at most PGCONF_MAX_FILES files and PGCONF_MAX_BYTES bytes.
 */
typedef struct FileId {
        dev_t dev;
        ino_t ino;
} FileId;

typedef struct Parse {
        int rootfd;
        PgConf *c;
        char **ret_error;
        FileId seen[PGCONF_MAX_FILES];
        size_t n_files, bytes;
} Parse;

static int parse_text(Parse *ps, const char *path, const char *text, size_t size, unsigned depth);

_printf_(4, 5) static int fail_path(Parse *ps, const char *path, int r, const char *fmt, ...) {
        _cleanup_free_ char *what = NULL;
        va_list ap;
        int k;

        va_start(ap, fmt);
        k = vasprintf(&what, fmt, ap);
        va_end(ap);
        if (k < 0 || asprintf(ps->ret_error, "%s: %s", path, what) < 0)
                *ps->ret_error = NULL;
        return r;
}

/* Account for a file about to be parsed: 0 to parse it, 1 if it was parsed already, or an error. */
static int account(Parse *ps, const char *path, int fd, size_t size) {
        struct stat st;
        char limit[32];

        if (fd >= 0) {
                if (fstat(fd, &st) < 0)
                        return negative_errno();
                for (size_t i = 0; i < ps->n_files; i++)
                        if (ps->seen[i].dev == st.st_dev && ps->seen[i].ino == st.st_ino)
                                return 1;
                if (ps->n_files == PGCONF_MAX_FILES) {
                        snprintf(limit, sizeof(limit), "%u", PGCONF_MAX_FILES);
                        return fail_path(ps, path, -E2BIG, "more than %s files included in all", limit);
                }
                ps->seen[ps->n_files++] = (FileId){ st.st_dev, st.st_ino };
                /* Rewritten or touched counts as changed, even with the same bytes: "touch" asks for a new look. */
                ps->c->signature = hash_bytes(ps->c->signature, &st.st_ino, sizeof(st.st_ino));
                ps->c->signature = hash_bytes(ps->c->signature, &st.st_mtim, sizeof(st.st_mtim));
        }
        ps->bytes += size;
        if (ps->bytes > PGCONF_MAX_BYTES) {
                snprintf(limit, sizeof(limit), "%u", PGCONF_MAX_BYTES);
                return fail_path(ps, path, -E2BIG, "more than %s bytes read with its includes", limit);
        }
        ps->c->signature = hash_bytes(ps->c->signature, path, strlen(path) + 1);
        ps->c->signature = hash_bytes(ps->c->signature, &size, sizeof(size));
        return 0;
}

static int parse_include(Parse *ps, const char *path, unsigned depth) {
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int fd = fs_open_in_root(ps->rootfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY, true);
        size_t size = 0;
        int r;

        r = fd < 0 ? fd : fs_read_fd(fd, &text, &size);
        if (r == -ENOENT || r == -ENOTDIR)
                return 0; /* like pg-common: an include it cannot open adds nothing */
        if (r < 0)
                return fail_path(ps, path, r, "cannot read: %s", fs_describe_error(r));
        r = account(ps, path, fd, size);
        if (r != 0)
                return r < 0 ? r : 0;
        return parse_text(ps, path, text, size, depth + 1);
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static int parse_include_dir(Parse *ps, const char *dirpath, unsigned depth) {
        _cleanup_close_ int fd = -1;
        DIR *d;
        struct dirent *de;
        char **names = NULL;
        size_t n = 0;
        int r = 0;

        fd = fs_open_in_root(ps->rootfd, dirpath, O_RDONLY | O_DIRECTORY, true);
        if (fd < 0)
                return 0; /* pg-common: "next unless -d" */
        d = fdopendir(fd);
        if (!d)
                return negative_errno();
        TAKE_FD(fd);

        while ((de = readdir(d))) {
                char **p;
                if (de->d_name[0] == '.' || !endswith(de->d_name, ".conf"))
                        continue;
                if (n == PGCONF_MAX_FILES) {
                        r = fail_path(ps, dirpath, -E2BIG, "holds more than %s configuration files",
                                      STRINGIFY(PGCONF_MAX_FILES));
                        break;
                }
                p = reallocarray(names, n + 1, sizeof(char *));
                if (!p || !(p[n] = strdup(de->d_name))) {
                        names = p ? p : names;
                        r = -ENOMEM;
                        break;
                }
                names = p;
                n++;
        }
        closedir(d);

        if (r == 0 && n > 1)
                qsort(names, n, sizeof(char *), cmp_str);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *sub = NULL;
                if (r == 0) {
                        if (asprintf(&sub, "%s/%s", dirpath, names[i]) < 0)
                                r = -ENOMEM;
                        else
                                r = parse_include(ps, sub, depth);
                }
                free(names[i]);
        }
        free(names);
        return r;
}

static int syntax_error(char **ret_error, const char *path, unsigned line, const char *what) {
        if (asprintf(ret_error, "%s:%u: %s", path, line, what) < 0)
                *ret_error = NULL;
        return -EINVAL;
}

static int parse_line(Parse *ps, const char *path, unsigned lineno, const char *line, unsigned depth) {
        char **ret_error = ps->ret_error;
        const char *p = skip_ws(line), *q, *key;
        size_t keylen;
        char *v = NULL;

        if (*p == 0 || *p == '#')
                return 0;

        if ((q = match_keyword(p, "include_dir")) || (q = match_keyword(p, "include_if_exists")) ||
            (q = match_keyword(p, "include"))) {
                bool is_dir = strncasecmp(p, "include_dir", 11) == 0;
                _cleanup_free_ char *target = NULL, *abs = NULL;

                q = parse_quoted(q, &target);
                if (!q || !rest_is_comment(q) || !target[0])
                        return syntax_error(ret_error, path, lineno, "include needs a quoted path");
                if (depth >= PGCONF_MAX_DEPTH)
                        return syntax_error(ret_error, path, lineno, "includes nested too deeply");
                abs = path_relative_to(target, path);
                if (!abs)
                        return -ENOMEM;
                return is_dir ? parse_include_dir(ps, abs, depth) : parse_include(ps, abs, depth);
        }

        key = p;
        while (is_key_char(*p))
                p++;
        keylen = (size_t) (p - key);
        if (keylen == 0)
                return syntax_error(ret_error, path, lineno, "expected a parameter name");
        q = skip_ws(p);
        if (*q == '=')
                q = skip_ws(q + 1);
        else if (q == p)
                return syntax_error(ret_error, path, lineno, "expected '=' after the parameter name");

        if (*q == '\'')
                q = parse_quoted(q, &v);
        else
                q = parse_simple(q, &v);
        if (!q)
                return syntax_error(ret_error, path, lineno, "invalid value");
        if (!rest_is_comment(q)) {
                free(v);
                return syntax_error(ret_error, path, lineno, "unexpected text after the value");
        }
        return pgconf_set(ps->c, key, keylen, v);
}

static int parse_text(Parse *ps, const char *path, const char *text, size_t size, unsigned depth) {
        unsigned lineno = 0;
        size_t nul = fs_nul_line(text, size);

        if (nul > 0)
                return syntax_error(ps->ret_error, path, (unsigned) nul, "a NUL byte (not a text file)");
        ps->c->signature = hash_bytes(ps->c->signature, text, size);
        for (const char *p = text; *p;) {
                const char *eol = strchrnul(p, '\n');
                _cleanup_free_ char *line = strndup(p, (size_t) (eol - p));
                int r;

                if (!line)
                        return -ENOMEM;
                lineno++;
                r = parse_line(ps, path, lineno, line, depth);
                if (r < 0)
                        return r;
                p = *eol ? eol + 1 : eol;
        }
        return 0;
}

static int parse_top(int rootfd, const char *path, int fd, const char *text, size_t size, PgConf *c,
                     char **ret_error) {
        _cleanup_free_ Parse *ps = calloc(1, sizeof(Parse));
        int r;

        *ret_error = NULL;
        if (!ps)
                return -ENOMEM;
        *ps = (Parse){ .rootfd = rootfd, .c = c, .ret_error = ret_error };
        if (c->signature == 0)
                c->signature = HASH_INIT;
        r = account(ps, path, fd, size);
        return r < 0 ? r : parse_text(ps, path, text, size, 0);
}

int pgconf_parse_text(int rootfd, const char *path, const char *text, size_t size, PgConf *c, char **ret_error) {
        return parse_top(rootfd, path, -1, text, size, c, ret_error);
}

int pgconf_parse_fd(int rootfd, const char *path, int fd, PgConf *c, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        *ret_error = NULL;
        r = fs_read_fd(fd, &text, &size);
        if (r < 0)
                return r;
        return parse_top(rootfd, path, fd, text, size, c, ret_error);
}

int pgconf_parse_file(int rootfd, const char *path, PgConf *c, char **ret_error) {
        _cleanup_close_ int fd = fs_open_in_root(rootfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY, true);

        *ret_error = NULL;
        if (fd < 0)
                return fd;
        return pgconf_parse_fd(rootfd, path, fd, c, ret_error);
}
