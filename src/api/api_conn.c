/* api_conn.c: one client connection of a client server (api_server.h): reads into a bounded
 * input buffer, the protocol's input hook, double-buffered writes (the protocol appends to
 * out while the previous bytes are being written), pause and resume, and the end: a closed
 * connection is freed only once no service callback holds it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_server_internal.h"
#include "base/assert.h"
#include "log/log.h"

/* Buffers larger than this are freed when they empty, so an idle connection is small. */
#define IDLE_BUFFER_SIZE_MAX (2u * API_READ_CHUNK_SIZE)

static void addr_format(const struct sockaddr_storage *sa, char out[API_ADDR_TEXT_SIZE])
{
    char ip[INET6_ADDRSTRLEN] = "?";
    if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        uv_ip6_name(in6, ip, sizeof(ip));
        snprintf(out, API_ADDR_TEXT_SIZE, "[%s]:%u", ip, ntohs(in6->sin6_port));
    } else if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;
        uv_ip4_name(in4, ip, sizeof(ip));
        snprintf(out, API_ADDR_TEXT_SIZE, "%s:%u", ip, ntohs(in4->sin_port));
    } else {
        snprintf(out, API_ADDR_TEXT_SIZE, "?");
    }
}

static void shrink_if_idle(struct syn_buf *b)
{
    if (b->len == 0 && b->cap > IDLE_BUFFER_SIZE_MAX) {
        syn_buf_free(b);
    }
}

size_t api_conn_output_size(const struct api_conn *c)
{
    return c->out.len + c->writing.len;
}

/* ---- The end ------------------------------------------------------------------------- */

static void conn_free(struct api_conn *c)
{
    struct api_server *s = c->srv;
    ASSERT(c->closed);
    ASSERT(c->holds == 0);
    if (s->hooks.freed != NULL) {
        s->hooks.freed(c);
    }
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        s->conns = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    syn_buf_free(&c->in);
    syn_buf_free(&c->out);
    syn_buf_free(&c->writing);
    free(c);
    api_server_conn_freed(s);
}

static void on_close(uv_handle_t *handle)
{
    struct api_conn *c = handle->data;
    c->closed = true;
    if (c->holds == 0) {
        conn_free(c);
    }
}

void api_conn_close(struct api_conn *c)
{
    if (c->closing) {
        return;
    }
    c->closing = true;
    c->reading = false;
    if (!c->refused) {
        ASSERT(c->srv->stats.open > 0);
        c->srv->stats.open--;
    }
    uv_close((uv_handle_t *)&c->tcp, on_close);
}

void api_conn_hold(struct api_conn *c)
{
    c->holds++;
}

/* A client that half-closed after its requests (HTTP/1.0 style, `nc -N`) still gets every
 * answer: the connection closes once nothing is pending and everything is written. */
static void close_if_answered(struct api_conn *c)
{
    if (c->eof && !c->closing && c->holds == 0 && api_conn_output_size(c) == 0) {
        api_conn_close(c);
    }
}

void api_conn_release(struct api_conn *c)
{
    ASSERT(c->holds > 0);
    c->holds--;
    if (c->holds == 0 && c->closed) {
        conn_free(c);
        return;
    }
    close_if_answered(c);
}

/* ---- Writing ------------------------------------------------------------------------- */

static void on_write(uv_write_t *req, int status)
{
    struct api_conn *c = req->data;
    syn_buf_reset(&c->writing);
    shrink_if_idle(&c->writing);
    if (c->closing) {
        return; /* cancelled by the close */
    }
    if (status < 0) {
        LOG_DEBUG(c->srv->hooks.name, "client %" PRIu64 " %s: write: %s; closing", c->id, c->peer,
                  uv_strerror(status));
        api_conn_close(c);
        return;
    }
    c->active_ms = uv_now(c->srv->loop);
    if (c->srv->hooks.written != NULL) {
        c->srv->hooks.written(c);
    }
    if (!c->closing) {
        api_conn_flush(c);
        close_if_answered(c);
    }
}

void api_conn_flush(struct api_conn *c)
{
    if (c->closing || c->writing.len > 0) {
        return;
    }
    /* Most answers fit in the socket's buffer: written now, without a write request (whose
     * completion makes libuv re-arm the descriptor: a system call per answer). The rest,
     * if any, goes through uv_write() and its callback (backpressure, errors). */
    if (c->out.len > 0) {
        uv_buf_t now = uv_buf_init((char *)c->out.data, (unsigned)c->out.len);
        int n = uv_try_write((uv_stream_t *)&c->tcp, &now, 1);
        if (n > 0) {
            syn_buf_consume(&c->out, (size_t)n);
            c->active_ms = uv_now(c->srv->loop);
        }
        shrink_if_idle(&c->out);
    }
    if (c->out.len == 0) {
        if (c->close_after_write) {
            api_conn_close(c);
        }
        return;
    }
    struct syn_buf t = c->writing; /* empty: swap, so out keeps growing meanwhile */
    c->writing = c->out;
    c->out = t;
    uv_buf_t buf = uv_buf_init((char *)c->writing.data, (unsigned)c->writing.len);
    c->write_req.data = c;
    int rc = uv_write(&c->write_req, (uv_stream_t *)&c->tcp, &buf, 1, on_write);
    if (rc < 0) {
        LOG_DEBUG(c->srv->hooks.name, "client %" PRIu64 " %s: write: %s; closing", c->id, c->peer,
                  uv_strerror(rc));
        syn_buf_reset(&c->writing);
        api_conn_close(c);
    }
}

