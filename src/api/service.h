/* service.h: what the client-facing servers (RESP, HTTP) need from the node, and nothing
 * more: submit a write (a state-machine command), wait for a linearizable read point, read
 * the store, and describe the cluster. The node implements it (src/node/node_service.c);
 * tests may implement it with a single in-process store.
 *
 * Threading: everything runs on the node's loop thread. Callbacks are never called from
 * inside the call that submitted them (they run from the loop later), so a caller may free
 * nothing it passed until its callback ran: a connection that closes with requests pending
 * stays allocated until each of their callbacks has run (keep a count).
 */
#ifndef SYN_API_SERVICE_H
#define SYN_API_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/histo.h"
#include "kv/kv_cmd.h"
#include "kv/kv_store.h"
#include "raft/raft.h"

/* status: 0, the write committed and was applied: result is its outcome (borrowed for the
 *            call);
 *         SYN_ETIMEDOUT, the cluster did not commit it within the request timeout: it may
 *            or may not apply later (reply "-TIMEOUT ...");
 *         SYN_ENOQUORUM, no leader could be reached for the whole timeout (reply
 *            "-NOQUORUM ..."): it may or may not apply later, too;
 *         SYN_ENOTLEADER / SYN_ESTALE, it was definitely not applied (a new leader replaced
 *            the entry): the client may retry;
 *         SYN_EIO / SYN_ENOSPC, this node cannot write any more (disk failure);
 *         SYN_ESHUTDOWN, the node is stopping. */
typedef void (*service_write_cb)(void *ctx, int status, const struct kv_result *result);
/* status: 0, the store now reflects every write that completed before the read was
 * submitted: read it now, synchronously, from service_kv(); or SYN_ETIMEDOUT,
 * SYN_ENOQUORUM, SYN_ESHUTDOWN as above. */
typedef void (*service_read_cb)(void *ctx, int status);

struct service_member {
    char name[32];
    raft_id id;
    char peer_addr[64];
    bool voter;
    bool leader;
    bool self;
    uint64_t match_index; /* known on the leader only; 0 elsewhere */
    const char *health;     /* this node's failure detector: "alive", "suspect", "failed",
                               "self" (or "unknown" for a member joined just now); static */
    uint64_t last_heard_ms; /* since this node last heard from it; 0 for self */
};

/* One of the node's recent events (synod monitor). */
struct service_event {
    uint64_t seq;     /* 1, 2, ... since the node started */
    uint64_t time_ms; /* unix ms */
    const char *kind; /* "suspect", "leader", ...: static */
    const char *text; /* a sentence: borrowed until the next event */
};

struct service_info {
    char name[32];            /* this node */
    raft_id id;
    const char *role;         /* "leader", "follower", "candidate", "pre-candidate" */
    uint64_t term;
    char leader_name[32];     /* "" when none is known */
    char leader_peer_addr[64];
    uint64_t commit_index;
    uint64_t applied_index;
    uint64_t last_index;
    uint64_t snapshot_index;
    bool serving;             /* false after a disk failure: writes are refused */
    bool known_leader;        /* a leader is known (Consul's X-Consul-KnownLeader) */
    uint64_t last_contact_ms; /* since the leader was last heard from; 0 on the leader */
    uint32_t member_count;
    struct service_member members[SYN_MEMBERS_MAX];
    /* Disk latency, as etcd exports it (wal_fsync, backend_commit): the Raft log's write and
     * fsync per Ready that must be durable, and the store's commit per applied batch. */
    struct syn_histo wal_sync;
    struct syn_histo store_commit;
};

/* The operations, implemented by the node (src/node/node_service.c) or by a test double. */
struct service_ops {
    /* Proposes cmd (a kv_cmd_encode_*() payload; borrowed for the call) through Raft; on a
     * follower it is forwarded to the leader. cb runs exactly once, later, unless this
     * returns an error: SYN_ETOOBIG, SYN_EBUSY (too many requests pending: reply
     * "-BUSY ..."), SYN_EIO, SYN_ESHUTDOWN. */
    int (*write)(void *impl, const uint8_t *cmd, size_t size, service_write_cb cb, void *ctx);
    /* Asks for a linearizable read point (ReadIndex). cb runs exactly once, later, unless
     * this returns an error (SYN_EBUSY, SYN_ESHUTDOWN). */
    int (*read)(void *impl, service_read_cb cb, void *ctx);
    /* The local store, for reads after read()'s callback, or for stale reads. */
    struct kv_store *(*kv)(void *impl);
    /* The clock to stamp commands and to judge expiry with: unix time in ms. */
    uint64_t (*now_ms)(void *impl);
    void (*info)(void *impl, struct service_info *info);
    /* Membership (thesis 4.1: one server at a time) and leadership transfer (thesis 3.10).
     * Leader only, and synchronous: 0 means the change is in the leader's log (it commits
     * like any entry; a transfer completes within an election timeout or is abandoned).
     * peer_addr is for ADD_*, NULL otherwise. SYN_ENOTLEADER (the caller asks info's
     * leader), SYN_ECONFCHANGE, SYN_ETRANSFER, SYN_EEXIST, SYN_EUNKNOWNNODE, SYN_EFULL,
     * SYN_EINVAL, with a sentence in msg. NULL in services that do not support them. */
    int (*member_change)(void *impl, enum raft_conf_op op, const char *name,
                         const char *peer_addr, char *msg, size_t msg_size);
    int (*transfer_leader)(void *impl, const char *name, char *msg, size_t msg_size);
    /* Sets the one observer of the store's changes (blocking queries); cb NULL clears it.
     * cb runs while entries are applied, for every key written or removed, and with
     * key.data NULL when the whole store was replaced (a snapshot installed). NULL in
     * services without blocking queries. */
    void (*watch)(void *impl, kv_change_cb cb, void *ctx);
    /* This node's recent events (src/node/node_events.h): up to max with a sequence number
     * above after, oldest first, into out; the count, and in *last the newest number held (0:
     * none yet). An after past *last (the node restarted since) reads from the oldest. NULL
     * in services without events (then events_watch is NULL too). */
    uint32_t (*events)(void *impl, uint64_t after, struct service_event *out, uint32_t max,
                       uint64_t *last);
    /* Sets the one observer of new events (cb NULL clears it): it runs after each event is
     * recorded, from anywhere on the loop thread, so it may only schedule work. */
    void (*events_watch)(void *impl, void (*cb)(void *ctx), void *ctx);
};

struct service {
    const struct service_ops *ops;
    void *impl;
};

static inline int service_write(struct service *s, const uint8_t *cmd, size_t size,
                                service_write_cb cb, void *ctx)
{
    return s->ops->write(s->impl, cmd, size, cb, ctx);
}

static inline int service_read(struct service *s, service_read_cb cb, void *ctx)
{
    return s->ops->read(s->impl, cb, ctx);
}

static inline struct kv_store *service_kv(struct service *s)
{
    return s->ops->kv(s->impl);
}

static inline uint64_t service_now_ms(struct service *s)
{
    return s->ops->now_ms(s->impl);
}

static inline void service_info(struct service *s, struct service_info *info)
{
    s->ops->info(s->impl, info);
}

#endif
