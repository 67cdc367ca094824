/* lb_pipe.c: one direction of a proxied connection (struct lb_pipe). Reads land in the
 * balancer's shared read buffer and are written at once with uv_try_write(); only what the
 * socket does not take is copied into the pipe's own buffer and written by uv_write(). So an
 * idle connection holds no buffer, a busy one at most SYN_LB_PIPE_BUFFER_SIZE bytes a
 * direction, and while that buffer is full reading the other side pauses (backpressure: the
 * kernel's window then slows the sender down). */
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/err.h"
#include "lb/lb_internal.h"

void lb_pipe_init(struct lb_pipe *p, struct lb_conn *c, uv_tcp_t *from, uv_tcp_t *to, bool up)
{
    *p = (struct lb_pipe){.conn = c, .from = from, .to = to, .up = up};
    p->write_req.data = p;
    p->shutdown_req.data = p;
}

void lb_pipe_free(struct lb_pipe *p)
{
    free(p->buf);
    p->buf = NULL;
    p->len = 0;
}

static int buf_ensure(struct lb_pipe *p)
{
    if (p->buf == NULL) {
        p->buf = malloc(SYN_LB_PIPE_BUFFER_SIZE);
    }
    return p->buf != NULL ? 0 : SYN_ENOMEM;
}

