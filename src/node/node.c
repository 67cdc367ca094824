/* node.c: starting a node (recovering its disk, binding its addresses), its tick, and
 * stopping it cleanly. */
#include "node/node_internal.h"
#include "node/node_checks.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/assert.h"
#include "base/err.h"
#include "log/log.h"
#include "node/node_servers.h"

uint64_t node_now_ms(const struct node *n)
{
    return uv_now(n->loop);
}

bool node_stopping(const struct node *n)
{
    return n->stopping;
}

__attribute__((format(printf, 3, 4))) static int node_fail(struct node *n, int rc,
                                                            const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(n->errmsg, sizeof(n->errmsg), fmt, ap);
    va_end(ap);
    return rc;
}

/* The disk failed (ENOSPC, EIO): this node stops accepting writes and says why. Nothing it
 * did not make durable was acknowledged; a restart recovers what was synced. */
void node_fail_disk(struct node *n, int rc, const char *what)
{
    if (n->failed != 0) {
        return;
    }
    n->failed = rc;
    LOG_ERROR("node", "disk failure, no longer accepting writes: %s (%s)", what,
              syn_strerror(rc));
    node_requests_fail_all(n, rc);
}

/* mkdir -p: creates path and its missing parents. */
static int make_dir(const char *path)
{
    char buf[NODE_PATH_SIZE_MAX + 16];
    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
        return SYN_EINVAL;
    }
    for (char *p = buf + 1; *p != '\0'; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
                return SYN_EIO;
            }
            *p = '/';
        }
    }
    if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
        return SYN_EIO;
    }
    struct stat st;
    return stat(buf, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : SYN_EIO;
}

const struct kv_options node_kv_options = {.write_map = true};

/* The store must hold at least the snapshot's state; if it cannot open or lags behind the
 * snapshot (a machine crash tore it, or it is new), it is rebuilt from the snapshot. */
static int open_store(struct node *n, uint64_t snapshot_index)
{
    char err[KV_ERRMSG_SIZE] = "";
    int rc = kv_open(n->kv_dir, &node_kv_options, &n->kv, err);
    if (rc == 0 && kv_applied_index(n->kv) >= snapshot_index) {
        return 0;
    }
    if (rc != 0 && rc != SYN_ECORRUPT) {
        return node_fail(n, rc, "store %s: %s", n->kv_dir, err);
    }
    if (n->kv != NULL) {
        kv_close(n->kv);
        n->kv = NULL;
    }
    const char *snap = wal_snapshot_path(n->wal);
    if (snap == NULL) {
        return node_fail(n, SYN_ECORRUPT, "store %s: %s, and there is no snapshot to rebuild it",
                         n->kv_dir, err);
    }
    LOG_WARN("node", "rebuilding the store from the snapshot at index %llu (%s)",
             (unsigned long long)snapshot_index, err[0] ? err : "the store lagged behind");
    rc = kv_snapshot_restore(n->kv_dir, snap, err);
    if (rc == 0) {
        rc = kv_open(n->kv_dir, &node_kv_options, &n->kv, err);
    }
    return rc == 0 ? 0 : node_fail(n, rc, "store %s: %s", n->kv_dir, err);
}

static int open_storage(struct node *n)
{
    snprintf(n->wal_dir, sizeof(n->wal_dir), "%s/wal", n->cfg.data_dir);
    snprintf(n->kv_dir, sizeof(n->kv_dir), "%s/kv", n->cfg.data_dir);
    if (make_dir(n->cfg.data_dir) != 0 || make_dir(n->wal_dir) != 0 || make_dir(n->kv_dir) != 0) {
        return node_fail(n, SYN_EIO, "data directory %s: %s", n->cfg.data_dir, strerror(errno));
    }
    struct wal_recovery rec = {0};
    int rc = wal_open(n->wal_dir, NULL, &n->wal, &rec);
    if (rc != 0) {
        node_fail(n, rc, "write-ahead log %s: %s", n->wal_dir, rec.errmsg);
        wal_recovery_free(&rec);
        return rc;
    }
    if (rec.repaired) {
        LOG_WARN("node", "write-ahead log repaired: %s", rec.note);
    }
    rc = open_store(n, rec.snapshot.index);
    if (rc == 0) {
        rc = node_raft_create(n, &rec);
    }
    wal_recovery_free(&rec);
    return rc;
}

int node_raft_create(struct node *n, const struct wal_recovery *rec)
{
    struct raft_restore restore;
    wal_recovery_restore(rec, &restore);
    /* A founding member that has never taken a snapshot starts from the bootstrap
     * configuration (node_bootstrap.c), then the CONF entries of its log. */
    if (restore.snapshot.index == 0 && restore.snapshot.conf.member_count == 0 && !n->cfg.join) {
        char err[NODE_ERRMSG_SIZE];
        int brc = node_bootstrap_conf(n, &restore.snapshot.conf, err, sizeof(err));
        if (brc != 0) {
            return node_fail(n, brc, "%s", err);
        }
    }
    struct raft_config rc_cfg;
    raft_config_default(&rc_cfg, n->cfg.id);
    rc_cfg.election_ticks = n->cfg.election_ticks;
    rc_cfg.heartbeat_ticks = n->cfg.heartbeat_ticks;
    rc_cfg.seed = uv_hrtime() ^ n->cfg.id ^ ((uint64_t)getpid() << 32);
    char why[160];
    int rc = raft_validate(&rc_cfg, &restore, why, sizeof(why));
    if (rc == 0) {
        rc = raft_create(&n->raft, &rc_cfg, &restore);
        snprintf(why, sizeof(why), "%s", syn_strerror(rc));
    }
    if (rc != 0) {
        return node_fail(n, rc, "recovered Raft state refused: %s", why);
    }
    n->snapshot_index = rec->snapshot.index;
    const char *snap = wal_snapshot_path(n->wal);
    snprintf(n->snapshot_path, sizeof(n->snapshot_path), "%s", snap == NULL ? "" : snap);
    LOG_INFO("node", "%s recovered: term %llu, snapshot at %llu, %u log entries, store at %llu",
             n->cfg.name, (unsigned long long)rec->hard_state.term,
             (unsigned long long)rec->snapshot.index, rec->entry_count,
             (unsigned long long)kv_applied_index(n->kv));
    return 0;
}

