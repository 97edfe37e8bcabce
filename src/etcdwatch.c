/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "etcdwatch.h"
#include "macro.h"

#define CONNECT_TIMEOUT_MS 5000L
#define REQUEST_TIMEOUT_MS 10000L
#define BACKOFF_MIN_S 1.0
#define BACKOFF_MAX_S 60.0
#define KEEPALIVE_IDLE_S 60L
#define KEEPALIVE_INTERVAL_S 15L

typedef enum Phase {
        PHASE_IDLE,
        PHASE_AUTH,
        PHASE_RANGE,
        PHASE_WATCH,
        PHASE_BACKOFF,
} Phase;

typedef struct Sock {
        ev_io io;
        struct EtcdWatch *w;
} Sock;

typedef struct Answer {
        char **buf;
        size_t *len;
        bool *overflow;
        size_t max;
} Answer;

struct EtcdWatch {
        struct ev_loop *loop;
        EtcdWatchConf conf;
        EtcdWatchChanged changed;
        EtcdWatchState state;
        void *userdata;

        CURLM *multi;
        CURL *easy;
        struct curl_slist *headers;
        char *request_body;
        char errbuf[CURL_ERROR_SIZE];
        char *buf; /* the answer, or the watch's unfinished line */
        size_t len;
        bool overflow;
        Answer answer;
        char *watch_error; /* why the watch's stream is ended: said when its transfer is done */

        Phase phase;
        size_t endpoint;
        char *token;
        EtcdView *view;
        bool up;
        double backoff_s;
        ev_timer curl_timer, backoff;
};

void etcdwatch_conf_done(EtcdWatchConf *c) {
        strv_free(c->endpoints, c->n_endpoints);
        free(c->cacert);
        free(c->cert);
        free(c->key);
        free(c->username);
        if (c->password)
                explicit_bzero(c->password, strlen(c->password));
        free(c->password);
        free(c->prefix);
        *c = (EtcdWatchConf){};
}

static int conf_copy(const EtcdWatchConf *from, EtcdWatchConf *to) {
        *to = (EtcdWatchConf){};
        to->endpoints = calloc(from->n_endpoints ? from->n_endpoints : 1, sizeof(char *));
        if (!to->endpoints)
                return -ENOMEM;
        for (size_t i = 0; i < from->n_endpoints; i++, to->n_endpoints++)
                if (!(to->endpoints[i] = strdup(from->endpoints[i])))
                        return -ENOMEM;
        const char *const src[] = { from->cacert, from->cert, from->key, from->username, from->password,
                                    from->prefix };
        char **dst[] = { &to->cacert, &to->cert, &to->key, &to->username, &to->password, &to->prefix };
        for (size_t i = 0; i < ELEMENTSOF(src); i++)
                if (src[i] && !(*dst[i] = strdup(src[i])))
                        return -ENOMEM;
        return to->prefix && to->n_endpoints ? 0 : -EINVAL;
}

/* ---- one request ------------------------------------------------------------------------------------- */


static size_t on_body(char *data, size_t size, size_t n, void *userdata) {
        Answer *a = userdata;
        size_t m = size * n;

        if (*a->len + m > a->max) {
                *a->overflow = true;
                return 0; /* ends the transfer: more than any answer we ask for */
        }
        char *more = realloc(*a->buf, *a->len + m + 1);
        if (!more)
                return 0;
        memcpy(more + *a->len, data, m);
        *a->len += m;
        more[*a->len] = 0;
        *a->buf = more;
        return m;
}

/* An easy handle for POST ENDPOINT PATH with BODY, TLS and keepalive set; TIMEOUT_MS 0: none (the watch). */
static CURL *easy_new(const EtcdWatchConf *c, const char *endpoint, const char *path, const char *body,
                      struct curl_slist *headers, long timeout_ms, char *errbuf) {
        char url[1024];
        CURL *e;

        if ((size_t) snprintf(url, sizeof(url), "%s%s", endpoint, path) >= sizeof(url) || !(e = curl_easy_init()))
                return NULL;
        if (curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_NOPROXY, "*") != CURLE_OK || /* etcd is reached directly */
            curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, body) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, KEEPALIVE_IDLE_S) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, KEEPALIVE_INTERVAL_S) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
            (c->cacert && curl_easy_setopt(e, CURLOPT_CAINFO, c->cacert) != CURLE_OK) ||
            (c->cert && curl_easy_setopt(e, CURLOPT_SSLCERT, c->cert) != CURLE_OK) ||
            (c->key && curl_easy_setopt(e, CURLOPT_SSLKEY, c->key) != CURLE_OK) ||
            curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK) {
                curl_easy_cleanup(e);
                return NULL;
        }
        errbuf[0] = 0;
        return e;
}

