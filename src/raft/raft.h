/* raft.h: the Raft consensus core, a pure deterministic state machine.
 *
 * It follows Ongaro's thesis ("Consensus: Bridging Theory and Practice", 2014); docs/raft.md
 * maps every mechanism to its section. The core never touches a socket, a file, a clock, a
 * thread or a random source of its own. The shell (the daemon, or the simulator) feeds it
 * inputs and carries out its outputs:
 *
 *   inputs:  raft_tick()             time passed (one tick; the shell decides how long)
 *            raft_step()             a message arrived from a peer
 *            raft_propose()          a client command (leader only)
 *            raft_propose_conf()     a membership change (leader only)
 *            raft_read_index()       a linearizable read request (any node)
 *            raft_transfer_leader()  hand leadership to a named voter (leader only)
 *            raft_compact()          the shell took a snapshot; drop the log before it
 *
 *   outputs: raft_ready() -> struct raft_ready, then the shell, in this order (see
 *            raft_driver.h, the one loop both shells use):
 *              1. sends ready.messages (safe before persisting: thesis 10.2.1);
 *              2. persists ready.hard_state, then ready.snapshot_chunk / snapshot install,
 *                 then ready.entries (after dropping stored entries from
 *                 ready.entries[0].index on). A crash may keep any prefix of that order:
 *                 the term that entries and snapshots carry must never outlive, on disk,
 *                 the hard state that records it (restart refuses such a state);
 *              3. sends ready.persisted_messages (they promise durable state);
 *              4. applies ready.committed in order; serves ready.reads once applied;
 *              5. calls raft_advance().
 *
 * Memory: every pointer in a raft_ready is borrowed until raft_advance(). Pointers passed
 * into the core (message entries, proposal data) are borrowed for the duration of the
 * call; the core copies what it keeps.
 */
#ifndef SYN_RAFT_RAFT_H
#define SYN_RAFT_RAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/limits.h"

typedef uint64_t raft_id; /* a node's id; 0 means "none" */

struct raft;

enum raft_role {
    RAFT_FOLLOWER = 0,
    RAFT_PRE_CANDIDATE = 1,
    RAFT_CANDIDATE = 2,
    RAFT_LEADER = 3,
};
const char *raft_role_name(enum raft_role role);

/* ---- Log entries ---------------------------------------------------------------------- */

enum raft_entry_type {
    RAFT_ENTRY_NORMAL = 1, /* a client command, opaque to the core */
    RAFT_ENTRY_NOOP = 2,   /* appended by a new leader (thesis 6.4); apply as nothing */
    RAFT_ENTRY_CONF = 3,   /* a full configuration, raft_conf_encode()d */
};

struct raft_buf; /* a reference-counted byte buffer owned by the core */

struct raft_entry {
    uint64_t term;
    uint64_t index;
    uint32_t type;      /* enum raft_entry_type */
    uint32_t data_size; /* bytes at data */
    const uint8_t *data;
    /* The core's owner of data. NULL in entries the shell passes in (raft_step()); the core
     * copies those. Set in entries the core hands out. */
    struct raft_buf *buf;
};

/* ---- Configurations (thesis 4.1: one server at a time) -------------------------------- */

enum raft_member_role {
    RAFT_VOTER = 1,
    RAFT_LEARNER = 2, /* receives the log, never votes, never counts in a quorum */
};

struct raft_member {
    raft_id id;
    uint8_t role;                             /* enum raft_member_role */
    uint8_t addr_size;                        /* bytes used in addr */
    char addr[SYN_MEMBER_ADDR_SIZE_MAX];      /* opaque to the core: the peer address */
};

struct raft_conf {
    uint32_t member_count;
    struct raft_member members[SYN_MEMBERS_MAX];
};

enum raft_conf_op {
    RAFT_CONF_ADD_VOTER = 1,
    RAFT_CONF_ADD_LEARNER = 2,
    RAFT_CONF_PROMOTE = 3, /* learner -> voter */
    RAFT_CONF_REMOVE = 4,
};

