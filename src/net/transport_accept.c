/* transport_accept.c: the inbound side. An accepted connection only receives: first a HELLO,
 * checked against this node's cluster, id and peers, then RAFT, FORWARD and HEARTBEAT frames
 * from the peer it named, each reported to on_heard (the failure detector). Everything read
 * is untrusted (STYLE 6): a bad frame closes the connection with a logged reason, and the node
 * goes on serving the others.
 *
 * The receive buffer holds the bytes not yet parsed. It grows to what the frame being
 * received needs (the size peer_frame_parse() reports for an incomplete frame), at most
 * SYN_FRAME_SIZE_MAX, and until then reads are not parsed again, so a large frame costs one
 * parse, not one per read. Before HELLO it grows no further than the largest HELLO. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/assert.h"
#include "base/err.h"
#include "log/log.h"
#include "net/transport_internal.h"

/* Closes c for a reason the peer is to blame for, and logs it (docs/protocol.md). */
__attribute__((format(printf, 3, 4))) static void in_refuse(struct conn *c, int code,
                                                            const char *fmt, ...)
{
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    if (c->hello_done && c->peer != NULL) {
        LOG_WARN(TRANSPORT_LOG, "peer %" PRIu64 " %s: %s: %s; closing", c->peer->id, c->name,
                 syn_errname(code), why);
    } else {
        LOG_WARN(TRANSPORT_LOG, "inbound %s: %s: %s; closing", c->name, syn_errname(code), why);
    }
    c->t->stats.refused++;
    transport_conn_close(c);
}

static void in_alloc(uv_handle_t *handle, size_t suggested_size, uv_buf_t *buf)
{
    struct conn *c = handle->data;
    size_t chunk = c->hello_done ? TRANSPORT_RECV_CHUNK_SIZE : TRANSPORT_HELLO_FRAME_SIZE_MAX;
    size_t want = c->recv.len + chunk;
    if (want < c->recv_need) {
        want = c->recv_need;
    }
    if (want > SYN_FRAME_SIZE_MAX) {
        want = SYN_FRAME_SIZE_MAX;
    }
    /* The bytes held are less than the frame they start needs, which is within the max. */
    ASSERT(want > c->recv.len);
    if (syn_buf_reserve(&c->recv, want - c->recv.len) != 0) {
        *buf = uv_buf_init(NULL, 0); /* the read callback gets UV_ENOBUFS */
        return;
    }
    *buf = uv_buf_init((char *)c->recv.data + c->recv.len, (unsigned)(c->recv.cap - c->recv.len));
}

/* HELLO rules (docs/protocol.md, "Transport"): our cluster, meant for us, from a known peer. */
static void in_hello(struct conn *c, const struct peer_frame *f)
{
    struct transport *t = c->t;
    const struct peer_hello *h = &f->hello;
    if (f->kind != PEER_FRAME_HELLO) {
        in_refuse(c, SYN_EPROTO, "frame kind %u before HELLO", f->kind);
        return;
    }
    if (h->cluster_id_size != t->cluster_id_size ||
        memcmp(h->cluster_id, t->cluster_id, h->cluster_id_size) != 0) {
        in_refuse(c, SYN_EPROTO, "HELLO from node %" PRIu64 " for cluster '%.*s', this is '%s'",
                  h->node_id, (int)h->cluster_id_size, (const char *)h->cluster_id, t->cluster_id);
        return;
    }
    if (h->peer_id != 0 && h->peer_id != t->self) {
        in_refuse(c, SYN_EPROTO,
                  "HELLO from node %" PRIu64 " meant for node %" PRIu64 ", this is node %" PRIu64,
                  h->node_id, h->peer_id, t->self);
        return;
    }
    struct peer *p = transport_peer_find(t, h->node_id);
    if (p == NULL) {
        in_refuse(c, SYN_EUNKNOWNNODE, "HELLO from node %" PRIu64 ", not a known peer", h->node_id);
        return;
    }
    if (p->in != NULL) {
        /* The peer dialed again: its old connection is dead, whether or not we noticed. */
        LOG_INFO(TRANSPORT_LOG, "peer %" PRIu64 " %s: inbound connection replaced by %s", p->id,
                 p->in->name, c->name);
        transport_conn_close(p->in);
    }
    c->peer = p;
    c->hello_done = true;
    p->in = c;
    p->stats.inbound = true;
    LOG_INFO(TRANSPORT_LOG, "peer %" PRIu64 " %s: inbound connection ready", p->id, c->name);
    if (p->out == NULL && p->resolving == NULL && !c->t->closing) {
        /* It is back (a restart): dial now rather than at the end of a backoff that grew
         * while it was down, and start the backoff afresh. */
        uv_timer_stop(&p->timer);
        p->attempts = 0;
        transport_peer_dial(p);
    }
}

