/* lb_worker.c: one worker of synod lb (lb_internal.h): a balancer on its own thread and loop,
 * with its own listening socket, table, policy and connections; what it shares with the hub
 * passes through its mailbox. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/assert.h"
#include "base/err.h"
#include "lb/lb_internal.h"
#include "log/log.h"

/* ---- The registry's answers ---------------------------------------------------------- */

static void apply_update(struct lb *lb, const struct lb_instance *list, uint32_t count)
{
    struct lb_update u;
    lb_table_update(lb->table, list, count, uv_now(lb->loop), &u);
    for (uint32_t s = 0; s < lb->table->count; s++) {
        const struct lb_backend *b = &lb->table->backends[s];
        if (b->state == LB_BACKEND_UP) {
            int rc = lb_addr_ip(b->inst.host, b->inst.port, &lb->backend_sa[s]);
            ASSERT(rc == 0); /* the hub passes IP addresses only */
        }
    }
    if (u.members_changed) {
        lb_policy_rebuild(lb->policy, lb->table->targets, lb->table->count);
    }
    if (lb->index == 0 && (u.members_changed || u.reweighted > 0 || u.skipped > 0)) {
        LOG_INFO("lb", "service %s: %u instances passing (%u added, %u removed, %u reweighted, "
                       "%u without a free slot)",
                 lb->cfg.service, lb_table_up_count(lb->table), u.added, u.removed,
                 u.reweighted, u.skipped);
    }
}

/* ---- The mailbox --------------------------------------------------------------------- */

static void on_wake(uv_async_t *async)
{
    struct lb *lb = async->data;
    struct lb_mailbox *box = &lb->box;
    int fds[LB_HANDOFF_MAX];
    uint32_t fd_count = 0;
    uv_mutex_lock(&box->mu);
    for (; box->fd_count > 0; box->fd_count--) {
        fds[fd_count++] = box->fds[box->fd_head];
        box->fd_head = (box->fd_head + 1) % LB_HANDOFF_MAX;
    }
    if (box->update) {
        box->update = false;
        apply_update(lb, box->list, box->count);
    }
    if (box->snap_done != box->snap_want) {
        memcpy(&box->snap, lb->table, sizeof(box->snap));
        box->snap_totals = lb->totals;
        box->snap_done = box->snap_want;
        uv_cond_broadcast(&box->cond);
    }
    bool stop = box->stop;
    uv_mutex_unlock(&box->mu);
    for (uint32_t i = 0; i < fd_count; i++) {
        lb_conn_adopt(lb, fds[i]); /* after the update: the table is as new as it gets */
    }
    if (stop) {
        lb_worker_stop(lb);
    }
}

bool lb_worker_post_fd(struct lb *lb, int fd)
{
    struct lb_mailbox *box = &lb->box;
    uv_mutex_lock(&box->mu);
    bool ok = !box->stopped && box->fd_count < LB_HANDOFF_MAX;
    if (ok) {
        box->fds[(box->fd_head + box->fd_count) % LB_HANDOFF_MAX] = fd;
        if (box->fd_count++ == 0) {
            uv_async_send(&lb->wake); /* one nudge empties the queue */
        }
    }
    uv_mutex_unlock(&box->mu);
    return ok;
}

void lb_worker_post_update(struct lb *lb, const struct lb_instance *list, uint32_t count)
{
    ASSERT(count <= SYN_LB_BACKENDS_MAX);
    uv_mutex_lock(&lb->box.mu);
    memcpy(lb->box.list, list, count * sizeof(list[0]));
    lb->box.count = count;
    lb->box.update = true;
    if (!lb->box.stopped) {
        uv_async_send(&lb->wake); /* under the lock: the worker closes wake only after it
                                     set stopped under it */
    }
    uv_mutex_unlock(&lb->box.mu);
}

void lb_worker_post_stop(struct lb *lb)
{
    uv_mutex_lock(&lb->box.mu);
    lb->box.stop = true;
    if (!lb->box.stopped) {
        uv_async_send(&lb->wake);
    }
    uv_mutex_unlock(&lb->box.mu);
}

static void totals_add(struct lb_totals *into, const struct lb_totals *t)
{
    into->accepted += t->accepted;
    into->refused += t->refused;
    into->failed += t->failed;
    into->retries += t->retries;
    into->replays += t->replays;
    into->drained += t->drained;
    into->active += t->active;
}

void lb_worker_collect(struct lb *lb, uint64_t timeout_ms, struct lb_table *view,
                       struct lb_totals *totals)
{
    struct lb_mailbox *box = &lb->box;
    uv_mutex_lock(&box->mu);
    uint64_t want = ++box->snap_want;
    if (!box->stopped) {
        uv_async_send(&lb->wake);
    }
    uint64_t deadline = uv_hrtime() + timeout_ms * 1000000u;
    while (box->snap_done < want && !box->stopped) {
        uint64_t now = uv_hrtime();
        if (now >= deadline || uv_cond_timedwait(&box->cond, &box->mu, deadline - now) != 0) {
            break; /* a worker too busy to answer: its last snapshot stands in */
        }
    }
    lb_table_merge(view, &box->snap);
    totals_add(totals, &box->snap_totals);
    uv_mutex_unlock(&box->mu);
}

