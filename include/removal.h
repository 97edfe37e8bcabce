/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "takeover.h"

/*
 * An admin's removal of a configuration, remembered across restarts: a file
 * REMOVAL_DIR/VERSION-CLUSTER (root-only) holding the signature the cluster's
 * files had then. While the cluster's files are the same, the daemon does not
 * generate its configuration again, not even after a restart or an upgrade.
 */
#define REMOVAL_DIR STATE_DIR "/removed"

int removal_remember(int rootfd, const char *version, const char *cluster, uint64_t signature);
int removal_forget(int rootfd, const char *version, const char *cluster);

/* 1 and *ret_signature if a removal is remembered, 0 if none (or unreadable: then nothing is held back). */
int removal_recall(int rootfd, const char *version, const char *cluster, uint64_t *ret_signature);
