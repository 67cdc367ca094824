/* sim_member.c: what an operator asks of the leader during the fault phase: membership
 * changes one server at a time (thesis 4.1: add a learner, promote it once it caught up,
 * remove a voter) and leadership transfers (thesis 3.10). */
#include <stdio.h>

#include "base/err.h"
#include "sim/sim_faults.h"
#include "sim/sim_trace.h"
#include "sim/sim_world.h"

static const struct raft_peer_status *member_peer(const struct raft_status *st, raft_id id)
{
    for (uint32_t i = 0; i < st->peer_count; i++) {
        if (st->peers[i].id == id) {
            return &st->peers[i];
        }
    }
    return NULL;
}

/* A slot that was never a member: removed nodes do not come back. */
static raft_id member_fresh_slot(struct sim *sim, const struct raft_conf *conf)
{
    for (uint32_t i = 0; i < sim->node_count; i++) {
        const struct sim_node *n = &sim->nodes[i];
        if (!n->was_member && !n->retired && raft_conf_find(conf, n->id) == NULL) {
            return n->id;
        }
    }
    return 0;
}

static raft_id member_random(struct sim *sim, const struct raft_conf *conf, uint8_t role,
                             raft_id except)
{
    uint32_t seen = 0;
    raft_id pick = 0;
    for (uint32_t i = 0; i < conf->member_count; i++) {
        const struct raft_member *m = &conf->members[i];
        if (m->role == role && m->id != except && prng_range(&sim->fault_prng, 0, seen++) == 0) {
            pick = m->id;
        }
    }
    return pick;
}

static const char *op_name(enum raft_conf_op op)
{
    switch (op) {
    case RAFT_CONF_ADD_LEARNER:
        return "add as learner";
    case RAFT_CONF_PROMOTE:
        return "promote to voter";
    case RAFT_CONF_REMOVE:
        return "remove";
    case RAFT_CONF_ADD_VOTER:
        return "add as voter";
    }
    return "?";
}

/* Picks the next change: promote a caught-up learner, else add or remove. 0 when none. */
static raft_id member_choose(struct sim *sim, const struct raft_status *st, enum raft_conf_op *op)
{
    raft_id learner = member_random(sim, &st->conf, RAFT_LEARNER, 0);
    if (learner != 0) {
        const struct raft_peer_status *p = member_peer(st, learner);
        *op = RAFT_CONF_PROMOTE;
        return p != NULL && p->match_index >= st->commit_index ? learner : 0;
    }
    raft_id fresh = member_fresh_slot(sim, &st->conf);
    bool can_remove = raft_conf_voter_count(&st->conf) > 3;
    if (fresh != 0 && (!can_remove || prng_chance(&sim->fault_prng, 500000))) {
        *op = RAFT_CONF_ADD_LEARNER;
        return fresh;
    }
    if (!can_remove) {
        return 0;
    }
    *op = RAFT_CONF_REMOVE;
    /* Removing the leader itself (thesis 4.2.2) now and then. */
    raft_id except = prng_chance(&sim->fault_prng, 200000) ? 0 : st->id;
    return member_random(sim, &st->conf, RAFT_VOTER, except);
}

/* The current leader, with its status in st; NULL when there is none. */
static struct sim_node *member_leader(struct sim *sim, struct raft_status *st)
{
    struct sim_node *leader = sim_cluster_leader(sim);
    if (leader != NULL) {
        raft_status(leader->raft, st);
    }
    return leader;
}

void sim_member_change(struct sim *sim)
{
    struct raft_status st;
    struct sim_node *leader = member_leader(sim, &st);
    if (leader == NULL) {
        return;
    }
    enum raft_conf_op op = RAFT_CONF_ADD_LEARNER;
    raft_id target = member_choose(sim, &st, &op);
    if (target == 0) {
        return;
    }
    char addr[24];
    snprintf(addr, sizeof(addr), "n%llu", (unsigned long long)target);
    uint64_t index = 0;
    uint64_t term = 0;
    int rc = raft_propose_conf(leader->raft, op, target, addr, &index, &term);
    sim->result->stats.conf_changes += rc == 0;
    if (rc == 0) {
        sim_trace_node(sim, leader->id, "proposes a membership change: %s n%llu (index %llu)",
                       op_name(op), (unsigned long long)target, (unsigned long long)index);
    } else {
        sim_trace_node(sim, leader->id, "refuses the membership change %s n%llu: %s", op_name(op),
                       (unsigned long long)target, syn_strerror(rc));
    }
    sim_node_run(sim, leader);
}

void sim_member_transfer(struct sim *sim)
{
    struct raft_status st;
    struct sim_node *leader = member_leader(sim, &st);
    if (leader == NULL) {
        return;
    }
    raft_id target = member_random(sim, &st.conf, RAFT_VOTER, leader->id);
    if (target == 0) {
        return;
    }
    int rc = raft_transfer_leader(leader->raft, target);
    if (rc == 0) {
        sim_trace_node(sim, leader->id, "starts a leadership TRANSFER to n%llu",
                       (unsigned long long)target);
    } else {
        sim_trace_node(sim, leader->id, "refuses a transfer to n%llu: %s",
                       (unsigned long long)target, syn_strerror(rc));
    }
    sim_node_run(sim, leader);
}
