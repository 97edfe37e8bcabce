/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Render, validate and write N configurations (default 1000) for N pg-common
 * clusters in a relocated root, with the inputs loaded once as the daemon
 * does, and print microseconds per configuration: written one by one (the
 * CLI's path) and as one batch (the daemon's start-up). Figures, not
 * assertions.
 *
 *   bench-generate TEMPLATE [N] [DIR]
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "generate.h"
#include "log.h"

static double now_us(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e6 + (double) ts.tv_nsec / 1e3;
}

static void put(int dirfd, const char *rel, const char *text) {
        int fd = openat(dirfd, rel, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        size_t l = strlen(text);
        if (fd < 0 || write(fd, text, l) != (ssize_t) l || close(fd) != 0) {
                perror(rel);
                exit(EXIT_FAILURE);
        }
}

static void mk(int dirfd, const char *rel) {
        if (mkdirat(dirfd, rel, 0755) < 0 && errno != EEXIST) {
                perror(rel);
                exit(EXIT_FAILURE);
        }
}

static void make_tree(const char *root, int n) {
        static const char *const dirs[] = { "etc", "etc/patroni", "etc/postgresql", "etc/postgresql/15", "usr",
                                            "usr/lib", "usr/lib/postgresql", "usr/lib/postgresql/15",
                                            "usr/lib/postgresql/15/bin" };
        int dirfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        for (size_t i = 0; i < sizeof(dirs) / sizeof(*dirs); i++)
                mk(dirfd, dirs[i]);
        put(dirfd, "etc/patroni/dcs.yml",
            "etcd3:\n  hosts:\n  - 10.231.0.1:2379\n  - 10.231.0.2:2379\n  - 10.231.0.3:2379\n");
        for (int i = 0; i < n; i++) {
                char rel[64], conf[64];
                snprintf(rel, sizeof(rel), "etc/postgresql/15/c%04d", i % 10000);
                mk(dirfd, rel);
                snprintf(rel, sizeof(rel), "etc/postgresql/15/c%04d/postgresql.conf", i % 10000);
                snprintf(conf, sizeof(conf), "port = %d\n", 5432 + i);
                put(dirfd, rel, conf);
        }
        close(dirfd);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) ftw;
        return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* The file system's own cost of creating a small file, no sync: the floor for any writer. */
static double create_floor_us(const char *base) {
        char dir[4096], text[3000];
        double t0, t1;
        int dfd;

        memset(text, '#', sizeof(text));
        snprintf(dir, sizeof(dir), "%s/pdd-floor-XXXXXX", base);
        if (!mkdtemp(dir) || (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                return -1;
        t0 = now_us();
        for (int i = 0; i < 200; i++) {
                char name[16];
                snprintf(name, sizeof(name), "f%d", i);
                int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                if (fd < 0 || write(fd, text, sizeof(text)) != (ssize_t) sizeof(text))
                        return -1;
                close(fd);
        }
        t1 = now_us();
        close(dfd);
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        return (t1 - t0) / 200;
}

typedef struct Figures {
        double load_ms, render_us, total_us;
        long rss_kib;
} Figures;

/* One run on a fresh root: render N configs, write them one by one or as one batch. */
static int bench_once(const char *tmpl, int n, const char *base, bool batch, Figures *f) {
        GenPaths paths = { .template = tmpl };
        GenInputs *in = NULL;
        GenError err = {};
        GenOutput *outs = calloc((size_t) n, sizeof(GenOutput));
        GenError *errs = calloc((size_t) n, sizeof(GenError));
        struct rusage ru;
        char root[4096];
        double t0, t1, t2, render_us = 0;
        int rootfd;

        snprintf(root, sizeof(root), "%s/pdd-bench-XXXXXX", base);
        if (!outs || !errs || !mkdtemp(root)) {
                perror("mkdtemp");
                return -1;
        }
        make_tree(root, n);

        rootfd = fs_open_root(root);
        t0 = now_us();
        if (gen_inputs_load(rootfd, root, &paths, &in, &err) < 0) {
                fprintf(stderr, "load: %s\n", err.message);
                return -1;
        }
        t1 = now_us();
        for (int i = 0; i < n; i++) {
                char name[16];
                GenRequest req = { .version = "15", .cluster = name, .hostip = "10.231.0.5",
                                   .network = "10.231.0.0/24" };
                double r0 = now_us();

                snprintf(name, sizeof(name), "c%04d", i);
                if (gen_render(in, &req, &outs[i], &err) < 0) {
                        fprintf(stderr, "render %s: %s\n", name, err.message);
                        return -1;
                }
                render_us += now_us() - r0;
                if (!batch) {
                        if (gen_write(in, &outs[i], false, &err) < 0) {
                                fprintf(stderr, "write %s: %s\n", name, err.message);
                                return -1;
                        }
                        gen_output_done(&outs[i]);
                }
        }
        if (batch && gen_write_many(in, outs, (size_t) n, false, errs) > 0) {
                fprintf(stderr, "batch write failed: %s\n", errs[0].message ? errs[0].message : "?");
                return -1;
        }
        t2 = now_us();
        getrusage(RUSAGE_SELF, &ru);
        *f = (Figures){ .load_ms = (t1 - t0) / 1e3, .render_us = render_us / n, .total_us = (t2 - t1) / n,
                        .rss_kib = ru.ru_maxrss };

        for (int i = 0; i < n; i++) {
                gen_output_done(&outs[i]);
                gen_error_done(&errs[i]);
        }
        free(outs);
        free(errs);
        gen_inputs_free(in);
        close(rootfd);
        nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        return 0;
}

int main(int argc, char **argv) {
        const char *tmpl = argc > 1 ? argv[1] : NULL;
        int n = argc > 2 ? atoi(argv[2]) : 1000;
        const char *base = argc > 3 ? argv[3] : (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        Figures one, many;

        if (!tmpl || n <= 0 || n > 10000) {
                fprintf(stderr, "usage: %s TEMPLATE [N (1-10000)] [DIR]\n", argv[0]);
                return EXIT_FAILURE;
        }
        log_set_max_level(LOG_WARNING);
        if (bench_once(tmpl, n, base, false, &one) < 0 || bench_once(tmpl, n, base, true, &many) < 0)
                return EXIT_FAILURE;

        printf("patroni-debianctl generate: %d configs in %s\n", n, base);
        printf("  inputs loaded once (template, DCS, %d clusters): %.1f ms\n", n, one.load_ms);
        printf("  render + validate:                      %8.1f us per config\n", one.render_us);
        printf("  render + validate + write, one by one:  %8.1f us per config (fsync, rename, fsync dir each)\n",
               one.total_us);
        printf("  render + validate + write, as a batch:  %8.1f us per config (the daemon's start-up)\n",
               many.total_us);
        printf("  peak RSS: %ld KiB\n", many.rss_kib);
        printf("  file system floor: creating one 3 KB file, no sync: %.1f us\n", create_floor_us(base));
        return EXIT_SUCCESS;
}
