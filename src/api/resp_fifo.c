/* resp_fifo.c: a RESP connection's pending commands, in request order. Slots are submitted
 * to the service as soon as the order rules allow (see resp_server.h), complete in any
 * order, and their replies leave in FIFO order: a completed slot waits for the ones before
 * it. A slot with a service call pending holds the connection, so a client that disconnects
 * leaves its slots allocated until their callbacks ran (service.h). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "api/resp_server_internal.h"
#include "base/assert.h"
#include "base/err.h"
#include "log/log.h"

/* Slot buffers larger than this are freed when the slot is recycled. */
#define SLOT_BUFFER_KEEP_MAX (16u << 10)

static struct resp_server *conn_server(struct resp_conn *c)
{
    return api_server_ctx(c->base.srv);
}

struct syn_buf *resp_conn_reply_buf(struct resp_conn *c)
{
    return c->tail != NULL ? &c->tail->follow : &c->base.out;
}

void resp_conn_reply_end(struct resp_conn *c, struct resp_out *o)
{
    if (resp_out_end(o) != 0) {
        api_conn_close(&c->base);
        return;
    }
    if (o->b != &c->base.out) {
        c->pending_bytes += o->b->len - o->start;
    }
}

/* ---- Slots --------------------------------------------------------------------------- */

static void slot_buf_recycle(struct syn_buf *b)
{
    syn_buf_reset(b);
    if (b->cap > SLOT_BUFFER_KEEP_MAX) {
        syn_buf_free(b);
    }
}

static void slot_free(struct resp_slot *s)
{
    syn_buf_free(&s->body);
    syn_buf_free(&s->reply);
    syn_buf_free(&s->follow);
    free(s);
}

static void slot_recycle(struct resp_conn *c, struct resp_slot *s)
{
    if (c->spare_count >= RESP_SLOT_SPARE_MAX) {
        slot_free(s);
        return;
    }
    slot_buf_recycle(&s->body);
    slot_buf_recycle(&s->reply);
    slot_buf_recycle(&s->follow);
    s->next = c->spare;
    c->spare = s;
    c->spare_count++;
}

struct resp_slot *resp_slot_push(struct resp_conn *c, uint8_t kind)
{
    ASSERT(kind == RESP_SLOT_WRITE || kind == RESP_SLOT_READ);
    struct resp_slot *s = c->spare;
    if (s != NULL) {
        c->spare = s->next;
        c->spare_count--;
    } else {
        s = calloc(1, sizeof(*s));
        if (s == NULL) {
            return NULL;
        }
        syn_buf_init(&s->body, 0);
        syn_buf_init(&s->reply, 0);
        syn_buf_init(&s->follow, 0);
    }
    struct syn_buf body = s->body;
    struct syn_buf reply = s->reply;
    struct syn_buf follow = s->follow;
    *s =
        (struct resp_slot){.conn = c, .kind = kind, .body = body, .reply = reply, .follow = follow};
    if (c->tail != NULL) {
        c->tail->next = s;
    } else {
        c->head = s;
    }
    c->tail = s;
    if (c->unstarted == NULL) {
        c->unstarted = s;
    }
    c->slot_count++;
    return s;
}

void resp_fifo_free(struct resp_conn *c)
{
    ASSERT(c->writes_started == 0);
    ASSERT(c->reads_started == 0);
    while (c->head != NULL) {
        struct resp_slot *s = c->head;
        c->head = s->next;
        slot_free(s);
    }
    while (c->spare != NULL) {
        struct resp_slot *s = c->spare;
        c->spare = s->next;
        slot_free(s);
    }
    c->tail = NULL;
    c->unstarted = NULL;
}

/* ---- Completion ---------------------------------------------------------------------- */

/* Moves the replies of the completed slots at the head to the output. */
static void fifo_drain(struct resp_conn *c)
{
    struct syn_buf *out = &c->base.out;
    while (c->head != NULL && c->head->done) {
        struct resp_slot *s = c->head;
        size_t held = s->reply.len + s->follow.len;
        int rc = 0;
        if (out->len == 0 && s->reply.len > 0) {
            struct syn_buf t = *out; /* swap rather than copy a large reply */
            *out = s->reply;
            s->reply = t;
        } else {
            rc = syn_buf_append(out, s->reply.data, s->reply.len);
        }
        if (rc == 0) {
            rc = syn_buf_append(out, s->follow.data, s->follow.len);
        }
        ASSERT(c->pending_bytes >= held);
        c->pending_bytes -= held;
        c->head = s->next;
        if (c->head == NULL) {
            c->tail = NULL;
        }
        ASSERT(c->unstarted != s);
        c->slot_count--;
        slot_recycle(c, s);
        if (rc != 0) {
            LOG_ERROR(RESP_LOG, "client %" PRIu64 " %s: out of memory for replies; closing",
                      c->base.id, c->base.peer);
            api_conn_close(&c->base);
            return;
        }
    }
}

