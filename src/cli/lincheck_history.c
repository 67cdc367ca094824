/* lincheck_history.c: parses the history files of `synod lincheck` into lin_ops
 * (lincheck_history.h; the format is in docs/linearizability.md, "History files"). */
#include "cli/lincheck_history.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/err.h"

#define LINCHECK_TOKENS_MAX 10u /* a cas line has 9; one more tells "too many" */

/* One blank-separated token of a line, as written (not yet percent-decoded). */
struct token {
    const uint8_t *data;
    size_t size;
};

/* ---- Names ----------------------------------------------------------------------------- */

static void names_free(struct lincheck_names *names)
{
    free(names->table);
    free(names->offsets);
    free(names->sizes);
    syn_buf_free(&names->bytes);
    *names = (struct lincheck_names){0};
}

static uint64_t names_hash(const uint8_t *data, size_t size)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (size_t i = 0; i < size; i++) {
        h = (h ^ data[i]) * 0x100000001b3ull;
    }
    return h;
}

static bool names_equal(const struct lincheck_names *names, uint32_t id, const uint8_t *data,
                        size_t size)
{
    return names->sizes[id - 1] == size &&
           (size == 0 || memcmp(names->bytes.data + names->offsets[id - 1], data, size) == 0);
}

/* Doubles the hash table (or makes the first one) and re-inserts every id. */
static int names_grow_table(struct lincheck_names *names)
{
    size_t cap = names->table_cap == 0 ? 64 : names->table_cap * 2;
    uint32_t *table = calloc(cap, sizeof(*table));
    if (table == NULL) {
        return SYN_ENOMEM;
    }
    for (size_t id = 1; id <= names->count; id++) {
        const uint8_t *data = names->bytes.data + names->offsets[id - 1];
        size_t at = (size_t)names_hash(data, names->sizes[id - 1]) & (cap - 1);
        while (table[at] != 0) {
            at = (at + 1) & (cap - 1);
        }
        table[at] = (uint32_t)id;
    }
    free(names->table);
    names->table = table;
    names->table_cap = cap;
    return 0;
}

/* Appends a new name's bytes and returns its id in *id. */
static int names_add(struct lincheck_names *names, const uint8_t *data, size_t size,
                     uint32_t *id)
{
    if (names->count >= LINCHECK_NAMES_MAX) {
        return SYN_ETOOBIG;
    }
    if (names->count == names->cap) {
        size_t cap = names->cap == 0 ? 64 : names->cap * 2;
        size_t *offsets = realloc(names->offsets, cap * sizeof(*offsets));
        names->offsets = offsets != NULL ? offsets : names->offsets;
        uint32_t *sizes = realloc(names->sizes, cap * sizeof(*sizes));
        names->sizes = sizes != NULL ? sizes : names->sizes;
        if (offsets == NULL || sizes == NULL) {
            return SYN_ENOMEM;
        }
        names->cap = cap;
    }
    names->offsets[names->count] = names->bytes.len;
    int rc = syn_buf_append(&names->bytes, data, size);
    if (rc != 0) {
        return rc;
    }
    names->sizes[names->count] = (uint32_t)size;
    names->count++;
    *id = (uint32_t)names->count;
    return 0;
}

/* The id of the name data[0..size), interned on first sight. */
static int names_intern(struct lincheck_names *names, const uint8_t *data, size_t size,
                        uint32_t *id_out)
{
    if (2 * (names->count + 1) > names->table_cap) {
        int rc = names_grow_table(names);
        if (rc != 0) {
            return rc;
        }
    }
    size_t mask = names->table_cap - 1;
    size_t at = (size_t)names_hash(data, size) & mask;
    for (; names->table[at] != 0; at = (at + 1) & mask) {
        if (names_equal(names, names->table[at], data, size)) {
            *id_out = names->table[at];
            return 0;
        }
    }
    uint32_t id = 0;
    int rc = names_add(names, data, size, &id);
    if (rc == 0) {
        names->table[at] = id;
        *id_out = id;
    }
    return rc;
}

/* ---- Tokens ---------------------------------------------------------------------------- */

