/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Any template: parsing either fails with a message or the rendered output is valid YAML. */
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
