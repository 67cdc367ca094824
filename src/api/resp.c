/* resp.c: the RESP2 request parser and reply encoders (see resp.h). The parser follows
 * Redis's networking.c (processMultibulkBuffer, processInlineBuffer) and sds.c
 * (sdssplitargs), sentence for sentence, with two differences: it checks the CRLF after bulk
 * data and after length lines (Redis skips two bytes unchecked), and it enforces synod's
 * limits from limits.h. Input bytes are untrusted; our own state is asserted. */
#include "api/resp.h"
#include "base/num.h"

#include <string.h>

#include "base/assert.h"
#include "base/err.h"

/* "-9223372036854775808": the longest integer Redis's string2ll() accepts. */
#define NUMBER_SIZE_MAX SYN_I64_TEXT_SIZE_MAX

_Static_assert(RESP_ERRMSG_SIZE >= 64u, "room for the longest protocol error");
_Static_assert(SYN_RESP_ARGS_MAX <= UINT32_MAX, "an argument count fits its u32");

enum number_kind {
    NUMBER_MULTIBULK, /* the count after '*' */
    NUMBER_BULK,      /* the length after '$' */
};

static const char *const invalid_number[] = {
    [NUMBER_MULTIBULK] = "Protocol error: invalid multibulk length",
    [NUMBER_BULK] = "Protocol error: invalid bulk length",
};

static int fail(struct resp_command *cmd, int rc, const char *why)
{
    size_t n = strlen(why);
    ASSERT(n < sizeof(cmd->errmsg));
    memcpy(cmd->errmsg, why, n + 1);
    resp_command_reset(cmd);
    return rc;
}

/* Redis: addReplyErrorFormat(c, "Protocol error: expected '$', got '%c'", ...), where CR
 * and LF in the reply become spaces; so does NUL here, which would end the C string. */
static int fail_expected_dollar(struct resp_command *cmd, uint8_t got)
{
    static const char head[] = "Protocol error: expected '$', got '";
    _Static_assert(sizeof(head) + 2 <= RESP_ERRMSG_SIZE, "the sentence fits errmsg");
    char *m = cmd->errmsg;
    memcpy(m, head, sizeof(head) - 1);
    size_t n = sizeof(head) - 1;
    m[n++] = (got == '\r' || got == '\n' || got == '\0') ? ' ' : (char)got;
    m[n++] = '\'';
    m[n] = '\0';
    resp_command_reset(cmd);
    return SYN_EPROTO;
}

static int incomplete(struct resp_command *cmd, size_t size_needed)
{
    cmd->size_needed = size_needed;
    return RESP_INCOMPLETE;
}

void resp_command_init(struct resp_command *cmd, struct resp_arg *args, uint32_t args_cap,
                       struct syn_buf *scratch)
{
    ASSERT(args != NULL);
    ASSERT(args_cap >= 1);
    ASSERT(args_cap <= SYN_RESP_ARGS_MAX);
    ASSERT(scratch != NULL);
    ASSERT(scratch->max_size >= SYN_RESP_INLINE_SIZE_MAX);
    *cmd = (struct resp_command){.args = args, .args_cap = args_cap, .scratch = scratch};
}

void resp_command_reset(struct resp_command *cmd)
{
    cmd->resume = (struct resp_resume){0};
}

/* ---- Numbers: Redis's string2ll() rules ---------------------------------------------- */

/* The number line starting at data[start] (just after '*' or '$'), ending in CRLF. 0 with
 * *value and *line_end (the byte after LF); RESP_INCOMPLETE; or SYN_EPROTO with Redis's
 * sentence. A byte that can never be part of a number fails at once, rather than waiting
 * for a CR that a sloppy client (sending bare LF) will never send. */
