/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "yamlutil.h"

void yamlutil_events_done(YamlEvents *e) {
        for (size_t i = 0; i < e->n; i++)
                yaml_event_delete(&e->ev[i]);
        free(e->ev);
        *e = (YamlEvents){};
}

int yamlutil_event_copy(yaml_event_t *dst, const yaml_event_t *src) {
        const yaml_char_t *anchor, *tag;
        int ok;

        switch (src->type) {
        case YAML_STREAM_START_EVENT:
                ok = yaml_stream_start_event_initialize(dst, YAML_UTF8_ENCODING);
                break;
        case YAML_STREAM_END_EVENT:
                ok = yaml_stream_end_event_initialize(dst);
                break;
        case YAML_DOCUMENT_START_EVENT:
                ok = yaml_document_start_event_initialize(dst, NULL, NULL, NULL,
                                                          src->data.document_start.implicit);
                break;
        case YAML_DOCUMENT_END_EVENT:
                ok = yaml_document_end_event_initialize(dst, src->data.document_end.implicit);
                break;
        case YAML_ALIAS_EVENT:
                ok = yaml_alias_event_initialize(dst, src->data.alias.anchor);
                break;
        case YAML_SCALAR_EVENT:
                anchor = src->data.scalar.anchor;
                tag = src->data.scalar.tag;
                ok = yaml_scalar_event_initialize(dst, anchor, tag, src->data.scalar.value,
                                                  (int) src->data.scalar.length, src->data.scalar.plain_implicit,
                                                  src->data.scalar.quoted_implicit, src->data.scalar.style);
                break;
        case YAML_SEQUENCE_START_EVENT:
                ok = yaml_sequence_start_event_initialize(dst, src->data.sequence_start.anchor,
                                                          src->data.sequence_start.tag,
                                                          src->data.sequence_start.implicit,
                                                          src->data.sequence_start.style);
                break;
        case YAML_SEQUENCE_END_EVENT:
                ok = yaml_sequence_end_event_initialize(dst);
                break;
        case YAML_MAPPING_START_EVENT:
                ok = yaml_mapping_start_event_initialize(dst, src->data.mapping_start.anchor,
                                                         src->data.mapping_start.tag,
                                                         src->data.mapping_start.implicit,
                                                         src->data.mapping_start.style);
                break;
        case YAML_MAPPING_END_EVENT:
                ok = yaml_mapping_end_event_initialize(dst);
                break;
        default:
                return -EINVAL;
        }
        if (!ok)
                return -ENOMEM;
        dst->start_mark = src->start_mark;
        dst->end_mark = src->end_mark;
        return 0;
}

int yamlutil_events_push(YamlEvents *e, yaml_event_t *ev) {
        if (e->n == e->alloc) {
                size_t a = e->alloc ? e->alloc * 2 : 64;
                yaml_event_t *p = reallocarray(e->ev, a, sizeof(yaml_event_t));
                if (!p) {
                        yaml_event_delete(ev);
                        return -ENOMEM;
                }
                e->ev = p;
                e->alloc = a;
        }
        e->ev[e->n++] = *ev;
        return 0;
}

int yamlutil_events_push_copy(YamlEvents *e, const yaml_event_t *ev) {
        yaml_event_t c;
        int r = yamlutil_event_copy(&c, ev);
        return r < 0 ? r : yamlutil_events_push(e, &c);
}

int yamlutil_events_push_scalar(YamlEvents *e, const char *value, yaml_scalar_style_t style) {
        yaml_event_t c;

        if (!yaml_scalar_event_initialize(&c, NULL, NULL, (yaml_char_t *) value, (int) strlen(value), 1, 1, style))
                return -ENOMEM;
        return yamlutil_events_push(e, &c);
}

