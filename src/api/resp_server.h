/* resp_server.h: the Redis-protocol (RESP2) server, so that redis-cli, redis-benchmark and
 * Redis client libraries work unchanged against any node. A shell over struct service
 * (service.h): it parses requests with resp_parse(), turns writes into state-machine commands
 * for service_write(), serves reads from the store after service_read(), and answers in
 * request order. docs/resp.md lists every command, its limits and its errors.
 *
 * Per connection: commands are parsed as they arrive (many per read: pipelining) and each
 * takes a place in a FIFO; replies leave strictly in request order, so a read that completes
 * waits for an earlier write. A read waits for the writes before it on the same connection
 * (it sees them) and a write waits for the reads before it (they do not see it); runs of
 * reads share one service_read(). At SYN_RESP_INFLIGHT_MAX commands pending or
 * SYN_RESP_OUTPUT_PAUSE_SIZE bytes of replies queued, reading pauses until replies drain;
 * past SYN_RESP_OUTPUT_SIZE_MAX queued, the connection is closed.
 *
 * Everything runs on the loop's thread.
 */
#ifndef SYN_API_RESP_SERVER_H
#define SYN_API_RESP_SERVER_H

#include <stdint.h>

#include <uv.h>

#include "api/service.h"

#define RESP_SERVER_ERRMSG_SIZE 256u /* = API_ERRMSG_SIZE */

struct resp_server;

struct resp_server_options {
    uint32_t connections_max; /* 1 .. SYN_RESP_CONNECTIONS_MAX; 0: SYN_RESP_CONNECTIONS_MAX */
    uint32_t inflight_max;    /* per connection, 1 .. SYN_RESP_INFLIGHT_MAX; 0: the max */
    const char *version;      /* synod's version for INFO and HELLO; NULL: "unknown";
                                 borrowed for the server's life */
};

struct resp_server_stats {
    uint64_t connections_accepted; /* refused ones included */
    uint64_t connections_refused;  /* over connections_max: "-ERR max number of clients" */
    uint32_t connections_open;
    uint64_t commands;        /* commands executed (a protocol error is not one) */
    uint64_t errors;          /* error replies, protocol errors included */
    uint64_t protocol_errors; /* connections closed for a malformed request */
};

/* Listens on addr ("HOST:PORT", "[V6]:PORT"; port 0 picks one) and serves svc, which is
 * borrowed until resp_server_close()'s done callback. opts may be NULL (defaults).
 * 0; SYN_EINVAL (a bad address or option); SYN_EIO (cannot bind); SYN_ENOMEM. On failure
 * *out is NULL and errmsg (RESP_SERVER_ERRMSG_SIZE bytes, may be NULL) says why. */
int resp_server_start(uv_loop_t *loop, const char *addr, struct service *svc,
                      const struct resp_server_options *opts, struct resp_server **out,
                      char *errmsg);
/* The port bound (the one picked for port 0). */
uint16_t resp_server_port(const struct resp_server *s);
void resp_server_stats(const struct resp_server *s, struct resp_server_stats *out);
/* Closes the listener and every connection, dropping unwritten replies. done(ctx) (may be
 * NULL) runs once every close callback ran and no service callback is pending; s is freed
 * just before. Called once; nothing else may be called on s after it. */
void resp_server_close(struct resp_server *s, void (*done)(void *ctx), void *ctx);

#endif
