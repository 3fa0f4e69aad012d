/* episode.h - owns the recording schema in memory: episodes, steps, observations (a flat list
 * of accessibility-tree elements), actions; the role and action tables (which action a role
 * allows, which actions need a value); parsing one JSONL line with every problem reported by
 * field path; writing an episode as one JSON line; and a streaming JSONL line reader. The
 * schema in words is docs/formats.md. The UI simulator (sim.h) produces these structs. */
#ifndef LAM_EPISODE_H
#define LAM_EPISODE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lam/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    LAM_ACT_CLICK = 0,
    LAM_ACT_TYPE,   /* element + value (the text typed, replacing the field's content) */
    LAM_ACT_SELECT, /* element (combobox) + value (one of its options) */
    LAM_ACT_HOVER,
    LAM_ACT_PRESS,  /* value: a key name (Enter, Tab, Escape, ArrowDown, ...); element optional */
    LAM_ACT_SCROLL, /* value: "up" or "down"; element optional (a scrollable list or dialog) */
    LAM_ACT_GOTO,   /* value: a URL; no element */
    LAM_ACT_BACK,   /* no element, no value */
    LAM_ACT_DONE,   /* no element; value optional (the answer) */
    LAM_ACT_COUNT
} lam_action_type;

typedef enum {
    LAM_ROLE_BUTTON = 0,
    LAM_ROLE_LINK,
    LAM_ROLE_TEXTBOX,
    LAM_ROLE_SEARCHBOX,
    LAM_ROLE_CHECKBOX,
    LAM_ROLE_RADIO,
    LAM_ROLE_SWITCH,
    LAM_ROLE_COMBOBOX,
    LAM_ROLE_OPTION,
    LAM_ROLE_LISTITEM,
    LAM_ROLE_LIST,
    LAM_ROLE_HEADING,
    LAM_ROLE_TAB,
    LAM_ROLE_MENUITEM,
    LAM_ROLE_DIALOG,
    LAM_ROLE_TEXT,
    LAM_ROLE_IMG,
    LAM_ROLE_COUNT
} lam_role;

const char *lam_action_name(lam_action_type t);
const char *lam_role_name(lam_role r);
/* -1 when the name is unknown. */
int lam_action_parse(const char *name);
int lam_role_parse(const char *name);
/* Whether role r allows action a on it (docs/formats.md, "Roles and actions"). */
int lam_role_allows(lam_role r, lam_action_type a);
/* 1 needs an element, 0 takes none, -1 element optional. */
int lam_action_element_rule(lam_action_type a);
/* 1 needs a value, 0 takes none, -1 value optional. */
int lam_action_value_rule(lam_action_type a);

typedef struct {
    char *id; /* unique within the observation, e.g. "e12" */
    lam_role role;
    char *name;     /* accessible name (label, text) */
    char *value;    /* current value (textbox content, combobox choice); NULL if none */
    char **options; /* combobox choices */
    int n_options;
    int checked;  /* checkbox/radio/switch: 0 or 1; -1 for other roles */
    int disabled; /* 1 when the element cannot be acted on */
    char *parent; /* id of the enclosing element, NULL at the top */
} lam_element;

typedef struct {
    char *url;
    char *title; /* NULL if none */
    lam_element *elements;
    int n_elements;
} lam_observation;

typedef struct {
    lam_action_type type;
    char *element; /* NULL when the action takes none */
    char *value;   /* NULL when the action takes none */
} lam_action;

typedef struct {
    lam_observation obs;
    lam_action action; /* the action taken: what later steps' history shows */
    int has_target;    /* a correction: the action to learn here differs from the one taken */
    lam_action target; /* (JSON "target") the sample's target when has_target, e.g. an expert's
                          label of a state a model reached (DAgger); else `action` is */
} lam_step;

typedef struct {
    char *id;
    char *task;        /* the goal in natural language */
    char *app;         /* e.g. "flights" */
    char *domain;      /* e.g. "travel" */
    char *template_id; /* task template id, e.g. "flights.search_oneway"; NULL if unknown */
    char *split;       /* e.g. "train", "test_template", "test_app", "test_domain"; NULL if none */
    lam_step *steps;
    int n_steps;
} lam_episode;

/* Problems found while parsing or validating, each with a field path
 * ("steps[2].action.element") and a message. Collects all of them, up to a cap. */
typedef struct {
    char path[128];
    char msg[256];
} lam_problem;

typedef struct {
    lam_problem *items;
    int n, cap; /* n may exceed cap: the count is kept, the text of the extra ones is not */
} lam_problems;

void lam_problems_init(lam_problems *p, lam_problem *storage, int cap);
void lam_problems_add(lam_problems *p, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Parses and validates one JSON line into *out (owned by it; lam_episode_free releases).
 * Every problem is added to probs; returns LAM_OK when there are none, LAM_ERR_INVALID
 * otherwise (out is then freed and zeroed). out may be NULL to validate only. */
lam_status lam_episode_parse(const char *line, size_t len, lam_episode *out, lam_problems *probs);
/* Validates an episode in memory (the same rules as the parser); returns the number of
 * problems found (0: valid). probs may be NULL. */
int lam_episode_check(const lam_episode *ep, lam_problems *probs);
void lam_episode_free(lam_episode *ep);
void lam_observation_free(lam_observation *obs);
/* Parses and validates one observation object (the schema's rules for an observation: ids
 * unique, roles known, options on comboboxes, parents present, ...). Problem paths start with
 * base ("observation.elements[3].role"). out is owned by the caller (lam_observation_free)
 * on LAM_OK and zeroed otherwise. probs may be NULL. */
struct json_t;
lam_status lam_observation_from_json(const struct json_t *v, const char *base, lam_observation *out,
                                     lam_problems *probs);
/* Deep copies. */
lam_status lam_observation_copy(lam_observation *dst, const lam_observation *src, lam_error *err);
/* Writes ep as one JSON line (with the trailing newline) to f. An episode that fails
 * lam_episode_check is refused (LAM_ERR_INVALID naming its first problem; nothing written). */
lam_status lam_episode_write(FILE *f, const lam_episode *ep, lam_error *err);
/* The same with the episode's "meta" member: meta is the text of a JSON object, written as is
 * (the caller's; NULL: none). */
lam_status lam_episode_write_meta(FILE *f, const lam_episode *ep, const char *meta, lam_error *err);
/* 1 when a and b are the same action: type, element and value (NULL only equals NULL). */
int lam_action_equal(const lam_action *a, const lam_action *b);
/* Element with this id, or NULL. */
const lam_element *lam_observation_find(const lam_observation *obs, const char *id);

/* Streaming line reader: constant memory apart from the longest line (capped). */
typedef struct {
    FILE *f;
    const char *path;
    char *buf;
    size_t cap;
    int64_t line_no; /* 1-based number of the line last returned */
    size_t max_line;
} lam_jsonl_reader;

/* path "-" reads standard input. */
lam_status lam_jsonl_open(lam_jsonl_reader *r, const char *path, lam_error *err);
/* *line points into the reader's buffer (NUL-terminated, without the newline); returns
 * LAM_OK with *line NULL at the end of the file. A line over max_line bytes (default 64 MiB)
 * is an error naming file and line. */
lam_status lam_jsonl_next(lam_jsonl_reader *r, const char **line, size_t *len, lam_error *err);
void lam_jsonl_close(lam_jsonl_reader *r);

#ifdef __cplusplus
}
#endif

#endif
