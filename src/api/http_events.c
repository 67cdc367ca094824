/* http_events.c: GET /v1/synod/events, a long poll over the node's ring of recent events
 * (http_events.h). The answer is a JSON array, oldest first, and X-Consul-Index is the newest
 * sequence number the node holds: the index to ask with next. */
#include "api/http_events.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "api/http_kv_internal.h"
#include "api/json.h"
#include "base/assert.h"
#include "base/err.h"

#define HTTP_EVENTS_SWEEP_MS 1000u /* how often waiters are checked for clients that left */

struct http_events_waiter {
    struct http_exchange *ex; /* NULL: the slot is free */
    uint64_t after;           /* the client's ?index */
    uint64_t deadline_ms;     /* uv_now() */
};

struct http_events {
    struct http_server *srv;
    uv_timer_t timer; /* deadlines, wake-ups, and the sweep for clients that left */
    bool woken;       /* an event came: look at every waiter at the next run */
    uint32_t count;
    struct http_events_waiter waiters[SYN_HTTP_EVENT_WAITERS_MAX];
    struct service_event batch[SYN_NODE_EVENTS_MAX]; /* one answer's events */
};

/* Answers ex with the events after after. */
static void events_answer(struct http_events *ev, struct http_exchange *ex, uint64_t after)
{
    struct http_server *srv = ev->srv;
    struct service_info *info = &srv->info;
    service_info(srv->svc, info);
    uint64_t last = 0;
    uint32_t n =
        srv->svc->ops->events(srv->svc->impl, after, ev->batch, SYN_NODE_EVENTS_MAX, &last);
    struct syn_buf *b = &srv->body;
    syn_buf_reset(b);
    int rc = syn_buf_append(b, "[", 1);
    for (uint32_t i = 0; i < n && rc == 0; i++) {
        struct json_obj o;
        rc = i > 0 ? syn_buf_append(b, ",", 1) : 0;
        json_obj_begin(&o, b);
        json_obj_u64(&o, "seq", ev->batch[i].seq);
        json_obj_u64(&o, "time_ms", ev->batch[i].time_ms);
        json_obj_str(&o, "node", info->name);
        json_obj_str(&o, "kind", ev->batch[i].kind);
        json_obj_str(&o, "text", ev->batch[i].text);
        rc = rc == 0 ? json_obj_end(&o) : rc;
    }
    rc = rc == 0 ? syn_buf_append(b, "]\n", 2) : rc;
    if (rc != 0) {
        http_respond_error(ex, 500, "out of memory");
    } else {
        char headers[64];
        snprintf(headers, sizeof(headers), "X-Consul-Index: %" PRIu64 "\r\n", last);
        http_respond(ex, 200, "application/json", b->data, b->len, headers);
    }
    syn_buf_reset(b);
}

/* Whether events after after are there to answer with (an after past the newest is a
 * number from before the node restarted: everything held is). */
static bool events_ready(struct http_server *srv, uint64_t after)
{
    struct service_event one;
    uint64_t last = 0;
    return srv->svc->ops->events(srv->svc->impl, after, &one, 1, &last) > 0 || after > last;
}

static void waiter_end(struct http_events *ev, struct http_events_waiter *w, bool answer)
{
    struct http_exchange *ex = w->ex;
    uint64_t after = w->after;
    *w = (struct http_events_waiter){0};
    ASSERT(ev->count > 0);
    ev->count--;
    struct api_conn *conn = &ex->conn->base;
    if (answer) {
        events_answer(ev, ex, after);
    }
    api_conn_release(conn); /* may free the connection */
}

static void on_timer(uv_timer_t *t);

