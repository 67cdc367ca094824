/* resp_server.c: the RESP server's API (resp_server.h) and each connection's input loop:
 * parse as many commands as the buffer holds, dispatch each in order, submit what may start,
 * and pause reading while too much is pending (backpressure, STYLE 8). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/resp_server_internal.h"
#include "base/assert.h"
#include "base/err.h"
#include "log/log.h"

#define RESP_REFUSAL "-ERR max number of clients reached\r\n"

static struct resp_server *conn_server(struct resp_conn *c)
{
    return api_server_ctx(c->base.srv);
}

/* ---- Backpressure -------------------------------------------------------------------- */

static size_t conn_queued(const struct resp_conn *c)
{
    return api_conn_output_size(&c->base) + c->pending_bytes;
}

/* Whether another command may be parsed now. */
static bool conn_has_room(const struct resp_conn *c, const struct resp_server *srv)
{
    return c->slot_count < srv->inflight_max && conn_queued(c) < SYN_RESP_OUTPUT_PAUSE_SIZE;
}

void resp_conn_progress(struct resp_conn *c)
{
    if (c->base.closing) {
        return;
    }
    if (conn_queued(c) > SYN_RESP_OUTPUT_SIZE_MAX) {
        LOG_WARN(RESP_LOG,
                 "client %" PRIu64 " %s: over %u bytes of replies queued (it does not read "
                 "them); closing",
                 c->base.id, c->base.peer, SYN_RESP_OUTPUT_SIZE_MAX);
        api_conn_close(&c->base);
        return;
    }
    api_conn_flush(&c->base);
    if (c->quitting) {
        if (c->head == NULL) {
            api_conn_close_after_write(&c->base);
        }
        return;
    }
    if (c->base.paused && conn_has_room(c, conn_server(c))) {
        api_conn_resume(&c->base);
    }
}

/* ---- Input --------------------------------------------------------------------------- */

/* A malformed request: Redis replies "-ERR Protocol error: ..." after the replies before it,
 * then closes the connection. */
static void protocol_error(struct resp_conn *c, struct resp_server *srv)
{
    srv->stats.protocol_errors++;
    LOG_DEBUG(RESP_LOG, "client %" PRIu64 " %s: %s; closing", c->base.id, c->base.peer,
              c->cmd.errmsg);
    struct resp_out o;
    resp_out_begin(&o, srv, resp_conn_reply_buf(c));
    resp_out_error(&o, "ERR", "%s", c->cmd.errmsg);
    resp_conn_reply_end(c, &o);
    c->quitting = true;
}

static void on_input(struct api_conn *base)
{
    struct resp_conn *c = (struct resp_conn *)base;
    struct resp_server *srv = conn_server(c);
    if (c->cmd.args == NULL) {
        resp_command_init(&c->cmd, srv->args, SYN_RESP_ARGS_MAX, &srv->parse_scratch);
    }
    size_t pos = 0;
    while (!c->quitting && !base->closing && pos < base->in.len) {
        if (!conn_has_room(c, srv)) {
            api_conn_pause(base);
            break;
        }
        size_t used = 0;
        int rc = resp_parse(base->in.data + pos, base->in.len - pos, &c->cmd, &used);
        if (rc == RESP_INCOMPLETE) {
            base->in_need = c->cmd.size_needed;
            break;
        }
        if (rc < 0) {
            protocol_error(c, srv);
            break;
        }
        base->in_need = 0;
        if (c->cmd.arg_count > 0) {
            resp_dispatch(c, c->cmd.args, c->cmd.arg_count);
        }
        pos += used;
    }
    if (c->quitting) {
        syn_buf_reset(&base->in); /* nothing after QUIT or a protocol error is read */
        base->in_need = 0;
    } else {
        syn_buf_consume(&base->in, pos);
    }
    resp_fifo_start(c);
    resp_conn_progress(c);
}

static void on_written(struct api_conn *base)
{
    resp_conn_progress((struct resp_conn *)base);
}

static void on_freed(struct api_conn *base)
{
    resp_fifo_free((struct resp_conn *)base);
}

/* ---- The server ---------------------------------------------------------------------- */

static int options_apply(struct resp_server *srv, const struct resp_server_options *opts,
                         char *errmsg)
{
    struct resp_server_options o = opts != NULL ? *opts : (struct resp_server_options){0};
    srv->connections_max = o.connections_max > 0 ? o.connections_max : SYN_RESP_CONNECTIONS_MAX;
    srv->inflight_max = o.inflight_max > 0 ? o.inflight_max : SYN_RESP_INFLIGHT_MAX;
    srv->version = o.version != NULL ? o.version : "unknown";
    if (srv->connections_max > SYN_RESP_CONNECTIONS_MAX ||
        srv->inflight_max > SYN_RESP_INFLIGHT_MAX) {
        if (errmsg != NULL) {
            snprintf(errmsg, RESP_SERVER_ERRMSG_SIZE,
                     "RESP options: at most %u connections and %u commands in flight each",
                     SYN_RESP_CONNECTIONS_MAX, SYN_RESP_INFLIGHT_MAX);
        }
        return SYN_EINVAL;
    }
    return 0;
}

static void server_free(void *ctx)
{
    struct resp_server *srv = ctx;
    syn_buf_free(&srv->parse_scratch);
    syn_buf_free(&srv->scratch);
    syn_buf_free(&srv->value);
    free(srv);
}

int resp_server_start(uv_loop_t *loop, const char *addr, struct service *svc,
                      const struct resp_server_options *opts, struct resp_server **out,
                      char *errmsg)
{
    *out = NULL;
    struct resp_server *srv = calloc(1, sizeof(*srv));
    if (srv == NULL) {
        return SYN_ENOMEM;
    }
    int rc = options_apply(srv, opts, errmsg);
    if (rc != 0) {
        free(srv);
        return rc;
    }
    srv->loop = loop;
    srv->svc = svc;
    srv->started_ms = uv_now(loop);
    syn_buf_init(&srv->parse_scratch, SYN_RESP_INLINE_SIZE_MAX);
    syn_buf_init(&srv->scratch, 0);
    syn_buf_init(&srv->value, 0);
    struct api_server_hooks hooks = {
        .ctx = srv,
        .name = RESP_LOG,
        .conn_size = sizeof(struct resp_conn),
        .input_max = SYN_RESP_REQUEST_SIZE_MAX + API_READ_CHUNK_SIZE,
        .connections_max = srv->connections_max,
        .refusal = RESP_REFUSAL,
        .input = on_input,
        .written = on_written,
        .freed = on_freed,
        .destroy = server_free,
    };
    rc = api_server_start(loop, addr, &hooks, &srv->api, errmsg);
    if (rc != 0) {
        server_free(srv);
        return rc;
    }
    *out = srv;
    return 0;
}

uint16_t resp_server_port(const struct resp_server *s)
{
    return api_server_port(s->api);
}

void resp_server_stats(const struct resp_server *s, struct resp_server_stats *out)
{
    struct api_server_stats a;
    api_server_stats(s->api, &a);
    *out = s->stats;
    out->connections_accepted = a.accepted;
    out->connections_refused = a.refused;
    out->connections_open = a.open;
}

void resp_server_close(struct resp_server *s, void (*done)(void *ctx), void *ctx)
{
    api_server_close(s->api, done, ctx); /* then server_free(s), then done(ctx) */
}
