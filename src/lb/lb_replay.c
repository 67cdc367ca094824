/* lb_replay.c: --replay (lb.h). The client bytes a backend has not answered yet are kept (at
 * most a pipe's worth), so that when the backend fails before answering they go to another
 * backend, as HAProxy's "retry-on empty-response" does in HTTP mode. And a backend that
 * closes between exchanges (killed, or an idle timeout) leaves its client LB_REPLAY_GRACE_MS to
 * send its next request, which then goes to another backend, instead of an EOF the client would
 * meet with that request already on its way.
 *
 * Only for request/response protocols whose requests may run twice (HTTP GETs): a backend that
 * died may have acted on the request before it died; and a server's close reaches the client
 * up to LB_REPLAY_GRACE_MS late. */
#include <string.h>

#include "base/assert.h"
#include "lb/lb_internal.h"
#include "log/log.h"

void lb_replay_record(struct lb_conn *c, bool up, const uint8_t *data, size_t size)
{
    if (!c->lb->cfg.replay) {
        return;
    }
    if (!up) {
        if (c->replay.len > 0 || c->replay_lost) { /* answered: a new exchange starts */
            syn_buf_reset(&c->replay);
            c->replay_lost = false;
            memset(c->tried, 0, sizeof(c->tried));
        }
        return;
    }
    if (!c->replay_lost && syn_buf_append(&c->replay, data, size) != 0) {
        c->replay_lost = true; /* more than a pipe holds: this exchange cannot be replayed */
        syn_buf_free(&c->replay);
        syn_buf_init(&c->replay, SYN_LB_PIPE_BUFFER_SIZE);
    }
}

bool lb_replay_after_failure(struct lb_conn *c, const char *why)
{
    struct lb *lb = c->lb;
    if (!lb->cfg.replay || c->replay_lost || c->replay.len == 0 || c->state != LB_CONN_OPEN) {
        return false;
    }
    uint32_t slot = (uint32_t)c->slot;
    const struct lb_backend *b = &lb->table->backends[slot];
    LOG_DEBUG("lb", "backend %s (%s) failed before answering (%s): %zu bytes sent again",
              b->inst.id, b->addr, why, c->replay.len);
    lb->totals.replays++;
    lb_conn_tried_set(c, slot);
    lb_table_replayed(lb->table, slot, why);
    c->slot = -1;
    c->state = LB_CONN_CONNECTING;
    lb_conn_backend_close(c); /* then lb_conn_dial(), then the replay is loaded on connect */
    return true;
}

static void on_grace_end(uv_timer_t *timer)
{
    struct lb_conn *c = timer->data;
    if (c->state == LB_CONN_ORPHAN) {
        lb_conn_close(c); /* the client sent nothing: it sees the close the backend made */
    }
}

bool lb_replay_orphan(struct lb_conn *c)
{
    struct lb *lb = c->lb;
    if (!lb->cfg.replay || c->replay_lost || c->replay.len > 0 || c->down.len > 0 ||
        c->up.eof || c->state != LB_CONN_OPEN) {
        return false; /* not between exchanges, or the backend's bytes still go out */
    }
    uint32_t slot = (uint32_t)c->slot;
    lb_conn_tried_set(c, slot);
    lb_table_closed(lb->table, slot);
    c->slot = -1;
    c->state = LB_CONN_ORPHAN;
    lb_conn_backend_close(c);
    lb_pipe_enable(&c->up, true); /* the client's next bytes wake it up */
    uv_timer_start(&c->timer, on_grace_end, LB_REPLAY_GRACE_MS, 0);
    return true;
}

void lb_replay_orphan_wakes(struct lb_conn *c)
{
    ASSERT(c->state == LB_CONN_ORPHAN);
    uv_timer_stop(&c->timer);
    c->lb->totals.replays++;
    c->state = LB_CONN_CONNECTING;
    lb_pipe_enable(&c->up, false);
    if (!c->backend_closing) {
        lb_conn_dial(c); /* else the old backend's close callback dials */
    }
}
