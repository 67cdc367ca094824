/* transport_internal.h: the transport's state, shared by its files: transport.c (the API,
 * peers, sends, closing), transport_conn.c (a connection's handle and its end),
 * transport_dial.c (outbound: dial, HELLO, writes, backoff), transport_accept.c (inbound:
 * accept, read, HELLO checks, delivery) and transport_addr.c (HOST:PORT). Not for other
 * modules.
 *
 * Ownership (STYLE 9): the transport owns its peers and connections. A peer is freed in its
 * timer's close callback, a connection in its TCP handle's close callback, and the transport
 * once every handle it opened is closed and every address lookup has called back. A closing
 * connection keeps its peer pointer so that the write in flight settles the peer's queue;
 * removing a peer clears that pointer in every connection that still holds it.
 */
#ifndef SYN_NET_TRANSPORT_INTERNAL_H
#define SYN_NET_TRANSPORT_INTERNAL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <uv.h>

#include "base/buf.h"
#include "base/limits.h"
#include "base/prng.h"
#include "net/frame_queue.h"
#include "net/peer_codec.h"
#include "net/transport.h"

#define TRANSPORT_LOG "transport"
/* The largest HELLO: all a connection may send before its HELLO is accepted. */
#define TRANSPORT_HELLO_FRAME_SIZE_MAX                                                             \
    (SYN_FRAME_HEADER_SIZE + PEER_HELLO_FIXED_SIZE + SYN_CLUSTER_ID_SIZE_MAX)
/* Receive buffer growth past what the current frame needs; the buffer is freed when it is
 * empty and larger than this, so an idle connection holds little memory. */
#define TRANSPORT_RECV_CHUNK_SIZE (64u << 10)
#define TRANSPORT_ADDR_TEXT_SIZE 72u /* "[v6 address%scope]:65535" */
#define TRANSPORT_HEARTBEAT_FRAME_SIZE (SYN_FRAME_HEADER_SIZE + PEER_HEARTBEAT_SIZE)

_Static_assert(TRANSPORT_HELLO_FRAME_SIZE_MAX < TRANSPORT_RECV_CHUNK_SIZE,
               "a HELLO fits the first receive chunk");
_Static_assert(TRANSPORT_RECV_CHUNK_SIZE <= SYN_FRAME_SIZE_MAX, "a chunk fits a frame");

/* A parsed "HOST:PORT". */
struct transport_addr {
    char host[SYN_MEMBER_ADDR_SIZE_MAX + 1];
    uint16_t port;
    bool numeric; /* host is an IP address: sa holds it */
    struct sockaddr_storage sa;
};

struct peer;

struct conn {
    uv_tcp_t tcp;
    struct transport *t;
    struct peer *peer; /* outbound: the peer dialed; inbound: the one its HELLO named */
    struct conn *prev; /* in t->conns, until the close callback */
    struct conn *next;
    bool outbound;
    bool closing;       /* uv_close() called: no callback of this connection acts any more */
    bool connected;     /* outbound: the connect succeeded */
    bool hello_done;    /* outbound: HELLO given to a write; inbound: a valid HELLO arrived */
    bool writing;       /* outbound: write_req is in flight with batch */
    uint64_t opened_ms; /* uv_now() at accept, or when the connect succeeded */
    char name[TRANSPORT_ADDR_TEXT_SIZE]; /* the remote address, for logs */
    uv_connect_t connect_req;
    uv_write_t write_req;
    struct frame_batch batch;
    uint8_t hello[TRANSPORT_HELLO_FRAME_SIZE_MAX];
    size_t hello_size;
    uint8_t heartbeat[TRANSPORT_HEARTBEAT_FRAME_SIZE]; /* outbound: the one being written */
    bool heartbeat_writing;
    struct syn_buf recv; /* inbound: bytes not yet parsed, at most SYN_FRAME_SIZE_MAX */
    size_t recv_need;    /* inbound: parse again once recv.len reaches this */
    uint8_t sink[64];    /* outbound: reads land here (an acceptor sends nothing) */
};

/* An address lookup in flight; outlives its peer when the peer goes first. */
struct transport_resolve {
    uv_getaddrinfo_t req;
    struct transport *t;
    struct peer *peer; /* NULL once the peer stopped waiting for it */
};

