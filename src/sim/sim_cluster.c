/* sim_cluster.c: creating, starting, crashing and restarting simulated nodes, and feeding
 * them their inputs. Every input is followed by sim_node_run(): the driver carries out the
 * Ready, then the node is observed and checked. */
#include "sim/sim_cluster.h"

#include <stdio.h>
#include <stdlib.h>

#include "base/assert.h"
#include "base/err.h"
#include "sim/sim_trace.h"
#include "sim/sim_world.h"

static void conf_add(struct raft_conf *conf, raft_id id, uint8_t role)
{
    ASSERT(conf->member_count < SYN_MEMBERS_MAX);
    struct raft_member *m = &conf->members[conf->member_count++];
    *m = (struct raft_member){.id = id, .role = role};
    m->addr_size = (uint8_t)snprintf(m->addr, sizeof(m->addr), "n%llu", (unsigned long long)id);
}

int sim_cluster_init(struct sim *sim)
{
    struct raft_conf initial = {0};
    struct raft_conf empty = {0};
    for (uint32_t i = 0; i < sim->voter_count; i++) {
        conf_add(&initial, i + 1, RAFT_VOTER);
    }
    sim->conf = initial;
    for (uint32_t i = 0; i < sim->node_count; i++) {
        struct sim_node *node = &sim->nodes[i];
        *node = (struct sim_node){.sim = sim, .id = i + 1, .tick_us = sim->swarm.tick_us[i]};
        node->was_member = i < sim->voter_count;
        sim_disk_init(&node->disk, i < sim->voter_count ? &initial : &empty);
        sim_node_io_init(node);
    }
    for (uint32_t i = 0; i < sim->node_count && !sim->failed; i++) {
        sim_node_start(sim, &sim->nodes[i]);
    }
    return 0;
}

void sim_cluster_free(struct sim *sim)
{
    for (uint32_t i = 0; i < sim->node_count; i++) {
        struct sim_node *node = &sim->nodes[i];
        if (node->raft != NULL) {
            raft_driver_abandon(&node->driver);
            raft_destroy(node->raft);
            node->raft = NULL;
        }
        sim_disk_free(&node->disk);
    }
}

struct sim_node *sim_cluster_node(struct sim *sim, raft_id id)
{
    if (id == 0 || id > sim->node_count) {
        return NULL;
    }
    return &sim->nodes[id - 1];
}

struct sim_node *sim_cluster_leader(struct sim *sim)
{
    struct sim_node *best = NULL;
    for (uint32_t i = 0; i < sim->node_count; i++) {
        struct sim_node *n = &sim->nodes[i];
        if (n->up && raft_role(n->raft) == RAFT_LEADER &&
            (best == NULL || raft_term(n->raft) > raft_term(best->raft))) {
            best = n;
        }
    }
    return best;
}

struct sim_node *sim_cluster_random_up(struct sim *sim, struct prng *prng)
{
    uint32_t up = 0;
    struct sim_node *pick = NULL;
    for (uint32_t i = 0; i < sim->node_count; i++) {
        struct sim_node *n = &sim->nodes[i];
        if (n->up && prng_range(prng, 0, up++) == 0) {
            pick = n; /* reservoir sampling: uniform over up nodes */
        }
    }
    return pick;
}

static void node_config(struct sim *sim, struct sim_node *node, struct raft_config *config)
{
    const struct sim_swarm *s = &sim->swarm;
    raft_config_default(config, node->id);
    config->election_ticks = s->election_ticks;
    config->heartbeat_ticks = s->heartbeat_ticks;
    config->append_entries_max = s->append_entries_max;
    config->inflight_max = s->inflight_max;
    config->snapshot_chunk_size = s->snapshot_chunk_size;
    config->pre_vote = s->pre_vote;
    config->check_quorum = s->check_quorum;
    config->seed = prng_next(&sim->prng);
    config->mutants = sim->options.mutants;
}

/* The state machine restarts from the durable snapshot. */
static bool node_restore_kv(struct sim *sim, struct sim_node *node)
{
    sim_kv_init(&node->kv);
    const struct sim_disk *disk = &node->disk;
    if (disk->snapshot.index == 0) {
        return true;
    }
    if (sim_kv_restore(&node->kv, disk->snapshot_data, disk->snapshot.size) != 0 ||
        node->kv.applied_index != disk->snapshot.index) {
        sim_fail(sim, "snapshot content", "n%llu's durable snapshot at %llu does not decode",
                 (unsigned long long)node->id, (unsigned long long)disk->snapshot.index);
        return false;
    }
    return true;
}

