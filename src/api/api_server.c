/* api_server.c: the client servers' listener (api_server.h): the address, the listening
 * socket, accepting within the connection limit, the idle sweep, and closing everything. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_server_internal.h"
#include "base/assert.h"
#include "base/err.h"
#include "log/log.h"

__attribute__((format(printf, 3, 4))) static int fail(char *errmsg, int code, const char *fmt, ...)
{
    if (errmsg != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errmsg, API_ERRMSG_SIZE, fmt, ap);
        va_end(ap);
    }
    return code;
}

int api_buf_appendf(struct syn_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    ASSERT(n >= 0);
    int rc = syn_buf_reserve(b, (size_t)n + 1);
    if (rc != 0) {
        return rc;
    }
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

/* ---- The address --------------------------------------------------------------------- */

/* "HOST:PORT" or "[V6]:PORT" into host (NUL-terminated) and port; port 0 is allowed. */
static bool addr_split(const char *text, char *host, size_t host_size, uint16_t *port)
{
    const char *colon = strrchr(text, ':');
    if (colon == NULL || colon[1] == '\0' || strlen(colon + 1) > 5) {
        return false;
    }
    uint32_t v = 0;
    for (const char *p = colon + 1; *p != '\0'; p++) {
        if (*p < '0' || *p > '9') {
            return false;
        }
        v = v * 10u + (uint32_t)(*p - '0');
    }
    const char *start = text;
    const char *end = colon;
    if (text[0] == '[') {
        if (end - start < 3 || end[-1] != ']') {
            return false;
        }
        start++;
        end--;
    } else if (memchr(text, ':', (size_t)(colon - text)) != NULL) {
        return false; /* a bare IPv6 address needs brackets */
    }
    size_t n = (size_t)(end - start);
    if (v > 65535u || n == 0 || n >= host_size) {
        return false;
    }
    memcpy(host, start, n);
    host[n] = '\0';
    *port = (uint16_t)v;
    return true;
}

/* The socket address for text: an IP address as is, a host name through the resolver (once,
 * synchronously: the server is starting). */
static int addr_resolve(uv_loop_t *loop, const char *text, struct sockaddr_storage *sa,
                        char *errmsg)
{
    char host[API_ADDR_TEXT_SIZE];
    uint16_t port = 0;
    if (text == NULL || !addr_split(text, host, sizeof(host), &port)) {
        return fail(errmsg, SYN_EINVAL, "listen address '%s' is not HOST:PORT",
                    text == NULL ? "" : text);
    }
    memset(sa, 0, sizeof(*sa));
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)sa) == 0 ||
        uv_ip6_addr(host, port, (struct sockaddr_in6 *)sa) == 0) {
        return 0;
    }
    uv_getaddrinfo_t req;
    char port_text[8];
    snprintf(port_text, sizeof(port_text), "%u", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    int rc = uv_getaddrinfo(loop, &req, NULL, host, port_text, &hints); /* synchronous */
    if (rc < 0) {
        return fail(errmsg, SYN_EIO, "listen on %s: %s", text, uv_strerror(rc));
    }
    memcpy(sa, req.addrinfo->ai_addr, req.addrinfo->ai_addrlen);
    uv_freeaddrinfo(req.addrinfo);
    return 0;
}

/* ---- Accepting ----------------------------------------------------------------------- */

static void on_connection(uv_stream_t *listener, int status)
{
    struct api_server *s = listener->data;
    if (status < 0) {
        LOG_WARN(s->hooks.name, "accept: %s", uv_strerror(status));
        return;
    }
    struct api_conn *c = calloc(1, s->hooks.conn_size);
    if (c == NULL) {
        LOG_ERROR(s->hooks.name, "accept: out of memory");
        return; /* the client waits in the backlog; libuv calls again */
    }
    c->srv = s;
    c->id = ++s->next_id;
    c->next = s->conns;
    if (s->conns != NULL) {
        s->conns->prev = c;
    }
    s->conns = c;
    s->stats.accepted++;
    if (s->stats.open >= s->hooks.connections_max) {
        c->refused = true;
        s->stats.refused++;
    } else {
        s->stats.open++;
    }
    api_conn_open(s, c);
}

/* ---- Idle connections ---------------------------------------------------------------- */

static bool conn_idle(const struct api_conn *c, uint64_t now, uint32_t timeout_ms)
{
    /* unread input does not count: a client that sent half a request and went quiet is idle */
    return !c->closing && c->holds == 0 && api_conn_output_size(c) == 0 &&
           now - c->active_ms >= timeout_ms;
}

