/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "yamlutil.h"

/*
 * Templates in Debian's format (/etc/patroni/config.yml.in, vip.in): YAML
 * with @PLACEHOLDER@ words. Unlike a textual substitution, the template is
 * parsed as YAML once and every value is inserted into the scalar it stands
 * in, so the output is valid YAML whatever a value contains. @DCS_CONFIG@
 * must stand alone on its line, where a mapping key could be; the DCS
 * mapping's pairs are spliced there as YAML events.
 */

typedef enum TemplateKind {
        TEMPLATE_CONFIG,
        TEMPLATE_VIP,
} TemplateKind;

enum {
        PH_VERSION,
        PH_CLUSTER,
        PH_HOSTNAME,
        PH_HOSTIP,
        PH_NETWORK,
        PH_PORT,
        PH_API_PORT,
        PH_DATADIR_BASE,
        PH_LISTEN_VIP,
        PH_DCS_CONFIG,
        _PH_CONFIG_MAX,
};

enum {
        PH_VIP_IP,
        PH_VIP_MASK,
        PH_VIP_IFACE,
        PH_VIP_KEY,
        PH_VIP_HOST,
        PH_VIP_TYPE,
        PH_VIP_ENDPOINT,
        _PH_VIP_MAX,
};

typedef struct Template Template;

/* Parse TEXT (from PATH, used in messages). Errors: -EINVAL, "PATH:LINE:COL: ..." in *ret_error. */
int template_parse(const char *path, const char *text, size_t size, TemplateKind kind, Template **ret,
                   char **ret_error);
Template *template_free(Template *t);
static inline void template_freep(Template **t) {
        template_free(*t);
}
const char *template_path(const Template *t);

/*
 * Render with VALUES indexed by PH_* (NULL for @DCS_CONFIG@, whose pairs are
 * DCS; NULL DCS for a VIP template). HEADER, if not NULL, is prepended as is
 * (comment lines). The result is NUL-terminated.
 */
int template_render(const Template *t, const char *const *values, const YamlEvents *dcs, const char *header,
                    char **ret, size_t *ret_size, char **ret_error);

/* Does the template use @DCS_CONFIG@? */
bool template_uses_dcs(const Template *t);

/*
 * VIP templates come in two formats. Debian's vip-manager package ships vip.in
 * as KEY="value" lines, and its vip-manager@.service reads the rendered
 * VERSION-CLUSTER.vip as its EnvironmentFile=: a VIP template whose first line
 * with content is a KEY= line is of that kind, and renders to the same lines
 * with the placeholders replaced inside the values, each value double-quoted
 * and escaped as systemd reads it. A YAML VIP template (vip-manager's own
 * configuration-file format) renders to YAML, which
 * template_vip_env_from_yaml() turns into those lines (VIP_ and the key in
 * capitals, '-' as '_'; a list comma-separated).
 */
bool template_is_env(const Template *t);
int template_vip_env_from_yaml(const char *path, const char *yaml, size_t size, const char *header, char **ret,
                               size_t *ret_size, char **ret_error);
/* Write KEY="VALUE" as systemd's EnvironmentFile= reads it; -EINVAL (nothing written) if VALUE holds a control
 * character. */
int template_env_quote(FILE *f, const char *key, const char *value);