struct peer {
    struct transport *t;
    raft_id id;
    char addr[SYN_MEMBER_ADDR_SIZE_MAX + 1];
    struct transport_addr target;
    struct frame_queue queue;
    uint8_t heartbeat[TRANSPORT_HEARTBEAT_FRAME_SIZE]; /* the next HEARTBEAT, ahead of queue */
    bool heartbeat_pending;
    struct transport_peer_stats stats; /* queue_* are filled in when read */
    uv_timer_t timer;                  /* backoff before a dial, or a dial's timeout */
    struct conn *out;                  /* the outbound connection, dialing or up */
    struct conn *in;                   /* the inbound connection past HELLO */
    struct transport_resolve *resolving;
    uint32_t attempts; /* failed dials since the last lasting connection */
    bool ever_connected;
    bool failing;  /* a failed dial was logged; quiet until it connects */
    bool dropping; /* a drop was logged; quiet until a send fits again */
};

struct transport {
    uv_loop_t *loop;
    raft_id self;
    char cluster_id[SYN_CLUSTER_ID_SIZE_MAX + 1];
    uint32_t cluster_id_size;
    size_t queue_bytes_max;
    uint32_t backoff_min_ms;
    uint32_t backoff_max_ms;
    uint32_t connect_timeout_ms;
    uint32_t hello_timeout_ms;
    struct transport_callbacks cb;

    uv_tcp_t listener;
    uint16_t listen_port;
    uv_prepare_t flusher; /* writes what the loop's callbacks queued, before it waits */
    uv_timer_t sweeper;   /* closes accepted connections that sent no HELLO in time */
    bool flush_scheduled;

    struct peer *peers[SYN_PEERS_MAX];
    uint32_t peer_count;
    struct conn *conns; /* every connection not yet freed, closing ones included */
    uint32_t inbound_open;
    struct transport_stats stats;

    struct prng prng;        /* backoff jitter */
    struct syn_buf scratch;  /* the frame being encoded by a send */
    struct raft_message msg; /* the RAFT frame being delivered */
    struct raft_entry entries[SYN_APPEND_ENTRIES_MAX];

    uint32_t handles_open;    /* initialized and not yet through their close callback */
    uint32_t lookups_pending; /* uv_getaddrinfo() without its callback yet */
    bool closing;
    void (*done)(void *ctx);
    void *done_ctx;
    char errmsg[TRANSPORT_ERRMSG_SIZE];
};

/* transport.c */
struct peer *transport_peer_find(const struct transport *t, raft_id id);
/* Writes queued frames before the loop next waits for I/O. */
void transport_schedule_flush(struct transport *t);
/* A handle of t (or a lookup) finished closing; frees t when it was the last one. */
void transport_handle_closed(struct transport *t);
void transport_lookup_done(struct transport *t);

/* transport_conn.c */
/* A new connection with an initialized TCP handle, linked in t->conns; NULL (SYN_ENOMEM). */
struct conn *transport_conn_new(struct transport *t, bool outbound);
/* Starts closing c (idempotent): unlinks it from its peer's in/out, uv_close()s it. */
void transport_conn_close(struct conn *c);
/* TCP_NODELAY and keepalive, once the socket exists. */
void transport_conn_tune(struct conn *c);

/* transport_dial.c */
void transport_peer_dial(struct peer *p);
/* Stops dialing p: closes its outbound connection, forgets its lookup, stops its timer. */
void transport_peer_stop_dial(struct peer *p);
/* Writes HELLO and queued frames on c when no write is in flight. */
void transport_conn_write(struct conn *c);
/* The delay before dial attempt + 1: exponential from min_ms, capped at max_ms, with jitter
 * (uniform in the upper half of the step), never below min_ms. */
uint32_t transport_backoff_ms(uint32_t min_ms, uint32_t max_ms, uint32_t attempt,
                              struct prng *prng);

/* transport_accept.c */
void transport_on_connection(uv_stream_t *server, int status);
void transport_on_sweep(uv_timer_t *timer);

/* transport_addr.c */
/* Parses "HOST:PORT" or "[V6]:PORT"; port 0 only when port_zero_ok. 0 or SYN_EINVAL. */
int transport_addr_parse(const char *text, bool port_zero_ok, struct transport_addr *out);
/* "IP:PORT" of sa into out (TRANSPORT_ADDR_TEXT_SIZE bytes). */
void transport_addr_format(const struct sockaddr *sa, char *out);

#endif
