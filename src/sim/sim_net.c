/* sim_net.c: message copies in flight, loss, duplication, delay, reordering and partitions
 * (after tigerbeetle's packet_simulator: every packet is an event with its own arrival). */
#include "sim/sim_net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "sim/sim_trace.h"
#include "sim/sim_world.h"

void sim_net_init(struct sim_net *net)
{
    *net = (struct sim_net){0};
    sim_net_heal(net);
}

void sim_net_heal(struct sim_net *net)
{
    for (uint32_t a = 0; a < SIM_NODES_MAX; a++) {
        for (uint32_t b = 0; b < SIM_NODES_MAX; b++) {
            net->reach[a][b] = true;
        }
    }
    net->partition_epoch++;
}

/* One allocation holds the message, its entries and all their bytes. chunk is the snapshot
 * chunk a SNAPSHOT message carries (the core leaves data NULL), else NULL. */
static struct raft_message *packet_copy(const struct raft_message *msg, const uint8_t *chunk)
{
    size_t bytes = sizeof(*msg) + (size_t)msg->entry_count * sizeof(struct raft_entry);
    for (uint32_t i = 0; i < msg->entry_count; i++) {
        bytes += msg->entries[i].data_size;
    }
    bytes += chunk != NULL ? msg->data_size : 0;
    uint8_t *block = malloc(bytes);
    ASSERT(block != NULL);
    struct raft_message *copy = (struct raft_message *)(void *)block;
    *copy = *msg;
    struct raft_entry *entries = (struct raft_entry *)(void *)(block + sizeof(*msg));
    uint8_t *data = (uint8_t *)(entries + msg->entry_count);
    copy->entries = msg->entry_count > 0 ? entries : NULL;
    for (uint32_t i = 0; i < msg->entry_count; i++) {
        entries[i] = msg->entries[i];
        entries[i].buf = NULL;
        entries[i].data = data;
        if (msg->entries[i].data_size > 0) {
            memcpy(data, msg->entries[i].data, msg->entries[i].data_size);
        }
        data += msg->entries[i].data_size;
    }
    if (chunk != NULL) {
        copy->data = data;
        if (msg->data_size > 0) {
            memcpy(data, chunk, msg->data_size);
        }
    }
    return copy;
}

static void net_drop(struct sim *sim, const struct raft_message *msg, const char *why,
                     bool quiet_per_link)
{
    struct sim_net *net = &sim->net;
    sim->result->stats.dropped++;
    if (!sim_tracing(sim)) {
        return;
    }
    uint32_t a = (uint32_t)msg->from - 1;
    uint32_t b = (uint32_t)msg->to - 1;
    if (quiet_per_link) {
        /* A partition cuts a link for a while: say so once per link and partition. */
        if (net->quiet_epoch[a][b] == net->partition_epoch) {
            return;
        }
        net->quiet_epoch[a][b] = net->partition_epoch;
    }
    sim_trace(sim, "net", "drop n%u->n%u %s: %s%s", a + 1, b + 1, raft_msg_type_name(msg->type),
              why, quiet_per_link ? " (more on this link not shown)" : "");
}

/* The bytes a SNAPSHOT message carries, from the sender's durable snapshot. NULL when the
 * sender no longer has that snapshot. */
static const uint8_t *net_snapshot_chunk(struct sim *sim, const struct raft_message *msg)
{
    const struct sim_disk *disk = &sim->nodes[msg->from - 1].disk;
    if (disk->snapshot.index != msg->snapshot.index || disk->snapshot.index == 0) {
        return NULL;
    }
    if (msg->offset + msg->data_size > disk->snapshot.size) {
        sim_fail(sim, "snapshot transfer",
                 "n%llu sends a chunk [%llu, +%u) of a %llu-byte snapshot",
                 (unsigned long long)msg->from, (unsigned long long)msg->offset, msg->data_size,
                 (unsigned long long)disk->snapshot.size);
        return NULL;
    }
    return disk->snapshot_data + msg->offset;
}

