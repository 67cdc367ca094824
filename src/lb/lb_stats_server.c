/* lb_stats_server.c: the stats endpoint (lb_stats_server.h). Request heads are read by the
 * HTTP API's pure parser (api/http_parse.h); every answer closes the connection. */
#include "lb/lb_stats_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http_parse.h"
#include "base/err.h"
#include "base/limits.h"
#include "lb/lb.h"
#include "log/log.h"

struct stats_conn {
    struct lb_stats_server *srv;
    int32_t slot; /* in srv->slots; -1 for a client refused (over the limit) */
    uv_tcp_t tcp;
    uv_timer_t timer; /* the exchange's deadline */
    uv_write_t write_req;
    uint32_t handles;
    bool closing;
    bool answered;
    size_t len;
    uint8_t in[LB_STATS_REQUEST_SIZE_MAX];
    struct syn_buf out; /* the response's body */
    char head[256];     /* ... and its head, both written by one uv_write() */
    struct http_request req;
};

struct lb_stats_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    lb_stats_render_fn render;
    void *ctx;
    struct stats_conn *slots[SYN_LB_STATS_CONNECTIONS_MAX]; /* clients being served */
    uint32_t conn_count; /* connections allocated: served, refused, closing */
    bool closing;
    bool listener_closed;
};

static void server_maybe_free(struct lb_stats_server *s)
{
    if (s->closing && s->listener_closed && s->conn_count == 0) {
        free(s);
    }
}

static void on_conn_closed(uv_handle_t *handle)
{
    struct stats_conn *c = handle->data;
    if (--c->handles > 0) {
        return;
    }
    struct lb_stats_server *s = c->srv;
    if (c->slot >= 0) {
        s->slots[c->slot] = NULL;
    }
    s->conn_count--;
    syn_buf_free(&c->out);
    free(c);
    server_maybe_free(s);
}

static void conn_close(struct stats_conn *c)
{
    if (c->closing) {
        return;
    }
    c->closing = true;
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
    uv_close((uv_handle_t *)&c->timer, on_conn_closed);
}

static void on_written(uv_write_t *req, int status)
{
    (void)status;
    conn_close(req->data);
}

/* Sends one response, then closes. */
static void respond(struct stats_conn *c, uint16_t status, const char *type, bool head)
{
    size_t body = c->out.len;
    int n = snprintf(c->head, sizeof(c->head),
                     "HTTP/1.1 %u %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
                     status, http_status_reason(status), type, body);
    uv_buf_t bufs[2] = {uv_buf_init(c->head, (unsigned)n),
                        uv_buf_init((char *)c->out.data, head ? 0 : (unsigned)body)};
    c->answered = true;
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->write_req.data = c;
    if (uv_write(&c->write_req, (uv_stream_t *)&c->tcp, bufs, 2, on_written) != 0) {
        conn_close(c);
    }
}

static void respond_text(struct stats_conn *c, uint16_t status, const char *text)
{
    syn_buf_reset(&c->out);
    if (syn_buf_append(&c->out, text, strlen(text)) != 0) {
        conn_close(c);
        return;
    }
    respond(c, status, "text/plain; charset=utf-8", false);
}

static void route(struct stats_conn *c)
{
    const struct http_request *r = &c->req;
    bool json = r->path.size == 6 && memcmp(r->path.data, "/stats", 6) == 0;
    bool metrics = r->path.size == 8 && memcmp(r->path.data, "/metrics", 8) == 0;
    if (!json && !metrics) {
        respond_text(c, 404, "not found: try GET /stats (JSON) or GET /metrics (Prometheus)\n");
        return;
    }
    if (r->method != HTTP_GET && r->method != HTTP_HEAD) {
        respond_text(c, 405, "only GET and HEAD\n");
        return;
    }
    syn_buf_reset(&c->out);
    if (c->srv->render(c->srv->ctx, metrics, &c->out) != 0) {
        respond_text(c, 500, "out of memory\n");
        return;
    }
    respond(c, 200, metrics ? "text/plain; version=0.0.4; charset=utf-8" : "application/json",
            r->method == HTTP_HEAD);
}

