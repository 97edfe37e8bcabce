/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Without libFuzzer: run a harness over its seed corpus (tests/fuzz/corpus/NAME,
 * NAME being this program's name without "fuzz-"), or over the files and
 * directories given, as a normal test.
 */
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path) {
        FILE *f = fopen(path, "rb");
        uint8_t *buf = NULL;
        size_t n = 0, a = 0;

        if (!f) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return -1;
        }
        for (;;) {
                if (n == a) {
                        a = a ? a * 2 : 4096;
                        buf = realloc(buf, a);
                        if (!buf)
                                abort();
                }
                size_t k = fread(buf + n, 1, a - n, f);
                if (k == 0)
                        break;
                n += k;
        }
        fclose(f);
        LLVMFuzzerTestOneInput(buf, n);
        free(buf);
        return 0;
}

static int run_path(const char *path, unsigned *count) {
        struct stat st;
        if (stat(path, &st) < 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return -1;
        }
        if (!S_ISDIR(st.st_mode)) {
                (*count)++;
                return run_file(path);
        }
        DIR *d = opendir(path);
        struct dirent *de;
        int r = 0;
        while (d && (de = readdir(d))) {
                char p[4096];
                if (de->d_name[0] == '.')
                        continue;
                snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
                if (run_path(p, count) < 0)
                        r = -1;
        }
        if (d)
                closedir(d);
        return r;
}

int main(int argc, char **argv) {
        unsigned count = 0;
        int r = 0;

        if (argc > 1) {
                for (int i = 1; i < argc; i++)
                        r |= run_path(argv[i], &count);
        } else {
                char self[4096], dir[4096];
                snprintf(self, sizeof(self), "%s", argv[0]);
                const char *name = basename(self);
                if (strncmp(name, "fuzz-", 5) == 0)
                        name += 5;
                snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s", TOP_SRCDIR, name);
                r = run_path(dir, &count);
        }
        printf("# %u passed, %d failed, 0 skipped (inputs replayed)\n", r < 0 ? 0 : count, r < 0);
        return r < 0 || count == 0;
}