/* Tells the node that c's peer was heard from. false when the callback closed c (it may
 * remove the peer or close the transport): then nothing more is delivered. */
static bool in_heard(struct conn *c, const struct peer_heartbeat *hb)
{
    struct transport *t = c->t;
    if (t->cb.on_heard != NULL) {
        t->cb.on_heard(t->cb.ctx, c->peer->id, hb);
    }
    return !c->closing;
}

static void in_raft(struct conn *c, const struct peer_frame *f)
{
    struct transport *t = c->t;
    struct raft_message *m = &t->msg;
    int rc = peer_decode_raft(f, m, t->entries, SYN_APPEND_ENTRIES_MAX);
    if (rc != 0) {
        in_refuse(c, rc, "undecodable RAFT frame");
        return;
    }
    if (m->from != c->peer->id || m->to != t->self) {
        in_refuse(c, SYN_EBADMSG,
                  "RAFT message from %" PRIu64 " to %" PRIu64 " on the connection of node %" PRIu64,
                  m->from, m->to, c->peer->id);
        return;
    }
    c->peer->stats.frames_received++;
    c->peer->stats.bytes_received += f->frame_size;
    if (!in_heard(c, NULL)) {
        return;
    }
    t->cb.on_raft(t->cb.ctx, m);
}

/* A HEARTBEAT: from the peer of the connection, and delivered only to on_heard. */
static void in_heartbeat(struct conn *c, const struct peer_frame *f)
{
    if (f->heartbeat.node_id != c->peer->id) {
        in_refuse(c, SYN_EBADMSG, "HEARTBEAT from %" PRIu64 " on the connection of node %" PRIu64,
                  f->heartbeat.node_id, c->peer->id);
        return;
    }
    c->peer->stats.heartbeats_received++;
    in_heard(c, &f->heartbeat);
}

static void in_frame(struct conn *c, const struct peer_frame *f)
{
    if (!c->hello_done) {
        in_hello(c, f);
        return;
    }
    struct transport *t = c->t;
    struct peer *p = c->peer;
    switch (f->kind) {
    case PEER_FRAME_HELLO:
        in_refuse(c, SYN_EPROTO, "a second HELLO");
        return;
    case PEER_FRAME_RAFT:
        in_raft(c, f);
        return;
    case PEER_FRAME_HEARTBEAT:
        in_heartbeat(c, f);
        return;
    case PEER_FRAME_FORWARD_REQUEST:
    case PEER_FRAME_FORWARD_RESPONSE:
        p->stats.frames_received++;
        p->stats.bytes_received += f->frame_size;
        if (!in_heard(c, NULL)) {
            return;
        }
        t->cb.on_forward(t->cb.ctx, p->id, f->kind, f->forward.request_id, f->forward.body,
                         f->forward.body_size);
        return;
    default:
        UNREACHABLE(); /* peer_frame_parse() checked the kind */
    }
}

/* An incomplete frame whose header is in: before HELLO, only a HELLO-sized HELLO may come,
 * so a stranger cannot make the buffer grow. 0 or refused. */
static int in_check_incomplete(struct conn *c, const struct peer_frame *f)
{
    if (c->hello_done || f->frame_size == 0) {
        return 0;
    }
    if (f->kind != PEER_FRAME_HELLO) {
        in_refuse(c, SYN_EPROTO, "frame kind %u before HELLO", f->kind);
        return SYN_EPROTO;
    }
    if (f->frame_size > TRANSPORT_HELLO_FRAME_SIZE_MAX) {
        in_refuse(c, SYN_ETOOBIG, "HELLO of %" PRIu32 " bytes", f->frame_size);
        return SYN_ETOOBIG;
    }
    return 0;
}

