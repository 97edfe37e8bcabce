/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Any dcs.yml and /etc/default/patroni (split at the first \x01): refused, or pairs that emit as valid YAML. */
#include "dcs.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = fuzz_string(data, size), *sep = strchr(text, '\x01'), *err = NULL, *out = NULL;
        const char *yml = text, *defaults = NULL;
        DcsConfig *c = NULL;

        if (sep) {
                *sep = 0;
                defaults = sep + 1;
        }
        if (yml[0] == '-' && yml[1] == 0)
                yml = NULL; /* "-": no dcs.yml at all */
        if (dcs_load_from(yml, defaults, &c, &err) >= 0) {
                YamlEvents all = {};
                yaml_event_t ev;
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
                if (yamlutil_events_emit(all.ev, all.n, &out, NULL) >= 0) {
                        YamlEvents back = {};
                        YamlError e = {};
                        FUZZ_ASSERT(yamlutil_events_parse(out, strlen(out), &back, &e) == 0, "emitted DCS does not parse: %s",
                                    out);
                        yamlutil_events_done(&back);
                }
                FUZZ_ASSERT(c->type && c->source, "type and source are set");
                yamlutil_events_done(&all);
        } else
                FUZZ_ASSERT(err != NULL, "a refusal says why");
        dcs_config_free(c);
        free(err);
        free(out);
        free(text);
        return 0;
}
