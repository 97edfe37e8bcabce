/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * What etcd (API v3, its JSON gateway) holds under Patroni's namespace, as
 * far as joining and clients go: each scope, its leader and its members'
 * PostgreSQL hosts and ports. Kept up to date from a range read and then a watch's events; the
 * requests' bodies are made here, and the answers decoded (json-c; keys and
 * values are base64, decoded with libcrypto). What etcd says is read with
 * bounds: a line, a scope, a member and the number of them are limited, and
 * keys or values that are not the expected shape are left out.
 */
#define ETCD_BODY_MAX (32u << 20)    /* a range answer, a watch line */
#define ETCD_SCOPES_MAX 10000
#define ETCD_MEMBERS_MAX 64          /* per scope */
#define ETCD_NAME_MAX 128            /* scope and member names */
#define ETCD_MEMBER_VALUE_MAX 65536  /* a member's JSON */
#define ETCD_HOST_MAX 255            /* a member's host in conn_url: a DNS name or an address */

typedef struct EtcdMember {
        char *name;
        char *host; /* from conn_url: a name, an IPv4 address or an IPv6 one in brackets; NULL if none */
        int port;   /* from conn_url, 0 if it has none */
} EtcdMember;

typedef struct EtcdScope {
        char *name;
        char *leader; /* the leader key's value, NULL if none */
        EtcdMember *members;
        size_t n_members;
        bool dirty; /* leader or members changed since the flag was last cleared */
} EtcdScope;

typedef struct EtcdView {
        char *prefix; /* the namespace, "/postgresql-common/" */
        EtcdScope *scopes;
        size_t n_scopes;
        int64_t revision; /* of the last range read or event seen */
        size_t ignored;   /* keys left out (shape, bounds) since the last range read */
} EtcdView;

EtcdView *etcd_view_new(const char *prefix);
EtcdView *etcd_view_free(EtcdView *v);
static inline void etcd_view_freep(EtcdView **v) {
        etcd_view_free(*v);
}

const EtcdScope *etcd_view_find(const EtcdView *v, const char *scope);
/* The leader member's PostgreSQL port, 0 if the scope has no leader or its member says none. */
int etcd_scope_leader_port(const EtcdScope *s);

/* KEY (raw bytes) set to VALUE, or deleted (VALUE NULL). Keys outside the prefix, or not
 * PREFIX/SCOPE/leader or PREFIX/SCOPE/members/NAME, change nothing. 1 if a scope changed, 0 if not, -ENOMEM. */
int etcd_view_apply(EtcdView *v, const char *key, size_t key_size, const char *value, size_t value_size);

/* A range answer: the view is replaced by what it holds. -EINVAL with *RET_ERROR if it is not one. */
int etcd_decode_range(EtcdView *v, const char *body, size_t size, char **ret_error);

typedef struct EtcdWatchStatus {
        bool created;  /* the watch was created */
        bool canceled; /* etcd ended it (compaction, auth, ...): read again, watch again */
        int64_t compact_revision; /* >0: the revision asked for was compacted */
        size_t events; /* applied */
        char reason[160];
} EtcdWatchStatus;

/* One line of a watch's stream: its events applied to V. -EINVAL with *RET_ERROR if it is not one. */
int etcd_decode_watch(EtcdView *v, const char *line, size_t size, EtcdWatchStatus *ret, char **ret_error);

/* The token in an /v3/auth/authenticate answer. -EINVAL if there is none. */
int etcd_decode_token(const char *body, size_t size, char **ret);

/* Request bodies: a range over the prefix, a watch from REVISION (0: now), an authentication. */
int etcd_range_body(const char *prefix, char **ret);
int etcd_watch_body(const char *prefix, int64_t revision, char **ret);
int etcd_auth_body(const char *user, const char *password, char **ret);
