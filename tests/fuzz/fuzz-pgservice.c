/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pg_service.conf as the daemon reads it before it rewrites it: any bytes are either refused with a
 * message that names the file and a line, or parsed; a parsed file rendered with our services keeps the
 * admin's bytes (before and after our block) exactly, parses again, and renders again to the same bytes.
 */
#include <errno.h>

#include "fuzz.h"
#include "macro.h"
#include "pgservice.h"

#define PATH "/etc/postgresql-common/pg_service.conf"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        PgServiceFile f = {}, again = {};
        PgService s = { .name = strdup("15-main") };
        char *text = fuzz_string(data, size), *err = NULL, *out = NULL, *out2 = NULL, **left = NULL;
        size_t out_size, out2_size, n_left = 0;

        if (!s.name || pgservice_add_member(&s, "10.0.0.1", 5432) != 1 || pgservice_add_member(&s, "fd00::2", 5433) != 1)
                abort();
        int r = pgservice_file_parse(PATH, text, size, &f, &err);
        if (r < 0) {
                FUZZ_ASSERT(r == -EINVAL && err && strncmp(err, PATH, strlen(PATH)) == 0, "refused without a reason: %d",
                            r);
                goto done;
        }
        FUZZ_ASSERT(strlen(f.head) + strlen(f.tail) <= size, "the admin's bytes grew");
        FUZZ_ASSERT(pgservice_file_render(&f, &s, 1, NULL, &out, &out_size, &left, &n_left) == 0, "render");
        strv_free(left, n_left);
        left = NULL;
        /* the admin's bytes, in place */
        FUZZ_ASSERT(strncmp(out, f.head, strlen(f.head)) == 0, "head changed");
        FUZZ_ASSERT(out_size >= strlen(f.tail) && streq(out + out_size - strlen(f.tail), f.tail), "tail changed");
        /* what we write reads back, and is written the same again */
        r = pgservice_file_parse(PATH, out, out_size, &again, &err);
        FUZZ_ASSERT(r == 0, "our own output refused: %s", strna(err));
        FUZZ_ASSERT(pgservice_file_render(&again, &s, 1, NULL, &out2, &out2_size, &left, &n_left) == 0, "render again");
        FUZZ_ASSERT(out2_size == out_size && memcmp(out, out2, out_size) == 0, "not stable");
done:
        strv_free(left, n_left);
        free(out);
        free(out2);
        free(err);
        free(text);
        pgservice_file_done(&f);
        pgservice_file_done(&again);
        pgservice_done(&s);
        return 0;
}
