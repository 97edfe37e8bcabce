/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "fsutil.h"
#include "generate.h"
#include "log.h"
#include "macro.h"
#include "patroniconf.h"
#include "tlsca.h"
#include "tlscert.h"
#include "envconf.h"

void gen_error_done(GenError *e) {
        free(e->message);
        *e = (GenError){};
}

void gen_output_done(GenOutput *o) {
        patroniconf_done(&o->conf);
        free(o->config);
        free(o->vip);
        *o = (GenOutput){};
}

_printf_(3, 4) static int gen_fail(GenError *err, GenStatus status, const char *fmt, ...) {
        va_list ap;

        gen_error_done(err);
        err->status = status;
        va_start(ap, fmt);
        if (vasprintf(&err->message, fmt, ap) < 0)
                err->message = NULL;
        va_end(ap);
        return -EINVAL;
}

/* Take over a message from a lower module (which already names file and line). */
static int gen_fail_take(GenError *err, GenStatus status, int r, char *message, const char *fallback) {
        gen_error_done(err);
        if (r == -ENOMEM) {
                free(message);
                err->status = GEN_FAILED;
                err->message = strdup("out of memory");
                return r;
        }
        err->status = status;
        err->message = message ? message : strdup(fallback);
        return r < 0 ? r : -EINVAL;
}

int gen_config_name(const char *version, const char *cluster, const char *suffix, char *buf, size_t size) {
        if (!pgcommon_version_valid(version) || !pgcommon_cluster_name_valid(cluster))
                return -EINVAL;
        if ((size_t) snprintf(buf, size, "%s-%s%s", version, cluster, suffix) >= size)
                return -ENAMETOOLONG;
        return 0;
}

GenInputs *gen_inputs_free(GenInputs *in) {
        if (!in)
                return NULL;
        template_free(in->config_template);
        template_free(in->vip_template);
        dcs_config_free(in->dcs);
        free(in->dcs_error);
        free(in->dcs_canonical);
        free(in->datadir_base);
        free(in->root_path);
        pgcluster_list_free(in->clusters);
        for (size_t i = 0; i < in->n_api_ports; i++)
                free(in->api_ports[i].file);
        free(in->api_ports);
        free(in);
        return NULL;
}

/* The admin's template in /etc/patroni if there is one, else ours. */
static int load_template(GenInputs *in, const char *override, const char *in_root, const char *fallback,
                         TemplateKind kind, Template **ret, GenError *err) {
        _cleanup_free_ char *text = NULL, *msg = NULL;
        const char *path = override;
        size_t size;
        int r;

        if (!path && kind == TEMPLATE_CONFIG && in->paths.settings_template) {
                /* The settings name a file on the host they configure: below the root, no final symlink. */
                path = in->paths.settings_template;
                r = fs_read_in_root(in->rootfd, path, true, &text, &size);
                if (r < 0)
                        return gen_fail(err, GEN_INVALID_INPUT, "%s (template: in %s): cannot read: %s", path,
                                        SETTINGS_PATH, fs_describe_error(r));
        }
        if (!path) {
                r = fs_read_in_root(in->rootfd, in_root, true, &text, &size);
                if (r >= 0)
                        path = in_root;
                else if (r != -ENOENT)
                        return gen_fail(err, GEN_INVALID_INPUT, "%s: cannot read: %s", in_root, fs_describe_error(r));
                else if (!fallback)
                        return gen_fail(err, GEN_INVALID_INPUT, "%s: no template", in_root);
                else
                        path = fallback;
        }
        if (!text) {
                /* Given on the command line or installed by us: a path on this machine, not in --root. */
                _cleanup_close_ int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
                r = fd < 0 ? negative_errno() : fs_read_fd(fd, &text, &size);
                if (r < 0)
                        return gen_fail(err, GEN_INVALID_INPUT, "%s: cannot read template: %s", path,
                                        fs_describe_error(r));
        }
        r = template_parse(path, text, size, kind, ret, &msg);
        if (r < 0)
                return gen_fail_take(err, GEN_INVALID_INPUT, r, TAKE_PTR(msg), "invalid template");
        return 0;
}

static int add_api_port(GenInputs *in, const char *file, int port, int pg_port) {
        ApiPort *p = reallocarray(in->api_ports, in->n_api_ports + 1, sizeof(ApiPort));
        if (!p)
                return -ENOMEM;
        in->api_ports = p;
        p[in->n_api_ports].port = port;
        p[in->n_api_ports].pg_port = pg_port;
        if (!(p[in->n_api_ports].file = strdup(file)))
                return -ENOMEM;
        in->n_api_ports++;
        return 0;
}

static bool api_port_taken(const GenInputs *in, int port, const char *self) {
        for (size_t i = 0; i < in->n_api_ports; i++)
                if (in->api_ports[i].port == port && !streq(in->api_ports[i].file, self))
                        return true;
        return false;
}

/* Another configuration's PostgreSQL port (a replica before its clone has no cluster yet to say it). */
static const char *pg_port_taken(const GenInputs *in, int port, const char *self) {
        for (size_t i = 0; i < in->n_api_ports; i++)
                if (in->api_ports[i].pg_port == port && !streq(in->api_ports[i].file, self))
                        return in->api_ports[i].file;
        return NULL;
}

