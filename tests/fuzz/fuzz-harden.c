/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Any Patroni configuration, as upgrade reads an admin's: hardening either fails with a message, or gives a
 * configuration that parses and that hardening again leaves as it is (nothing more to change, no secret).
 */
#include "fuzz.h"
#include "harden.h"
#include "yamlutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const HardenTls tls = { "/etc/patroni/tls/ca.pem", "/etc/patroni/tls/host.pem",
                                       "/etc/patroni/tls/host.key" };
        HardenResult r = {}, again = {};
        char *err = NULL, *text = fuzz_string(data, size);
        yaml_document_t d;
        YamlError yerr = {};

        if (harden_config("fuzz.yml", text, size, &tls, NULL, "# h\n", &r, &err) < 0) {
                FUZZ_ASSERT(err != NULL || size == 0, "a failed hardening names its reason");
                goto finish;
        }
        FUZZ_ASSERT(yamlutil_load_bounded(r.text, r.size, &d, &yerr) == 0, "the result does not parse: %s\n%s",
                    yerr.message, r.text);
        yaml_document_delete(&d);
        FUZZ_ASSERT(harden_config("fuzz.yml", r.text, r.size, &tls, NULL, NULL, &again, &err) == 0,
                    "the result cannot be hardened again: %s", err ? err : "?");
        FUZZ_ASSERT(again.n_changes == 0 && again.n_secrets == 0, "hardening twice changed more: %s",
                    again.n_changes ? again.changes[0] : "a secret");
finish:
        harden_result_done(&r);
        harden_result_done(&again);
        free(err);
        free(text);
        return 0;
}
