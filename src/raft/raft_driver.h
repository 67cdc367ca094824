/* raft_driver.h: the one loop that carries out a Raft core's Ready in the right order.
 *
 * Both shells use it: the daemon (libuv, WAL with fsync) and the simulator. The ordering
 * rule lives here and nowhere else (STYLE 2):
 *   send the messages that may go early -> apply the committed entries already durable here
 *   -> persist -> send the messages that promise durable state -> apply the other committed
 *   entries -> advance -> serve reads whose index is applied.
 * While a persist is in progress the driver keeps sending early messages and applying
 * entries that became committed and are durable here (raft_flush_committed), so a slow
 * disk delays neither heartbeats nor replies that need nothing from it.
 * Persisting may be asynchronous: the shell returns RAFT_DRIVER_PENDING from persist and
 * calls raft_driver_persisted() when the disk is done. Meanwhile the core keeps taking
 * inputs; their outputs form the next Ready, so writes that arrive together share a sync
 * (group commit).
 */
#ifndef SYN_RAFT_DRIVER_H
#define SYN_RAFT_DRIVER_H

#include "raft/raft.h"

#define RAFT_DRIVER_PENDING 1

struct raft_driver_io {
    void *ctx;
    /* Hands one message to the network. msg is borrowed for the call. */
    void (*send)(void *ctx, const struct raft_message *msg);
    /* Makes rd's hard state, snapshot chunk (and install) and entries durable, in that order.
     * Called only for Readies with must_sync set. Returns 0 when durable now,
     * RAFT_DRIVER_PENDING when raft_driver_persisted() will be called later, or a negative
     * code: the node can no longer persist (disk full, I/O error) and must stop accepting
     * writes. */
    int (*persist)(void *ctx, const struct raft_ready *rd);
    /* Applies one committed entry (NORMAL, NOOP or CONF) to the state machine. */
    void (*apply)(void *ctx, const struct raft_entry *entry);
    /* A linearizable read may now be served from the state machine. */
    void (*read)(void *ctx, uint64_t request_id, uint64_t index);
    /* Optional: every committed entry of this Ready was applied (a batch may end here). */
    void (*applied)(void *ctx);
    /* Optional: sees each Ready as it is taken, before anything of it is carried out
     * (traces; persist alone misses the Readies that need no sync). */
    void (*observe)(void *ctx, const struct raft_ready *rd);
};

struct raft_driver {
    struct raft *raft;                /* borrowed */
    const struct raft_driver_io *io;  /* borrowed */
    struct raft_ready rd;
    bool persisting;                  /* rd is taken and waits on the disk */
    int failed;                       /* the first persist error; 0 while healthy */
    uint64_t applied;                 /* the last entry handed to apply() */
    uint32_t read_head;
    uint32_t read_count;
    struct raft_read_state reads[SYN_READS_PENDING_MAX]; /* waiting for apply */
};

void raft_driver_init(struct raft_driver *d, struct raft *raft, const struct raft_driver_io *io);
/* Processes Readies until none is left or one waits on the disk; while one waits, sends the
 * messages that need not wait (raft_flush_messages). 0 or the persist error. */
int raft_driver_run(struct raft_driver *d);
/* The persist that returned RAFT_DRIVER_PENDING is durable: finishes that Ready and runs on. */
int raft_driver_persisted(struct raft_driver *d);
/* Forgets a Ready that waits on the disk (the node crashed); raft_destroy() frees it. */
void raft_driver_abandon(struct raft_driver *d);

#endif
