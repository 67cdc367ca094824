/* raft_internal.h: the Raft core's state and the functions its files share. */
#ifndef SYN_RAFT_INTERNAL_H
#define SYN_RAFT_INTERNAL_H

#include "base/assert.h"
#include "base/err.h"
#include "base/prng.h"
#include "raft/raft.h"

#include <stdlib.h>
#include <string.h>

#ifdef SYN_MUTANTS
#define MUTANT(r, bit) (((r)->config.mutants & (bit)) != 0)
#else
#define MUTANT(r, bit) (false)
#endif

/* ---- Reference-counted entry payloads (log.c) ---------------------------------------- */

struct raft_buf {
    uint32_t refs;
    uint32_t size;
    uint8_t bytes[];
};

struct raft_buf *raft_buf_new(const uint8_t *data, uint32_t size);
void raft_buf_ref(struct raft_buf *buf);
void raft_buf_unref(struct raft_buf *buf);

/* ---- The in-memory log (log.c) -------------------------------------------------------
 * Holds entries offset+1 .. offset+count. Entries up to offset were compacted into a
 * snapshot; offset_term is the term of entry offset. */
struct raft_log {
    struct raft_entry *entries; /* entries[start .. start+count) */
    uint64_t cap;
    uint64_t start;
    uint64_t count;
    uint64_t offset;
    uint64_t offset_term;
    uint64_t bytes; /* payload bytes of the entries held */
};

void raft_log_init(struct raft_log *log, uint64_t offset, uint64_t offset_term);
void raft_log_free(struct raft_log *log);
uint64_t raft_log_last_index(const struct raft_log *log);
uint64_t raft_log_last_term(const struct raft_log *log);
/* Term of the entry at index; 0 when compacted or beyond the end. */
uint64_t raft_log_term(const struct raft_log *log, uint64_t index);
/* The entry at index, or NULL when compacted or beyond the end. */
struct raft_entry *raft_log_get(const struct raft_log *log, uint64_t index);
/* Appends one entry (index must be last+1); takes a new reference on e->buf, or copies
 * e->data when e->buf is NULL. SYN_ENOMEM. */
int raft_log_append(struct raft_log *log, const struct raft_entry *e);
/* Drops entries from index on. */
void raft_log_truncate(struct raft_log *log, uint64_t index);
/* Drops entries up to index (<= last) and records index/term as the new offset. */
void raft_log_compact(struct raft_log *log, uint64_t index, uint64_t term);
/* Drops every entry; the log restarts after index/term. */
void raft_log_reset(struct raft_log *log, uint64_t index, uint64_t term);
/* A malloc'd array of the entries lo..hi with a reference on each payload, or NULL
 * (hi < lo, or out of memory: the caller sends or persists nothing then). */
struct raft_entry *raft_entries_copy(const struct raft_log *log, uint64_t lo, uint64_t hi);
void raft_entries_release(struct raft_entry *entries, uint32_t count);

/* ---- Replication progress of one member, kept by the leader (progress.c) ------------- */

struct raft_progress {
    raft_id id;
    uint8_t role;  /* enum raft_member_role */
    uint8_t state; /* enum raft_progress_state */
    bool probe_sent;    /* PROBE: an append is out; wait for a reply or a heartbeat */
    bool recent_active; /* heard from since the last check-quorum */
    uint64_t match;
    uint64_t next;
    uint64_t read_ack; /* highest read round this member acknowledged */
    /* Pipelining: the last index of each AppendEntries in flight, oldest first. */
    uint32_t inflight_start;
    uint32_t inflight_count;
    uint64_t inflight[SYN_INFLIGHT_MAX];
    /* SNAPSHOT: the snapshot being sent, bytes acknowledged, ticks since the last chunk. */
    uint64_t snap_index;
    uint64_t snap_offset;
    uint32_t snap_elapsed;
    bool snap_chunk_out;
};

void raft_progress_reset(struct raft_progress *pr, uint64_t next);
void raft_progress_become_probe(struct raft_progress *pr);
void raft_progress_become_replicate(struct raft_progress *pr);
void raft_progress_become_snapshot(struct raft_progress *pr, uint64_t snap_index);
bool raft_progress_inflight_full(const struct raft_progress *pr, uint32_t max);
void raft_progress_inflight_add(struct raft_progress *pr, uint64_t last_index, uint32_t max);
/* Frees every in-flight message whose last index is <= index. */
void raft_progress_inflight_free_to(struct raft_progress *pr, uint64_t index, uint32_t max);
void raft_progress_inflight_free_first(struct raft_progress *pr, uint32_t max);
/* True when another AppendEntries may go to this member now. */
bool raft_progress_can_send(const struct raft_progress *pr, uint32_t inflight_max);
/* Records that the member holds entries up to index. True if match moved. */
bool raft_progress_update(struct raft_progress *pr, uint64_t index);

/* ---- ReadIndex requests waiting on the leader (read.c) ------------------------------- */

struct raft_read_req {
    uint64_t request_id;
    raft_id from;   /* 0: this node's own request */
    uint64_t index; /* commit index when the round started */
    uint64_t round; /* 0: waits for a round (or for this term's first commit) */
};

/* ---- The core -------------------------------------------------------------------------- */

struct raft_outbox {
    struct raft_message *msgs;
    uint32_t count;
    uint32_t cap;
};

struct raft {
    struct raft_config config;
    raft_id id;
    struct prng prng;
    char errmsg[160];

    /* Persistent state (thesis figure 3.1) and what was last handed out to persist. */
    uint64_t term;
    raft_id vote;
    struct raft_hard_state hs_handed;

    enum raft_role role;
    raft_id leader;
    bool soft_changed;

