/* cli_http_parse.c: the pure half of the CLI's HTTP client (cli_http.h): responses read from
 * bytes (RFC 9112 sections 4 and 6), and URL encoding of keys and names. The bytes come from
 * a server: every rule broken is SYN_EBADMSG, never an assertion. */
#include <string.h>

#include "base/err.h"
#include "cli/cli_http.h"

static uint8_t lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c - 'A' + 'a') : c;
}

/* Whether line[0 .. size) starts with "name:" (case-insensitive); *value is what follows,
 * without surrounding blanks. */
static bool header_is(const uint8_t *line, size_t size, const char *name, const uint8_t **value,
                      size_t *value_size)
{
    size_t n = strlen(name);
    if (size <= n || line[n] != ':') {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (lower(line[i]) != (uint8_t)name[i]) {
            return false;
        }
    }
    size_t b = n + 1;
    size_t e = size;
    while (b < e && (line[b] == ' ' || line[b] == '\t')) {
        b++;
    }
    while (e > b && (line[e - 1] == ' ' || line[e - 1] == '\t' || line[e - 1] == '\r')) {
        e--;
    }
    *value = line + b;
    *value_size = e - b;
    return true;
}

/* The size of the head at data (its blank line included), 0 while it is incomplete. */
static size_t head_end(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i + 1 < size; i++) {
        if (data[i] != '\n') {
            continue;
        }
        if (data[i + 1] == '\n') {
            return i + 2;
        }
        if (data[i + 1] == '\r' && i + 2 < size && data[i + 2] == '\n') {
            return i + 3;
        }
    }
    return 0;
}

/* "HTTP/1.x SSS ...": the status, or 0. */
static uint16_t status_line(const uint8_t *d, size_t size)
{
    if (size < 12 || memcmp(d, "HTTP/1.", 7) != 0 || d[7] < '0' || d[7] > '9' || d[8] != ' ') {
        return 0;
    }
    uint16_t status = 0;
    for (size_t i = 9; i < 12; i++) {
        if (d[i] < '0' || d[i] > '9') {
            return 0;
        }
        status = (uint16_t)(status * 10u + (uint16_t)(d[i] - '0'));
    }
    bool end = size == 12 || d[12] == ' ' || d[12] == '\r' || d[12] == '\n';
    return end && status >= 100 ? status : 0;
}

/* Reads the header fields of head[0 .. size): Content-Length into *length (UINT64_MAX when
 * absent). */
static int fields_read(const uint8_t *head, size_t size, uint64_t *length)
{
    *length = UINT64_MAX;
    const uint8_t *line = (const uint8_t *)memchr(head, '\n', size) + 1; /* after the status line */
    const uint8_t *end = head + size;
    while (line < end) {
        const uint8_t *nl = memchr(line, '\n', (size_t)(end - line));
        size_t n = (size_t)(nl - line);
        const uint8_t *v;
        size_t vn;
        if (header_is(line, n, "transfer-encoding", &v, &vn)) {
            return SYN_EBADMSG; /* synod always sends Content-Length */
        }
        if (header_is(line, n, "content-length", &v, &vn)) {
            uint64_t cl = 0;
            for (size_t i = 0; i < vn; i++) {
                if (v[i] < '0' || v[i] > '9' || cl > (UINT64_MAX - 9) / 10) {
                    return SYN_EBADMSG;
                }
                cl = cl * 10 + (uint64_t)(v[i] - '0');
            }
            if (vn == 0 || (*length != UINT64_MAX && *length != cl)) {
                return SYN_EBADMSG;
            }
            *length = cl;
        }
        line = nl + 1;
    }
    return 0;
}

