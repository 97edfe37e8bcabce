/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Any postgresql.conf / createcluster.conf text, and any start.conf. Includes resolve in an empty root. */
#include <fcntl.h>
#include <unistd.h>

#include "fuzz.h"
#include "pgcommon.h"
#include "pgconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static int rootfd = -1;
        char *text = fuzz_string(data, size), *err = NULL, *word = NULL;
        PgConf *c = calloc(1, sizeof(PgConf));
        StartConf sc;

        if (rootfd < 0) {
                char dir[] = "/tmp/pdd-fuzz-XXXXXX";
                if (!mkdtemp(dir) || (rootfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
                        abort();
                rmdir(dir); /* an empty root that no longer has a name: nothing to include */
        }
        if (pgconf_parse_text(rootfd, "/etc/postgresql/15/main/postgresql.conf", text, size, c, &err) < 0)
                /* the error names the file it is about: this one, or an included one */
                FUZZ_ASSERT(err != NULL && err[0] == '/' && strchr(err, ':'), "error without a file: %s", err);
        else
                (void) pgconf_get(c, "port");
        if (pgcommon_parse_start_conf(text, &sc, &word) < 0)
                FUZZ_ASSERT(word != NULL, "an invalid start.conf names the word");
        else
                FUZZ_ASSERT(start_conf_to_string(sc) != NULL, "a valid mode");
        pgconf_free(c);
        free(err);
        free(word);
        free(text);
        return 0;
}
