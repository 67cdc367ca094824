/* sim_check.c: Raft's safety properties (thesis figure 3.2), checked at every step that could
 * break one. The global records grow with the run and are bounded by sim_limits.h. */
#include "sim/sim_check.h"

#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/err.h"
#include "sim/sim_kv.h"
#include "sim/sim_world.h"

int sim_check_init(struct sim_check *check)
{
    *check = (struct sim_check){.slot_capacity = 1024};
    check->slots = calloc(check->slot_capacity, sizeof(*check->slots));
    return check->slots == NULL ? SYN_ENOMEM : 0;
}

void sim_check_free(struct sim_check *check)
{
    free(check->applied);
    free(check->term_leader);
    free(check->slots);
    *check = (struct sim_check){0};
}

uint64_t sim_entry_hash(uint32_t type, const uint8_t *data, uint32_t size)
{
    uint64_t h = sim_hash_bytes(SIM_HASH_INIT, &type, sizeof(type));
    return size > 0 ? sim_hash_bytes(h, data, size) : h;
}

/* Grows array (of elem_size elements, *capacity of them) to hold index; returns it (maybe
 * moved), or NULL when index is beyond limit (array is then unchanged). */
static void *check_grow(void *array, uint64_t *capacity, uint64_t index, size_t elem_size,
                        uint64_t limit)
{
    if (index < *capacity) {
        return array;
    }
    if (index >= limit) {
        return NULL;
    }
    uint64_t cap = *capacity == 0 ? 256 : *capacity;
    while (cap <= index) {
        cap *= 2;
    }
    uint8_t *grown = realloc(array, cap * elem_size);
    ASSERT(grown != NULL);
    memset(grown + *capacity * elem_size, 0, (cap - *capacity) * elem_size);
    *capacity = cap;
    return grown;
}

const struct sim_applied *sim_check_applied_at(const struct sim *sim, uint64_t index)
{
    const struct sim_check *c = &sim->check;
    if (index >= c->applied_capacity || !c->applied[index].set) {
        return NULL;
    }
    return &c->applied[index];
}

void sim_check_node(struct sim *sim, struct sim_node *node)
{
    uint64_t commit = raft_commit_index(node->raft);
    if (node->kv.applied_index > commit) {
        sim_fail(sim, "applied <= commit", "n%llu applied %llu but its commit index is %llu",
                 (unsigned long long)node->id, (unsigned long long)node->kv.applied_index,
                 (unsigned long long)commit);
    }
}

/* Thesis 3.6.2 (figure 3.7): a leader commits by counting replicas only an entry of its own
 * term; earlier entries are committed with it. */
void sim_check_leader_commit(struct sim *sim, struct sim_node *node, uint64_t commit)
{
    uint64_t term = raft_term(node->raft);
    uint64_t entry_term = raft_term_at(node->raft, commit);
    if (entry_term != term) {
        sim_fail(sim, "leader commit rule",
                 "n%llu, leader of term %llu, advanced its commit "
                 "index to %llu, an entry of term %llu",
                 (unsigned long long)node->id, (unsigned long long)term, (unsigned long long)commit,
                 (unsigned long long)entry_term);
    }
}

/* Thesis 3.8 and 10.2.1: a follower may acknowledge entries only once they are durable; the
 * leader counts the acknowledgement towards commitment. The acknowledged entry is the one the
 * leader of the message's term holds at that index; while that leader still leads, its log
 * there cannot have changed, so the durable entry must have its term. */
void sim_check_ack(struct sim *sim, struct sim_node *node, const struct raft_message *msg)
{
    if (msg->type != RAFT_MSG_APPEND_RESP || (msg->flags & RAFT_FLAG_REJECT) != 0 ||
        msg->index <= node->disk.snapshot.index) {
        return;
    }
    uint64_t durable = sim_disk_term_at(&node->disk, msg->index);
    const struct sim_node *to = sim_cluster_node(sim, msg->to);
    uint64_t expected = 0; /* 0: unknown */
    if (to != NULL && to->up && raft_role(to->raft) == RAFT_LEADER &&
        raft_term(to->raft) == msg->term) {
        expected = raft_term_at(to->raft, msg->index);
    }
    unsigned long long id = (unsigned long long)node->id;
    if (durable == 0) {
        sim_fail(sim, "acks are durable",
                 "n%llu acknowledges entries up to %llu (a term-%llu answer to n%llu) but its disk "
                 "ends at %llu (snapshot at %llu)",
                 id, (unsigned long long)msg->index, (unsigned long long)msg->term,
                 (unsigned long long)msg->to, (unsigned long long)sim_disk_last_index(&node->disk),
                 (unsigned long long)node->disk.snapshot.index);
    } else if (expected != 0 && durable != expected) {
        sim_fail(sim, "acks are durable",
                 "n%llu acknowledges entries up to %llu to n%llu, leader of term %llu, which holds "
                 "term %llu there, but n%llu's disk holds term %llu there",
                 id, (unsigned long long)msg->index, (unsigned long long)msg->to,
                 (unsigned long long)msg->term, (unsigned long long)expected, id,
                 (unsigned long long)durable);
    }
}

