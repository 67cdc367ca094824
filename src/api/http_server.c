/* http_server.c: the HTTP server's API (http_server.h), each connection's input (a head
 * from http_parse_request(), then its Content-Length body, then the route; pipelined
 * requests one after the other) and the responses. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http_events.h"
#include "api/http_server_internal.h"
#include "api/json.h"
#include "base/assert.h"
#include "base/err.h"
#include "log/log.h"

#define HTTP_REFUSAL                                                                               \
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"                       \
    "Content-Length: 33\r\nConnection: close\r\n\r\n{\"error\":\"too many connections\"}\n"
#define HTTP_CONTINUE "HTTP/1.1 100 Continue\r\n\r\n"

static struct http_server *conn_server(struct http_conn *c)
{
    return api_server_ctx(c->base.srv);
}

/* ---- Responses ----------------------------------------------------------------------- */

static int head_append(struct syn_buf *out, const struct http_exchange *ex, uint16_t status,
                       const char *content_type, size_t body_size, const char *extra, bool close)
{
    const struct http_request *req = ex->req;
    const char *connection = close ? "Connection: close\r\n"
                             : req->version_minor == 0 && req->keep_alive
                                 ? "Connection: keep-alive\r\n"
                                 : "";
    return api_buf_appendf(out, "HTTP/1.1 %u %s\r\n%s%s%sContent-Length: %zu\r\n%s%s\r\n", status,
                           http_status_reason(status), content_type != NULL ? "Content-Type: " : "",
                           content_type != NULL ? content_type : "",
                           content_type != NULL ? "\r\n" : "", body_size,
                           extra != NULL ? extra : "", connection);
}

void http_respond(struct http_exchange *ex, uint16_t status, const char *content_type,
                  const void *body, size_t body_size, const char *extra_headers)
{
    ASSERT(!ex->responded);
    ex->responded = true;
    struct http_conn *c = ex->conn;
    struct http_server *srv = ex->srv;
    if (c->base.closing) {
        http_exchange_finish(ex);
        return; /* the client left while the answer was being made */
    }
    srv->stats.requests++;
    if (status >= 400) {
        srv->stats.errors++;
    }
    /* after a malformed request the rest of the stream cannot be trusted: close */
    bool close = !ex->req->keep_alive || ex->req->status != 0 || c->base.close_after_write;
    struct syn_buf *out = &c->base.out;
    size_t start = out->len;
    int rc = head_append(out, ex, status, content_type, body_size, extra_headers, close);
    if (rc == 0 && ex->req->method != HTTP_HEAD) {
        rc = syn_buf_append(out, body, body_size);
    }
    if (rc != 0) {
        out->len = start;
        LOG_ERROR(HTTP_LOG, "client %" PRIu64 " %s: out of memory for a response; closing",
                  c->base.id, c->base.peer);
        api_conn_close(&c->base);
        return;
    }
    if (close) {
        api_conn_close_after_write(&c->base);
    } else {
        api_conn_flush(&c->base);
    }
    http_exchange_finish(ex);
}

void http_respond_json(struct http_exchange *ex, uint16_t status, const struct syn_buf *body)
{
    http_respond(ex, status, "application/json", body->data, body->len, NULL);
}

void http_respond_error(struct http_exchange *ex, uint16_t status, const char *fmt, ...)
{
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    struct syn_buf *b = &ex->srv->body;
    syn_buf_reset(b);
    int rc = syn_buf_append(b, "{\"error\":", 9);
    if (rc == 0) {
        rc = json_append_cstring(b, text);
    }
    if (rc == 0) {
        rc = syn_buf_append(b, "}\n", 2);
    }
    if (rc != 0) {
        syn_buf_reset(b); /* out of memory: the status alone */
    }
    http_respond_json(ex, status, b);
    syn_buf_reset(b);
}

/* ---- Input --------------------------------------------------------------------------- */

/* A request the parser refused: its status, and the connection closes. */
static void bad_request(struct http_conn *c, struct http_server *srv)
{
    LOG_DEBUG(HTTP_LOG, "client %" PRIu64 " %s: %u %s; closing", c->base.id, c->base.peer,
              c->req.status, c->req.errmsg);
    struct http_exchange ex = {.srv = srv, .conn = c, .req = &c->req};
    http_respond_error(&ex, c->req.status, "%s", c->req.errmsg);
}

