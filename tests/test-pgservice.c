/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <string.h>

#include "macro.h"
#include "pgservice.h"
#include "testutil.h"

#define PATH "/etc/postgresql-common/pg_service.conf"

static PgService service(const char *name, const char *hosts) {
        PgService s = { .name = strdup(name) };
        char *copy = strdup(hosts), *save = NULL;
        for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
                char *colon = strrchr(t, ':');
                *colon = 0;
                ck_assert_int_eq(pgservice_add_member(&s, t, atoi(colon + 1)), 1);
        }
        free(copy);
        return s;
}

static char *render(const char *text, PgService *services, size_t n, const char *ca, size_t *n_left) {
        PgServiceFile f = {};
        char *err = NULL, *out = NULL, **left = NULL;
        size_t size;

        ck_assert_int_eq(pgservice_file_parse(PATH, text, strlen(text), &f, &err), 0);
        ck_assert_int_eq(pgservice_file_render(&f, services, n, ca, &out, &size, &left, n_left), 0);
        ck_assert_uint_eq(size, strlen(out));
        strv_free(left, *n_left);
        pgservice_file_done(&f);
        return out;
}

/* Members sorted and unique; IPv6 brackets dropped; hosts a list or a line cannot carry refused. */
START_TEST(test_members) {
        PgService s = { .name = strdup("15-main") };
        ck_assert_int_eq(pgservice_add_member(&s, "10.0.0.2", 5432), 1);
        ck_assert_int_eq(pgservice_add_member(&s, "10.0.0.1", 5433), 1);
        ck_assert_int_eq(pgservice_add_member(&s, "10.0.0.1", 5432), 1);
        ck_assert_int_eq(pgservice_add_member(&s, "10.0.0.1", 5432), 0);
        ck_assert_int_eq(pgservice_add_member(&s, "[fd00::1]", 5432), 1);
        ck_assert_int_eq(pgservice_add_member(&s, "a,b", 5432), -EINVAL);
        ck_assert_int_eq(pgservice_add_member(&s, "a b", 5432), -EINVAL);
        ck_assert_int_eq(pgservice_add_member(&s, "a\nport=1", 5432), -EINVAL);
        ck_assert_int_eq(pgservice_add_member(&s, "", 5432), -EINVAL);
        ck_assert_int_eq(pgservice_add_member(&s, "h", 0), -EINVAL);
        ck_assert_int_eq(pgservice_add_member(&s, "h", 65536), -EINVAL);
        ck_assert_int_eq(pgservice_add_address(&s, "10.0.0.2:5432"), 0);
        ck_assert_int_eq(pgservice_add_address(&s, "[fd00::1]:5432"), 0);
        ck_assert_int_eq(pgservice_add_address(&s, "10.0.0.2"), -EINVAL);
        ck_assert_int_eq(pgservice_add_address(&s, "10.0.0.2:"), -EINVAL);
        ck_assert_int_eq(pgservice_add_address(&s, "10.0.0.2:54x"), -EINVAL);
        ck_assert_int_eq(pgservice_add_address(&s, "10.0.0.9:0"), -EINVAL);

        char *c;
        ck_assert_int_eq(pgservice_connstr(&s, false, NULL, PGSERVICE_KEYWORD, &c), 0);
        ck_assert_str_eq(c, "host=10.0.0.1,10.0.0.1,10.0.0.2,fd00::1 port=5432,5433,5432,5432 "
                            "target_session_attrs=read-write sslmode=require");
        free(c);
        ck_assert_int_eq(pgservice_connstr(&s, true, "/etc/ssl/my ca.pem", PGSERVICE_URI, &c), 0);
        ck_assert_str_eq(c, "postgresql://10.0.0.1:5432,10.0.0.1:5433,10.0.0.2:5432,[fd00::1]:5432/"
                            "?target_session_attrs=prefer-standby&sslmode=verify-full&sslrootcert=/etc/ssl/my%20ca.pem");
        free(c);
        ck_assert_int_eq(pgservice_connstr(&s, false, "/etc/o'k.pem", PGSERVICE_KEYWORD, &c), 0);
        ck_assert_ptr_nonnull(strstr(c, " sslmode=verify-full sslrootcert='/etc/o\\'k.pem'"));
        free(c);
        pgservice_done(&s);
}
END_TEST

