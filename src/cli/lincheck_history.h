/* lincheck_history.h: the history files `synod lincheck` reads: one client operation per
 * line, with names for clients, keys and values (docs/linearizability.md, "History files").
 *
 * A pure parser (STYLE 10): lincheck_history_parse() reads (data, size) into lin_ops for
 * lin_check(), interning each client, key and value string as a number, and keeps the names
 * and the line each op came from so that a verdict can be told in the file's own words. No
 * I/O, no globals; a bad line is an error with its line number and a sentence.
 *
 *     # CLIENT KEY KIND ARGS... INVOKE COMPLETE OUTCOME [CAS-RESULT]
 *     c1 x write v1 1000 2000 ok
 *     c2 x read v1 1500 2500 ok
 *     c3 x cas v1 v2 2600 2900 ok swapped
 *     c1 x write v3 3000 - unknown
 */
#ifndef SYN_CLI_LINCHECK_HISTORY_H
#define SYN_CLI_LINCHECK_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "check/lin.h"

#define LINCHECK_FILE_SIZE_MAX (1ull << 30)   /* bytes of one history file */
#define LINCHECK_TOKEN_SIZE_MAX (1u << 20)    /* one name or value, as written */
#define LINCHECK_NAMES_MAX (3u * LIN_OPS_MAX) /* distinct strings of one kind */
#define LINCHECK_ERRMSG_SIZE 256u
#define LINCHECK_ABSENT 0u /* the value id of `-`: no value (a read of a missing key) */

_Static_assert(LINCHECK_NAMES_MAX < UINT32_MAX, "a name id fits a uint32_t");

/* Distinct strings, numbered 1, 2, ... in order of first appearance. */
struct lincheck_names {
    uint32_t *table;      /* open addressing: name ids, 0 = empty; table_cap slots */
    size_t table_cap;     /* a power of two, or 0 */
    size_t *offsets;      /* offsets[id - 1]: where the name's bytes start in bytes */
    uint32_t *sizes;      /* sizes[id - 1]: its size (decoded) */
    size_t count;         /* names so far */
    size_t cap;           /* room in offsets and sizes */
    struct syn_buf bytes; /* every name's decoded bytes, back to back */
};

struct lincheck_history {
    struct lin_op *ops;      /* op_count ops for lin_check(): client, key, value, expected
                              * are the ids of names in clients, keys and values */
    uint32_t *lines;         /* lines[i]: the 1-based line ops[i] came from */
    size_t *line_offsets;    /* line_offsets[i]: the byte where that line starts */
    size_t op_count;
    size_t op_cap;
    struct lincheck_names clients;
    struct lincheck_names keys;
    struct lincheck_names values; /* id LINCHECK_ABSENT (`-`) is not a name */
    uint64_t unknown_count;       /* ops with outcome unknown */
    uint64_t fail_count;          /* ops with outcome fail */

    /* After an error: the line (0: none) and a sentence. */
    uint32_t error_line;
    char errmsg[LINCHECK_ERRMSG_SIZE];
};

/* Parses a history file's bytes into h (which it initializes; free it with
 * lincheck_history_free() whatever this returns). data is borrowed for the call: names are
 * copied. Returns 0; SYN_EINVAL for a bad line (h->error_line, h->errmsg); SYN_ETOOBIG when
 * the file, a token or the op count passes its bound; SYN_ENOMEM. An empty history (no
 * ops) is valid. */
int lincheck_history_parse(const uint8_t *data, size_t size, struct lincheck_history *h);

void lincheck_history_free(struct lincheck_history *h);

/* Writes the name with id in names as a token of the file format (percent-encoded where it
 * must be, so it is printable ASCII without blanks, '"' or '\'), NUL-terminated, cut to
 * fit out_size (>= 4) with "..." at the end when it does not. A value id of LINCHECK_ABSENT
 * is written "-". Returns out. */
char *lincheck_name_format(const struct lincheck_names *names, uint64_t id, char *out,
                           size_t out_size);

#endif
