/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "render.h"

#define TEMPLATE_MAX_DEPTH 128

static const char *const config_names[_PH_CONFIG_MAX] = {
        [PH_VERSION] = "VERSION",   [PH_CLUSTER] = "CLUSTER",       [PH_HOSTNAME] = "HOSTNAME",
        [PH_HOSTIP] = "HOSTIP",     [PH_NETWORK] = "NETWORK",       [PH_PORT] = "PORT",
        [PH_API_PORT] = "API_PORT", [PH_DATADIR_BASE] = "DATADIR_BASE", [PH_LISTEN_VIP] = "LISTEN_VIP",
        [PH_DCS_CONFIG] = "DCS_CONFIG",
};

static const char *const vip_names[_PH_VIP_MAX] = {
        [PH_VIP_IP] = "VIP_IP",     [PH_VIP_MASK] = "VIP_MASK", [PH_VIP_IFACE] = "VIP_IFACE",
        [PH_VIP_KEY] = "VIP_KEY",   [PH_VIP_HOST] = "VIP_HOST", [PH_VIP_TYPE] = "VIP_TYPE",
        [PH_VIP_ENDPOINT] = "VIP_ENDPOINT",
};

/* Per-event flags. */
enum {
        EV_HAS_TOKEN = 1 << 0,
        EV_DCS_KEY = 1 << 1,
};

struct Template {
        TemplateKind kind;
        char *path;
        YamlEvents events;
        uint8_t *flags;
        char open[3], close[3]; /* token marks, chosen so the template text never contains them */
        YamlResolver resolver;
        char *env_text; /* a VIP template in vip-manager's environment format (KEY="value" lines), else NULL */
};

static const char *const *kind_names(TemplateKind k, size_t *n) {
        *n = k == TEMPLATE_CONFIG ? (size_t) _PH_CONFIG_MAX : (size_t) _PH_VIP_MAX;
        return k == TEMPLATE_CONFIG ? config_names : vip_names;
}

static bool kind_numeric(TemplateKind k, int ph) {
        return k == TEMPLATE_CONFIG ? (ph == PH_PORT || ph == PH_API_PORT) : ph == PH_VIP_MASK;
}

static int kind_dcs(TemplateKind k) {
        return k == TEMPLATE_CONFIG ? PH_DCS_CONFIG : -1;
}

Template *template_free(Template *t) {
        if (!t)
                return NULL;
        yamlutil_events_done(&t->events);
        yamlutil_resolver_done(&t->resolver);
        free(t->flags);
        free(t->path);
        free(t->env_text);
        free(t);
        return NULL;
}

const char *template_path(const Template *t) {
        return t->path;
}

/* A token has the placeholder's length, so line and column numbers stay those of the template. */
static void make_token(const Template *t, int ph, size_t len, char *out) {
        memcpy(out, t->open, 2);
        out[2] = (char) ('A' + ph);
        memset(out + 3, 'x', len - 5);
        memcpy(out + len - 2, t->close, 2);
        out[len] = 0;
}

static int pick_marks(Template *t, const char *text) {
        static const char *const marks[][2] = { { "Qz", "zQ" }, { "Jw", "wJ" }, { "Vk", "kV" }, { "Xq", "qX" } };

        for (size_t i = 0; i < ELEMENTSOF(marks); i++)
                if (!strstr(text, marks[i][0])) {
                        memcpy(t->open, marks[i][0], 3);
                        memcpy(t->close, marks[i][1], 3);
                        return 0;
                }
        return -EINVAL;
}

