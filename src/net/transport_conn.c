/* transport_conn.c: a connection's TCP handle from init to its close callback, where its
 * memory is freed (STYLE 9: handles never move and are freed only after their close callback).
 * What a connection does in between lives in transport_dial.c and transport_accept.c. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <stdlib.h>

#include "base/assert.h"
#include "net/transport_internal.h"

struct conn *transport_conn_new(struct transport *t, bool outbound)
{
    ASSERT(!t->closing);
    struct conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    c->t = t;
    c->outbound = outbound;
    syn_buf_init(&c->recv, SYN_FRAME_SIZE_MAX);
    int rc = uv_tcp_init(t->loop, &c->tcp);
    ASSERT(rc == 0); /* no socket yet: nothing can fail */
    c->tcp.data = c;
    c->connect_req.data = c;
    c->write_req.data = c;
    t->handles_open++;
    c->next = t->conns;
    if (t->conns != NULL) {
        t->conns->prev = c;
    }
    t->conns = c;
    if (!outbound) {
        t->inbound_open++;
    }
    return c;
}

static void conn_on_close(uv_handle_t *handle)
{
    struct conn *c = handle->data;
    struct transport *t = c->t;
    ASSERT(c->closing);
    ASSERT(!c->writing); /* libuv ran the write callback before this one */
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        t->conns = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    if (!c->outbound) {
        ASSERT(t->inbound_open > 0);
        t->inbound_open--;
    }
    syn_buf_free(&c->recv);
    free(c);
    transport_handle_closed(t);
}

void transport_conn_close(struct conn *c)
{
    if (c->closing) {
        return;
    }
    c->closing = true;
    struct peer *p = c->peer;
    if (p != NULL && p->out == c) {
        p->out = NULL;
        p->stats.connected = false;
    }
    if (p != NULL && p->in == c) {
        p->in = NULL;
        p->stats.inbound = false;
    }
    uv_close((uv_handle_t *)&c->tcp, conn_on_close);
}

void transport_conn_tune(struct conn *c)
{
    /* Raft messages are latency-bound and already batched per write: no Nagle delay. A
     * failure here leaves a working, if slower to fail, connection. */
    (void)uv_tcp_nodelay(&c->tcp, 1);
    (void)uv_tcp_keepalive(&c->tcp, 1, TRANSPORT_KEEPALIVE_S);
    /* Data left unacknowledged this long breaks the connection, which is then dialed
     * again: after a partition heals, traffic resumes within this time instead of at
     * TCP's next exponentially backed-off retransmission (which can be minutes away). */
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0) {
        unsigned int timeout_ms = TRANSPORT_USER_TIMEOUT_MS;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout_ms, sizeof(timeout_ms));
    }
}
