/* node_stop.c: stopping a node: answer pending clients, close every handle, let the disk
 * work in progress finish, then release the core, the store and the WAL (STYLE 9: memory a
 * handle uses is freed only after its close callback). */
#include "node/node_internal.h"
#include "node/node_checks.h"

#include <stdlib.h>

#include "base/err.h"
#include "log/log.h"
#include "node/node_servers.h"

void node_release(struct node *n)
{
    raft_destroy(n->raft);
    n->raft = NULL;
    if (n->kv != NULL) {
        if (n->kv_batch_open) {
            kv_apply_abort(n->kv);
        }
        kv_close(n->kv);
        n->kv = NULL;
    }
    if (n->wal != NULL) {
        wal_close(n->wal);
        n->wal = NULL;
    }
    node_requests_free(n);
    syn_buf_free(&n->scratch);
    free(n->chunk);
    node_services_free(n);
    node_fd_free(n);
    free(n);
}

void node_maybe_finish(struct node *n)
{
    if (!n->stopping || n->closing > 0 || n->persist_busy || n->snap_busy || n->finished) {
        return;
    }
    n->finished = true;
    LOG_INFO("node", "%s stopped", n->cfg.name);
    void (*done)(void *) = n->stop_done;
    void *ctx = n->stop_ctx;
    if (n->free_on_stop) {
        node_release(n);
    }
    if (done != NULL) {
        done(ctx);
    }
}

void node_closed_one(struct node *n)
{
    n->closing--;
    node_maybe_finish(n);
}

static void on_handle_closed(uv_handle_t *h)
{
    node_closed_one(h->data);
}

static void on_transport_closed(void *ctx)
{
    node_closed_one(ctx);
}

void node_stop(struct node *n, void (*done)(void *ctx), void *ctx)
{
    if (n->stopping) {
        return;
    }
    n->stopping = true;
    n->stop_done = done;
    n->stop_ctx = ctx;
    node_requests_fail_all(n, SYN_ESHUTDOWN);
    n->closing++; /* held while closing starts, so nothing finishes early */
    if (n->handles_started) {
        n->closing += 5;
        uv_close((uv_handle_t *)&n->raft_check, on_handle_closed);
        uv_close((uv_handle_t *)&n->raft_idle, on_handle_closed);
        uv_close((uv_handle_t *)&n->tick_timer, on_handle_closed);
        uv_close((uv_handle_t *)&n->sig_term, on_handle_closed);
        uv_close((uv_handle_t *)&n->sig_int, on_handle_closed);
    }
    node_checks_stop(n);
    node_fd_stop(n);
    node_servers_close(n);
    if (n->transport != NULL) {
        n->closing++;
        transport_close(n->transport, on_transport_closed, n);
        n->transport = NULL;
    }
    node_closed_one(n);
}

void node_free(struct node *n)
{
    if (n != NULL && !n->free_on_stop) {
        node_release(n);
    }
}
