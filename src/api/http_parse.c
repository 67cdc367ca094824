/* http_parse.c: the HTTP/1.1 request head parser (http_parse.h), after RFC 9112 sections 2
 * (message format), 3 (request line) and 5 (field syntax), and RFC 9110 for the fields it
 * interprets (Content-Length 8.6, Connection 7.6.1, Expect 10.1.1, Host 7.2). Input bytes
 * are untrusted: every rule violation is a status and a sentence, never an assertion. */
#include "api/http_parse.h"

#include <string.h>

#include "base/assert.h"
#include "base/err.h"

static int fail(struct http_request *req, int rc, uint16_t status, const char *why)
{
    req->status = status;
    req->errmsg = why;
    return rc;
}

void http_request_reset(struct http_request *req)
{
    req->scanned = 0;
}

static uint8_t lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c - 'A' + 'a') : c;
}

bool http_slice_is(struct http_slice s, const char *word)
{
    size_t n = strlen(word);
    if (s.size != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (lower(s.data[i]) != lower((uint8_t)word[i])) {
            return false;
        }
    }
    return true;
}

/* RFC 9110 5.6.2: tchar. */
static bool is_tchar(uint8_t c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
        return true;
    }
    return c != 0 && memchr("!#$%&'*+-.^_`|~", c, 15) != NULL;
}

static bool is_token(struct http_slice s)
{
    for (size_t i = 0; i < s.size; i++) {
        if (!is_tchar(s.data[i])) {
            return false;
        }
    }
    return s.size > 0;
}

/* ---- Finding the head ---------------------------------------------------------------- */

/* Empty lines before the request line (RFC 9112 2.2: ignore at least one). */
static size_t leading_blank_lines(const uint8_t *data, size_t size)
{
    size_t i = 0;
    while (i < size &&
           (data[i] == '\n' || (data[i] == '\r' && i + 1 < size && data[i + 1] == '\n'))) {
        i += data[i] == '\r' ? 2 : 1;
    }
    return i;
}

/* The end of the head (just past its blank line) in data[from .. size), or 0. */
static size_t head_end(const uint8_t *data, size_t size, size_t from)
{
    for (size_t i = from; i < size; i++) {
        if (data[i] != '\n') {
            continue;
        }
        if (i + 1 < size && data[i + 1] == '\n') {
            return i + 2;
        }
        if (i + 2 < size && data[i + 1] == '\r' && data[i + 2] == '\n') {
            return i + 3;
        }
    }
    return 0;
}

/* ---- The request line ---------------------------------------------------------------- */

static uint8_t method_of(struct http_slice m)
{
    static const struct {
        const char *name;
        uint8_t method;
    } known[] = {{"GET", HTTP_GET},   {"HEAD", HTTP_HEAD},     {"PUT", HTTP_PUT},
                 {"POST", HTTP_POST}, {"DELETE", HTTP_DELETE}, {"OPTIONS", HTTP_OPTIONS}};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        /* methods are case-sensitive (RFC 9110 9.1) */
        if (m.size == strlen(known[i].name) && memcmp(m.data, known[i].name, m.size) == 0) {
            return known[i].method;
        }
    }
    return HTTP_OTHER;
}

/* Splits the target into path and query; absolute-form keeps only its path (RFC 9112
 * 3.2.2: a server must accept it). */
static int target_split(struct http_request *req)
{
    struct http_slice t = req->target;
    for (size_t i = 0; i < t.size; i++) {
        if (t.data[i] <= ' ' || t.data[i] == 0x7f) {
            return fail(req, SYN_EPROTO, 400, "invalid request target");
        }
    }
    size_t start = 0;
    if (t.size >= 7 &&
        (http_slice_is((struct http_slice){t.data, 7}, "http://") ||
         (t.size >= 8 && http_slice_is((struct http_slice){t.data, 8}, "https://")))) {
        start = t.data[4] == ':' ? 7 : 8;
        const uint8_t *slash = memchr(t.data + start, '/', t.size - start);
        start = slash != NULL ? (size_t)(slash - t.data) : t.size;
    } else if (t.size == 1 && t.data[0] == '*' && req->method == HTTP_OPTIONS) {
        req->path = t;
        return 0;
    } else if (t.size == 0 || t.data[0] != '/') {
        return fail(req, SYN_EPROTO, 400, "the request target must start with '/'");
    }
    if (start == t.size) {
        req->path = (struct http_slice){(const uint8_t *)"/", 1};
        return 0;
    }
    const uint8_t *q = memchr(t.data + start, '?', t.size - start);
    size_t path_end = q != NULL ? (size_t)(q - t.data) : t.size;
    req->path = (struct http_slice){t.data + start, path_end - start};
    if (q != NULL) {
        req->query = (struct http_slice){q + 1, t.size - path_end - 1};
    }
    return 0;
}