/*
 * One pass over /etc/patroni: the REST API ports the configurations there
 * listen on (unreadable ones are skipped), and stale temporary files removed.
 */
static int scan_patroni_dir(GenInputs *in) {
        _cleanup_close_ int fd = fs_open_in_root(in->rootfd, PATRONI_DIR, O_RDONLY | O_DIRECTORY, true);
        struct dirent *de;
        DIR *d;
        int r = 0;

        if (fd < 0)
                return 0;
        d = fdopendir(fd);
        if (!d)
                return negative_errno();
        int dfd = TAKE_FD(fd);

        while ((de = readdir(d)) && r >= 0) {
                _cleanup_close_ int f = -1;
                _cleanup_free_ char *text = NULL, *msg = NULL;
                PatroniConf c = {};
                size_t size;

                if (fs_is_temp_name(de->d_name)) {
                        struct stat st;
                        if (!in->paths.keep_temp_files && fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISREG(st.st_mode) &&
                            st.st_mtime + (time_t) in->paths.temp_max_age_s <= time(NULL) &&
                            unlinkat(dfd, de->d_name, 0) >= 0)
                                log_notice("Removed %s/%s, left by an interrupted write.", PATRONI_DIR, de->d_name);
                        continue;
                }
                if (de->d_name[0] == '.' || !endswith(de->d_name, ".yml") || streq(de->d_name, "dcs.yml"))
                        continue;
                f = openat(dfd, de->d_name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
                if (f < 0 || fs_read_fd(f, &text, &size) < 0)
                        continue;
                if (patroniconf_parse(text, size, false, &c, &msg) >= 0 && (c.restapi_port > 0 || c.postgresql_port > 0))
                        r = add_api_port(in, de->d_name, c.restapi_port, c.postgresql_port);
                patroniconf_done(&c);
        }
        closedir(d);
        return r;
}

int gen_inputs_load(int rootfd, const char *root_path, const GenPaths *paths, GenInputs **ret, GenError *err) {
        _cleanup_(gen_inputs_freep) GenInputs *in = calloc(1, sizeof(GenInputs));
        _cleanup_free_ char *msg = NULL;
        int r;

        if (!in)
                return gen_fail(err, GEN_FAILED, "out of memory");
        in->rootfd = rootfd;
        in->paths = *paths;
        if (!(in->root_path = strdup(root_path ? root_path : "/")))
                return gen_fail(err, GEN_FAILED, "out of memory");

        r = load_template(in, paths->template, PATRONI_TEMPLATE, paths->default_template, TEMPLATE_CONFIG,
                          &in->config_template, err);
        if (r < 0)
                return r;

        r = dcs_load(rootfd, &in->dcs, &msg);
        if (r == -ENOMEM)
                return gen_fail(err, GEN_FAILED, "out of memory");
        if (r < 0) {
                if (template_uses_dcs(in->config_template))
                        return gen_fail_take(err, GEN_INVALID_INPUT, r, TAKE_PTR(msg), "invalid DCS configuration");
                in->dcs_error = TAKE_PTR(msg);
        } else if (template_uses_dcs(in->config_template) && dcs_canonical(in->dcs, &in->dcs_canonical) < 0)
                return gen_fail(err, GEN_FAILED, "out of memory");

        r = pgcommon_datadir_base(rootfd, &in->datadir_base, &msg);
        if (r < 0)
                return gen_fail_take(err, GEN_INVALID_INPUT, r, TAKE_PTR(msg), "invalid createcluster.conf");

        r = pgcommon_scan(rootfd, &(PgScanOptions){ .cancel = paths->cancel, .userdata = paths->cancel_userdata },
                          &in->clusters);
        if (r == -ECANCELED)
                return gen_fail(err, GEN_FAILED, "stopped while reading the clusters");
        if (r < 0)
                return gen_fail(err, GEN_FAILED, "cannot list %s: %s", PGCOMMON_CONF_DIR, strerror(-r));

        r = scan_patroni_dir(in);
        if (r < 0)
                return gen_fail(err, GEN_FAILED, "cannot list %s: %s", PATRONI_DIR, strerror(-r));

        if (gethostname(in->hostname, sizeof(in->hostname)) < 0)
                return gen_fail(err, GEN_FAILED, "cannot get the host name: %m");
        r = hostinfo_default_address(&in->host);
        if (r < 0)
                return gen_fail(err, GEN_FAILED, "cannot list network addresses: %s", strerror(-r));

        if (geteuid() == 0) {
                struct group *g = getgrnam("postgres");
                if (!g)
                        return gen_fail(err, GEN_FAILED,
                                        "group postgres does not exist (is postgresql-common installed?)");
                in->chown = true;
                in->postgres_gid = g->gr_gid;
        }

        *ret = TAKE_PTR(in);
        return 0;
}

/* NAME's ports noted, once. */
static int note_ports(GenInputs *in, const char *name, int port, int pg_port) {
        for (size_t i = 0; i < in->n_api_ports; i++)
                if (in->api_ports[i].port == port && in->api_ports[i].pg_port == pg_port &&
                    streq(in->api_ports[i].file, name))
                        return 0;
        return port > 0 || pg_port > 0 ? add_api_port(in, name, port, pg_port) : 0;
}

void gen_inputs_note_api_port(GenInputs *in, const char *name, int port, int pg_port) {
        (void) note_ports(in, name, port, pg_port); /* best effort: only steers later choices */
}

static bool port_used_by_other(const GenInputs *in, int port, const char *version, const char *name,
                               const PgCluster **ret) {
        for (size_t i = 0; i < in->clusters->n; i++) {
                const PgCluster *c = &in->clusters->clusters[i];
                int p = c->port ? c->port : PGCOMMON_DEFAULT_PORT;
                if (p == port && !(streq(c->version, version) && streq(c->name, name))) {
                        *ret = c;
                        return true;
                }
        }
        return false;
}

static int choose_port(const GenInputs *in, const GenRequest *req, const PgCluster *self, const char *name,
                       GenError *err) {
        const PgCluster *other;
        int highest = 0;

        if (req->port) {
                if (req->port < 1 || req->port > 65535 - API_PORT_OFFSET)
                        return gen_fail(err, GEN_BAD_REQUEST, "port %d is out of range (1-%d)", req->port,
                                        65535 - API_PORT_OFFSET);
                if (!req->port_or_next) {
                        if (port_used_by_other(in, req->port, req->version, req->cluster, &other))
                                return gen_fail(err, GEN_INVALID_INPUT, "port %d is already used by cluster %s/%s",
                                                req->port, other->version, other->name);
                        return req->port;
                }
                for (int p = req->port; p <= 65535 - API_PORT_OFFSET; p++)
                        if (!port_used_by_other(in, p, req->version, req->cluster, &other) && !pg_port_taken(in, p, name))
                                return p;
                return gen_fail(err, GEN_INVALID_INPUT, "no free port from %d on", req->port);
        }
        if (self)
                return self->port ? self->port : PGCOMMON_DEFAULT_PORT; /* what pg-common uses */
        for (size_t i = 0; i < in->clusters->n; i++) {
                int p = in->clusters->clusters[i].port ? in->clusters->clusters[i].port : PGCOMMON_DEFAULT_PORT;
                if (p > highest)
                        highest = p;
        }
        return highest ? highest + 1 : PGCOMMON_DEFAULT_PORT;
}

/* Host address and network: --hostip/--network, else HOSTIP=/NETWORK=, else this host's. */
static int choose_address(GenInputs *in, const GenRequest *req, char *ip, size_t ipsize, char *net, size_t netsize,
                          bool *ret_loopback, GenError *err) {
        const char *want_ip = req->hostip ? req->hostip : in->dcs ? in->dcs->hostip : NULL;
        const char *want_net = req->network ? req->network : in->dcs ? in->dcs->network : NULL;
        char canon[INET6_ADDRSTRLEN], scratch[INET6_ADDRSTRLEN + 4];
        int family = in->host.family;
        HostAddr local;

        *ret_loopback = false;
        if (want_ip) {
                if (hostinfo_parse_address(want_ip, canon, sizeof(canon), &family) < 0)
                        return gen_fail(err, req->hostip ? GEN_BAD_REQUEST : GEN_INVALID_INPUT,
                                        "invalid host address \"%s\"%s", want_ip,
                                        req->hostip ? "" : " (HOSTIP= in " DCS_DEFAULTS ")");
        } else {
                snprintf(canon, sizeof(canon), "%s", in->host.address);
                *ret_loopback = in->host.loopback;
        }
        /* host:port needs brackets around an IPv6 address */
        snprintf(ip, ipsize, family == AF_INET6 ? "[%s]" : "%s", canon);

        if (want_net) {
                if (hostinfo_parse_network(want_net, scratch, sizeof(scratch)) < 0)
                        return gen_fail(err, req->network ? GEN_BAD_REQUEST : GEN_INVALID_INPUT,
                                        "invalid network \"%s\" (expected ADDRESS/PREFIX)%s", want_net,
                                        req->network ? "" : " (NETWORK= in " DCS_DEFAULTS ")");
                snprintf(net, netsize, "%s", want_net); /* as the admin wrote it */
        } else if (!want_ip)
                snprintf(net, netsize, "%s", in->host.network);
        else if (hostinfo_address_network(canon, &local) >= 0)
                snprintf(net, netsize, "%s", local.network);
        else
                snprintf(net, netsize, "%s/%u", canon, family == AF_INET6 ? 128 : 32);
        return 0;
}

static int render_vip(GenInputs *in, const GenRequest *req, const PatroniConf *pc, GenOutput *out,
                      GenError *err) {
        char vip[INET6_ADDRSTRLEN], mask[8], key[512];
        const char *values[_PH_VIP_MAX] = {};
        _cleanup_free_ char *msg = NULL;
        const char *endpoint, *type;
        HostAddr net;
        int r;

        if (hostinfo_parse_address(req->vip, vip, sizeof(vip), NULL) < 0)
                return gen_fail(err, GEN_BAD_REQUEST, "invalid VIP address \"%s\"", req->vip);
        if (!in->vip_template) {
                r = load_template(in, NULL, PATRONI_VIP_TEMPLATE, in->paths.default_vip_template, TEMPLATE_VIP,
                                  &in->vip_template, err);
                if (r < 0)
                        return r;
        }
        if (hostinfo_address_network(vip, &net) < 0) {
                if (in->host.loopback)
                        return gen_fail(err, GEN_INVALID_INPUT,
                                        "no network interface for VIP %s: no interface has an address in its network",
                                        vip);
                net = in->host;
        }
        endpoint = req->endpoint ? req->endpoint : in->dcs ? in->dcs->endpoints : NULL;
        if (!endpoint)
                return gen_fail(err, GEN_INVALID_INPUT,
                                "DCS endpoint URL cannot be derived from %s, pass --endpoint=URL",
                                in->dcs ? in->dcs->source : DCS_YML);
        snprintf(mask, sizeof(mask), "%u", net.prefix);
        /* The leader key Patroni really uses: namespace + scope + "/leader". */
        snprintf(key, sizeof(key), "%s%s/leader", pc->namespace, strempty(pc->scope));

        values[PH_VIP_IP] = vip;
        values[PH_VIP_MASK] = mask;
        values[PH_VIP_IFACE] = net.iface;
        values[PH_VIP_KEY] = key;
        values[PH_VIP_HOST] = pc->name ? pc->name : in->hostname;
        /* vip-manager knows "etcd" (v3 API) and "consul". */
        type = pc->dcs_type ? pc->dcs_type : in->dcs ? in->dcs->type : "";
        if (streq(type, "etcd3"))
                type = "etcd";
        if (!streq(type, "etcd") && !streq(type, "consul"))
                return gen_fail(err, GEN_INVALID_INPUT, "vip-manager supports etcd and consul, not \"%s\"", type);
        values[PH_VIP_TYPE] = type;
        values[PH_VIP_ENDPOINT] = endpoint;

        static const char header[] =
                "# The environment of vip-manager@VERSION-CLUSTER.service (Debian's vip-manager reads this file as its\n"
                "# EnvironmentFile=), generated by patroni-debianctl. No secret: the DCS password comes from\n"
                "# /etc/patroni/env.conf when the unit starts (patroni-debiand's drop-in for vip-manager@.service).\n";
        _cleanup_free_ char *rendered = NULL, *env = NULL;
        size_t rsize, esize = 0;
        if (template_is_env(in->vip_template))
                r = template_render(in->vip_template, values, NULL, header, &env, &esize, &msg);
        else {
                r = template_render(in->vip_template, values, NULL, NULL, &rendered, &rsize, &msg);
                if (r >= 0)
                        r = template_vip_env_from_yaml(template_path(in->vip_template), rendered, rsize, header, &env,
                                                       &esize, &msg);
        }
        if (r < 0)
                return gen_fail_take(err, GEN_INVALID_INPUT, r, TAKE_PTR(msg), "cannot render the VIP template");

        /* The DCS's TLS files and user, as the Patroni configuration has them, where the template set none. */
        const char *tls[][2] = { { "VIP_ETCD_CA_FILE", pc->dcs_cacert }, { "VIP_ETCD_CERT_FILE", pc->dcs_cert },
                                 { "VIP_ETCD_KEY_FILE", pc->dcs_key }, { "VIP_ETCD_USER", pc->dcs_username } };
        FILE *f = open_memstream(&out->vip, &out->vip_size);
        if (!f)
                return gen_fail(err, GEN_FAILED, "out of memory");
        fwrite(env, 1, esize, f);
        for (size_t i = 0; i < ELEMENTSOF(tls) && r >= 0; i++) {
                char line[64];
                snprintf(line, sizeof(line), "\n%s=", tls[i][0]);
                if (tls[i][1] && !strstr(env, line) && !startswith(env, line + 1))
                        r = template_env_quote(f, tls[i][0], tls[i][1]);
        }
        if (fclose(f) != 0 && r >= 0)
                r = -ENOMEM;
        if (r < 0) {
                free(out->vip);
                out->vip = NULL;
                return r == -ENOMEM ? gen_fail(err, GEN_FAILED, "out of memory")
                                    : gen_fail(err, GEN_INVALID_INPUT, "a DCS file name holds a control character");
        }
        return gen_config_name(req->version, req->cluster, ".vip", out->vip_name, sizeof(out->vip_name));
}

/* What is at /etc/patroni/NAME: 0 nothing, 1 a file or an admin's symlink, or -EISDIR/-EBADFD. */
static int target_kind(GenInputs *in, const char *name) {
        _cleanup_close_ int fd = fs_open_in_root(in->rootfd, PATRONI_DIR, O_RDONLY | O_DIRECTORY, true);
        struct stat st;

        if (fd < 0 || fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return 0;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
                return -EBADFD;
        return 1;
}

/* Later renders in this process must see the port as taken (a replaced file keeps its entry). */
static int remember_api_port(GenInputs *in, const GenOutput *out, GenError *err) {
        if (note_ports(in, out->name, out->restapi_port, out->port) < 0)
                return gen_fail(err, GEN_FAILED, "out of memory");
        return 0;
}

void gen_paths_from_settings(GenPaths *paths, const Settings *s) {
        paths->settings_template = s->template;
        paths->tls = (HardenTls){ s->tls_ca, s->tls_cert, s->tls_key };
        paths->clients = (HardenClients){ s->client_networks, s->n_client_networks };
}

HardenTls gen_tls(const GenInputs *in) {
        const HardenTls *t = &in->paths.tls;
        if (t->ca && t->cert && t->key)
                return *t;
        return (HardenTls){ TLS_CA_FILE, TLS_CERT_FILE, TLS_KEY_FILE };
}

/* Does the tls: setting name the admin's own files? */
static bool own_tls(const GenHost *h) {
        return h->tls.ca && h->tls.cert && h->tls.key;
}

/* ADDR (text) into LIST if it is an IP address not there yet. */
static void add_address(char (*list)[INET6_ADDRSTRLEN], size_t *n, size_t max, const char *addr) {
        unsigned char buf[sizeof(struct in6_addr)];
        if (*n >= max || (inet_pton(AF_INET, addr, buf) != 1 && inet_pton(AF_INET6, addr, buf) != 1))
                return;
        for (size_t i = 0; i < *n; i++)
                if (streq(list[i], addr))
                        return;
        memcpy(list[(*n)++], addr, strlen(addr) + 1); /* it parsed: it fits */
}

/* Only the TLS files; SEED: env.conf's CA seed as the caller read it, or NULL. */
static int host_tls(const GenHost *h, const char *const *peers, size_t n_peers, const char *seed, char **ret_tls,
                    char **ret_error) {
        _cleanup_free_ char *error = NULL;
        int r;

        *ret_tls = *ret_error = NULL;
        const HardenTls *t = &h->tls;
        if (own_tls(h)) {
                /* The admin's: only checked. */
                const char *files[][2] = { { "ca", t->ca }, { "cert", t->cert } };
                for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                        TlsCert c;
                        r = tlscert_load(h->rootfd, files[i][1], &c, &error);
                        if (r < 0) {
                                if ((error ? asprintf(ret_error, "tls: %s: %s", files[i][0], error)
                                           : asprintf(ret_error, "tls: %s %s: %s", files[i][0], files[i][1],
                                                      fs_describe_error(r))) < 0)
                                        *ret_error = NULL;
                                return r;
                        }
                }
                _cleanup_close_ int fd = fs_open_in_root(h->rootfd, t->key, O_RDONLY, false);
                if (fd < 0) {
                        if (asprintf(ret_error, "tls: key %s: %s", t->key, fs_describe_error(fd)) < 0)
                                *ret_error = NULL;
                        return fd;
                }
                return 0;
        }

        char addrs[32][INET6_ADDRSTRLEN];
        const char *list[33];
        size_t n = hostinfo_global_addresses(addrs, ELEMENTSOF(addrs) - 1);
        /* The address each configuration gives its peers (--hostip may name one of no interface here). */
        for (size_t i = 0; i < n_peers; i++) {
                char host[300];
                if (peers[i] && tlscert_host_of(peers[i], host, sizeof(host)) >= 0)
                        add_address(addrs, &n, ELEMENTSOF(addrs), host);
        }
        for (size_t i = 0; i < n; i++)
                list[i] = addrs[i];
        list[n] = NULL;
        TlsCaHost ca = { .hostname = h->hostname, .addresses = list, .n_addresses = n, .uid = 0,
                         .key_gid = h->postgres_gid, .chown = h->chown, .seed = seed };
        r = tlsca_ensure(h->rootfd, &ca, ret_tls, ret_error);
        return r < 0 ? r : 0;
}

int gen_host_prepare(const GenHost *h, const char *const *peers, size_t n_peers, char **ret_secrets, char **ret_tls,
                     char **ret_error) {
        /* One read and at most one rewrite of env.conf: the REST API's credentials, and the CA's seed unless
         * the tls: setting names the admin's files. */
        static const EnvDefault keys[] = {
                { "PATRONI_RESTAPI_USERNAME", ENVCONF_RESTAPI_USER },
                { "PATRONI_RESTAPI_PASSWORD", NULL },
                { TLSCA_SEED_KEY, NULL },
        };
        _cleanup_(envconf_freep) char **env = NULL;
        _cleanup_free_ char *error = NULL;
        int r;

        *ret_secrets = *ret_tls = *ret_error = NULL;
        r = envconf_add_missing(h->rootfd, keys, ELEMENTSOF(keys) - own_tls(h), ret_secrets, &env, &error);
        if (r < 0) {
                if (asprintf(ret_error, "%s: %s", PATRONI_ENV_CONF, error ? error : fs_describe_error(r)) < 0)
                        *ret_error = NULL;
                return r;
        }
        /* The seed (last, so the end of the list) is said with the TLS files it made, not as the REST API's. */
        char *seed_added = *ret_secrets ? strstr(*ret_secrets, TLSCA_SEED_KEY) : NULL;
        if (seed_added) {
                *seed_added = 0;
                if (seed_added >= *ret_secrets + 2)
                        seed_added[-2] = 0; /* ", " */
                if (!**ret_secrets) {
                        free(*ret_secrets);
                        *ret_secrets = NULL;
                }
        }
        return host_tls(h, peers, n_peers, own_tls(h) ? NULL : envconf_get(env, TLSCA_SEED_KEY), ret_tls, ret_error);
}

int gen_host_tls(const GenHost *h, const char *const *peers, size_t n_peers, char **ret_tls, char **ret_error) {
        return host_tls(h, peers, n_peers, NULL, ret_tls, ret_error);
}

int gen_host_init(int rootfd, const HardenTls *tls, GenHost *ret, char **ret_error) {
        *ret = (GenHost){ .rootfd = rootfd, .tls = *tls };
        *ret_error = NULL;
        if (gethostname(ret->hostname, sizeof(ret->hostname)) < 0)
                return asprintf(ret_error, "cannot get the host name: %m") < 0 ? -ENOMEM : -errno;
        if (geteuid() == 0) {
                struct group *g = getgrnam("postgres");
                if (!g)
                        return asprintf(ret_error, "group postgres does not exist (is postgresql-common installed?)") < 0
                                       ? -ENOMEM
                                       : -ENOENT;
                ret->chown = true;
                ret->postgres_gid = g->gr_gid;
        }
        return 0;
}

void gen_host_of(const GenInputs *in, GenHost *ret) {
        *ret = (GenHost){ .rootfd = in->rootfd, .tls = in->paths.tls, .postgres_gid = in->postgres_gid,
                          .chown = in->chown };
        memcpy(ret->hostname, in->hostname, sizeof(ret->hostname));
}

int gen_prepare_host(GenInputs *in, const GenOutput *outs, size_t n_outs, char **ret_secrets, char **ret_tls,
                     char **ret_error) {
        _cleanup_free_ const char **peers = calloc(n_outs ? n_outs : 1, sizeof(char *));
        GenHost h;

        if (!peers)
                return -ENOMEM;
        gen_host_of(in, &h);
        for (size_t i = 0; i < n_outs; i++)
                peers[i] = outs[i].conf.restapi_address;
        return gen_host_prepare(&h, peers, n_outs, ret_secrets, ret_tls, ret_error);
}

int gen_render(GenInputs *in, const GenRequest *req, GenOutput *out, GenError *err) {
        char ip[INET6_ADDRSTRLEN + 2], net[INET6_ADDRSTRLEN + 8], port[8], api_port[8], header[512];
        _cleanup_free_ char *listen_vip = NULL, *msg = NULL;
        const char *values[_PH_CONFIG_MAX] = {};
        const PgCluster *self;
        PatroniConf pc = {};
        int r;

        *out = (GenOutput){};
        if (!pgcommon_version_valid(req->version))
                return gen_fail(err, GEN_BAD_REQUEST, "invalid version \"%s\"", req->version);
        if (!pgcommon_cluster_name_valid(req->cluster))
                return gen_fail(err, GEN_BAD_REQUEST, "invalid cluster name \"%s\" (letters, digits, '-', '_', '.'; not starting with '.')",
                                req->cluster);
        if (!pgcommon_have_binaries(in->rootfd, req->version))
                return gen_fail(err, GEN_NO_VERSION, "no PostgreSQL %s binaries (/usr/lib/postgresql/%s/bin not found)",
                                req->version, req->version);
        r = gen_config_name(req->version, req->cluster, ".yml", out->name, sizeof(out->name));
        if (r < 0)
                return gen_fail(err, GEN_BAD_REQUEST, "invalid cluster name \"%s\"", req->cluster);
        r = target_kind(in, out->name);
        if (r < 0)
                return gen_fail(err, GEN_WRITE_FAILED, "%s/%s %s, refusing to replace it", PATRONI_DIR, out->name,
                                r == -EISDIR ? "is a directory" : "is not a regular file");
        if (r > 0 && !req->force)
                return gen_fail(err, GEN_EXISTS, "%s/%s already exists (use --force to replace it)", PATRONI_DIR,
                                out->name);

        self = req->facts ? req->facts : pgcluster_list_find(in->clusters, req->version, req->cluster);
        if (self && self->error)
                return gen_fail(err, GEN_INVALID_INPUT, "%s", self->error);

        out->port = choose_port(in, req, self, out->name, err);
        if (out->port < 0)
                return out->port;
        out->api_port = out->port + API_PORT_OFFSET;
        if (out->api_port > 65535)
                return gen_fail(err, GEN_INVALID_INPUT, "port %d gives REST API port %d, above 65535", out->port,
                                out->api_port);
        while (api_port_taken(in, out->api_port, out->name))
                if (++out->api_port > 65535)
                        return gen_fail(err, GEN_INVALID_INPUT, "no free REST API port above %d",
                                        out->port + API_PORT_OFFSET);
        if (out->api_port != out->port + API_PORT_OFFSET)
                log_notice("REST API port %d is used by another configuration in %s, using %d for %s/%s.",
                           out->port + API_PORT_OFFSET, PATRONI_DIR, out->api_port, req->version, req->cluster);

        r = choose_address(in, req, ip, sizeof(ip), net, sizeof(net), &out->loopback, err);
        if (r < 0)
                return r;

        if (req->vip && asprintf(&listen_vip, ",%s", req->vip) < 0)
                return gen_fail(err, GEN_FAILED, "out of memory");

        snprintf(port, sizeof(port), "%d", out->port);
        snprintf(api_port, sizeof(api_port), "%d", out->api_port);
        values[PH_VERSION] = req->version;
        values[PH_CLUSTER] = req->cluster;
        values[PH_HOSTNAME] = in->hostname;
        values[PH_HOSTIP] = ip;
        values[PH_NETWORK] = net;
        values[PH_PORT] = port;
        values[PH_API_PORT] = api_port;
        values[PH_DATADIR_BASE] = in->datadir_base;
        values[PH_LISTEN_VIP] = listen_vip ? listen_vip : "";

        snprintf(header, sizeof(header),
                 "# Generated by patroni-debiand " PACKAGE_VERSION " for PostgreSQL cluster %s/%s\n"
                 "# from %s and %s.\n"
                 "# Secrets are not kept here: patroni@.service reads PATRONI_* variables\n"
                 "# from " PATRONI_DIR "/env.conf. patroni-debiand never rewrites this file.\n",
                 req->version, req->cluster, template_path(in->config_template),
                 in->dcs ? in->dcs->source : "no DCS file");

        _cleanup_free_ char *rendered = NULL;
        size_t rendered_size;
        r = template_render(in->config_template, values, in->dcs ? &in->dcs->pairs : NULL, NULL, &rendered,
                            &rendered_size, &msg);
        if (r < 0)
                return gen_fail_take(err, GEN_INVALID_INPUT, r, TAKE_PTR(msg), "cannot render the template");

        /* Whatever the template says: TLS, pg_hba and secrets as harden.h has them. */
        HardenResult hr = {};
        HardenTls tls = gen_tls(in);
        _cleanup_free_ char *what = NULL;
        if (asprintf(&what, "%s: the rendered configuration for %s/%s is invalid", template_path(in->config_template),
                     req->version, req->cluster) < 0)
                return gen_fail(err, GEN_FAILED, "out of memory");
        r = harden_config(what, rendered, rendered_size, &tls, &in->paths.clients, header, &hr, &msg);
        if (r < 0)
                return gen_fail_take(err, GEN_INVALID_INPUT, r, TAKE_PTR(msg), "cannot make the configuration secure");
        out->config = TAKE_PTR(hr.text);
        out->config_size = hr.size;
        harden_result_done(&hr); /* secrets in a template are dropped: env.conf holds them */

        /* Check what would be written, as Patroni would read it. */
        r = patroniconf_parse(out->config, out->config_size, true, &pc, &msg);
        if (r < 0) {
                gen_fail(err, r == -ENOMEM ? GEN_FAILED : GEN_INVALID_INPUT,
                         "%s: the rendered configuration for %s/%s is invalid: %s", template_path(in->config_template),
                         req->version, req->cluster, msg ? msg : "out of memory");
                gen_output_done(out);
                return r;
        }
        out->restapi_port = pc.restapi_port;
        /* Reserve it now, so that the next render (in a batch, or after this write) picks another. */
        if (remember_api_port(in, out, err) < 0) {
                patroniconf_done(&pc);
                gen_output_done(out);
                return -ENOMEM;
        }

        if (self && self->data_directory) {
                /* The template decides data_dir; say so if it is not where this cluster's data is. */
                char expect[PATH_MAX];
                snprintf(expect, sizeof(expect), "%s/%s/%s", in->datadir_base, req->version, req->cluster);
                if (!streq(expect, self->data_directory) && strstr(out->config, expect))
                        log_warning("%s/%s keeps its data in %s, but the configuration says %s: check data_dir.",
                                    req->version, req->cluster, self->data_directory, expect);
        }

        if (req->vip) {
                r = render_vip(in, req, &pc, out, err);
                if (r < 0) {
                        patroniconf_done(&pc);
                        gen_output_done(out);
                        return r;
                }
        }
        out->conf = pc; /* what it says of itself, for whoever wrote it not to parse it again */
        return 0;
}

/* The namespace of the template rendered for VERSION/CLUSTER with placeholder values. */
static int namespace_for(GenInputs *in, const char *version, const char *cluster, char **ret, char **ret_error) {
        const char *values[_PH_CONFIG_MAX] = {
                [PH_VERSION] = version, [PH_CLUSTER] = cluster, [PH_HOSTNAME] = in->hostname,
                [PH_HOSTIP] = "192.0.2.1", [PH_NETWORK] = "192.0.2.0/24", [PH_PORT] = "5432",
                [PH_API_PORT] = "8008", [PH_DATADIR_BASE] = in->datadir_base, [PH_LISTEN_VIP] = "",
        };
        _cleanup_free_ char *text = NULL, *msg = NULL;
        PatroniConf pc = {};
        size_t size;
        int r;

        r = template_render(in->config_template, values, in->dcs ? &in->dcs->pairs : NULL, NULL, &text, &size, &msg);
        if (r >= 0)
                r = patroniconf_parse(text, size, false, &pc, &msg);
        if (r < 0)
                return error_set(ret_error, r, "%s: %s", template_path(in->config_template), msg ? msg : "out of memory");
        *ret = TAKE_PTR(pc.namespace);
        patroniconf_done(&pc);
        return *ret ? 0 : -ENOMEM;
}

int gen_namespace(GenInputs *in, char **ret, char **ret_error) {
        _cleanup_free_ char *a = NULL, *b = NULL;
        int r;

        *ret = *ret_error = NULL;
        r = namespace_for(in, "15", "main", &a, ret_error);
        if (r >= 0)
                r = namespace_for(in, "16", "other", &b, ret_error);
        if (r < 0)
                return r;
        if (!streq(a, b))
                return error_set(ret_error, -EINVAL, "%s: the namespace depends on the cluster (%s for 15/main, %s "
                                                     "for 16/other): joining watches one namespace",
                                 template_path(in->config_template), a, b);
        *ret = TAKE_PTR(a);
        return 0;
}

static int open_patroni_dir(GenInputs *in) {
        int fd = fs_open_in_root(in->rootfd, PATRONI_DIR, O_RDONLY | O_DIRECTORY, true);
        if (fd == -ENOENT) {
                _cleanup_close_ int etc = fs_open_in_root(in->rootfd, "/etc", O_RDONLY | O_DIRECTORY, true);
                if (etc < 0)
                        return etc;
                if (mkdirat(etc, "patroni", 0755) < 0 && errno != EEXIST)
                        return negative_errno();
                fd = fs_open_in_root(in->rootfd, PATRONI_DIR, O_RDONLY | O_DIRECTORY, true);
        }
        return fd;
}

static int write_error(const char *name, int r, GenError *err) {
        if (r == -EEXIST)
                return gen_fail(err, GEN_EXISTS, "%s/%s already exists (use --force to replace it)", PATRONI_DIR, name);
        if (r == -ELOOP)
                return gen_fail(err, GEN_WRITE_FAILED, "%s/%s is a symbolic link, refusing to replace it", PATRONI_DIR,
                                name);
        if (r == -EISDIR)
                return gen_fail(err, GEN_WRITE_FAILED, "%s/%s is a directory, refusing to replace it", PATRONI_DIR,
                                name);
        if (r == -EBADFD)
                return gen_fail(err, GEN_WRITE_FAILED, "%s/%s is not a regular file, refusing to replace it",
                                PATRONI_DIR, name);
        return gen_fail(err, GEN_WRITE_FAILED, "cannot write %s/%s: %s", PATRONI_DIR, name, fs_describe_error(r));
}

static FsWriteFlags write_flags(const GenInputs *in, bool force) {
        return (force ? FS_WRITE_REPLACE : 0) | (in->chown ? FS_WRITE_CHOWN : 0);
}

static int write_one(GenInputs *in, int dirfd, const char *name, const char *data, size_t size, bool force,
                     GenError *err) {
        int r = fs_write_atomic(dirfd, name, data, size, PATRONI_CONFIG_MODE, 0, in->postgres_gid,
                                write_flags(in, force));
        return r < 0 ? write_error(name, r, err) : 0;
}

size_t gen_write_many(GenInputs *in, const GenOutput *outs, size_t n, bool force, GenError *errs) {
        _cleanup_close_ int dirfd = open_patroni_dir(in);
        _cleanup_(fs_batch_freep) FsBatch *b = NULL;
        size_t failed = 0, *slot = NULL;

        for (size_t i = 0; i < n; i++)
                errs[i] = (GenError){};
        if (dirfd < 0 || !(b = fs_batch_new(dirfd)) || !(slot = calloc(n ? n : 1, sizeof(size_t)))) {
                for (size_t i = 0; i < n; i++)
                        gen_fail(&errs[i], GEN_WRITE_FAILED, "cannot open %s: %s", PATRONI_DIR,
                                 dirfd < 0 ? fs_describe_error(dirfd) : "out of memory");
                return n;
        }
        for (size_t i = 0; i < n; i++) {
                int r = fs_batch_add(b, outs[i].name, outs[i].config, outs[i].config_size, PATRONI_CONFIG_MODE, 0,
                                     in->postgres_gid, write_flags(in, force));
                slot[i] = r < 0 ? SIZE_MAX : b->n - 1;
                if (r < 0) {
                        write_error(outs[i].name, r, &errs[i]);
                        failed++;
                }
        }
        fs_batch_commit(b);
        for (size_t i = 0; i < n; i++) {
                if (slot[i] == SIZE_MAX)
                        continue;
                if (b->items[slot[i]].result < 0) {
                        write_error(outs[i].name, b->items[slot[i]].result, &errs[i]);
                        failed++;
                }
        }
        free(slot);
        return failed;
}

int gen_write(GenInputs *in, const GenOutput *out, bool force, GenError *err) {
        _cleanup_close_ int dirfd = open_patroni_dir(in);
        bool vip_created = false;
        int r;

        if (dirfd < 0)
                return gen_fail(err, GEN_WRITE_FAILED, "cannot open %s: %s", PATRONI_DIR, fs_describe_error(dirfd));

        if (out->vip) {
                struct stat st;
                vip_created = fstatat(dirfd, out->vip_name, &st, AT_SYMLINK_NOFOLLOW) < 0;
                r = write_one(in, dirfd, out->vip_name, out->vip, out->vip_size, force, err);
                if (r < 0)
                        return r;
        }
        r = write_one(in, dirfd, out->name, out->config, out->config_size, force, err);
        if (r < 0) {
                if (vip_created)
                        (void) unlinkat(dirfd, out->vip_name, 0);
                return r;
        }

        return 0;
}