static void on_sweep(uv_timer_t *timer)
{
    struct api_server *s = timer->data;
    uint64_t now = uv_now(s->loop);
    for (struct api_conn *c = s->conns; c != NULL; c = c->next) {
        if (conn_idle(c, now, s->hooks.idle_timeout_ms)) {
            LOG_DEBUG(s->hooks.name, "client %" PRIu64 " %s: idle for %u ms; closing", c->id,
                      c->peer, s->hooks.idle_timeout_ms);
            s->stats.timed_out++;
            api_conn_close(c);
        }
    }
}

/* ---- Start --------------------------------------------------------------------------- */

static int listener_start(struct api_server *s, const char *addr, char *errmsg)
{
    struct sockaddr_storage sa;
    int rc = addr_resolve(s->loop, addr, &sa, errmsg);
    if (rc != 0) {
        return rc;
    }
    rc = uv_tcp_bind(&s->listener, (const struct sockaddr *)&sa, 0);
    if (rc == 0) {
        rc = uv_listen((uv_stream_t *)&s->listener, SOMAXCONN, on_connection);
    }
    struct sockaddr_storage bound;
    int size = sizeof(bound);
    if (rc == 0) {
        rc = uv_tcp_getsockname(&s->listener, (struct sockaddr *)&bound, &size);
    }
    if (rc < 0) {
        return fail(errmsg, SYN_EIO, "listen on %s: %s", addr, uv_strerror(rc));
    }
    s->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                : ((struct sockaddr_in *)&bound)->sin_port);
    return 0;
}

int api_server_start(uv_loop_t *loop, const char *addr, const struct api_server_hooks *hooks,
                     struct api_server **out, char *errmsg)
{
    ASSERT(hooks->conn_size >= sizeof(struct api_conn));
    ASSERT(hooks->input != NULL);
    ASSERT(hooks->input_max > 0);
    ASSERT(hooks->connections_max > 0);
    *out = NULL;
    struct api_server *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return fail(errmsg, SYN_ENOMEM, "out of memory");
    }
    s->loop = loop;
    s->hooks = *hooks;
    uv_tcp_init(loop, &s->listener);
    uv_timer_init(loop, &s->sweeper);
    s->listener.data = s;
    s->sweeper.data = s;
    s->handles_open = 2;
    int rc = listener_start(s, addr, errmsg);
    if (rc != 0) {
        s->hooks.destroy = NULL;         /* the caller frees its server now */
        api_server_close(s, NULL, NULL); /* freed once the loop runs the close callbacks */
        return rc;
    }
    if (hooks->idle_timeout_ms > 0) {
        uint64_t every = hooks->idle_timeout_ms / 4u > 0 ? hooks->idle_timeout_ms / 4u : 1u;
        uv_timer_start(&s->sweeper, on_sweep, every, every);
    }
    LOG_INFO(hooks->name, "listening on %s (port %u)", addr, s->port);
    *out = s;
    return 0;
}

uint16_t api_server_port(const struct api_server *s)
{
    return s->port;
}

void *api_server_ctx(const struct api_server *s)
{
    return s->hooks.ctx;
}

uv_loop_t *api_server_loop(const struct api_server *s)
{
    return s->loop;
}

void api_server_stats(const struct api_server *s, struct api_server_stats *out)
{
    *out = s->stats;
}

struct api_conn *api_server_first(struct api_server *s)
{
    struct api_conn *c = s->conns;
    while (c != NULL && c->closing) {
        c = c->next;
    }
    return c;
}

struct api_conn *api_server_next(struct api_conn *c)
{
    do {
        c = c->next;
    } while (c != NULL && c->closing);
    return c;
}

/* ---- Close --------------------------------------------------------------------------- */

static void server_maybe_free(struct api_server *s)
{
    if (!s->closing || s->handles_open > 0 || s->conns != NULL) {
        return;
    }
    void (*done)(void *ctx) = s->done;
    void *ctx = s->done_ctx;
    void (*destroy)(void *ctx) = s->hooks.destroy;
    void *proto = s->hooks.ctx;
    free(s);
    if (destroy != NULL) {
        destroy(proto);
    }
    if (done != NULL) {
        done(ctx);
    }
}

void api_server_conn_freed(struct api_server *s)
{
    server_maybe_free(s);
}

static void on_handle_close(uv_handle_t *handle)
{
    struct api_server *s = handle->data;
    ASSERT(s->handles_open > 0);
    s->handles_open--;
    server_maybe_free(s);
}

void api_server_close(struct api_server *s, void (*done)(void *ctx), void *ctx)
{
    ASSERT(!s->closing);
    s->closing = true;
    s->done = done;
    s->done_ctx = ctx;
    for (struct api_conn *c = s->conns; c != NULL; c = c->next) {
        api_conn_close(c);
    }
    uv_close((uv_handle_t *)&s->listener, on_handle_close);
    uv_close((uv_handle_t *)&s->sweeper, on_handle_close);
}
