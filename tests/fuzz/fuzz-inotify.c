/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Any buffer as read from an inotify fd: walked within bounds, names checked as configuration names. */
#include "fuzz.h"
#include "watch.h"

static void on_event(void *u, int wd, uint32_t mask, const char *name) {
        char v[32], c[64];
        (void) wd;
        (void) mask;
        (*(unsigned *) u)++;
        if (name && watch_config_name(name, v, sizeof(v), c, sizeof(c)))
                FUZZ_ASSERT(strlen(v) > 0 && strlen(c) > 0, "empty version or cluster from %s", name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        unsigned n = 0;
        /* copy: the walker must not rely on the caller's alignment or on bytes past the end */
        uint8_t *buf = malloc(size ? size : 1);
        if (!buf)
                abort();
        memcpy(buf, data, size);
        (void) watch_parse_events(buf, size, on_event, &n);
        free(buf);
        return 0;
}