/* method SP request-target SP HTTP-version (RFC 9112 3). */
static int request_line(struct http_request *req, struct http_slice line)
{
    const uint8_t *sp1 = memchr(line.data, ' ', line.size);
    const uint8_t *sp2 =
        sp1 != NULL ? memchr(sp1 + 1, ' ', line.size - (size_t)(sp1 + 1 - line.data)) : NULL;
    if (sp2 == NULL) {
        return fail(req, SYN_EPROTO, 400, "malformed request line");
    }
    req->method_text = (struct http_slice){line.data, (size_t)(sp1 - line.data)};
    req->target = (struct http_slice){sp1 + 1, (size_t)(sp2 - sp1 - 1)};
    struct http_slice version = {sp2 + 1, line.size - (size_t)(sp2 + 1 - line.data)};
    if (!is_token(req->method_text)) {
        return fail(req, SYN_EPROTO, 400, "malformed request method");
    }
    req->method = method_of(req->method_text);
    const uint8_t *v = version.data;
    bool shaped = version.size == 8 && memcmp(v, "HTTP/", 5) == 0 && v[5] >= '0' && v[5] <= '9' &&
                  v[6] == '.' && v[7] >= '0' && v[7] <= '9';
    if (!shaped) {
        return fail(req, SYN_EPROTO, 400, "malformed HTTP version");
    }
    if (v[5] != '1' || v[7] > '1') {
        return fail(req, SYN_EPROTO, 505, "only HTTP/1.0 and HTTP/1.1 are supported");
    }
    req->version_minor = (uint8_t)(v[7] - '0');
    return target_split(req);
}

/* ---- Header fields ------------------------------------------------------------------- */

static struct http_slice trim(struct http_slice s)
{
    while (s.size > 0 && (s.data[0] == ' ' || s.data[0] == '\t')) {
        s.data++;
        s.size--;
    }
    while (s.size > 0 && (s.data[s.size - 1] == ' ' || s.data[s.size - 1] == '\t')) {
        s.size--;
    }
    return s;
}

/* field-name ":" OWS field-value OWS (RFC 9112 5). */
static int header_line(struct http_request *req, struct http_slice line)
{
    if (line.data[0] == ' ' || line.data[0] == '\t') {
        return fail(req, SYN_EPROTO, 400, "obsolete line folding is not accepted");
    }
    const uint8_t *colon = memchr(line.data, ':', line.size);
    if (colon == NULL) {
        return fail(req, SYN_EPROTO, 400, "a header line has no colon");
    }
    struct http_slice name = {line.data, (size_t)(colon - line.data)};
    if (!is_token(name)) {
        return fail(req, SYN_EPROTO, 400, "malformed header name");
    }
    struct http_slice value = trim((struct http_slice){colon + 1, line.size - name.size - 1});
    for (size_t i = 0; i < value.size; i++) {
        uint8_t c = value.data[i];
        if ((c < ' ' && c != '\t') || c == 0x7f) {
            return fail(req, SYN_EPROTO, 400, "a control character in a header value");
        }
    }
    if (req->header_count == SYN_HTTP_HEADERS_MAX) {
        return fail(req, SYN_ETOOBIG, 431, "too many header fields");
    }
    req->headers[req->header_count++] = (struct http_header){.name = name, .value = value};
    return 0;
}