static void on_tick(uv_timer_t *t)
{
    struct node *n = t->data;
    if (n->stopping) {
        return;
    }
    raft_tick(n->raft);
    node_requests_tick(n);
    node_raft_run(n);
    node_snapshot_maybe(n);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct node *n = s->data;
    LOG_INFO("node", "signal %d: stopping", signum);
    node_stop(n, NULL, NULL);
}

static int start_network(struct node *n)
{
    struct transport_config tc = {
        .self = n->cfg.id,
        .cluster_id = n->cfg.cluster_id,
        .listen_addr = n->cfg.peer_addr,
    };
    struct transport_callbacks cbs = {
        .ctx = n,
        .on_raft = node_on_raft_message,
        .on_forward = node_on_forward,
        .on_heard = node_fd_on_heard,
    };
    char err[TRANSPORT_ERRMSG_SIZE] = "";
    int rc = transport_start(n->loop, &tc, &cbs, &n->transport, err);
    if (rc != 0) {
        return node_fail(n, rc, "peer address %s: %s", n->cfg.peer_addr, err);
    }
    for (uint32_t i = 0; n->cfg.join && i < n->cfg.initial_count; i++) {
        const struct node_member *m = &n->cfg.initial[i];
        if (m->id != n->cfg.id && transport_set_peer(n->transport, m->id, m->peer_addr) == 0 &&
            n->peer_count < SYN_PEERS_MAX) {
            n->peers[n->peer_count++] = m->id; /* the members that will add this node */
        }
    }
    node_sync_peers(n);
    return node_servers_start(n);
}

static int start_handles(struct node *n)
{
    node_raft_handles_init(n);
    uv_timer_init(n->loop, &n->tick_timer);
    n->tick_timer.data = n;
    uv_timer_start(&n->tick_timer, on_tick, n->cfg.tick_ms, n->cfg.tick_ms);
    node_fd_start(n);
    uv_signal_init(n->loop, &n->sig_term);
    uv_signal_init(n->loop, &n->sig_int);
    n->sig_term.data = n;
    n->sig_int.data = n;
    uv_signal_start(&n->sig_term, on_signal, SIGTERM);
    uv_signal_start(&n->sig_int, on_signal, SIGINT);
    n->handles_started = true;
    return 0;
}

int node_start(uv_loop_t *loop, const struct node_config *cfg, struct node **out, char *errmsg)
{
    *out = NULL;
    struct node *n = calloc(1, sizeof(*n));
    if (n == NULL) {
        snprintf(errmsg, NODE_ERRMSG_SIZE, "out of memory");
        return SYN_ENOMEM;
    }
    n->cfg = *cfg;
    n->loop = loop;
    n->start_ms = uv_now(loop);
    n->chunk = malloc(SYN_SNAPSHOT_CHUNK_SIZE_MAX);
    syn_buf_init(&n->scratch, SYN_FRAME_SIZE_MAX);
    int rc = n->chunk == NULL ? SYN_ENOMEM : node_requests_init(n);
    if (rc == 0) {
        rc = open_storage(n);
    }
    if (rc == 0) {
        rc = node_services_load(n, n->errmsg, sizeof(n->errmsg));
    }
    if (rc == 0) {
        node_raft_io_init(n);
        node_service_init(n);
        rc = start_network(n);
    }
    if (rc != 0) {
        snprintf(errmsg, NODE_ERRMSG_SIZE, "%s", n->errmsg[0] ? n->errmsg : syn_strerror(rc));
        n->free_on_stop = true; /* what started closes asynchronously, then frees the node */
        node_stop(n, NULL, NULL);
        return rc;
    }
    start_handles(n);
    node_watch_attach(n);
    rc = node_checks_start(n);
    if (rc != 0) {
        snprintf(errmsg, NODE_ERRMSG_SIZE, "starting the health checks: %s", syn_strerror(rc));
        n->free_on_stop = true;
        node_stop(n, NULL, NULL);
        return rc;
    }
    node_raft_run(n);
    LOG_INFO("node", "%s serving: peers on %s, RESP on %s, HTTP on %s", n->cfg.name,
             n->cfg.peer_addr, n->cfg.resp_addr, n->cfg.http_addr);
    node_event(n, NODE_EVENT_START, "serving in term %llu, store at index %llu",
               (unsigned long long)raft_term(n->raft), (unsigned long long)kv_applied_index(n->kv));
    *out = n;
    return 0;
}