/* Encoded size bound of a configuration. */
#define RAFT_CONF_ENCODED_SIZE_MAX (8u + SYN_MEMBERS_MAX * (8u + 2u + SYN_MEMBER_ADDR_SIZE_MAX))

/* Encodes conf into out (at least RAFT_CONF_ENCODED_SIZE_MAX bytes); returns the size. */
uint32_t raft_conf_encode(const struct raft_conf *conf, uint8_t *out);
/* Decodes and validates untrusted bytes. 0 or SYN_EBADMSG. */
int raft_conf_decode(const uint8_t *data, size_t size, struct raft_conf *conf);
/* Structural validity: ids nonzero and distinct, roles known, count within bounds. */
bool raft_conf_valid(const struct raft_conf *conf);
const struct raft_member *raft_conf_find(const struct raft_conf *conf, raft_id id);
uint32_t raft_conf_voter_count(const struct raft_conf *conf);

/* ---- Snapshots ----------------------------------------------------------------------- */

struct raft_snapshot_meta {
    uint64_t index; /* last entry the snapshot covers */
    uint64_t term;  /* that entry's term */
    uint64_t size;  /* bytes of the shell's snapshot data */
    struct raft_conf conf; /* the configuration as of index */
};

/* ---- Messages ------------------------------------------------------------------------ */

enum raft_msg_type {
    RAFT_MSG_APPEND = 1,        /* AppendEntries */
    RAFT_MSG_APPEND_RESP = 2,
    RAFT_MSG_VOTE = 3,          /* RequestVote */
    RAFT_MSG_VOTE_RESP = 4,
    RAFT_MSG_PRE_VOTE = 5,      /* thesis 9.6 */
    RAFT_MSG_PRE_VOTE_RESP = 6,
    RAFT_MSG_HEARTBEAT = 7,     /* empty AppendEntries, carries commit and a read round */
    RAFT_MSG_HEARTBEAT_RESP = 8,
    RAFT_MSG_SNAPSHOT = 9,      /* InstallSnapshot, one chunk */
    RAFT_MSG_SNAPSHOT_RESP = 10,
    RAFT_MSG_TIMEOUT_NOW = 11,  /* leadership transfer, thesis 3.10 */
    RAFT_MSG_READ_INDEX = 12,   /* a follower asks the leader for a read index, thesis 6.4 */
    RAFT_MSG_READ_INDEX_RESP = 13,
};
#define RAFT_MSG_TYPE_MAX 13
const char *raft_msg_type_name(uint32_t type);

/* Flags in raft_message.flags. */
#define RAFT_FLAG_REJECT 0x1u   /* a negative response */
#define RAFT_FLAG_TRANSFER 0x2u /* VOTE: campaign started by a leadership transfer */
#define RAFT_FLAG_LAST 0x4u     /* SNAPSHOT: the last chunk; SNAPSHOT_RESP: installed */

/* One message. Fields not listed for a type are zero.
 *   APPEND:            index/log_term = previous entry; entries; commit
 *   APPEND_RESP:       index = last matching index; on REJECT: index = the rejected prev index,
 *                      hint = the follower's last index at or before it whose term is <= the
 *                      rejected entry's term, hint_term = the term at hint (fast
 *                      backtracking, Raft paper 5.3)
 *   VOTE, PRE_VOTE:    index/log_term = the candidate's last entry; flags TRANSFER
 *   *_VOTE_RESP:       flags REJECT when not granted
 *   HEARTBEAT:         commit; context = read round
 *   HEARTBEAT_RESP:    context = the round echoed back
 *   SNAPSHOT:          snapshot meta; offset; data/data_size = this chunk; flags LAST.
 *                      As an output of the core, data is NULL: the shell fills data_size
 *                      bytes at offset from its snapshot with this meta.index, or drops the
 *                      message if it no longer has that snapshot.
 *   SNAPSHOT_RESP:     index = snapshot index; offset = bytes received so far; flags LAST
 *                      when installed, REJECT when the chunk did not fit (offset = expected)
 *   TIMEOUT_NOW:       -
 *   READ_INDEX:        context = request id
 *   READ_INDEX_RESP:   context = request id; index = read index; REJECT when refused */
