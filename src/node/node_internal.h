/* node_internal.h: the node's state and the functions its files share. The node owns the
 * loop's handles, the Raft core and its driver, the WAL, the store, the transport and the
 * client servers (STYLE 11: no hidden globals). */
#ifndef SYN_NODE_INTERNAL_H
#define SYN_NODE_INTERNAL_H

#include <uv.h>

#include "api/service.h"
#include "base/buf.h"
#include "base/histo.h"
#include "fd/fd.h"
#include "kv/kv_store.h"
#include "net/transport.h"
#include "node/config.h"
#include "node/node.h"
#include "node/node_events.h"
#include "raft/raft.h"
#include "raft/raft_driver.h"
#include "wal/wal.h"

#define NODE_PENDING_MAX 65536u /* client requests waiting on one node (writes + reads) */
#define NODE_ERRMSG_SIZE 512u

/* A client request waiting on this node. Slots sit on a list in deadline order (the timeout
 * is the same for all), so the tick looks only at the head. */
enum node_req_kind { NODE_REQ_FREE = 0, NODE_REQ_WRITE = 1, NODE_REQ_READ = 2 };
enum node_req_state {
    NODE_REQ_WAITING = 0, /* no leader known yet: retried every tick */
    NODE_REQ_FORWARDED,   /* write sent to the leader, waiting for its answer */
    NODE_REQ_PROPOSED,    /* write in the log (here or at the leader): wait for apply */
    NODE_REQ_ASKED,       /* read: raft_read_index() took it */
};

struct node_req {
    uint8_t kind;  /* enum node_req_kind */
    uint8_t state; /* enum node_req_state */
    bool had_leader;   /* a leader was known at some point: TIMEOUT rather than NOQUORUM */
    raft_id via;       /* FORWARDED / ASKED: the leader it went to */
    uint32_t prev;     /* deadline list; NODE_NONE at the ends */
    uint32_t next;
    uint64_t seq;      /* tells this request from earlier ones in the same slot */
    uint64_t deadline_ms;
    service_write_cb write_cb;
    service_read_cb read_cb;
    void *ctx;
    uint8_t *payload;  /* write: the entry payload (envelope + command) until proposed */
    uint32_t payload_size;
};

#define NODE_NONE UINT32_MAX

/* A write's completion, run once the store's batch committed. */
struct node_done {
    uint32_t slot;
    uint64_t seq;
    struct kv_result result;
};

/* How the node opens its store: write_map (LMDB writes through its map: applies about twice
 * as fast; the data file's blocks are reserved ahead, so a full disk is still an error). */
extern const struct kv_options node_kv_options;

struct node {
    struct node_config cfg;
    uv_loop_t *loop;
    char errmsg[NODE_ERRMSG_SIZE];
    uint64_t start_ms;

    uv_timer_t tick_timer;
    uv_check_t raft_check; /* runs the driver once per loop turn, after the turn's I/O */
    uv_idle_t raft_idle;   /* while a run is due: the loop polls without blocking */
    bool raft_due;
    uv_signal_t sig_term;
    uv_signal_t sig_int;
    bool stopping;
    bool handles_started;
    bool free_on_stop;   /* a failed start: the node frees itself once closed */
    bool finished;
    void (*stop_done)(void *ctx);
    void *stop_ctx;
    uint32_t closing; /* handles and servers still closing */

    struct wal *wal;
    struct kv_store *kv;
    bool kv_batch_open;
    char wal_dir[NODE_PATH_SIZE_MAX + 16];
    char kv_dir[NODE_PATH_SIZE_MAX + 16];

    struct raft *raft;
    struct raft_driver driver;
    struct raft_driver_io io;
    uv_work_t persist_work;
    const struct raft_ready *persist_rd;
    int persist_rc;
    uint64_t persist_ns;          /* the persist's write and sync, timed on the pool thread */
    struct syn_histo wal_sync;    /* /metrics: those times, recorded on the loop */
    struct syn_histo store_commit; /* /metrics: kv_apply_commit() times */
    bool persist_busy;     /* the Ready persist_rd waits on the disk (maybe deferred) */
    bool persist_deferred; /* it waits for the snapshot save to leave the WAL */