/* One response head and its body at data; 1xx heads are the caller's to skip. */
static int response_one(const uint8_t *data, size_t size, bool head_only, bool eof,
                        size_t body_size_max, struct cli_http_response *resp)
{
    size_t head = head_end(data, size < CLI_HTTP_HEAD_SIZE_MAX ? size : CLI_HTTP_HEAD_SIZE_MAX);
    if (head == 0) {
        return size >= CLI_HTTP_HEAD_SIZE_MAX ? SYN_ETOOBIG
               : eof                          ? SYN_EBADMSG
                                              : CLI_HTTP_INCOMPLETE;
    }
    uint16_t status = status_line(data, head);
    uint64_t length;
    if (status == 0 || fields_read(data, head, &length) != 0) {
        return SYN_EBADMSG;
    }
    *resp = (struct cli_http_response){.status = status, .head_size = head, .body = data + head};
    if (head_only || status < 200 || status == 204 || status == 304) {
        length = 0;
    }
    size_t rest = size - head;
    if (length == UINT64_MAX) { /* the body ends when the server closes */
        if (rest > body_size_max) {
            return SYN_ETOOBIG;
        }
        length = rest;
        if (!eof) {
            return CLI_HTTP_INCOMPLETE;
        }
    }
    if (length > body_size_max) {
        return SYN_ETOOBIG;
    }
    if (rest < length) {
        return eof ? SYN_EBADMSG : CLI_HTTP_INCOMPLETE;
    }
    resp->body_size = (size_t)length;
    resp->total_size = head + (size_t)length;
    return 0;
}

int cli_http_response_parse(const uint8_t *data, size_t size, bool head_only, bool eof,
                            size_t body_size_max, struct cli_http_response *resp)
{
    size_t skipped = 0;
    for (;;) {
        int rc = response_one(data + skipped, size - skipped, head_only, eof, body_size_max, resp);
        if (rc != 0) {
            return rc;
        }
        if (resp->status >= 200) {
            resp->head_size += skipped;
            resp->total_size += skipped;
            return 0;
        }
        skipped += resp->head_size; /* 100 Continue and the like: the answer follows */
    }
}

bool cli_http_header(const uint8_t *raw, const struct cli_http_response *resp, const char *name,
                     const uint8_t **value, size_t *value_size)
{
    /* Every line of the head; 1xx heads before it (they carry no field synod asks for) and
     * status lines never match "name:". The last match wins. */
    bool found = false;
    const uint8_t *end = raw + resp->head_size;
    for (const uint8_t *line = raw; line < end;) {
        const uint8_t *nl = memchr(line, '\n', (size_t)(end - line));
        size_t n = nl != NULL ? (size_t)(nl - line) : (size_t)(end - line);
        found = header_is(line, n, name, value, value_size) || found;
        line += n + 1;
    }
    return found;
}

bool cli_http_header_u64(const uint8_t *raw, const struct cli_http_response *resp, const char *name,
                         uint64_t *out)
{
    const uint8_t *v;
    size_t n;
    if (!cli_http_header(raw, resp, name, &v, &n) || n == 0 || n > 20) {
        return false;
    }
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9' || x > (UINT64_MAX - (uint64_t)(v[i] - '0')) / 10u) {
            return false;
        }
        x = x * 10u + (uint64_t)(v[i] - '0');
    }
    *out = x;
    return true;
}

/* ---- Encoding ------------------------------------------------------------------------ */

static int encode(struct syn_buf *out, const uint8_t *s, size_t size, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t start = out->len;
    int rc = syn_buf_reserve(out, 3 * size);
    for (size_t i = 0; i < size && rc == 0; i++) {
        uint8_t c = s[i];
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '.' || c == '_' || c == '~' || (c == '/' && keep_slash);
        char e[3] = {'%', hex[c >> 4], hex[c & 15]};
        rc = plain ? syn_buf_append(out, &c, 1) : syn_buf_append(out, e, 3);
    }
    if (rc != 0) {
        out->len = start;
    }
    return rc;
}

int cli_http_path_append(struct syn_buf *out, const uint8_t *s, size_t size)
{
    return encode(out, s, size, true);
}

int cli_http_query_append(struct syn_buf *out, const uint8_t *s, size_t size)
{
    return encode(out, s, size, false);
}
