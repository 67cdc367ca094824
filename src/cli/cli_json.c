/* cli_json.c: the JSON reader (cli_json.h): recursive descent over RFC 8259's grammar, its
 * depth bounded by CLI_JSON_DEPTH_MAX, into a flat token array. */
#include "cli/cli_json.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"

struct reader {
    const uint8_t *p;
    size_t size;
    size_t pos;
    struct cli_json *j;
};

static void blanks(struct reader *r)
{
    while (r->pos < r->size && (r->p[r->pos] == ' ' || r->p[r->pos] == '\t' ||
                                r->p[r->pos] == '\n' || r->p[r->pos] == '\r')) {
        r->pos++;
    }
}

/* Appends a token; its index in *idx. */
static int tok_add(struct cli_json *j, uint8_t type, size_t start, uint32_t *idx)
{
    if (j->count == j->cap) {
        if (j->cap >= UINT32_MAX / 4) {
            return SYN_ETOOBIG;
        }
        uint32_t cap = j->cap == 0 ? 16 : j->cap * 2;
        struct cli_json_tok *t = realloc(j->toks, (size_t)cap * sizeof(*t));
        if (t == NULL) {
            return SYN_ENOMEM;
        }
        j->toks = t;
        j->cap = cap;
    }
    *idx = j->count++;
    j->toks[*idx] = (struct cli_json_tok){.type = type, .start = start};
    return 0;
}