static int hex_digit(uint8_t c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

static bool token_is(const struct token *t, const char *word)
{
    size_t n = strlen(word);
    return t->size == n && memcmp(t->data, word, n) == 0;
}

__attribute__((format(printf, 3, 4))) static int fail(struct lincheck_history *h, uint32_t line,
                                                     const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->errmsg, sizeof(h->errmsg), fmt, ap);
    va_end(ap);
    h->error_line = line;
    return SYN_EINVAL;
}

/* Percent-decodes t into scratch and interns it in names. what names the field in errors. */
static int intern_token(struct lincheck_history *h, uint32_t line, struct lincheck_names *names,
                        struct syn_buf *scratch, const struct token *t, const char *what,
                        uint32_t *id)
{
    syn_buf_reset(scratch);
    for (size_t i = 0; i < t->size; i++) {
        uint8_t c = t->data[i];
        if (c == '%') {
            int d1 = i + 1 < t->size ? hex_digit(t->data[i + 1]) : -1;
            int d2 = i + 2 < t->size ? hex_digit(t->data[i + 2]) : -1;
            if (d1 < 0 || d2 < 0) {
                return fail(h, line, "%s: '%%' must be followed by two hex digits", what);
            }
            c = (uint8_t)(d1 << 4 | d2);
            i += 2;
        }
        int rc = syn_buf_append_u8(scratch, c);
        if (rc != 0) {
            return rc;
        }
    }
    int rc = names_intern(names, scratch->data, scratch->len, id);
    if (rc == SYN_ETOOBIG) {
        return fail(h, line, "more than %u distinct %ss", LINCHECK_NAMES_MAX, what);
    }
    return rc;
}

/* A value: `-` is absent (LINCHECK_ABSENT), anything else a name in h->values. */
static int value_token(struct lincheck_history *h, uint32_t line, struct syn_buf *scratch,
                       const struct token *t, const char *what, uint64_t *value)
{
    if (token_is(t, "-")) {
        *value = LINCHECK_ABSENT;
        return 0;
    }
    uint32_t id = 0;
    int rc = intern_token(h, line, &h->values, scratch, t, what, &id);
    *value = id;
    return rc;
}