static int number_line(struct resp_command *cmd, const uint8_t *data, size_t size, size_t start,
                       enum number_kind kind, int64_t *value, size_t *line_end)
{
    size_t i = start;
    while (i < size && data[i] != '\r') {
        uint8_t c = data[i];
        if ((c < '0' || c > '9') && c != '-') {
            return fail(cmd, SYN_EPROTO, invalid_number[kind]);
        }
        if (i - start >= NUMBER_SIZE_MAX) {
            return fail(cmd, SYN_EPROTO, invalid_number[kind]);
        }
        i++;
    }
    if (size - i < 2) {
        return incomplete(cmd, i + 2);
    }
    if (data[i + 1] != '\n' || !syn_i64_parse(data + start, i - start, value)) {
        return fail(cmd, SYN_EPROTO, invalid_number[kind]);
    }
    *line_end = i + 2;
    return 0;
}

/* ---- Multibulk: *<n>\r\n ($<len>\r\n<bytes>\r\n){n} ---------------------------------- */

/* The bulk header at data[st->at]. */
static int bulk_header(struct resp_command *cmd, const uint8_t *data, size_t size)
{
    struct resp_resume *st = &cmd->resume;
    if (st->at == size) {
        return incomplete(cmd, size + 1);
    }
    if (data[st->at] != '$') {
        return fail_expected_dollar(cmd, data[st->at]);
    }
    int64_t len = 0;
    size_t line_end = 0;
    int rc = number_line(cmd, data, size, st->at + 1, NUMBER_BULK, &len, &line_end);
    if (rc != 0) {
        return rc;
    }
    if (len < 0) {
        return fail(cmd, SYN_EPROTO, invalid_number[NUMBER_BULK]);
    }
    if ((uint64_t)len > SYN_RESP_REQUEST_SIZE_MAX) {
        return fail(cmd, SYN_ETOOBIG, invalid_number[NUMBER_BULK]);
    }
    if (line_end + (uint64_t)len + 2 > SYN_RESP_REQUEST_SIZE_MAX) {
        return fail(cmd, SYN_ETOOBIG, "Protocol error: too big multibulk request");
    }
    st->at = line_end;
    st->bulk_size = (uint64_t)len;
    st->in_bulk = true;
    return 0;
}

/* The data of the bulk whose header was parsed. */
static int bulk_data(struct resp_command *cmd, const uint8_t *data, size_t size)
{
    struct resp_resume *st = &cmd->resume;
    size_t end = st->at + (size_t)st->bulk_size;
    if (size < end + 2) {
        return incomplete(cmd, end + 2);
    }
    if (data[end] != '\r' || data[end + 1] != '\n') {
        return fail(cmd, SYN_EPROTO, "Protocol error: expected CRLF after bulk data");
    }
    st->at = end + 2;
    st->in_bulk = false;
    st->args_seen++;
    return 0;
}

/* The arguments of a complete, already checked multibulk command, in one cheap pass over
 * its headers: the bulks' bytes are not looked at again. */
static void multibulk_collect(struct resp_command *cmd, const uint8_t *data, size_t size, size_t at)
{
    uint32_t n = cmd->resume.args_expected;
    for (uint32_t i = 0; i < n; i++) {
        int64_t len = 0;
        size_t line_end = 0;
        ASSERT(data[at] == '$');
        int rc = number_line(cmd, data, size, at + 1, NUMBER_BULK, &len, &line_end);
        ASSERT(rc == 0);
        cmd->args[i] = (struct resp_arg){.data = data + line_end, .size = (size_t)len};
        at = line_end + (size_t)len + 2;
    }
    ASSERT(at == cmd->resume.at);
    cmd->arg_count = n;
}

static int multibulk_parse(struct resp_command *cmd, const uint8_t *data, size_t size,
                           size_t *consumed)
{
    struct resp_resume *st = &cmd->resume;
    int64_t count = 0;
    size_t args_start = 0; /* re-read on every call: a line of at most 23 bytes */
    int rc = number_line(cmd, data, size, 1, NUMBER_MULTIBULK, &count, &args_start);
    if (rc != 0) {
        ASSERT(st->args_expected == 0);
        return rc;
    }
    if (count <= 0) { /* Redis ignores "*0" and "*-1" */
        *consumed = args_start;
        resp_command_reset(cmd);
        return 0;
    }
    if ((uint64_t)count > cmd->args_cap) {
        return fail(cmd, SYN_ETOOBIG, invalid_number[NUMBER_MULTIBULK]);
    }
    if (st->args_expected == 0) {
        st->args_expected = (uint32_t)count;
        st->at = args_start;
    }
    ASSERT(st->args_expected == count);
    while (st->args_seen < st->args_expected) {
        rc = st->in_bulk ? bulk_data(cmd, data, size) : bulk_header(cmd, data, size);
        if (rc != 0) {
            return rc;
        }
    }
    multibulk_collect(cmd, data, size, args_start);
    *consumed = st->at;
    resp_command_reset(cmd);
    return 0;
}

