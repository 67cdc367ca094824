/* lb_conn.c: one client connection of synod lb: accepted, joined to a backend the policy
 * picks, dialed again on another backend when a connect fails (refused, or no answer within
 * --connect-timeout-ms), with --replay sent again elsewhere when its backend fails before
 * answering, and closed once both directions ended. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/assert.h"
#include "lb/lb_internal.h"
#include "log/log.h"

void lb_conn_tried_set(struct lb_conn *c, uint32_t slot)
{
    c->tried[slot / 8] |= (uint8_t)(1u << (slot % 8));
}

static uint32_t tried_count(const struct lb_conn *c)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < LB_SLOT_BITS; i++) {
        n += (uint32_t)__builtin_popcount(c->tried[i]);
    }
    return n;
}

/* The backend for c's next dial: the policy's pick among the backends that are up and not
 * tried yet; when passive health marked all of those down, among them anyway (one may be
 * back, and trying beats refusing the client). -1 when none is left. */
static int32_t conn_pick(struct lb_conn *c)
{
    struct lb *lb = c->lb;
    uint64_t now = uv_now(lb->loop);
    if (lb_table_usable(lb->table, now, c->tried, false) == 0 &&
        lb_table_usable(lb->table, now, c->tried, true) == 0) {
        return -1;
    }
    struct lb_pick_in in = {.client_hash = c->client_hash,
                            .random = {prng_next(&lb->prng), prng_next(&lb->prng)}};
    return lb_policy_pick(lb->policy, lb->table->targets, lb->table->count, &in);
}

static void conn_maybe_free(struct lb_conn *c)
{
    if (c->state != LB_CONN_CLOSING || c->handles > 0) {
        return;
    }
    struct lb *lb = c->lb;
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        lb->conns = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    lb_pipe_free(&c->up);
    lb_pipe_free(&c->down);
    syn_buf_free(&c->replay);
    free(c);
}

static void handle_closed(struct lb_conn *c)
{
    ASSERT(c->handles > 0);
    c->handles--;
    conn_maybe_free(c);
}

static void on_timer_closed(uv_handle_t *handle)
{
    handle_closed(handle->data);
}

static void on_client_closed(uv_handle_t *handle)
{
    handle_closed(((struct lb_pipe *)handle->data)->conn);
}

static void on_backend_closed(uv_handle_t *handle)
{
    struct lb_conn *c = ((struct lb_pipe *)handle->data)->conn;
    c->backend_closing = false;
    if (c->state == LB_CONN_CLOSING) {
        handle_closed(c);
        return;
    }
    c->handles--;
    if (c->state == LB_CONN_CONNECTING) {
        lb_conn_dial(c); /* a retry or a replay: the handle is free for the next backend */
    } else {
        ASSERT(c->state == LB_CONN_ORPHAN); /* dialed once the client sends */
    }
}

void lb_conn_backend_close(struct lb_conn *c)
{
    if (!c->backend_open) {
        return;
    }
    c->backend_open = false;
    c->backend_closing = true;
    lb_pipe_detach(&c->up);
    lb_pipe_detach(&c->down);
    uv_close((uv_handle_t *)&c->backend, on_backend_closed);
}

void lb_conn_close(struct lb_conn *c)
{
    if (c->state == LB_CONN_CLOSING) {
        return;
    }
    struct lb *lb = c->lb;
    if (c->slot >= 0) {
        lb_table_closed(lb->table, (uint32_t)c->slot);
        c->slot = -1;
    }
    c->state = LB_CONN_CLOSING;
    ASSERT(lb->totals.active > 0);
    lb->totals.active--;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
    uv_close((uv_handle_t *)&c->client, on_client_closed);
    if (c->backend_open) {
        c->backend_open = false;
        c->backend_closing = true;
        uv_close((uv_handle_t *)&c->backend, on_backend_closed);
    }
}

/* The dial to c->slot failed (why: "connection refused"): passive health hears of it and
 * the next backend is dialed once the handle is closed. */
