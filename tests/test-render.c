/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "render.h"
#include "testutil.h"

static YamlEvents dcs_events(const char *text) {
        YamlEvents all = {}, pairs = {};
        YamlError err = {};

        ck_assert_int_eq(yamlutil_events_parse(text, strlen(text), &all, &err), 0);
        /* stream, document, mapping start ... mapping end, document end, stream end */
        for (size_t i = 3; i + 3 < all.n; i++)
                ck_assert_int_eq(yamlutil_events_push_copy(&pairs, &all.ev[i]), 0);
        yamlutil_events_done(&all);
        return pairs;
}

static char *render(const char *tpl, const char *const *values, const char *dcs) {
        Template *t = NULL;
        YamlEvents d = {};
        char *err = NULL, *out = NULL;

        ck_assert_msg(template_parse("/t.yml.in", tpl, strlen(tpl), TEMPLATE_CONFIG, &t, &err) == 0, "parse: %s", err);
        if (dcs)
                d = dcs_events(dcs);
        ck_assert_msg(template_render(t, values, dcs ? &d : NULL, NULL, &out, NULL, &err) == 0, "render: %s", err);
        yamlutil_events_done(&d);
        template_free(t);
        return out;
}

static void expect_parse_error(const char *tpl, TemplateKind kind, const char *message) {
        Template *t = NULL;
        char *err = NULL;

        ck_assert_int_eq(template_parse("/t.yml.in", tpl, strlen(tpl), kind, &t, &err), -EINVAL);
        ck_assert_ptr_null(t);
        ck_assert_msg(err && strcmp(err, message) == 0, "got \"%s\", expected \"%s\"", err, message);
        free(err);
}

static const char *values_default[_PH_CONFIG_MAX] = {
        [PH_VERSION] = "15",      [PH_CLUSTER] = "main",          [PH_HOSTNAME] = "node1",
        [PH_HOSTIP] = "10.0.0.5", [PH_NETWORK] = "10.0.0.0/24",   [PH_PORT] = "5432",
        [PH_API_PORT] = "8008",   [PH_DATADIR_BASE] = "/var/lib/postgresql", [PH_LISTEN_VIP] = "",
};

START_TEST(test_basic) {
        char *out = render("scope: \"@VERSION@-@CLUSTER@\"\n"
                           "name: @HOSTNAME@\n"
                           "\n"
                           "@DCS_CONFIG@\n"
                           "\n"
                           "restapi:\n"
                           "  listen: @HOSTIP@:@API_PORT@\n"
                           "postgresql:\n"
                           "  port: @PORT@\n"
                           "  data_dir: @DATADIR_BASE@/@VERSION@/@CLUSTER@\n"
                           "  listen: \"@HOSTIP@@LISTEN_VIP@,127.0.0.1:@PORT@\"\n"
                           "  pg_hba:\n"
                           "  - host replication all @NETWORK@ md5\n"
                           "# a comment with @PORT@\n",
                           values_default, "etcd3:\n  hosts: 127.0.0.1:2379\n");
        ck_assert_str_eq(out, "scope: \"15-main\"\n"
                              "name: node1\n"
                              "\n"
                              "etcd3:\n"
                              "  hosts: 127.0.0.1:2379\n"
                              "\n"
                              "restapi:\n"
                              "  listen: 10.0.0.5:8008\n"
                              "\n"
                              "postgresql:\n"
                              "  port: 5432\n"
                              "  data_dir: /var/lib/postgresql/15/main\n"
                              "  listen: \"10.0.0.5,127.0.0.1:5432\"\n"
                              "  pg_hba:\n"
                              "  - host replication all 10.0.0.0/24 md5\n");
        free(out);
}
END_TEST

