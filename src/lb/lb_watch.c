/* lb_watch.c: blocking queries on the registry over libuv (lb_watch.h). One exchange at a
 * time: connect, send the request, read until cli_http_response_parse() has the whole
 * answer, hand it over, and ask again. One timer serves as the backoff before an exchange
 * and the deadline during one. */
#include "lb/lb_watch.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/err.h"
#include "base/prng.h"
#include "cli/cli_http.h"
#include "lb/lb_internal.h"
#include "lb/lb_registry.h"

#define READ_CHUNK_SIZE (64u << 10)
#define GRACE_MS 3000u /* past ?wait (and Consul's wait/16 jitter) before giving up */

struct lb_watch {
    uv_loop_t *loop;
    struct lb_watch_config cfg;
    struct lb_watch_callbacks cbs;
    struct sockaddr_storage agents[LB_WATCH_AGENTS_MAX];
    char agent_names[LB_WATCH_AGENTS_MAX][LB_ADDR_SIZE];
    struct prng prng;
    uint32_t agent;    /* the agent asked now, or next */
    uint64_t index;    /* the index to wait on; 0: ask without one */
    uint32_t failures; /* exchanges failed in a row */
    uint64_t deadline_ms; /* of the exchange under way */
    uv_tcp_t tcp;
    uv_connect_t connect_req;
    uv_write_t write_req;
    uv_timer_t timer;
    struct syn_buf request;
    struct syn_buf response;
    struct lb_instance list[SYN_LB_BACKENDS_MAX];
    uint32_t handles;     /* initialized handles whose close callback has not run */
    bool tcp_open;        /* tcp initialized and not being closed */
    bool tcp_closing;     /* its close callback is pending */
    bool ask_when_closed; /* then start the next exchange */
    bool in_exchange;     /* the timer is a deadline, not a backoff */
    bool closing;
};

static void exchange_begin(struct lb_watch *w);

static void watch_maybe_free(struct lb_watch *w)
{
    if (w->closing && w->handles == 0) {
        syn_buf_free(&w->request);
        syn_buf_free(&w->response);
        free(w);
    }
}

static void on_tcp_closed(uv_handle_t *handle)
{
    struct lb_watch *w = handle->data;
    w->handles--;
    w->tcp_closing = false;
    if (w->closing) {
        watch_maybe_free(w);
    } else if (w->ask_when_closed) {
        w->ask_when_closed = false;
        exchange_begin(w);
    }
}

static void on_timer_closed(uv_handle_t *handle)
{
    struct lb_watch *w = handle->data;
    w->handles--;
    watch_maybe_free(w);
}

static void tcp_close(struct lb_watch *w)
{
    if (w->tcp_open) {
        w->tcp_open = false;
        w->tcp_closing = true;
        uv_close((uv_handle_t *)&w->tcp, on_tcp_closed);
    }
}

static void on_timer(uv_timer_t *timer);

static void schedule(struct lb_watch *w, uint64_t delay_ms)
{
    w->in_exchange = false;
    uv_timer_start(&w->timer, on_timer, delay_ms, 0);
}