struct raft_message {
    uint32_t type;
    uint32_t flags;
    raft_id from;
    raft_id to;
    uint64_t term;
    uint64_t index;
    uint64_t log_term;
    uint64_t commit;
    uint64_t hint;
    uint64_t hint_term;
    uint64_t context;
    uint32_t entry_count;
    struct raft_entry *entries;
    uint64_t offset;
    uint32_t data_size;
    const uint8_t *data;
    struct raft_snapshot_meta snapshot;
};

/* ---- State for the shell ------------------------------------------------------------- */

struct raft_hard_state {
    uint64_t term;
    raft_id vote;
    uint64_t commit;
};

struct raft_read_state {
    uint64_t request_id; /* as given to raft_read_index() */
    uint64_t index;      /* serve the read once applied >= index */
};

struct raft_ready {
    /* Soft state, for logs and traces. */
    bool soft_state_changed;
    enum raft_role role;
    raft_id leader;

    bool hard_state_changed;
    struct raft_hard_state hard_state;
    /* Something here must be durable before persisted_messages leave: entries, a snapshot
     * chunk or install, or a new term or vote. False when the hard state moved only in its
     * commit index, which Raft keeps volatile (figure 3.1): the driver then skips persist,
     * and a restarted node learns the commit index again from the leader. */
    bool must_sync;

    /* A chunk of the incoming snapshot described by `snapshot`, to persist at offset in the
     * partial snapshot (a chunk at offset 0 starts a new partial snapshot; any chunk drops
     * what the partial file held from its offset on). When snapshot_install is set too, the
     * partial snapshot is complete: make it the current snapshot with this meta, drop every
     * stored log entry (the core's log now starts after snapshot.index), and restore the
     * state machine from it before applying anything. */
    bool snapshot_chunk;
    uint64_t snapshot_offset;
    uint32_t snapshot_data_size;
    const uint8_t *snapshot_data;
    bool snapshot_install;
    struct raft_snapshot_meta snapshot;

    /* Entries to persist; entries[0].index may be <= the last stored index, in which case
     * stored entries from that index on must be dropped first. */
    uint32_t entry_count;
    const struct raft_entry *entries;

    uint32_t message_count; /* may be sent before persisting */
    struct raft_message *messages;
    uint32_t persisted_message_count; /* send only after this Ready is durable */
    struct raft_message *persisted_messages;

    uint32_t committed_count; /* apply in order */
    const struct raft_entry *committed;
    /* How many of committed (a prefix) are already durable on this node: they may be
     * applied before this Ready is persisted. */
    uint32_t committed_durable_count;

    uint32_t read_count;
    const struct raft_read_state *reads;
};

/* ---- Construction -------------------------------------------------------------------- */

/* Test-only broken rules (built only with -DSYN_MUTANTS): the simulator must catch each. */
enum raft_mutant {
    RAFT_MUTANT_DOUBLE_VOTE = 1u << 0,     /* grant a second vote in the same term */
    RAFT_MUTANT_COMMIT_OLD_TERM = 1u << 1, /* commit an earlier-term entry by counting */
    RAFT_MUTANT_ACK_UNPERSISTED = 1u << 2, /* acknowledge AppendEntries before persisting */
    RAFT_MUTANT_NO_LOG_CHECK = 1u << 3,    /* grant votes without the up-to-date log check */
};

struct raft_config {
    raft_id id;
    uint32_t election_ticks;   /* base election timeout; randomized in [t, 2t) */
    uint32_t heartbeat_ticks;  /* leader heartbeat interval; < election_ticks */
    uint32_t append_entries_max;     /* entries per AppendEntries; 1 disables batching */
    uint32_t append_bytes_max;       /* payload bytes per AppendEntries */
    uint32_t inflight_max;           /* AppendEntries in flight per follower (pipelining) */
    uint64_t uncommitted_bytes_max;  /* proposals accepted but not committed, leader */
    uint32_t snapshot_chunk_size;    /* bytes per InstallSnapshot message */
    bool pre_vote;
    bool check_quorum; /* also enables leader stickiness: thesis 4.2.3 */
    uint64_t seed;     /* for randomized election timeouts */
    uint32_t mutants;  /* enum raft_mutant bits; ignored unless built with SYN_MUTANTS */
};