START_TEST(test_hostile_values) {
        const char *v[_PH_CONFIG_MAX];
        memcpy(v, values_default, sizeof(v));
        v[PH_HOSTNAME] = "null";           /* would load as None */
        v[PH_CLUSTER] = "a: b #c '\"&/";   /* every character sed and YAML trip on */
        v[PH_DATADIR_BASE] = "/srv/ü & co"; /* unicode and '&' */
        v[PH_HOSTIP] = "[fd00::5]";        /* starts with a flow indicator */
        v[PH_PORT] = "8008";

        char *out = render("name: @HOSTNAME@\n"
                           "cluster: @CLUSTER@\n"
                           "quoted: '@CLUSTER@'\n"
                           "dir: @DATADIR_BASE@/x\n"
                           "addr: @HOSTIP@:@PORT@\n"
                           "port: @PORT@\n"
                           "portstr: \"@PORT@\"\n"
                           "tagged: !!str @PORT@\n"
                           "empty: @LISTEN_VIP@\n",
                           v, NULL);
        ck_assert_str_eq(out, "name: 'null'\n"
                              "cluster: 'a: b #c ''\"&/'\n"
                              "quoted: 'a: b #c ''\"&/'\n"
                              "dir: /srv/ü & co/x\n"
                              "addr: '[fd00::5]:8008'\n"
                              "port: 8008\n"
                              "portstr: \"8008\"\n"
                              "tagged: !!str 8008\n"
                              "empty: ''\n");
        free(out);
}
END_TEST

START_TEST(test_numeric_only_when_whole) {
        const char *v[_PH_CONFIG_MAX];
        memcpy(v, values_default, sizeof(v));
        v[PH_HOSTNAME] = "1234";
        char *out = render("name: @HOSTNAME@\nport: @PORT@\nmix: @PORT@0\n", v, NULL);
        /* a host name of digits stays a string; @PORT@ alone is an integer */
        ck_assert_str_eq(out, "name: '1234'\nport: 5432\nmix: '54320'\n");
        free(out);
}
END_TEST

START_TEST(test_dcs_splice_nested) {
        char *out = render("a: 1\nsection:\n  @DCS_CONFIG@\n  b: 2\n", values_default,
                           "consul: {host: 'c:8500', token: \"t/&: x\"}\n");
        ck_assert_str_eq(out, "a: 1\n\nsection:\n  consul: {host: 'c:8500', token: \"t/&: x\"}\n  b: 2\n");
        free(out);
}
END_TEST

START_TEST(test_errors) {
        expect_parse_error("a: 1\nb: @NOPE@\n", TEMPLATE_CONFIG,
                           "/t.yml.in:2: unknown placeholder @NOPE@ (known: @VERSION@ @CLUSTER@ @HOSTNAME@ @HOSTIP@ "
                           "@NETWORK@ @PORT@ @API_PORT@ @DATADIR_BASE@ @LISTEN_VIP@ @DCS_CONFIG@)");
        expect_parse_error("# @VIP_IP@ in a comment\n", TEMPLATE_CONFIG,
                           "/t.yml.in:1: unknown placeholder @VIP_IP@ (known: @VERSION@ @CLUSTER@ @HOSTNAME@ @HOSTIP@ "
                           "@NETWORK@ @PORT@ @API_PORT@ @DATADIR_BASE@ @LISTEN_VIP@ @DCS_CONFIG@)");
        expect_parse_error("ip: @PORT@\n", TEMPLATE_VIP,
                           "/t.yml.in:1: unknown placeholder @PORT@ (known: @VIP_IP@ @VIP_MASK@ @VIP_IFACE@ @VIP_KEY@ "
                           "@VIP_HOST@ @VIP_TYPE@ @VIP_ENDPOINT@)");
        expect_parse_error("a: @DCS_CONFIG@\n", TEMPLATE_CONFIG,
                           "/t.yml.in:1:4: @DCS_CONFIG@ must stand alone on its line, where a mapping key could be");
        expect_parse_error("a:\n- x\n- @DCS_CONFIG@\n", TEMPLATE_CONFIG,
                           "/t.yml.in:3:3: @DCS_CONFIG@ must stand alone on its line, where a mapping key could be");
        expect_parse_error("@DCS_CONFIG@\nb: 1\n@DCS_CONFIG@\n", TEMPLATE_CONFIG,
                           "/t.yml.in:3: @DCS_CONFIG@ appears twice (first on line 1)");
        expect_parse_error("a: 1\n b: 2\n", TEMPLATE_CONFIG,
                           "/t.yml.in:2:3: mapping values are not allowed in this context");
        expect_parse_error("scope: @VERSION@\n\tname: x\n", TEMPLATE_CONFIG,
                           "/t.yml.in:2:1: found a tab character that violates indentation while scanning a plain scalar");
        expect_parse_error("- a\n- b\n", TEMPLATE_CONFIG, "/t.yml.in:1:1: the template must be a YAML mapping");
        expect_parse_error("a: 1\n---\nb: 2\n", TEMPLATE_CONFIG, "/t.yml.in: holds 2 YAML documents, expected one");
        expect_parse_error("", TEMPLATE_CONFIG, "/t.yml.in: holds 0 YAML documents, expected one");
}
END_TEST

