/* sim_liveness.c: the liveness phase's goal. Once faults end, the cluster must elect a
 * leader, commit everything in its log, bring every member's state machine up to that
 * commit, and answer every client (tigerbeetle's VOPR checks liveness the same way, after
 * healing its "core" of replicas). */
#include <stdio.h>

#include "sim/sim_trace.h"
#include "sim/sim_world.h"

/* True when the cluster converged; else why says what is still missing. */
static bool liveness_converged(struct sim *sim, char *why, size_t size)
{
    struct sim_node *leader = sim_cluster_leader(sim);
    if (leader == NULL) {
        snprintf(why, size, "no leader");
        return false;
    }
    struct raft_status st;
    raft_status(leader->raft, &st);
    unsigned long long l = (unsigned long long)leader->id;
    if (st.commit_index < st.last_index) {
        snprintf(why, size, "leader n%llu (term %llu) has entries up to %llu but commit %llu", l,
                 (unsigned long long)st.term, (unsigned long long)st.last_index,
                 (unsigned long long)st.commit_index);
        return false;
    }
    for (uint32_t i = 0; i < st.conf.member_count; i++) {
        struct sim_node *n = sim_cluster_node(sim, st.conf.members[i].id);
        if (n == NULL || !n->up || n->kv.applied_index < st.commit_index ||
            raft_leader(n->raft) != leader->id) {
            snprintf(why, size, "member n%llu is %s (leader n%llu, commit %llu)",
                     (unsigned long long)st.conf.members[i].id,
                     n == NULL || !n->up                     ? "down"
                     : n->kv.applied_index < st.commit_index ? "behind"
                                                             : "not following the leader",
                     l, (unsigned long long)st.commit_index);
            return false;
        }
    }
    for (uint32_t i = 0; i < sim->clients.count; i++) {
        if (sim->clients.clients[i].state != SIM_CLIENT_DONE) {
            snprintf(why, size, "client c%u has no answer since the faults ended", i + 1);
            return false;
        }
    }
    return true;
}

/* Where every node stands, for the person reading a liveness failure's trace. */
static void liveness_trace_nodes(struct sim *sim)
{
    for (uint32_t i = 0; i < sim->node_count && sim_tracing(sim); i++) {
        struct sim_node *n = &sim->nodes[i];
        if (!n->up) {
            sim_trace_node(sim, n->id, "status: down%s", n->retired ? " (removed)" : "");
            continue;
        }
        struct raft_status st;
        raft_status(n->raft, &st);
        const struct raft_member *self = raft_conf_find(&st.conf, n->id);
        sim_trace_node(sim, n->id,
                       "status: %s term %llu vote %llu leader %llu, log %llu..%llu (last term "
                       "%llu), commit %llu, applied %llu, %s in its configuration (%u voters)",
                       raft_role_name(st.role), (unsigned long long)st.term,
                       (unsigned long long)st.vote, (unsigned long long)st.leader,
                       (unsigned long long)st.snapshot_index + 1, (unsigned long long)st.last_index,
                       (unsigned long long)st.last_term, (unsigned long long)st.commit_index,
                       (unsigned long long)st.applied_index,
                       self == NULL               ? "absent"
                       : self->role == RAFT_VOTER ? "voter"
                                                  : "learner",
                       raft_conf_voter_count(&st.conf));
    }
}

void sim_liveness_poll(struct sim *sim)
{
    if (sim->now_us < sim->next_live_check_us) {
        return;
    }
    sim->next_live_check_us = sim->now_us + SIM_TICK_US;
    char why[160];
    if (liveness_converged(sim, why, sizeof(why))) {
        sim->phase = SIM_PHASE_DONE;
        sim->result->stats.converged_us = sim->now_us;
        struct sim_node *leader = sim_cluster_leader(sim);
        sim_trace(sim, "--",
                  "=== converged: n%llu leads term %llu, every member applied "
                  "index %llu, every client answered ===",
                  (unsigned long long)leader->id, (unsigned long long)raft_term(leader->raft),
                  (unsigned long long)raft_commit_index(leader->raft));
    } else if (sim->now_us >= sim->deadline_us) {
        liveness_trace_nodes(sim);
        sim_fail(sim, "liveness", "%u ticks after the faults ended: %s", SIM_LIVENESS_TICKS, why);
    }
}
