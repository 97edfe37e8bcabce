/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Any values (split at \x01) in plain, double- and single-quoted scalars of a
 * fixed template: the output parses, and each scalar reads back exactly as the
 * value (a plain lone @PORT@ may be an integer; a value that is not UTF-8 may be
 * refused, never emitted broken).
 */
#include <yaml.h>

#include "fuzz.h"
#include "render.h"

static const char tpl[] = "a: @VERSION@\n"
                          "b: \"@CLUSTER@\"\n"
                          "c: '@HOSTNAME@'\n"
                          "d: x@HOSTIP@y\n"
                          "e: [@NETWORK@, \"@DATADIR_BASE@\"]\n"
                          "@LISTEN_VIP@k: @API_PORT@\n"
                          "f:\n  - @PORT@@PORT@\n";

static const char *scalar_at(yaml_document_t *d, const char *key) {
        yaml_node_t *root = yaml_document_get_root_node(d);
        if (!root || root->type != YAML_MAPPING_NODE)
                return NULL;
        for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
                yaml_node_t *k = yaml_document_get_node(d, p->key), *v = yaml_document_get_node(d, p->value);
                if (k->type == YAML_SCALAR_NODE && strcmp((char *) k->data.scalar.value, key) == 0)
                        return v->type == YAML_SCALAR_NODE ? (char *) v->data.scalar.value : NULL;
        }
        return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *values[_PH_CONFIG_MAX] = { "", "", "", "", "", "5432", "", "", "" };
        char *text = fuzz_string(data, size), *p = text, *err = NULL, *out = NULL;
        Template *t = NULL;
        size_t out_size;
        int slot[] = { PH_VERSION, PH_CLUSTER, PH_HOSTNAME, PH_HOSTIP, PH_NETWORK, PH_DATADIR_BASE, PH_API_PORT,
                       PH_LISTEN_VIP };

        for (size_t i = 0; i < sizeof(slot) / sizeof(*slot) && p; i++) {
                char *sep = strchr(p, '\x01');
                if (sep)
                        *sep = 0;
                values[slot[i]] = p;
                p = sep ? sep + 1 : NULL;
        }
        if (strlen(text) != size && !p) {
                /* a NUL inside a value: values are C strings, the rest is cut off; fine */
        }
        if (template_parse("v.yml.in", tpl, sizeof(tpl) - 1, TEMPLATE_CONFIG, &t, &err) < 0)
                abort();
        if (template_render(t, values, NULL, NULL, &out, &out_size, &err) >= 0) {
                yaml_parser_t parser;
                yaml_document_t doc;
                yaml_parser_initialize(&parser);
                yaml_parser_set_input_string(&parser, (unsigned char *) out, out_size);
                FUZZ_ASSERT(yaml_parser_load(&parser, &doc), "output does not parse:\n%s", out);
                const char *a = scalar_at(&doc, "a"), *b = scalar_at(&doc, "b"), *c = scalar_at(&doc, "c");
                if (!strchr(values[PH_LISTEN_VIP], ':') && !values[PH_LISTEN_VIP][0]) {
                        FUZZ_ASSERT(a && strcmp(a, values[PH_VERSION]) == 0, "a=[%s] want [%s]\n%s", a,
                                    values[PH_VERSION], out);
                        FUZZ_ASSERT(b && strcmp(b, values[PH_CLUSTER]) == 0, "b=[%s]\n%s", b, out);
                        FUZZ_ASSERT(c && strcmp(c, values[PH_HOSTNAME]) == 0, "c=[%s]\n%s", c, out);
                }
                yaml_document_delete(&doc);
                yaml_parser_delete(&parser);
        }
        template_free(t);
        free(err);
        free(out);
        free(text);
        return 0;
}
