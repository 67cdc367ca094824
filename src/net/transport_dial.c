/* transport_dial.c: the outbound side. Each peer has at most one outbound connection, the
 * only one this node sends to it on: dial (after a lookup for a host name), send HELLO, then
 * write the peer's queue in batches. A dial that fails or times out, and a connection that
 * breaks, are retried after a backoff; the acceptor never writes, so bytes read here are a
 * protocol error and a read only tells that the connection ended. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/err.h"
#include "log/log.h"
#include "net/transport_internal.h"

static void dial_connect(struct peer *p, const struct sockaddr *sa);

uint32_t transport_backoff_ms(uint32_t min_ms, uint32_t max_ms, uint32_t attempt, struct prng *prng)
{
    ASSERT(min_ms > 0);
    ASSERT(min_ms <= max_ms);
    uint64_t step = min_ms;
    for (uint32_t i = 0; i < attempt && step < max_ms; i++) {
        step *= 2;
    }
    if (step > max_ms) {
        step = max_ms;
    }
    uint64_t delay = prng_range(prng, step / 2, step);
    return (uint32_t)(delay < min_ms ? min_ms : delay);
}

static void peer_on_timer(uv_timer_t *timer);

/* A dial failed, or the connection it made ended: log why (the first failure in a row at
 * WARN, then quietly) and dial again after a backoff. p has no outbound connection now. */
static void dial_failed(struct peer *p, const char *what, const char *why)
{
    ASSERT(p->out == NULL);
    ASSERT(p->resolving == NULL);
    if (!p->failing) {
        LOG_WARN(TRANSPORT_LOG, "peer %" PRIu64 " %s: %s: %s; retrying with backoff", p->id,
                 p->addr, what, why);
        p->failing = true;
    } else {
        LOG_DEBUG(TRANSPORT_LOG, "peer %" PRIu64 " %s: %s: %s (attempt %" PRIu32 ")", p->id,
                  p->addr, what, why, p->attempts);
    }
    uint32_t delay =
        transport_backoff_ms(p->t->backoff_min_ms, p->t->backoff_max_ms, p->attempts, &p->t->prng);
    p->attempts += p->attempts < 32u ? 1u : 0u;
    uv_timer_start(&p->timer, peer_on_timer, delay, 0);
}

/* The outbound connection c ended (refused, broken, closed by the acceptor, or a protocol
 * error): close it, dial again later, and tell the node if it had been up. */
static void out_conn_lost(struct conn *c, const char *what, const char *why)
{
    struct peer *p = c->peer;
    struct transport *t = c->t;
    ASSERT(p != NULL);
    ASSERT(p->out == c);
    bool was_connected = c->connected;
    if (was_connected && uv_now(t->loop) - c->opened_ms >= t->backoff_max_ms) {
        p->attempts = 0; /* it lasted: the next failure starts the backoff afresh */
    }
    if (was_connected) {
        p->failing = false;
    }
    transport_conn_close(c);
    dial_failed(p, what, why);
    if (was_connected && t->cb.on_peer != NULL) {
        t->cb.on_peer(t->cb.ctx, p->id, false); /* last: it may remove p or close t */
    }
}

/* The backoff is over, or a dial took longer than connect_timeout_ms. */
static void peer_on_timer(uv_timer_t *timer)
{
    struct peer *p = timer->data;
    if (p->out != NULL) {
        ASSERT(!p->out->connected);
        out_conn_lost(p->out, "connect", "timed out");
        return;
    }
    transport_peer_dial(p);
}

/* One of the addresses a name resolved to, another at each failed attempt (a name may give
 * an IPv6 and an IPv4 address, and the peer listen on one only). */