/* Leader Completeness (thesis 3.6.3): whatever any node applied was committed, so a new
 * leader's log must hold it, except what its snapshot covers. */
static void check_completeness(struct sim *sim, struct sim_node *node)
{
    struct raft_status st;
    raft_status(node->raft, &st);
    for (uint64_t i = st.snapshot_index + 1; i <= sim->check.applied_max; i++) {
        const struct sim_applied *rec = sim_check_applied_at(sim, i);
        const struct raft_entry *e = raft_entry_at(node->raft, i);
        if (rec == NULL) {
            continue;
        }
        if (e == NULL || e->term != rec->term ||
            sim_entry_hash(e->type, e->data, e->data_size) != rec->entry_hash) {
            sim_fail(sim, "leader completeness",
                     "n%llu became leader of term %llu without the entry applied at index %llu "
                     "(term %llu); its log has %s term %llu there (last index %llu)",
                     (unsigned long long)node->id, (unsigned long long)st.term,
                     (unsigned long long)i, (unsigned long long)rec->term,
                     e == NULL ? "no entry," : "an entry of", (unsigned long long)(e ? e->term : 0),
                     (unsigned long long)st.last_index);
            return;
        }
    }
    const struct sim_applied *rec = sim_check_applied_at(sim, st.snapshot_index);
    if (rec != NULL && rec->term != st.snapshot_term) {
        sim_fail(sim, "leader completeness",
                 "n%llu's snapshot ends at %llu with term %llu, but "
                 "term %llu was applied there",
                 (unsigned long long)node->id, (unsigned long long)st.snapshot_index,
                 (unsigned long long)st.snapshot_term, (unsigned long long)rec->term);
    }
}

/* Election Safety (thesis 3.4): at most one leader per term. */
void sim_check_new_leader(struct sim *sim, struct sim_node *node)
{
    struct sim_check *c = &sim->check;
    uint64_t term = raft_term(node->raft);
    raft_id *grown =
        check_grow(c->term_leader, &c->term_capacity, term, sizeof(raft_id), SIM_TERMS_MAX);
    if (grown == NULL) {
        sim_fail(sim, "simulator bound", "term %llu is beyond SIM_TERMS_MAX",
                 (unsigned long long)term);
        return;
    }
    c->term_leader = grown;
    raft_id other = c->term_leader[term];
    if (other != 0 && other != node->id) {
        sim_fail(sim, "election safety", "n%llu and n%llu were both leader in term %llu",
                 (unsigned long long)other, (unsigned long long)node->id, (unsigned long long)term);
        return;
    }
    c->term_leader[term] = node->id;
    check_completeness(sim, node);
}

static void check_hard_state(struct sim *sim, struct sim_node *node,
                             const struct raft_hard_state *old, const struct raft_hard_state *new)
{
    unsigned long long id = (unsigned long long)node->id;
    if (new->term < old->term) {
        sim_fail(sim, "durable term", "n%llu persists term %llu after term %llu", id,
                 (unsigned long long)new->term, (unsigned long long)old->term);
    } else if (new->term == old->term && old->vote != 0 && new->vote != old->vote) {
        sim_fail(sim, "one vote per term",
                 "n%llu changes its durable vote in term %llu from "
                 "n%llu to n%llu",
                 id, (unsigned long long)new->term, (unsigned long long)old->vote,
                 (unsigned long long)new->vote);
    }
}