/* Replace every @NAME@ by its token; a line holding only @DCS_CONFIG@ becomes "TOKEN: ~". */
static int substitute_tokens(Template *t, const char *text, size_t size, char **ret, char **ret_error) {
        size_t n_names;
        const char *const *names = kind_names(t->kind, &n_names);
        int dcs = kind_dcs(t->kind);
        unsigned line = 1, dcs_line = 0;
        _cleanup_free_ char *out = malloc(size + 64);
        size_t o = 0;

        if (!out)
                return -ENOMEM;

        for (size_t i = 0; i < size;) {
                char ch = text[i];
                size_t j = i + 1;

                if (ch == 0)
                        return error_set(ret_error, -EINVAL, "%s:%u: NUL byte in template", t->path, line);
                if (ch == '\n')
                        line++;
                if (ch != '@') {
                        out[o++] = ch;
                        i++;
                        continue;
                }
                while (j < size && ((text[j] >= 'A' && text[j] <= 'Z') || (text[j] >= '0' && text[j] <= '9') ||
                                    text[j] == '_'))
                        j++;
                if (j == i + 1 || j >= size || text[j] != '@' || !(text[i + 1] >= 'A' && text[i + 1] <= 'Z')) {
                        out[o++] = ch; /* a lone '@', an e-mail address, ...: text */
                        i++;
                        continue;
                }

                size_t len = j + 1 - i;
                int ph = -1;
                for (size_t k = 0; k < n_names; k++)
                        if (strlen(names[k]) == len - 2 && memcmp(names[k], text + i + 1, len - 2) == 0)
                                ph = (int) k;
                if (ph < 0) {
                        char known[256] = "";
                        for (size_t k = 0; k < n_names; k++)
                                snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s@%s@",
                                         k ? " " : "", names[k]);
                        return error_set(ret_error, -EINVAL,
                                         "%s:%u: unknown placeholder @%.*s@ (known: %s)", t->path, line,
                                         (int) (len - 2), text + i + 1, known);
                }

                make_token(t, ph, len, out + o);
                o += len;
                i = j + 1;

                if (ph == dcs) {
                        /* Alone on its line (indentation and trailing blanks allowed)? */
                        size_t b = i - len, e = i;
                        while (b > 0 && (text[b - 1] == ' ' || text[b - 1] == '\t'))
                                b--;
                        while (e < size && (text[e] == ' ' || text[e] == '\t' || text[e] == '\r'))
                                e++;
                        if ((b == 0 || text[b - 1] == '\n') && (e == size || text[e] == '\n')) {
                                if (dcs_line)
                                        return error_set(ret_error, -EINVAL,
                                                         "%s:%u: @DCS_CONFIG@ appears twice (first on line %u)",
                                                         t->path, line, dcs_line);
                                dcs_line = line;
                                memcpy(out + o, ": ~", 3);
                                o += 3;
                        }
                }
        }
        out[o] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