/* Fills defaults: election 10 ticks, heartbeat 1 tick, batching and pipelining on,
 * pre-vote and check-quorum on. */
void raft_config_default(struct raft_config *config, raft_id id);

/* What the shell recovered from stable storage. For a brand-new node of the initial
 * cluster: empty hard state, snapshot.index = 0 and snapshot.conf = the initial members.
 * For a node that will be added later: an empty conf. */
struct raft_restore {
    struct raft_hard_state hard_state;
    struct raft_snapshot_meta snapshot;
    uint32_t entry_count;
    const struct raft_entry *entries; /* snapshot.index+1 onwards, contiguous; borrowed */
};

/* Checks a config and a recovered state. 0, or SYN_EINVAL with a sentence in msg. */
int raft_validate(const struct raft_config *config, const struct raft_restore *restore,
                  char *msg, size_t msg_size);
/* 0, SYN_EINVAL (raft_validate() says why), SYN_ENOMEM. restore is borrowed for the call. */
int raft_create(struct raft **out, const struct raft_config *config,
                const struct raft_restore *restore);
/* Frees the core, including a Ready still outstanding. */
void raft_destroy(struct raft *r);
/* A sentence about the last error an input returned, for the operator. */
const char *raft_errmsg(const struct raft *r);

/* ---- Inputs -------------------------------------------------------------------------- */

void raft_tick(struct raft *r);

/* Handles one message. Returns 0, or a negative code when the message was ignored:
 * SYN_EBADMSG (malformed: the shell should log it and may close the connection),
 * SYN_ESTALE (an older term), SYN_EUNKNOWNNODE (an answer from a node with no role here),
 * SYN_EBADINDEX (an answer about entries this leader does not have), SYN_EPROTO (a message
 * that contradicts the protocol, e.g. a second leader in one term), SYN_ENOMEM. */
int raft_step(struct raft *r, const struct raft_message *msg);

/* Appends a command. On success *index and *term say where it was placed: the command is
 * committed when an entry with that index and term is applied; if that index is applied
 * with another term, the command was lost (the client may retry).
 * SYN_ENOTLEADER, SYN_ETRANSFER, SYN_EBUSY (too much uncommitted), SYN_ETOOBIG, SYN_EINVAL. */
int raft_propose(struct raft *r, const uint8_t *data, uint32_t size, uint64_t *index,
                 uint64_t *term);

/* Proposes a membership change (thesis 4.1/4.2). addr is copied into the configuration
 * for ADD_*; may be NULL otherwise. SYN_ENOTLEADER, SYN_ECONFCHANGE (one still pending, or
 * no entry of this term committed yet), SYN_ETRANSFER, SYN_EUNKNOWNNODE, SYN_EEXIST,
 * SYN_EFULL (SYN_MEMBERS_MAX reached), SYN_EINVAL. */
int raft_propose_conf(struct raft *r, enum raft_conf_op op, raft_id id, const char *addr,
                      uint64_t *index, uint64_t *term);

/* Asks for a linearizable read (ReadIndex, thesis 6.4). A raft_read_state with this id comes
 * out of a later Ready, on this node, or nothing (the shell times the request out).
 * SYN_ENOLEADER, SYN_EBUSY (too many pending). */
int raft_read_index(struct raft *r, uint64_t request_id);

/* Starts a leadership transfer to a voter (thesis 3.10). SYN_ENOTLEADER, SYN_EUNKNOWNNODE,
 * SYN_EINVAL (self or a learner), SYN_ETRANSFER (one in progress). */
int raft_transfer_leader(struct raft *r, raft_id target);

/* The meta of a snapshot taken at index (<= applied): its term and configuration; size is
 * 0 and the shell sets it to the byte size of the snapshot it writes.
 * SYN_EBADINDEX when index is not applied or already compacted. */