/* The next run: at the soonest deadline, and at least every HTTP_EVENTS_SWEEP_MS. */
static void timer_schedule(struct http_events *ev)
{
    if (ev->count == 0) {
        uv_timer_stop(&ev->timer);
        return;
    }
    uint64_t now = uv_now(ev->srv->loop);
    uint64_t next = now + HTTP_EVENTS_SWEEP_MS;
    for (uint32_t i = 0; i < SYN_HTTP_EVENT_WAITERS_MAX; i++) {
        if (ev->waiters[i].ex != NULL && ev->waiters[i].deadline_ms < next) {
            next = ev->waiters[i].deadline_ms;
        }
    }
    uv_timer_start(&ev->timer, on_timer, next > now ? next - now : 0, 0);
}

static void on_timer(uv_timer_t *t)
{
    struct http_events *ev = t->data;
    bool woken = ev->woken;
    ev->woken = false;
    uint64_t now = uv_now(ev->srv->loop);
    for (uint32_t i = 0; i < SYN_HTTP_EVENT_WAITERS_MAX && ev->count > 0; i++) {
        struct http_events_waiter *w = &ev->waiters[i];
        if (w->ex == NULL) {
            continue;
        }
        if (w->ex->conn->base.closing) {
            waiter_end(ev, w, false); /* the client left */
        } else if (now >= w->deadline_ms || (woken && events_ready(ev->srv, w->after))) {
            waiter_end(ev, w, true);
        }
    }
    timer_schedule(ev);
}

/* The service recorded an event: answer the waiters from the loop, not from inside
 * whatever recorded it. */
static void on_event(void *ctx)
{
    struct http_events *ev = ctx;
    if (ev->count > 0 && !ev->woken) {
        ev->woken = true;
        uv_timer_start(&ev->timer, on_timer, 0, 0);
    }
}

void http_events_route(struct http_exchange *ex)
{
    struct http_events *ev = ex->srv->events;
    if (ev == NULL) {
        http_respond_error(ex, 404, "this node keeps no events");
        return;
    }
    struct http_kv_query q = {0};
    if (!http_kv_parse_common(ex, &q)) {
        return; /* answered 400 */
    }
    if (!q.has_index || events_ready(ex->srv, q.index)) {
        events_answer(ev, ex, q.has_index ? q.index : 0);
        return;
    }
    if (ev->count == SYN_HTTP_EVENT_WAITERS_MAX) {
        http_respond_error(ex, 503, "%u requests already wait for events on this node",
                           SYN_HTTP_EVENT_WAITERS_MAX);
        return;
    }
    uint32_t slot = 0;
    while (ev->waiters[slot].ex != NULL) {
        slot++;
    }
    ev->waiters[slot] = (struct http_events_waiter){
        .ex = ex, .after = q.index, .deadline_ms = uv_now(ex->srv->loop) + q.wait_ms};
    ev->count++;
    api_conn_hold(&ex->conn->base);
    timer_schedule(ev);
}

void http_events_init(struct http_server *srv)
{
    const struct service_ops *ops = srv->svc->ops;
    if (ops->events == NULL || ops->events_watch == NULL) {
        return;
    }
    struct http_events *ev = calloc(1, sizeof(*ev));
    if (ev == NULL) {
        return;
    }
    ev->srv = srv;
    uv_timer_init(srv->loop, &ev->timer);
    ev->timer.data = ev;
    srv->events = ev;
    ops->events_watch(srv->svc->impl, on_event, ev);
}

static void on_closed(uv_handle_t *h)
{
    free(h->data);
}

void http_events_close(struct http_server *srv)
{
    struct http_events *ev = srv->events;
    if (ev == NULL) {
        return;
    }
    srv->svc->ops->events_watch(srv->svc->impl, NULL, NULL);
    for (uint32_t i = 0; i < SYN_HTTP_EVENT_WAITERS_MAX && ev->count > 0; i++) {
        if (ev->waiters[i].ex != NULL) {
            waiter_end(ev, &ev->waiters[i], false);
        }
    }
    srv->events = NULL;
    uv_close((uv_handle_t *)&ev->timer, on_closed);
}