static uint64_t net_arrival(struct sim *sim, uint32_t a, uint32_t b)
{
    struct sim_net *net = &sim->net;
    uint64_t at = sim->now_us + prng_range(&sim->prng, net->delay_min_us, net->delay_max_us);
    if (!net->reorder) {
        if (at < net->link_last_us[a][b]) {
            at = net->link_last_us[a][b];
        }
        net->link_last_us[a][b] = at;
    }
    return at;
}

static void net_enqueue(struct sim *sim, const struct raft_message *msg, const uint8_t *chunk)
{
    struct sim_net *net = &sim->net;
    if (net->inflight == SIM_PACKETS_MAX) {
        net_drop(sim, msg, "too many messages in flight", false);
        return;
    }
    uint32_t a = (uint32_t)msg->from - 1;
    uint32_t b = (uint32_t)msg->to - 1;
    uint64_t at = net_arrival(sim, a, b);
    net->inflight++;
    sim_schedule(sim, at - sim->now_us, SIM_EVENT_DELIVER, b, 0, packet_copy(msg, chunk));
}

void sim_net_send(struct sim *sim, const struct raft_message *msg)
{
    struct sim_net *net = &sim->net;
    if (msg->from == 0 || msg->from > sim->node_count || msg->to == 0 ||
        msg->to > sim->node_count || msg->to == msg->from) {
        sim_fail(sim, "message addressing", "a %s from n%llu to n%llu",
                 raft_msg_type_name(msg->type), (unsigned long long)msg->from,
                 (unsigned long long)msg->to);
        return;
    }
    sim->result->stats.messages++;
    const uint8_t *chunk = NULL;
    if (msg->type == RAFT_MSG_SNAPSHOT) {
        chunk = net_snapshot_chunk(sim, msg);
        if (chunk == NULL) {
            net_drop(sim, msg, "the sender no longer has that snapshot", false);
            return;
        }
    }
    if (!net->reach[msg->from - 1][msg->to - 1]) {
        net_drop(sim, msg, "partition", true);
        return;
    }
    if (net->loss_ppm > 0 && prng_chance(&sim->prng, net->loss_ppm)) {
        net_drop(sim, msg, "lost", false);
        return;
    }
    net_enqueue(sim, msg, chunk);
    if (net->dup_ppm > 0 && prng_chance(&sim->prng, net->dup_ppm)) {
        net_enqueue(sim, msg, chunk);
    }
}

static void net_trace_delivery(const struct sim *sim, const struct raft_message *m)
{
    if (!sim->options.trace_messages || !sim_tracing(sim)) {
        return;
    }
    char entries[64] = "";
    if (m->entry_count > 0) {
        entries[0] = ' ';
        sim_entries_text(m->entries, m->entry_count, entries + 1, sizeof(entries) - 1);
    }
    sim_trace(sim, "net", "n%llu->n%llu %s term %llu index %llu log_term %llu commit %llu%s%s",
              (unsigned long long)m->from, (unsigned long long)m->to, raft_msg_type_name(m->type),
              (unsigned long long)m->term, (unsigned long long)m->index,
              (unsigned long long)m->log_term, (unsigned long long)m->commit,
              m->flags & RAFT_FLAG_REJECT ? " REJECT" : "", entries);
}

void sim_net_deliver(struct sim *sim, struct raft_message *packet)
{
    struct sim_net *net = &sim->net;
    ASSERT(net->inflight > 0);
    net->inflight--;
    struct sim_node *to = &sim->nodes[packet->to - 1];
    if (!net->reach[packet->from - 1][packet->to - 1]) {
        net_drop(sim, packet, "partition, cut in flight", true);
    } else if (!to->up) {
        sim->result->stats.dropped++;
    } else {
        net_trace_delivery(sim, packet);
        sim_node_receive(sim, to, packet);
    }
    free(packet);
}
