/* http_parse.h: HTTP/1.1 request heads (RFC 9112): the request line and the header fields,
 * as a pure parser over bytes (STYLE 10): (data, size) in, a struct out, no connection, no
 * reply, no globals. The server (http_server.c) reads the body that Content-Length announces
 * and answers with the status the parser chose for a bad request.
 *
 * Accepted: origin-form targets ("/v1/kv/a?recurse"), HTTP/1.0 and HTTP/1.1, CRLF or bare LF
 * line ends (RFC 9112 2.2), empty lines before the request line. Refused: a missing or
 * malformed request line (400), other versions (505), obs-fold and whitespace before a colon
 * (400), a Transfer-Encoding other than chunked (501), chunked with a Content-Length (400: a
 * smuggling risk), a bad or conflicting Content-Length (400), a body over
 * SYN_HTTP_BODY_SIZE_MAX (413), a head over
 * SYN_HTTP_HEAD_SIZE_MAX or with more than SYN_HTTP_HEADERS_MAX fields (431; 414 when the
 * request line alone is too long), HTTP/1.1 without Host (400).
 */
#ifndef SYN_API_HTTP_PARSE_H
#define SYN_API_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/limits.h"

/* http_parse_request(): a valid prefix, more bytes needed. */
#define HTTP_INCOMPLETE 1

enum http_method {
    HTTP_GET = 1,
    HTTP_HEAD = 2,
    HTTP_PUT = 3,
    HTTP_POST = 4,
    HTTP_DELETE = 5,
    HTTP_OPTIONS = 6,
    HTTP_OTHER = 7, /* a valid token we do not serve: 405 or 501 is the server's choice */
};
#define HTTP_METHOD_BIT(m) (1u << (m))

/* size bytes at data, borrowed from the parsed bytes; not NUL-terminated. */
struct http_slice {
    const uint8_t *data;
    size_t size;
};

struct http_header {
    struct http_slice name;  /* as sent; compare without regard to case */
    struct http_slice value; /* without surrounding blanks */
};

struct http_request {
    uint8_t method; /* enum http_method */
    struct http_slice method_text;
    struct http_slice target; /* as sent: path and query */
    struct http_slice path;   /* the target before '?', still percent-encoded */
    struct http_slice query;  /* after '?'; size 0 when there is none */
    uint8_t version_minor;    /* HTTP/1.<version_minor>: 0 or 1 */
    uint32_t header_count;
    struct http_header headers[SYN_HTTP_HEADERS_MAX];
    bool has_content_length;
    uint64_t content_length; /* <= SYN_HTTP_BODY_SIZE_MAX; 0 when absent */
    bool chunked;            /* "Transfer-Encoding: chunked": http_chunked_scan() the body */
    bool keep_alive;         /* the connection may serve another request after this */
    bool expect_continue;    /* "Expect: 100-continue" */
    size_t head_size;        /* bytes of the head, the blank line included */
    /* After an error: the status to answer with and why (a static sentence). */
    uint16_t status;
    const char *errmsg;
    /* Private: bytes already searched for the end of the head. */
    size_t scanned;
};

/* Forgets a partly received head (call before each new request). */
void http_request_reset(struct http_request *req);

/* Parses the head at the start of data. Returns
 *   0                complete: req is filled, req->head_size bytes; the body follows;
 *   HTTP_INCOMPLETE  call again with the same bytes and more after them;
 *   SYN_EPROTO       malformed (req->status 400, 501 or 505, req->errmsg);
 *   SYN_ETOOBIG      over a limit (req->status 413, 414 or 431, req->errmsg).
 * Pointers in req borrow data. Pure: reads data[0 .. size) only. */
int http_parse_request(const uint8_t *data, size_t size, struct http_request *req);

/* ---- Chunked bodies (RFC 9112 7.1) --------------------------------------------------- */

/* Chunk lines, extensions and trailers a chunked body may add to its data. */
#define HTTP_CHUNKED_OVERHEAD_MAX (64u << 10)

/* Where a scan of a chunked body stopped: zero it before the first call. */
struct http_chunked {
    size_t at;        /* bytes of whole chunks (and trailer lines) scanned, from the body */
    size_t decoded;   /* the data in those chunks */
    bool last;        /* the zero-size chunk was read: trailer lines until a blank one */
};

/* Scans the chunked body at data[0 .. size) from where st stopped. Returns
 *   0                complete: *wire is the bytes it takes, st->decoded its data's size;
 *   HTTP_INCOMPLETE  call again with the same bytes and more after them;
 *   SYN_EPROTO       malformed (*status 400, *why);
 *   SYN_ETOOBIG      data over SYN_HTTP_BODY_SIZE_MAX, or encoding over
 *                    HTTP_CHUNKED_OVERHEAD_MAX (*status 413, *why).
 * Chunk extensions and trailer fields are read past and ignored. Pure: reads only. */
int http_chunked_scan(const uint8_t *data, size_t size, struct http_chunked *st, size_t *wire,
                      uint16_t *status, const char **why);
/* Moves the data of a complete chunked body (scanned: wire bytes) to its start, in place;
 * returns its size. */
size_t http_chunked_join(uint8_t *data, size_t wire);

/* The header named name (case-insensitive), or NULL. */
const struct http_header *http_header_find(const struct http_request *req, const char *name);
/* Whether slice s equals word without regard to ASCII case. */
bool http_slice_is(struct http_slice s, const char *word);

/* The raw value of query parameter name in query ("a=1&recurse&b=x"): true with *value (size
 * 0 for "recurse" or "recurse="), false when absent. Not decoded. */
bool http_query_find(struct http_slice query, const char *name, struct http_slice *value);
/* Appends the percent-decoding of s to out ("%2F" -> "/"; '+' stays '+', as in paths).
 * 0; SYN_EPROTO (a '%' not followed by two hex digits: out is as it was); SYN_ENOMEM;
 * SYN_ETOOBIG. */
int http_percent_decode(struct http_slice s, struct syn_buf *out);

/* The reason phrase of a status ("Not Found"); "Unknown" for others. */
const char *http_status_reason(uint16_t status);

#endif