static void connect_failed(struct lb_conn *c, const char *why)
{
    struct lb *lb = c->lb;
    uint32_t slot = (uint32_t)c->slot;
    c->slot = -1;
    lb_conn_tried_set(c, slot);
    uv_timer_stop(&c->timer);
    const struct lb_backend *b = &lb->table->backends[slot];
    if (lb_table_connect_failed(lb->table, slot, uv_now(lb->loop), why) &&
        b->fails_in_row == lb->table->fall) {
        LOG_WARN("lb", "backend %s (%s) marked down for %u ms: %u connects failed in a row, "
                       "the last: %s",
                 b->inst.id, b->addr, lb->table->down_ms, b->fails_in_row, why);
    }
    lb->totals.retries++;
    lb_conn_backend_close(c);
}

static void on_connect_timeout(uv_timer_t *timer)
{
    struct lb_conn *c = timer->data;
    if (c->state == LB_CONN_CONNECTING && c->slot >= 0) {
        connect_failed(c, "timed out");
    }
}

static void conn_open(struct lb_conn *c)
{
    struct lb *lb = c->lb;
    lb_table_connect_ok(lb->table, (uint32_t)c->slot);
    c->state = LB_CONN_OPEN;
    uv_tcp_nodelay(&c->backend, 1);
    if (c->replay.len > 0 && lb_pipe_load(&c->up, c->replay.data, c->replay.len) != 0) {
        lb_conn_close(c);
        return;
    }
    lb_pipe_enable(&c->up, true);
    lb_pipe_enable(&c->down, true);
    lb_pipe_flush(&c->up);
    lb_pipe_flush(&c->down);
}

static void on_connect(uv_connect_t *req, int status)
{
    struct lb_conn *c = req->data;
    if (status == UV_ECANCELED || c->state != LB_CONN_CONNECTING) {
        return; /* the handle is being closed: a timeout, or the client is gone */
    }
    uv_timer_stop(&c->timer);
    if (status < 0) {
        connect_failed(c, uv_strerror(status));
        return;
    }
    conn_open(c);
}

void lb_conn_dial(struct lb_conn *c)
{
    struct lb *lb = c->lb;
    ASSERT(c->state == LB_CONN_CONNECTING);
    ASSERT(!c->backend_open);
    ASSERT(c->slot < 0);
    int32_t slot = lb->stopping ? -1 : conn_pick(c);
    if (slot < 0) {
        lb->totals.failed++;
        LOG_DEBUG("lb", "worker %u: no backend left to try for a client (%u up, %u tried): "
                        "closing it",
                  lb->index, lb_table_up_count(lb->table), tried_count(c));
        lb_conn_close(c);
        return;
    }
    c->slot = slot;
    c->exchanged = false;
    lb_table_attempt(lb->table, (uint32_t)slot);
    uv_tcp_init(lb->loop, &c->backend);
    c->backend.data = &c->down;
    c->handles++;
    c->backend_open = true;
    c->connect_req.data = c;
    int rc = uv_tcp_connect(&c->connect_req, &c->backend,
                            (const struct sockaddr *)&lb->backend_sa[slot], on_connect);
    if (rc < 0) {
        connect_failed(c, uv_strerror(rc));
        return;
    }
    uv_timer_start(&c->timer, on_connect_timeout, lb->cfg.connect_timeout_ms, 0);
}

/* ---- Events from the pipes ----------------------------------------------------------- */

void lb_conn_on_bytes(struct lb_conn *c, bool up, const uint8_t *data, size_t size)
{
    if (c->state == LB_CONN_ORPHAN) {
        ASSERT(up);
        lb_replay_record(c, up, data, size);
        lb_replay_orphan_wakes(c); /* a backend for these bytes */
        return;
    }
    ASSERT(c->slot >= 0);
    struct lb_backend_counters *n = &c->lb->table->backends[c->slot].c;
    c->exchanged = true;
    *(up ? &n->bytes_in : &n->bytes_out) += size;
    lb_replay_record(c, up, data, size);
}

