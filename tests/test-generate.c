/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "generate.h"
#include "log.h"
#include "patroniconf.h"
#include "testutil.h"

#define TEMPLATE                                                                                               \
        "scope: \"@VERSION@-@CLUSTER@\"\n"                                                                     \
        "name: @HOSTNAME@\n"                                                                                   \
        "@DCS_CONFIG@\n"                                                                                       \
        "restapi:\n  listen: \"@HOSTIP@:@API_PORT@\"\n  connect_address: \"@HOSTIP@:@API_PORT@\"\n"            \
        "postgresql:\n  listen: \"*:@PORT@\"\n  connect_address: \"@HOSTIP@:@PORT@\"\n"                        \
        "  data_dir: @DATADIR_BASE@/@VERSION@/@CLUSTER@\n  pg_hba:\n  - host replication all @NETWORK@ md5\n"

static char *root;
static int rootfd = -1;
static GenInputs *in;

static void setup(void) {
        root = tmp_root();
        rootfd = tmp_rootfd(root);
        tmp_write(root, "etc/patroni/config.yml.in", TEMPLATE);
        tmp_write(root, "etc/patroni/dcs.yml", "etcd3:\n  hosts: 127.0.0.1:2379\n");
        tmp_mkdirs(root, "usr/lib/postgresql/15/bin");
        tmp_mkdirs(root, "usr/lib/postgresql/9.6/bin");
        in = NULL;
}

static void teardown(void) {
        gen_inputs_free(in);
        close(rootfd);
        tmp_root_remove(root);
        root = NULL;
}

static void load(void) {
        GenPaths paths = {};
        GenError err = {};

        gen_inputs_free(in);
        in = NULL;
        ck_assert_msg(gen_inputs_load(rootfd, root, &paths, &in, &err) == 0, "load: %s", err.message);
}

static int generate(const char *version, const char *cluster, int port, GenOutput *out, GenError *err) {
        GenRequest req = { .version = version, .cluster = cluster, .port = port, .hostip = "10.0.0.5",
                           .network = "10.0.0.0/24" };
        int r = gen_render(in, &req, out, err);
        if (r >= 0)
                r = gen_write(in, out, false, err);
        return r;
}

static void expect_ports(const char *version, const char *cluster, int port, int expect_port, int expect_api) {
        GenOutput out = {};
        GenError err = {};

        ck_assert_msg(generate(version, cluster, port, &out, &err) == 0, "%s", err.message);
        ck_assert_int_eq(out.port, expect_port);
        ck_assert_int_eq(out.api_port, expect_api);
        ck_assert_int_eq(out.restapi_port, expect_api);
        gen_output_done(&out);
}

static void expect_fail(const char *version, const char *cluster, int port, GenStatus status, const char *message) {
        GenOutput out = {};
        GenError err = {};

        ck_assert_int_lt(generate(version, cluster, port, &out, &err), 0);
        ck_assert_int_eq(err.status, status);
        ck_assert_msg(strcmp(err.message, message) == 0, "got \"%s\"", err.message);
        gen_error_done(&err);
        gen_output_done(&out);
}

START_TEST(test_ports) {
        tmp_write(root, "etc/postgresql/15/main/postgresql.conf", "port = 5432\n");
        tmp_write(root, "etc/postgresql/15/big/postgresql.conf", "port = 15432\n");
        tmp_write(root, "etc/postgresql/15/noport/postgresql.conf", "# port = 9999\n");
        load();
        /* the cluster's own port */
        expect_ports("15", "main", 0, 5432, 8008);
        expect_ports("15", "big", 0, 15432, 18008);
        /* pg-common's default for a cluster without one */
        /* (5432 is main's: choosing it for noport would collide, so use --port) */
        expect_ports("15", "noport", 5440, 5440, 8016);
        /* no such cluster yet (a replica before its clone): highest + 1, compared as numbers */
        expect_ports("15", "new", 0, 15433, 18009);
}
END_TEST

START_TEST(test_port_in_use_is_exact) {
        /* Debian's script calls 5432 "in use" when 15432 is; only an exact match counts. */
        tmp_write(root, "etc/postgresql/15/big/postgresql.conf", "port = 15432\n");
        load();
        expect_ports("15", "fresh", 5432, 5432, 8008);
        expect_fail("15", "other", 15432, GEN_INVALID_INPUT, "port 15432 is already used by cluster 15/big");
        expect_fail("15", "other", 65000, GEN_BAD_REQUEST, "port 65000 is out of range (1-62959)");
}
END_TEST

START_TEST(test_first_cluster) {
        load();
        expect_ports("15", "main", 0, 5432, 8008);
}
END_TEST

START_TEST(test_api_port_collision) {
        /* An admin's config already listens on 8008: the next free API port is used. */
        tmp_write(root, "etc/patroni/9.6-legacy.yml", "scope: x\nrestapi:\n  listen: 0.0.0.0:8008\n");
        tmp_write(root, "etc/patroni/broken.yml", "::: not yaml [\n");
        load();
        expect_ports("15", "main", 5432, 5432, 8009);
        /* and the one just written counts too */
        expect_ports("15", "second", 5433, 5433, 8010);
}
END_TEST

