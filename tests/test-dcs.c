/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "dcs.h"
#include "testutil.h"

/* The spliced pairs as a YAML document, to compare with what we expect. */
static char *pairs_to_yaml(const DcsConfig *c) {
        YamlEvents all = {};
        yaml_event_t ev;
        char *out = NULL;

        yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
        yamlutil_events_push(&all, &ev);
        yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
        yamlutil_events_push(&all, &ev);
        yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
        yamlutil_events_push(&all, &ev);
        for (size_t i = 0; i < c->pairs.n; i++)
                yamlutil_events_push_copy(&all, &c->pairs.ev[i]);
        yaml_mapping_end_event_initialize(&ev);
        yamlutil_events_push(&all, &ev);
        yaml_document_end_event_initialize(&ev, 1);
        yamlutil_events_push(&all, &ev);
        yaml_stream_end_event_initialize(&ev);
        yamlutil_events_push(&all, &ev);
        ck_assert_int_eq(yamlutil_events_emit(all.ev, all.n, &out, NULL), 0);
        yamlutil_events_done(&all);
        return out;
}

static void expect_ok(const char *yml, const char *defaults, const char *type, const char *endpoints,
                      const char *yaml) {
        DcsConfig *c = NULL;
        char *err = NULL, *out;

        ck_assert_msg(dcs_load_from(yml, defaults, &c, &err) == 0, "error: %s", err);
        ck_assert_str_eq(c->type, type);
        if (endpoints)
                ck_assert_str_eq(c->endpoints, endpoints);
        else
                ck_assert_ptr_null(c->endpoints);
        out = pairs_to_yaml(c);
        ck_assert_str_eq(out, yaml);
        free(out);
        dcs_config_free(c);
}

static void expect_error(const char *yml, const char *defaults, const char *message) {
        DcsConfig *c = NULL;
        char *err = NULL;

        ck_assert_int_eq(dcs_load_from(yml, defaults, &c, &err), -EINVAL);
        ck_assert_ptr_null(c);
        ck_assert_msg(err && strcmp(err, message) == 0, "got \"%s\", expected \"%s\"", err, message);
        free(err);
}

START_TEST(test_dcs_yml) {
        expect_ok("etcd3:\n  hosts:\n  - 10.0.0.1:2379\n  - 10.0.0.2:2379\n", NULL, "etcd3",
                  "http://10.0.0.1:2379,http://10.0.0.2:2379",
                  "etcd3:\n  hosts:\n  - 10.0.0.1:2379\n  - 10.0.0.2:2379\n");
        expect_ok("# Debian's default\nzookeeper:\n  hosts: 127.0.0.1:2181\n", NULL, "zookeeper",
                  "http://127.0.0.1:2181", "zookeeper:\n  hosts: 127.0.0.1:2181\n");
        expect_ok("etcd: {host: 'e1:2379', protocol: https}\n", NULL, "etcd", "https://e1:2379",
                  "etcd: {host: 'e1:2379', protocol: https}\n");
        expect_ok("consul:\n  url: https://c1:8500\n", NULL, "consul", "https://c1:8500",
                  "consul:\n  url: https://c1:8500\n");
        /* A complex key (found by fuzzing: the pair walk assumed one-event keys and read past the end). */
        expect_ok("etcd3:\n  ? [a, b]\n  : x\n  hosts: e1:2379\n", NULL, "etcd3", "http://e1:2379",
                  "etcd3:\n  ? [a, b]\n  : x\n  hosts: e1:2379\n");
        /* The values that break Debian's sed: '/', '&', and a value with : # ' " */
        expect_ok("etcd3:\n  hosts: e1:2379\n  cacert: /etc/ssl/a&b.pem\n  username: \"p: #'\\\"&/\"\n", NULL,
                  "etcd3", "http://e1:2379",
                  "etcd3:\n  hosts: e1:2379\n  cacert: /etc/ssl/a&b.pem\n  username: \"p: #'\\\"&/\"\n");
}
END_TEST

