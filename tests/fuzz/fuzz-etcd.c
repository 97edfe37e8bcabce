/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What etcd's JSON gateway answers, as the daemon's watch decodes it: the input's lines, the first a range
 * answer and each next a watch line, applied to one view. Whatever they hold, the view stays within its
 * bounds, every name in it has the shape a key may give, and every failure names its reason.
 */
#include <errno.h>

#include "etcd.h"
#include "fuzz.h"

static void check_view(const EtcdView *v) {
        FUZZ_ASSERT(v->n_scopes <= ETCD_SCOPES_MAX, "%zu scopes", v->n_scopes);
        for (size_t i = 0; i < v->n_scopes; i++) {
                const EtcdScope *s = &v->scopes[i];
                FUZZ_ASSERT(s->name[0] && strlen(s->name) <= ETCD_NAME_MAX && !strchr(s->name, '/'), "scope %s",
                            s->name);
                FUZZ_ASSERT(s->n_members <= ETCD_MEMBERS_MAX, "%zu members", s->n_members);
                FUZZ_ASSERT(!s->leader || (s->leader[0] && strlen(s->leader) <= ETCD_NAME_MAX), "leader");
                for (size_t j = 0; j < s->n_members; j++)
                        FUZZ_ASSERT(s->members[j].port >= 0 && s->members[j].port <= 65535, "port %d",
                                    s->members[j].port);
                FUZZ_ASSERT(etcd_scope_leader_port(s) >= 0, "leader port");
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        EtcdView *v = etcd_view_new("/postgresql-common/");
        char *text = fuzz_string(data, size), *err = NULL, *token = NULL;
        bool first = true;

        if (!v)
                abort();
        for (char *line = text, *end; line < text + size; line = end + 1, first = false) {
                end = memchr(line, '\n', (size_t) (text + size - line));
                if (!end)
                        end = text + size;
                size_t n = (size_t) (end - line);
                int r;
                if (first)
                        r = etcd_decode_range(v, line, n, &err);
                else {
                        EtcdWatchStatus st;
                        r = etcd_decode_watch(v, line, n, &st, &err);
                        FUZZ_ASSERT(r < 0 || st.compact_revision >= -1, "compact revision");
                }
                FUZZ_ASSERT(r == 0 || (r == -EINVAL && err && err[0]) || r == -ENOMEM, "r=%d without a reason", r);
                free(err);
                err = NULL;
                check_view(v);
        }
        if (etcd_decode_token(text, size, &token) == 0)
                FUZZ_ASSERT(token && token[0], "an empty token");
        free(token);
        free(text);
        etcd_view_free(v);
        return 0;
}