static struct curl_slist *headers_new(const char *token) {
        struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json"), *more;
        char line[4200];

        if (!h || !token)
                return h;
        snprintf(line, sizeof(line), "Authorization: %s", token);
        more = curl_slist_append(h, line);
        explicit_bzero(line, sizeof(line));
        if (!more)
                curl_slist_free_all(h);
        return more;
}

/* What went wrong with a finished request, as a sentence part. */
static void describe(CURLcode rc, long status, const char *errbuf, bool overflow, const char *body, char *out,
                     size_t size) {
        if (overflow)
                snprintf(out, size, "its answer is larger than %u MiB", ETCD_BODY_MAX >> 20);
        else if (rc != CURLE_OK)
                snprintf(out, size, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
        else
                snprintf(out, size, "HTTP %ld%s%.160s", status, body ? ": " : "", body ? body : "");
        for (char *p = out; *p; p++) /* whatever etcd said: one line, no controls */
                if ((unsigned char) *p < ' ' || *p == 0x7f)
                        *p = ' ';
}

/* ---- the watch on the loop ------------------------------------------------------------------------- */

static void start_phase(EtcdWatch *w, Phase p);

static void request_done(EtcdWatch *w) {
        if (w->easy) {
                curl_multi_remove_handle(w->multi, w->easy);
                curl_easy_cleanup(w->easy);
                w->easy = NULL;
        }
        curl_slist_free_all(w->headers);
        w->headers = NULL;
        if (w->request_body)
                explicit_bzero(w->request_body, strlen(w->request_body)); /* the password, for an authentication */
        free(w->request_body);
        w->request_body = NULL;
        free(w->buf);
        w->buf = NULL;
        w->len = 0;
        w->overflow = false;
        free(w->watch_error);
        w->watch_error = NULL;
}

_printf_(2, 3) static void fail(EtcdWatch *w, const char *fmt, ...) {
        char why[512], msg[700];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(why, sizeof(why), fmt, ap);
        va_end(ap);
        request_done(w);
        w->up = false;
        w->backoff_s = w->backoff_s <= 0 ? BACKOFF_MIN_S : w->backoff_s * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S
                                                                                             : w->backoff_s * 2;
        snprintf(msg, sizeof(msg), "%s: %s; trying again in %.0f s", w->conf.endpoints[w->endpoint], why,
                 w->backoff_s);
        w->endpoint = (w->endpoint + 1) % w->conf.n_endpoints;
        w->phase = PHASE_BACKOFF;
        ev_timer_set(&w->backoff, w->backoff_s, 0.);
        ev_timer_start(w->loop, &w->backoff);
        if (w->state)
                w->state(w, false, msg, w->userdata);
}

/* Complete lines of the watch's stream, each decoded and applied. Called from libcurl's write callback:
 * nothing here may touch the transfer; an end is noted in watch_error and carried out when it is done. */
static void watch_lines(EtcdWatch *w) {
        size_t start = 0;
        bool changed = false;

        for (char *nl; w->buf && !w->watch_error && (nl = memchr(w->buf + start, '\n', w->len - start));) {
                size_t n = (size_t) (nl - (w->buf + start));
                EtcdWatchStatus st;
                _cleanup_free_ char *err = NULL;
                int r = n ? etcd_decode_watch(w->view, w->buf + start, n, &st, &err) : 0;
                start += n + 1;
                if (n == 0)
                        continue;
                if (r < 0) {
                        w->watch_error = strdup(err ? err : "out of memory");
                        break;
                }
                changed |= st.events > 0;
                if (st.canceled) {
                        if (asprintf(&w->watch_error, "the watch was cancelled (%s)",
                                     st.compact_revision > 0 ? "compacted: reading the prefix again"
                                     : st.reason[0]          ? st.reason
                                                             : "no reason given") < 0)
                                w->watch_error = NULL;
                        break;
                }
                if (st.created && !w->up) {
                        char msg[600];
                        w->up = true;
                        w->backoff_s = 0;
                        snprintf(msg, sizeof(msg), "%s: watching %s from revision %lld (%zu scopes)",
                                 w->conf.endpoints[w->endpoint], w->conf.prefix, (long long) w->view->revision + 1,
                                 w->view->n_scopes);
                        if (w->state)
                                w->state(w, true, msg, w->userdata);
                }
        }
        if (w->watch_error && !w->watch_error[0])
                w->watch_error = NULL;
        if (start > 0) {
                memmove(w->buf, w->buf + start, w->len - start);
                w->len -= start;
        }
        if (changed && w->changed)
                w->changed(w, w->view, w->userdata);
}

static size_t on_watch_data(char *data, size_t size, size_t n, void *userdata) {
        EtcdWatch *w = userdata;
        Answer a = { &w->buf, &w->len, &w->overflow, ETCD_BODY_MAX };
        size_t m = on_body(data, size, n, &a);

        if (m == size * n)
                watch_lines(w);
        return w->watch_error ? 0 : m; /* 0 ends the transfer */
}

static void phase_done(EtcdWatch *w, CURLcode rc) {
        long status = 0;
        char why[400];
        int r;

        curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &status);
        if (w->phase == PHASE_WATCH) {
                if (w->watch_error)
                        return fail(w, "%s", w->watch_error);
                describe(rc, status, w->errbuf, w->overflow, rc == CURLE_OK && status != 200 ? w->buf : NULL, why,
                         sizeof(why));
                return fail(w, "the watch ended (%s)", rc == CURLE_OK && status == 200 ? "closed by etcd" : why);
        }
        if (rc != CURLE_OK || status != 200) {
                describe(rc, status, w->errbuf, w->overflow, w->buf, why, sizeof(why));
                return fail(w, "%s failed: %s", w->phase == PHASE_AUTH ? "authentication" : "reading the prefix", why);
        }
        if (w->phase == PHASE_AUTH) {
                free(w->token);
                r = etcd_decode_token(w->buf, w->len, &w->token);
                if (r < 0)
                        return fail(w, "authentication: no token in etcd's answer");
                return start_phase(w, PHASE_RANGE);
        }
        _cleanup_free_ char *err = NULL;
        r = etcd_decode_range(w->view, w->buf, w->len, &err);
        if (r < 0)
                return fail(w, "%s", err ? err : "out of memory");
        if (w->changed)
                w->changed(w, w->view, w->userdata);
        start_phase(w, PHASE_WATCH);
}

