/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include "fsutil.h"
#include "macro.h"
#include "pgservice.h"

void pgservice_done(PgService *s) {
        if (!s)
                return;
        for (size_t i = 0; i < s->n_members; i++)
                free(s->members[i].host);
        free(s->members);
        free(s->name);
        *s = (PgService){};
}

void pgservice_list_free(PgService *list, size_t n) {
        for (size_t i = 0; list && i < n; i++)
                pgservice_done(&list[i]);
        free(list);
}

/* libpq's host list is split at commas and the file's values end at the line: a host is letters, digits and
 * ".-_:%" (an IPv6 address without its brackets). */
static bool host_ok(const char *h, size_t n) {
        if (n == 0 || n > ETCD_HOST_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:%", h[i]) || !h[i])
                        return false;
        return true;
}

int pgservice_add_member(PgService *s, const char *host, int port) {
        size_t n = strlen(host), i;

        if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
                host++;
                n -= 2;
        }
        if (!host_ok(host, n) || port <= 0 || port > 65535)
                return -EINVAL;
        for (i = 0; i < s->n_members; i++) {
                int c = strncmp(s->members[i].host, host, n);
                if (c == 0 && s->members[i].host[n])
                        c = 1;
                if (c == 0 && s->members[i].port == port)
                        return 0;
                if (c > 0 || (c == 0 && s->members[i].port > port))
                        break;
        }
        if (s->n_members >= ETCD_MEMBERS_MAX)
                return -EINVAL;
        PgServiceMember *more = reallocarray(s->members, s->n_members + 1, sizeof(PgServiceMember));
        if (!more)
                return -ENOMEM;
        s->members = more;
        char *h = strndup(host, n);
        if (!h)
                return -ENOMEM;
        memmove(&more[i + 1], &more[i], (s->n_members - i) * sizeof(PgServiceMember));
        more[i] = (PgServiceMember){ .host = h, .port = port };
        s->n_members++;
        return 1;
}

int pgservice_add_address(PgService *s, const char *hostport) {
        const char *colon = strrchr(hostport, ':');
        char host[ETCD_HOST_MAX + 3], *end;
        long port;

        if (!colon || (size_t) (colon - hostport) >= sizeof(host))
                return -EINVAL;
        errno = 0;
        port = strtol(colon + 1, &end, 10);
        if (errno || *end || end == colon + 1 || port <= 0 || port > 65535)
                return -EINVAL;
        memcpy(host, hostport, (size_t) (colon - hostport));
        host[colon - hostport] = 0;
        return pgservice_add_member(s, host, (int) port);
}

int pgservice_from_address(const char *name, const char *hostport, PgService *ret) {
        PgService s = { .name = strdup(name) };
        int r = s.name ? pgservice_add_address(&s, hostport) : -ENOMEM;

        if (r < 0) {
                pgservice_done(&s);
                return r;
        }
        *ret = s;
        return 0;
}

int pgservice_from_scope(const char *name, const EtcdScope *scope, PgService *ret) {
        PgService s = { .name = strdup(name) };
        int r;

        if (!s.name)
                return -ENOMEM;
        for (size_t i = 0; i < scope->n_members; i++) {
                if (!scope->members[i].host || scope->members[i].port <= 0)
                        continue;
                r = pgservice_add_member(&s, scope->members[i].host, scope->members[i].port);
                if (r == -ENOMEM) {
                        pgservice_done(&s);
                        return r;
                }
        }
        if (s.n_members == 0) {
                pgservice_done(&s);
                return -ENOENT;
        }
        *ret = s;
        return 0;
}

int pgservice_of(const char *name, const EtcdView *v, const char *scope, const char *ns, const char *connect_address,
                 PgService *ret, bool *ret_from_dcs) {
        const EtcdScope *sc = v && scope && (!ns || streq(ns, v->prefix)) ? etcd_view_find(v, scope) : NULL;
        int r = sc ? pgservice_from_scope(name, sc, ret) : -ENOENT;

        *ret_from_dcs = r == 0;
        if (r != -ENOENT)
                return r;
        return connect_address ? pgservice_from_address(name, connect_address, ret) : -ENOENT;
}

/* ---- connection strings --------------------------------------------------------------------------- */