static void set_error(YamlError *err, const char *problem, const char *context, yaml_mark_t mark) {
        if (!err)
                return;
        if (context)
                snprintf(err->message, sizeof(err->message), "%s %s", problem ? problem : "invalid YAML", context);
        else
                snprintf(err->message, sizeof(err->message), "%s", problem ? problem : "invalid YAML");
        err->line = mark.line + 1;
        err->column = mark.column + 1;
}

/*
 * Parse TEXT event by event within YAML_MAX_DEPTH and YAML_MAX_ALIASES, handing each event to FN (which
 * takes ownership). libyaml's scanner does work proportional to the
 * nesting depth for every token, so unbounded nesting costs quadratic time: the depth is checked as
 * each collection opens, and the parse stops there.
 */
static int parse_bounded(const char *text, size_t size, int (*fn)(void *, yaml_event_t *), void *userdata,
                         YamlError *err) {
        yaml_parser_t p;
        size_t depth = 0, aliases = 0;
        int r = 0;

        if (!yaml_parser_initialize(&p))
                return -ENOMEM;
        yaml_parser_set_input_string(&p, (const unsigned char *) text, size);

        for (;;) {
                yaml_event_t ev;
                if (!yaml_parser_parse(&p, &ev)) {
                        if (p.error == YAML_MEMORY_ERROR)
                                r = -ENOMEM;
                        else {
                                set_error(err, p.problem, p.context, p.problem_mark);
                                r = -EINVAL;
                        }
                        break;
                }
                bool end = ev.type == YAML_STREAM_END_EVENT;
                if (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT)
                        depth++;
                else if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT)
                        depth--;
                else if (ev.type == YAML_ALIAS_EVENT)
                        aliases++;
                if (depth > YAML_MAX_DEPTH || aliases > YAML_MAX_ALIASES) {
                        set_error(err, depth > YAML_MAX_DEPTH ? "nested more than " STRINGIFY(YAML_MAX_DEPTH) " levels deep"
                                                              : "more than " STRINGIFY(YAML_MAX_ALIASES) " aliases",
                                  NULL, ev.start_mark);
                        yaml_event_delete(&ev);
                        r = -EINVAL;
                        break;
                }
                r = fn(userdata, &ev);
                if (r < 0 || end)
                        break;
        }
        yaml_parser_delete(&p);
        return r;
}

static int push_event(void *userdata, yaml_event_t *ev) {
        return yamlutil_events_push(userdata, ev);
}

int yamlutil_events_parse(const char *text, size_t size, YamlEvents *e, YamlError *err) {
        return parse_bounded(text, size, push_event, e, err);
}

/* Building a document from bounded events: what yaml_parser_load() does, within the same bounds. */
typedef struct Loader {
        yaml_document_t *doc;
        bool started, done;
        int stack[YAML_MAX_DEPTH + 2]; /* open collections */
        int pending_key[YAML_MAX_DEPTH + 2]; /* a mapping's key waiting for its value, 0 if none */
        size_t depth;
        struct {
                char *name;
                int id;
        } *anchors;
        size_t n_anchors;
        YamlError *err;
} Loader;

static int loader_fail(Loader *l, const char *problem, yaml_mark_t mark) {
        set_error(l->err, problem, NULL, mark);
        return -EINVAL;
}

static int loader_add(Loader *l, int id, const yaml_char_t *anchor, const yaml_event_t *ev) {
        yaml_node_t *n = yaml_document_get_node(l->doc, id);

        n->start_mark = ev->start_mark; /* the API leaves them empty: errors and ordering need them */
        n->end_mark = ev->end_mark;
        if (anchor) {
                void *p = reallocarray(l->anchors, l->n_anchors + 1, sizeof(*l->anchors));
                if (!p)
                        return -ENOMEM;
                l->anchors = p;
                if (!(l->anchors[l->n_anchors].name = strdup((const char *) anchor)))
                        return -ENOMEM;
                l->anchors[l->n_anchors++].id = id;
        }
        return 0;
}