static void check_done(EtcdWatch *w) {
        CURLMsg *m;
        int left;

        while ((m = curl_multi_info_read(w->multi, &left)))
                if (m->msg == CURLMSG_DONE && m->easy_handle == w->easy) {
                        phase_done(w, m->data.result);
                        return; /* the handle may be gone: read the rest on the next event */
                }
}

static void start_phase(EtcdWatch *w, Phase p) {
        const char *path = p == PHASE_AUTH ? "/v3/auth/authenticate" : p == PHASE_RANGE ? "/v3/kv/range" : "/v3/watch";
        int r;

        request_done(w);
        w->phase = p;
        r = p == PHASE_AUTH    ? etcd_auth_body(w->conf.username, strempty(w->conf.password), &w->request_body)
            : p == PHASE_RANGE ? etcd_range_body(w->conf.prefix, &w->request_body)
                               : etcd_watch_body(w->conf.prefix, w->view->revision + 1, &w->request_body);
        if (r < 0)
                return fail(w, "cannot make the request: %s", strerror(-r));
        w->headers = headers_new(p == PHASE_AUTH ? NULL : w->token);
        w->easy = w->headers ? easy_new(&w->conf, w->conf.endpoints[w->endpoint], path, w->request_body, w->headers,
                                        p == PHASE_WATCH ? 0 : REQUEST_TIMEOUT_MS, w->errbuf)
                             : NULL;
        if (!w->easy)
                return fail(w, "cannot set up the request");
        if (p == PHASE_WATCH) {
                curl_easy_setopt(w->easy, CURLOPT_WRITEFUNCTION, on_watch_data);
                curl_easy_setopt(w->easy, CURLOPT_WRITEDATA, w);
        } else {
                curl_easy_setopt(w->easy, CURLOPT_WRITEFUNCTION, on_body);
                w->answer = (Answer){ &w->buf, &w->len, &w->overflow, ETCD_BODY_MAX };
                curl_easy_setopt(w->easy, CURLOPT_WRITEDATA, &w->answer);
        }
        if (curl_multi_add_handle(w->multi, w->easy) != CURLM_OK)
                return fail(w, "cannot start the request");
}

