/* cli_http.h: the CLI's HTTP/1.1 client: one blocking request to one node at a time, over
 * plain sockets, with one deadline for connecting, sending and receiving (no libcurl: the CLI
 * needs GET, PUT, POST and DELETE with a Content-Length body, nothing more). The response
 * parser is a pure function over bytes, so it is tested and reused on its own.
 */
#ifndef SYN_CLI_CLI_HTTP_H
#define SYN_CLI_CLI_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define CLI_HTTP_INCOMPLETE 1              /* cli_http_response_parse(): more bytes needed */
#define CLI_HTTP_HEAD_SIZE_MAX (16u << 10) /* a response's status line and headers */
#define CLI_HTTP_ERR_SIZE 256u             /* a sentence about a failed exchange */

struct cli_http_response {
    uint16_t status;
    size_t head_size;    /* bytes of the status line and headers, the blank line included */
    const uint8_t *body; /* borrowed from the parsed bytes */
    size_t body_size;
    size_t total_size; /* head_size + body_size */
};

/* Parses the response at data[0 .. size). head_only: it answers a HEAD (no body whatever
 * Content-Length says). eof: the server closed after these bytes, which ends a body sent
 * without Content-Length. Returns 0 (complete: resp is filled, and borrows data),
 * CLI_HTTP_INCOMPLETE, SYN_EBADMSG (not an HTTP/1.x response, a bad Content-Length, a
 * chunked body: synod never sends one) or SYN_ETOOBIG (a head over CLI_HTTP_HEAD_SIZE_MAX or a
 * body over body_size_max). Pure. */
int cli_http_response_parse(const uint8_t *data, size_t size, bool head_only, bool eof,
                            size_t body_size_max, struct cli_http_response *resp);

/* The value of header field name (lower case: "x-consul-index") in resp's head, which raw
 * holds (the bytes resp was parsed from): *value borrows raw, without surrounding blanks.
 * false when the head has no such field. Pure. */
bool cli_http_header(const uint8_t *raw, const struct cli_http_response *resp, const char *name,
                     const uint8_t **value, size_t *value_size);
/* The same field as an unsigned decimal: false when absent or not a number. */
bool cli_http_header_u64(const uint8_t *raw, const struct cli_http_response *resp, const char *name,
                         uint64_t *out);

/* Appends s to out percent-encoded for a URL path: unreserved bytes (RFC 3986 2.3) and '/'
 * stay as they are, every other byte becomes %XX. 0, SYN_ENOMEM or SYN_ETOOBIG. Pure. */
int cli_http_path_append(struct syn_buf *out, const uint8_t *s, size_t size);

/* The same for a query value ('/' is encoded too). */
int cli_http_query_append(struct syn_buf *out, const uint8_t *s, size_t size);

struct cli_http_request {
    const char *method; /* "GET", "PUT", ... */
    const char *target; /* "/v1/kv/a?raw": already encoded */
    const void *body;   /* may be NULL */
    size_t body_size;
};

/* One exchange with addr ("HOST:PORT", "[V6]:PORT"), the whole of it within timeout_ms:
 * resolves addr, connects, sends req with "Connection: close", reads the response into
 * raw (reset first; resp borrows it). 0 when a complete response came, whatever its status;
 * otherwise SYN_EINVAL (a bad address), SYN_EIO (no connection: refused, unreachable, reset),
 * SYN_ETIMEDOUT, SYN_EBADMSG, SYN_ETOOBIG, SYN_ENOMEM, with err ("connection refused")
 * saying why. */
int cli_http_exchange(const char *addr, uint32_t timeout_ms, const struct cli_http_request *req,
                      struct syn_buf *raw, struct cli_http_response *resp, char *err,
                      size_t err_size);

#endif