/* ---- Reading ------------------------------------------------------------------------- */

static void on_alloc(uv_handle_t *handle, size_t suggested_size, uv_buf_t *buf)
{
    struct api_conn *c = handle->data;
    size_t max = c->srv->hooks.input_max;
    size_t want = c->in.len + API_READ_CHUNK_SIZE;
    if (want < c->in_need) {
        want = c->in_need;
    }
    if (want > max) {
        want = max;
    }
    if (want <= c->in.len || syn_buf_reserve(&c->in, want - c->in.len) != 0) {
        *buf = uv_buf_init(NULL, 0); /* the read callback gets UV_ENOBUFS */
        return;
    }
    size_t room = c->in.cap - c->in.len;
    if (room > max - c->in.len) {
        room = max - c->in.len;
    }
    *buf = uv_buf_init((char *)c->in.data + c->in.len, (unsigned)room);
}

/* Hands buffered input to the protocol while there is enough of it and it is not paused. */
static void conn_input(struct api_conn *c)
{
    if (!c->closing && !c->paused && !c->close_after_write && c->in.len > 0 &&
        c->in.len >= c->in_need) {
        c->srv->hooks.input(c);
    }
    shrink_if_idle(&c->in);
}

static void read_stop(struct api_conn *c)
{
    if (c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = false;
    }
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct api_conn *c = stream->data;
    if (nread == 0 || c->closing) {
        return;
    }
    if (nread == UV_EOF && c->srv->hooks.answer_after_eof) {
        c->eof = true;
        read_stop(c);
        close_if_answered(c); /* else once answered */
        return;
    }
    if (nread < 0) {
        if (nread != UV_EOF) {
            LOG_DEBUG(c->srv->hooks.name, "client %" PRIu64 " %s: read: %s; closing", c->id,
                      c->peer, uv_strerror((int)nread));
        }
        api_conn_close(c);
        return;
    }
    ASSERT(buf->base == (char *)c->in.data + c->in.len);
    c->in.len += (size_t)nread;
    c->active_ms = uv_now(c->srv->loop);
    conn_input(c);
}

static void read_start(struct api_conn *c)
{
    if (c->reading || c->closing || c->paused || c->close_after_write || c->eof) {
        return;
    }
    int rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (rc < 0) {
        LOG_WARN(c->srv->hooks.name, "client %" PRIu64 " %s: read: %s; closing", c->id, c->peer,
                 uv_strerror(rc));
        api_conn_close(c);
        return;
    }
    c->reading = true;
}

void api_conn_pause(struct api_conn *c)
{
    c->paused = true;
    read_stop(c);
}

void api_conn_resume(struct api_conn *c)
{
    if (!c->paused) {
        return;
    }
    c->paused = false;
    conn_input(c); /* what was read before the pause; it may pause again */
    read_start(c);
}

void api_conn_close_after_write(struct api_conn *c)
{
    c->close_after_write = true;
    read_stop(c);
    api_conn_flush(c);
}

/* ---- Opening ------------------------------------------------------------------------- */

static void names_set(struct api_conn *c)
{
    struct sockaddr_storage sa;
    int size = sizeof(sa);
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&sa, &size) == 0) {
        addr_format(&sa, c->peer);
    } else {
        snprintf(c->peer, sizeof(c->peer), "?");
    }
    size = sizeof(sa);
    if (uv_tcp_getsockname(&c->tcp, (struct sockaddr *)&sa, &size) == 0) {
        addr_format(&sa, c->local);
    } else {
        snprintf(c->local, sizeof(c->local), "?");
    }
}

void api_conn_open(struct api_server *s, struct api_conn *c)
{
    uv_tcp_init(s->loop, &c->tcp);
    c->tcp.data = c;
    syn_buf_init(&c->in, s->hooks.input_max);
    syn_buf_init(&c->out, 0);
    syn_buf_init(&c->writing, 0);
    c->opened_ms = uv_now(s->loop);
    c->active_ms = c->opened_ms;
    int rc = uv_accept((uv_stream_t *)&s->listener, (uv_stream_t *)&c->tcp);
    if (rc < 0) {
        LOG_WARN(s->hooks.name, "accept: %s", uv_strerror(rc));
        api_conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    names_set(c);
    if (c->refused) {
        LOG_WARN(s->hooks.name, "client %s refused: %u connections are open", c->peer,
                 s->hooks.connections_max);
        syn_buf_append(&c->out, s->hooks.refusal, strlen(s->hooks.refusal));
        api_conn_close_after_write(c);
        return;
    }
    LOG_DEBUG(s->hooks.name, "client %" PRIu64 " %s connected", c->id, c->peer);
    read_start(c);
}