/* The exchange failed: tell, then ask the next agent after the backoff. */
__attribute__((format(printf, 2, 3))) static void exchange_failed(struct lb_watch *w,
                                                                  const char *fmt, ...)
{
    char why[LB_REGISTRY_ERROR_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    tcp_close(w);
    uv_timer_stop(&w->timer);
    w->cbs.failed(w->cbs.ctx, w->agent_names[w->agent], why);
    w->failures += w->failures < 32 ? 1u : 0u;
    w->agent = (w->agent + 1) % w->cfg.agent_count;
    uint32_t shift = w->failures - 1 < 7 ? w->failures - 1 : 7;
    uint64_t backoff = (uint64_t)LB_WATCH_BACKOFF_MIN_MS << shift;
    backoff = backoff < LB_WATCH_BACKOFF_MAX_MS ? backoff : LB_WATCH_BACKOFF_MAX_MS;
    schedule(w, backoff / 2 + prng_range(&w->prng, 0, backoff / 2)); /* jitter: herds part */
}

/* A whole answer came: hand it over and ask again. */
static void exchange_done(struct lb_watch *w, const struct cli_http_response *resp)
{
    tcp_close(w);
    uv_timer_stop(&w->timer);
    if (resp->status != 200) {
        int n = (int)(resp->body_size < 80 ? resp->body_size : 80);
        exchange_failed(w, "HTTP %u: %.*s", resp->status, n, (const char *)resp->body);
        return;
    }
    uint32_t count;
    uint32_t skipped;
    int rc = lb_registry_parse(resp->body, resp->body_size, w->list, SYN_LB_BACKENDS_MAX, &count,
                               &skipped);
    if (rc != 0) {
        exchange_failed(w, "the answer is not Consul's health JSON: %s", syn_strerror(rc));
        return;
    }
    uint64_t got = 0;
    bool have = lb_registry_index(w->response.data, resp->head_size, &got);
    uint64_t next = lb_registry_next_index(w->index, have, got);
    bool changed = next != w->index;
    w->index = next;
    w->failures = 0;
    w->cbs.answer(w->cbs.ctx, w->list, count, skipped, have ? got : 0);
    if (!w->closing) {
        schedule(w, changed && next > 0 ? 0 : LB_WATCH_POLL_MS);
    }
}

static void on_alloc(uv_handle_t *handle, size_t suggested_size, uv_buf_t *buf)
{
    struct lb_watch *w = handle->data;
    (void)suggested_size;
    if (syn_buf_reserve(&w->response, READ_CHUNK_SIZE) != 0 &&
        syn_buf_reserve(&w->response, 1) != 0) {
        *buf = uv_buf_init(NULL, 0); /* full: the read callback gets UV_ENOBUFS */
        return;
    }
    size_t room = w->response.cap - w->response.len;
    room = room < w->response.max_size - w->response.len ? room
                                                         : w->response.max_size - w->response.len;
    *buf = uv_buf_init((char *)w->response.data + w->response.len, (unsigned)room);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct lb_watch *w = stream->data;
    (void)buf;
    if (nread == 0 || !w->tcp_open) {
        return;
    }
    if (nread < 0 && nread != UV_EOF) {
        exchange_failed(w, "read: %s", nread == UV_ENOBUFS ? "the answer is too large"
                                                           : uv_strerror((int)nread));
        return;
    }
    if (nread > 0) {
        w->response.len += (size_t)nread;
    }
    struct cli_http_response resp;
    int rc = cli_http_response_parse(w->response.data, w->response.len, false, nread == UV_EOF,
                                     SYN_LB_REGISTRY_RESPONSE_SIZE_MAX, &resp);
    if (rc == 0) {
        exchange_done(w, &resp);
    } else if (rc != CLI_HTTP_INCOMPLETE) {
        exchange_failed(w, "bad HTTP answer: %s", syn_strerror(rc));
    }
}

static void on_write(uv_write_t *req, int status)
{
    struct lb_watch *w = req->data;
    if (status < 0 && status != UV_ECANCELED && w->tcp_open) {
        exchange_failed(w, "send: %s", uv_strerror(status));
    }
}

static void on_connect(uv_connect_t *req, int status)
{
    struct lb_watch *w = req->data;
    if (status == UV_ECANCELED || !w->tcp_open) {
        return;
    }
    if (status < 0) {
        exchange_failed(w, "connect: %s", uv_strerror(status));
        return;
    }
    uv_buf_t b = uv_buf_init((char *)w->request.data, (unsigned)w->request.len);
    int rc = uv_write(&w->write_req, (uv_stream_t *)&w->tcp, &b, 1, on_write);
    rc = rc == 0 ? uv_read_start((uv_stream_t *)&w->tcp, on_alloc, on_read) : rc;
    if (rc < 0) {
        exchange_failed(w, "send: %s", uv_strerror(rc));
    }
}

/* The request: "GET <target> HTTP/1.1" for the index to wait on. */
static int request_build(struct lb_watch *w)
{
    struct syn_buf *r = &w->request;
    syn_buf_reset(r);
    int rc = syn_buf_append(r, "GET ", 4);
    rc = rc == 0 ? lb_registry_target(r, w->cfg.service, w->index, w->cfg.wait_s) : rc;
    if (rc != 0) {
        return rc;
    }
    r->len--; /* the target's NUL */
    char rest[LB_ADDR_SIZE + 128];
    int n = snprintf(rest, sizeof(rest),
                     " HTTP/1.1\r\nHost: %s\r\nUser-Agent: synod-lb\r\nAccept: application/json"
                     "\r\nConnection: close\r\n\r\n",
                     w->agent_names[w->agent]);
    return syn_buf_append(r, rest, (size_t)n);
}

static void exchange_begin(struct lb_watch *w)
{
    if (w->tcp_closing) {
        w->ask_when_closed = true; /* the last exchange's handle is not free yet */
        return;
    }
    ASSERT(!w->tcp_open);
    syn_buf_reset(&w->response);
    if (request_build(w) != 0) {
        w->cbs.failed(w->cbs.ctx, w->agent_names[w->agent], "out of memory");
        schedule(w, LB_WATCH_BACKOFF_MAX_MS);
        return;
    }
    uv_tcp_init(w->loop, &w->tcp);
    w->tcp.data = w;
    w->handles++;
    w->tcp_open = true;
    w->in_exchange = true;
    w->deadline_ms = GRACE_MS + (w->index > 0 ? w->cfg.wait_s * 1000ull * 17 / 16 : 0);
    uv_timer_start(&w->timer, on_timer, w->deadline_ms, 0);
    int rc = uv_tcp_connect(&w->connect_req, &w->tcp,
                            (const struct sockaddr *)&w->agents[w->agent], on_connect);
    if (rc < 0) {
        exchange_failed(w, "connect: %s", uv_strerror(rc));
    }
}

static void on_timer(uv_timer_t *timer)
{
    struct lb_watch *w = timer->data;
    if (w->in_exchange) {
        exchange_failed(w, "no answer within %" PRIu64 " ms", w->deadline_ms);
        return;
    }
    exchange_begin(w);
}

int lb_watch_start(uv_loop_t *loop, const struct lb_watch_config *cfg,
                   const struct lb_watch_callbacks *cbs, struct lb_watch **out)
{
    ASSERT(cfg->agent_count >= 1 && cfg->agent_count <= LB_WATCH_AGENTS_MAX);
    struct lb_watch *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        return SYN_ENOMEM;
    }
    w->loop = loop;
    w->cfg = *cfg;
    w->cbs = *cbs;
    for (uint32_t i = 0; i < cfg->agent_count; i++) {
        w->agents[i] = cfg->agents[i];
        lb_addr_name(&w->agents[i], w->agent_names[i]);
    }
    w->cfg.agents = w->agents;
    prng_init(&w->prng, cfg->seed);
    syn_buf_init(&w->request, 0);
    syn_buf_init(&w->response, SYN_LB_REGISTRY_RESPONSE_SIZE_MAX + CLI_HTTP_HEAD_SIZE_MAX);
    w->connect_req.data = w;
    w->write_req.data = w;
    uv_timer_init(loop, &w->timer);
    w->timer.data = w;
    w->handles = 1;
    schedule(w, 0);
    *out = w;
    return 0;
}

void lb_watch_close(struct lb_watch *w)
{
    ASSERT(!w->closing);
    w->closing = true;
    uv_timer_stop(&w->timer);
    uv_close((uv_handle_t *)&w->timer, on_timer_closed);
    tcp_close(w);
}