static void start(EtcdWatch *w) {
        if (!w->view && !(w->view = etcd_view_new(w->conf.prefix)))
                return fail(w, "out of memory");
        start_phase(w, w->conf.username ? PHASE_AUTH : PHASE_RANGE);
}

static void on_backoff(struct ev_loop *loop, ev_timer *t, int revents) {
        (void) loop;
        (void) revents;
        start(t->data);
}

static void on_sock(struct ev_loop *loop, ev_io *io, int revents) {
        Sock *s = io->data;
        EtcdWatch *w = s->w;
        int running;

        (void) loop;
        curl_multi_socket_action(w->multi, io->fd,
                                 (revents & EV_READ ? CURL_CSELECT_IN : 0) | (revents & EV_WRITE ? CURL_CSELECT_OUT : 0),
                                 &running);
        check_done(w);
}

static void on_curl_timer(struct ev_loop *loop, ev_timer *t, int revents) {
        EtcdWatch *w = t->data;
        int running;

        (void) loop;
        (void) revents;
        curl_multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        check_done(w);
}

static int curl_socket_cb(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp) {
        EtcdWatch *w = userp;
        Sock *s = socketp;

        (void) e;
        if (what == CURL_POLL_REMOVE) {
                if (s) {
                        ev_io_stop(w->loop, &s->io);
                        free(s);
                        curl_multi_assign(w->multi, fd, NULL);
                }
                return 0;
        }
        if (!s) {
                s = calloc(1, sizeof(Sock));
                if (!s)
                        return -1;
                s->w = w;
                s->io.data = s;
                curl_multi_assign(w->multi, fd, s);
        } else
                ev_io_stop(w->loop, &s->io);
        ev_io_init(&s->io, on_sock, fd, (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0));
        ev_io_start(w->loop, &s->io);
        return 0;
}

static int curl_timer_cb(CURLM *m, long timeout_ms, void *userp) {
        EtcdWatch *w = userp;

        (void) m;
        ev_timer_stop(w->loop, &w->curl_timer);
        if (timeout_ms >= 0) {
                ev_timer_set(&w->curl_timer, (double) timeout_ms / 1000., 0.);
                ev_timer_start(w->loop, &w->curl_timer);
        }
        return 0;
}

int etcdwatch_new(struct ev_loop *loop, const EtcdWatchConf *conf, EtcdWatchChanged changed, EtcdWatchState state,
                  void *userdata, EtcdWatch **ret) {
        EtcdWatch *w = calloc(1, sizeof(EtcdWatch));
        int r;

        *ret = NULL;
        if (!w)
                return -ENOMEM;
        w->loop = loop;
        w->changed = changed;
        w->state = state;
        w->userdata = userdata;
        ev_init(&w->curl_timer, on_curl_timer);
        w->curl_timer.data = w;
        ev_init(&w->backoff, on_backoff);
        w->backoff.data = w;
        r = conf_copy(conf, &w->conf);
        if (r < 0 || !(w->multi = curl_multi_init()) ||
            curl_multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION, curl_socket_cb) != CURLM_OK ||
            curl_multi_setopt(w->multi, CURLMOPT_SOCKETDATA, w) != CURLM_OK ||
            curl_multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb) != CURLM_OK ||
            curl_multi_setopt(w->multi, CURLMOPT_TIMERDATA, w) != CURLM_OK) {
                etcdwatch_free(w);
                return r < 0 ? r : -ENOMEM;
        }
        start(w);
        *ret = w;
        return 0;
}