/* Content-Length = 1*DIGIT; repeats must agree (RFC 9110 8.6, RFC 9112 6.3). */
static int content_length(struct http_request *req, struct http_slice v)
{
    uint64_t n = 0;
    if (v.size == 0) {
        return fail(req, SYN_EPROTO, 400, "invalid Content-Length");
    }
    for (size_t i = 0; i < v.size; i++) {
        if (v.data[i] < '0' || v.data[i] > '9') {
            return fail(req, SYN_EPROTO, 400, "invalid Content-Length");
        }
        if (n > SYN_HTTP_BODY_SIZE_MAX) {
            break; /* too large already: no overflow */
        }
        n = n * 10u + (uint64_t)(v.data[i] - '0');
    }
    if (req->has_content_length && n != req->content_length) {
        return fail(req, SYN_EPROTO, 400, "conflicting Content-Length headers");
    }
    if (n > SYN_HTTP_BODY_SIZE_MAX) {
        return fail(req, SYN_ETOOBIG, 413, "the request body is too large");
    }
    req->has_content_length = true;
    req->content_length = n;
    return 0;
}

/* Connection: a comma-separated list of options; close and keep-alive matter. */
static void connection_options(struct http_slice v, bool *close, bool *keep_alive)
{
    size_t i = 0;
    while (i < v.size) {
        size_t j = i;
        while (j < v.size && v.data[j] != ',') {
            j++;
        }
        struct http_slice opt = trim((struct http_slice){v.data + i, j - i});
        *close = *close || http_slice_is(opt, "close");
        *keep_alive = *keep_alive || http_slice_is(opt, "keep-alive");
        i = j + 1;
    }
}

/* The fields the server acts on. */
static int headers_interpret(struct http_request *req)
{
    bool close = false;
    bool keep_alive = false;
    uint32_t hosts = 0;
    for (uint32_t i = 0; i < req->header_count; i++) {
        const struct http_header *h = &req->headers[i];
        int rc = 0;
        if (http_slice_is(h->name, "content-length")) {
            rc = content_length(req, h->value);
        } else if (http_slice_is(h->name, "transfer-encoding")) {
            rc = req->chunked || !http_slice_is(h->value, "chunked")
                     ? fail(req, SYN_EPROTO, 501,
                            "only Transfer-Encoding: chunked is supported (or a Content-Length)")
                     : 0;
            req->chunked = true;
        } else if (http_slice_is(h->name, "connection")) {
            connection_options(h->value, &close, &keep_alive);
        } else if (http_slice_is(h->name, "expect")) {
            req->expect_continue = http_slice_is(h->value, "100-continue");
        } else if (http_slice_is(h->name, "host")) {
            hosts++;
        }
        if (rc != 0) {
            return rc;
        }
    }
    if (req->chunked && req->has_content_length) {
        return fail(req, SYN_EPROTO, 400, "both Transfer-Encoding and Content-Length");
    }
    if (req->chunked && req->version_minor == 0) {
        return fail(req, SYN_EPROTO, 400, "Transfer-Encoding in an HTTP/1.0 request");
    }
    if (req->version_minor == 1 && hosts != 1) {
        return fail(req, SYN_EPROTO, 400, "an HTTP/1.1 request needs exactly one Host header");
    }
    req->keep_alive = !close && (req->version_minor == 1 || keep_alive);
    return 0;
}

/* ---- The head ------------------------------------------------------------------------ */

/* The line at data[*at] without its line end, moving *at past it; false for a bare CR. */
static bool next_line(const uint8_t *data, size_t end, size_t *at, struct http_slice *line)
{
    const uint8_t *lf = memchr(data + *at, '\n', end - *at);
    ASSERT(lf != NULL); /* head_end() found the blank line */
    size_t n = (size_t)(lf - (data + *at));
    if (n > 0 && data[*at + n - 1] == '\r') {
        n--;
    }
    *line = (struct http_slice){data + *at, n};
    *at = (size_t)(lf - data) + 1;
    return memchr(line->data, '\r', line->size) == NULL;
}