    /* Snapshots (node_snapshot.c): copy the store in the thread pool, then save it in the
     * WAL (never while a persist runs: WAL calls must not overlap), then compact. */
    uv_work_t snap_work;
    bool snap_busy;
    bool snap_saving;      /* the WAL part runs */
    bool snap_save_waiting; /* the copy is ready; the save waits for the persist */
    int snap_rc;
    uint64_t snap_size;
    uint64_t snap_copy_index;
    struct raft_snapshot_meta snap_meta;
    char snap_tmp[NODE_PATH_SIZE_MAX + 32];
    char snap_err[KV_ERRMSG_SIZE];
    int failed; /* a disk error stopped writes; 0 while serving */
    raft_id last_leader;
    uint64_t leader_heard_ms; /* uv_now() when a message from the leader last arrived */
    kv_change_cb watch_cb;    /* the service's observer of the store (blocking queries) */
    void *watch_ctx;
    struct node_checks *checks; /* the health checks this agent runs (node_checks.c) */
    struct node_events events;  /* recent events, for synod monitor (node_events.c) */
    uint64_t conf_index_seen;
    raft_id peers[SYN_PEERS_MAX]; /* the transport's peers, to forget those that left */
    uint32_t peer_count;

    struct transport *transport;
    struct node_fd *fd; /* the failure detector (node_fd.c) */
    struct service service;
    struct resp_server *resp;
    struct http_server *http;
    struct node_dns *dns; /* NULL without --dns-addr (node_dns.c) */
    bool health_publishing; /* a NODE command is in flight (node_health.c) */
    struct node_services *services; /* --service-file definitions (node_services.c) */

    /* Pending client requests (node_requests.c). */
    struct node_req *reqs; /* NODE_PENDING_MAX slots */
    uint32_t *free_slots;  /* a stack of free slot numbers */
    uint32_t free_count;
    uint32_t head;         /* oldest deadline */
    uint32_t tail;
    uint64_t seq;
    bool any_waiting;      /* some request waits for a leader: the tick retries */
    raft_id scan_leader;   /* the leader when the tick last looked at every request */
    struct node_done *done; /* completions of the current batch */
    uint32_t done_count;
    uint32_t done_cap;

    struct syn_buf scratch;    /* encoding FORWARD bodies */
    uint8_t *chunk;            /* a snapshot chunk being sent */
    uint64_t snapshot_index;   /* the current snapshot (for sending chunks) */
    char snapshot_path[NODE_PATH_SIZE_MAX + 64];
};

/* node.c */
uint64_t node_now_ms(const struct node *n);
void node_fail_disk(struct node *n, int rc, const char *what);
int node_raft_create(struct node *n, const struct wal_recovery *rec);

/* node_stop.c */
void node_closed_one(struct node *n);
void node_maybe_finish(struct node *n);
void node_release(struct node *n);

/* node_raft.c */
void node_raft_io_init(struct node *n);
void node_raft_run(struct node *n);
/* Runs the driver at the end of this loop turn: the messages, proposals and reads that
 * arrive in one turn share one Ready, one AppendEntries per follower and one store commit. */
void node_raft_kick(struct node *n);
void node_raft_handles_init(struct node *n);
/* Makes the node the current store's observer of changes (after it is opened): it tells the
 * check runner and the service's observer (blocking queries). */
void node_watch_attach(struct node *n);
/* The whole store was replaced by a snapshot at index. */
void node_watch_replaced(struct node *n, uint64_t index);
void node_sync_peers(struct node *n);
void node_on_raft_message(void *ctx, const struct raft_message *msg);
const char *node_member_name(const struct raft_member *m, char *out, size_t size);
const char *node_member_addr(const struct raft_member *m, char *out, size_t size);
/* The host of a member's peer address ("" when it has none). */
const char *node_member_host(const struct raft_member *m, char *out, size_t size);