EtcdWatch *etcdwatch_free(EtcdWatch *w) {
        if (!w)
                return NULL;
        request_done(w); /* removing the handle closes its sockets: their watchers are stopped and freed */
        ev_timer_stop(w->loop, &w->curl_timer);
        ev_timer_stop(w->loop, &w->backoff);
        if (w->multi)
                curl_multi_cleanup(w->multi);
        if (w->token)
                explicit_bzero(w->token, strlen(w->token));
        free(w->token);
        etcd_view_free(w->view);
        etcdwatch_conf_done(&w->conf);
        free(w);
        return NULL;
}

EtcdView *etcdwatch_view(EtcdWatch *w) {
        return w && w->view && (w->up || w->view->revision > 0) ? w->view : NULL;
}

bool etcdwatch_up(const EtcdWatch *w) {
        return w && w->up;
}

/* ---- one read, blocking ------------------------------------------------------------------------------ */

/* POST PATH with BODY at ENDPOINT, the answer into *BUF; -EIO with *WHY on failure. */
static int post_once(const EtcdWatchConf *c, const char *endpoint, const char *path, const char *body,
                     const char *token, int timeout_ms, char **buf, size_t *len, char *why, size_t why_size) {
        char errbuf[CURL_ERROR_SIZE];
        struct curl_slist *h = headers_new(token);
        bool overflow = false;
        Answer a = { buf, len, &overflow, ETCD_BODY_MAX };
        CURL *e = h ? easy_new(c, endpoint, path, body, h, timeout_ms, errbuf) : NULL;
        long status = 0;
        CURLcode rc;

        *buf = NULL;
        *len = 0;
        if (!e) {
                curl_slist_free_all(h);
                snprintf(why, why_size, "cannot set up the request");
                return -ENOMEM;
        }
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, &a);
        rc = curl_easy_perform(e);
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(e);
        curl_slist_free_all(h);
        if (rc == CURLE_OK && status == 200)
                return 0;
        describe(rc, status, errbuf, overflow, *buf, why, why_size);
        return -EIO;
}

int etcd_read_once(const EtcdWatchConf *c, int timeout_ms, EtcdView **ret, char **ret_error) {
        char why[400] = "no endpoint";
        int r = -EINVAL;

        *ret = NULL;
        *ret_error = NULL;
        for (size_t i = 0; i < c->n_endpoints; i++) {
                _cleanup_free_ char *body = NULL, *answer = NULL, *token = NULL, *err = NULL;
                size_t len;
                if (c->username) {
                        r = etcd_auth_body(c->username, strempty(c->password), &body);
                        if (r >= 0)
                                r = post_once(c, c->endpoints[i], "/v3/auth/authenticate", body, NULL, timeout_ms,
                                              &answer, &len, why, sizeof(why));
                        if (body)
                                explicit_bzero(body, strlen(body));
                        if (r >= 0 && etcd_decode_token(answer, len, &token) < 0) {
                                snprintf(why, sizeof(why), "authentication: no token in etcd's answer");
                                r = -EIO;
                        }
                        free(body);
                        body = NULL;
                        free(answer);
                        answer = NULL;
                        if (r < 0)
                                continue;
                }
                r = etcd_range_body(c->prefix, &body);
                if (r >= 0)
                        r = post_once(c, c->endpoints[i], "/v3/kv/range", body, token, timeout_ms, &answer, &len, why,
                                      sizeof(why));
                if (r < 0)
                        continue;
                EtcdView *v = etcd_view_new(c->prefix);
                if (!v)
                        return -ENOMEM;
                r = etcd_decode_range(v, answer, len, &err);
                if (r >= 0) {
                        *ret = v;
                        return 0;
                }
                etcd_view_free(v);
                snprintf(why, sizeof(why), "%s", err ? err : "out of memory");
        }
        return error_set(ret_error, r < 0 ? r : -EIO, "%s: %s", c->n_endpoints ? c->endpoints[c->n_endpoints - 1] : "etcd",
                         why);
}