static int head_parse(const uint8_t *data, size_t end, size_t start, struct http_request *req)
{
    size_t at = start;
    struct http_slice line;
    if (!next_line(data, end, &at, &line)) {
        return fail(req, SYN_EPROTO, 400, "a bare CR in the request line");
    }
    int rc = request_line(req, line);
    while (rc == 0) {
        if (!next_line(data, end, &at, &line)) {
            return fail(req, SYN_EPROTO, 400, "a bare CR in a header line");
        }
        if (line.size == 0) {
            break;
        }
        rc = header_line(req, line);
    }
    return rc != 0 ? rc : headers_interpret(req);
}

/* A head that does not end within the limit: the request line alone is too long (414), or
 * the fields are (431). */
static int head_too_big(const uint8_t *data, size_t size, size_t start, struct http_request *req)
{
    if (memchr(data + start, '\n', size - start) == NULL) {
        return fail(req, SYN_ETOOBIG, 414, "the request target is too long");
    }
    return fail(req, SYN_ETOOBIG, 431, "the request header fields are too large");
}

int http_parse_request(const uint8_t *data, size_t size, struct http_request *req)
{
    size_t scanned = req->scanned;
    *req = (struct http_request){.scanned = scanned};
    size_t limit = size < SYN_HTTP_HEAD_SIZE_MAX ? size : SYN_HTTP_HEAD_SIZE_MAX;
    size_t start = leading_blank_lines(data, limit);
    size_t from = scanned > start + 2 ? scanned - 2 : start; /* a blank line may straddle */
    size_t end = head_end(data, limit, from);
    if (end == 0) {
        req->scanned = limit;
        if (size >= SYN_HTTP_HEAD_SIZE_MAX) {
            return head_too_big(data, limit, start, req);
        }
        return HTTP_INCOMPLETE;
    }
    req->scanned = 0;
    req->head_size = end;
    return head_parse(data, end, start, req);
}

/* ---- Chunked bodies ------------------------------------------------------------------ */

static int hex_digit(uint8_t c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = lower(c);
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}


/* The line at data[at ..): its end (after LF) in *next, its text without CR/LF in *line.
 * false when no LF is there yet. */
static bool line_at(const uint8_t *data, size_t size, size_t at, struct http_slice *line,
                    size_t *next)
{
    const uint8_t *lf = memchr(data + at, '\n', size - at);
    if (lf == NULL) {
        return false;
    }
    size_t end = (size_t)(lf - data);
    size_t len = end - at;
    if (len > 0 && data[end - 1] == '\r') {
        len--;
    }
    *line = (struct http_slice){data + at, len};
    *next = end + 1;
    return true;
}

/* chunk-size [ chunk-ext ]: 1 to 8 hex digits, then nothing, blanks or ';' extensions. */
static bool chunk_size(struct http_slice line, size_t *out)
{
    size_t n = 0;
    size_t i = 0;
    for (; i < line.size && hex_digit(line.data[i]) >= 0; i++) {
        if (i == 8) {
            return false;
        }
        n = n * 16u + (size_t)hex_digit(line.data[i]);
    }
    if (i == 0) {
        return false;
    }
    while (i < line.size && (line.data[i] == ' ' || line.data[i] == '\t')) {
        i++;
    }
    if (i < line.size && line.data[i] != ';') {
        return false;
    }
    *out = n;
    return true;
}

static int chunked_fail(uint16_t *status, const char **why, int rc, uint16_t code,
                        const char *text)
{
    *status = code;
    *why = text;
    return rc;
}

