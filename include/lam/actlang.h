/* actlang.h - owns the action language, the compact text an action model speaks
 * (`type e12 "Paris" ; click e3 <end>`): its printer and parser (exact round trips), the
 * well-formedness rules of one action, validation of actions against an observation (with the
 * episode module's rules: lam_role_allows, lam_action_element_rule, lam_action_value_rule),
 * and the mapping to and from structured JSON actions (jansson). The grammar is in
 * docs/formats.md, "Prompt and action language". It does not own the schema (episode.h) nor
 * the prompt around the actions (prompt.h). */
#ifndef LAM_ACTLANG_H
#define LAM_ACTLANG_H

#include <stddef.h>

#include "lam/episode.h"
#include "lam/status.h"

#ifdef __cplusplus
extern "C" {
#endif

struct json_t; /* jansson */

#define LAM_ACT_END "<end>" /* ends every action text */
#define LAM_ACT_SEP " ; "   /* between two actions (canonical spacing) */

/* A list of actions whose strings it owns. Memory is kept across lam_act_list_clear, so a
 * list reused for many parses stops allocating once it has grown. Zero-initialize (or
 * lam_act_list_init); free with lam_act_list_free. */
typedef struct lam_act_block lam_act_block;
typedef struct {
    lam_action *items;
    int n, cap;
    lam_act_block *blocks, *cur; /* string storage */
} lam_act_list;

void lam_act_list_init(lam_act_list *l);
void lam_act_list_clear(lam_act_list *l); /* n = 0; memory kept */
void lam_act_list_free(lam_act_list *l);
/* Appends a copy of (type, element, value); element and value may be NULL. No checks. */
lam_status lam_act_list_push(lam_act_list *l, lam_action_type type, const char *element,
                             const char *value, lam_error *err);

/* 1 when id can be written in the action language: one or more of the bytes
 * A-Z a-z 0-9 _ - . : # / @ + $ = ~ ! ? , * & % ' ( ) (docs/formats.md, "elem-id"). */
int lam_act_id_ok(const char *id);

/* The form of one action, without an observation: a known type; element present, absent or
 * either as lam_action_element_rule says and writable (lam_act_id_ok); value likewise by
 * lam_action_value_rule; scroll's value "up" or "down"; press's and goto's not empty. The
 * message names the field ("element: missing (click needs an element)"). */
lam_status lam_act_check_form(const lam_action *a, lam_error *err);

/* Printing. Writes the canonical text of a[0..n) (n >= 1) into buf: actions separated by
 * " ; ", then " <end>" (unless LAM_ACT_NO_END). *len receives the text's length (without the
 * NUL) even when it does not fit; buf may be NULL with cap 0 to measure. Fails with
 * LAM_ERR_INVALID when an action is not well formed (lam_act_check_form, naming the action's
 * index) and LAM_ERR_NOMEM when cap <= *len. */
#define LAM_ACT_NO_END 1u
/* The values of type and done are written with one space after the opening quote (`type 2
 * " Oslo"`): the model-facing form of a value copied from after a space in the task, whose
 * tokens are then the task's (lam_prompt_opts.value_space). The text's parse holds the space:
 * the value is " Oslo" (lam_prompt_unspace takes it off). */
#define LAM_ACT_LEAD_SPACE 2u
lam_status lam_act_print(const lam_action *a, int n, unsigned flags, char *buf, size_t cap,
                         size_t *len, lam_error *err);

/* Element labels. A text may write an element's name, quoted, before its id (`click "Search" 7`,
 * `type "City" 2 "Oslo"`, `scroll down "Results" 4`, `press "Query" 3 "Enter"`): a model trained
 * on labelled targets (lam_prompt_opts.target_names) names the element before it points at it.
 * The parser reads a label and drops it; lam_act_print never writes one. A label holds the first
 * lam_act_label_len(name) bytes of the name: at most LAM_ACT_LABEL_MAX, cut back to the start of
 * a UTF-8 character, and before any "<|" (a section marker); a NULL name is the empty label. */
#define LAM_ACT_LABEL_MAX 32
size_t lam_act_label_len(const char *name);
/* The label of name as the texts write it, quoted and escaped (`"Say \"hi\""`), into buf
 * (NUL-terminated when it fits in cap); returns its length in bytes (buf may be NULL with cap 0
 * to measure). */
size_t lam_act_print_label(const char *name, char *buf, size_t cap);
/* As lam_act_print, with each element id preceded by its label: labels[i] is the name of the
 * element of a[i] (NULL: the empty label; ignored for actions without an element). The parse of
 * the text is a[0..n). */
lam_status lam_act_print_labelled(const lam_action *a, const char *const *labels, int n,
                                  unsigned flags, char *buf, size_t cap, size_t *len,
                                  lam_error *err);

/* Parsing. Reads text[0..len) (any bytes; not NUL-terminated) into out (cleared first).
 * Whitespace (space, tab, CR, LF) between tokens is free, so any spacing parses and
 * lam_act_print gives the canonical form back. On failure returns LAM_ERR_INVALID, sets
 * *err_offset (may be NULL) to the byte offset of the problem and err to
 * "offset N: expected ... (got ...)". An offset equal to len means the text ended too early
 * (it may be the prefix of a valid text, as while decoding). out then holds the actions
 * completed before the problem. Element labels are read and dropped. */
lam_status lam_act_parse(const char *text, size_t len, lam_act_list *out, size_t *err_offset,
                         lam_error *err);

/* Validates a[0..n) against obs: the form (lam_act_check_form), then the element exists in
 * obs, is not disabled, its role allows the action, a select value is one of its options.
 * All actions are checked against the same observation. The message names the action:
 * `action 2 (select e5): value "XL" is not an option of "e5" (options: "S", "M")`. */
lam_status lam_act_check(const lam_action *a, int n, const lam_observation *obs, lam_error *err);

/* ---- JSON ---- */

/* a[0..n) as a JSON array of objects {"type", "element", "value"} (absent fields left out)
 * plus, when obs is not NULL and holds the element, its "role" and "name" for the executor.
 * The actions must be well formed. *out is a new reference. */
lam_status lam_act_to_json(const lam_action *a, int n, const lam_observation *obs,
                           struct json_t **out, lam_error *err);
/* The same as compact JSON text, malloc'd (free with free()). */
lam_status lam_act_to_json_text(const lam_action *a, int n, const lam_observation *obs, char **out,
                                lam_error *err);
/* Reads one action object or an array of them into out (cleared first). Keys: "type",
 * "element", "value" (null means absent), "role" and "name" (strings, ignored: the echo of
 * lam_act_to_json), "meta" (ignored); any other key is an error. Each action must be well
 * formed (lam_act_check_form). Messages name the field: `actions[1].value: must be a string
 * (got a number)`, or `value: ...` for a single object. */
lam_status lam_act_from_json(const struct json_t *j, lam_act_list *out, lam_error *err);
/* The same from JSON text (jansson's errors carry line and column). */
lam_status lam_act_from_json_text(const char *text, size_t len, lam_act_list *out, lam_error *err);

#ifdef __cplusplus
}
#endif

#endif
