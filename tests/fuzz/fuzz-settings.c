/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Any settings file: parsed, or refused with a message naming the file. */
#include "conf.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = fuzz_string(data, size), *err = NULL, unit[300];
        Settings *s = NULL;

        if (settings_parse("/s.yml", text, size, &s, &err) >= 0) {
                FUZZ_ASSERT(s->unit && strstr(s->unit, "%i"), "unit pattern without %%i");
                (void) settings_in_scope(s, "15", "main");
                FUZZ_ASSERT(settings_unit_name(s, "15", "main", unit, sizeof(unit)) == 0, "unit name");
        } else
                FUZZ_ASSERT(!err || strncmp(err, "/s.yml", 6) == 0, "error without the file name: %s", err);
        settings_free(s);
        free(err);
        free(text);
        return 0;
}
