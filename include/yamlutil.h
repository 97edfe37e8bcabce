/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

/* A sequence of owned libyaml events: parsed from text, spliced, emitted. */
typedef struct YamlEvents {
        yaml_event_t *ev;
        size_t n, alloc;
} YamlEvents;

typedef struct YamlError {
        char message[256];
        size_t line, column; /* 1-based, 0 if unknown */
} YamlError;

void yamlutil_events_done(YamlEvents *e);
int yamlutil_event_copy(yaml_event_t *dst, const yaml_event_t *src);
int yamlutil_events_push(YamlEvents *e, yaml_event_t *ev); /* takes ownership, even on failure */
int yamlutil_events_push_copy(YamlEvents *e, const yaml_event_t *ev);
int yamlutil_events_push_scalar(YamlEvents *e, const char *value, yaml_scalar_style_t style);

/*
 * Bounds on what a YAML file may make us do: the files parsed here may be written by someone other than
 * root (an admin's editor, a package). Deeper nesting or more aliases are errors.
 */
#define YAML_MAX_DEPTH 64
#define YAML_MAX_ALIASES 1000

/* Parse TEXT into events. On a syntax error, or past the bounds above, -EINVAL and ERR says what and where. */
int yamlutil_events_parse(const char *text, size_t size, YamlEvents *e, YamlError *err);

/*
 * What yaml_parser_load() makes of TEXT's first document, in one pass and within the bounds above (aliases
 * become shared nodes). -EINVAL and ERR on a syntax error or past the bounds; *DOC to yaml_document_delete().
 */
int yamlutil_load_bounded(const char *text, size_t size, yaml_document_t *doc, YamlError *err);

/* The value of KEY in the mapping node MAP of D (NULL if MAP is not a mapping or has no such key). */
yaml_node_t *yamlutil_map_get(yaml_document_t *d, yaml_node_t *map, const char *key);
/*
 * Every mapping of D without a key twice (PyYAML, which Patroni uses, would silently take the last one); each
 * node visited once, aliases included. -EINVAL with "line L, column C: duplicate key "K"" in *RET_ERROR.
 */
int yamlutil_check_duplicates(yaml_document_t *d, char **ret_error);

/* A scalar node's text, NULL for any other node (or NULL). */
const char *yamlutil_scalar(const yaml_node_t *n);

/* Where an emitter writes: a growing NUL-terminated string; OOM set once an append failed. */
typedef struct YamlBuffer {
        char *data;
        size_t size, alloc;
        bool oom;
} YamlBuffer;
/* libyaml's output handler over a YamlBuffer: 1 on success, 0 out of memory. */
int yamlutil_buffer_write(void *userdata, unsigned char *data, size_t size);
/* An emitter that writes into B as this project writes YAML: UTF-8 as is, no folding, indent 2. */
int yamlutil_emitter_init(yaml_emitter_t *em, YamlBuffer *b);

/*
 * Blank lines before and after each top-level section of the block YAML in B from byte START on (what comes
 * before START, a header, is kept as is), as a person would write it.
 */
int yamlutil_space_sections(YamlBuffer *o, size_t start);

int yamlutil_events_emit(const yaml_event_t *ev, size_t n, char **ret, size_t *ret_size);

/* Index of the event that closes the collection opened at I (or I for a scalar/alias). */
size_t yamlutil_events_node_end(const YamlEvents *e, size_t i);

/*
 * Would a plain scalar with this text load as a string under YAML 1.1
 * (PyYAML, which Patroni uses) and YAML 1.2? "8008", "on", "null", "", "1:30",
 * "2024-01-01" would not.
 */
typedef struct YamlResolver {
        regex_t re[7];
        bool ready;
} YamlResolver;

int yamlutil_resolver_init(YamlResolver *r);
void yamlutil_resolver_done(YamlResolver *r);
bool yamlutil_resolver_plain_is_string(const YamlResolver *r, const char *s);
bool yamlutil_is_integer(const char *s);

/* Well-formed UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
bool yamlutil_utf8_valid(const char *s);
