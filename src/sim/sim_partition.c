/* sim_partition.c: the shapes of network partitions, as a reachability matrix. */
#include <stdio.h>
#include <string.h>

#include "sim/sim_faults.h"
#include "sim/sim_trace.h"
#include "sim/sim_world.h"

static void cut(struct sim_net *net, uint32_t a, uint32_t b)
{
    net->reach[a][b] = false;
}

/* Splits the nodes in two non-empty sides at random: side[i] is 0 or 1. */
static void partition_sides(struct sim *sim, uint8_t side[SIM_NODES_MAX])
{
    uint32_t n = sim->node_count;
    do {
        for (uint32_t i = 0; i < n; i++) {
            side[i] = (uint8_t)prng_range(&sim->fault_prng, 0, 1);
        }
        uint32_t ones = 0;
        for (uint32_t i = 0; i < n; i++) {
            ones += side[i];
        }
        if (ones > 0 && ones < n) {
            return;
        }
    } while (true);
}

static void sides_text(const struct sim *sim, const uint8_t side[SIM_NODES_MAX], uint32_t bridge,
                       char *out, size_t size)
{
    size_t used = 0;
    for (uint8_t s = 0; s < 2; s++) {
        used += (size_t)snprintf(out + used, size - used, "%s{", s == 0 ? "" : " | ");
        for (uint32_t i = 0; i < sim->node_count && used < size; i++) {
            if (side[i] == s && i != bridge) {
                used += (size_t)snprintf(out + used, size - used, " n%u", i + 1);
            }
        }
        used += (size_t)snprintf(out + used, size - used, " }");
        if (used >= size) {
            return;
        }
    }
    if (bridge < SIM_NODES_MAX) {
        snprintf(out + used, size - used, ", bridge n%u sees both sides", bridge + 1);
    }
}

/* Two sides, and maybe a bridge node that keeps talking to both. */
static void partition_split(struct sim *sim, bool with_bridge)
{
    uint8_t side[SIM_NODES_MAX];
    partition_sides(sim, side);
    uint32_t bridge = with_bridge ? (uint32_t)prng_range(&sim->fault_prng, 0, sim->node_count - 1)
                                  : SIM_NODES_MAX;
    for (uint32_t a = 0; a < sim->node_count; a++) {
        for (uint32_t b = 0; b < sim->node_count; b++) {
            if (side[a] != side[b] && a != bridge && b != bridge) {
                cut(&sim->net, a, b);
            }
        }
    }
    char text[160];
    sides_text(sim, side, bridge, text, sizeof(text));
    sim_trace(sim, "--", "PARTITION (%s): %s", with_bridge ? "bridge" : "symmetric", text);
}

/* Random links carry messages in one direction only. */
static void partition_one_way(struct sim *sim)
{
    char text[SIM_TRACE_LINE_MAX / 2] = "";
    size_t used = 0;
    for (uint32_t a = 0; a < sim->node_count; a++) {
        for (uint32_t b = a + 1; b < sim->node_count; b++) {
            if (!prng_chance(&sim->fault_prng, 300000)) {
                continue;
            }
            bool forward = prng_chance(&sim->fault_prng, 500000);
            uint32_t from = forward ? a : b;
            uint32_t to = forward ? b : a;
            cut(&sim->net, from, to);
            if (used < sizeof(text)) {
                used += (size_t)snprintf(text + used, sizeof(text) - used, " n%u-/->n%u", from + 1,
                                         to + 1);
            }
        }
    }
    sim_trace(sim, "--", "PARTITION (one-way): these links drop messages in one direction:%s",
              used > 0 ? text : " none");
}

void sim_partition_isolate(struct sim *sim, struct sim_node *node, const char *why)
{
    uint32_t x = (uint32_t)node->id - 1;
    for (uint32_t i = 0; i < sim->node_count; i++) {
        cut(&sim->net, x, i);
        cut(&sim->net, i, x);
    }
    sim_trace(sim, "--", "PARTITION (%s): n%u can reach no one, messages in flight included", why,
              x + 1);
}

static void partition_leader(struct sim *sim)
{
    struct sim_node *leader = sim_cluster_leader(sim);
    if (leader == NULL) {
        partition_split(sim, false);
    } else {
        sim_partition_isolate(sim, leader, "leader isolated");
    }
}

void sim_partition_start(struct sim *sim, enum sim_partition_kind kind)
{
    sim->faults.partitioned = true;
    sim->faults.partition_generation++;
    sim->net.partition_epoch++;
    switch (kind) {
    case SIM_PARTITION_SYMMETRIC:
        partition_split(sim, false);
        break;
    case SIM_PARTITION_BRIDGE:
        partition_split(sim, true);
        break;
    case SIM_PARTITION_ONE_WAY:
        partition_one_way(sim);
        break;
    case SIM_PARTITION_LEADER:
        partition_leader(sim);
        break;
    }
}

void sim_partition_end(struct sim *sim, uint64_t generation)
{
    if (!sim->faults.partitioned || generation != sim->faults.partition_generation) {
        return;
    }
    sim->faults.partitioned = false;
    sim->faults.partition_generation++;
    sim_net_heal(&sim->net);
    sim_trace(sim, "--", "partition heals: every node reaches every node");
}