/* From a DCS scope: members without a host or a port are left out; none at all is -ENOENT. */
START_TEST(test_from_scope) {
        char n[4][2] = { "b", "a", "c", "d" }, h[3][16] = { "10.0.0.2", "10.0.0.1", "10.0.0.4" };
        EtcdMember m[] = { { .name = n[0], .host = h[0], .port = 5432 }, { .name = n[1], .host = h[1], .port = 5432 },
                           { .name = n[2], .host = NULL, .port = 5432 }, { .name = n[3], .host = h[2], .port = 0 } };
        char scope_name[] = "15-main";
        EtcdScope scope = { .name = scope_name, .members = m, .n_members = 4 };
        PgService s;
        char *c;

        ck_assert_int_eq(pgservice_from_scope("15-main", &scope, &s), 0);
        ck_assert_int_eq(pgservice_connstr(&s, false, NULL, PGSERVICE_KEYWORD, &c), 0);
        ck_assert_str_eq(c, "host=10.0.0.1,10.0.0.2 port=5432,5432 target_session_attrs=read-write sslmode=require");
        free(c);
        pgservice_done(&s);
        scope.n_members = 0;
        ck_assert_int_eq(pgservice_from_scope("15-main", &scope, &s), -ENOENT);
}
END_TEST

/* The daemon's and connstr's choice: the DCS's members under the scope and namespace, else the configuration's
 * own member; neither is -ENOENT. */
START_TEST(test_of) {
        EtcdView *v = etcd_view_new("/postgresql-common/");
        const char *key = "/postgresql-common/15-main/members/a", *val = "{\"conn_url\": \"postgres://10.0.0.7:5432/postgres\"}";
        PgService s;
        bool dcs;
        char *c;

        ck_assert_int_eq(etcd_view_apply(v, key, strlen(key), val, strlen(val)), 1);
        ck_assert_int_eq(pgservice_of("15-main", v, "15-main", "/postgresql-common/", "10.0.0.1:5432", &s, &dcs), 0);
        ck_assert(dcs);
        ck_assert_int_eq(pgservice_connstr(&s, false, NULL, PGSERVICE_KEYWORD, &c), 0);
        ck_assert_ptr_nonnull(strstr(c, "host=10.0.0.7 port=5432 "));
        free(c);
        pgservice_done(&s);
        /* NULL namespace: the view's own */
        ck_assert_int_eq(pgservice_of("15-main", v, "15-main", NULL, NULL, &s, &dcs), 0);
        ck_assert(dcs);
        pgservice_done(&s);
        /* another namespace, another scope, no view: the configuration's own member */
        const char *ns[] = { "/service/", "/postgresql-common/", "/postgresql-common/" };
        const char *scope[] = { "15-main", "15-other", "15-main" };
        for (int i = 0; i < 3; i++) {
                ck_assert_int_eq(pgservice_of("15-main", i == 2 ? NULL : v, scope[i], ns[i], "[fd00::1]:5433", &s, &dcs), 0);
                ck_assert(!dcs);
                ck_assert_str_eq(s.members[0].host, "fd00::1");
                ck_assert_int_eq(s.members[0].port, 5433);
                pgservice_done(&s);
        }
        ck_assert_int_eq(pgservice_of("15-x", v, "15-x", NULL, NULL, &s, &dcs), -ENOENT);
        ck_assert_int_eq(pgservice_of("15-x", v, "15-x", NULL, "no-port", &s, &dcs), -EINVAL);
        etcd_view_free(v);
}
END_TEST

/* The admin's bytes are kept exactly; our block goes at the end the first time, then stays where it is. */
START_TEST(test_render_keeps_admin) {
        const char *admin = "# my services\n[app]\nhost=db.example.org\n  dbname = app  \n\n[other]\nservice=x";
        PgService s[2] = { service("15-main", "10.0.0.2:5432 10.0.0.1:5432"), service("15-my-db", "10.0.0.1:5433") };
        size_t n_left;
        char *out = render(admin, s, 2, NULL, &n_left), *again, *expect;

        ck_assert_uint_eq(n_left, 0);
        ck_assert_int_ge(asprintf(&expect, "%s\n%s\n"
                                  "[15-main]\nhost=10.0.0.1,10.0.0.2\nport=5432,5432\ntarget_session_attrs=read-write\nsslmode=require\n"
                                  "[15-main-ro]\nhost=10.0.0.1,10.0.0.2\nport=5432,5432\ntarget_session_attrs=prefer-standby\nsslmode=require\n"
                                  "[15-my-db]\nhost=10.0.0.1\nport=5433\ntarget_session_attrs=read-write\nsslmode=require\n"
                                  "[15-my-db-ro]\nhost=10.0.0.1\nport=5433\ntarget_session_attrs=prefer-standby\nsslmode=require\n"
                                  "%s\n", admin, PGSERVICE_BEGIN, PGSERVICE_END), 0);
        ck_assert_str_eq(out, expect);
        free(expect);

        /* the admin adds a section after ours: it stays after it, and the same services give the same bytes */
        char *edited;
        ck_assert_int_ge(asprintf(&edited, "%s[later]\nport=1\n", out), 0);
        again = render(edited, s, 2, NULL, &n_left);
        ck_assert_str_eq(again, edited);
        free(again);
        /* a member leaves: only our block changes */
        pgservice_done(&s[0]);
        s[0] = service("15-main", "10.0.0.1:5432");
        again = render(edited, s, 2, "/etc/patroni/tls/ca.pem", &n_left);
        ck_assert_ptr_nonnull(strstr(again, "[15-main]\nhost=10.0.0.1\nport=5432\ntarget_session_attrs=read-write\n"
                                            "sslmode=verify-full\nsslrootcert=/etc/patroni/tls/ca.pem\n"));
        ck_assert(strncmp(again, admin, strlen(admin)) == 0);
        ck_assert_str_eq(again + strlen(again) - strlen("[later]\nport=1\n"), "[later]\nport=1\n");
        free(again);
        /* no services any more: the block goes, the admin's bytes stay */
        again = render(edited, s, 0, NULL, &n_left);
        ck_assert_int_ge(asprintf(&expect, "%s\n[later]\nport=1\n", admin), 0);
        ck_assert_str_eq(again, expect);
        free(expect);
        free(again);
        free(edited);
        free(out);
        pgservice_done(&s[0]);
        pgservice_done(&s[1]);
}
END_TEST