static const struct sockaddr *resolved_pick(const struct addrinfo *res, uint32_t attempt)
{
    uint32_t count = 0;
    for (const struct addrinfo *a = res; a != NULL; a = a->ai_next) {
        count++;
    }
    const struct addrinfo *a = res;
    for (uint32_t i = 0; i < attempt % count; i++) {
        a = a->ai_next;
    }
    return a->ai_addr;
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct transport_resolve *r = req->data;
    struct transport *t = r->t;
    struct peer *p = r->peer;
    if (p != NULL) {
        ASSERT(p->resolving == r);
        p->resolving = NULL;
        if (status == 0 && res != NULL) {
            dial_connect(p, resolved_pick(res, p->attempts));
        } else {
            dial_failed(p, "resolve", status < 0 ? uv_strerror(status) : "no address");
        }
    }
    uv_freeaddrinfo(res);
    free(r);
    transport_lookup_done(t);
}

static void dial_resolve(struct peer *p)
{
    struct transport *t = p->t;
    struct transport_resolve *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        dial_failed(p, "resolve", "out of memory");
        return;
    }
    r->t = t;
    r->peer = p;
    r->req.data = r;
    char port[8];
    snprintf(port, sizeof(port), "%u", p->target.port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    int rc = uv_getaddrinfo(t->loop, &r->req, on_resolved, p->target.host, port, &hints);
    if (rc < 0) {
        free(r);
        dial_failed(p, "resolve", uv_strerror(rc));
        return;
    }
    t->lookups_pending++;
    p->resolving = r;
}

void transport_peer_dial(struct peer *p)
{
    ASSERT(!p->t->closing);
    ASSERT(p->out == NULL);
    ASSERT(p->resolving == NULL);
    p->stats.dials++;
    if (p->target.numeric) {
        dial_connect(p, (const struct sockaddr *)&p->target.sa);
    } else {
        dial_resolve(p);
    }
}

void transport_peer_stop_dial(struct peer *p)
{
    if (p->out != NULL) {
        transport_conn_close(p->out);
    }
    if (p->resolving != NULL) {
        p->resolving->peer = NULL;
        (void)uv_cancel((uv_req_t *)&p->resolving->req); /* its callback frees it */
        p->resolving = NULL;
    }
    uv_timer_stop(&p->timer);
}

/* ---- An established outbound connection --------------------------------------------- */

static void out_alloc(uv_handle_t *handle, size_t suggested_size, uv_buf_t *buf)
{
    struct conn *c = handle->data;
    *buf = uv_buf_init((char *)c->sink, sizeof(c->sink));
}

static void out_on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *c = stream->data;
    if (nread == 0 || c->closing) {
        return;
    }
    if (nread > 0) {
        out_conn_lost(c, "read", "the acceptor sent bytes (it must send none)");
    } else {
        out_conn_lost(c, "read", nread == UV_EOF ? "closed by the peer" : uv_strerror((int)nread));
    }
}

/* The write of c->batch is over: settle the peer's queue and count. */
static void out_batch_done(struct conn *c, int status)
{
    struct peer *p = c->peer;
    if (p != NULL) {
        frame_queue_settle(&p->queue, &c->batch);
        if (status == 0 && c->heartbeat_writing) {
            p->stats.heartbeats_sent++;
        }
        if (status == 0) {
            p->stats.writes++;
            p->stats.frames_sent += c->batch.count;
            p->stats.bytes_sent += c->batch.bytes;
        } else {
            p->stats.frames_lost += c->batch.count;
        }
    }
    frame_batch_free(&c->batch);
    c->heartbeat_writing = false;
}

static void out_on_write(uv_write_t *req, int status)
{
    struct conn *c = req->data;
    ASSERT(c->writing);
    c->writing = false;
    out_batch_done(c, status);
    if (c->closing) {
        return;
    }
    if (status < 0) {
        out_conn_lost(c, "write", uv_strerror(status));
        return;
    }
    transport_conn_write(c);
}