static void node_trace_start(struct sim *sim, const struct sim_node *node)
{
    if (!sim_tracing(sim)) {
        return;
    }
    const struct sim_disk *d = &node->disk;
    char log[64] = "no log entries";
    if (d->entry_count > 0) {
        snprintf(log, sizeof(log), "log %llu..%llu", (unsigned long long)d->entries[0].index,
                 (unsigned long long)sim_disk_last_index(d));
    }
    char vote[24] = "none";
    if (d->hard_state.vote != 0) {
        snprintf(vote, sizeof(vote), "n%llu", (unsigned long long)d->hard_state.vote);
    }
    sim_trace_node(sim, node->id, "%s: term %llu, vote %s, %s, snapshot at %llu, commit %llu",
                   node->incarnation > 0 ? "RESTARTS from its disk"
                   : node->was_member    ? "starts"
                                         : "starts as a spare, outside the cluster",
                   (unsigned long long)d->hard_state.term, vote, log,
                   (unsigned long long)d->snapshot.index, (unsigned long long)d->hard_state.commit);
}

void sim_node_start(struct sim *sim, struct sim_node *node)
{
    ASSERT(!node->up);
    ASSERT(!node->retired);
    struct raft_config config;
    node_config(sim, node, &config);
    struct raft_restore restore;
    struct raft_entry *entries = NULL;
    ASSERT(sim_disk_restore(&node->disk, &restore, &entries) == 0);
    int rc = raft_create(&node->raft, &config, &restore);
    if (rc != 0) {
        char why[256] = "";
        raft_validate(&config, &restore, why, sizeof(why));
        free(entries);
        sim_fail(sim, "restart", "raft_create refused n%llu's durable state: %s (%s)",
                 (unsigned long long)node->id, why, syn_errname(rc));
        return;
    }
    free(entries);
    if (!node_restore_kv(sim, node)) {
        return;
    }
    node_trace_start(sim, node);
    raft_driver_init(&node->driver, node->raft, &node->io);
    node->up = true;
    node->role = raft_role(node->raft);
    node->term = raft_term(node->raft);
    node->leader = raft_leader(node->raft);
    node->commit = raft_commit_index(node->raft);
    sim_schedule(sim, prng_range(&sim->prng, 1, node->tick_us), SIM_EVENT_TICK,
                 (uint32_t)node->id - 1, node->incarnation, NULL);
    sim_node_run(sim, node);
}

void sim_node_crash(struct sim *sim, struct sim_node *node, const char *why)
{
    if (!node->up) {
        return;
    }
    char lost[96] = "";
    if (node->disk.pending) {
        snprintf(lost, sizeof(lost), "; its unsynced write (%u entries%s) is lost",
                 node->disk.write.entry_count,
                 node->disk.write.hard_state_changed ? ", hard state" : "");
    }
    sim_trace_node(sim, node->id, "CRASHES (%s)%s", why, lost);
    raft_driver_abandon(&node->driver);
    raft_destroy(node->raft);
    node->raft = NULL;
    sim_disk_crash(&node->disk);
    node->up = false;
    node->incarnation++;
    node->apply_first = node->apply_last = 0;
    sim->result->stats.crashes++;
    sim_clients_on_crash(sim, node);
}

void sim_node_retire(struct sim *sim, struct sim_node *node)
{
    if (node->retired || raft_conf_find(&sim->conf, node->id) != NULL) {
        return;
    }
    sim_node_crash(sim, node, "removed from the cluster: shut down for good");
    node->retired = true;
}

void sim_node_tick(struct sim *sim, struct sim_node *node, uint64_t incarnation)
{
    if (!node->up || incarnation != node->incarnation) {
        return;
    }
    raft_tick(node->raft);
    sim_node_run(sim, node);
    if (node->up) {
        /* A little jitter, so that equal clocks do not tick in lock step forever. */
        uint64_t next = node->tick_us + prng_range(&sim->prng, 0, node->tick_us / 20);
        sim_schedule(sim, next, SIM_EVENT_TICK, (uint32_t)node->id - 1, node->incarnation, NULL);
    }
}

void sim_node_receive(struct sim *sim, struct sim_node *node, const struct raft_message *msg)
{
    int rc = raft_step(node->raft, msg);
    if (rc == SYN_EBADMSG) {
        sim_fail(sim, "message validity", "n%llu rejects a %s from n%llu as malformed: %s",
                 (unsigned long long)node->id, raft_msg_type_name(msg->type),
                 (unsigned long long)msg->from, raft_errmsg(node->raft));
        return;
    }
    sim_node_run(sim, node);
}