/* Mark the scalars that hold tokens and the one mapping key that is @DCS_CONFIG@. */
static int classify(Template *t, char **ret_error) {
        struct {
                bool mapping, key_next;
        } stack[TEMPLATE_MAX_DEPTH];
        size_t depth = 0, n_names;
        char dcs_token[32] = "";
        int dcs = kind_dcs(t->kind);
        const char *const *names = kind_names(t->kind, &n_names);

        if (dcs >= 0)
                make_token(t, dcs, strlen(names[dcs]) + 2, dcs_token);

        t->flags = calloc(t->events.n ? t->events.n : 1, 1);
        if (!t->flags)
                return -ENOMEM;

        for (size_t i = 0; i < t->events.n; i++) {
                yaml_event_t *e = &t->events.ev[i];
                bool is_key = depth > 0 && stack[depth - 1].mapping && stack[depth - 1].key_next;
                bool is_node = e->type == YAML_SCALAR_EVENT || e->type == YAML_ALIAS_EVENT ||
                               e->type == YAML_MAPPING_START_EVENT || e->type == YAML_SEQUENCE_START_EVENT;

                if (is_node && depth > 0 && stack[depth - 1].mapping)
                        stack[depth - 1].key_next = !stack[depth - 1].key_next;

                if (e->type == YAML_MAPPING_START_EVENT || e->type == YAML_SEQUENCE_START_EVENT) {
                        if (depth == TEMPLATE_MAX_DEPTH)
                                return error_set(ret_error, -EINVAL, "%s:%zu:%zu: nested too deeply", t->path,
                                                 e->start_mark.line + 1, e->start_mark.column + 1);
                        stack[depth].mapping = e->type == YAML_MAPPING_START_EVENT;
                        stack[depth].key_next = true;
                        depth++;
                } else if (e->type == YAML_MAPPING_END_EVENT || e->type == YAML_SEQUENCE_END_EVENT)
                        depth--;
                if (e->type != YAML_SCALAR_EVENT || !strstr((const char *) e->data.scalar.value, t->open))
                        continue;

                t->flags[i] |= EV_HAS_TOKEN;
                if (!dcs_token[0] || !strstr((const char *) e->data.scalar.value, dcs_token))
                        continue;

                yaml_event_t *v = i + 1 < t->events.n ? &t->events.ev[i + 1] : NULL;
                if (!is_key || !streq((const char *) e->data.scalar.value, dcs_token) || !v ||
                    v->type != YAML_SCALAR_EVENT || !streq((const char *) v->data.scalar.value, "~") ||
                    t->events.ev[i].data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
                        return error_set(ret_error, -EINVAL,
                                         "%s:%zu:%zu: @DCS_CONFIG@ must stand alone on its line, where a mapping key could be",
                                         t->path, e->start_mark.line + 1, e->start_mark.column + 1);
                t->flags[i] |= EV_DCS_KEY;
        }
        return 0;
}

/* ---- vip-manager's environment format: KEY="value" lines, as systemd's EnvironmentFile= reads them ---- */

/* A line's key (after an optional "export "), its length in *RET_LEN; NULL if it is no KEY= line. */
static const char *env_key(const char *line, size_t *ret_len) {
        const char *k = line, *e;
        while (*k == ' ' || *k == '\t')
                k++;
        if (strncmp(k, "export ", 7) == 0)
                k += 7;
        if (!(*k == '_' || (*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z')))
                return NULL;
        for (e = k; *e == '_' || (*e >= 'A' && *e <= 'Z') || (*e >= 'a' && *e <= 'z') || (*e >= '0' && *e <= '9'); e++)
                ;
        if (*e != '=')
                return NULL;
        *ret_len = (size_t) (e - k);
        return k;
}

static bool env_blank_or_comment(const char *line) {
        while (*line == ' ' || *line == '\t')
                line++;
        return !*line || *line == '#' || *line == ';';
}

/* Is TEXT in that format: is its first line that says anything a KEY= line? */
static bool env_format(const char *text) {
        for (const char *p = text; *p;) {
                const char *eol = strchrnul(p, '\n');
                _cleanup_free_ char *line = strndup(p, (size_t) (eol - p));
                size_t n;
                if (!line)
                        return false;
                if (!env_blank_or_comment(line))
                        return env_key(line, &n) != NULL;
                p = *eol ? eol + 1 : eol;
        }
        return false;
}

/* The value of a KEY= line (V, after the '='): "..." (with \ escapes), '...', or bare up to a blank. */
static int env_value(const char *v, char **ret) {
        size_t n = 0;
        char *out = malloc(strlen(v) + 1), q = 0;

        if (!out)
                return -ENOMEM;
        if (*v == '"' || *v == '\'')
                q = *v++;
        for (; *v && (q ? *v != q : (*v != '#' && *v != ' ' && *v != '\t')); v++) {
                if (q == '"' && *v == '\\' && v[1])
                        v++;
                out[n++] = *v;
        }
        if (q && *v != q) {
                free(out);
                return -EINVAL;
        }
        if (q)
                v++;
        while (*v == ' ' || *v == '\t')
                v++;
        if (*v && *v != '#') {
                free(out);
                return -EINVAL;
        }
        out[n] = 0;
        *ret = out;
        return 0;
}

int template_env_quote(FILE *f, const char *key, const char *value) {
        for (const char *c = value; *c; c++)
                if ((unsigned char) *c < 0x20 || *c == 0x7f)
                        return -EINVAL; /* a line break would end the value early: never written */
        fprintf(f, "%s=\"", key);
        for (const char *c = value; *c; c++) {
                if (*c == '"' || *c == '\\')
                        fputc('\\', f);
                fputc(*c, f);
        }
        fputs("\"\n", f);
        return 0;
}

static int env_parse(Template *t, const char *text, char **ret_error) {
        unsigned lineno = 0;
        for (const char *p = text; *p;) {
                const char *eol = strchrnul(p, '\n');
                _cleanup_free_ char *line = strndup(p, (size_t) (eol - p)), *value = NULL;
                size_t n;
                const char *k;
                if (!line)
                        return -ENOMEM;
                lineno++;
                p = *eol ? eol + 1 : eol;
                if (env_blank_or_comment(line))
                        continue;
                k = env_key(line, &n);
                if (!k)
                        return error_set(ret_error, -EINVAL,
                                         "%s:%u: expected KEY=\"value\" (the environment format vip-manager reads)",
                                         t->path, lineno);
                int r = env_value(k + n + 1, &value);
                if (r == -EINVAL)
                        return error_set(ret_error, -EINVAL,
                                         "%s:%u: the value of %.*s: an unterminated quote, or text after it",
                                         t->path, lineno, (int) n, k);
                if (r < 0)
                        return r;
        }
        t->env_text = strdup(text);
        return t->env_text ? 0 : -ENOMEM;
}

/* Each KEY=value line written again with its placeholders replaced, quoted for EnvironmentFile=. */
static int env_render(const Template *t, const char *const *values, FILE *f, char **ret_error) {
        size_t n_names;
        const char *const *names = kind_names(t->kind, &n_names);

        for (const char *p = t->env_text; *p;) {
                const char *eol = strchrnul(p, '\n');
                _cleanup_free_ char *line = strndup(p, (size_t) (eol - p)), *value = NULL, *out = NULL;
                size_t n, size = 0;
                const char *k;
                if (!line)
                        return -ENOMEM;
                p = *eol ? eol + 1 : eol;
                if (env_blank_or_comment(line)) {
                        fprintf(f, "%s\n", line);
                        continue;
                }
                k = env_key(line, &n);
                if (!k || env_value(k + n + 1, &value) < 0)
                        return -EINVAL; /* env_parse() checked every line */
                FILE *o = open_memstream(&out, &size);
                if (!o)
                        return -ENOMEM;
                for (const char *v = value; *v;) {
                        bool done = false;
                        for (size_t i = 0; i < n_names && !done && *v == '@'; i++) {
                                size_t l = strlen(names[i]);
                                if (strncmp(v + 1, names[i], l) == 0 && v[l + 1] == '@') {
                                        fputs(values[i] ? values[i] : "", o);
                                        v += l + 2;
                                        done = true;
                                }
                        }
                        if (!done)
                                fputc(*v++, o);
                }
                if (fclose(o) != 0)
                        return -ENOMEM;
                char key[128];
                snprintf(key, sizeof(key), "%.*s", (int) (n < sizeof(key) ? n : sizeof(key) - 1), k);
                if (template_env_quote(f, key, out) < 0)
                        return error_set(ret_error, -EINVAL,
                                         "%s: the value for %s would hold a control character", t->path, key);
        }
        return 0;
}

bool template_is_env(const Template *t) {
        return t->env_text != NULL;
}

int template_parse(const char *path, const char *text, size_t size, TemplateKind kind, Template **ret,
                   char **ret_error) {
        _cleanup_(template_freep) Template *t = calloc(1, sizeof(Template));
        _cleanup_free_ char *subst = NULL;
        YamlError err = {};
        size_t docs = 0;
        int r;

        *ret_error = NULL;
        if (!t)
                return -ENOMEM;
        t->kind = kind;
        if (!(t->path = strdup(path)))
                return -ENOMEM;
        if (kind == TEMPLATE_VIP && env_format(text)) {
                if (strlen(text) != size)
                        return error_set(ret_error, -EINVAL, "%s: holds a NUL byte", path);
                r = env_parse(t, text, ret_error);
                if (r < 0)
                        return r;
                *ret = TAKE_PTR(t);
                return 0;
        }
        if (pick_marks(t, text) < 0)
                return error_set(ret_error, -EINVAL, "%s: template text clashes with every internal marker", path);
        r = yamlutil_resolver_init(&t->resolver);
        if (r < 0)
                return r;

        r = substitute_tokens(t, text, size, &subst, ret_error);
        if (r < 0)
                return r;

        r = yamlutil_events_parse(subst, strlen(subst), &t->events, &err);
        if (r == -EINVAL)
                return error_set(ret_error, -EINVAL, "%s:%zu:%zu: %s", path, err.line, err.column, err.message);
        if (r < 0)
                return r;

        for (size_t i = 0; i < t->events.n; i++)
                if (t->events.ev[i].type == YAML_DOCUMENT_START_EVENT)
                        docs++;
        if (docs != 1)
                return error_set(ret_error, -EINVAL, "%s: holds %zu YAML documents, expected one", path, docs);
        if (t->events.n < 3 || t->events.ev[2].type != YAML_MAPPING_START_EVENT)
                return error_set(ret_error, -EINVAL, "%s:%zu:%zu: the template must be a YAML mapping", path,
                                 t->events.n >= 3 ? t->events.ev[2].start_mark.line + 1 : 1,
                                 t->events.n >= 3 ? t->events.ev[2].start_mark.column + 1 : 1);

        r = classify(t, ret_error);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(t);
        return 0;
}

/* The scalar with tokens replaced by values; sets *ret_numeric if it was exactly one numeric placeholder. */
static int substitute_scalar(const Template *t, const char *const *values, const char *in, char **ret,
                             bool *ret_numeric) {
        size_t n_names, len = 0, alloc = strlen(in) + 64;
        const char *const *names = kind_names(t->kind, &n_names);
        _cleanup_free_ char *out = malloc(alloc);
        int only = -1, count = 0;
        bool literal = false;

        if (!out)
                return -ENOMEM;
        for (const char *p = in; *p;) {
                const char *piece = p;
                size_t plen = 1;
                int ph = -1;

                if (p[0] == t->open[0] && p[1] == t->open[1] && p[2] >= 'A' && (size_t) (p[2] - 'A') < n_names) {
                        size_t tl = strlen(names[p[2] - 'A']) + 2;
                        char tok[32];
                        make_token(t, p[2] - 'A', tl, tok);
                        if (strncmp(p, tok, tl) == 0) {
                                ph = p[2] - 'A';
                                piece = values[ph] ? values[ph] : "";
                                plen = strlen(piece);
                                p += tl;
                        }
                }
                if (ph < 0) {
                        literal = true;
                        p++;
                } else {
                        only = ph;
                        count++;
                }
                if (len + plen + 1 > alloc) {
                        alloc = (len + plen + 1) * 2;
                        char *q = realloc(out, alloc);
                        if (!q)
                                return -ENOMEM;
                        out = q;
                }
                memcpy(out + len, piece, plen);
                len += plen;
        }
        out[len] = 0;
        *ret_numeric = !literal && count == 1 && kind_numeric(t->kind, only) && yamlutil_is_integer(out);
        *ret = TAKE_PTR(out);
        return 0;
}

static int emit(yaml_emitter_t *em, yaml_event_t *ev) {
        if (!yaml_emitter_emit(em, ev))
                return em->error == YAML_MEMORY_ERROR ? -ENOMEM : -EINVAL;
        return 0;
}

/* A plain, untagged scalar that reads as a string may be quoted by the emitter (a flow list's
 * "10.0.0.1:2379"): said to be a string by being quoted, not by a "!" tag. */
static int emit_copy(const Template *t, yaml_emitter_t *em, const yaml_event_t *src) {
        yaml_event_t c;
        int r = yamlutil_event_copy(&c, src);
        if (r < 0)
                return r;
        if (c.type == YAML_SCALAR_EVENT && !c.data.scalar.tag && c.data.scalar.plain_implicit &&
            yamlutil_resolver_plain_is_string(&t->resolver, (const char *) c.data.scalar.value))
                c.data.scalar.quoted_implicit = 1;
        return emit(em, &c);
}

static int emit_substituted(const Template *t, yaml_emitter_t *em, const yaml_event_t *src,
                            const char *const *values) {
        const yaml_char_t *tag = src->data.scalar.tag;
        _cleanup_free_ char *v = NULL;
        yaml_scalar_style_t style = src->data.scalar.style;
        int plain_implicit = 1, quoted_implicit = 1;
        bool numeric;
        yaml_event_t c;
        int r;

        r = substitute_scalar(t, values, (const char *) src->data.scalar.value, &v, &numeric);
        if (r < 0)
                return r;

        if (tag && !src->data.scalar.plain_implicit && !src->data.scalar.quoted_implicit)
                plain_implicit = quoted_implicit = 0; /* explicit !!tag: keep it */
        else if (style != YAML_PLAIN_SCALAR_STYLE)
                plain_implicit = 0; /* quoted in the template: a string, quoted as needed */
        else if (numeric)
                style = YAML_PLAIN_SCALAR_STYLE; /* port: @PORT@ stays an integer */
        else if (yamlutil_resolver_plain_is_string(&t->resolver, v))
                style = YAML_ANY_SCALAR_STYLE; /* plain where the emitter can, quoted where it must */
        else {
                /* "on", "1:30", "" would change type when plain: keep them strings. */
                style = YAML_SINGLE_QUOTED_SCALAR_STYLE;
                plain_implicit = 0;
        }

        if (!yaml_scalar_event_initialize(&c, src->data.scalar.anchor, (yaml_char_t *) tag, (yaml_char_t *) v,
                                          (int) strlen(v), plain_implicit, quoted_implicit, style))
                return -ENOMEM;
        return emit(em, &c);
}

int template_render(const Template *t, const char *const *values, const YamlEvents *dcs, const char *header,
                    char **ret, size_t *ret_size, char **ret_error) {
        YamlBuffer o = {};
        yaml_emitter_t em;
        int r = 0;

        *ret_error = NULL;
        /* libyaml's emitter would write escapes for some invalid sequences that its parser then refuses. */
        size_t n_names;
        const char *const *names = kind_names(t->kind, &n_names);
        for (size_t i = 0; i < n_names; i++)
                if (values[i] && !yamlutil_utf8_valid(values[i]))
                        return error_set(ret_error, -EINVAL,
                                         "%s: the value for @%s@ is not valid UTF-8", t->path, names[i]);
        if (t->env_text) {
                size_t size = 0;
                char *out = NULL;
                FILE *f = open_memstream(&out, &size);
                if (!f)
                        return -ENOMEM;
                if (header)
                        fputs(header, f);
                r = env_render(t, values, f, ret_error);
                if (fclose(f) != 0 && r >= 0)
                        r = -ENOMEM;
                if (r < 0) {
                        free(out);
                        return r;
                }
                *ret = out;
                if (ret_size)
                        *ret_size = size;
                return 0;
        }
        if (header && yamlutil_buffer_write(&o, (unsigned char *) header, strlen(header)) == 0)
                return -ENOMEM;
        if (yamlutil_emitter_init(&em, &o) < 0) {
                free(o.data);
                return -ENOMEM;
        }

        for (size_t i = 0; i < t->events.n && r >= 0; i++) {
                const yaml_event_t *e = &t->events.ev[i];

                if (t->flags[i] & EV_DCS_KEY) {
                        if (!dcs || dcs->n == 0) {
                                r = error_set(ret_error, -EINVAL,
                                              "%s: has @DCS_CONFIG@ but no DCS configuration was given",
                                              t->path);
                                break;
                        }
                        for (size_t j = 0; j < dcs->n && r >= 0; j++)
                                r = emit_copy(t, &em, &dcs->ev[j]);
                        i++; /* skip the "~" value */
                } else if (t->flags[i] & EV_HAS_TOKEN)
                        r = emit_substituted(t, &em, e, values);
                else
                        r = emit_copy(t, &em, e);
        }
        if (r >= 0 && !yaml_emitter_flush(&em))
                r = -ENOMEM;
        if (r == -EINVAL && !*ret_error)
                r = error_set(ret_error, -EINVAL, "%s: cannot emit YAML: %s", t->path, strna(em.problem));
        yaml_emitter_delete(&em);
        if (r < 0) {
                free(o.data);
                return r;
        }
        r = yamlutil_space_sections(&o, header ? strlen(header) : 0);
        if (r < 0) {
                free(o.data);
                return r;
        }
        *ret = o.data;
        if (ret_size)
                *ret_size = o.size;
        return 0;
}

bool template_uses_dcs(const Template *t) {
        if (t->env_text)
                return false;
        for (size_t i = 0; i < t->events.n; i++)
                if (t->flags[i] & EV_DCS_KEY)
                        return true;
        return false;
}

int template_vip_env_from_yaml(const char *path, const char *yaml, size_t size, const char *header, char **ret,
                               size_t *ret_size, char **ret_error) {
        yaml_document_t d;
        YamlError err = {};
        char *out = NULL;
        size_t out_size = 0;
        FILE *f;
        int r;

        *ret_error = NULL;
        r = yamlutil_load_bounded(yaml, size, &d, &err);
        if (r == -EINVAL)
                return error_set(ret_error, -EINVAL, "%s:%zu:%zu: %s", path, err.line, err.column, err.message);
        if (r < 0)
                return r;
        yaml_node_t *root = yaml_document_get_root_node(&d);
        if (!root || root->type != YAML_MAPPING_NODE) {
                yaml_document_delete(&d);
                return error_set(ret_error, -EINVAL, "%s: the VIP template must be a mapping", path);
        }
        f = open_memstream(&out, &out_size);
        if (!f) {
                yaml_document_delete(&d);
                return -ENOMEM;
        }
        if (header)
                fputs(header, f);
        for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top && r >= 0; p++) {
                const char *k = yamlutil_scalar(yaml_document_get_node(&d, p->key));
                yaml_node_t *v = yaml_document_get_node(&d, p->value);
                char key[128] = "VIP_";
                _cleanup_free_ char *joined = NULL;
                size_t jsize = 0;

                if (!k || !k[0] || strlen(k) > sizeof(key) - 5) {
                        r = error_set(ret_error, -EINVAL, "%s: a key that is no vip-manager setting", path);
                        break;
                }
                /* vip-manager's environment names: VIP_ and the key in capitals, '-' as '_' */
                for (size_t i = 0; k[i] && r >= 0; i++) {
                        char c = k[i] == '-' ? '_' : k[i] >= 'a' && k[i] <= 'z' ? (char) (k[i] - 32) : k[i];
                        if (!(c == '_' || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
                                r = error_set(ret_error, -EINVAL, "%s: \"%s\" is no vip-manager setting", path, k);
                        key[4 + i] = c;
                        key[5 + i] = 0;
                }
                if (r < 0)
                        break;
                FILE *j = open_memstream(&joined, &jsize);
                if (!j) {
                        r = -ENOMEM;
                        break;
                }
                if (v->type == YAML_SCALAR_NODE)
                        fputs((const char *) v->data.scalar.value, j);
                else if (v->type == YAML_SEQUENCE_NODE) /* dcs-endpoints: a list, comma-separated in the environment */
                        for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
                                const char *e = yamlutil_scalar(yaml_document_get_node(&d, *it));
                                fprintf(j, "%s%s", it > v->data.sequence.items.start ? "," : "", e ? e : "");
                        }
                else
                        r = error_set(ret_error, -EINVAL, "%s: %s: expected a value or a list", path, k);
                if (fclose(j) != 0 && r >= 0)
                        r = -ENOMEM;
                if (r >= 0 && template_env_quote(f, key, joined) < 0)
                        r = error_set(ret_error, -EINVAL,
                                      "%s: the value of %s would hold a control character", path, k);
        }
        yaml_document_delete(&d);
        if (fclose(f) != 0 && r >= 0)
                r = -ENOMEM;
        if (r < 0) {
                free(out);
                return r;
        }
        *ret = out;
        if (ret_size)
                *ret_size = out_size;
        return 0;
}
