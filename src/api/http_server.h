/* http_server.h: synod's HTTP/1.1 API on libuv, a shell over struct service (service.h), with
 * Consul's shapes where Consul has the same endpoint:
 *
 *   GET /v1/health          200 {"status":"ok",...} while the node serves (a leader is known
 *                           and its disk works), 503 {"status":"unavailable","reason":...}
 *   GET /v1/status/leader   the leader's peer address as a JSON string, "" when none (Consul)
 *   GET /v1/status/peers    the voters' peer addresses as a JSON array (Consul)
 *
 * HEAD works wherever GET does. Errors are JSON {"error":"..."}: 400 (malformed request),
 * 404 (no such endpoint), 405 (method not allowed, with Allow), 413 (body over
 * SYN_HTTP_BODY_SIZE_MAX), 414/431 (head over SYN_HTTP_HEAD_SIZE_MAX), 501
 * (Transfer-Encoding), 505 (not HTTP/1.x). Connections are kept alive (HTTP/1.1 by default,
 * HTTP/1.0 with "Connection: keep-alive"); pipelined requests are answered in order, one at a
 * time; a malformed request is answered and its connection closed. docs/http.md.
 *
 * Everything runs on the loop's thread.
 */
#ifndef SYN_API_HTTP_SERVER_H
#define SYN_API_HTTP_SERVER_H

#include <stdint.h>

#include <uv.h>

#include "api/service.h"

#define HTTP_SERVER_ERRMSG_SIZE 256u /* = API_ERRMSG_SIZE */
#define HTTP_IDLE_TIMEOUT_MS_DEFAULT 60000u

struct http_server;

struct http_server_options {
    uint32_t connections_max; /* 1 .. SYN_HTTP_CONNECTIONS_MAX; 0: SYN_HTTP_CONNECTIONS_MAX */
    uint32_t idle_timeout_ms; /* close a keep-alive connection idle this long;
                                 0: HTTP_IDLE_TIMEOUT_MS_DEFAULT */
    const char *version;      /* synod's version for /v1/health; NULL: "unknown"; borrowed */
};

struct http_server_stats {
    uint64_t connections_accepted;  /* refused ones included */
    uint64_t connections_refused;   /* over connections_max: 503 and closed */
    uint64_t connections_timed_out; /* closed by the idle timeout */
    uint32_t connections_open;
    uint64_t requests; /* requests answered, malformed ones included */
    uint64_t errors;   /* 4xx and 5xx responses */
};

/* Listens on addr ("HOST:PORT", "[V6]:PORT"; port 0 picks one) and serves svc, which is
 * borrowed until http_server_close()'s done callback. opts may be NULL (defaults).
 * 0; SYN_EINVAL (a bad address or option); SYN_EIO (cannot bind); SYN_ENOMEM. On failure
 * *out is NULL and errmsg (HTTP_SERVER_ERRMSG_SIZE bytes, may be NULL) says why. */
int http_server_start(uv_loop_t *loop, const char *addr, struct service *svc,
                      const struct http_server_options *opts, struct http_server **out,
                      char *errmsg);
uint16_t http_server_port(const struct http_server *s);
void http_server_stats(const struct http_server *s, struct http_server_stats *out);
/* Closes the listener and every connection; done(ctx) (may be NULL) runs once everything is
 * closed and no service callback is pending; s is freed just before. Called once. */
void http_server_close(struct http_server *s, void (*done)(void *ctx), void *ctx);

#endif