START_TEST(test_invalid_utf8_value) {
        /* Found by fuzz-values: libyaml emitted "\U001B9E79", which its parser refuses. */
        const char *v[_PH_CONFIG_MAX];
        Template *t = NULL;
        char *err = NULL, *out = NULL;
        const char *tpl = "a: @VERSION@\n";

        memcpy(v, values_default, sizeof(v));
        v[PH_VERSION] = "\xf6\xb9\xb9\xb9";
        ck_assert_int_eq(template_parse("/t", tpl, strlen(tpl), TEMPLATE_CONFIG, &t, &err), 0);
        ck_assert_int_eq(template_render(t, v, NULL, NULL, &out, NULL, &err), -EINVAL);
        ck_assert_str_eq(err, "/t: the value for @VERSION@ is not valid UTF-8");
        free(err);
        template_free(t);
}
END_TEST

START_TEST(test_nul_byte) {
        Template *t = NULL;
        char *err = NULL;
        ck_assert_int_eq(template_parse("/t", "a: 1\n\0b: 2\n", 11, TEMPLATE_CONFIG, &t, &err), -EINVAL);
        ck_assert_str_eq(err, "/t:2: NUL byte in template");
        free(err);
}
END_TEST

START_TEST(test_dcs_missing) {
        Template *t = NULL;
        char *err = NULL, *out = NULL;
        const char *tpl = "a: 1\n@DCS_CONFIG@\n";

        ck_assert_int_eq(template_parse("/t", tpl, strlen(tpl), TEMPLATE_CONFIG, &t, &err), 0);
        ck_assert(template_uses_dcs(t));
        ck_assert_int_eq(template_render(t, values_default, NULL, NULL, &out, NULL, &err), -EINVAL);
        ck_assert_str_eq(err, "/t: has @DCS_CONFIG@ but no DCS configuration was given");
        free(err);
        template_free(t);
}
END_TEST

START_TEST(test_marker_clash) {
        /* The template happens to contain the first internal marker: another is chosen. */
        char *out = render("note: Qz\nport: @PORT@\n", values_default, NULL);
        ck_assert_str_eq(out, "note: Qz\nport: 5432\n");
        free(out);
}
END_TEST

