/* node_service.c: the node seen by its client servers (api/service.h). */
#include "node/node_internal.h"

#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "node/node_checks.h"

static int svc_write(void *impl, const uint8_t *cmd, size_t size, service_write_cb cb, void *ctx)
{
    return node_write_submit(impl, cmd, size, cb, ctx);
}

static int svc_read(void *impl, service_read_cb cb, void *ctx)
{
    return node_read_submit(impl, cb, ctx);
}

static struct kv_store *svc_kv(void *impl)
{
    struct node *n = impl;
    return n->kv;
}

uint64_t node_wall_ms(void)
{
    uv_timeval64_t tv;
    uv_gettimeofday(&tv);
    return (uint64_t)tv.tv_sec * 1000u + (uint64_t)tv.tv_usec / 1000u;
}

static uint64_t svc_now_ms(void *impl)
{
    (void)impl;
    return node_wall_ms();
}

static void member_info(struct node *n, const struct raft_status *st, const struct raft_member *m,
                        struct service_member *out)
{
    memset(out, 0, sizeof(*out));
    node_member_name(m, out->name, sizeof(out->name));
    node_member_addr(m, out->peer_addr, sizeof(out->peer_addr));
    out->id = m->id;
    out->voter = m->role == RAFT_VOTER;
    out->leader = m->id == st->leader;
    out->self = m->id == n->cfg.id;
    for (uint32_t i = 0; i < st->peer_count; i++) {
        if (st->peers[i].id == m->id) {
            out->match_index = st->peers[i].match_index;
        }
    }
    node_fd_member_info(n, out);
}

static void svc_info(void *impl, struct service_info *info)
{
    struct node *n = impl;
    struct raft_status st;
    raft_status(n->raft, &st);
    memset(info, 0, sizeof(*info));
    snprintf(info->name, sizeof(info->name), "%s", n->cfg.name);
    info->id = n->cfg.id;
    info->role = raft_role_name(st.role);
    info->term = st.term;
    info->commit_index = st.commit_index;
    info->applied_index = kv_applied_index(n->kv);
    info->last_index = st.last_index;
    info->snapshot_index = st.snapshot_index;
    info->serving = n->failed == 0 && !n->stopping;
    info->wal_sync = n->wal_sync;
    info->store_commit = n->store_commit;
    info->known_leader = st.leader != 0;
    if (st.role != RAFT_LEADER) {
        uint64_t heard = n->leader_heard_ms != 0 ? n->leader_heard_ms : n->start_ms;
        info->last_contact_ms = uv_now(n->loop) - heard;
    }
    for (uint32_t i = 0; i < st.conf.member_count; i++) {
        struct service_member *m = &info->members[info->member_count++];
        member_info(n, &st, &st.conf.members[i], m);
        if (m->leader) {
            snprintf(info->leader_name, sizeof(info->leader_name), "%s", m->name);
            snprintf(info->leader_peer_addr, sizeof(info->leader_peer_addr), "%s", m->peer_addr);
        }
    }
}

static int svc_member_change(void *impl, enum raft_conf_op op, const char *name,
                             const char *peer_addr, char *msg, size_t msg_size)
{
    struct node *n = impl;
    char addr[SYN_MEMBER_ADDR_SIZE_MAX + 1] = "";
    if (peer_addr != NULL) {
        char host[SYN_MEMBER_ADDR_SIZE_MAX];
        int port;
        int len = snprintf(addr, sizeof(addr), "%s@%s", name, peer_addr);
        if (len >= (int)sizeof(addr) || node_addr_split(peer_addr, host, sizeof(host), &port) != 0) {
            snprintf(msg, msg_size, "expected NAME and HOST:PORT (at most %u characters together)",
                     SYN_MEMBER_ADDR_SIZE_MAX - 1);
            return SYN_EINVAL;
        }
    }
    uint64_t index, term;
    int rc = raft_propose_conf(n->raft, op, node_id_from_name(name), addr[0] ? addr : NULL,
                               &index, &term);
    if (rc != 0) {
        snprintf(msg, msg_size, "%s", raft_errmsg(n->raft));
        return rc;
    }
    snprintf(msg, msg_size, "proposed at index %llu in term %llu", (unsigned long long)index,
             (unsigned long long)term);
    node_raft_kick(n);
    return 0;
}

static int svc_transfer_leader(void *impl, const char *name, char *msg, size_t msg_size)
{
    struct node *n = impl;
    int rc = raft_transfer_leader(n->raft, node_id_from_name(name));
    snprintf(msg, msg_size, "%s", rc == 0 ? "transfer started" : raft_errmsg(n->raft));
    node_raft_kick(n);
    return rc;
}

/* The store may be replaced (a snapshot installed): the node keeps the observer and hands
 * it to each store it opens (node_watch_attach). */
static void svc_watch(void *impl, kv_change_cb cb, void *ctx)
{
    struct node *n = impl;
    n->watch_cb = cb;
    n->watch_ctx = ctx;
    node_watch_attach(n);
}

/* The store's one observer: the service's (blocking queries) and the check runner. */
static void on_kv_change(void *ctx, enum kv_change what, struct kv_bytes key, uint64_t index)
{
    struct node *n = ctx;
    if (what == KV_CHANGE_REGISTRY || what == KV_CHANGE_ALL) {
        node_checks_touch(n);
    }
    node_event_kv_change(n, what, key, index);
    if (n->watch_cb != NULL) {
        n->watch_cb(n->watch_ctx, what, key, index);
    }
}

void node_watch_attach(struct node *n)
{
    if (n->kv != NULL) {
        kv_set_change_cb(n->kv, on_kv_change, n);
    }
}

void node_watch_replaced(struct node *n, uint64_t index)
{
    on_kv_change(n, KV_CHANGE_ALL, (struct kv_bytes){0}, index);
}

static uint32_t svc_events(void *impl, uint64_t after, struct service_event *out, uint32_t max,
                           uint64_t *last)
{
    struct node *n = impl;
    const struct node_event_rec *recs[SYN_NODE_EVENTS_MAX];
    uint32_t count = node_events_after(&n->events, after, recs,
                                       max < SYN_NODE_EVENTS_MAX ? max : SYN_NODE_EVENTS_MAX);
    for (uint32_t i = 0; i < count; i++) {
        out[i] = (struct service_event){.seq = recs[i]->seq,
                                        .time_ms = recs[i]->time_ms,
                                        .kind = node_event_kind_name(recs[i]->kind),
                                        .text = recs[i]->text};
    }
    *last = n->events.last_seq;
    return count;
}

static void svc_events_watch(void *impl, void (*cb)(void *ctx), void *ctx)
{
    struct node *n = impl;
    n->events.observer = cb;
    n->events.observer_ctx = ctx;
}

static const struct service_ops node_service_ops = {
    .write = svc_write,
    .read = svc_read,
    .kv = svc_kv,
    .now_ms = svc_now_ms,
    .info = svc_info,
    .member_change = svc_member_change,
    .transfer_leader = svc_transfer_leader,
    .watch = svc_watch,
    .events = svc_events,
    .events_watch = svc_events_watch,
};

void node_service_init(struct node *n)
{
    n->service = (struct service){.ops = &node_service_ops, .impl = n};
}