int http_chunked_scan(const uint8_t *data, size_t size, struct http_chunked *st, size_t *wire,
                      uint16_t *status, const char **why)
{
    for (;;) {
        if (st->at - st->decoded > HTTP_CHUNKED_OVERHEAD_MAX) {
            return chunked_fail(status, why, SYN_ETOOBIG, 413,
                                "the chunked encoding is too large (chunks too small)");
        }
        struct http_slice line;
        size_t next;
        if (!line_at(data, size, st->at, &line, &next)) {
            return size - st->at > HTTP_CHUNKED_OVERHEAD_MAX
                       ? chunked_fail(status, why, SYN_ETOOBIG, 413, "a chunk line is too long")
                       : HTTP_INCOMPLETE;
        }
        if (st->last) { /* trailer fields, then a blank line */
            st->at = next;
            if (line.size == 0) {
                *wire = next;
                return 0;
            }
            continue;
        }
        size_t n;
        if (!chunk_size(line, &n)) {
            return chunked_fail(status, why, SYN_EPROTO, 400, "malformed chunk size");
        }
        if (n == 0) {
            st->last = true;
            st->at = next;
            continue;
        }
        if (n > SYN_HTTP_BODY_SIZE_MAX - st->decoded) {
            return chunked_fail(status, why, SYN_ETOOBIG, 413, "the request body is too large");
        }
        if (size - next < n + 1) {
            return HTTP_INCOMPLETE; /* the data and its line end */
        }
        size_t end = next + n;
        if (data[end] == '\r') {
            if (size - end < 2) {
                return HTTP_INCOMPLETE;
            }
            end++;
        }
        if (data[end] != '\n') {
            return chunked_fail(status, why, SYN_EPROTO, 400, "a chunk's data is longer than its size");
        }
        st->at = end + 1;
        st->decoded += n;
    }
}

size_t http_chunked_join(uint8_t *data, size_t wire)
{
    size_t at = 0;
    size_t out = 0;
    for (;;) {
        struct http_slice line;
        size_t next;
        size_t n = 0;
        bool ok = line_at(data, wire, at, &line, &next) && chunk_size(line, &n);
        if (!ok || n == 0) {
            return out; /* the last chunk: what follows is trailers */
        }
        memmove(data + out, data + next, n);
        out += n;
        at = next + n + (data[next + n] == '\r' ? 2u : 1u);
    }
}

/* ---- Helpers for handlers ------------------------------------------------------------ */

const struct http_header *http_header_find(const struct http_request *req, const char *name)
{
    for (uint32_t i = 0; i < req->header_count; i++) {
        if (http_slice_is(req->headers[i].name, name)) {
            return &req->headers[i];
        }
    }
    return NULL;
}

bool http_query_find(struct http_slice query, const char *name, struct http_slice *value)
{
    size_t n = strlen(name);
    size_t i = 0;
    while (i < query.size) {
        size_t j = i;
        while (j < query.size && query.data[j] != '&') {
            j++;
        }
        const uint8_t *eq = memchr(query.data + i, '=', j - i);
        size_t name_end = eq != NULL ? (size_t)(eq - query.data) : j;
        if (name_end - i == n && memcmp(query.data + i, name, n) == 0) {
            size_t v = eq != NULL ? name_end + 1 : j;
            *value = (struct http_slice){query.data + v, j - v};
            return true;
        }
        i = j + 1;
    }
    return false;
}

int http_percent_decode(struct http_slice s, struct syn_buf *out)
{
    size_t start = out->len;
    int rc = syn_buf_reserve(out, s.size);
    if (rc != 0) {
        return rc;
    }
    for (size_t i = 0; i < s.size; i++) {
        uint8_t c = s.data[i];
        if (c == '%') {
            int hi = i + 2 < s.size ? hex_digit(s.data[i + 1]) : -1;
            int lo = i + 2 < s.size ? hex_digit(s.data[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                out->len = start;
                return SYN_EPROTO;
            }
            c = (uint8_t)(hi * 16 + lo);
            i += 2;
        }
        out->data[out->len++] = c;
    }
    return 0;
}

const char *http_status_reason(uint16_t status)
{
    static const struct {
        uint16_t status;
        const char *reason;
    } reasons[] = {
        {100, "Continue"},
        {200, "OK"},
        {400, "Bad Request"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {408, "Request Timeout"},
        {409, "Conflict"},
        {413, "Content Too Large"},
        {414, "URI Too Long"},
        {421, "Misdirected Request"},
        {431, "Request Header Fields Too Large"},
        {500, "Internal Server Error"},
        {501, "Not Implemented"},
        {503, "Service Unavailable"},
        {505, "HTTP Version Not Supported"},
    };
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
        if (reasons[i].status == status) {
            return reasons[i].reason;
        }
    }
    return "Unknown";
}
