/* http_kv_wait.c: Consul's blocking queries. A read with ?index=N whose result's index is
 * still N or less waits, holding its connection, until the store changes a key it covers
 * (the store tells the service's observer, set here) or its ?wait passes; then it is read
 * again and answered, changed or not, as Consul does. At most one waiter per connection, so
 * the table has a slot per connection; a new waiter takes the lowest free slot, and scans
 * stop at the highest in use (a change costs the waiters there are, not the table's size). */
#include <stdlib.h>
#include <string.h>

#include "api/http_kv_internal.h"
#include "base/assert.h"
#include "base/err.h"

static bool covers(const struct http_kv_query *q, enum kv_change what, struct kv_bytes key)
{
    if (what == KV_CHANGE_ALL) {
        return true; /* the whole store was replaced */
    }
    if (what == KV_CHANGE_REGISTRY) {
        return q->registry;
    }
    if (q->registry) {
        return false;
    }
    size_t n = q->key.len;
    if (q->recurse || q->keys) {
        return key.size >= n && (n == 0 || memcmp(key.data, q->key.data, n) == 0);
    }
    return key.size == n && (n == 0 || memcmp(key.data, q->key.data, n) == 0);
}

static void on_sweep(uv_timer_t *t);

/* The next sweep: at the soonest deadline, and at least every HTTP_KV_SWEEP_MS to notice
 * clients that left. */
static void sweep_schedule(struct http_server *srv)
{
    if (srv->waiter_count == 0) {
        uv_timer_stop(&srv->waiter_timer);
        return;
    }
    uint64_t now = uv_now(srv->loop);
    uint64_t next = now + HTTP_KV_SWEEP_MS;
    for (uint32_t i = 0; i < srv->waiter_span; i++) {
        const struct http_kv_waiter *w = &srv->waiters[i];
        if (w->ex != NULL && w->deadline_ms < next) {
            next = w->deadline_ms;
        }
    }
    uv_timer_start(&srv->waiter_timer, on_sweep, next > now ? next - now : 0, 0);
}

/* The store changed key (applied, not yet committed): mark the waiters it concerns and
 * answer them from the loop, once the batch is committed. */
static void on_change(void *ctx, enum kv_change what, struct kv_bytes key, uint64_t index)
{
    (void)index;
    struct http_server *srv = ctx;
    bool any = false;
    for (uint32_t i = 0; i < srv->waiter_span; i++) {
        struct http_kv_waiter *w = &srv->waiters[i];
        if (w->ex != NULL && !w->woken && covers(w->q, what, key)) {
            w->woken = true;
            any = true;
        }
    }
    if (any && !srv->waiters_woken) {
        srv->waiters_woken = true;
        uv_timer_start(&srv->waiter_timer, on_sweep, 0, 0);
    }
}

static void waiter_end(struct http_server *srv, struct http_kv_waiter *w, bool answer)
{
    struct http_exchange *ex = w->ex;
    struct http_kv_query *q = w->q;
    *w = (struct http_kv_waiter){0};
    ASSERT(srv->waiter_count > 0);
    srv->waiter_count--;
    while (srv->waiter_span > 0 && srv->waiters[srv->waiter_span - 1].ex == NULL) {
        srv->waiter_span--;
    }
    struct api_conn *conn = &ex->conn->base;
    if (answer) {
        http_kv_answer(ex, q);
    }
    http_kv_query_free(q);
    free(q);
    api_conn_release(conn); /* may free the connection */
}

static void on_sweep(uv_timer_t *t)
{
    struct http_server *srv = t->data;
    srv->waiters_woken = false;
    uint64_t now = uv_now(srv->loop);
    for (uint32_t i = 0; i < srv->waiter_span; i++) {
        struct http_kv_waiter *w = &srv->waiters[i];
        if (w->ex == NULL) {
            continue;
        }
        if (w->ex->conn->base.closing) {
            waiter_end(srv, w, false); /* the client left */
            continue;
        }
        bool due = now >= w->deadline_ms;
        if (w->woken && !due) {
            struct http_kv_result res;
            w->woken = false;
            int rc = http_kv_evaluate(srv, w->q, &res);
            syn_buf_reset(&srv->body);
            due = rc != 0 || res.index > w->q->index; /* else the index stayed: wait on */
        }
        if (due) {
            waiter_end(srv, w, true);
        }
    }
    sweep_schedule(srv);
}

int http_kv_wait(struct http_exchange *ex, struct http_kv_query *q)
{
    struct http_server *srv = ex->srv;
    if (srv->waiters == NULL || srv->waiter_count == SYN_HTTP_CONNECTIONS_MAX) {
        return SYN_EFULL;
    }
    uint32_t slot = 0;
    while (srv->waiters[slot].ex != NULL) {
        slot++;
    }
    /* Consul adds up to wait/16 so that many watchers do not all come back at once. */
    uint64_t jitter = q->wait_ms / 16 > 0 ? (uv_hrtime() / 1000) % (q->wait_ms / 16) : 0;
    srv->waiters[slot] = (struct http_kv_waiter){
        .ex = ex,
        .q = q,
        .deadline_ms = uv_now(srv->loop) + q->wait_ms + jitter,
    };
    srv->waiter_count++;
    if (slot >= srv->waiter_span) {
        srv->waiter_span = slot + 1;
    }
    api_conn_hold(&ex->conn->base);
    if (!srv->waiters_woken) {
        sweep_schedule(srv);
    }
    return 0;
}

void http_kv_init(struct http_server *srv)
{
    srv->waiters = calloc(SYN_HTTP_CONNECTIONS_MAX, sizeof(*srv->waiters));
    if (srv->svc->ops->watch != NULL && srv->waiters != NULL) {
        srv->svc->ops->watch(srv->svc->impl, on_change, srv);
    }
}

void http_kv_close(struct http_server *srv)
{
    if (srv->svc->ops->watch != NULL) {
        srv->svc->ops->watch(srv->svc->impl, NULL, NULL);
    }
    for (uint32_t i = srv->waiter_span; i > 0; i--) { /* from the top: the span shrinks */
        if (srv->waiters[i - 1].ex != NULL) {
            waiter_end(srv, &srv->waiters[i - 1], false);
        }
    }
    uv_timer_stop(&srv->waiter_timer);
}