/* Hang node ID under the open collection, if any (the first node is the root). */
static int loader_attach(Loader *l, int id) {
        int parent, ok = 1;

        if (l->depth == 0)
                return 0;
        parent = l->stack[l->depth - 1];
        if (yaml_document_get_node(l->doc, parent)->type == YAML_SEQUENCE_NODE)
                ok = yaml_document_append_sequence_item(l->doc, parent, id);
        else if (!l->pending_key[l->depth - 1])
                l->pending_key[l->depth - 1] = id;
        else {
                ok = yaml_document_append_mapping_pair(l->doc, parent, l->pending_key[l->depth - 1], id);
                l->pending_key[l->depth - 1] = 0;
        }
        return ok ? 0 : -ENOMEM;
}

static int load_event(void *userdata, yaml_event_t *ev) {
        Loader *l = userdata;
        int id = 0, r = 0;

        if (l->done) {
                yaml_event_delete(ev);
                return 0; /* only the first document, as yaml_parser_load() */
        }
        switch (ev->type) {
        case YAML_DOCUMENT_START_EVENT:
                l->started = yaml_document_initialize(l->doc, NULL, NULL, NULL, 1, 1);
                r = l->started ? 0 : -ENOMEM;
                break;
        case YAML_DOCUMENT_END_EVENT:
                l->done = true;
                break;
        case YAML_SCALAR_EVENT:
                /* "!", the non-specific tag, makes a quoted scalar a string: the default tag says the same
                 * (and is not written out again as a verbatim "!<%21>") */
                id = yaml_document_add_scalar(l->doc,
                                              ev->data.scalar.tag && streq((const char *) ev->data.scalar.tag, "!")
                                                      ? NULL
                                                      : ev->data.scalar.tag,
                                              ev->data.scalar.value, (int) ev->data.scalar.length,
                                              ev->data.scalar.style);
                r = !id ? -ENOMEM : loader_add(l, id, ev->data.scalar.anchor, ev);
                if (r >= 0)
                        r = loader_attach(l, id);
                break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
                if (ev->type == YAML_SEQUENCE_START_EVENT)
                        id = yaml_document_add_sequence(l->doc, ev->data.sequence_start.tag,
                                                        ev->data.sequence_start.style);
                else
                        id = yaml_document_add_mapping(l->doc, ev->data.mapping_start.tag,
                                                       ev->data.mapping_start.style);
                r = !id ? -ENOMEM
                        : loader_add(l, id,
                                     ev->type == YAML_SEQUENCE_START_EVENT ? ev->data.sequence_start.anchor
                                                                           : ev->data.mapping_start.anchor,
                                     ev);
                if (r >= 0)
                        r = loader_attach(l, id);
                if (r >= 0) {
                        l->stack[l->depth] = id;
                        l->pending_key[l->depth++] = 0;
                }
                break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
                l->depth--;
                break;
        case YAML_ALIAS_EVENT:
                for (size_t i = l->n_anchors; i > 0 && !id; i--) /* the latest anchor of that name */
                        if (streq(l->anchors[i - 1].name, (const char *) ev->data.alias.anchor))
                                id = l->anchors[i - 1].id;
                r = id ? loader_attach(l, id) : loader_fail(l, "found undefined alias", ev->start_mark);
                break;
        default:
                break;
        }
        yaml_event_delete(ev);
        return r;
}

int yamlutil_load_bounded(const char *text, size_t size, yaml_document_t *doc, YamlError *err) {
        Loader l = { .doc = doc, .err = err };
        int r;

        *doc = (yaml_document_t){};
        r = parse_bounded(text, size, load_event, &l, err);
        for (size_t i = 0; i < l.n_anchors; i++)
                free(l.anchors[i].name);
        free(l.anchors);
        if (r >= 0 && !l.started) /* an empty stream: a document without a root, as yaml_parser_load() gives */
                r = yaml_document_initialize(doc, NULL, NULL, NULL, 1, 1) ? 0 : -ENOMEM;
        else if (r < 0 && l.started)
                yaml_document_delete(doc);
        return r;
}