static int hex_value(uint8_t c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* A string at r->pos (its opening quote): a STRING token over its contents. */
static int string_read(struct reader *r)
{
    size_t start = ++r->pos;
    for (; r->pos < r->size; r->pos++) {
        uint8_t c = r->p[r->pos];
        if (c == '"') {
            uint32_t idx;
            int rc = tok_add(r->j, CLI_JSON_STRING, start, &idx);
            if (rc == 0) {
                r->j->toks[idx].size = r->pos - start;
                r->j->toks[idx].next = r->j->count;
            }
            r->pos++;
            return rc;
        }
        if (c < 0x20) {
            return SYN_EBADMSG;
        }
        if (c != '\\') {
            continue;
        }
        if (++r->pos >= r->size || strchr("\"\\/bfnrtu", r->p[r->pos]) == NULL ||
            r->p[r->pos] == '\0') {
            return SYN_EBADMSG;
        }
        if (r->p[r->pos] == 'u') {
            for (int k = 0; k < 4; k++) {
                if (++r->pos >= r->size || hex_value(r->p[r->pos]) < 0) {
                    return SYN_EBADMSG;
                }
            }
        }
    }
    return SYN_EBADMSG;
}

static bool digits(struct reader *r)
{
    size_t from = r->pos;
    while (r->pos < r->size && r->p[r->pos] >= '0' && r->p[r->pos] <= '9') {
        r->pos++;
    }
    return r->pos > from;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int number_read(struct reader *r)
{
    size_t start = r->pos;
    if (r->p[r->pos] == '-') {
        r->pos++;
    }
    bool zero = r->pos < r->size && r->p[r->pos] == '0';
    if (!digits(r) || (zero && r->pos - start > 1 + (r->p[start] == '-'))) {
        return SYN_EBADMSG;
    }
    if (r->pos < r->size && r->p[r->pos] == '.' && (r->pos++, !digits(r))) {
        return SYN_EBADMSG;
    }
    if (r->pos < r->size && (r->p[r->pos] == 'e' || r->p[r->pos] == 'E')) {
        r->pos++;
        if (r->pos < r->size && (r->p[r->pos] == '+' || r->p[r->pos] == '-')) {
            r->pos++;
        }
        if (!digits(r)) {
            return SYN_EBADMSG;
        }
    }
    uint32_t idx;
    int rc = tok_add(r->j, CLI_JSON_NUMBER, start, &idx);
    if (rc == 0) {
        r->j->toks[idx].size = r->pos - start;
        r->j->toks[idx].next = r->j->count;
    }
    return rc;
}

static int literal_read(struct reader *r)
{
    static const struct {
        const char *word;
        uint8_t type;
    } words[] = {{"null", CLI_JSON_NULL}, {"false", CLI_JSON_FALSE}, {"true", CLI_JSON_TRUE}};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(words[i].word);
        if (r->size - r->pos >= n && memcmp(r->p + r->pos, words[i].word, n) == 0) {
            uint32_t idx;
            int rc = tok_add(r->j, words[i].type, r->pos, &idx);
            r->pos += n;
            if (rc == 0) {
                r->j->toks[idx].size = n;
                r->j->toks[idx].next = r->j->count;
            }
            return rc;
        }
    }
    return SYN_EBADMSG;
}

static int value_read(struct reader *r, uint32_t depth);

/* An array or an object at r->pos (its bracket): its elements, or its keys and values. */
static int container_read(struct reader *r, uint32_t depth)
{
    if (depth >= CLI_JSON_DEPTH_MAX) {
        return SYN_ETOOBIG;
    }
    bool object = r->p[r->pos] == '{';
    uint8_t close = object ? '}' : ']';
    uint32_t idx;
    int rc = tok_add(r->j, object ? CLI_JSON_OBJECT : CLI_JSON_ARRAY, r->pos++, &idx);
    blanks(r);
    bool more = rc == 0 && !(r->pos < r->size && r->p[r->pos] == close);
    while (more && rc == 0) {
        blanks(r);
        if (object) {
            rc = r->pos < r->size && r->p[r->pos] == '"' ? string_read(r) : SYN_EBADMSG;
            blanks(r);
            if (rc == 0 && !(r->pos < r->size && r->p[r->pos++] == ':')) {
                rc = SYN_EBADMSG;
            }
        }
        rc = rc == 0 ? value_read(r, depth + 1) : rc;
        r->j->toks[idx].count++;
        blanks(r);
        more = r->pos < r->size && r->p[r->pos] == ',';
        if (rc == 0 && !more && !(r->pos < r->size && r->p[r->pos] == close)) {
            rc = SYN_EBADMSG;
        }
        r->pos += more ? 1 : 0;
    }
    if (rc == 0) {
        r->pos++; /* the closing bracket */
        r->j->toks[idx].size = r->pos - r->j->toks[idx].start;
        r->j->toks[idx].next = r->j->count;
    }
    return rc;
}

static int value_read(struct reader *r, uint32_t depth)
{
    blanks(r);
    if (r->pos >= r->size) {
        return SYN_EBADMSG;
    }
    uint8_t c = r->p[r->pos];
    if (c == '{' || c == '[') {
        return container_read(r, depth);
    }
    if (c == '"') {
        return string_read(r);
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        return number_read(r);
    }
    return literal_read(r);
}

int cli_json_parse(struct cli_json *j, const uint8_t *text, size_t size)
{
    *j = (struct cli_json){.text = text};
    struct reader r = {.p = text, .size = size, .j = j};
    int rc = value_read(&r, 0);
    blanks(&r);
    return rc == 0 && r.pos != size ? SYN_EBADMSG : rc;
}

int cli_json_parse_items(struct cli_json *j, const uint8_t *text, size_t size, uint8_t type,
                         size_t item_size, void **items)
{
    *items = NULL;
    int rc = cli_json_parse(j, text, size);
    if (rc == 0 && cli_json_type(j, 0) != type) {
        rc = SYN_EBADMSG;
    }
    if (rc == 0 && j->toks[0].count > 0) {
        *items = calloc(j->toks[0].count, item_size);
        rc = *items == NULL ? SYN_ENOMEM : 0;
    }
    return rc == SYN_ETOOBIG ? SYN_EBADMSG : rc;
}

int cli_json_read_array(const uint8_t *text, size_t size, size_t item_size, cli_json_item_read read,
                        void **items, uint32_t *count)
{
    struct cli_json j;
    *count = 0;
    int rc = cli_json_parse_items(&j, text, size, CLI_JSON_ARRAY, item_size, items);
    for (uint32_t e = rc == 0 ? cli_json_first(&j, 0) : CLI_JSON_NONE;
         e != CLI_JSON_NONE && rc == 0; e = cli_json_next(&j, 0, e)) {
        rc = read(&j, e, (uint8_t *)*items + (size_t)*count * item_size);
        *count += rc == 0 ? 1u : 0u;
        rc = rc > 0 ? 0 : rc;
    }
    cli_json_free(&j);
    return rc;
}

void cli_json_free(struct cli_json *j)
{
    free(j->toks);
    *j = (struct cli_json){0};
}

/* ---- Accessors ----------------------------------------------------------------------- */

uint8_t cli_json_type(const struct cli_json *j, uint32_t tok)
{
    return tok < j->count ? j->toks[tok].type : 0;
}

uint32_t cli_json_get(const struct cli_json *j, uint32_t tok, const char *key)
{
    if (cli_json_type(j, tok) != CLI_JSON_OBJECT) {
        return CLI_JSON_NONE;
    }
    size_t n = strlen(key);
    uint32_t k = tok + 1;
    for (uint32_t i = 0; i < j->toks[tok].count; i++) {
        if (k >= j->count || j->toks[k].next >= j->count) {
            return CLI_JSON_NONE; /* only after a failed parse */
        }
        const struct cli_json_tok *t = &j->toks[k];
        uint32_t value = t->next;
        if (t->size == n && memcmp(j->text + t->start, key, n) == 0) {
            return value;
        }
        k = j->toks[value].next;
    }
    return CLI_JSON_NONE;
}

uint32_t cli_json_first(const struct cli_json *j, uint32_t tok)
{
    return cli_json_type(j, tok) == CLI_JSON_ARRAY && j->toks[tok].count > 0 ? tok + 1
                                                                             : CLI_JSON_NONE;
}

uint32_t cli_json_next(const struct cli_json *j, uint32_t array, uint32_t tok)
{
    if (cli_json_type(j, array) != CLI_JSON_ARRAY || tok <= array || tok >= j->toks[array].next) {
        return CLI_JSON_NONE;
    }
    uint32_t after = j->toks[tok].next; /* elements are subtrees one after another */
    return after < j->toks[array].next ? after : CLI_JSON_NONE;
}

static void utf8_put(struct syn_buf *out, uint32_t cp, int *rc)
{
    uint8_t b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (uint8_t)(0xc0 | cp >> 6);
        b[1] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (uint8_t)(0xe0 | cp >> 12);
        b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        b[0] = (uint8_t)(0xf0 | cp >> 18);
        b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 4;
    }
    *rc = *rc == 0 ? syn_buf_append(out, b, n) : *rc;
}