START_TEST(test_defaults) {
        expect_ok(NULL, "DCS_TYPE=etcd3\nDCS_HOSTS=10.0.0.1:2379,10.0.0.2:2379\n", "etcd3",
                  "http://10.0.0.1:2379,http://10.0.0.2:2379",
                  "etcd3:\n  hosts:\n  - 10.0.0.1:2379\n  - 10.0.0.2:2379\n");
        /* dcs.yml with only comments falls back to /etc/default/patroni */
        expect_ok("#etcd:\n#  host: 127.0.0.1:2379\n\n",
                  "# comment\nexport DCS_TYPE=\"etcd3\"\nDCS_HOSTS='[fd00::1]:2379'\nDCS_PROTOCOL=https\n"
                  "DCS_CACERT=/etc/ssl/ca.pem # trailing\nDCS_CERT=\"/etc/ssl/my cert.pem\"\nDCS_KEY=/k.pem\n"
                  "DCS_USERNAME=patroni\nHOSTIP=10.1.1.1\nNETWORK=10.1.1.0/24\n",
                  "etcd3", "https://[fd00::1]:2379",
                  "etcd3:\n  hosts:\n  - '[fd00::1]:2379'\n  protocol: https\n  cacert: /etc/ssl/ca.pem\n"
                  "  cert: /etc/ssl/my cert.pem\n  key: /k.pem\n  username: patroni\n");
        expect_ok(NULL, "DCS_TYPE=consul\nDCS_HOSTS=127.0.0.1:8500\nDCS_PROTOCOL=https\n", "consul",
                  "https://127.0.0.1:8500", "consul:\n  host: 127.0.0.1:8500\n  scheme: https\n");
        expect_ok(NULL, "DCS_TYPE=zookeeper\nDCS_HOSTS=z1:2181,z2:2181\n", "zookeeper", NULL,
                  "zookeeper:\n  hosts:\n  - z1:2181\n  - z2:2181\n");

        DcsConfig *c = NULL;
        char *err = NULL;
        ck_assert_int_eq(dcs_load_from("etcd3: {hosts: 'a:1'}\n", "HOSTIP=fd00::5\nNETWORK=fd00::/64\n", &c, &err),
                         0);
        ck_assert_str_eq(c->source, "/etc/patroni/dcs.yml");
        ck_assert_str_eq(c->hostip, "fd00::5");
        ck_assert_str_eq(c->network, "fd00::/64");
        dcs_config_free(c);
}
END_TEST

START_TEST(test_errors) {
        expect_error(NULL, NULL,
                     "DCS not configured: edit /etc/patroni/dcs.yml, or set DCS_TYPE and DCS_HOSTS in /etc/default/patroni");
        expect_error("# nothing\n", NULL,
                     "DCS not configured: edit /etc/patroni/dcs.yml, or set DCS_TYPE and DCS_HOSTS in /etc/default/patroni");
        expect_error("- etcd3\n", NULL,
                     "/etc/patroni/dcs.yml:1:1: expected a mapping such as \"etcd3: {hosts: ...}\"");
        expect_error("etcd3: {}\n---\nconsul: {}\n", NULL, "/etc/patroni/dcs.yml: holds 2 YAML documents, expected one");
        expect_error("{}\n", NULL, "/etc/patroni/dcs.yml: the mapping is empty");
        expect_error("etcd3:\n  hosts: [a\n", NULL,
                     "/etc/patroni/dcs.yml:3:1: did not find expected ',' or ']' while parsing a flow sequence");
        expect_error("etcd3: &x {hosts: 'a:1'}\n", NULL,
                     "/etc/patroni/dcs.yml:1:8: anchors and aliases are not supported here");
        expect_error(NULL, "DCS_TYPE=etcd3\nDCS_HOST=a:1\n",
                     "/etc/default/patroni:2: unknown key DCS_HOST (known: DCS_TYPE, DCS_HOSTS, DCS_PROTOCOL, "
                     "DCS_CACERT, DCS_CERT, DCS_KEY, DCS_USERNAME, HOSTIP, NETWORK)");
        expect_error(NULL, "DCS_TYPE=redis\nDCS_HOSTS=a:1\n",
                     "/etc/default/patroni:1: DCS_TYPE \"redis\" is not one of etcd3, etcd, consul, zookeeper");
        expect_error(NULL, "DCS_TYPE=etcd3\n", "/etc/default/patroni: DCS_TYPE is set but DCS_HOSTS is missing");
        expect_error(NULL, "DCS_TYPE=etcd3\nDCS_HOSTS=a:1,b\n",
                     "/etc/default/patroni:2: DCS_HOSTS entry \"b\" is not host:port");
        expect_error(NULL, "DCS_TYPE=etcd3\nDCS_HOSTS=a:99999\n",
                     "/etc/default/patroni:2: DCS_HOSTS entry \"a:99999\" is not host:port");
        expect_error(NULL, "DCS_TYPE=consul\nDCS_HOSTS=a:1,b:2\n",
                     "/etc/default/patroni:2: consul takes one host (its local agent), DCS_HOSTS has 2");
        expect_error(NULL, "DCS_TYPE='etcd3\n", "/etc/default/patroni:1: unterminated quote");
        expect_error(NULL, "DCS_HOSTS=$HOSTS\n",
                     "/etc/default/patroni:1: shell expansion is not supported, write the value literally");
        expect_error(NULL, "DCS_TYPE=etcd3 extra\n", "/etc/default/patroni:1: unexpected text after the value");
        expect_error(NULL, "just words\n", "/etc/default/patroni:1: expected KEY=value");
        expect_error(NULL, "DCS_TYPE=etcd3\nDCS_HOSTS=a:1\nDCS_PROTOCOL=ftp\n",
                     "/etc/default/patroni: DCS_PROTOCOL \"ftp\" is not http or https");
        /* A DCS password would be copied into every generated configuration: refused wherever it is. */
        expect_error("etcd3:\n  hosts: 'a:1'\n  username: pat\n  password: s3cret\n", NULL,
                     "/etc/patroni/dcs.yml:4:3: a password does not belong here: it would be copied into every "
                     "generated configuration. Put it in /etc/patroni/env.conf as PATRONI_ETCD3_PASSWORD, with "
                     "PATRONI_ETCD3_PROTOCOL (or PATRONI_<DCS>_...), and keep only the username here");
        expect_error("consul: {host: 'a:1', tls: {Password: x}}\n", NULL,
                     "/etc/patroni/dcs.yml:1:29: a password does not belong here: it would be copied into every "
                     "generated configuration. Put it in /etc/patroni/env.conf as PATRONI_ETCD3_PASSWORD, with "
                     "PATRONI_ETCD3_PROTOCOL (or PATRONI_<DCS>_...), and keep only the username here");
        expect_error(NULL, "DCS_TYPE=etcd3\nDCS_HOSTS=a:1\nDCS_PASSWORD=x\n",
                     "/etc/default/patroni:3: DCS_PASSWORD is refused: it would be copied into every generated "
                     "configuration; put it in /etc/patroni/env.conf as PATRONI_ETCD3_PASSWORD with PATRONI_ETCD3_PROTOCOL "
                     "(_ETCD_ for etcd) and keep DCS_USERNAME here");
}
END_TEST