/* Drops the first n bytes written; an empty buffer is given back. */
static void consume(struct lb_pipe *p, size_t n)
{
    ASSERT(p->inflight == 0);
    ASSERT(n <= p->len);
    memmove(p->buf, p->buf + n, p->len - n);
    p->len -= n;
    if (p->len == 0) {
        lb_pipe_free(p);
    }
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

static void on_alloc(uv_handle_t *handle, size_t suggested_size, uv_buf_t *buf)
{
    struct lb_pipe *p = handle->data;
    (void)suggested_size;
    if (p->len == 0) {
        *buf = uv_buf_init((char *)p->conn->lb->read_buf, SYN_LB_PIPE_BUFFER_SIZE);
        return;
    }
    ASSERT(p->len < SYN_LB_PIPE_BUFFER_SIZE); /* reading stops while the buffer is full */
    *buf = uv_buf_init((char *)p->buf + p->len, (unsigned)(SYN_LB_PIPE_BUFFER_SIZE - p->len));
}

/* Reads `from` exactly while the connection wants it, there is room and it has not ended. */
static void update_reading(struct lb_pipe *p)
{
    uint8_t state = p->conn->state;
    bool want = p->enabled && !p->eof && p->len < SYN_LB_PIPE_BUFFER_SIZE &&
                (state == LB_CONN_OPEN || (state == LB_CONN_ORPHAN && p->up));
    if (want && !p->reading) {
        int rc = uv_read_start((uv_stream_t *)p->from, on_alloc, on_read);
        p->reading = rc == 0;
        if (rc < 0) {
            lb_conn_on_end(p->conn, p->up, rc);
        }
    } else if (!want && p->reading) {
        uv_read_stop((uv_stream_t *)p->from);
        p->reading = false;
    }
}

void lb_pipe_enable(struct lb_pipe *p, bool on)
{
    p->enabled = on;
    update_reading(p);
}

static void on_write(uv_write_t *req, int status)
{
    struct lb_pipe *p = req->data;
    size_t n = p->inflight;
    p->inflight = 0;
    if (status == UV_ECANCELED || p->conn->state == LB_CONN_CLOSING) {
        return; /* `to` is being closed: a replay reloads the buffer, a close frees it */
    }
    if (status < 0) {
        lb_conn_on_write_error(p->conn, p->up, status);
        return;
    }
    consume(p, n);
    lb_pipe_flush(p);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    struct lb_pipe *p = req->data;
    if (status == UV_ECANCELED || p->conn->state == LB_CONN_CLOSING) {
        return;
    }
    p->done = true; /* a failure (the peer reset) ends this direction all the same */
    lb_conn_on_done(p->conn);
}

/* uv_try_write()'s count of bytes taken: 0 when the socket is full; < 0 on an error. */
static int try_write(struct lb_pipe *p, const uint8_t *data, size_t size)
{
    uv_buf_t b = uv_buf_init((char *)data, (unsigned)size);
    int rc = uv_try_write((uv_stream_t *)p->to, &b, 1);
    return rc == UV_EAGAIN ? 0 : rc;
}

void lb_pipe_flush(struct lb_pipe *p)
{
    if (p->inflight > 0 || p->shut || p->conn->state != LB_CONN_OPEN) {
        return;
    }
    if (p->len > 0) {
        int rc = try_write(p, p->buf, p->len);
        if (rc < 0) {
            lb_conn_on_write_error(p->conn, p->up, rc);
            return;
        }
        consume(p, (size_t)rc);
    }
    if (p->len > 0) {
        uv_buf_t b = uv_buf_init((char *)p->buf, (unsigned)p->len);
        int rc = uv_write(&p->write_req, (uv_stream_t *)p->to, &b, 1, on_write);
        if (rc < 0) {
            lb_conn_on_write_error(p->conn, p->up, rc);
            return;
        }
        p->inflight = p->len;
    } else if (p->eof) {
        int rc = uv_shutdown(&p->shutdown_req, (uv_stream_t *)p->to, on_shutdown);
        p->shut = true;
        if (rc < 0) {
            p->done = true;
            lb_conn_on_done(p->conn);
            return;
        }
    }
    update_reading(p);
}

/* Bytes read into the shared buffer: written now as far as the socket takes them, the rest
 * kept. Returns false when the connection failed. */
static bool take_shared(struct lb_pipe *p, const uint8_t *data, size_t size)
{
    ASSERT(p->len == 0);
    ASSERT(p->inflight == 0);
    int rc = p->shut ? 0 : try_write(p, data, size);
    if (rc < 0) {
        lb_conn_on_write_error(p->conn, p->up, rc);
        return false;
    }
    size_t rest = size - (size_t)rc;
    if (rest > 0) {
        if (buf_ensure(p) != 0) {
            lb_conn_on_write_error(p->conn, p->up, UV_ENOMEM);
            return false;
        }
        memcpy(p->buf, data + rc, rest);
        p->len = rest;
    }
    return true;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct lb_pipe *p = stream->data;
    struct lb_conn *c = p->conn;
    if (nread == 0 || (c->state != LB_CONN_OPEN && c->state != LB_CONN_ORPHAN)) {
        return;
    }
    if (nread < 0) {
        p->reading = false; /* libuv stopped reading at EOF; an error ends the connection */
        if (nread == UV_EOF) {
            p->eof = true;
        }
        lb_conn_on_end(c, p->up, (int)nread);
        return;
    }
    const uint8_t *data = (const uint8_t *)buf->base;
    lb_conn_on_bytes(c, p->up, data, (size_t)nread);
    if (c->state != LB_CONN_OPEN) {
        return; /* an ORPHAN woke up: the bytes are in its replay, sent once it connects */
    }
    if (data == c->lb->read_buf) {
        if (!take_shared(p, data, (size_t)nread)) {
            return;
        }
    } else {
        p->len += (size_t)nread;
    }
    lb_pipe_flush(p);
}

int lb_pipe_load(struct lb_pipe *p, const uint8_t *data, size_t size)
{
    ASSERT(p->inflight == 0);
    ASSERT(size <= SYN_LB_PIPE_BUFFER_SIZE);
    lb_pipe_free(p);
    if (size == 0) {
        return 0;
    }
    if (buf_ensure(p) != 0) {
        return SYN_ENOMEM;
    }
    memcpy(p->buf, data, size);
    p->len = size;
    return 0;
}

void lb_pipe_detach(struct lb_pipe *p)
{
    if (p->up) { /* `to` is the backend: shut the next one down too, after the replay */
        p->shut = false;
        p->done = false;
    } else { /* `from` is the backend: the next one is read from the start */
        p->reading = false;
        p->eof = false;
        p->done = false;
    }
    p->enabled = false;
    update_reading(p);
}
