/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of the input. */
static inline char *fuzz_string(const uint8_t *data, size_t size) {
        char *s = malloc(size + 1);
        if (!s)
                abort();
        memcpy(s, data, size);
        s[size] = 0;
        return s;
}

/* A property that must hold for every input: fail loudly, as a sanitizer would. */
#define FUZZ_ASSERT(cond, ...)                                                                  \
        do {                                                                                    \
                if (!(cond)) {                                                                  \
                        fprintf(stderr, "fuzz property violated: %s: ", #cond);                 \
                        fprintf(stderr, __VA_ARGS__);                                           \
                        fputc('\n', stderr);                                                    \
                        abort();                                                                \
                }                                                                               \
        } while (0)