START_TEST(test_password_as_a_value) {
        /* "password" as a value, or inside a list, is no password key */
        DcsConfig *c = NULL;
        char *err = NULL;

        ck_assert_int_eq(dcs_load_from("etcd3: {hosts: ['password:1'], username: password}\n", NULL, &c, &err), 0);
        dcs_config_free(c);
}
END_TEST

START_TEST(test_load_files) {
        char *root = tmp_root(), *err = NULL, path[4096];
        int rootfd = tmp_rootfd(root);
        DcsConfig *c = NULL;

        tmp_write(root, "etc/default/patroni", "DCS_TYPE=etcd3\nDCS_HOSTS=127.0.0.1:2379\n");
        ck_assert_int_eq(dcs_load(rootfd, &c, &err), 0);
        ck_assert_str_eq(c->source, "/etc/default/patroni");
        dcs_config_free(c);

        tmp_mkdirs(root, "etc/patroni");
        snprintf(path, sizeof(path), "%s/etc/patroni/dcs.yml", root);
        ck_assert_int_eq(symlink("/etc/default/patroni", path), 0);
        ck_assert_int_eq(dcs_load(rootfd, &c, &err), -EINVAL);
        ck_assert_str_eq(err, "/etc/patroni/dcs.yml: cannot read: is a symbolic link, not followed");
        free(err);
        ck_assert_int_eq(unlink(path), 0);

        /* A NUL byte would cut the text short, and what follows it would be ignored: refused, with its line. */
        static const char yml[] = "etcd3:\n  hosts: 127.0.0.1:2379\0\n  protocol: https\n";
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fwrite(yml, 1, sizeof(yml) - 1, f);
        fclose(f);
        ck_assert_int_eq(dcs_load(rootfd, &c, &err), -EINVAL);
        ck_assert_str_eq(err, "/etc/patroni/dcs.yml:2: a NUL byte (not a text file)");
        free(err);
        ck_assert_int_eq(unlink(path), 0);
        snprintf(path, sizeof(path), "%s/etc/default/patroni", root);
        static const char defaults[] = "DCS_TYPE=etcd3\0\nDCS_HOSTS=10.0.0.1:2379\n";
        f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fwrite(defaults, 1, sizeof(defaults) - 1, f);
        fclose(f);
        ck_assert_int_eq(dcs_load(rootfd, &c, &err), -EINVAL);
        ck_assert_str_eq(err, "/etc/default/patroni:1: a NUL byte (not a text file)");
        free(err);
        close(rootfd);
        tmp_root_remove(root);
}
END_TEST

int main(void) {
        Suite *s = suite_create("dcs");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_dcs_yml);
        tcase_add_test(tc, test_defaults);
        tcase_add_test(tc, test_errors);
        tcase_add_test(tc, test_password_as_a_value);
        tcase_add_test(tc, test_load_files);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