/* A time: decimal digits that fit 64 bits. */
static bool time_token(const struct token *t, uint64_t *out)
{
    if (t->size == 0 || t->size > 20) {
        return false;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < t->size; i++) {
        uint8_t c = t->data[i];
        if (c < '0' || c > '9') {
            return false;
        }
        uint64_t d = (uint64_t)(c - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return false;
        }
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* Splits a line (no line ending) into tokens, up to a '#' that starts a token. */
static uint32_t split_line(const uint8_t *data, size_t size, struct token *tokens)
{
    uint32_t n = 0;
    size_t i = 0;
    while (i < size && n < LINCHECK_TOKENS_MAX) {
        while (i < size && (data[i] == ' ' || data[i] == '\t')) {
            i++;
        }
        if (i == size || data[i] == '#') {
            break;
        }
        size_t start = i;
        while (i < size && data[i] != ' ' && data[i] != '\t') {
            i++;
        }
        tokens[n++] = (struct token){.data = data + start, .size = i - start};
    }
    return n;
}

/* ---- Lines ----------------------------------------------------------------------------- */

static int push_op(struct lincheck_history *h, const struct lin_op *op, uint32_t line,
                   size_t offset)
{
    if (h->op_count >= LIN_OPS_MAX) {
        return SYN_ETOOBIG;
    }
    if (h->op_count == h->op_cap) {
        size_t cap = h->op_cap == 0 ? 1024 : h->op_cap * 2;
        struct lin_op *ops = realloc(h->ops, cap * sizeof(*ops));
        h->ops = ops != NULL ? ops : h->ops;
        uint32_t *lines = realloc(h->lines, cap * sizeof(*lines));
        h->lines = lines != NULL ? lines : h->lines;
        size_t *offsets = realloc(h->line_offsets, cap * sizeof(*offsets));
        h->line_offsets = offsets != NULL ? offsets : h->line_offsets;
        if (ops == NULL || lines == NULL || offsets == NULL) {
            return SYN_ENOMEM; /* each array keeps what it had; h frees them */
        }
        h->op_cap = cap;
    }
    h->ops[h->op_count] = *op;
    h->lines[h->op_count] = line;
    h->line_offsets[h->op_count] = offset;
    h->op_count++;
    return 0;
}

/* The last tokens of every line: INVOKE COMPLETE OUTCOME [CAS-RESULT], from tokens[0]. */
static int parse_ending(struct lincheck_history *h, uint32_t line, const struct token *t,
                        uint32_t count, struct lin_op *op)
{
    bool cas = op->kind == LIN_CAS;
    if (count < 3) {
        return fail(h, line, "expected INVOKE COMPLETE OUTCOME after the %s's value%s",
                    cas ? "cas" : op->kind == LIN_READ ? "read" : "write", cas ? "s" : "");
    }
    if (!time_token(&t[0], &op->invoke_time)) {
        return fail(h, line, "INVOKE must be a decimal time that fits 64 bits");
    }
    op->outcome = token_is(&t[2], "ok")        ? LIN_OK
                  : token_is(&t[2], "fail")    ? LIN_FAIL
                  : token_is(&t[2], "unknown") ? LIN_UNKNOWN
                                               : 0;
    if (op->outcome == 0) {
        return fail(h, line, "OUTCOME must be ok, fail or unknown");
    }
    bool has_result = cas && op->outcome == LIN_OK;
    if (count != (has_result ? 4u : 3u)) {
        return fail(h, line, has_result ? "an ok cas ends with swapped or kept"
                                        : "unexpected text after OUTCOME");
    }
    if (has_result) {
        if (!token_is(&t[3], "swapped") && !token_is(&t[3], "kept")) {
            return fail(h, line, "an ok cas ends with swapped or kept");
        }
        op->cas_ok = token_is(&t[3], "swapped");
    }
    if (op->outcome != LIN_OK && token_is(&t[1], "-")) {
        op->complete_time = 0;
        return 0;
    }
    if (!time_token(&t[1], &op->complete_time)) {
        return fail(h, line, "COMPLETE must be a decimal time%s",
                    op->outcome == LIN_OK ? "" : " or -");
    }
    if (op->outcome == LIN_OK && op->complete_time <= op->invoke_time) {
        return fail(h, line, "an ok op must complete after it was invoked (COMPLETE > INVOKE)");
    }
    return 0;
}

static int parse_line(struct lincheck_history *h, uint32_t line, size_t offset,
                      const struct token *t, uint32_t count, struct syn_buf *scratch)
{
    if (count < 4) {
        return fail(h, line, "expected CLIENT KEY KIND ..., got %u field%s", count,
                    count == 1 ? "" : "s");
    }
    struct lin_op op = {0};
    op.kind = token_is(&t[2], "read")    ? LIN_READ
              : token_is(&t[2], "write") ? LIN_WRITE
              : token_is(&t[2], "cas")   ? LIN_CAS
                                         : 0;
    if (op.kind == 0) {
        return fail(h, line, "KIND must be read, write or cas");
    }
    if (token_is(&t[0], "-") || token_is(&t[1], "-")) {
        return fail(h, line, "a client or key cannot be '-'");
    }
    uint32_t client = 0;
    uint32_t key = 0;
    int rc = intern_token(h, line, &h->clients, scratch, &t[0], "client", &client);
    if (rc == 0) {
        rc = intern_token(h, line, &h->keys, scratch, &t[1], "key", &key);
    }
    uint32_t next = 3;
    if (rc == 0 && op.kind == LIN_CAS) {
        rc = value_token(h, line, scratch, &t[next++], "value", &op.expected);
    }
    if (rc == 0 && next < count) {
        rc = value_token(h, line, scratch, &t[next++], "value", &op.value);
    } else if (rc == 0) {
        rc = fail(h, line, "expected the cas's new value after its expected value");
    }
    if (rc == 0) {
        rc = parse_ending(h, line, &t[next], count - next, &op);
    }
    if (rc != 0) {
        return rc;
    }
    op.client = client;
    op.key = key;
    h->unknown_count += op.outcome == LIN_UNKNOWN ? 1u : 0u;
    h->fail_count += op.outcome == LIN_FAIL ? 1u : 0u;
    rc = push_op(h, &op, line, offset);
    if (rc == SYN_ETOOBIG) {
        fail(h, line, "more than %u ops", LIN_OPS_MAX);
        return SYN_ETOOBIG;
    }
    return rc;
}

int lincheck_history_parse(const uint8_t *data, size_t size, struct lincheck_history *h)
{
    *h = (struct lincheck_history){0};
    syn_buf_init(&h->clients.bytes, 0);
    syn_buf_init(&h->keys.bytes, 0);
    syn_buf_init(&h->values.bytes, 0);
    if (size > LINCHECK_FILE_SIZE_MAX) {
        fail(h, 0, "the file is larger than %llu bytes",
             (unsigned long long)LINCHECK_FILE_SIZE_MAX);
        return SYN_ETOOBIG;
    }
    struct syn_buf scratch;
    syn_buf_init(&scratch, LINCHECK_TOKEN_SIZE_MAX);
    int rc = 0;
    uint32_t line = 0;
    for (size_t at = 0; at < size && rc == 0;) {
        const uint8_t *nl = memchr(data + at, '\n', size - at);
        size_t end = nl != NULL ? (size_t)(nl - data) : size;
        size_t len = end - at;
        if (len > 0 && data[at + len - 1] == '\r') {
            len--;
        }
        line++;
        if (line == UINT32_MAX) {
            rc = fail(h, line, "too many lines");
            break;
        }
        struct token tokens[LINCHECK_TOKENS_MAX];
        uint32_t count = split_line(data + at, len, tokens);
        for (uint32_t i = 0; i < count && rc == 0; i++) {
            if (tokens[i].size > LINCHECK_TOKEN_SIZE_MAX) {
                fail(h, line, "field %u is longer than %u bytes", i + 1, LINCHECK_TOKEN_SIZE_MAX);
                rc = SYN_ETOOBIG;
            }
        }
        if (rc == 0 && count == LINCHECK_TOKENS_MAX) {
            rc = fail(h, line, "too many fields");
        } else if (rc == 0 && count > 0) {
            rc = parse_line(h, line, at, tokens, count, &scratch);
        }
        at = end + 1;
    }
    syn_buf_free(&scratch);
    if (rc == SYN_ENOMEM && h->errmsg[0] == '\0') {
        fail(h, line, "out of memory");
    }
    return rc;
}

void lincheck_history_free(struct lincheck_history *h)
{
    free(h->ops);
    free(h->lines);
    free(h->line_offsets);
    names_free(&h->clients);
    names_free(&h->keys);
    names_free(&h->values);
    *h = (struct lincheck_history){0};
}

static bool byte_is_plain(uint8_t c)
{
    return c > 0x20 && c < 0x7f && c != '%' && c != '#' && c != '"' && c != '\\';
}

char *lincheck_name_format(const struct lincheck_names *names, uint64_t id, char *out,
                           size_t out_size)
{
    ASSERT(out_size >= 4);
    if (id == LINCHECK_ABSENT || id > names->count) {
        snprintf(out, out_size, "%s", id == LINCHECK_ABSENT ? "-" : "?");
        return out;
    }
    static const char hex[] = "0123456789ABCDEF";
    const uint8_t *data = names->bytes.data + names->offsets[id - 1];
    size_t size = names->sizes[id - 1];
    bool dash = size == 1 && data[0] == '-';
    size_t len = 0;
    for (size_t i = 0; i < size; i++) {
        bool plain = byte_is_plain(data[i]) && !dash;
        size_t need = plain ? 1 : 3;
        if (len + need + 1 > out_size) {
            memcpy(out + (out_size - 4), "...", 4);
            return out;
        }
        if (plain) {
            out[len++] = (char)data[i];
        } else {
            out[len++] = '%';
            out[len++] = hex[data[i] >> 4];
            out[len++] = hex[data[i] & 15];
        }
    }
    out[len] = '\0';
    return out;
}