/* After parsing the input (a head, a chunked body): true when complete; otherwise wait for
 * one more byte, or refuse it. */
static bool input_parsed(struct http_conn *c, struct http_server *srv, int rc)
{
    if (rc == HTTP_INCOMPLETE) {
        c->base.in_need = c->base.in.len + 1;
        return false;
    }
    if (rc < 0) {
        bad_request(c, srv);
        return false;
    }
    return true;
}

/* The head of the next request: false when it is not complete or was refused. */
static bool head_receive(struct http_conn *c, struct http_server *srv)
{
    struct api_conn *base = &c->base;
    if (!input_parsed(c, srv, http_parse_request(base->in.data, base->in.len, &c->req))) {
        return false;
    }
    c->have_head = true;
    c->head_at = base->in.data;
    if (c->req.expect_continue && (c->req.content_length > 0 || c->req.chunked) &&
        base->in.len < c->req.head_size + c->req.content_length + (c->req.chunked ? 1 : 0)) {
        /* RFC 9110 10.1.1: the client waits for this before it sends the body */
        if (syn_buf_append(&base->out, HTTP_CONTINUE, strlen(HTTP_CONTINUE)) == 0) {
            api_conn_flush(base);
        }
    }
    return true;
}

/* The request in c->req is answered: its bytes go, the next request may be parsed. */
static void request_consume(struct http_conn *c)
{
    struct api_conn *base = &c->base;
    size_t total = c->req.head_size + c->body_wire;
    ASSERT(c->have_body && total <= base->in.len);
    syn_buf_consume(&base->in, total);
    c->have_head = false;
    c->have_body = false;
    c->chunk = (struct http_chunked){0};
    http_request_reset(&c->req);
    base->in_need = 0;
}

static void on_input(struct api_conn *base);

void http_exchange_finish(struct http_exchange *ex)
{
    struct http_conn *c = ex->conn;
    if (c->in_handler || !c->waiting) {
        return; /* request_handle() finishes an exchange answered in its handler */
    }
    c->waiting = false;
    request_consume(c);
    if (!c->base.closing && !c->base.close_after_write && c->base.in.len > 0) {
        on_input(&c->base); /* pipelined requests that arrived meanwhile */
    }
}

/* Routes the request; false when its answer comes later (the connection then waits). */
static bool request_handle(struct http_conn *c, struct http_server *srv)
{
    const struct http_request *req = &c->req;
    c->ex = (struct http_exchange){
        .srv = srv,
        .conn = c,
        .req = req,
        .body = {c->base.in.data + req->head_size, c->body_size},
    };
    c->in_handler = true;
    http_route(&c->ex);
    c->in_handler = false;
    if (!c->ex.responded) {
        c->waiting = true;
        return false;
    }
    return true;
}

/* The body after the head: false while it is incomplete, or when it was refused. */
static bool body_receive(struct http_conn *c, struct http_server *srv)
{
    struct api_conn *base = &c->base;
    size_t head = c->req.head_size;
    if (!c->req.chunked) {
        size_t total = head + (size_t)c->req.content_length;
        if (base->in.len < total) {
            base->in_need = total;
            return false;
        }
        c->body_size = c->body_wire = (size_t)c->req.content_length;
        c->have_body = true;
        return true;
    }
    size_t wire = 0;
    int rc = http_chunked_scan(base->in.data + head, base->in.len - head, &c->chunk, &wire,
                               &c->req.status, &c->req.errmsg);
    if (!input_parsed(c, srv, rc)) {
        return false;
    }
    c->body_size = http_chunked_join(base->in.data + head, wire);
    c->body_wire = wire;
    c->have_body = true;
    return true;
}

static void on_input(struct api_conn *base)
{
    struct http_conn *c = (struct http_conn *)base;
    struct http_server *srv = conn_server(c);
    while (!c->waiting && !base->closing && !base->close_after_write && base->in.len > 0) {
        if (api_conn_output_size(base) > SYN_HTTP_OUTPUT_PAUSE_SIZE) {
            api_conn_pause(base); /* a client that pipelines and does not read */
            return;
        }
        if (!c->have_head && !head_receive(c, srv)) {
            return;
        }
        if (!c->have_body && !body_receive(c, srv)) {
            return;
        }
        if (c->head_at != base->in.data) {
            /* the body came in a later read, into a moved buffer: the head's slices point
             * into the old one, so parse it again where it is now (it parsed before) */
            http_request_reset(&c->req);
            int rc = http_parse_request(base->in.data, base->in.len, &c->req);
            ASSERT(rc == 0);
            c->head_at = base->in.data;
        }
        if (!request_handle(c, srv)) {
            return; /* http_exchange_finish() goes on */
        }
        request_consume(c);
    }
}