void sim_check_write(struct sim *sim, struct sim_node *node, const struct sim_disk_write *w)
{
    if (w->hard_state_changed) {
        check_hard_state(sim, node, &node->disk.hard_state, &w->hard_state);
    }
    /* An entry a node applied was committed: nothing may overwrite it on that node. */
    for (uint32_t i = 0; i < w->entry_count && !sim->failed; i++) {
        const struct sim_disk_entry *e = &w->entries[i];
        const struct sim_applied *rec = sim_check_applied_at(sim, e->index);
        if (e->index > node->kv.applied_index || e->index <= node->disk.snapshot.index ||
            rec == NULL) {
            continue;
        }
        if (rec->term != e->term) {
            sim_fail(sim, "committed entries are never overwritten",
                     "n%llu overwrites its applied entry %llu (term %llu) with term %llu",
                     (unsigned long long)node->id, (unsigned long long)e->index,
                     (unsigned long long)rec->term, (unsigned long long)e->term);
        }
    }
}

/* State Machine Safety (thesis 3.6.3): every node applies the same entry at an index and,
 * the state machine being deterministic, reaches the same state there. */
void sim_check_applied(struct sim *sim, struct sim_node *node, const struct raft_entry *entry,
                       bool cas_ok)
{
    struct sim_check *c = &sim->check;
    struct sim_applied *grown = check_grow(c->applied, &c->applied_capacity, entry->index,
                                           sizeof(*grown), SIM_LOG_INDEX_MAX);
    if (grown == NULL) {
        sim_fail(sim, "simulator bound", "index %llu is beyond SIM_LOG_INDEX_MAX",
                 (unsigned long long)entry->index);
        return;
    }
    c->applied = grown;
    struct sim_applied *rec = &c->applied[entry->index];
    uint64_t hash = sim_entry_hash(entry->type, entry->data, entry->data_size);
    if (!rec->set) {
        *rec = (struct sim_applied){.term = entry->term,
                                    .entry_hash = hash,
                                    .kv_digest = node->kv.digest,
                                    .cas_ok = cas_ok,
                                    .set = true};
        c->applied_max = entry->index > c->applied_max ? entry->index : c->applied_max;
        return;
    }
    if (rec->term != entry->term || rec->entry_hash != hash) {
        sim_fail(sim, "state machine safety",
                 "n%llu applies index %llu from term %llu, another node applied term %llu%s",
                 (unsigned long long)node->id, (unsigned long long)entry->index,
                 (unsigned long long)entry->term, (unsigned long long)rec->term,
                 rec->term == entry->term ? " with other content" : "");
    } else if (rec->kv_digest != node->kv.digest) {
        sim_fail(sim, "state machine safety",
                 "n%llu's state after index %llu differs from "
                 "another node's",
                 (unsigned long long)node->id, (unsigned long long)entry->index);
    }
}

void sim_check_restored(struct sim *sim, struct sim_node *node)
{
    uint64_t index = node->kv.applied_index;
    const struct sim_applied *rec = sim_check_applied_at(sim, index);
    if (index > 0 && rec == NULL) {
        sim_fail(sim, "snapshot content",
                 "n%llu restores a snapshot at %llu, an index no node "
                 "applied",
                 (unsigned long long)node->id, (unsigned long long)index);
    } else if (rec != NULL && rec->kv_digest != node->kv.digest) {
        sim_fail(sim, "snapshot content",
                 "n%llu's state restored from the snapshot at %llu "
                 "differs from the state there",
                 (unsigned long long)node->id, (unsigned long long)index);
    }
}

/* Log Matching (thesis 3.5): an (index, term) pair names one entry, and the entries before
 * it. Checking the content and the previous entry's term of every persisted entry against
 * the first one seen covers the property by induction. */
void sim_check_persisted(struct sim *sim, struct sim_node *node, uint64_t first, uint64_t last)
{
    for (uint64_t i = first; i <= last && !sim->failed; i++) {
        const struct sim_disk_entry *e = sim_disk_entry_at(&node->disk, i);
        ASSERT(e != NULL);
        struct sim_logmap_slot slot = {
            .index = i,
            .term = e->term,
            .entry_hash = sim_entry_hash(e->type, e->data, e->data_size),
            .prev_term = sim_disk_term_at(&node->disk, i - 1),
        };
        const struct sim_logmap_slot *seen = sim_logmap_put(&sim->check, &slot);
        if (seen == NULL) {
            sim_fail(sim, "simulator bound", "too many distinct log entries");
        } else if (seen->entry_hash != slot.entry_hash || seen->prev_term != slot.prev_term) {
            sim_fail(sim, "log matching",
                     "n%llu persists (index %llu, term %llu) %s than another node did",
                     (unsigned long long)node->id, (unsigned long long)i,
                     (unsigned long long)e->term,
                     seen->entry_hash != slot.entry_hash ? "with other content"
                                                         : "after an entry of another term");
        }
    }
}
