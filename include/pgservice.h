/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "etcd.h"

/*
 * libpq services for the clusters configured here, in Debian's system-wide
 * service file: [V-C] reaches the leader (every member's host and port,
 * target_session_attrs=read-write), [V-C-ro] prefers a standby. They live
 * between two marker lines of their own; every other byte of the file is the
 * admin's and is kept as it is, and an admin's own section of the same name
 * wins (ours is left out). A file libpq would refuse (a line that is neither
 * a comment, a [section] nor a key=value, one longer than libpq 15 reads, or
 * a marker without its pair) is reported and never rewritten. Pure: the
 * daemon reads and writes the file, and the CLI prints the same strings.
 */
#define PGSERVICE_PATH "/etc/postgresql-common/pg_service.conf"
#define PGSERVICE_LINE_MAX 255 /* libpq 15 refuses a longer line */
#define PGSERVICE_BEGIN "# BEGIN patroni-debiand: services of the clusters configured here, kept up to date from their members; edits between these lines are replaced"
#define PGSERVICE_END "# END patroni-debiand"

typedef struct PgServiceMember {
        char *host; /* as libpq takes it: no brackets around an IPv6 address */
        int port;
} PgServiceMember;

typedef struct PgService {
        char *name; /* "15-main" */
        PgServiceMember *members; /* sorted by host, then port; no duplicates */
        size_t n_members;
} PgService;

void pgservice_done(PgService *s);
void pgservice_list_free(PgService *list, size_t n);

/* NAME's members from the DCS's scope (those with a host and a port). -ENOMEM, or -ENOENT if none has both. */
int pgservice_from_scope(const char *name, const EtcdScope *scope, PgService *ret);
/* A member HOST:PORT ("[v6]" brackets removed); 0 if already there, 1 if added, -EINVAL for a bad host. */
int pgservice_add_member(PgService *s, const char *host, int port);
/* The same from "HOST:PORT" ("[v6]:PORT"), as postgresql.connect_address has it. */
int pgservice_add_address(PgService *s, const char *hostport);
/* NAME's one member at HOSTPORT (a configuration's own connect_address): -EINVAL for a bad one, -ENOMEM. */
int pgservice_from_address(const char *name, const char *hostport, PgService *ret);
/*
 * NAME's service as the daemon and patroni-debianctl connstr make it: every member of SCOPE in the DCS view V
 * when V holds it under namespace NS (NULL: V's own), else the one member at CONNECT_ADDRESS (a configuration's
 * own; NULL: none). *RET_FROM_DCS says which. -ENOENT if neither gives one, -ENOMEM.
 */
int pgservice_of(const char *name, const EtcdView *v, const char *scope, const char *ns, const char *connect_address,
                 PgService *ret, bool *ret_from_dcs);

typedef enum PgServiceFormat {
        PGSERVICE_KEYWORD, /* host=a,b port=1,2 target_session_attrs=read-write sslmode=... */
        PGSERVICE_URI,     /* postgresql://a:1,b:2/?target_session_attrs=read-write&sslmode=... */
} PgServiceFormat;

/* The connection string to S's leader (READ_ONLY: a standby preferred); CA: sslmode=verify-full with it as
 * sslrootcert, NULL: sslmode=require. */
int pgservice_connstr(const PgService *s, bool read_only, const char *ca, PgServiceFormat f, char **ret);

typedef struct PgServiceFile {
        char *head, *tail;  /* the admin's bytes before and after our block (all of it in HEAD if none) */
        bool has_block;
        char **sections;    /* the admin's own section names */
        size_t n_sections;
} PgServiceFile;

void pgservice_file_done(PgServiceFile *f);

/* TEXT of the file PATH. -EINVAL with *RET_ERROR "PATH:LINE: ..." if libpq would refuse it or our markers are
 * broken. */
int pgservice_file_parse(const char *path, const char *text, size_t size, PgServiceFile *ret, char **ret_error);

/*
 * The file with our block holding SERVICES (two sections each, in their order; none: no block at all),
 * in its place, else at the end. A service whose name (or NAME-ro) the admin has is left out, and a
 * service whose lines would be longer than libpq reads too: each such name is in *RET_LEFT_OUT
 * (*RET_N_LEFT_OUT of them; strv_free).
 */
int pgservice_file_render(const PgServiceFile *f, const PgService *services, size_t n, const char *ca,
                          char **ret, size_t *ret_size, char ***ret_left_out, size_t *ret_n_left_out);

typedef struct PgServiceUpdate {
        bool changed;       /* the file was (DRY_RUN: would have been) written */
        char **left_out;    /* as pgservice_file_render's */
        size_t n_left_out;
        char *error;        /* why nothing was written: names the file and the line, or what failed */
} PgServiceUpdate;

void pgservice_update_done(PgServiceUpdate *u);

/*
 * PGSERVICE_PATH below ROOTFD with our block holding SERVICES: read (no symlink followed), parsed, rendered,
 * and written atomically only if its bytes change, keeping the file's mode and owner (0644 root for a new
 * one: it holds no secret and every client's libpq reads it). Its directory missing (postgresql-common not
 * installed) is nothing to do. -errno with RET->error on failure; the file is then untouched.
 */
int pgservice_update_file(int rootfd, const PgService *services, size_t n, const char *ca, bool dry_run,
                          PgServiceUpdate *ret);
