/* transport.h: the peer transport: Raft messages and forwarded client requests between synod
 * nodes, over TCP with libuv, in the frames of peer_codec.h. docs/protocol.md, "Transport",
 * gives the rules on the wire.
 *
 * A shell module (STYLE 1): it owns sockets and timers on the caller's loop and never runs a
 * protocol itself. One thread uses a transport: the loop's.
 *
 *   connections  A node dials one outbound connection to each peer and sends only on it; it
 *                accepts inbound connections and only receives on them. So there is never a
 *                race between two connections to the same peer. The dialer's first frame is a
 *                HELLO (its id, the id it means to reach, the cluster id); the acceptor
 *                refuses the connection unless the cluster id is its own, the target is itself
 *                and the caller is a known peer, and takes no other frame before that HELLO.
 *   reconnects   A lost or refused outbound connection is dialed again after a backoff:
 *                exponential from backoff_min_ms, capped at backoff_max_ms, with jitter.
 *   backpressure Each peer has a queue of encoded frames, bounded by queue_bytes_max (frames
 *                being written included). A send that would pass the bound is dropped and
 *                counted: Raft tolerates lost messages (it retries appends, elections time out
 *                and restart), so the loop never blocks and memory never grows with a slow or
 *                dead peer. Frames queued while a peer is down go out when it is back.
 *   bad input    A malformed, oversized or unexpected frame closes that connection with a
 *                logged reason (STYLE 6); the node keeps serving every other connection.
 *   heartbeats   The failure detector's HEARTBEAT frames skip the queue: each peer holds at
 *                most one waiting (a newer one replaces it), outside the queue's bound, and it
 *                goes first in the next write, so a queue full of snapshot chunks never holds
 *                it back; it waits only for the write in flight (docs/protocol.md).
 *
 * Sends are encoded at once and written in batches (several frames per write) just before the
 * loop next waits for I/O. Errors are negative SYN_E* codes; a failed call never runs a
 * callback. Callbacks may call any transport function, transport_close() included.
 */
#ifndef SYN_NET_TRANSPORT_H
#define SYN_NET_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "net/peer_codec.h"
#include "raft/raft.h"

#define TRANSPORT_ERRMSG_SIZE 256u
#define TRANSPORT_BACKOFF_MIN_MS_DEFAULT 50u
#define TRANSPORT_BACKOFF_MAX_MS_DEFAULT 2000u
#define TRANSPORT_CONNECT_TIMEOUT_MS_DEFAULT 3000u /* a dial that hangs (a black-holed host) */
#define TRANSPORT_HELLO_TIMEOUT_MS_DEFAULT 3000u   /* an accepted connection without a HELLO */
#define TRANSPORT_KEEPALIVE_S 10u                  /* TCP keepalive delay on every connection */
#define TRANSPORT_USER_TIMEOUT_MS 2000u            /* unacknowledged data this long: reconnect */

struct transport;

struct transport_config {
    raft_id self;                /* nonzero */
    const char *cluster_id;      /* 1 .. SYN_CLUSTER_ID_SIZE_MAX printable ASCII; borrowed */
    const char *listen_addr;     /* "HOST:PORT", "[V6]:PORT"; port 0 picks one; borrowed */
    size_t queue_bytes_max;      /* per peer: SYN_FRAME_SIZE_MAX .. SYN_PEER_QUEUE_BYTES_MAX;
                                    0: SYN_PEER_QUEUE_BYTES_MAX */
    uint32_t backoff_min_ms;     /* 0: TRANSPORT_BACKOFF_MIN_MS_DEFAULT */
    uint32_t backoff_max_ms;     /* >= backoff_min_ms; 0: TRANSPORT_BACKOFF_MAX_MS_DEFAULT */
    uint32_t connect_timeout_ms; /* 0: TRANSPORT_CONNECT_TIMEOUT_MS_DEFAULT */
    uint32_t hello_timeout_ms;   /* 0: TRANSPORT_HELLO_TIMEOUT_MS_DEFAULT */
    uint64_t seed;               /* of the backoff jitter; 0: from the clock and self */
};

/* What arrives. Every pointer is borrowed for the call: msg, its entries, their data and the
 * snapshot chunk point into the connection's receive buffer, so copy what you keep (the
 * Raft core does: raft_step() copies). */
struct transport_callbacks {
    void *ctx;
    /* A RAFT frame from peer msg->from, addressed to this node (the transport checked both
     * against the connection's HELLO; raft_step() checks the rest). */
    void (*on_raft)(void *ctx, const struct raft_message *msg);
    /* A FORWARD frame; kind is PEER_FRAME_FORWARD_REQUEST or PEER_FRAME_FORWARD_RESPONSE. */
    void (*on_forward)(void *ctx, raft_id from, int kind, uint64_t request_id, const uint8_t *body,
                       size_t size);
    /* Any frame from peer from, past its HELLO and checked, just before it is delivered: a
     * sign of life for the failure detector. hb is a HEARTBEAT's content (such a frame is
     * delivered only here), NULL for other kinds. May be NULL. */
    void (*on_heard)(void *ctx, raft_id from, const struct peer_heartbeat *hb);
    /* The outbound connection to peer came up (its HELLO is on the way) or went down. Not
     * called for what the node does itself: transport_set_peer() with a new address (so
     * "up" may come twice in a row), transport_remove_peer(), transport_close(). May be
     * NULL. */
    void (*on_peer)(void *ctx, raft_id peer, bool connected);
};