/* "a,b,c" (SEP ',') or "a:1,b:2" (URI: IPv6 hosts in brackets, each with its port). */
static void put_hosts(FILE *f, const PgService *s, bool uri) {
        for (size_t i = 0; i < s->n_members; i++) {
                bool v6 = strchr(s->members[i].host, ':') != NULL;
                if (uri)
                        fprintf(f, "%s%s%s%s:%d", i ? "," : "", v6 ? "[" : "", s->members[i].host, v6 ? "]" : "",
                                s->members[i].port);
                else
                        fprintf(f, "%s%s", i ? "," : "", s->members[i].host);
        }
}

static void put_ports(FILE *f, const PgService *s) {
        for (size_t i = 0; i < s->n_members; i++)
                fprintf(f, "%s%d", i ? "," : "", s->members[i].port);
}

/* A keyword value, quoted where libpq needs it. */
static void put_keyword_value(FILE *f, const char *v) {
        if (v[0] && !strpbrk(v, " \t\n'\\")) {
                fputs(v, f);
                return;
        }
        fputc('\'', f);
        for (; *v; v++) {
                if (*v == '\'' || *v == '\\')
                        fputc('\\', f);
                fputc(*v, f);
        }
        fputc('\'', f);
}

static void put_uri_value(FILE *f, const char *v) {
        for (; *v; v++) {
                unsigned char c = (unsigned char) *v;
                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-._~/", c))
                        fputc(c, f);
                else
                        fprintf(f, "%%%02X", c);
        }
}