int yamlutil_buffer_write(void *userdata, unsigned char *data, size_t size) {
        YamlBuffer *b = userdata;

        if (b->size + size + 1 > b->alloc) {
                size_t a = b->alloc ? b->alloc : 4096;
                while (a < b->size + size + 1)
                        a *= 2;
                char *p = realloc(b->data, a);
                if (!p) {
                        b->oom = true;
                        return 0;
                }
                b->data = p;
                b->alloc = a;
        }
        memcpy(b->data + b->size, data, size);
        b->size += size;
        b->data[b->size] = 0;
        return 1;
}

int yamlutil_emitter_init(yaml_emitter_t *em, YamlBuffer *b) {
        if (!yaml_emitter_initialize(em))
                return -ENOMEM;
        yaml_emitter_set_output(em, yamlutil_buffer_write, b);
        yaml_emitter_set_unicode(em, 1);
        yaml_emitter_set_width(em, -1);
        yaml_emitter_set_indent(em, 2);
        return 0;
}

int yamlutil_events_emit(const yaml_event_t *ev, size_t n, char **ret, size_t *ret_size) {
        YamlBuffer b = {};
        yaml_emitter_t em;
        int r = 0;

        if (yamlutil_emitter_init(&em, &b) < 0)
                return -ENOMEM;

        for (size_t i = 0; i < n; i++) {
                yaml_event_t c;
                r = yamlutil_event_copy(&c, &ev[i]);
                if (r < 0)
                        break;
                if (!yaml_emitter_emit(&em, &c)) { /* consumes c */
                        r = b.oom || em.error == YAML_MEMORY_ERROR ? -ENOMEM : -EINVAL;
                        break;
                }
        }
        if (r == 0 && !yaml_emitter_flush(&em))
                r = -EIO;
        yaml_emitter_delete(&em);
        if (r < 0) {
                free(b.data);
                return r;
        }
        if (!b.data && !(b.data = calloc(1, 1)))
                return -ENOMEM;
        *ret = b.data;
        if (ret_size)
                *ret_size = b.size;
        return 0;
}

size_t yamlutil_events_node_end(const YamlEvents *e, size_t i) {
        size_t depth = 0;

        for (; i < e->n; i++) {
                switch (e->ev[i].type) {
                case YAML_SEQUENCE_START_EVENT:
                case YAML_MAPPING_START_EVENT:
                        depth++;
                        break;
                case YAML_SEQUENCE_END_EVENT:
                case YAML_MAPPING_END_EVENT:
                        depth--;
                        break;
                default:
                        break;
                }
                if (depth == 0)
                        return i;
        }
        return e->n;
}

/* The implicit resolvers of PyYAML (YAML 1.1), plus YAML 1.2's 0o octal and y/n of the 1.1 spec. */
static const char *const resolver_patterns[] = {
        /* bool */
        "^(yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|y|Y|n|N)$",
        /* float */
        "^([-+]?([0-9][0-9_]*)?\\.[0-9_]*([eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*([eE][-+]?[0-9]+)"
        "|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\\.[0-9_]*|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN))$",
        /* int */
        "^([-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?0o[0-7]+"
        "|[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+)$",
        /* null */
        "^(~|null|Null|NULL)$",
        /* timestamp */
        "^([0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}"
        "(\\.[0-9]*)?([ \t]*(Z|[-+][0-9]{1,2}(:[0-9]{2})?))?)$",
        /* merge, value */
        "^(<<|=)$",
        /* a lone dot is a float in some resolvers' eyes */
        "^[-+]?\\.$",
};

int yamlutil_resolver_init(YamlResolver *r) {
        *r = (YamlResolver){};
        for (size_t i = 0; i < ELEMENTSOF(resolver_patterns); i++)
                if (regcomp(&r->re[i], resolver_patterns[i], REG_EXTENDED | REG_NOSUB) != 0) {
                        while (i-- > 0)
                                regfree(&r->re[i]);
                        return -ENOMEM;
                }
        r->ready = true;
        return 0;
}