/* An admin's section of the same name (or its -ro) wins: ours is left out and said. */
START_TEST(test_render_admin_wins) {
        PgService s[2] = { service("15-main", "10.0.0.1:5432"), service("15-other", "10.0.0.1:5434") };
        size_t n_left;
        PgServiceFile f = {};
        char *err = NULL, *out, **left;
        size_t size;
        const char *admin = "[15-main-ro]\nhost=replica.example.org\n";

        ck_assert_int_eq(pgservice_file_parse(PATH, admin, strlen(admin), &f, &err), 0);
        ck_assert_int_eq(pgservice_file_render(&f, s, 2, NULL, &out, &size, &left, &n_left), 0);
        ck_assert_uint_eq(n_left, 1);
        ck_assert_str_eq(left[0], "15-main");
        ck_assert_ptr_null(strstr(out, "[15-main]"));
        ck_assert_ptr_nonnull(strstr(out, "[15-other]"));
        strv_free(left, n_left);
        free(out);
        pgservice_file_done(&f);
        /* a service whose host line would be longer than libpq reads is left out too */
        PgService big = { .name = strdup("15-big") };
        char host[64];
        for (int i = 0; i < 30; i++) {
                snprintf(host, sizeof(host), "member-%02d.db.example.org", i);
                ck_assert_int_eq(pgservice_add_member(&big, host, 5432), 1);
        }
        ck_assert_int_eq(pgservice_file_parse(PATH, "", 0, &f, &err), 0);
        ck_assert_int_eq(pgservice_file_render(&f, &big, 1, NULL, &out, &size, &left, &n_left), 0);
        ck_assert_uint_eq(n_left, 1);
        ck_assert_str_eq(out, PGSERVICE_BEGIN "\n" PGSERVICE_END "\n");
        strv_free(left, n_left);
        free(out);
        pgservice_file_done(&f);
        pgservice_done(&big);
        pgservice_done(&s[0]);
        pgservice_done(&s[1]);
}
END_TEST

/* What libpq would refuse, or markers out of pair: an error naming the file and the line, nothing rendered. */
START_TEST(test_parse_errors) {
        struct {
                const char *text, *where;
        } bad[] = {
                { "[a]\nhost=x\njunk\n", PATH ":3: neither a comment" },
                { "[a\n", PATH ":1: a section header" },
                { "# END patroni-debiand\n", PATH ":1: \"# END patroni-debiand\" without" },
                { "# BEGIN patroni-debiand: x\n[15-main]\n", PATH ": \"# BEGIN patroni-debiand\" without" },
                { "# BEGIN patroni-debiand\n# BEGIN patroni-debiand\n# END patroni-debiand\n", PATH ":2: a second" },
                { "# BEGIN patroni-debiand\n# END patroni-debiand\n# END patroni-debiand\n", PATH ":3:" },
        };
        char long_line[400];
        memset(long_line, 'x', sizeof(long_line));
        memcpy(long_line, "[a]\nhost=", 9);
        long_line[sizeof(long_line) - 1] = 0;

        for (size_t i = 0; i <= ELEMENTSOF(bad); i++) {
                PgServiceFile f = {};
                char *err = NULL;
                const char *text = i < ELEMENTSOF(bad) ? bad[i].text : long_line;
                ck_assert_int_eq(pgservice_file_parse(PATH, text, strlen(text), &f, &err), -EINVAL);
                ck_assert_ptr_nonnull(err);
                ck_assert_msg(strstr(err, i < ELEMENTSOF(bad) ? bad[i].where : PATH ":2: is longer than libpq reads"),
                              "%zu: %s", i, err);
                free(err);
        }
        /* a NUL byte */
        PgServiceFile f = {};
        char *err = NULL;
        ck_assert_int_eq(pgservice_file_parse(PATH, "[a]\nho\0st=x\n", 12, &f, &err), -EINVAL);
        ck_assert_ptr_nonnull(strstr(err, ":2: holds a NUL byte"));
        free(err);
        /* comments, blank lines, white space and CRLF are all fine */
        const char *fine = "\n  # c\n\t[a]  \r\nhost = x\r\n\n";
        ck_assert_int_eq(pgservice_file_parse(PATH, fine, strlen(fine), &f, &err), 0);
        ck_assert_uint_eq(f.n_sections, 1);
        ck_assert_str_eq(f.sections[0], "a");
        pgservice_file_done(&f);
}
END_TEST