int pgservice_connstr(const PgService *s, bool read_only, const char *ca, PgServiceFormat format, char **ret) {
        const char *tsa = read_only ? "prefer-standby" : "read-write";
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                return -ENOMEM;
        if (format == PGSERVICE_URI) {
                fputs("postgresql://", f);
                put_hosts(f, s, true);
                fprintf(f, "/?target_session_attrs=%s&sslmode=%s", tsa, ca ? "verify-full" : "require");
                if (ca) {
                        fputs("&sslrootcert=", f);
                        put_uri_value(f, ca);
                }
        } else {
                fputs("host=", f);
                put_hosts(f, s, false);
                fputs(" port=", f);
                put_ports(f, s);
                fprintf(f, " target_session_attrs=%s sslmode=%s", tsa, ca ? "verify-full" : "require");
                if (ca) {
                        fputs(" sslrootcert=", f);
                        put_keyword_value(f, ca);
                }
        }
        if (fclose(f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        return 0;
}

/* ---- the file --------------------------------------------------------------------------------------- */

void pgservice_file_done(PgServiceFile *f) {
        if (!f)
                return;
        free(f->head);
        free(f->tail);
        for (size_t i = 0; i < f->n_sections; i++)
                free(f->sections[i]);
        free(f->sections);
        *f = (PgServiceFile){};
}

#define BEGIN_TAG "# BEGIN patroni-debiand"

/* Our markers: the begin line by its tag (its explanation may be reworded by a later version). */
static bool is_begin(const char *line, size_t n) {
        size_t m = strlen(BEGIN_TAG);
        return n >= m && memcmp(line, BEGIN_TAG, m) == 0 && (n == m || line[m] == ':');
}

static bool is_end(const char *line, size_t n) {
        return n == strlen(PGSERVICE_END) && memcmp(line, PGSERVICE_END, n) == 0;
}

static int add_section(PgServiceFile *f, const char *name, size_t n) {
        char **more = reallocarray(f->sections, f->n_sections + 1, sizeof(char *));
        if (!more)
                return -ENOMEM;
        f->sections = more;
        if (!(more[f->n_sections] = strndup(name, n)))
                return -ENOMEM;
        f->n_sections++;
        return 0;
}

int pgservice_file_parse(const char *path, const char *text, size_t size, PgServiceFile *ret, char **ret_error) {
        PgServiceFile f = {};
        size_t begin = SIZE_MAX, end = SIZE_MAX; /* offsets of our block's first and past-last byte */
        size_t line_no = 0;
        const char *why = NULL;
        int r = 0;

        for (size_t off = 0; off < size && !why;) {
                const char *line = text + off, *nl = memchr(line, '\n', size - off);
                size_t n = nl ? (size_t) (nl - line) : size - off, next = off + n + (nl ? 1 : 0);
                line_no++;
                if (memchr(line, 0, n))
                        why = "holds a NUL byte";
                else if (n >= PGSERVICE_LINE_MAX)
                        why = "is longer than libpq reads (254 bytes)";
                else if (is_begin(line, n)) {
                        if (begin != SIZE_MAX)
                                why = "a second \"" BEGIN_TAG "\" line";
                        begin = off;
                } else if (is_end(line, n)) {
                        if (begin == SIZE_MAX || end != SIZE_MAX)
                                why = "\"" PGSERVICE_END "\" without its \"" BEGIN_TAG "\" line before it";
                        end = next;
                } else {
                        /* what libpq reads: leading and trailing white space dropped */
                        while (n > 0 && strchr(" \t\r", line[n - 1]))
                                n--;
                        while (n > 0 && strchr(" \t", line[0])) {
                                line++;
                                n--;
                        }
                        bool inside = begin != SIZE_MAX && end == SIZE_MAX;
                        if (n == 0 || line[0] == '#')
                                ;
                        else if (line[0] == '[') {
                                if (line[n - 1] != ']' || n < 3)
                                        why = "a section header is \"[name]\"";
                                else if (!inside && (r = add_section(&f, line + 1, n - 2)) < 0)
                                        break;
                        } else if (!memchr(line, '=', n))
                                why = "neither a comment, a [section] nor a key=value line";
                }
                off = next;
        }
        if (!why && r == 0 && begin != SIZE_MAX && end == SIZE_MAX) {
                why = "\"" BEGIN_TAG "\" without its \"" PGSERVICE_END "\" line after it";
                line_no = 0;
        }
        if (r < 0) {
                pgservice_file_done(&f);
                return r;
        }
        if (why) {
                pgservice_file_done(&f);
                if (line_no)
                        return error_set(ret_error, -EINVAL, "%s:%zu: %s; libpq would refuse the file, so it is "
                                         "left as it is", path, line_no, why);
                return error_set(ret_error, -EINVAL, "%s: %s; the file is left as it is", path, why);
        }
        if (begin == SIZE_MAX) {
                f.head = strndup(text, size);
                f.tail = strdup("");
        } else {
                f.has_block = true;
                f.head = strndup(text, begin);
                f.tail = strndup(text + end, size - end);
        }
        if (!f.head || !f.tail) {
                pgservice_file_done(&f);
                return -ENOMEM;
        }
        *ret = f;
        return 0;
}

static bool admin_has(const PgServiceFile *f, const char *name, const char *suffix) {
        for (size_t i = 0; i < f->n_sections; i++) {
                size_t n = strlen(name);
                if (strncmp(f->sections[i], name, n) == 0 && streq(f->sections[i] + n, suffix))
                        return true;
        }
        return false;
}

/* S's two sections; false (nothing written) if a line would be longer than libpq reads. */
static bool put_sections(FILE *f, const PgService *s, const char *ca) {
        size_t hn = strlen("host="), pn = strlen("port=");

        for (size_t i = 0; i < s->n_members; i++) {
                hn += strlen(s->members[i].host) + (i > 0);
                pn += (size_t) snprintf(NULL, 0, "%d", s->members[i].port) + (i > 0);
        }
        if (hn >= PGSERVICE_LINE_MAX || pn >= PGSERVICE_LINE_MAX || strlen(s->name) + 5 >= PGSERVICE_LINE_MAX ||
            (ca && strlen(ca) + strlen("sslrootcert=") >= PGSERVICE_LINE_MAX))
                return false;
        for (int ro = 0; ro < 2; ro++) {
                fprintf(f, "[%s%s]\nhost=", s->name, ro ? "-ro" : "");
                put_hosts(f, s, false);
                fputs("\nport=", f);
                put_ports(f, s);
                fprintf(f, "\ntarget_session_attrs=%s\nsslmode=%s\n", ro ? "prefer-standby" : "read-write",
                        ca ? "verify-full" : "require");
                if (ca)
                        fprintf(f, "sslrootcert=%s\n", ca);
        }
        return true;
}

static int left_out_add(char ***list, size_t *n, const char *name) {
        char **more = reallocarray(*list, *n + 1, sizeof(char *));
        if (!more)
                return -ENOMEM;
        *list = more;
        if (!(more[*n] = strdup(name)))
                return -ENOMEM;
        ++*n;
        return 0;
}

int pgservice_file_render(const PgServiceFile *f, const PgService *services, size_t n, const char *ca,
                          char **ret, size_t *ret_size, char ***ret_left_out, size_t *ret_n_left_out) {
        char *buf = NULL, **left = NULL;
        size_t len = 0, n_left = 0;
        FILE *out;
        int r = 0;

        *ret_left_out = NULL;
        *ret_n_left_out = 0;
        if (ca && strpbrk(ca, "\n\r"))
                return -EINVAL;
        out = open_memstream(&buf, &len);
        if (!out)
                return -ENOMEM;
        fputs(f->head, out);
        if (n > 0) {
                size_t hl = strlen(f->head);
                if (hl > 0 && f->head[hl - 1] != '\n')
                        fputc('\n', out);
                fputs(PGSERVICE_BEGIN "\n", out);
                for (size_t i = 0; i < n && r == 0; i++) {
                        if (admin_has(f, services[i].name, "") || admin_has(f, services[i].name, "-ro")) {
                                r = left_out_add(&left, &n_left, services[i].name);
                                continue;
                        }
                        if (!put_sections(out, &services[i], ca))
                                r = left_out_add(&left, &n_left, services[i].name);
                }
                fputs(PGSERVICE_END "\n", out);
        }
        fputs(f->tail, out);
        if (fclose(out) != 0 && r == 0)
                r = -ENOMEM;
        if (r < 0) {
                free(buf);
                strv_free(left, n_left);
                return r;
        }
        *ret = buf;
        *ret_size = len;
        *ret_left_out = left;
        *ret_n_left_out = n_left;
        return 0;
}

/* ---- the file on disk ----------------------------------------------------------------------------------- */

void pgservice_update_done(PgServiceUpdate *u) {
        if (!u)
                return;
        strv_free(u->left_out, u->n_left_out);
        free(u->error);
        *u = (PgServiceUpdate){};
}

int pgservice_update_file(int rootfd, const PgService *services, size_t n, const char *ca, bool dry_run,
                          PgServiceUpdate *ret) {
        _cleanup_close_ int dirfd = -EBADF;
        _cleanup_free_ char *text = NULL, *out = NULL;
        _cleanup_(pgservice_file_done) PgServiceFile f = {};
        const char *name = strrchr(PGSERVICE_PATH, '/') + 1;
        struct stat st = { .st_mode = 0644 };
        size_t size = 0, out_size;
        int r;

        *ret = (PgServiceUpdate){};
        dirfd = fs_open_in_root(rootfd, "/etc/postgresql-common", O_RDONLY | O_DIRECTORY | O_CLOEXEC, true);
        if (dirfd == -ENOENT)
                return 0;
        if (dirfd < 0)
                return error_set(&ret->error, dirfd, "/etc/postgresql-common: %s", fs_describe_error(dirfd));
        r = fs_read_in_root(rootfd, PGSERVICE_PATH, true, &text, &size);
        if (r == -ENOENT) {
                if (n == 0)
                        return 0;
                st.st_uid = 0;
                st.st_gid = 0;
        } else if (r < 0)
                return error_set(&ret->error, r, "%s: %s", PGSERVICE_PATH, fs_describe_error(r));
        else if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                r = -errno;
                return error_set(&ret->error, r, "%s: %s", PGSERVICE_PATH, strerror(-r));
        }
        r = pgservice_file_parse(PGSERVICE_PATH, text ? text : "", size, &f, &ret->error);
        if (r < 0)
                return r;
        if (!f.has_block && n == 0)
                return 0;
        r = pgservice_file_render(&f, services, n, ca, &out, &out_size, &ret->left_out, &ret->n_left_out);
        if (r < 0)
                return error_set(&ret->error, r, "%s: %s", PGSERVICE_PATH,
                                 r == -ENOMEM ? "out of memory" : "the CA's path cannot be written in it");
        if (text && out_size == size && memcmp(out, text, size) == 0)
                return 0;
        ret->changed = true;
        if (dry_run)
                return 0;
        r = fs_write_atomic(dirfd, name, out, out_size, st.st_mode & 07777, st.st_uid, st.st_gid,
                            FS_WRITE_REPLACE | FS_WRITE_CHOWN);
        if (r < 0) {
                ret->changed = false;
                return error_set(&ret->error, r, "%s: cannot write it: %s", PGSERVICE_PATH, fs_describe_error(r));
        }
        return 0;
}
