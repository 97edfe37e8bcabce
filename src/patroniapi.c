/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "macro.h"
#include "patroniapi.h"

/* A /patroni answer is a few KiB; more is not one, and is not kept. */
#define BODY_MAX (256 * 1024)
#define JSON_DEPTH 16

static const char *string_of(json_object *o, const char *key) {
        json_object *v;
        return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
                       ? json_object_get_string(v)
                       : NULL;
}

int patroniapi_member_from_json(const char *body, size_t size, char *buf, size_t bufsize) {
        json_tokener *tok = json_tokener_new_ex(JSON_DEPTH);
        json_object *o;
        int r = -EINVAL;

        if (!tok)
                return -ENOMEM;
        if (size > BODY_MAX || size > INT32_MAX) {
                json_tokener_free(tok);
                return -EINVAL;
        }
        o = json_tokener_parse_ex(tok, body, (int) size);
        /* One whole object, nothing but blanks after it. */
        if (o && json_tokener_get_error(tok) == json_tokener_success &&
            strspn(body + json_tokener_get_parse_end(tok), " \t\r\n") == size - json_tokener_get_parse_end(tok) &&
            json_object_is_type(o, json_type_object)) {
                const char *role = string_of(o, "role"), *state = string_of(o, "state"),
                           *repl = string_of(o, "replication_state");
                if (role && state && role[0] && state[0]) {
                        const char *who = streq(role, "master") || streq(role, "primary") ? "Leader"
                                          : streq(role, "replica")                       ? "Replica"
                                          : streq(role, "standby_leader")                ? "Standby Leader"
                                                                                         : role;
                        snprintf(buf, bufsize, "%s %s", who, streq(who, "Replica") && repl && repl[0] ? repl : state);
                        r = 0;
                }
        }
        json_object_put(o);
        json_tokener_free(tok);
        return r;
}

int patroniapi_url(const char *address, bool tls, char *buf, size_t size) {
        const char *colon = address ? strrchr(address, ':') : NULL;
        char host[300];
        int n;

        if (!colon || parse_port(colon + 1) < 0 || (size_t) (colon - address) >= sizeof(host))
                return -EINVAL;
        snprintf(host, sizeof(host), "%.*s", (int) (colon - address), address);
        /* A wildcard listen address: the member is on this host. */
        if (!host[0] || streq(host, "*") || streq(host, "0.0.0.0"))
                snprintf(host, sizeof(host), "127.0.0.1");
        else if (streq(host, "::") || streq(host, "[::]"))
                snprintf(host, sizeof(host), "[::1]");
        else if (strchr(host, ':') && host[0] != '[') /* a bare IPv6 address */
                snprintf(host, sizeof(host), "[%.*s]", (int) (colon - address), address);
        if (strpbrk(host, "/?#@ \t\r\n"))
                return -EINVAL;
        n = snprintf(buf, size, "%s://%s:%s/patroni", tls ? "https" : "http", host, colon + 1);
        return n > 0 && (size_t) n < size ? 0 : -EINVAL;
}

typedef struct Probe {
        CURL *easy;
        char *body;
        size_t len;
        bool too_big;
        char errbuf[CURL_ERROR_SIZE];
        _Static_assert(CURL_ERROR_SIZE <= CURL_ERROR_SIZE_COPY, "room for libcurl's message");
} Probe;

static size_t on_data(char *data, size_t one, size_t n, void *userdata) {
        Probe *p = userdata;
        char *more;

        if (p->len + n > BODY_MAX || !(more = realloc(p->body, p->len + n + 1))) {
                p->too_big = true;
                return 0; /* stops this transfer */
        }
        p->body = more;
        memcpy(p->body + p->len, data, n);
        p->len += n;
        p->body[p->len] = '\0';
        return one * n;
}

static int64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static CURL *probe_new(const ApiProbe *a, Probe *p, int timeout_ms) {
        char url[400];
        CURL *e;

        if (patroniapi_url(a->address, a->tls, url, sizeof(url)) < 0 || !(e = curl_easy_init()))
                return NULL;
        if (curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_NOPROXY, "*") != CURLE_OK || /* members are reached directly */
            curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long) timeout_ms) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
            (a->cafile && curl_easy_setopt(e, CURLOPT_CAINFO, a->cafile) != CURLE_OK) ||
            curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_WRITEDATA, p) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_ERRORBUFFER, p->errbuf) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_PRIVATE, p) != CURLE_OK) {
                curl_easy_cleanup(e);
                return NULL;
        }
        return e;
}

void patroniapi_probe(ApiProbe *rows, size_t n, int timeout_ms) {
        _cleanup_free_ Probe *probes = calloc(n ? n : 1, sizeof(Probe));
        CURLM *multi = NULL;
        int64_t deadline = now_ms() + timeout_ms;
        int running = 0;

        if (!probes || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return;
        multi = curl_multi_init();
        if (!multi)
                goto finish;
        for (size_t i = 0; i < n; i++) {
                rows[i].state[0] = rows[i].error[0] = '\0';
                if (!rows[i].address || !rows[i].address[0])
                        continue;
                probes[i].easy = probe_new(&rows[i], &probes[i], timeout_ms);
                if (!probes[i].easy)
                        snprintf(rows[i].error, sizeof(rows[i].error), "not an address: %s", rows[i].address);
                else if (curl_multi_add_handle(multi, probes[i].easy) != CURLM_OK) {
                        curl_easy_cleanup(probes[i].easy);
                        probes[i].easy = NULL;
                }
        }
        do {
                int left = (int) (deadline - now_ms());
                if (curl_multi_perform(multi, &running) != CURLM_OK || running == 0 || left <= 0)
                        break;
                if (curl_multi_poll(multi, NULL, 0, left, NULL) != CURLM_OK)
                        break;
        } while (running > 0);

        CURLMsg *m;
        int queued;
        while ((m = curl_multi_info_read(multi, &queued)))
                if (m->msg == CURLMSG_DONE) {
                        Probe *p = NULL;
                        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **) &p);
                        size_t i = (size_t) (p - probes);
                        if (m->data.result != CURLE_OK)
                                snprintf(rows[i].error, sizeof(rows[i].error), "%s",
                                         p->errbuf[0] ? p->errbuf : curl_easy_strerror(m->data.result));
                        else if (!p->body || patroniapi_member_from_json(p->body, p->len, rows[i].state,
                                                                          sizeof(rows[i].state)) < 0)
                                snprintf(rows[i].error, sizeof(rows[i].error), "not a Patroni answer");
                }
finish:
        for (size_t i = 0; i < n; i++) {
                if (probes[i].easy) {
                        if (multi)
                                curl_multi_remove_handle(multi, probes[i].easy);
                        curl_easy_cleanup(probes[i].easy);
                        if (!rows[i].state[0] && !rows[i].error[0])
                                snprintf(rows[i].error, sizeof(rows[i].error), "no answer within %d ms", timeout_ms);
                }
                free(probes[i].body);
        }
        curl_multi_cleanup(multi);
        curl_global_cleanup();
}
