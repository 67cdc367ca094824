/* api_server_internal.h: the listener's state, shared by api_server.c (listen, accept, idle
 * sweep, close) and api_conn.c (a connection's reads, writes and end). Not for the protocol
 * servers: they use api_server.h. */
#ifndef SYN_API_SERVER_INTERNAL_H
#define SYN_API_SERVER_INTERNAL_H

#include "api/api_server.h"

#define API_LOG_PREFIX_SIZE 16u

struct api_server {
    uv_loop_t *loop;
    struct api_server_hooks hooks;
    uv_tcp_t listener;
    uv_timer_t sweeper; /* the idle timeout's check, when there is one */
    uint16_t port;
    uint64_t next_id;
    struct api_conn *conns; /* every connection not yet freed, closing ones included */
    struct api_server_stats stats;
    uint32_t handles_open; /* listener and sweeper, until their close callbacks */
    bool closing;
    void (*done)(void *ctx);
    void *done_ctx;
};

/* api_conn.c */
/* Sets up c (allocated and linked by the server), accepts on it and starts reading. */
void api_conn_open(struct api_server *s, struct api_conn *c);

/* api_server.c */
/* c was freed: the server may be finished. */
void api_server_conn_freed(struct api_server *s);

#endif