void yamlutil_resolver_done(YamlResolver *r) {
        if (!r->ready)
                return;
        for (size_t i = 0; i < ELEMENTSOF(resolver_patterns); i++)
                regfree(&r->re[i]);
        r->ready = false;
}

bool yamlutil_resolver_plain_is_string(const YamlResolver *r, const char *s) {
        if (!s[0])
                return false; /* empty plain scalar is null */
        /* Every non-string form starts with one of these: skip the regexes for the rest. */
        if (!strchr("-+.0123456789~<=yYnNtTfFoO", s[0]))
                return true;
        for (size_t i = 0; i < ELEMENTSOF(resolver_patterns); i++)
                if (regexec(&r->re[i], s, 0, NULL, 0) == 0)
                        return false;
        return true;
}

bool yamlutil_is_integer(const char *s) {
        if (!*s)
                return false;
        if (*s == '-')
                s++;
        if (!*s || (s[0] == '0' && s[1]))
                return false;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return false;
        return true;
}

bool yamlutil_utf8_valid(const char *str) {
        const unsigned char *s = (const unsigned char *) str;

        while (*s) {
                unsigned c = *s;
                size_t n;
                unsigned cp, min;

                if (c < 0x80) {
                        s++;
                        continue;
                }
                if ((c & 0xe0) == 0xc0)
                        n = 1, cp = c & 0x1f, min = 0x80;
                else if ((c & 0xf0) == 0xe0)
                        n = 2, cp = c & 0x0f, min = 0x800;
                else if ((c & 0xf8) == 0xf0)
                        n = 3, cp = c & 0x07, min = 0x10000;
                else
                        return false;
                for (size_t i = 1; i <= n; i++) {
                        if ((s[i] & 0xc0) != 0x80)
                                return false;
                        cp = (cp << 6) | (s[i] & 0x3f);
                }
                if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
                s += n + 1;
        }
        return true;
}

yaml_node_t *yamlutil_map_get(yaml_document_t *d, yaml_node_t *map, const char *key) {
        if (!map || map->type != YAML_MAPPING_NODE)
                return NULL;
        for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
                yaml_node_t *k = yaml_document_get_node(d, p->key);
                if (k && k->type == YAML_SCALAR_NODE && streq((const char *) k->data.scalar.value, key))
                        return yaml_document_get_node(d, p->value);
        }
        return NULL;
}

const char *yamlutil_scalar(const yaml_node_t *n) {
        if (!n || n->type != YAML_SCALAR_NODE)
                return NULL;
        return (const char *) n->data.scalar.value;
}

/*
 * A blank line before a top-level key that opens a section, or that follows
 * one, as a person would write it. In the emitter's block output only
 * top-level keys start at column 0 (nested content is indented, multi-line
 * scalars are escaped). PREV and LINE are line starts, END is LINE's '\n'.
 */
static bool wants_blank_line(const char *prev, const char *line, const char *end) {
        if (!prev || *line == ' ' || *line == '-' || line == end)
                return false;
        return end[-1] == ':' /* "restapi:" */ || *prev == ' ' || *prev == '-'; /* after a section */
}

int yamlutil_space_sections(YamlBuffer *o, size_t start) {
        const char *prev = NULL, *end = o->data + o->size;
        size_t lines = 0, n = 0;
        char *p;

        for (const char *q = o->data + start; q < end && (q = memchr(q, '\n', (size_t) (end - q))); q++)
                lines++;
        p = malloc(o->size + lines + 1);
        if (!p)
                return -ENOMEM;
        memcpy(p, o->data, start);
        n = start;
        for (const char *line = o->data + start; line < end;) {
                const char *eol = memchr(line, '\n', (size_t) (end - line));
                size_t len = eol ? (size_t) (eol - line) + 1 : (size_t) (end - line);

                if (eol && wants_blank_line(prev, line, eol))
                        p[n++] = '\n';
                memcpy(p + n, line, len);
                n += len;
                prev = line;
                line += len;
        }
        p[n] = 0;
        free(o->data);
        o->data = p;
        o->size = n;
        o->alloc = n + 1;
        return 0;
}