    struct raft_log log;
    uint64_t commit;
    uint64_t applied;     /* the shell applied entries up to here (raft_advance) */
    uint64_t apply_next;  /* first entry not yet handed out to apply */
    uint64_t stable;      /* entries up to here are durable */
    uint64_t persist_next; /* first entry not yet handed out to persist */
    uint64_t truncated_low; /* lowest index truncated while a Ready was outstanding */

    /* The latest configuration in the log (thesis 4.1: used as soon as appended). */
    struct raft_conf conf;
    uint64_t conf_index;

    /* The shell's current snapshot (what a leader sends to a follower far behind). */
    struct raft_snapshot_meta snapshot;

    /* Incoming snapshot (follower). */
    bool recv_active;
    struct raft_snapshot_meta recv_meta;
    uint64_t recv_offset; /* bytes accepted so far */
    struct raft_buf *recv_chunk; /* accepted, waiting for the next Ready */
    uint64_t recv_chunk_offset;
    bool install_pending;

    /* Timers, in ticks. */
    uint32_t election_elapsed;
    uint32_t heartbeat_elapsed;
    uint32_t election_timeout; /* randomized in [election_ticks, 2 * election_ticks) */

    /* Election: who answered, and how. */
    raft_id vote_from[SYN_MEMBERS_MAX];
    bool vote_granted[SYN_MEMBERS_MAX];
    uint32_t vote_count;

    /* Leader. */
    struct raft_progress *prs; /* one per member of conf, self included */
    uint32_t pr_count;
    uint64_t uncommitted_bytes;
    raft_id transferee;
    uint32_t transfer_elapsed;
    bool bcast_pending; /* new entries wait for the next Ready to go out together */
    bool commit_bcast_pending; /* the commit index moved: tell followers in the next Ready */

    /* ReadIndex (thesis 6.4). */
    struct raft_read_req *reads;
    uint32_t read_head;
    uint32_t read_count;
    uint64_t read_round;
    bool read_round_pending;
    struct raft_read_state *read_states;
    uint32_t read_state_count;

    /* Outputs waiting for the next Ready. */
    struct raft_outbox early; /* may be sent before persisting */
    struct raft_outbox late;  /* only after persisting */

    /* The outstanding Ready. */
    bool ready_out;
    struct raft_ready ready;
    struct raft_buf *ready_chunk;
};

/* raft.c */
int raft_fail(struct raft *r, int code, const char *what);
void raft_become_follower(struct raft *r, uint64_t term, raft_id leader);
void raft_become_pre_candidate(struct raft *r);
void raft_become_candidate(struct raft *r);
void raft_become_leader(struct raft *r);
void raft_reset_election_timer(struct raft *r);
bool raft_is_voter(const struct raft *r, raft_id id);
uint32_t raft_quorum(const struct raft *r);
struct raft_progress *raft_progress_find(struct raft *r, raft_id id);

/* outbox.c */
/* Queues a message; `late` ones go out only after this Ready is durable. Over the bound,
 * the message is dropped, as a lossy network would. Returns the queued copy or NULL. */
struct raft_message *raft_send(struct raft *r, struct raft_message *msg, bool late);
void raft_outbox_free(struct raft_outbox *box, bool release_entries);
/* Drops queued late messages that no longer hold: those of an older term, and
 * acknowledgements of entries from index `truncated` on (UINT64_MAX: none truncated). */
void raft_outbox_forget(struct raft *r, uint64_t truncated);

/* election.c */
void raft_campaign(struct raft *r, bool pre_vote, bool transfer);
void raft_step_vote(struct raft *r, const struct raft_message *msg);
void raft_step_vote_resp(struct raft *r, const struct raft_message *msg);
void raft_step_timeout_now(struct raft *r, const struct raft_message *msg);

/* replication.c */
void raft_send_append(struct raft *r, struct raft_progress *pr, bool allow_empty);
void raft_bcast_append(struct raft *r);
void raft_bcast_heartbeat(struct raft *r);
bool raft_maybe_commit(struct raft *r);
int raft_append_local(struct raft *r, uint32_t type, const uint8_t *data, uint32_t size);
int raft_step_append(struct raft *r, const struct raft_message *msg);
int raft_step_append_resp(struct raft *r, const struct raft_message *msg);
void raft_step_heartbeat(struct raft *r, const struct raft_message *msg);
void raft_step_heartbeat_resp(struct raft *r, const struct raft_message *msg);
void raft_commit_to(struct raft *r, uint64_t index);
void raft_after_truncate(struct raft *r, uint64_t index);

/* snapshot.c */
void raft_send_snapshot_chunk(struct raft *r, struct raft_progress *pr);
int raft_step_snapshot(struct raft *r, const struct raft_message *msg);
int raft_step_snapshot_resp(struct raft *r, const struct raft_message *msg);
void raft_snapshot_tick(struct raft *r);

/* membership.c */
void raft_conf_recompute(struct raft *r);
void raft_conf_apply(struct raft *r, const struct raft_conf *conf, uint64_t index);
void raft_progress_sync(struct raft *r);
void raft_conf_after_commit(struct raft *r);

/* read.c */
void raft_read_flush(struct raft *r);
void raft_read_ack(struct raft *r);
void raft_read_drop_all(struct raft *r);
void raft_step_read_index(struct raft *r, const struct raft_message *msg);
void raft_step_read_index_resp(struct raft *r, const struct raft_message *msg);
int raft_read_state_push(struct raft *r, uint64_t request_id, uint64_t index);

/* transfer.c */
void raft_transfer_check(struct raft *r, struct raft_progress *pr);
void raft_transfer_abort(struct raft *r);

#endif