START_TEST(test_exists_and_versions) {
        char *text;

        tmp_write(root, "etc/patroni/15-main.yml", "mine\n");
        load();
        expect_fail("15", "main", 0, GEN_EXISTS, "/etc/patroni/15-main.yml already exists (use --force to replace it)");
        text = tmp_read(root, "etc/patroni/15-main.yml");
        ck_assert_str_eq(text, "mine\n");
        free(text);
        expect_fail("16", "main", 0, GEN_NO_VERSION, "no PostgreSQL 16 binaries (/usr/lib/postgresql/16/bin not found)");
        expect_fail("1x", "main", 0, GEN_BAD_REQUEST, "invalid version \"1x\"");
        expect_fail("15", "../etc", 0, GEN_BAD_REQUEST,
                    "invalid cluster name \"../etc\" (letters, digits, '-', '_', '.'; not starting with '.')");
}
END_TEST

START_TEST(test_written_file) {
        GenOutput out = {};
        GenError err = {};
        PatroniConf pc = {};
        struct stat st;
        char path[4096], *text, *msg = NULL;

        tmp_write(root, "etc/postgresql/9.6/my-db/postgresql.conf", "port = 5433\n");
        load();
        ck_assert_int_eq(generate("9.6", "my-db", 0, &out, &err), 0);
        gen_output_done(&out);
        snprintf(path, sizeof(path), "%s/etc/patroni/9.6-my-db.yml", root);
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0640);
        if (geteuid() == 0)
                ck_assert_int_eq(st.st_uid, 0);
        text = tmp_read(root, "etc/patroni/9.6-my-db.yml");
        ck_assert_int_eq(patroniconf_parse(text, strlen(text), true, &pc, &msg), 0);
        ck_assert_str_eq(pc.scope, "9.6-my-db");
        ck_assert_str_eq(pc.dcs_type, "etcd3");
        ck_assert_ptr_nonnull(strstr(text, "# Generated by patroni-debiand"));
        ck_assert_ptr_nonnull(strstr(text, "data_dir: /var/lib/postgresql/9.6/my-db\n"));
        patroniconf_done(&pc);
        free(text);
}
END_TEST

START_TEST(test_broken_cluster) {
        tmp_write(root, "etc/postgresql/15/main/postgresql.conf", "port = 'x\n");
        load();
        expect_fail("15", "main", 0, GEN_INVALID_INPUT, "/etc/postgresql/15/main/postgresql.conf:1: invalid value");
}
END_TEST

START_TEST(test_invalid_render) {
        GenPaths paths = {};
        GenError err = {};

        tmp_write(root, "etc/patroni/config.yml.in", "scope: x\n@DCS_CONFIG@\n");
        load();
        expect_fail("15", "main", 0, GEN_INVALID_INPUT,
                    "/etc/patroni/config.yml.in: the rendered configuration for 15/main is invalid: \"name\" is missing or empty");

        tmp_write(root, "etc/patroni/config.yml.in", "scope: @NOPE@\n");
        gen_inputs_free(in);
        in = NULL;
        ck_assert_int_lt(gen_inputs_load(rootfd, root, &paths, &in, &err), 0);
        ck_assert_int_eq(err.status, GEN_INVALID_INPUT);
        ck_assert_str_eq(err.message, "/etc/patroni/config.yml.in:1: unknown placeholder @NOPE@ (known: @VERSION@ "
                                      "@CLUSTER@ @HOSTNAME@ @HOSTIP@ @NETWORK@ @PORT@ @API_PORT@ @DATADIR_BASE@ "
                                      "@LISTEN_VIP@ @DCS_CONFIG@)");
        gen_error_done(&err);
}
END_TEST

START_TEST(test_write_many) {
        GenOutput outs[3] = {};
        GenError errs[3] = {}, err = {};
        static const char *const names[] = { "a", "b", "c" };
        char *text;

        tmp_write(root, "etc/patroni/15-b.yml", "admin's\n");
        load();
        for (size_t i = 0; i < 3; i++) {
                GenRequest req = { .version = "15", .cluster = names[i], .hostip = "10.0.0.5", .force = i == 1 };
                ck_assert_msg(gen_render(in, &req, &outs[i], &err) == 0, "%s", err.message);
        }
        /* rendered before any write, still three different REST API ports */
        ck_assert_int_eq(outs[0].api_port, 8008);
        ck_assert_int_eq(outs[1].api_port, 8009);
        ck_assert_int_eq(outs[2].api_port, 8010);
        ck_assert_uint_eq(gen_write_many(in, outs, 3, false, errs), 1);
        ck_assert_int_eq(errs[0].status, GEN_OK);
        ck_assert_int_eq(errs[1].status, GEN_EXISTS);
        ck_assert_str_eq(errs[1].message, "/etc/patroni/15-b.yml already exists (use --force to replace it)");
        ck_assert_int_eq(errs[2].status, GEN_OK);
        text = tmp_read(root, "etc/patroni/15-b.yml");
        ck_assert_str_eq(text, "admin's\n");
        free(text);
        text = tmp_read(root, "etc/patroni/15-c.yml");
        ck_assert_ptr_nonnull(strstr(text, "scope: \"15-c\""));
        free(text);
        for (size_t i = 0; i < 3; i++) {
                gen_output_done(&outs[i]);
                gen_error_done(&errs[i]);
        }
}
END_TEST

int main(void) {
        Suite *s = suite_create("generate");
        TCase *tc = tcase_create("core");

        log_set_max_level(LOG_WARNING);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_ports);
        tcase_add_test(tc, test_port_in_use_is_exact);
        tcase_add_test(tc, test_first_cluster);
        tcase_add_test(tc, test_api_port_collision);
        tcase_add_test(tc, test_exists_and_versions);
        tcase_add_test(tc, test_written_file);
        tcase_add_test(tc, test_broken_cluster);
        tcase_add_test(tc, test_invalid_render);
        tcase_add_test(tc, test_write_many);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