void transport_conn_write(struct conn *c)
{
    if (c->closing || !c->connected || c->writing) {
        return;
    }
    ASSERT(c->outbound);
    uv_buf_t bufs[SYN_PEER_WRITE_BATCH_MAX + 2];
    unsigned count = 0;
    if (!c->hello_done) {
        bufs[count++] = uv_buf_init((char *)c->hello, (unsigned)c->hello_size);
        c->hello_done = true;
    }
    /* The heartbeat jumps the queue: behind megabytes of snapshot chunks it would arrive
     * late and make a live node look dead. Copied, so a newer one may replace the peer's. */
    if (c->peer->heartbeat_pending) {
        memcpy(c->heartbeat, c->peer->heartbeat, sizeof(c->heartbeat));
        c->peer->heartbeat_pending = false;
        c->heartbeat_writing = true;
        bufs[count++] = uv_buf_init((char *)c->heartbeat, sizeof(c->heartbeat));
    }
    frame_queue_take(&c->peer->queue, SYN_PEER_WRITE_BATCH_MAX, &c->batch);
    for (struct frame_queue_node *n = c->batch.head; n != NULL; n = n->next) {
        bufs[count++] = uv_buf_init((char *)n->data, (unsigned)n->size);
    }
    if (count == 0) {
        return;
    }
    int rc = uv_write(&c->write_req, (uv_stream_t *)&c->tcp, bufs, count, out_on_write);
    if (rc < 0) {
        out_batch_done(c, rc);
        out_conn_lost(c, "write", uv_strerror(rc));
        return;
    }
    c->writing = true;
}

/* HELLO: this node, the peer it means to reach, the cluster (docs/protocol.md). */
static void out_hello_encode(struct conn *c)
{
    struct transport *t = c->t;
    struct peer_hello hello = {
        .node_id = t->self,
        .peer_id = c->peer->id,
        .cluster_id_size = t->cluster_id_size,
        .cluster_id = (const uint8_t *)t->cluster_id,
    };
    syn_buf_reset(&t->scratch);
    int rc = peer_encode_hello(&t->scratch, &hello);
    ASSERT(rc == 0);
    ASSERT(t->scratch.len <= sizeof(c->hello));
    memcpy(c->hello, t->scratch.data, t->scratch.len);
    c->hello_size = t->scratch.len;
}

static void out_on_connect(uv_connect_t *req, int status)
{
    struct conn *c = req->data;
    if (c->closing) {
        return; /* closed while dialing: UV_ECANCELED */
    }
    struct peer *p = c->peer;
    struct transport *t = c->t;
    if (status < 0) {
        out_conn_lost(c, "connect", uv_strerror(status));
        return;
    }
    uv_timer_stop(&p->timer);
    transport_conn_tune(c);
    int rc = uv_read_start((uv_stream_t *)&c->tcp, out_alloc, out_on_read);
    if (rc < 0) {
        out_conn_lost(c, "read", uv_strerror(rc));
        return;
    }
    out_hello_encode(c);
    c->connected = true;
    c->opened_ms = uv_now(t->loop);
    p->stats.connected = true;
    p->stats.reconnects += p->ever_connected ? 1u : 0u;
    p->ever_connected = true;
    p->failing = false;
    LOG_INFO(TRANSPORT_LOG, "peer %" PRIu64 " %s: connected", p->id, p->addr);
    transport_conn_write(c);
    if (t->cb.on_peer != NULL) {
        t->cb.on_peer(t->cb.ctx, p->id, true); /* last: it may remove p or close t */
    }
}

static void dial_connect(struct peer *p, const struct sockaddr *sa)
{
    struct transport *t = p->t;
    struct conn *c = transport_conn_new(t, true);
    if (c == NULL) {
        dial_failed(p, "connect", "out of memory");
        return;
    }
    c->peer = p;
    p->out = c;
    transport_addr_format(sa, c->name);
    int rc = uv_tcp_connect(&c->connect_req, &c->tcp, sa, out_on_connect);
    if (rc < 0) {
        out_conn_lost(c, "connect", uv_strerror(rc));
        return;
    }
    uv_timer_start(&p->timer, peer_on_timer, t->connect_timeout_ms, 0);
}
