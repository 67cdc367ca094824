/* cli_out.c: tables and safe bytes for the CLI's output (cli_out.h). */
#include "cli/cli_out.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/assert.h"
#include "base/err.h"

#define CLI_CELL_SIZE_MAX 1024u /* one cell's text; longer ones are cut */

void cli_table_init(struct cli_table *t, uint32_t cols)
{
    ASSERT(cols >= 1 && cols <= CLI_TABLE_COLS_MAX);
    *t = (struct cli_table){.cols = cols};
    syn_buf_init(&t->text, 0);
    syn_buf_init(&t->starts, 0);
}

void cli_table_free(struct cli_table *t)
{
    syn_buf_free(&t->text);
    syn_buf_free(&t->starts);
}

void cli_table_add(struct cli_table *t, const char *fmt, ...)
{
    char cell[CLI_CELL_SIZE_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cell, sizeof(cell), fmt, ap);
    va_end(ap);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof(cell) ? (size_t)n : sizeof(cell) - 1;
    size_t start = t->text.len;
    if (t->rc == 0) {
        t->rc = syn_buf_append(&t->starts, &start, sizeof(start));
    }
    if (t->rc == 0) {
        t->rc = syn_buf_append(&t->text, cell, len + 1);
    }
    t->cells += t->rc == 0 ? 1u : 0u;
}

static const char *cell_at(const struct cli_table *t, uint32_t i)
{
    if (i >= t->cells) {
        return "";
    }
    size_t start;
    memcpy(&start, t->starts.data + (size_t)i * sizeof(start), sizeof(start));
    return (const char *)t->text.data + start;
}

int cli_table_format(const struct cli_table *t, struct syn_buf *out)
{
    if (t->rc != 0) {
        return t->rc;
    }
    uint32_t rows = (t->cells + t->cols - 1) / t->cols;
    size_t widths[CLI_TABLE_COLS_MAX] = {0};
    for (uint32_t i = 0; i < t->cells; i++) {
        size_t n = strlen(cell_at(t, i));
        widths[i % t->cols] = n > widths[i % t->cols] ? n : widths[i % t->cols];
    }
    int rc = 0;
    for (uint32_t r = 0; r < rows && rc == 0; r++) {
        size_t line = out->len;
        for (uint32_t c = 0; c < t->cols && rc == 0; c++) {
            const char *s = cell_at(t, r * t->cols + c);
            size_t n = strlen(s);
            rc = syn_buf_append(out, s, n);
            for (size_t k = n; k < widths[c] + 2 && c + 1 < t->cols && rc == 0; k++) {
                rc = syn_buf_append(out, " ", 1);
            }
        }
        while (rc == 0 && out->len > line && out->data[out->len - 1] == ' ') {
            out->len--; /* no blanks at the end of a line */
        }
        rc = rc == 0 ? syn_buf_append(out, "\n", 1) : rc;
    }
    return rc;
}

int cli_out_escape(struct syn_buf *out, const uint8_t *s, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    size_t start = out->len;
    int rc = 0;
    for (size_t i = 0; i < size && rc == 0; i++) {
        uint8_t c = s[i];
        const char *esc = c == '\\'   ? "\\\\"
                          : c == '\n' ? "\\n"
                          : c == '\t' ? "\\t"
                          : c == '\r' ? "\\r"
                                      : NULL;
        if (esc != NULL) {
            rc = syn_buf_append(out, esc, 2);
        } else if (c < 0x20 || c == 0x7f) {
            char x[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            rc = syn_buf_append(out, x, 4);
        } else {
            rc = syn_buf_append(out, &c, 1);
        }
    }
    if (rc != 0) {
        out->len = start;
    }
    return rc;
}
