/* cli_out.h: what the CLI prints for people: tables with aligned columns, and bytes shown
 * safely on a terminal. Pure: everything goes into a syn_buf, which the command writes. */
#ifndef SYN_CLI_CLI_OUT_H
#define SYN_CLI_CLI_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define CLI_TABLE_COLS_MAX 16u

/* A table filled cell by cell, row after row; the first row is the header. */
struct cli_table {
    uint32_t cols;
    uint32_t cells;        /* added so far */
    int rc;                /* the first failure of an add: tables report it when formatted */
    struct syn_buf text;   /* each cell's text, NUL-terminated, one after another */
    struct syn_buf starts; /* a size_t a cell: where its text starts */
};

/* cols: 1 .. CLI_TABLE_COLS_MAX. */
void cli_table_init(struct cli_table *t, uint32_t cols);
void cli_table_free(struct cli_table *t);
/* Adds the next cell (printf). A failure is kept for cli_table_format(). */
__attribute__((format(printf, 2, 3))) void cli_table_add(struct cli_table *t, const char *fmt, ...);
/* Appends the table to out: columns two spaces apart, each as wide as its widest cell, no
 * blanks at the ends of lines; a last row that is not full is padded with empty cells.
 * 0, SYN_ENOMEM or SYN_ETOOBIG. */
int cli_table_format(const struct cli_table *t, struct syn_buf *out);

/* Appends s[0 .. size) so that a terminal shows each byte: printable ASCII and bytes of
 * UTF-8 as they are; '\\' as "\\\\", newline, tab and CR as "\\n", "\\t", "\\r", other control
 * bytes as "\\xNN". 0, SYN_ENOMEM or SYN_ETOOBIG. */
int cli_out_escape(struct syn_buf *out, const uint8_t *s, size_t size);

#endif
