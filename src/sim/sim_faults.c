/* sim_faults.c: the fault phase's schedule and the heal that ends it. */
#include "sim/sim_faults.h"

#include "base/assert.h"
#include "sim/sim_trace.h"
#include "sim/sim_world.h"

/* Faults that the schedule starts one at a time (the others are rates set once). */
#define FAULTS_SCHEDULED                                                                           \
    (SIM_FAULT_PARTITION | SIM_FAULT_CRASH | SIM_FAULT_SLOW_DISK | SIM_FAULT_MEMBERSHIP |          \
     SIM_FAULT_TRANSFER)

void sim_faults_start(struct sim *sim)
{
    const struct sim_swarm *s = &sim->swarm;
    struct sim_net *net = &sim->net;
    net->loss_ppm = s->loss_ppm;
    net->dup_ppm = s->dup_ppm;
    net->delay_min_us = s->delay_min_us;
    net->delay_max_us = s->delay_max_us;
    net->reorder = s->faults & SIM_FAULT_REORDER;
    if (s->faults & FAULTS_SCHEDULED) {
        sim_schedule(sim, prng_range(&sim->fault_prng, 1, s->fault_gap_us), SIM_EVENT_FAULT, 0, 0,
                     NULL);
    }
    sim_schedule(sim, s->fault_phase_us, SIM_EVENT_HEAL, 0, 0, NULL);
}

/* A random up node; the leader with a third of the chances, as it matters most. */
static struct sim_node *faults_pick_up(struct sim *sim)
{
    struct sim_node *leader = sim_cluster_leader(sim);
    if (leader != NULL && prng_chance(&sim->fault_prng, 333333)) {
        return leader;
    }
    return sim_cluster_random_up(sim, &sim->fault_prng);
}

static void faults_crash_node(struct sim *sim, struct sim_node *node, const char *why,
                              uint64_t downtime_us_max)
{
    sim_node_crash(sim, node, why);
    uint64_t downtime = prng_range(&sim->fault_prng, 10000, downtime_us_max);
    sim_schedule(sim, downtime, SIM_EVENT_RESTART, (uint32_t)node->id - 1, node->incarnation, NULL);
}

static void faults_crash(struct sim *sim)
{
    struct sim_node *node = faults_pick_up(sim);
    if (node != NULL) {
        faults_crash_node(sim, node, "fault", sim->swarm.downtime_us_max);
    }
}

/* Leader churn: a leader falls right after it wins or right after it commits, before or
 * after its messages spread; half the time at once (an isolation then also cuts what is in
 * flight). Raft figure 3.7 and "committed entries survive the leader" live in these windows. */
static void faults_churn(struct sim *sim, struct sim_node *node, uint32_t per_million)
{
    const struct sim_swarm *s = &sim->swarm;
    struct prng *p = &sim->fault_prng;
    if (sim->phase != SIM_PHASE_FAULTS || !(s->faults & SIM_FAULT_CHURN) ||
        !prng_chance(p, per_million)) {
        return;
    }
    uint64_t delay = prng_chance(p, 500000) ? 0 : prng_range(p, 1, s->churn_delay_us_max);
    uint32_t kind = prng_chance(p, 500000) ? SIM_EVENT_CRASH : SIM_EVENT_ISOLATE;
    sim_schedule(sim, delay, kind, (uint32_t)node->id - 1, node->incarnation, NULL);
}

void sim_faults_on_leader(struct sim *sim, struct sim_node *node)
{
    faults_churn(sim, node, sim->swarm.churn_ppm);
}

void sim_faults_on_commit(struct sim *sim, struct sim_node *node)
{
    faults_churn(sim, node, sim->swarm.churn_ppm / 2);
}

void sim_faults_crash_due(struct sim *sim, struct sim_node *node, uint64_t incarnation)
{
    if (sim->phase == SIM_PHASE_FAULTS && node->up && node->incarnation == incarnation) {
        faults_crash_node(sim, node, "leader churn", 200000);
    }
}

