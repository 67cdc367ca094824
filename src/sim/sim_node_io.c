/* sim_node_io.c: the raft_driver callbacks of a simulated node: send to the simulated
 * network, persist to the simulated disk (asynchronously), apply to the key-value state
 * machine, and serve reads. */
#include <stdio.h>

#include "base/assert.h"
#include "sim/sim_cluster.h"
#include "sim/sim_trace.h"
#include "sim/sim_world.h"

static void io_send(void *ctx, const struct raft_message *msg)
{
    struct sim_node *node = ctx;
    if (msg->from != node->id) {
        sim_fail(node->sim, "message addressing", "n%llu sends a %s that claims to be from n%llu",
                 (unsigned long long)node->id, raft_msg_type_name(msg->type),
                 (unsigned long long)msg->from);
        return;
    }
    sim_check_ack(node->sim, node, msg);
    sim_net_send(node->sim, msg);
}

/* --trace-messages: what a Ready asks the disk to make durable, and what it sends after. */
static void io_trace_write(const struct sim *sim, const struct sim_node *node,
                           const struct raft_ready *rd)
{
    if (!sim->options.trace_messages || !sim_tracing(sim)) {
        return;
    }
    char entries[64];
    sim_entries_text(rd->entries, rd->entry_count, entries, sizeof(entries));
    sim_trace_node(sim, node->id, "disk write starts: %s%s%s, then %u messages go out", entries,
                   rd->hard_state_changed ? ", hard state" : "",
                   rd->snapshot_chunk ? ", snapshot chunk" : "", rd->persisted_message_count);
}

static int io_persist(void *ctx, const struct raft_ready *rd)
{
    struct sim_node *node = ctx;
    struct sim *sim = node->sim;
    ASSERT(rd->must_sync);
    ASSERT(sim_disk_begin(&node->disk, rd) == 0);
    io_trace_write(sim, node, rd);
    uint64_t latency = node->disk.slow ? prng_range(&sim->prng, 1000, sim->swarm.slow_disk_us_max)
                                       : prng_range(&sim->prng, 20, 400);
    sim_schedule(sim, latency, SIM_EVENT_DISK, (uint32_t)node->id - 1, node->incarnation, NULL);
    return RAFT_DRIVER_PENDING;
}

static void conf_describe(const struct raft_conf *conf, char *out, size_t size)
{
    size_t used = (size_t)snprintf(out, size, "voters");
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1 && used < size) {
            used += (size_t)snprintf(out + used, size - used, ", learners");
        }
        for (uint32_t i = 0; i < conf->member_count && used < size; i++) {
            const struct raft_member *m = &conf->members[i];
            if ((m->role == RAFT_VOTER) == (pass == 0)) {
                used +=
                    (size_t)snprintf(out + used, size - used, " n%llu", (unsigned long long)m->id);
            }
        }
    }
}

/* The first node to apply a configuration makes it the cluster's: members are noted, and
 * removed ones are shut down after a grace period, as an operator would. */
static void io_apply_conf(struct sim *sim, const struct raft_entry *entry)
{
    struct raft_conf conf;
    if (raft_conf_decode(entry->data, entry->data_size, &conf) != 0) {
        sim_fail(sim, "entry content", "the configuration entry at %llu does not decode",
                 (unsigned long long)entry->index);
        return;
    }
    char text[256];
    conf_describe(&conf, text, sizeof(text));
    sim_trace(sim, "--", "configuration at index %llu is committed: %s",
              (unsigned long long)entry->index, text);
    sim->conf = conf;
    for (uint32_t i = 0; i < sim->node_count; i++) {
        struct sim_node *n = &sim->nodes[i];
        if (raft_conf_find(&conf, n->id) != NULL) {
            n->was_member = true;
        } else if (n->was_member && !n->retired) {
            sim_schedule(sim, 500000, SIM_EVENT_RETIRE, i, 0, NULL);
        }
    }
}

static void io_apply(void *ctx, const struct raft_entry *entry)
{
    struct sim_node *node = ctx;
    struct sim *sim = node->sim;
    if (entry->index != node->kv.applied_index + 1) {
        sim_fail(sim, "apply order", "n%llu applies index %llu after %llu",
                 (unsigned long long)node->id, (unsigned long long)entry->index,
                 (unsigned long long)node->kv.applied_index);
        return;
    }
    bool cas_ok = false;
    if (entry->type == RAFT_ENTRY_NORMAL) {
        struct sim_kv_cmd cmd;
        if (sim_kv_cmd_decode(entry->data, entry->data_size, &cmd) != 0) {
            sim_fail(sim, "entry content", "n%llu applies an undecodable command at %llu",
                     (unsigned long long)node->id, (unsigned long long)entry->index);
            return;
        }
        cas_ok = sim_kv_apply(&node->kv, &cmd);
    }
    node->kv.applied_index = entry->index;
    if (entry->type == RAFT_ENTRY_CONF && sim_check_applied_at(sim, entry->index) == NULL) {
        io_apply_conf(sim, entry);
    }
    sim_check_applied(sim, node, entry, cas_ok);
    sim_clients_on_apply(sim, node, entry, cas_ok);
    if (node->apply_first == 0) {
        node->apply_first = entry->index;
    }
    node->apply_last = entry->index;
}

static void io_read(void *ctx, uint64_t request_id, uint64_t index)
{
    struct sim_node *node = ctx;
    if (index > node->kv.applied_index) {
        sim_fail(node->sim, "read index", "n%llu serves a read at index %llu, applied only %llu",
                 (unsigned long long)node->id, (unsigned long long)index,
                 (unsigned long long)node->kv.applied_index);
        return;
    }
    sim_clients_on_read(node->sim, node, request_id, index);
}

void sim_node_io_init(struct sim_node *node)
{
    node->io = (struct raft_driver_io){
        .ctx = node, .send = io_send, .persist = io_persist, .apply = io_apply, .read = io_read};
}