TMP_ROOT_FIXTURE("etc/postgresql-common")

/* The file on disk: made 0644 when missing, rewritten only when its bytes change, mode and owner kept, a
 * broken one or a symlink left alone with the reason. */
START_TEST(test_update_file) {
        PgService s = service("15-main", "10.0.0.1:5432");
        PgServiceUpdate u;
        struct stat st;
        char *path, *text;

        ck_assert_int_ge(asprintf(&path, "%s/etc/postgresql-common/pg_service.conf", root), 0);
        ck_assert_int_eq(pgservice_update_file(rootfd, &s, 1, NULL, false, &u), 0);
        ck_assert(u.changed);
        pgservice_update_done(&u);
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0644);
        text = tmp_read(root, "etc/postgresql-common/pg_service.conf");
        ck_assert_ptr_nonnull(strstr(text, "[15-main]\nhost=10.0.0.1\n"));
        free(text);
        /* the same again: not written */
        ck_assert_int_eq(pgservice_update_file(rootfd, &s, 1, NULL, false, &u), 0);
        ck_assert(!u.changed);
        pgservice_update_done(&u);
        /* an admin's file, mode 0640: kept byte for byte around our block, mode kept */
        tmp_write(root, "etc/postgresql-common/pg_service.conf", "[app]\nhost=x\n");
        ck_assert_int_eq(chmod(path, 0640), 0);
        ck_assert_int_eq(pgservice_update_file(rootfd, &s, 1, NULL, false, &u), 0);
        ck_assert(u.changed);
        pgservice_update_done(&u);
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0640);
        text = tmp_read(root, "etc/postgresql-common/pg_service.conf");
        const char *start = "[app]\nhost=x\n" PGSERVICE_BEGIN "\n[15-main]\n";
        ck_assert(strncmp(text, start, strlen(start)) == 0);
        free(text);
        /* a dry run says it would write, and writes nothing */
        pgservice_done(&s);
        s = service("15-main", "10.0.0.1:5432 10.0.0.2:5432");
        ck_assert_int_eq(pgservice_update_file(rootfd, &s, 1, NULL, true, &u), 0);
        ck_assert(u.changed);
        pgservice_update_done(&u);
        text = tmp_read(root, "etc/postgresql-common/pg_service.conf");
        ck_assert_ptr_null(strstr(text, "10.0.0.2"));
        free(text);
        /* broken: an error naming the line, the file untouched */
        tmp_write(root, "etc/postgresql-common/pg_service.conf", "[app]\nhost x\n");
        ck_assert_int_eq(pgservice_update_file(rootfd, &s, 1, NULL, false, &u), -EINVAL);
        ck_assert_ptr_nonnull(strstr(u.error, "/etc/postgresql-common/pg_service.conf:2: "));
        pgservice_update_done(&u);
        text = tmp_read(root, "etc/postgresql-common/pg_service.conf");
        ck_assert_str_eq(text, "[app]\nhost x\n");
        free(text);
        /* a symlink: not followed, not replaced */
        ck_assert_int_eq(unlink(path), 0);
        ck_assert_int_eq(symlink("/etc/passwd", path), 0);
        ck_assert_int_lt(pgservice_update_file(rootfd, &s, 1, NULL, false, &u), 0);
        ck_assert_ptr_nonnull(strstr(u.error, "symbolic link"));
        pgservice_update_done(&u);
        struct stat lst;
        ck_assert_int_eq(lstat(path, &lst), 0);
        ck_assert(S_ISLNK(lst.st_mode));
        free(path);
        pgservice_done(&s);
}
END_TEST

int main(void) {
        Suite *s = suite_create("pgservice");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_members);
        tcase_add_test(tc, test_from_scope);
        tcase_add_test(tc, test_of);
        tcase_add_test(tc, test_render_keeps_admin);
        tcase_add_test(tc, test_render_admin_wins);
        tcase_add_test(tc, test_parse_errors);
        suite_add_tcase(s, tc);
        TCase *fs = tcase_create("file");
        tcase_add_checked_fixture(fs, setup, teardown);
        tcase_add_test(fs, test_update_file);
        suite_add_tcase(s, fs);
        return run_suite(s);
}