void sim_faults_isolate_due(struct sim *sim, struct sim_node *node, uint64_t incarnation)
{
    if (sim->phase != SIM_PHASE_FAULTS || !node->up || node->incarnation != incarnation) {
        return;
    }
    if (!sim->faults.partitioned) {
        sim->faults.partitioned = true;
        sim->faults.partition_generation++;
        sim->net.partition_epoch++;
        uint64_t duration = prng_range(&sim->fault_prng, 20000, 400000);
        sim_schedule(sim, duration, SIM_EVENT_PARTITION_END, 0, sim->faults.partition_generation,
                     NULL);
    }
    sim_partition_isolate(sim, node, "leader churn");
}

static void faults_slow_disk(struct sim *sim)
{
    uint32_t slot = (uint32_t)prng_range(&sim->fault_prng, 0, sim->node_count - 1);
    struct sim_disk *disk = &sim->nodes[slot].disk;
    disk->slow = !disk->slow;
    if (disk->slow) {
        sim_trace_node(sim, slot + 1, "its disk becomes SLOW (syncs take up to %llu ms)",
                       (unsigned long long)sim->swarm.slow_disk_us_max / 1000);
    } else {
        sim_trace_node(sim, slot + 1, "its disk is fast again");
    }
}

static void faults_partition(struct sim *sim)
{
    if (sim->faults.partitioned) {
        return;
    }
    enum sim_partition_kind kind = (enum sim_partition_kind)prng_range(&sim->fault_prng, 0, 3);
    sim_partition_start(sim, kind);
    uint64_t duration = prng_range(&sim->fault_prng, 50000, sim->swarm.partition_us_max);
    sim_schedule(sim, duration, SIM_EVENT_PARTITION_END, 0, sim->faults.partition_generation, NULL);
}

void sim_faults_step(struct sim *sim)
{
    if (sim->phase != SIM_PHASE_FAULTS) {
        return;
    }
    uint32_t enabled = sim->swarm.faults & FAULTS_SCHEDULED;
    ASSERT(enabled != 0);
    uint32_t pick;
    do {
        pick = 1u << prng_range(&sim->fault_prng, 0, SIM_FAULT_COUNT - 1);
    } while (!(enabled & pick));
    if (pick == SIM_FAULT_PARTITION) {
        faults_partition(sim);
    } else if (pick == SIM_FAULT_CRASH) {
        faults_crash(sim);
    } else if (pick == SIM_FAULT_SLOW_DISK) {
        faults_slow_disk(sim);
    } else if (pick == SIM_FAULT_MEMBERSHIP) {
        sim_member_change(sim);
    } else {
        sim_member_transfer(sim);
    }
    uint64_t gap = sim->swarm.fault_gap_us;
    sim_schedule(sim, prng_range(&sim->fault_prng, gap / 2, gap + gap / 2), SIM_EVENT_FAULT, 0, 0,
                 NULL);
}

void sim_faults_heal(struct sim *sim)
{
    sim->phase = SIM_PHASE_LIVENESS;
    sim->result->stats.heal_us = sim->now_us;
    sim->deadline_us = sim->now_us + (uint64_t)SIM_LIVENESS_TICKS * SIM_TICK_US;
    sim->next_live_check_us = sim->now_us;
    sim->clients.heal_clock = sim->clients.clock;
    sim_trace(sim, "--",
              "=== faults end: network healed, no loss, crashed nodes restart, disks "
              "fast; the cluster must converge within %u ticks ===",
              SIM_LIVENESS_TICKS);
    struct sim_net *net = &sim->net;
    sim_net_heal(net);
    sim->faults.partitioned = false;
    net->loss_ppm = 0;
    net->dup_ppm = 0;
    net->delay_max_us = net->delay_min_us + 2000;
    for (uint32_t i = 0; i < sim->node_count && !sim->failed; i++) {
        struct sim_node *node = &sim->nodes[i];
        node->disk.slow = false;
        if (!node->up && !node->retired) {
            sim_node_start(sim, node);
        }
    }
}
