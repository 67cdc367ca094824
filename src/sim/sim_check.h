/* sim_check.h: the safety invariants, checked at the step that could break them.
 *
 *   Election Safety     at most one leader per term (Raft figure 3.2)
 *   Log Matching        (index, term) names one entry content and one previous term, for
 *                       every entry any node persists
 *   Leader Completeness a new leader's log holds every entry any node has applied, unless
 *                       its snapshot covers it
 *   State Machine Safety every node applies the same entry at an index, and reaches the
 *                       same state there (also through a snapshot)
 *   and: applied <= commit; a durable vote never changes within a term; applied entries are
 *   never overwritten; a node applies entries in order; terms and commit indexes only grow;
 *   a leader commits by counting only entries of its own term; a node acknowledges only
 *   entries it made durable.
 * A broken invariant ends the run through sim_fail(). */
#ifndef SYN_SIM_CHECK_H
#define SYN_SIM_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "raft/raft.h"

struct sim;
struct sim_node;
struct sim_disk_write;

/* What the first node to apply an index applied there. */
struct sim_applied {
    uint64_t term;
    uint64_t entry_hash;
    uint64_t kv_digest; /* the state machine after the entry */
    bool cas_ok;        /* the command's result: did it change its register */
    bool set;
};

struct sim_logmap_slot {
    uint64_t index; /* 0: empty slot */
    uint64_t term;
    uint64_t entry_hash;
    uint64_t prev_term;
};

struct sim_check {
    struct sim_applied *applied; /* by log index */
    uint64_t applied_capacity;
    uint64_t applied_max; /* highest index any node applied */
    raft_id *term_leader; /* by term */
    uint64_t term_capacity;
    struct sim_logmap_slot *slots; /* open addressing over (index, term) */
    uint64_t slot_count;
    uint64_t slot_capacity;
};

int sim_check_init(struct sim_check *check);
void sim_check_free(struct sim_check *check);

/* Inserts slot's (index, term) unless present; returns the slot stored for that pair (the
 * first one seen), or NULL when the map is full (sim_logmap.c). */
const struct sim_logmap_slot *sim_logmap_put(struct sim_check *check,
                                             const struct sim_logmap_slot *slot);

/* A hash of what an entry says (type and data). */
uint64_t sim_entry_hash(uint32_t type, const uint8_t *data, uint32_t size);

/* After each input: role, term and commit as observed. */
void sim_check_node(struct sim *sim, struct sim_node *node);
/* node, leader in the same term as at its last observation, advanced its commit index. */
void sim_check_leader_commit(struct sim *sim, struct sim_node *node, uint64_t commit);
/* node sends msg: an acknowledgement must only claim what is on its disk. */
void sim_check_ack(struct sim *sim, struct sim_node *node, const struct raft_message *msg);
/* node just became leader. */
void sim_check_new_leader(struct sim *sim, struct sim_node *node);
/* Before a pending write lands on node's disk. */
void sim_check_write(struct sim *sim, struct sim_node *node, const struct sim_disk_write *w);
/* After it landed: entries in [first, last] are on node's disk. */
void sim_check_persisted(struct sim *sim, struct sim_node *node, uint64_t first, uint64_t last);
/* node applied entry (its state machine already changed; cas_ok is the command's result). */
void sim_check_applied(struct sim *sim, struct sim_node *node, const struct raft_entry *entry,
                       bool cas_ok);
/* node restored its state machine from a snapshot at its kv.applied_index. */
void sim_check_restored(struct sim *sim, struct sim_node *node);
/* The record of an applied index, or NULL if no node applied it. */
const struct sim_applied *sim_check_applied_at(const struct sim *sim, uint64_t index);

#endif