/* "line L, column C: duplicate key "K"" (or "nested too deeply" without K). */
static int dup_fail(char **ret_error, const yaml_node_t *n, const char *key) {
        int r = key ? asprintf(ret_error, "line %zu, column %zu: duplicate key \"%s\"", n->start_mark.line + 1,
                               n->start_mark.column + 1, key)
                    : asprintf(ret_error, "line %zu, column %zu: nested too deeply", n->start_mark.line + 1,
                               n->start_mark.column + 1);
        if (r < 0)
                *ret_error = NULL;
        return -EINVAL;
}

typedef struct KeyRef {
        const char *key;
        const yaml_node_t *node;
} KeyRef;

static int cmp_keyref(const void *a, const void *b) {
        const KeyRef *x = a, *y = b;
        int c = strcmp(x->key, y->key);
        /* equal keys in document order, so that the second one is reported */
        return c ? c : (x->node->start_mark.index > y->node->start_mark.index) - (x->node->start_mark.index < y->node->start_mark.index);
}

/* Duplicate keys of one mapping, found by sorting them: n log n, not n². */
static int mapping_duplicates(yaml_document_t *d, yaml_node_t *n, char **ret_error) {
        size_t count = (size_t) (n->data.mapping.pairs.top - n->data.mapping.pairs.start), k = 0;
        _cleanup_free_ KeyRef *keys = NULL;

        if (count < 2)
                return 0;
        keys = calloc(count, sizeof(KeyRef));
        if (!keys)
                return -ENOMEM;
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
                yaml_node_t *kn = yaml_document_get_node(d, p->key);
                if (yamlutil_scalar(kn))
                        keys[k++] = (KeyRef){ yamlutil_scalar(kn), kn };
        }
        qsort(keys, k, sizeof(KeyRef), cmp_keyref);
        for (size_t i = 1; i < k; i++)
                if (streq(keys[i - 1].key, keys[i].key))
                        return dup_fail(ret_error, keys[i].node, keys[i].key);
        return 0;
}

/*
 * Every mapping of the document, each once: aliases make the document a graph in which a node may be
 * reached many times over (an alias bomb reaches one exponentially often), so visited nodes are marked.
 */
static int check_duplicates(yaml_document_t *d, int id, unsigned depth, bool *seen, char **ret_error) {
        yaml_node_t *n = yaml_document_get_node(d, id);
        int r;

        if (!n || seen[id])
                return 0;
        if (depth > YAML_MAX_DEPTH)
                return dup_fail(ret_error, n, NULL);
        seen[id] = true;
        if (n->type == YAML_SEQUENCE_NODE) {
                for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
                        r = check_duplicates(d, *i, depth + 1, seen, ret_error);
                        if (r < 0)
                                return r;
                }
        } else if (n->type == YAML_MAPPING_NODE) {
                r = mapping_duplicates(d, n, ret_error);
                if (r < 0)
                        return r;
                for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
                        r = check_duplicates(d, p->key, depth + 1, seen, ret_error);
                        if (r >= 0)
                                r = check_duplicates(d, p->value, depth + 1, seen, ret_error);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int yamlutil_check_duplicates(yaml_document_t *d, char **ret_error) {
        size_t n = (size_t) (d->nodes.top - d->nodes.start);
        _cleanup_free_ bool *seen = calloc(n + 1, sizeof(bool)); /* node ids are 1-based */

        if (!seen)
                return -ENOMEM;
        return check_duplicates(d, 1, 0, seen, ret_error);
}