/* Delivers every complete frame in the buffer; keeps the incomplete rest. */
static void in_parse(struct conn *c)
{
    size_t at = 0;
    c->recv_need = 0;
    while (!c->closing) {
        struct peer_frame f;
        size_t used = 0;
        int rc = peer_frame_parse(c->recv.data + at, c->recv.len - at, &f, &used);
        if (rc == PEER_FRAME_INCOMPLETE) {
            if (in_check_incomplete(c, &f) == 0) {
                c->recv_need = f.frame_size > 0 ? f.frame_size : SYN_FRAME_HEADER_SIZE;
            }
            break;
        }
        if (rc < 0) {
            in_refuse(c, rc, "%s", f.errmsg);
            break;
        }
        at += used;
        in_frame(c, &f); /* may close c, remove its peer or close the transport */
    }
    if (c->closing) {
        return;
    }
    syn_buf_consume(&c->recv, at);
    if (c->recv.len == 0 && c->recv.cap > TRANSPORT_RECV_CHUNK_SIZE) {
        syn_buf_free(&c->recv); /* a large frame went by: do not keep its memory */
    }
}

static void in_on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *c = stream->data;
    if (nread == 0 || c->closing) {
        return;
    }
    if (nread == UV_ENOBUFS) {
        in_refuse(c, SYN_ENOMEM, "no memory for the receive buffer");
        return;
    }
    if (nread < 0) {
        const char *why = nread == UV_EOF ? "closed by the peer" : uv_strerror((int)nread);
        if (c->hello_done) {
            LOG_INFO(TRANSPORT_LOG, "peer %" PRIu64 " %s: inbound connection ended: %s",
                     c->peer->id, c->name, why);
        } else {
            LOG_INFO(TRANSPORT_LOG, "inbound %s: ended before HELLO: %s", c->name, why);
        }
        transport_conn_close(c);
        return;
    }
    c->recv.len += (size_t)nread;
    if (c->recv.len < c->recv_need) {
        return; /* the frame is not whole yet: no need to parse again */
    }
    in_parse(c);
}

void transport_on_connection(uv_stream_t *server, int status)
{
    struct transport *t = server->data;
    if (status < 0) {
        LOG_WARN(TRANSPORT_LOG, "accept: %s", uv_strerror(status));
        return;
    }
    struct conn *c = transport_conn_new(t, false);
    if (c == NULL) {
        LOG_ERROR(TRANSPORT_LOG, "accept: out of memory");
        return;
    }
    int rc = uv_accept(server, (uv_stream_t *)&c->tcp);
    if (rc < 0) {
        LOG_WARN(TRANSPORT_LOG, "accept: %s", uv_strerror(rc));
        transport_conn_close(c);
        return;
    }
    t->stats.accepted++;
    c->opened_ms = uv_now(t->loop);
    struct sockaddr_storage sa;
    int size = sizeof(sa);
    snprintf(c->name, sizeof(c->name), "?");
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&sa, &size) == 0) {
        transport_addr_format((const struct sockaddr *)&sa, c->name);
    }
    if (t->inbound_open > SYN_PEER_INBOUND_MAX) {
        in_refuse(c, SYN_EBUSY, "more than SYN_PEER_INBOUND_MAX inbound connections");
        return;
    }
    transport_conn_tune(c);
    rc = uv_read_start((uv_stream_t *)&c->tcp, in_alloc, in_on_read);
    if (rc < 0) {
        in_refuse(c, SYN_EIO, "read: %s", uv_strerror(rc));
    }
}

void transport_on_sweep(uv_timer_t *timer)
{
    struct transport *t = timer->data;
    uint64_t now = uv_now(t->loop);
    for (struct conn *c = t->conns; c != NULL; c = c->next) {
        if (!c->outbound && !c->hello_done && !c->closing &&
            now - c->opened_ms >= t->hello_timeout_ms) {
            in_refuse(c, SYN_ETIMEDOUT, "no HELLO within %" PRIu32 " ms", t->hello_timeout_ms);
        }
    }
}
