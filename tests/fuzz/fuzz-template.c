/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Any template: parsing either fails with a message or the rendered output is valid YAML; as a VIP template
 * in the environment format, every line of the output is a comment, blank, or KEY="value" as systemd reads it.
 */
#include "fuzz.h"
#include "log.h"
#include "render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const values[_PH_CONFIG_MAX] = {
                "15", "main", "node1", "10.0.0.5", "10.0.0.0/24", "5432", "8008", "/var/lib/postgresql", ",10.0.0.9",
        };
        const char *dcs_text = "etcd3:\n  hosts: 127.0.0.1:2379\n";
        YamlEvents all = {}, dcs = {}, out_ev = {};
        YamlError yerr = {};
        Template *t = NULL;
        char *err = NULL, *out = NULL;
        size_t out_size;
        char *text = fuzz_string(data, size);

        if (template_parse("fuzz.yml.in", text, size, TEMPLATE_CONFIG, &t, &err) < 0) {
                FUZZ_ASSERT(err != NULL, "a failed parse names its reason");
                goto finish;
        }
        if (yamlutil_events_parse(dcs_text, strlen(dcs_text), &all, &yerr) < 0)
                abort();
        for (size_t i = 3; i + 3 < all.n; i++)
                yamlutil_events_push_copy(&dcs, &all.ev[i]);
        if (template_render(t, values, &dcs, "# h\n", &out, &out_size, &err) >= 0) {
                int r = yamlutil_events_parse(out, out_size, &out_ev, &yerr);
                FUZZ_ASSERT(r == 0, "rendered output does not parse: %s at %zu:%zu\n%s", yerr.message, yerr.line,
                            yerr.column, out);
        }
        /* The same text as a VIP template. */
        template_free(t);
        t = NULL;
        free(err);
        err = NULL;
        if (template_parse("fuzz.vip.in", text, size, TEMPLATE_VIP, &t, &err) >= 0 && template_is_env(t)) {
                static const char *const vip[_PH_VIP_MAX] = { "10.0.0.9", "24", "eth0", "/ns/15-main/leader",
                                                              "a\"b\\c$d", "etcd", "http://127.0.0.1:2379" };
                char *env = NULL;
                if (template_render(t, vip, NULL, NULL, &env, NULL, &err) >= 0) {
                        for (const char *l = env; *l;) {
                                const char *eol = strchr(l, '\n');
                                FUZZ_ASSERT(eol, "the output ends with a line break");
                                const char *k = l;
                                while (k < eol && (*k == '_' || (*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z') ||
                                                   (*k >= '0' && *k <= '9')))
                                        k++;
                                bool comment = true;
                                for (const char *c = l; c < eol && comment; c++)
                                        comment = *c == ' ' || *c == '\t';
                                comment = comment || *l == '#' || *l == ';' ||
                                          (strspn(l, " \t") < (size_t) (eol - l) && (l[strspn(l, " \t")] == '#' ||
                                                                                    l[strspn(l, " \t")] == ';'));
                                if (!comment) {
                                        FUZZ_ASSERT(k > l && k[0] == '=' && k[1] == '"' && eol[-1] == '"' && eol - 1 > k + 1,
                                                    "not KEY=\"value\": %.*s", (int) (eol - l), l);
                                        for (const char *c = k + 2; c < eol - 1; c++) {
                                                FUZZ_ASSERT((unsigned char) *c >= 0x20 && *c != 0x7f, "a control character");
                                                if (*c == '\\')
                                                        c++;
                                                else
                                                        FUZZ_ASSERT(*c != '"', "an unescaped quote: %.*s", (int) (eol - l), l);
                                        }
                                }
                                l = eol + 1;
                        }
                }
                free(env);
        }
finish:
        yamlutil_events_done(&all);
        yamlutil_events_done(&dcs);
        yamlutil_events_done(&out_ev);
        template_free(t);
        free(err);
        free(out);
        free(text);
        return 0;
}
