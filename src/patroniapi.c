/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "macro.h"
#include "patroniapi.h"

/* A minimal HTTP/1.0 client and JSON reader, for GET /patroni only. */
static const char *json_ws(const char *p) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
                p++;
        return p;
}

/* P at '"': the string's content into OUT (may be NULL); returns the position after it, or NULL. */
static const char *json_string(const char *p, char *out, size_t size) {
        size_t n = 0;

        for (p++; *p && *p != '"'; p++) {
                char c = *p;
                if (c == '\\') {
                        if (!*++p)
                                return NULL;
                        c = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
                        if (*p == 'u') {
                                for (int i = 0; i < 4; i++)
                                        if (!*++p)
                                                return NULL;
                                c = '?';
                        }
                }
                if (out && n + 1 < size)
                        out[n++] = c;
        }
        if (*p != '"')
                return NULL;
        if (out && size)
                out[n] = 0;
        return p + 1;
}

static const char *json_skip(const char *p) {
        int depth = 0;

        p = json_ws(p);
        if (*p == '"')
                return json_string(p, NULL, 0);
        for (; *p; p++) {
                if (*p == '"') {
                        p = json_string(p, NULL, 0);
                        if (!p)
                                return NULL;
                        p--;
                } else if (*p == '{' || *p == '[')
                        depth++;
                else if (*p == '}' || *p == ']') {
                        if (depth == 0)
                                return p;
                        if (--depth == 0)
                                return p + 1;
                } else if (*p == ',' && depth == 0)
                        return p;
        }
        return depth == 0 ? p : NULL;
}

int patroniapi_member_from_json(const char *body, char *buf, size_t size) {
        char key[64], role[64] = "", state[64] = "", repl[64] = "";
        const char *p = json_ws(body);

        if (*p++ != '{')
                return -EINVAL;
        for (;;) {
                p = json_ws(p);
                if (*p == '}')
                        break;
                if (*p != '"' || !(p = json_string(p, key, sizeof(key))))
                        return -EINVAL;
                p = json_ws(p);
                if (*p++ != ':')
                        return -EINVAL;
                p = json_ws(p);
                char *into = streq(key, "role") ? role : streq(key, "state") ? state :
                             streq(key, "replication_state") ? repl : NULL;
                p = into && *p == '"' ? json_string(p, into, 64) : json_skip(p);
                if (!p)
                        return -EINVAL;
                p = json_ws(p);
                if (*p == ',')
                        p++;
                else if (*p != '}')
                        return -EINVAL;
        }
        if (!role[0] || !state[0])
                return -EINVAL;
        const char *r = streq(role, "master") || streq(role, "primary") ? "Leader" :
                        streq(role, "replica") ? "Replica" :
                        streq(role, "standby_leader") ? "Standby Leader" : role;
        snprintf(buf, size, "%s %s", r, streq(r, "Replica") && repl[0] ? repl : state);
        return 0;
}

typedef struct Probe {
        int fd;
        bool connected;
        char *buf;
        size_t len;
        char request[400];
} Probe;

static int probe_connect(const ApiProbe *r, Probe *p) {
        char host[300];
        const char *colon = strrchr(r->address, ':');
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *ai = NULL;

        if (!colon || r->tls)
                return -EINVAL;
        snprintf(host, sizeof(host), "%.*s", (int) (colon - r->address), r->address);
        if (host[0] == '[' && host[strlen(host) - 1] == ']') {
                memmove(host, host + 1, strlen(host));
                host[strlen(host) - 1] = 0;
        }
        /* A wildcard listen address: the member is on this host. */
        if (!host[0] || streq(host, "*") || streq(host, "0.0.0.0"))
                snprintf(host, sizeof(host), "127.0.0.1");
        else if (streq(host, "::"))
                snprintf(host, sizeof(host), "::1");
        if (getaddrinfo(host, colon + 1, &hints, &ai) != 0 || !ai)
                return -EHOSTUNREACH;
        p->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (p->fd >= 0 && connect(p->fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS)
                p->fd = safe_close(p->fd);
        freeaddrinfo(ai);
        snprintf(p->request, sizeof(p->request), "GET /patroni HTTP/1.0\r\nHost: %s\r\nAccept: application/json\r\n\r\n",
                 r->address);
        return p->fd >= 0 ? 0 : -errno;
}

static int64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void patroniapi_probe(ApiProbe *rows, size_t n, int timeout_ms) {
        Probe *probes = calloc(n ? n : 1, sizeof(Probe));
        struct pollfd *pfds = calloc(n ? n : 1, sizeof(struct pollfd));
        int64_t deadline = now_ms() + timeout_ms;

        if (!probes || !pfds)
                goto finish;
        for (size_t i = 0; i < n; i++) {
                probes[i].fd = -1;
                if (rows[i].address && rows[i].address[0])
                        (void) probe_connect(&rows[i], &probes[i]);
        }
        for (;;) {
                size_t k = 0;
                int left = (int) (deadline - now_ms());
                for (size_t i = 0; i < n; i++)
                        if (probes[i].fd >= 0)
                                pfds[k++] = (struct pollfd){ .fd = probes[i].fd,
                                                             .events = probes[i].connected ? POLLIN : POLLOUT };
                if (k == 0 || left <= 0 || poll(pfds, k, left) <= 0)
                        break;
                for (size_t i = 0, j = 0; i < n && j < k; i++) {
                        Probe *p = &probes[i];
                        if (p->fd < 0 || pfds[j++].fd != p->fd || !pfds[j - 1].revents)
                                continue;
                        if (!p->connected) {
                                int err = 0;
                                socklen_t len = sizeof(err);
                                size_t rl = strlen(p->request);
                                if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err ||
                                    send(p->fd, p->request, rl, MSG_NOSIGNAL) != (ssize_t) rl) {
                                        p->fd = safe_close(p->fd);
                                        continue;
                                }
                                p->connected = true;
                                continue;
                        }
                        char chunk[4096], *more;
                        ssize_t got = recv(p->fd, chunk, sizeof(chunk), 0);
                        if (got > 0 && p->len + (size_t) got < 256 * 1024 &&
                            (more = realloc(p->buf, p->len + (size_t) got + 1))) {
                                p->buf = more;
                                memcpy(p->buf + p->len, chunk, (size_t) got);
                                p->len += (size_t) got;
                                p->buf[p->len] = 0;
                                continue;
                        }
                        p->fd = safe_close(p->fd);
                        /* The whole response is in: status line, headers, body. */
                        const char *body = p->buf ? strstr(p->buf, "\r\n\r\n") : NULL;
                        if (got == 0 && body)
                                (void) patroniapi_member_from_json(body + 4, rows[i].state, sizeof(rows[i].state));
                }
        }
finish:
        for (size_t i = 0; probes && i < n; i++) {
                safe_close(probes[i].fd);
                free(probes[i].buf);
        }
        free(probes);
        free(pfds);
}
