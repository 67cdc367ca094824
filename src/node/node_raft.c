/* node_raft.c: the Raft driver's I/O for a real node: messages to the transport, Readies to
 * the WAL in the loop's thread pool (fsync off the loop), committed entries to the store in
 * one LMDB transaction per Ready, and the peers kept in step with the configuration. */
#include "node/node_internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/assert.h"
#include "base/err.h"
#include "log/log.h"

/* A member's addr in a configuration is "NAME@HOST:PORT". */
const char *node_member_name(const struct raft_member *m, char *out, size_t size)
{
    const char *at = memchr(m->addr, '@', m->addr_size);
    size_t n = at == NULL ? 0 : (size_t)(at - m->addr);
    if (n >= size) {
        n = size - 1;
    }
    memcpy(out, m->addr, n);
    out[n] = '\0';
    return out;
}

const char *node_member_addr(const struct raft_member *m, char *out, size_t size)
{
    const char *at = memchr(m->addr, '@', m->addr_size);
    size_t from = at == NULL ? 0 : (size_t)(at - m->addr) + 1;
    size_t n = m->addr_size - from;
    if (n >= size) {
        n = size - 1;
    }
    memcpy(out, m->addr + from, n);
    out[n] = '\0';
    return out;
}

const char *node_member_host(const struct raft_member *m, char *out, size_t size)
{
    char addr[SYN_MEMBER_ADDR_SIZE_MAX + 1];
    int port;
    if (node_addr_split(node_member_addr(m, addr, sizeof(addr)), out, size, &port) != 0) {
        out[0] = '\0';
    }
    return out;
}