int raft_snapshot_meta_at(const struct raft *r, uint64_t index, struct raft_snapshot_meta *meta);

/* The shell has durably stored a snapshot with this meta (from raft_snapshot_meta_at(),
 * with size set): drop entries up to meta->index - trailing from memory. Leaders send this
 * snapshot to followers that need entries it replaced. SYN_EBADINDEX (the meta does not
 * match the applied log or is older than the current snapshot), SYN_EINVAL. */
int raft_compact(struct raft *r, const struct raft_snapshot_meta *meta, uint64_t trailing);

/* ---- Outputs ------------------------------------------------------------------------- */

bool raft_has_ready(struct raft *r);
/* Fills rd; at most one Ready is outstanding. Borrowed until raft_advance(). */
void raft_ready(struct raft *r, struct raft_ready *rd);
/* While a Ready is outstanding (its persist in progress), hands the messages that may go
 * before persisting to send(), one at a time, and forgets them: a leader keeps sending
 * heartbeats and new entries while its disk is slow. Each msg is borrowed for the call. */
void raft_flush_messages(struct raft *r, void (*send)(void *ctx, const struct raft_message *msg),
                         void *ctx);
/* While a Ready is outstanding and every committed entry it carries was applied: hands the
 * entries committed since that are already durable on this node to apply(), in order, and
 * counts them as applied, so that a slow disk delays no reply that needs nothing from it.
 * Returns the index of the last entry handed out, or 0 when none was. Each entry is
 * borrowed for its call; apply() must not call into the core. */
/* The shell applied every committed entry up to index, which a Ready or
 * raft_flush_committed() handed out (the durable prefix of an outstanding Ready is applied
 * before that Ready is persisted). */
void raft_advance_applied(struct raft *r, uint64_t index);
uint64_t raft_flush_committed(struct raft *r, void (*apply)(void *ctx, const struct raft_entry *e),
                              void *ctx);
/* Everything in rd was done (persisted, sent, applied). Frees rd's memory. */
void raft_advance(struct raft *r, struct raft_ready *rd);

/* ---- Status -------------------------------------------------------------------------- */

enum raft_progress_state {
    RAFT_PROGRESS_PROBE = 0,
    RAFT_PROGRESS_REPLICATE = 1,
    RAFT_PROGRESS_SNAPSHOT = 2,
};

struct raft_peer_status {
    raft_id id;
    uint8_t role;           /* enum raft_member_role */
    uint8_t state;          /* enum raft_progress_state; leader only */
    bool recent_active;     /* heard from within the election timeout; leader only */
    uint64_t match_index;   /* leader only */
    uint64_t next_index;    /* leader only */
    uint32_t inflight;      /* leader only */
};

struct raft_status {
    raft_id id;
    enum raft_role role;
    uint64_t term;
    raft_id vote;
    raft_id leader;
    uint64_t commit_index;
    uint64_t applied_index;
    uint64_t last_index;
    uint64_t last_term;
    uint64_t stable_index;   /* last index known durable */
    uint64_t snapshot_index;
    uint64_t snapshot_term;
    uint64_t log_bytes;      /* payload bytes of the entries held in memory */
    raft_id transfer_target; /* 0 when none */
    struct raft_conf conf;   /* the latest configuration in the log */
    uint64_t conf_index;
    uint32_t peer_count;
    struct raft_peer_status peers[SYN_MEMBERS_MAX];
};

void raft_status(const struct raft *r, struct raft_status *status);
enum raft_role raft_role(const struct raft *r);
uint64_t raft_term(const struct raft *r);
raft_id raft_leader(const struct raft *r);
uint64_t raft_commit_index(const struct raft *r);
uint64_t raft_applied_index(const struct raft *r);
uint64_t raft_last_index(const struct raft *r);
/* The term of the entry at index; 0 when unknown (compacted or beyond the log). */
uint64_t raft_term_at(const struct raft *r, uint64_t index);
/* The entry at index from the in-memory log, or NULL. Borrowed until the next input. */
const struct raft_entry *raft_entry_at(const struct raft *r, uint64_t index);

#endif
