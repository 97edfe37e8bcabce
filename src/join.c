/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envconf.h"
#include "generate.h"
#include "join.h"
#include "macro.h"
#include "pgcommon.h"

int join_scope_split(const char *scope, char *version, size_t vsize, char *cluster, size_t csize) {
        const char *dash = strchr(scope, '-');

        /* The version has no dash (15, 9.6): the first one ends it. */
        if (!dash || (size_t) (dash - scope) >= vsize || strlen(dash + 1) >= csize)
                return -EINVAL;
        snprintf(version, vsize, "%.*s", (int) (dash - scope), scope);
        snprintf(cluster, csize, "%s", dash + 1);
        return pgcommon_version_valid(version) && pgcommon_cluster_name_valid(cluster) ? 0 : -EINVAL;
}

JoinVerdict join_decide(const Settings *s, const JoinFacts *f) {
        char version[32], cluster[64];

        if (!settings_join_match(s, f->scope))
                return JOIN_OFF;
        if (join_scope_split(f->scope, version, sizeof(version), cluster, sizeof(cluster)) < 0)
                return JOIN_BAD_NAME;
        if (!settings_in_scope(s, version, cluster))
                return JOIN_EXCLUDED;
        if (f->config_present)
                return JOIN_HAS_CONFIG;
        if (!f->has_leader)
                return JOIN_NO_LEADER;
        if (!f->binaries)
                return JOIN_NO_BINARIES;
        if (f->cluster_present)
                return JOIN_LOCAL_CLUSTER;
        return JOIN_YES;
}

const char *join_verdict_to_string(JoinVerdict v) {
        static const char *const names[_JOIN_VERDICT_MAX] = {
                [JOIN_YES] = "joins",
                [JOIN_OFF] = "not in join",
                [JOIN_BAD_NAME] = "not VERSION-CLUSTER",
                [JOIN_EXCLUDED] = "excluded",
                [JOIN_NO_LEADER] = "no leader",
                [JOIN_NO_BINARIES] = "PostgreSQL version not installed",
                [JOIN_HAS_CONFIG] = "configured here",
                [JOIN_LOCAL_CLUSTER] = "blocked by a local cluster",
        };
        return v >= 0 && v < _JOIN_VERDICT_MAX ? names[v] : "?";
}

/* A path the section names, as curl opens it: below ROOT_PATH. NULL stays NULL. */
static int rooted(const char *root_path, const char *path, char **ret) {
        *ret = NULL;
        if (!path)
                return 0;
        if (path[0] != '/')
                return -EINVAL;
        return asprintf(ret, "%s%s", streq(root_path, "/") ? "" : root_path, path) < 0 ? -ENOMEM : 0;
}

int join_watch_conf(const DcsConfig *dcs, char *const *env, const char *root_path, const char *namespace,
                    EtcdWatchConf *ret, char **ret_error) {
        PatroniConf pc = {};
        _cleanup_free_ char *msg = NULL;
        int r;

        *ret = (EtcdWatchConf){};
        *ret_error = NULL;
        if (!dcs || !dcs->type)
                return error_set(ret_error, -EINVAL, "join: needs a DCS (%s or %s)", DCS_YML, DCS_DEFAULTS);
        if (!streq(dcs->type, "etcd3"))
                return error_set(ret_error, -EINVAL, "join: only etcd3 is supported, and %s says %s", dcs->source,
                                 dcs->type);
        if (!dcs->endpoints)
                return error_set(ret_error, -EINVAL, "join: %s names no etcd3 endpoint (host, hosts or url)",
                                 dcs->source);
        r = dcs_section_conf(dcs, &pc, &msg);
        if (r < 0) {
                patroniconf_done(&pc);
                return error_set(ret_error, r, "join: %s: %s", dcs->source, msg ? msg : "out of memory");
        }
        const char *user = envconf_get(env, "PATRONI_ETCD3_USERNAME") ?: pc.dcs_username;
        const char *password = envconf_get(env, "PATRONI_ETCD3_PASSWORD");
        if ((r = rooted(root_path, pc.dcs_cacert, &ret->cacert)) < 0 ||
            (r = rooted(root_path, pc.dcs_cert, &ret->cert)) < 0 || (r = rooted(root_path, pc.dcs_key, &ret->key)) < 0 ||
            (user && !(ret->username = strdup(user))) || (password && !(ret->password = strdup(password))) ||
            !(ret->prefix = strdup(namespace))) {
                patroniconf_done(&pc);
                etcdwatch_conf_done(ret);
                return r == -EINVAL ? error_set(ret_error, r, "join: %s: a TLS file is not an absolute path", dcs->source)
                                    : -ENOMEM;
        }
        patroniconf_done(&pc);
        if (ret->username && !ret->password) {
                r = error_set(ret_error, -EINVAL, "join: %s names the etcd user %s, and %s has no "
                                                  "PATRONI_ETCD3_PASSWORD", dcs->source, ret->username, PATRONI_ENV_CONF);
                etcdwatch_conf_done(ret);
                return r;
        }
        /* "https://a:2379,https://b:2379" */
        for (const char *p = dcs->endpoints; *p;) {
                size_t n = strcspn(p, ",");
                char **more = reallocarray(ret->endpoints, ret->n_endpoints + 1, sizeof(char *));
                if (!more || !(more[ret->n_endpoints] = strndup(p, n))) {
                        if (more)
                                ret->endpoints = more;
                        etcdwatch_conf_done(ret);
                        return -ENOMEM;
                }
                ret->endpoints = more;
                ret->n_endpoints++;
                p += n + (p[n] == ',');
        }
        return 0;
}

int join_read_dcs(int rootfd, const char *root_path, GenInputs *in, int timeout_ms, EtcdView **ret, char **ret_error) {
        _cleanup_(envconf_freep) char **env = NULL;
        _cleanup_free_ char *ns = NULL;
        EtcdWatchConf c = {};
        int r;

        *ret = NULL;
        *ret_error = NULL;
        if (!in->dcs || !streq_ptr(in->dcs->type, "etcd3"))
                return -ENOTSUP;
        r = gen_namespace(in, &ns, ret_error);
        if (r < 0)
                return r;
        env = envconf_read(rootfd, &(bool){ false });
        r = join_watch_conf(in->dcs, env, root_path, ns, &c, ret_error);
        if (r >= 0)
                r = etcd_read_once(&c, timeout_ms, ret, ret_error);
        etcdwatch_conf_done(&c);
        return r;
}

int join_render(GenInputs *in, const char *version, const char *cluster, int leader_port, const char *prefix,
                GenOutput *out, GenError *err) {
        GenRequest req = { .version = version, .cluster = cluster, .port = leader_port,
                           .port_or_next = leader_port > 0 };
        char scope[NAME_MAX + 64];
        int r = gen_render(in, &req, out, err);

        if (r < 0)
                return r;
        snprintf(scope, sizeof(scope), "%s-%s", version, cluster);
        if (streq_ptr(out->conf.scope, scope) && streq_ptr(out->conf.namespace, prefix))
                return 0;
        err->status = GEN_INVALID_INPUT;
        if (asprintf(&err->message, "the template gives %s/%s scope %s in namespace %s, not the DCS's %s in %s",
                     version, cluster, strna(out->conf.scope), strna(out->conf.namespace), scope, prefix) < 0)
                err->message = NULL;
        gen_output_done(out);
        return -EINVAL;
}