static void on_alloc(uv_handle_t *handle, size_t suggested_size, uv_buf_t *buf)
{
    struct stats_conn *c = handle->data;
    (void)suggested_size;
    *buf = uv_buf_init((char *)c->in + c->len, (unsigned)(sizeof(c->in) - c->len));
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct stats_conn *c = stream->data;
    (void)buf;
    if (nread == 0 || c->closing || c->answered) {
        return;
    }
    if (nread < 0) {
        conn_close(c);
        return;
    }
    c->len += (size_t)nread;
    int rc = http_parse_request(c->in, c->len, &c->req);
    if (rc == 0) {
        route(c);
    } else if (rc == HTTP_INCOMPLETE && c->len == sizeof(c->in)) {
        respond_text(c, 431, "request head too large\n");
    } else if (rc != HTTP_INCOMPLETE) {
        respond_text(c, c->req.status, "bad request\n");
    }
}

static void on_deadline(uv_timer_t *timer)
{
    conn_close(timer->data);
}

static void on_listen(uv_stream_t *listener, int status)
{
    struct lb_stats_server *s = listener->data;
    struct stats_conn *c = status == 0 ? calloc(1, sizeof(*c)) : NULL;
    if (c == NULL) {
        LOG_WARN("lb", "stats: accept: %s", status < 0 ? uv_strerror(status) : "out of memory");
        return;
    }
    c->srv = s;
    c->slot = -1;
    for (int32_t i = 0; i < (int32_t)SYN_LB_STATS_CONNECTIONS_MAX && c->slot < 0; i++) {
        c->slot = s->slots[i] == NULL ? i : -1;
    }
    if (c->slot >= 0) {
        s->slots[c->slot] = c;
    }
    s->conn_count++;
    syn_buf_init(&c->out, 0);
    http_request_reset(&c->req);
    uv_tcp_init(s->loop, &c->tcp);
    uv_timer_init(s->loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->handles = 2;
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0 || c->slot < 0 ||
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
        conn_close(c);
        return;
    }
    uv_timer_start(&c->timer, on_deadline, LB_STATS_TIMEOUT_MS, 0);
}

int lb_stats_server_start(uv_loop_t *loop, const struct sockaddr_storage *sa,
                          lb_stats_render_fn render, void *ctx, struct lb_stats_server **out,
                          char *err)
{
    struct lb_stats_server *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        snprintf(err, LB_ERR_SIZE, "out of memory");
        return SYN_ENOMEM;
    }
    *s = (struct lb_stats_server){.loop = loop, .render = render, .ctx = ctx};
    uv_tcp_init(loop, &s->listener);
    s->listener.data = s;
    int rc = uv_tcp_bind(&s->listener, (const struct sockaddr *)sa, 0);
    rc = rc == 0 ? uv_listen((uv_stream_t *)&s->listener, 64, on_listen) : rc;
    if (rc != 0) {
        snprintf(err, LB_ERR_SIZE, "stats address: %s", uv_strerror(rc));
        lb_stats_server_close(s);
        return SYN_EIO;
    }
    *out = s;
    return 0;
}

static void on_listener_closed(uv_handle_t *handle)
{
    struct lb_stats_server *s = handle->data;
    s->listener_closed = true;
    server_maybe_free(s);
}

void lb_stats_server_close(struct lb_stats_server *s)
{
    s->closing = true;
    uv_close((uv_handle_t *)&s->listener, on_listener_closed);
    for (uint32_t i = 0; i < SYN_LB_STATS_CONNECTIONS_MAX; i++) {
        if (s->slots[i] != NULL) {
            conn_close(s->slots[i]);
        }
    }
}