/* ---- Ticks, the end ------------------------------------------------------------------ */

static bool drain_expired(const struct lb *lb, uint32_t slot, uint64_t now)
{
    const struct lb_backend *b = &lb->table->backends[slot];
    return b->state == LB_BACKEND_DRAINING &&
           now - b->draining_since_ms >= lb->cfg.drain_timeout_ms;
}

static void on_tick(uv_timer_t *timer)
{
    struct lb *lb = timer->data;
    if (lb->cfg.drain_timeout_ms == 0) {
        return;
    }
    uint64_t now = uv_now(lb->loop);
    for (struct lb_conn *c = lb->conns; c != NULL; c = c->next) {
        if (c->state != LB_CONN_CLOSING && c->slot >= 0 &&
            drain_expired(lb, (uint32_t)c->slot, now)) {
            lb->totals.drained++;
            lb_conn_close(c); /* freed by a later close callback: c->next stays valid */
        }
    }
}

void lb_worker_stop(struct lb *lb)
{
    if (lb->stopping) {
        return;
    }
    lb->stopping = true;
    uv_mutex_lock(&lb->box.mu);
    lb->box.stopped = true; /* before wake closes: the hub sends no more */
    uv_cond_broadcast(&lb->box.cond);
    for (; lb->box.fd_count > 0; lb->box.fd_count--) {
        close(lb->box.fds[lb->box.fd_head]);
        lb->box.fd_head = (lb->box.fd_head + 1) % LB_HANDOFF_MAX;
    }
    uv_mutex_unlock(&lb->box.mu);
    if (lb->index == 0 || lb->totals.active > 0) {
        LOG_INFO("lb", "worker %u stopping: closing %u connections", lb->index,
                 lb->totals.active);
    }
    uv_close((uv_handle_t *)&lb->tick, NULL);
    uv_close((uv_handle_t *)&lb->wake, NULL);
    for (struct lb_conn *c = lb->conns; c != NULL; c = c->next) {
        lb_conn_close(c);
    }
}

/* ---- Start --------------------------------------------------------------------------- */

int lb_worker_new(struct lb_hub *hub, uint32_t index, const struct lb_config *cfg,
                  struct lb **out)
{
    struct lb *lb = calloc(1, sizeof(*lb));
    *out = lb;
    if (lb == NULL || (lb->table = calloc(1, sizeof(*lb->table))) == NULL ||
        (lb->policy = calloc(1, sizeof(*lb->policy))) == NULL) {
        return SYN_ENOMEM;
    }
    lb->hub = hub;
    lb->index = index;
    lb->cfg = *cfg;
    lb->loop = &lb->loop_storage;
    uv_loop_init(lb->loop);
    uv_mutex_init(&lb->box.mu);
    uv_cond_init(&lb->box.cond);
    lb_table_init(lb->table, cfg->fall, cfg->down_ms);
    lb_table_init(&lb->box.snap, cfg->fall, cfg->down_ms);
    lb_policy_init(lb->policy, cfg->policy);
    prng_init(&lb->prng, cfg->seed + index);
    uv_timer_init(lb->loop, &lb->tick);
    uv_async_init(lb->loop, &lb->wake, on_wake);
    lb->tick.data = lb;
    lb->wake.data = lb;
    uv_timer_start(&lb->tick, on_tick, LB_TICK_MS, LB_TICK_MS);
    return 0;
}

static void worker_main(void *arg)
{
    struct lb *lb = arg;
    uv_run(lb->loop, UV_RUN_DEFAULT);
}

int lb_worker_run(struct lb *lb)
{
    int rc = uv_thread_create(&lb->thread, worker_main, lb);
    lb->thread_started = rc == 0;
    return rc;
}

void lb_worker_free(struct lb *lb, uint64_t *accepted)
{
    if (lb == NULL) {
        return;
    }
    if (lb->loop != NULL) {
        if (lb->thread_started) {
            uv_thread_join(&lb->thread);
        } else {
            lb_worker_stop(lb); /* never ran: close here */
        }
        uv_run(lb->loop, UV_RUN_DEFAULT);
        *accepted += lb->totals.accepted;
        int rc = uv_loop_close(lb->loop);
        if (rc != 0) {
            LOG_WARN("lb", "worker %u: handles still open at exit: %s", lb->index,
                     uv_strerror(rc));
        }
        uv_cond_destroy(&lb->box.cond);
        uv_mutex_destroy(&lb->box.mu);
    }
    free(lb->table);
    free(lb->policy);
    free(lb);
}