/* node_requests.c */
int node_requests_init(struct node *n);
void node_requests_free(struct node *n);
int node_write_submit(struct node *n, const uint8_t *cmd, size_t size, service_write_cb cb,
                      void *ctx);
int node_read_submit(struct node *n, service_read_cb cb, void *ctx);
void node_requests_tick(struct node *n);
/* Splits a NORMAL entry's payload into the request envelope and the command; false when it
 * carries none (the whole payload is then the command). */
bool node_envelope_decode(const struct raft_entry *e, raft_id *origin, uint32_t *slot,
                          uint64_t *seq, struct raft_entry *inner);
/* The entry that carried request (origin, slot, seq) was applied with result res, which
 * this takes. */
void node_requests_applied(struct node *n, raft_id origin, uint32_t slot, uint64_t seq,
                           struct kv_result *res);
void node_requests_flush(struct node *n);
void node_requests_read_ready(struct node *n, uint64_t request_id);
void node_requests_fail_all(struct node *n, int status);
void node_on_forward(void *ctx, raft_id from, int kind, uint64_t request_id,
                     const uint8_t *body, size_t size);

/* node_snapshot.c */
void node_snapshot_maybe(struct node *n);
/* The WAL is free (a persist ended): a snapshot save that waited starts. */
void node_snapshot_wal_free(struct node *n);
/* A persist may start only while no snapshot save uses the WAL. */
void node_persist_start(struct node *n);

/* node_service.c */
void node_service_init(struct node *n);
/* The wall clock, unix ms: what commands are stamped with (expiry, registry times). */
uint64_t node_wall_ms(void);

/* node_services.c: --service-file definitions: read and checked at start (0, or an error
 * with a sentence in err), registered once a leader is known (tick: from the check timer). */
int node_services_load(struct node *n, char *err, size_t err_size);
void node_services_tick(struct node *n);
void node_services_free(struct node *n);

/* node_health.c: on the leader, writes its failure detector's view of each member into the
 * registry when it differs (a NODE command, one at a time). */
void node_health_publish(struct node *n);

/* node_dns.c: the DNS server on --dns-addr, answering from the registry (if configured).
 * 0 or an error with n->errmsg set; close is counted in n->closing. */
int node_dns_start(struct node *n);
void node_dns_close(struct node *n);

/* node_bootstrap.c: the configuration a founding member starts from: DATA_DIR/cluster, written
 * from --initial-cluster when the directory is new. 0, or SYN_ECORRUPT / SYN_EIO with a
 * sentence in err. */
int node_bootstrap_conf(struct node *n, struct raft_conf *conf, char *err, size_t err_size);

/* node_fd.c: the failure detector's shell (docs/failure-detection.md) */
/* Starts heartbeats to every peer and the judgement of each (once the handles are up). */
void node_fd_start(struct node *n);
/* Closes its handles (counted in n->closing); node_fd_free() once the node finished. */
void node_fd_stop(struct node *n);
void node_fd_free(struct node *n);
/* The transport's on_heard: any frame from peer from (hb: a HEARTBEAT's content, or NULL). */
void node_fd_on_heard(void *ctx, raft_id from, const struct peer_heartbeat *hb);
/* How this node sees member id: out->state (enum fd_state: FD_ALIVE, FD_SUSPECT, FD_FAILED),
 * out->phi, out->silence_ms (since it was last heard). 0; SYN_ENOENT (not a peer: self, or
 * a member that joined less than a heartbeat interval ago); SYN_ESHUTDOWN (no detector). */
int node_fd_status(const struct node *n, raft_id id, struct fd_status *out);
/* Fills m->health ("alive", "suspect", "failed", "self", "unknown") and m->last_heard_ms from
 * m->id and m->self. */
void node_fd_member_info(const struct node *n, struct service_member *m);

#endif