/* vip-manager's environment format: the values filled in, quoted and escaped as systemd reads them. */
START_TEST(test_vip_env) {
        static const char tpl[] = "# comment kept\n\nVIP_IP=\"@VIP_IP@\"\nexport VIP_MASK=@VIP_MASK@ # bare\n"
                                  "VIP_KEY='@VIP_KEY@'\nVIP_HOST=\"x-@VIP_HOST@-@NOT_ONE@\"\n";
        const char *values[_PH_VIP_MAX] = { [PH_VIP_IP] = "10.0.0.9", [PH_VIP_MASK] = "24",
                                            [PH_VIP_KEY] = "/ns/15-main/leader", [PH_VIP_HOST] = "a\"b\\c$d" };
        Template *t = NULL;
        char *err = NULL, *out = NULL;

        ck_assert_int_eq(template_parse("/vip.in", tpl, strlen(tpl), TEMPLATE_VIP, &t, &err), 0);
        ck_assert(template_is_env(t));
        ck_assert(!template_uses_dcs(t));
        ck_assert_int_eq(template_render(t, values, NULL, "# head\n", &out, NULL, &err), 0);
        ck_assert_str_eq(out, "# head\n# comment kept\n\nVIP_IP=\"10.0.0.9\"\nVIP_MASK=\"24\"\n"
                              "VIP_KEY=\"/ns/15-main/leader\"\nVIP_HOST=\"x-a\\\"b\\\\c$d-@NOT_ONE@\"\n");
        free(out);
        /* a line break in a value would end it early: refused, nothing written */
        values[PH_VIP_HOST] = "a\nVIP_IP=6.6.6.6";
        ck_assert_int_eq(template_render(t, values, NULL, NULL, &out, NULL, &err), -EINVAL);
        ck_assert_str_eq(err, "/vip.in: the value for VIP_HOST would hold a control character");
        free(err);
        template_free(t);

        expect_parse_error("VIP_IP=\"@VIP_IP@\"\nnot a line\n", TEMPLATE_VIP,
                           "/t.yml.in:2: expected KEY=\"value\" (the environment format vip-manager reads)");
        expect_parse_error("# x\nVIP_IP=\"@VIP_IP@\n", TEMPLATE_VIP,
                           "/t.yml.in:2: the value of VIP_IP: an unterminated quote, or text after it");
        expect_parse_error("VIP_IP=\"a\" b\n", TEMPLATE_VIP,
                           "/t.yml.in:1: the value of VIP_IP: an unterminated quote, or text after it");
        /* a configuration template is YAML whatever it looks like */
        expect_parse_error("A=b\n", TEMPLATE_CONFIG, "/t.yml.in:1:1: the template must be a YAML mapping");
}
END_TEST

START_TEST(test_vip_yaml_to_env) {
        static const char yaml[] = "ip: 10.0.0.9\nnetmask: 24\ndcs-endpoints: [http://a:2379, http://b:2379]\n";
        char *out = NULL, *err = NULL;

        ck_assert_int_eq(template_vip_env_from_yaml("/vip.in", yaml, strlen(yaml), NULL, &out, NULL, &err), 0);
        ck_assert_str_eq(out, "VIP_IP=\"10.0.0.9\"\nVIP_NETMASK=\"24\"\nVIP_DCS_ENDPOINTS=\"http://a:2379,http://b:2379\"\n");
        free(out);
        ck_assert_int_eq(template_vip_env_from_yaml("/vip.in", "ip: {a: b}\n", 11, NULL, &out, NULL, &err), -EINVAL);
        ck_assert_str_eq(err, "/vip.in: ip: expected a value or a list");
        free(err);
        ck_assert_int_eq(template_vip_env_from_yaml("/vip.in", "i p: x\n", 7, NULL, &out, NULL, &err), -EINVAL);
        ck_assert_str_eq(err, "/vip.in: \"i p\" is no vip-manager setting");
        free(err);
        static const char nl[] = "ip: \"a\\nb\"\n";
        ck_assert_int_eq(template_vip_env_from_yaml("/vip.in", nl, strlen(nl), NULL, &out, NULL, &err), -EINVAL);
        ck_assert_str_eq(err, "/vip.in: the value of ip would hold a control character");
        free(err);
}
END_TEST

int main(void) {
        Suite *s = suite_create("render");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_basic);
        tcase_add_test(tc, test_vip_env);
        tcase_add_test(tc, test_vip_yaml_to_env);
        tcase_add_test(tc, test_hostile_values);
        tcase_add_test(tc, test_numeric_only_when_whole);
        tcase_add_test(tc, test_dcs_splice_nested);
        tcase_add_test(tc, test_errors);
        tcase_add_test(tc, test_nul_byte);
        tcase_add_test(tc, test_invalid_utf8_value);
        tcase_add_test(tc, test_dcs_missing);
        tcase_add_test(tc, test_marker_clash);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
