/* node_fd.c: the failure detector's shell (docs/failure-detection.md). Every heartbeat
 * interval a timer sends a HEARTBEAT to every peer; every frame a peer's connection delivers
 * (a heartbeat, a Raft message, a forwarded request) is reported to the core (src/fd) as a
 * sign of life; and the core judges every member twice per interval (so judging adds at most
 * half an interval to detection), after the loop turn's I/O, then the transitions are
 * logged. The members are the transport's peers (the latest Raft configuration's other
 * members), followed at each interval. */
#include "node/node_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/err.h"
#include "log/log.h"

#define FD_LOG "fd"

struct node_fd {
    struct node *n;
    struct fd fd;
    uv_timer_t timer; /* every half interval: a judgement; every other run, heartbeats */
    uv_check_t check; /* judges, after the loop turn's I/O */
    uv_idle_t idle;   /* while a judgement is due: the poll does not block */
    bool judge_due;
    uint64_t incarnation;
    uint64_t sequence;
    uint64_t runs; /* of the timer */
};

/* A member's name for the logs: "n2", or its id when the configuration no longer has it. */
static const char *member_name(const struct node *n, raft_id id, char *out, size_t size)
{
    struct raft_status st;
    raft_status(n->raft, &st);
    const struct raft_member *m = raft_conf_find(&st.conf, id);
    if (m == NULL || node_member_name(m, out, size)[0] == '\0') {
        snprintf(out, size, "%" PRIx64, (uint64_t)id);
    }
    return out;
}

static void log_event(struct node *n, const struct fd_event *ev)
{
    char name[32];
    member_name(n, ev->id, name, sizeof(name));
    if (ev->to == FD_ALIVE) {
        LOG_INFO(FD_LOG, "%s alive again (was %s, silent for %" PRIu64 " ms)", name,
                 fd_state_name(ev->from), ev->silence_ms);
        node_event(n, NODE_EVENT_ALIVE, "%s (was %s, silent for %" PRIu64 " ms)", name,
                   fd_state_name(ev->from), ev->silence_ms);
    } else if (ev->to == FD_SUSPECT) {
        LOG_INFO(FD_LOG, "%s suspect (phi %.1f, last heard %" PRIu64 " ms ago)", name, ev->phi,
                 ev->silence_ms);
        node_event(n, NODE_EVENT_SUSPECT, "%s (phi %.1f, last heard %" PRIu64 " ms ago)", name,
                   ev->phi, ev->silence_ms);
    } else {
        LOG_INFO(FD_LOG, "%s failed (phi %.1f, last heard %" PRIu64 " ms ago)", name, ev->phi,
                 ev->silence_ms);
        node_event(n, NODE_EVENT_FAILED, "%s (phi %.1f, last heard %" PRIu64 " ms ago)", name,
                   ev->phi, ev->silence_ms);
    }
}

/* The members are the transport's peers: add the new ones (alive, as if just heard), forget
 * those that left. */
static void sync_members(struct node_fd *nf, uint64_t now_ms)
{
    struct node *n = nf->n;
    for (uint32_t i = 0; i < n->peer_count; i++) {
        if (!fd_has_member(&nf->fd, n->peers[i])) {
            int rc = fd_add_member(&nf->fd, n->peers[i], now_ms);
            ASSERT(rc == 0); /* SYN_FD_MEMBERS_MAX is SYN_PEERS_MAX, ids are nonzero */
        }
    }
    for (uint32_t i = nf->fd.member_count; i-- > 0;) {
        raft_id id = nf->fd.members[i].id;
        bool peer = false;
        for (uint32_t j = 0; j < n->peer_count && !peer; j++) {
            peer = n->peers[j] == id;
        }
        if (!peer) {
            fd_remove_member(&nf->fd, id);
        }
    }
}

static void send_heartbeats(struct node_fd *nf, uint64_t now);

static void on_check(uv_check_t *check)
{
    struct node_fd *nf = check->data;
    uv_check_stop(&nf->check);
    uv_idle_stop(&nf->idle);
    nf->judge_due = false;
    struct fd_event events[SYN_FD_MEMBERS_MAX];
    uint32_t count = fd_tick(&nf->fd, uv_now(nf->n->loop), events);
    for (uint32_t i = 0; i < count; i++) {
        log_event(nf->n, &events[i]);
    }
}

static void on_idle(uv_idle_t *idle)
{
    (void)idle; /* only keeps the poll from blocking until on_check */
}

