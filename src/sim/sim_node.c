/* sim_node.c: after every input to a node: run its driver, take a snapshot when due, observe
 * what changed (for the trace) and check it; and finishing a node's disk write. */
#include <stdio.h>

#include "base/assert.h"
#include "base/err.h"
#include "sim/sim_cluster.h"
#include "sim/sim_trace.h"
#include "sim/sim_world.h"

static void node_trace_role(struct sim *sim, const struct sim_node *node, enum raft_role role,
                            uint64_t term, raft_id leader)
{
    unsigned long long t = (unsigned long long)term;
    switch (role) {
    case RAFT_LEADER:
        sim_trace_node(sim, node->id, "becomes LEADER  term %llu", t);
        break;
    case RAFT_CANDIDATE:
        sim_trace_node(sim, node->id,
                       "becomes candidate  term %llu: votes for itself, asks for votes", t);
        break;
    case RAFT_PRE_CANDIDATE:
        sim_trace_node(sim, node->id,
                       "becomes pre-candidate  term %llu: asks whether it could win (pre-vote)", t);
        break;
    case RAFT_FOLLOWER:
        if (leader != 0) {
            sim_trace_node(sim, node->id, "follows n%llu  term %llu", (unsigned long long)leader,
                           t);
        } else {
            sim_trace_node(sim, node->id, "becomes follower  term %llu", t);
        }
        break;
    }
}

static void node_observe(struct sim *sim, struct sim_node *node)
{
    enum raft_role role = raft_role(node->raft);
    uint64_t term = raft_term(node->raft);
    raft_id leader = raft_leader(node->raft);
    uint64_t commit = raft_commit_index(node->raft);
    if (term < node->term || commit < node->commit) {
        sim_fail(sim, term < node->term ? "terms only grow" : "commit only grows",
                 "n%llu went from term %llu, commit %llu to term %llu, commit %llu",
                 (unsigned long long)node->id, (unsigned long long)node->term,
                 (unsigned long long)node->commit, (unsigned long long)term,
                 (unsigned long long)commit);
        return;
    }
    bool changed = role != node->role || term != node->term;
    if (changed || (leader != node->leader && leader != 0)) {
        node_trace_role(sim, node, role, term, leader);
    }
    if (changed && role == RAFT_LEADER) {
        sim->result->stats.leaders++;
        sim_check_new_leader(sim, node);
        sim_faults_on_leader(sim, node);
    }
    if (role == RAFT_LEADER && node->role == RAFT_LEADER && term == node->term &&
        commit > node->commit) {
        sim_check_leader_commit(sim, node, commit);
    }
    if (role == RAFT_LEADER && commit > node->commit) {
        sim_trace_node(sim, node->id, "commits up to index %llu", (unsigned long long)commit);
        sim_faults_on_commit(sim, node);
    }
    if (node->apply_last != 0) {
        sim_trace_node(sim, node->id, "applies %llu..%llu", (unsigned long long)node->apply_first,
                       (unsigned long long)node->apply_last);
        node->apply_first = node->apply_last = 0;
    }
    node->role = role;
    node->term = term;
    node->leader = leader;
    node->commit = commit;
    sim_check_node(sim, node);
}

/* Raft thesis 5.1: each server snapshots independently, at its applied index, then drops the
 * log the snapshot covers (keeping a few trailing entries to serve slow followers). */