static void on_written(struct api_conn *base)
{
    if (base->paused && api_conn_output_size(base) <= SYN_HTTP_OUTPUT_PAUSE_SIZE) {
        api_conn_resume(base);
    }
}

/* ---- The server ---------------------------------------------------------------------- */

static void server_free(void *ctx)
{
    struct http_server *srv = ctx;
    syn_buf_free(&srv->body);
    syn_buf_free(&srv->value);
    syn_buf_free(&srv->command);
    free(srv->waiters);
    free(srv);
}

/* The server's own handle is closed: now the connections. */
static void on_timer_closed(uv_handle_t *h)
{
    struct http_server *srv = h->data;
    api_server_close(srv->api, srv->close_done, srv->close_ctx); /* then server_free(srv) */
}

int http_server_start(uv_loop_t *loop, const char *addr, struct service *svc,
                      const struct http_server_options *opts, struct http_server **out,
                      char *errmsg)
{
    *out = NULL;
    struct http_server_options o = opts != NULL ? *opts : (struct http_server_options){0};
    if (o.connections_max > SYN_HTTP_CONNECTIONS_MAX) {
        if (errmsg != NULL) {
            snprintf(errmsg, HTTP_SERVER_ERRMSG_SIZE, "HTTP options: at most %u connections",
                     SYN_HTTP_CONNECTIONS_MAX);
        }
        return SYN_EINVAL;
    }
    struct http_server *srv = calloc(1, sizeof(*srv));
    if (srv == NULL) {
        return SYN_ENOMEM;
    }
    srv->loop = loop;
    srv->svc = svc;
    srv->version = o.version != NULL ? o.version : "unknown";
    syn_buf_init(&srv->body, SYN_HTTP_RESPONSE_SIZE_MAX);
    syn_buf_init(&srv->value, SYN_VALUE_SIZE_MAX);
    syn_buf_init(&srv->command, SYN_ENTRY_SIZE_MAX);
    struct api_server_hooks hooks = {
        .ctx = srv,
        .name = HTTP_LOG,
        .conn_size = sizeof(struct http_conn),
        .input_max = SYN_HTTP_HEAD_SIZE_MAX + SYN_HTTP_BODY_SIZE_MAX + 2 * HTTP_CHUNKED_OVERHEAD_MAX,
        .answer_after_eof = true,
        .connections_max = o.connections_max > 0 ? o.connections_max : SYN_HTTP_CONNECTIONS_MAX,
        .refusal = HTTP_REFUSAL,
        .idle_timeout_ms = o.idle_timeout_ms > 0 ? o.idle_timeout_ms : HTTP_IDLE_TIMEOUT_MS_DEFAULT,
        .input = on_input,
        .written = on_written,
        .destroy = server_free,
    };
    int rc = api_server_start(loop, addr, &hooks, &srv->api, errmsg);
    if (rc != 0) {
        server_free(srv);
        return rc;
    }
    uv_timer_init(loop, &srv->waiter_timer);
    srv->waiter_timer.data = srv;
    http_kv_init(srv);
    http_events_init(srv);
    *out = srv;
    return 0;
}

uint16_t http_server_port(const struct http_server *s)
{
    return api_server_port(s->api);
}

void http_server_stats(const struct http_server *s, struct http_server_stats *out)
{
    struct api_server_stats a;
    api_server_stats(s->api, &a);
    *out = s->stats;
    out->connections_accepted = a.accepted;
    out->connections_refused = a.refused;
    out->connections_timed_out = a.timed_out;
    out->connections_open = a.open;
}

void http_server_close(struct http_server *s, void (*done)(void *ctx), void *ctx)
{
    s->close_done = done;
    s->close_ctx = ctx;
    http_kv_close(s); /* blocking queries release their connections */
    http_events_close(s);
    uv_close((uv_handle_t *)&s->waiter_timer, on_timer_closed);
}
