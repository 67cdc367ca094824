/* http_server.c: the HTTP server's API (http_server.h), each connection's input (a head
 * from http_parse_request(), then its Content-Length body, then the route; pipelined
 * requests one after the other) and the responses. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The head of the next request: false when it is not complete or was refused. */
static bool head_receive(struct http_conn *c, struct http_server *srv)
{
    struct api_conn *base = &c->base;
    int rc = http_parse_request(base->in.data, base->in.len, &c->req);
    if (rc == HTTP_INCOMPLETE) {
        base->in_need = base->in.len + 1;
        return false;
    }
    if (rc < 0) {
        bad_request(c, srv);
        return false;
    }
    c->have_head = true;
    if (c->req.expect_continue && c->req.content_length > 0 &&
        base->in.len < c->req.head_size + c->req.content_length) {
        /* RFC 9110 10.1.1: the client waits for this before it sends the body */
        if (syn_buf_append(&base->out, HTTP_CONTINUE, strlen(HTTP_CONTINUE)) == 0) {
            api_conn_flush(base);
        }
    }
    return true;
}

static void request_handle(struct http_conn *c, struct http_server *srv)
{
    const struct http_request *req = &c->req;
    struct http_exchange ex = {
        .srv = srv,
        .conn = c,
        .req = req,
        .body = {c->base.in.data + req->head_size, (size_t)req->content_length},
    };
    http_route(&ex);
    ASSERT(ex.responded); /* every handler of this milestone answers at once */
}

static void on_input(struct api_conn *base)
{
    struct http_conn *c = (struct http_conn *)base;
    struct http_server *srv = conn_server(c);
    while (!base->closing && !base->close_after_write && base->in.len > 0) {
        if (api_conn_output_size(base) > SYN_HTTP_OUTPUT_PAUSE_SIZE) {
            api_conn_pause(base); /* a client that pipelines and does not read */
            return;
        }
        if (!c->have_head && !head_receive(c, srv)) {
            return;
        }
        size_t total = c->req.head_size + (size_t)c->req.content_length;
        if (base->in.len < total) {
            base->in_need = total;
            return;
        }
        request_handle(c, srv);
        syn_buf_consume(&base->in, total);
        c->have_head = false;
        http_request_reset(&c->req);
        base->in_need = 0;
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
    free(srv);
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
    syn_buf_init(&srv->body, 0);
    struct api_server_hooks hooks = {
        .ctx = srv,
        .name = HTTP_LOG,
        .conn_size = sizeof(struct http_conn),
        .input_max = SYN_HTTP_HEAD_SIZE_MAX + SYN_HTTP_BODY_SIZE_MAX,
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
    api_server_close(s->api, done, ctx); /* then server_free(s), then done(ctx) */
}