static void node_maybe_snapshot(struct sim *sim, struct sim_node *node)
{
    uint64_t applied = node->kv.applied_index;
    if (applied < node->disk.snapshot.index + sim->swarm.snapshot_every) {
        return;
    }
    struct raft_snapshot_meta meta;
    int rc = raft_snapshot_meta_at(node->raft, applied, &meta);
    if (rc != 0) {
        struct raft_status st;
        raft_status(node->raft, &st);
        if (st.snapshot_index > applied) {
            return; /* a snapshot from the leader is being installed: it supersedes ours */
        }
        sim_fail(sim, "snapshot",
                 "raft_snapshot_meta_at(n%llu, applied %llu): %s (the core says applied %llu, "
                 "snapshot %llu)",
                 (unsigned long long)node->id, (unsigned long long)applied, syn_errname(rc),
                 (unsigned long long)st.applied_index, (unsigned long long)st.snapshot_index);
        return;
    }
    uint8_t data[SIM_KV_SNAPSHOT_SIZE];
    meta.size = sim_kv_snapshot(&node->kv, data);
    ASSERT(sim_disk_store_snapshot(&node->disk, &meta, data, (uint32_t)meta.size) == 0);
    rc = raft_compact(node->raft, &meta, sim->swarm.snapshot_trailing);
    if (rc != 0) {
        sim_fail(sim, "snapshot", "raft_compact(n%llu, index %llu): %s",
                 (unsigned long long)node->id, (unsigned long long)meta.index, syn_errname(rc));
        return;
    }
    sim->result->stats.snapshots++;
    sim_trace_node(sim, node->id, "takes a snapshot at index %llu (term %llu), compacts its log",
                   (unsigned long long)meta.index, (unsigned long long)meta.term);
}

/* What follows every input once the driver (its function what) has run and returned rc. */
static void node_settle(struct sim *sim, struct sim_node *node, int rc, const char *what)
{
    if (rc != 0) {
        sim_fail(sim, "driver", "%s(n%llu): %s", what, (unsigned long long)node->id,
                 syn_errname(rc));
        return;
    }
    if (sim->failed) {
        return;
    }
    node_observe(sim, node);
    if (!sim->failed) {
        node_maybe_snapshot(sim, node);
    }
}

void sim_node_run(struct sim *sim, struct sim_node *node)
{
    ASSERT(node->up);
    node_settle(sim, node, raft_driver_run(&node->driver), "raft_driver_run");
}

/* A snapshot from the leader was installed: the state machine restarts from it. */
static void node_installed(struct sim *sim, struct sim_node *node)
{
    const struct sim_disk *disk = &node->disk;
    if (sim_kv_restore(&node->kv, disk->snapshot_data, disk->snapshot.size) != 0 ||
        node->kv.applied_index != disk->snapshot.index) {
        sim_fail(sim, "snapshot content", "n%llu installs a snapshot at %llu that does not decode",
                 (unsigned long long)node->id, (unsigned long long)disk->snapshot.index);
        return;
    }
    sim->result->stats.installs++;
    sim_trace_node(sim, node->id, "installs the leader's snapshot at index %llu (term %llu)",
                   (unsigned long long)disk->snapshot.index,
                   (unsigned long long)disk->snapshot.term);
    sim_check_restored(sim, node);
    sim_clients_on_restore(sim, node);
}

void sim_node_disk_done(struct sim *sim, struct sim_node *node, uint64_t incarnation)
{
    if (!node->up || incarnation != node->incarnation || !node->disk.pending) {
        return;
    }
    const struct sim_disk_write *w = &node->disk.write;
    if (sim->options.trace_messages) {
        sim_trace_node(sim, node->id, "disk write lands");
    }
    sim_check_write(sim, node, w);
    bool install = w->install;
    uint64_t first = w->entry_count > 0 ? w->entries[0].index : 0;
    uint64_t last = w->entry_count > 0 ? w->entries[w->entry_count - 1].index : 0;
    const char *problem = sim_disk_finish(&node->disk);
    if (problem != NULL) {
        sim_fail(sim, "storage rules", "n%llu: %s", (unsigned long long)node->id, problem);
        return;
    }
    if (first <= node->disk.snapshot.index) {
        first = node->disk.snapshot.index + 1;
    }
    if (last >= first) {
        sim_check_persisted(sim, node, first, last);
    }
    if (install && !sim->failed) {
        node_installed(sim, node);
    }
    if (sim->failed) {
        return;
    }
    node_settle(sim, node, raft_driver_persisted(&node->driver), "raft_driver_persisted");
}