/* Reads an outgoing snapshot chunk from the current snapshot body. */
static bool fill_chunk(struct node *n, struct raft_message *m)
{
    if (m->snapshot.index != n->snapshot_index || n->snapshot_path[0] == '\0') {
        return false; /* a newer snapshot replaced it: the core starts over */
    }
    int fd = open(n->snapshot_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    ssize_t got = pread(fd, n->chunk, m->data_size, (off_t)m->offset);
    close(fd);
    if (got != (ssize_t)m->data_size) {
        return false;
    }
    m->data = n->chunk;
    return true;
}

static void io_send(void *ctx, const struct raft_message *msg)
{
    struct node *n = ctx;
    struct raft_message m = *msg;
    if (m.type == RAFT_MSG_SNAPSHOT && m.data == NULL && m.data_size > 0 && !fill_chunk(n, &m)) {
        return;
    }
    int rc = transport_send_raft(n->transport, &m);
    if (rc != 0 && rc != SYN_EFULL) {
        LOG_DEBUG("raft", "send %s to %llx: %s", raft_msg_type_name(m.type),
                  (unsigned long long)m.to, syn_strerror(rc));
    }
}

static void persist_work(uv_work_t *req)
{
    struct node *n = req->data;
    uint64_t start = uv_hrtime();
    int rc = wal_persist(n->wal, n->persist_rd);
    if (rc == 0 && n->cfg.fsync) {
        rc = wal_sync(n->wal);
    }
    n->persist_ns = uv_hrtime() - start;
    n->persist_rc = rc;
}

/* A snapshot that arrived from the leader is durable: the store becomes it. */
static int install_snapshot(struct node *n, const struct raft_snapshot_meta *meta)
{
    const char *path = wal_snapshot_path(n->wal);
    if (path == NULL) {
        return SYN_ECORRUPT;
    }
    char err[KV_ERRMSG_SIZE];
    kv_close(n->kv);
    n->kv = NULL;
    int rc = kv_snapshot_restore(n->kv_dir, path, err);
    if (rc == 0) {
        rc = kv_open(n->kv_dir, &node_kv_options, &n->kv, err);
    }
    if (rc != 0) {
        LOG_ERROR("node", "installing snapshot %llu: %s", (unsigned long long)meta->index, err);
        return rc;
    }
    node_watch_attach(n);
    node_watch_replaced(n, meta->index);
    n->snapshot_index = meta->index;
    snprintf(n->snapshot_path, sizeof(n->snapshot_path), "%s", path);
    LOG_INFO("node", "installed the leader's snapshot at index %llu (%llu bytes)",
             (unsigned long long)meta->index, (unsigned long long)meta->size);
    return 0;
}

static void persist_done(uv_work_t *req, int status)
{
    struct node *n = req->data;
    n->persist_busy = false;
    int rc = status < 0 ? SYN_EIO : n->persist_rc;
    if (status == 0) {
        syn_histo_add(&n->wal_sync, n->persist_ns);
    }
    if (rc == 0 && n->persist_rd->snapshot_install) {
        rc = install_snapshot(n, &n->persist_rd->snapshot);
    }
    if (rc != 0) {
        node_fail_disk(n, rc, wal_errmsg(n->wal));
        node_maybe_finish(n);
        return; /* the Ready stays unfinished: nothing it promised is sent */
    }
    node_snapshot_wal_free(n);
    if (n->stopping) {
        node_maybe_finish(n);
        return;
    }
    raft_driver_persisted(&n->driver);
    node_raft_run(n);
}

void node_persist_start(struct node *n)
{
    n->persist_deferred = false;
    n->persist_work.data = n;
    int rc = uv_queue_work(n->loop, &n->persist_work, persist_work, persist_done);
    ASSERT(rc == 0);
}

static int io_persist(void *ctx, const struct raft_ready *rd)
{
    struct node *n = ctx;
    ASSERT(!n->persist_busy);
    if (rd->soft_state_changed && rd->leader != n->last_leader) {
        LOG_INFO("raft", "%s in term %llu, leader %llx", raft_role_name(rd->role),
                 (unsigned long long)raft_term(n->raft), (unsigned long long)rd->leader);
        node_event_leader(n, raft_role_name(rd->role), rd->leader);
        n->last_leader = rd->leader;
    }
    n->persist_rd = rd;
    n->persist_busy = true;
    /* The WAL is the snapshot save's; an install replaces the store a copy is reading. */
    if (n->snap_saving || (rd->snapshot_install && n->snap_busy)) {
        n->persist_deferred = true; /* node_snapshot.c starts it when the snapshot ends */
    } else {
        node_persist_start(n);
    }
    return RAFT_DRIVER_PENDING;
}

static void io_apply(void *ctx, const struct raft_entry *e)
{
    struct node *n = ctx;
    if (n->failed != 0 || e->index <= kv_applied_index(n->kv)) {
        return; /* applied before a restart: the store kept it */
    }
    if (!n->kv_batch_open) {
        int rc = kv_apply_begin(n->kv);
        if (rc != 0) {
            node_fail_disk(n, rc, kv_errmsg(n->kv));
            return;
        }
        n->kv_batch_open = true;
    }
    raft_id origin = 0;
    uint32_t slot = 0;
    uint64_t seq = 0;
    struct raft_entry inner = *e;
    node_envelope_decode(e, &origin, &slot, &seq, &inner);
    struct kv_result res;
    kv_result_init(&res);
    int rc = kv_apply(n->kv, &inner, &res);
    if (rc != 0) {
        kv_result_free(&res);
        node_fail_disk(n, rc, kv_errmsg(n->kv));
        return;
    }
    node_requests_applied(n, origin, slot, seq, &res); /* takes res */
}

static void io_applied(void *ctx)
{
    struct node *n = ctx;
    if (!n->kv_batch_open) {
        return;
    }
    n->kv_batch_open = false;
    uint64_t start = uv_hrtime();
    int rc = kv_apply_commit(n->kv);
    syn_histo_add(&n->store_commit, uv_hrtime() - start);
    if (rc != 0) {
        node_fail_disk(n, rc, kv_errmsg(n->kv));
        return;
    }
    node_requests_flush(n);
}

static void io_read(void *ctx, uint64_t request_id, uint64_t index)
{
    (void)index;
    node_requests_read_ready(ctx, request_id);
}

void node_raft_io_init(struct node *n)
{
    n->io = (struct raft_driver_io){
        .ctx = n,
        .send = io_send,
        .persist = io_persist,
        .apply = io_apply,
        .read = io_read,
        .applied = io_applied,
    };
    raft_driver_init(&n->driver, n->raft, &n->io);
}

static bool conf_has(const struct raft_conf *conf, raft_id id)
{
    return raft_conf_find(conf, id) != NULL;
}

/* Dials every member of the latest configuration; forgets those that left. A node that
 * joins keeps its --initial-cluster peers until a configuration names it. */
void node_sync_peers(struct node *n)
{
    struct raft_status st;
    raft_status(n->raft, &st);
    if (st.conf_index == n->conf_index_seen && n->peer_count > 0) {
        return;
    }
    n->conf_index_seen = st.conf_index;
    if (st.conf.member_count == 0) {
        return;
    }
    node_event_members(n);
    uint32_t kept = 0;
    for (uint32_t i = 0; i < n->peer_count; i++) {
        if (conf_has(&st.conf, n->peers[i])) {
            n->peers[kept++] = n->peers[i];
        } else {
            transport_remove_peer(n->transport, n->peers[i]);
        }
    }
    n->peer_count = kept;
    for (uint32_t i = 0; i < st.conf.member_count; i++) {
        const struct raft_member *m = &st.conf.members[i];
        if (m->id == n->cfg.id) {
            continue;
        }
        char addr[SYN_MEMBER_ADDR_SIZE_MAX + 1];
        node_member_addr(m, addr, sizeof(addr));
        int rc = transport_set_peer(n->transport, m->id, addr);
        if (rc != 0) {
            LOG_WARN("node", "peer %s: %s", addr, syn_strerror(rc));
            continue;
        }
        bool known = false;
        for (uint32_t j = 0; j < n->peer_count; j++) {
            known = known || n->peers[j] == m->id;
        }
        if (!known && n->peer_count < SYN_PEERS_MAX) {
            n->peers[n->peer_count++] = m->id;
        }
    }
}

void node_raft_run(struct node *n)
{
    if (n->failed != 0 || n->stopping) {
        return;
    }
    int rc = raft_driver_run(&n->driver);
    if (rc < 0) {
        node_fail_disk(n, rc, "persist");
        return;
    }
    node_sync_peers(n);
}

static void on_raft_check(uv_check_t *check)
{
    struct node *n = check->data;
    uv_check_stop(&n->raft_check);
    uv_idle_stop(&n->raft_idle);
    n->raft_due = false;
    node_raft_run(n);
}

static void on_raft_idle(uv_idle_t *idle)
{
    (void)idle; /* only keeps the poll from blocking until on_raft_check */
}

void node_raft_handles_init(struct node *n)
{
    uv_check_init(n->loop, &n->raft_check);
    uv_idle_init(n->loop, &n->raft_idle);
    n->raft_check.data = n;
    n->raft_idle.data = n;
}

void node_raft_kick(struct node *n)
{
    if (!n->handles_started) {
        node_raft_run(n);
        return;
    }
    if (!n->raft_due && !n->stopping) {
        n->raft_due = true;
        uv_check_start(&n->raft_check, on_raft_check);
        uv_idle_start(&n->raft_idle, on_raft_idle);
    }
}

void node_on_raft_message(void *ctx, const struct raft_message *msg)
{
    struct node *n = ctx;
    if (n->stopping || n->failed != 0) {
        return;
    }
    int rc = raft_step(n->raft, msg);
    if (rc == 0 && msg->from == raft_leader(n->raft)) {
        n->leader_heard_ms = uv_now(n->loop);
    }
    if (rc == SYN_EBADMSG || rc == SYN_EPROTO) {
        LOG_WARN("raft", "%s from %llx refused: %s", raft_msg_type_name(msg->type),
                 (unsigned long long)msg->from, raft_errmsg(n->raft));
    }
    node_raft_kick(n);
}