/* Starts s's reply: at the head of the FIFO it goes straight to the output. */
static void slot_out_begin(struct resp_slot *s, struct resp_out *o)
{
    struct resp_conn *c = s->conn;
    resp_out_begin(o, conn_server(c), s == c->head ? &c->base.out : &s->reply);
}

/* Ends s's reply, marks it done and drains what can leave. */
static void slot_finish(struct resp_slot *s, struct resp_out *o)
{
    struct resp_conn *c = s->conn;
    ASSERT(s->started);
    ASSERT(!s->done);
    if (resp_out_end(o) != 0) {
        api_conn_close(&c->base);
        return;
    }
    if (o->b == &s->reply) {
        c->pending_bytes += s->reply.len;
    }
    s->done = true;
    fifo_drain(c);
}

/* ---- Service callbacks --------------------------------------------------------------- */

static void on_write_done(void *ctx, int status, const struct kv_result *result)
{
    struct resp_slot *s = ctx;
    struct resp_conn *c = s->conn;
    ASSERT(c->writes_started > 0);
    c->writes_started--;
    if (!c->base.closing) {
        struct resp_out o;
        slot_out_begin(s, &o);
        if (status == 0) {
            resp_out_result(&o, result);
        } else {
            resp_out_status(&o, status, true);
        }
        slot_finish(s, &o);
        resp_fifo_start(c);
        resp_conn_progress(c);
    }
    api_conn_release(&c->base); /* may free c: last */
}

static void on_read_ready(void *ctx, int status)
{
    struct resp_slot *s = ctx;
    struct resp_conn *c = s->conn;
    uint32_t n = s->batch;
    ASSERT(c->reads_started >= n);
    c->reads_started -= n;
    for (uint32_t i = 0; i < n && !c->base.closing; i++) {
        struct resp_slot *next = s->next; /* s may be recycled once it is done */
        ASSERT(s->kind == RESP_SLOT_READ);
        struct resp_out o;
        slot_out_begin(s, &o);
        if (status == 0) {
            resp_read_execute(conn_server(c), s, &o);
        } else {
            resp_out_status(&o, status, false);
        }
        slot_finish(s, &o);
        s = next;
    }
    if (!c->base.closing) {
        resp_fifo_start(c);
        resp_conn_progress(c);
    }
    api_conn_release(&c->base); /* may free c: last */
}

/* ---- Submission ---------------------------------------------------------------------- */

/* The service refused the submission itself: the slot gets the status as its reply. */
static void slot_refused(struct resp_slot *s, int rc, bool write)
{
    struct resp_out o;
    slot_out_begin(s, &o);
    resp_out_status(&o, rc, write);
    slot_finish(s, &o);
}

static void start_write(struct resp_conn *c, struct resp_slot *s)
{
    struct resp_server *srv = conn_server(c);
    s->started = true;
    int rc = service_write(srv->svc, s->body.data, s->body.len, on_write_done, s);
    if (rc != 0) {
        slot_refused(s, rc, true);
        return;
    }
    c->writes_started++;
    api_conn_hold(&c->base);
}

/* One service_read() for the run of reads starting at first. */
static void start_reads(struct resp_conn *c, struct resp_slot *first)
{
    struct resp_server *srv = conn_server(c);
    uint32_t n = 0;
    struct resp_slot *s = first;
    for (; s != NULL && s->kind == RESP_SLOT_READ; s = s->next) {
        s->started = true;
        n++;
    }
    c->unstarted = s;
    first->batch = n;
    int rc = service_read(srv->svc, on_read_ready, first);
    if (rc != 0) {
        s = first;
        for (uint32_t i = 0; i < n && !c->base.closing; i++) {
            struct resp_slot *next = s->next;
            slot_refused(s, rc, false);
            s = next;
        }
        return;
    }
    c->reads_started += n;
    api_conn_hold(&c->base);
}

void resp_fifo_start(struct resp_conn *c)
{
    while (c->unstarted != NULL && !c->base.closing) {
        struct resp_slot *s = c->unstarted;
        if (s->kind == RESP_SLOT_WRITE) {
            if (c->reads_started > 0) {
                return; /* the reads before it must not see it */
            }
            c->unstarted = s->next;
            start_write(c, s);
        } else {
            if (c->writes_started > 0) {
                return; /* it must see the writes before it */
            }
            start_reads(c, s);
        }
    }
}