struct transport_peer_stats {
    uint64_t frames_sent; /* RAFT and FORWARD frames written to the socket (no HELLO) */
    uint64_t bytes_sent;
    uint64_t frames_received; /* RAFT and FORWARD frames delivered to a callback */
    uint64_t bytes_received;
    uint64_t frames_dropped; /* refused by a full queue: the sends that returned SYN_EFULL */
    uint64_t frames_lost;    /* given to a write that failed when the connection broke */
    uint64_t heartbeats_sent;     /* HEARTBEAT frames written (not in frames_sent) */
    uint64_t heartbeats_replaced; /* dropped for a newer one before they could be written */
    uint64_t heartbeats_received; /* HEARTBEAT frames delivered to on_heard */
    uint64_t writes;         /* writes that completed: frames_sent / writes is the batching */
    uint64_t dials;          /* outbound connection attempts */
    uint64_t reconnects;     /* outbound connections established after the first one */
    uint64_t queue_bytes;    /* frames waiting or being written; <= queue_bytes_max */
    uint32_t queue_frames;
    bool connected; /* the outbound connection is up */
    bool inbound;   /* an inbound connection from the peer is past its HELLO */
};

struct transport_stats {
    uint64_t accepted;     /* inbound connections accepted */
    uint64_t refused;      /* inbound connections closed for a bad HELLO, a bad frame, a
                              HELLO timeout or SYN_PEER_INBOUND_MAX */
    uint32_t inbound_open; /* inbound connections open now */
    uint32_t peer_count;
};

/* Binds config->listen_addr, listens, and returns the transport in *out. config and
 * callbacks are copied (config->cluster_id too). 0; SYN_EINVAL (a bad config or address);
 * SYN_EIO (the address cannot be resolved, is in use, or is not ours); SYN_ENOMEM. On failure
 * *out is NULL and errmsg (TRANSPORT_ERRMSG_SIZE bytes, may be NULL) says why, e.g.
 * "listen on 127.0.0.1:7001: address already in use". Binding is done before any handle
 * exists, so a failure leaves nothing behind, except when libuv refuses the bound socket
 * (not seen in practice): then the loop frees what was set up the next time it runs. */
int transport_start(uv_loop_t *loop, const struct transport_config *config,
                    const struct transport_callbacks *callbacks, struct transport **out,
                    char *errmsg);

/* The port the listener is bound to (the one picked when listen_addr said port 0). */
uint16_t transport_listen_port(const struct transport *t);

/* Adds peer id at addr ("HOST:PORT", "[V6]:PORT"; a host name is resolved at every dial)
 * and dials it now. For a known peer with another address, drops its outbound connection and
 * dials the new address now (its queue stays); with the same address, does nothing.
 * 0; SYN_EINVAL (id 0 or self, a malformed address; transport_errmsg() says why); SYN_EFULL
 * (SYN_PEERS_MAX peers); SYN_ENOMEM; SYN_ESHUTDOWN after transport_close(). */
int transport_set_peer(struct transport *t, raft_id id, const char *addr);

/* Forgets peer id: closes its connections both ways and drops its queue. Unknown ids are
 * ignored. Inbound connections from it are refused from now on. */
void transport_remove_peer(struct transport *t, raft_id id);

/* Queues msg for peer msg->to. msg comes from this node's core (msg->from == self, asserted),
 * a SNAPSHOT with its chunk filled in; it is borrowed for the call: the frame is encoded
 * now. 0; SYN_EFULL (dropped: the peer's queue is full, counted in frames_dropped);
 * SYN_EUNKNOWNNODE (no such peer); SYN_ENOMEM; SYN_ESHUTDOWN after transport_close(). */
int transport_send_raft(struct transport *t, const struct raft_message *msg);

/* Queues a FORWARD frame to peer to; kind is PEER_FRAME_FORWARD_REQUEST or
 * PEER_FRAME_FORWARD_RESPONSE (asserted); body is borrowed for the call. 0; SYN_EFULL;
 * SYN_EUNKNOWNNODE; SYN_ETOOBIG (body over a frame); SYN_ENOMEM; SYN_ESHUTDOWN. */
int transport_send_forward(struct transport *t, raft_id to, int kind, uint64_t request_id,
                           const uint8_t *body, size_t size);

/* Sends a HEARTBEAT (hb->node_id == self, asserted; borrowed for the call) to peer to, ahead
 * of its queue: it goes first in the next write. At most one waits per peer: a newer one
 * replaces it (counted in heartbeats_replaced). It takes no room in the queue's bound (it is
 * one small frame per peer), so a full queue never refuses it. 0; SYN_EUNKNOWNNODE;
 * SYN_ESHUTDOWN after transport_close(). */
int transport_send_heartbeat(struct transport *t, raft_id to, const struct peer_heartbeat *hb);

/* Peer id's counters. 0, or SYN_EUNKNOWNNODE. */
int transport_peer_stats(const struct transport *t, raft_id id, struct transport_peer_stats *out);
void transport_stats(const struct transport *t, struct transport_stats *out);

/* Why the last transport_set_peer() failed; "" before any failure. */
const char *transport_errmsg(const struct transport *t);

/* Closes every connection, timer and the listener, drops every queue, and frees t once every
 * handle's close callback has run (STYLE 9); then calls done(ctx) (may be NULL). Until then
 * sends and transport_set_peer() return SYN_ESHUTDOWN; after done, t is gone. Queued frames
 * are not flushed: Raft does not need them. Called once. */
void transport_close(struct transport *t, void (*done)(void *ctx), void *ctx);

#endif
