/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _noreturn_ __attribute__((noreturn))
#define _pure_ __attribute__((pure))

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

/* *RET_ERROR = the message (NULL if out of memory for it); returns R: "return error_set(ret_error, -EINVAL, ...)". */
_printf_(3, 4) static inline int error_set(char **ret_error, int r, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(ret_error, fmt, ap) < 0)
                *ret_error = NULL;
        va_end(ap);
        return r;
}

/* Hand a pointer out of a scope whose cleanup would otherwise free it. */
#define TAKE_PTR(p)                                  \
        ({                                           \
                __typeof__(p) _taken_ = (p);         \
                (p) = NULL;                          \
                _taken_;                             \
        })

#define TAKE_FD(fd)                                  \
        ({                                           \
                int _taken_fd_ = (fd);               \
                (fd) = -1;                           \
                _taken_fd_;                          \
        })

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                (void) close(fd);
                errno = saved;
        }
        return -1;
}

static inline void closep(int *fd) {
        safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f) {
        if (*f)
                (void) fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Always a negative errno, even if errno was (wrongly) left at 0. */
static inline int negative_errno(void) {
        return errno > 0 ? -errno : -EIO;
}

static inline const char *strempty(const char *s) {
        return s ? s : "";
}

static inline const char *strna(const char *s) {
        return s ? s : "n/a";
}

static inline int streq_ptr(const char *a, const char *b);

#include <string.h>
#define streq(a, b) (strcmp((a), (b)) == 0)
static inline int streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return streq(a, b);
}

/* Free N strings and the array that holds them. */
static inline void strv_free(char **v, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

static inline const char *startswith(const char *s, const char *prefix) {
        size_t l = strlen(prefix);
        return strncmp(s, prefix, l) == 0 ? s + l : NULL;
}

static inline int endswith(const char *s, const char *suffix) {
        size_t ls = strlen(s), lx = strlen(suffix);
        return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

/* FNV-1a, 64 bits: a fingerprint of file contents, never a security boundary. Start with HASH_INIT. */
#define HASH_INIT 0xcbf29ce484222325ULL
static inline unsigned long long hash_bytes(unsigned long long h, const void *p, size_t n) {
        const unsigned char *b = p;
        for (size_t i = 0; i < n; i++) {
                h ^= b[i];
                h *= 0x100000001b3ULL;
        }
        return h;
}

/* A TCP port number, 1..65535, and nothing else; -EINVAL otherwise. */
static inline int parse_port(const char *s) {
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || *end || end == s || v < 1 || v > 65535)
                return -EINVAL;
        return (int) v;
}