static uint32_t hex4(const uint8_t *s)
{
    uint32_t v = 0;
    for (int k = 0; k < 4; k++) {
        v = v * 16u + (uint32_t)hex_value(s[k]);
    }
    return v;
}

int cli_json_string(const struct cli_json *j, uint32_t tok, struct syn_buf *out)
{
    if (cli_json_type(j, tok) != CLI_JSON_STRING) {
        return SYN_EINVAL;
    }
    const uint8_t *s = j->text + j->toks[tok].start;
    size_t n = j->toks[tok].size;
    size_t start = out->len;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (s[i] != '\\') {
            rc = syn_buf_append(out, &s[i], 1);
            continue;
        }
        uint8_t e = s[++i];
        if (e != 'u') {
            static const char from[] = "\"\\/bfnrt";
            static const char to[] = "\"\\/\b\f\n\r\t";
            rc = syn_buf_append(out, &to[strchr(from, e) - from], 1);
            continue;
        }
        uint32_t cp = hex4(s + i + 1);
        i += 4;
        bool pair = cp >= 0xd800 && cp < 0xdc00 && i + 6 < n && s[i + 1] == '\\' &&
                    s[i + 2] == 'u' && hex4(s + i + 3) >= 0xdc00 && hex4(s + i + 3) < 0xe000;
        if (pair) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + (hex4(s + i + 3) - 0xdc00);
            i += 6;
        } else if (cp >= 0xd800 && cp < 0xe000) {
            cp = 0xfffd; /* a lone surrogate */
        }
        utf8_put(out, cp, &rc);
    }
    if (rc != 0) {
        out->len = start;
    }
    return rc;
}

bool cli_json_cstring(const struct cli_json *j, uint32_t tok, char *out, size_t out_size)
{
    struct syn_buf b;
    syn_buf_init(&b, out_size);
    bool ok = cli_json_string(j, tok, &b) == 0 && b.len < out_size &&
              (b.len == 0 || memchr(b.data, '\0', b.len) == NULL);
    if (ok && b.len > 0) { /* an empty string left b.data NULL: no memcpy from it */
        memcpy(out, b.data, b.len);
    }
    if (ok) {
        out[b.len] = '\0';
    }
    syn_buf_free(&b);
    return ok;
}

bool cli_json_member_text(const struct cli_json *j, uint32_t tok, const char *key, char *out,
                          size_t out_size)
{
    uint32_t v = cli_json_get(j, tok, key);
    out[0] = '\0';
    if (v == CLI_JSON_NONE || cli_json_type(j, v) == CLI_JSON_NULL) {
        return true;
    }
    struct syn_buf b;
    syn_buf_init(&b, 0);
    bool ok = cli_json_string(j, v, &b) == 0;
    size_t n = ok ? (b.len < out_size ? b.len : out_size - 1) : 0;
    while (n > 0 && n < b.len && (b.data[n] & 0xc0) == 0x80) {
        n--; /* cut between UTF-8 sequences */
    }
    if (n > 0) {
        memcpy(out, b.data, n);
    }
    out[n] = '\0';
    syn_buf_free(&b);
    return ok;
}

bool cli_json_u64(const struct cli_json *j, uint32_t tok, uint64_t *out)
{
    uint8_t type = cli_json_type(j, tok);
    if (type != CLI_JSON_NUMBER && type != CLI_JSON_STRING) {
        return false;
    }
    const uint8_t *s = j->text + j->toks[tok].start;
    size_t n = j->toks[tok].size;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10u) {
            return false;
        }
        v = v * 10u + (uint64_t)(s[i] - '0');
    }
    if (n == 0 || (n > 1 && s[0] == '0')) {
        return false;
    }
    *out = v;
    return true;
}

bool cli_json_bool(const struct cli_json *j, uint32_t tok, bool *out)
{
    uint8_t type = cli_json_type(j, tok);
    if (type != CLI_JSON_TRUE && type != CLI_JSON_FALSE) {
        return false;
    }
    *out = type == CLI_JSON_TRUE;
    return true;
}