/* Every other run sends a heartbeat to every member; every run judges them after this
 * turn's I/O: if this loop was stalled, what the peers sent meanwhile is read before anyone
 * is judged (libuv runs timers before it polls). */
static void on_timer(uv_timer_t *timer)
{
    struct node_fd *nf = timer->data;
    struct node *n = nf->n;
    if (n->stopping) {
        return;
    }
    uint64_t now = uv_now(n->loop);
    if (nf->runs++ % 2 == 0) {
        send_heartbeats(nf, now);
    }
    if (!nf->judge_due) {
        nf->judge_due = true;
        uv_check_start(&nf->check, on_check);
        uv_idle_start(&nf->idle, on_idle);
    }
}

static void send_heartbeats(struct node_fd *nf, uint64_t now)
{
    struct node *n = nf->n;
    sync_members(nf, now);
    struct peer_heartbeat hb = {
        .node_id = n->cfg.id,
        .incarnation = nf->incarnation,
        .sequence = ++nf->sequence,
        .sent_ms = now,
    };
    for (uint32_t i = 0; i < nf->fd.member_count; i++) {
        int rc = transport_send_heartbeat(n->transport, nf->fd.members[i].id, &hb);
        ASSERT(rc == 0 || rc == SYN_EUNKNOWNNODE); /* a peer removed within this turn */
    }
}

void node_fd_on_heard(void *ctx, raft_id from, const struct peer_heartbeat *hb)
{
    struct node *n = ctx;
    struct node_fd *nf = n->fd;
    if (nf == NULL || n->stopping) {
        return;
    }
    uint64_t now = uv_now(n->loop);
    struct fd_event ev;
    int rc = hb != NULL ? fd_heartbeat(&nf->fd, from, now, &ev) : fd_heard(&nf->fd, from, now, &ev);
    if (rc == 1) {
        log_event(n, &ev);
    }
}

void node_fd_start(struct node *n)
{
    struct node_fd *nf = calloc(1, sizeof(*nf));
    if (nf == NULL) {
        LOG_ERROR(FD_LOG, "out of memory: this node runs without a failure detector");
        return;
    }
    nf->n = n;
    struct fd_config cfg = n->cfg.fd; /* checked by node_config_parse() */
    fd_init(&nf->fd, &cfg);
    /* Tells a restart from a lost heartbeat (docs/protocol.md, HEARTBEAT). */
    uv_timeval64_t tv;
    uv_gettimeofday(&tv);
    nf->incarnation = (uint64_t)tv.tv_sec * 1000u + (uint64_t)tv.tv_usec / 1000u;
    uv_timer_init(n->loop, &nf->timer);
    uv_check_init(n->loop, &nf->check);
    uv_idle_init(n->loop, &nf->idle);
    nf->timer.data = nf;
    nf->check.data = nf;
    nf->idle.data = nf;
    sync_members(nf, uv_now(n->loop));
    uint64_t half = cfg.heartbeat_interval_ms / 2 > 0 ? cfg.heartbeat_interval_ms / 2 : 1;
    uv_timer_start(&nf->timer, on_timer, 0, half);
    n->fd = nf;
}

static void on_closed(uv_handle_t *h)
{
    struct node_fd *nf = h->data;
    node_closed_one(nf->n);
}

void node_fd_stop(struct node *n)
{
    struct node_fd *nf = n->fd;
    if (nf == NULL) {
        return;
    }
    n->closing += 3;
    uv_close((uv_handle_t *)&nf->timer, on_closed);
    uv_close((uv_handle_t *)&nf->check, on_closed);
    uv_close((uv_handle_t *)&nf->idle, on_closed);
}

void node_fd_free(struct node *n)
{
    free(n->fd); /* after node_fd_stop()'s close callbacks: the node finished */
    n->fd = NULL;
}

int node_fd_status(const struct node *n, raft_id id, struct fd_status *out)
{
    if (n->fd == NULL) {
        return SYN_ESHUTDOWN;
    }
    return fd_status(&n->fd->fd, id, uv_now(n->loop), out);
}

void node_fd_member_info(const struct node *n, struct service_member *m)
{
    struct fd_status st;
    if (m->self) {
        m->health = "self";
        m->last_heard_ms = 0;
    } else if (node_fd_status(n, m->id, &st) == 0) {
        m->health = fd_state_name(st.state);
        m->last_heard_ms = st.silence_ms;
    } else {
        m->health = "unknown"; /* joined the configuration less than an interval ago */
        m->last_heard_ms = 0;
    }
}