void lb_conn_on_end(struct lb_conn *c, bool up, int nread)
{
    if (c->state == LB_CONN_ORPHAN) {
        lb_conn_close(c); /* the client ended while it had no backend: nothing is pending */
        return;
    }
    if (c->state != LB_CONN_OPEN) {
        return;
    }
    if (!up && !c->exchanged && !c->up.eof) {
        /* Not a byte either way while the client is still there: as good as a refused
         * connect (a backend dying with our connection in its listen queue resets it so), and
         * nothing is lost by dialing another. (After the client's EOF the backend closing is
         * the answer to our shutdown.) */
        c->state = LB_CONN_CONNECTING;
        connect_failed(c, nread == UV_EOF ? "closed before any byte" : uv_strerror(nread));
        return;
    }
    if (!up && (lb_replay_after_failure(c, nread == UV_EOF ? "closed" : uv_strerror(nread)) ||
                (nread == UV_EOF && lb_replay_orphan(c)))) {
        return;
    }
    if (nread != UV_EOF) {
        LOG_DEBUG("lb", "worker %u: %s: %s: closing the connection", c->lb->index,
                  up ? "client" : "backend", uv_strerror(nread));
        lb_conn_close(c); /* a reset: the other side is closed too */
        return;
    }
    lb_pipe_flush(up ? &c->up : &c->down); /* shuts the other side down once written */
}

void lb_conn_on_write_error(struct lb_conn *c, bool up, int status)
{
    if (c->state != LB_CONN_OPEN || (up && lb_replay_after_failure(c, uv_strerror(status)))) {
        return;
    }
    LOG_DEBUG("lb", "worker %u: writing to the %s: %s: closing the connection", c->lb->index,
              up ? "backend" : "client", uv_strerror(status));
    lb_conn_close(c);
}

void lb_conn_on_done(struct lb_conn *c)
{
    if (c->up.done && c->down.done) {
        lb_conn_close(c);
    }
}

/* ---- Accepting ----------------------------------------------------------------------- */

static uint64_t peer_hash(uv_tcp_t *tcp)
{
    struct sockaddr_storage sa;
    int len = sizeof(sa);
    if (uv_tcp_getpeername(tcp, (struct sockaddr *)&sa, &len) != 0) {
        return 0;
    }
    if (sa.ss_family == AF_INET6) {
        return lb_hash_bytes(&((struct sockaddr_in6 *)&sa)->sin6_addr, 16);
    }
    return lb_hash_bytes(&((struct sockaddr_in *)&sa)->sin_addr, 4);
}

void lb_conn_adopt(struct lb *lb, int fd)
{
    struct lb_conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        LOG_ERROR("lb", "a client: out of memory: closing it");
        close(fd);
        lb->totals.refused++;
        return;
    }
    *c = (struct lb_conn){.lb = lb, .slot = -1, .state = LB_CONN_CONNECTING, .next = lb->conns};
    if (lb->conns != NULL) {
        lb->conns->prev = c;
    }
    lb->conns = c;
    lb->totals.active++;
    lb->totals.accepted++;
    lb_pipe_init(&c->up, c, &c->client, &c->backend, true);
    lb_pipe_init(&c->down, c, &c->backend, &c->client, false);
    syn_buf_init(&c->replay, SYN_LB_PIPE_BUFFER_SIZE);
    uv_tcp_init(lb->loop, &c->client);
    uv_timer_init(lb->loop, &c->timer);
    c->client.data = &c->up;
    c->timer.data = c;
    c->handles = 2;
    if (uv_tcp_open(&c->client, fd) != 0) {
        close(fd);
        lb_conn_close(c);
        return;
    }
    if (lb->totals.active > lb->cfg.max_conns || lb->stopping) {
        lb->totals.refused++;
        lb_conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->client, 1);
    c->client_hash = peer_hash(&c->client);
    lb_conn_dial(c);
}