/* ---- Inline: one line, split like Redis's sdssplitargs() ----------------------------- */

/* isspace() in the C locale. */
static bool is_blank(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static bool is_hex(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static uint8_t hex_value(uint8_t c)
{
    return (uint8_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
}

/* A line seen as sdssplitargs() sees its C string: a NUL past the end. */
struct line {
    const uint8_t *data;
    size_t size;
};

static uint8_t line_at(const struct line *l, size_t i)
{
    return i < l->size ? l->data[i] : 0;
}

/* Appends to scratch, whose room for the whole line was reserved. */
static void scratch_put(struct syn_buf *scratch, uint8_t c)
{
    ASSERT(scratch->len < scratch->cap);
    scratch->data[scratch->len++] = c;
}

/* Inside quotes: one byte or escape at *i. In "...", \xHH and \n \r \t \b \a escape, and a
 * backslash before any other byte gives that byte; in '...', only \' escapes. Returns false
 * on unbalanced quotes; sets *done at the closing quote, which must be followed by a blank or
 * the end of the line. */
static bool quoted(const struct line *l, size_t *i, uint8_t quote, struct syn_buf *out, bool *done)
{
    uint8_t c = line_at(l, *i);
    uint8_t next = line_at(l, *i + 1);
    bool dq = quote == '"';
    if (dq && c == '\\' && next == 'x' && is_hex(line_at(l, *i + 2)) &&
        is_hex(line_at(l, *i + 3))) {
        scratch_put(out,
                    (uint8_t)(hex_value(line_at(l, *i + 2)) * 16 + hex_value(line_at(l, *i + 3))));
        *i += 3;
    } else if (dq && c == '\\' && next != 0) {
        static const uint8_t from[] = "nrtba";
        static const uint8_t to[] = "\n\r\t\b\a";
        const uint8_t *hit = memchr(from, next, sizeof(from) - 1);
        scratch_put(out, hit != NULL ? to[hit - from] : next);
        *i += 1;
    } else if (!dq && c == '\\' && next == '\'') {
        scratch_put(out, '\'');
        *i += 1;
    } else if (c == quote) {
        *done = true;
        return next == 0 || is_blank(next);
    } else if (c == 0) {
        return false;
    } else {
        scratch_put(out, c);
    }
    return true;
}

/* The token starting at *i (not a blank). It borrows from the line until a quote starts;
 * then what it holds so far moves to scratch, which gets the rest. */
static bool inline_token(const struct line *l, size_t *i, struct syn_buf *scratch,
                         struct resp_arg *arg)
{
    size_t start = *i;
    size_t out_start = scratch->len;
    uint8_t quote = 0; /* '"' or '\'' while inside quotes */
    bool copying = false;
    for (bool done = false; !done; *i += 1) {
        if (quote != 0) {
            if (!quoted(l, i, quote, scratch, &done)) {
                return false;
            }
            continue;
        }
        uint8_t c = line_at(l, *i);
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == 0) {
            break; /* the blank after a token: skipped by the caller */
        }
        if ((c == '"' || c == '\'') && !copying) {
            for (size_t k = start; k < *i; k++) {
                scratch_put(scratch, l->data[k]);
            }
            copying = true;
        }
        if (c == '"' || c == '\'') {
            quote = c;
        } else if (copying) {
            scratch_put(scratch, c);
        }
    }
    if (copying) {
        *arg =
            (struct resp_arg){.data = scratch->data + out_start, .size = scratch->len - out_start};
    } else {
        *arg = (struct resp_arg){.data = l->data + start, .size = *i - start};
    }
    return true;
}

/* Splits a complete line (without its line ending) into cmd->args. */
static int inline_split(struct resp_command *cmd, const struct line *l)
{
    syn_buf_reset(cmd->scratch);
    if (memchr(l->data, '"', l->size) != NULL || memchr(l->data, '\'', l->size) != NULL) {
        /* cannot pass max_size: resp_command_init() checked it holds a whole line */
        int rc = syn_buf_reserve(cmd->scratch, l->size);
        if (rc != 0) {
            return fail(cmd, rc, "out of memory");
        }
    }
    uint32_t n = 0;
    size_t i = 0;
    for (;;) {
        while (line_at(l, i) != 0 && is_blank(line_at(l, i))) {
            i++;
        }
        if (line_at(l, i) == 0) {
            break;
        }
        if (n == cmd->args_cap) {
            return fail(cmd, SYN_ETOOBIG, "Protocol error: too many arguments in inline request");
        }
        if (!inline_token(l, &i, cmd->scratch, &cmd->args[n])) {
            return fail(cmd, SYN_EPROTO, "Protocol error: unbalanced quotes in request");
        }
        n++;
    }
    cmd->arg_count = n;
    return 0;
}

static int inline_parse(struct resp_command *cmd, const uint8_t *data, size_t size,
                        size_t *consumed)
{
    struct resp_resume *st = &cmd->resume;
    /* A line holds at most SYN_RESP_INLINE_SIZE_MAX bytes, then CR LF. */
    size_t scan_end = size < SYN_RESP_INLINE_SIZE_MAX + 2 ? size : SYN_RESP_INLINE_SIZE_MAX + 2;
    const uint8_t *lf = st->at < scan_end ? memchr(data + st->at, '\n', scan_end - st->at) : NULL;
    if (lf == NULL) {
        if (scan_end == SYN_RESP_INLINE_SIZE_MAX + 2) {
            return fail(cmd, SYN_ETOOBIG, "Protocol error: too big inline request");
        }
        st->at = size;
        return incomplete(cmd, size + 1);
    }
    size_t line_size = (size_t)(lf - data);
    if (line_size > 0 && data[line_size - 1] == '\r') {
        line_size--;
    }
    if (line_size > SYN_RESP_INLINE_SIZE_MAX) {
        return fail(cmd, SYN_ETOOBIG, "Protocol error: too big inline request");
    }
    /* sdssplitargs() reads a C string: a NUL ends the line. */
    const uint8_t *nul = memchr(data, 0, line_size);
    struct line l = {.data = data, .size = nul != NULL ? (size_t)(nul - data) : line_size};
    int rc = inline_split(cmd, &l);
    if (rc != 0) {
        return rc;
    }
    *consumed = (size_t)(lf - data) + 1;
    resp_command_reset(cmd);
    return 0;
}

int resp_parse(const uint8_t *data, size_t size, struct resp_command *cmd, size_t *consumed)
{
    ASSERT(cmd->args != NULL);
    ASSERT(size >= cmd->resume.at); /* the caller passes the same bytes again, and more */
    *consumed = 0;
    cmd->arg_count = 0;
    cmd->size_needed = 0;
    if (size == 0) {
        return incomplete(cmd, 1);
    }
    if (cmd->resume.form == 0) {
        cmd->resume.form = data[0] == '*' ? '*' : 'i';
    }
    ASSERT((cmd->resume.form == '*') == (data[0] == '*'));
    if (cmd->resume.form == '*') {
        return multibulk_parse(cmd, data, size, consumed);
    }
    return inline_parse(cmd, data, size, consumed);
}

/* ---- Reply encoders ------------------------------------------------------------------ */

/* The longest number line: type, sign and digits, CR LF. */
#define NUMBER_LINE_SIZE_MAX (1u + SYN_I64_TEXT_SIZE_MAX + 2u)

/* Formats "<type><v>\r\n" into line; returns its size. */
static size_t number_line_format(char type, int64_t v, char line[NUMBER_LINE_SIZE_MAX])
{
    line[0] = type;
    size_t n = 1 + syn_i64_format(v, line + 1);
    line[n++] = '\r';
    line[n++] = '\n';
    return n;
}

static int append_number_line(struct syn_buf *b, char type, int64_t v)
{
    char line[NUMBER_LINE_SIZE_MAX];
    return syn_buf_append(b, line, number_line_format(type, v, line));
}

/* "<type><text>\r\n" in one append; map_crlf replaces CR and LF in text with spaces. */
static int append_text_line(struct syn_buf *b, char type, const char *code, const char *text,
                            bool map_crlf)
{
    size_t code_size = code != NULL ? strlen(code) + 1 : 0;
    size_t text_size = strlen(text);
    int rc = syn_buf_reserve(b, 1 + code_size + text_size + 2);
    if (rc != 0) {
        return rc;
    }
    uint8_t *p = b->data + b->len;
    *p++ = (uint8_t)type;
    if (code != NULL) {
        memcpy(p, code, code_size - 1);
        p += code_size - 1;
        *p++ = ' ';
    }
    for (size_t i = 0; i < text_size; i++) {
        uint8_t c = (uint8_t)text[i];
        ASSERT(map_crlf || (c != '\r' && c != '\n'));
        *p++ = (c == '\r' || c == '\n') ? ' ' : c;
    }
    *p++ = '\r';
    *p++ = '\n';
    b->len = (size_t)(p - b->data);
    return 0;
}

int resp_append_simple(struct syn_buf *b, const char *text)
{
    return append_text_line(b, '+', NULL, text, false);
}

int resp_append_error(struct syn_buf *b, const char *code, const char *text)
{
    ASSERT(code[0] != '\0');
    for (const char *c = code; *c != '\0'; c++) {
        ASSERT((*c >= 'A' && *c <= 'Z') || *c == '_');
    }
    return append_text_line(b, '-', code, text, true);
}

int resp_append_integer(struct syn_buf *b, int64_t v)
{
    return append_number_line(b, ':', v);
}

/* Bytes of "$<size>\r\n<data>\r\n", or 0 when that overflows a size_t. */
static size_t bulk_size(size_t size)
{
    char line[NUMBER_LINE_SIZE_MAX];
    size_t header = number_line_format('$', (int64_t)size, line);
    return size > SIZE_MAX - header - 2 ? 0 : header + size + 2;
}

int resp_append_bulk(struct syn_buf *b, const void *data, size_t size)
{
    ASSERT(size <= INT64_MAX);
    size_t total = bulk_size(size);
    int rc = total == 0 ? SYN_ETOOBIG : syn_buf_reserve(b, total);
    if (rc != 0) {
        return rc;
    }
    rc = append_number_line(b, '$', (int64_t)size);
    ASSERT(rc == 0);
    rc = syn_buf_append(b, data, size);
    ASSERT(rc == 0);
    return syn_buf_append(b, "\r\n", 2);
}

int resp_append_null_bulk(struct syn_buf *b)
{
    return syn_buf_append(b, "$-1\r\n", 5);
}

int resp_append_array_header(struct syn_buf *b, uint64_t count)
{
    ASSERT(count <= INT64_MAX);
    return append_number_line(b, '*', (int64_t)count);
}

int resp_append_null_array(struct syn_buf *b)
{
    return syn_buf_append(b, "*-1\r\n", 5);
}

int resp_append_command(struct syn_buf *b, const struct resp_arg *args, uint32_t arg_count)
{
    char line[NUMBER_LINE_SIZE_MAX];
    size_t total = number_line_format('*', arg_count, line);
    for (uint32_t i = 0; i < arg_count; i++) {
        size_t one = bulk_size(args[i].size);
        if (one == 0 || one > SIZE_MAX - total) {
            return SYN_ETOOBIG;
        }
        total += one;
    }
    int rc = syn_buf_reserve(b, total);
    if (rc != 0) {
        return rc;
    }
    rc = resp_append_array_header(b, arg_count);
    for (uint32_t i = 0; i < arg_count && rc == 0; i++) {
        rc = resp_append_bulk(b, args[i].data, args[i].size);
    }
    ASSERT(rc == 0); /* the room was reserved */
    return 0;
}
