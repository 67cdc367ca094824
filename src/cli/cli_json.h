/* cli_json.h: a JSON reader (RFC 8259) for the answers the CLI gets from nodes: the text is
 * cut into a flat array of tokens, each knowing where its subtree ends, and read through
 * small accessors. Pure: no I/O, no globals; the bytes come from a server and are checked.
 *
 *     struct cli_json j;
 *     if (cli_json_parse(&j, body, size) == 0) {
 *         uint32_t members = cli_json_get(&j, 0, "members");
 *         for (uint32_t m = cli_json_first(&j, members); m != CLI_JSON_NONE;
 *              m = cli_json_next(&j, members, m)) ...
 *     }
 *     cli_json_free(&j);
 */
#ifndef SYN_CLI_CLI_JSON_H
#define SYN_CLI_CLI_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define CLI_JSON_NONE UINT32_MAX /* no such token */
#define CLI_JSON_DEPTH_MAX 64u   /* arrays and objects inside one another */

enum cli_json_type {
    CLI_JSON_NULL = 1,
    CLI_JSON_FALSE = 2,
    CLI_JSON_TRUE = 3,
    CLI_JSON_NUMBER = 4,
    CLI_JSON_STRING = 5,
    CLI_JSON_ARRAY = 6,
    CLI_JSON_OBJECT = 7,
};

struct cli_json_tok {
    uint8_t type;   /* enum cli_json_type */
    uint32_t next;  /* the token after this one's subtree (its next sibling, if any) */
    uint32_t count; /* ARRAY: elements; OBJECT: members, each a key (a STRING) then its value */
    size_t start;   /* the token's text: a string without its quotes */
    size_t size;
};

struct cli_json {
    const uint8_t *text;       /* borrowed */
    struct cli_json_tok *toks; /* owned; the whole text is toks[0] */
    uint32_t count;
    uint32_t cap;
};

/* Reads text[0 .. size): one value, blanks around it. 0; SYN_EBADMSG (not JSON); SYN_ETOOBIG
 * (nested deeper than CLI_JSON_DEPTH_MAX); SYN_ENOMEM. j borrows text; free it either way. */
int cli_json_parse(struct cli_json *j, const uint8_t *text, size_t size);
void cli_json_free(struct cli_json *j);
/* cli_json_parse(), then the whole text must be of type (CLI_JSON_ARRAY or CLI_JSON_OBJECT),
 * and *items gets room for its elements (or members), zeroed, item_size bytes each: NULL when
 * it has none. 0, SYN_EBADMSG (not JSON, too deep, or of another type), SYN_ENOMEM. Free j
 * either way, and *items (free()) when it is not NULL. */
int cli_json_parse_items(struct cli_json *j, const uint8_t *text, size_t size, uint8_t type,
                         size_t item_size, void **items);

/* Reads an array's element tok into item (zeroed, item_size bytes). 0: kept; 1: skipped
 * (item must hold nothing then: its slot is used again); SYN_EBADMSG, SYN_ENOMEM: failed
 * (item must hold nothing either). */
typedef int (*cli_json_item_read)(const struct cli_json *j, uint32_t tok, void *item);
/* Reads text, a JSON array, element by element with read into *items (allocated, zeroed,
 * item_size bytes each; NULL when empty): *count of them were kept. 0, SYN_EBADMSG (not an
 * array, or read failed), SYN_ENOMEM. Free *items either way (and what the kept items own). */
int cli_json_read_array(const uint8_t *text, size_t size, size_t item_size, cli_json_item_read read,
                        void **items, uint32_t *count);

/* The value of member key of object tok, or CLI_JSON_NONE (tok is no object, or has no such
 * member). Keys are compared as written: synod's keys need no escapes. */
uint32_t cli_json_get(const struct cli_json *j, uint32_t tok, const char *key);
/* The first element of array tok, or CLI_JSON_NONE. */
uint32_t cli_json_first(const struct cli_json *j, uint32_t tok);
/* The element after element tok of array, or CLI_JSON_NONE. */
uint32_t cli_json_next(const struct cli_json *j, uint32_t array, uint32_t tok);
/* The type of tok; 0 for CLI_JSON_NONE. */
uint8_t cli_json_type(const struct cli_json *j, uint32_t tok);

/* Appends string tok, unescaped (\uXXXX as UTF-8), to out. 0; SYN_EINVAL (tok is no string);
 * SYN_ENOMEM; SYN_ETOOBIG. */
int cli_json_string(const struct cli_json *j, uint32_t tok, struct syn_buf *out);
/* Copies string tok into out (NUL-terminated): false when tok is no string, holds a NUL, or
 * does not fit out_size. */
bool cli_json_cstring(const struct cli_json *j, uint32_t tok, char *out, size_t out_size);
/* The string member key of object tok into out (NUL-terminated), cut to fit between UTF-8
 * sequences: "" when tok has no such member or it is null; false when it is something else
 * than a string. */
bool cli_json_member_text(const struct cli_json *j, uint32_t tok, const char *key, char *out,
                          size_t out_size);
/* Number tok as an unsigned integer: false when it is none, or has a sign, a fraction, an
 * exponent or more than 64 bits. Decimal strings count too ("123": synod writes ids so). */
bool cli_json_u64(const struct cli_json *j, uint32_t tok, uint64_t *out);
/* true or false: false when tok is neither (*out untouched). */
bool cli_json_bool(const struct cli_json *j, uint32_t tok, bool *out);

#endif
