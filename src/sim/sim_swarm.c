/* sim_swarm.c: picks a seed's fault mix and Raft settings. */
#include "sim/sim_swarm.h"

#include <stdio.h>
#include <string.h>

const char *sim_fault_name(uint32_t fault)
{
    switch (fault) {
    case SIM_FAULT_LOSS:
        return "loss";
    case SIM_FAULT_DUP:
        return "duplication";
    case SIM_FAULT_DELAY:
        return "delay";
    case SIM_FAULT_REORDER:
        return "reorder";
    case SIM_FAULT_PARTITION:
        return "partitions";
    case SIM_FAULT_CRASH:
        return "crashes";
    case SIM_FAULT_SLOW_DISK:
        return "slow-disks";
    case SIM_FAULT_UNEVEN_TICKS:
        return "uneven-ticks";
    case SIM_FAULT_MEMBERSHIP:
        return "membership";
    case SIM_FAULT_TRANSFER:
        return "transfers";
    case SIM_FAULT_SNAPSHOT:
        return "snapshots";
    case SIM_FAULT_CHURN:
        return "leader-churn";
    default:
        return "?";
    }
}

static void swarm_choose_network(struct prng *p, struct sim_swarm *s)
{
    s->delay_min_us = prng_range(p, 100, 1000);
    s->delay_max_us = s->delay_min_us + prng_range(p, 0, 2000);
    if (s->faults & SIM_FAULT_DELAY) {
        s->delay_max_us = s->delay_min_us + prng_range(p, 5000, 60000);
    }
    if (s->faults & SIM_FAULT_LOSS) {
        s->loss_ppm = (uint32_t)prng_range(p, 1000, 200000); /* 0.1% .. 20% */
    }
    if (s->faults & SIM_FAULT_DUP) {
        s->dup_ppm = (uint32_t)prng_range(p, 1000, 100000);
    }
}

static void swarm_choose_raft(struct prng *p, struct sim_swarm *s)
{
    s->election_ticks = (uint32_t)prng_range(p, 8, 20);
    s->heartbeat_ticks = (uint32_t)prng_range(p, 1, 3);
    /* Small batches often: an AppendEntries then may carry old-term entries without the new
     * leader's no-op, the setting of Raft figure 3.7. */
    s->append_entries_max = prng_chance(p, 400000)   ? 1u
                            : prng_chance(p, 500000) ? (uint32_t)prng_range(p, 2, 4)
                                                     : (uint32_t)prng_range(p, 5, 64);
    s->inflight_max = prng_chance(p, 300000) ? 1u : (uint32_t)prng_range(p, 2, 32);
    s->snapshot_chunk_size = (uint32_t)prng_range(p, 8, 64);
    s->pre_vote = prng_chance(p, 700000);
    s->check_quorum = prng_chance(p, 700000);
}

/* Tick rates stay within a factor that keeps heartbeats (<= 3 ticks) well inside the
 * shortest election timeout (>= 8 ticks), so a healed cluster can always elect. */
static void swarm_choose_ticks(struct prng *p, struct sim_swarm *s)
{
    for (uint32_t i = 0; i < SIM_NODES_MAX; i++) {
        s->tick_us[i] = SIM_TICK_US;
        if (s->faults & SIM_FAULT_UNEVEN_TICKS) {
            s->tick_us[i] = prng_range(p, SIM_TICK_US * 7 / 10, SIM_TICK_US * 14 / 10);
        }
    }
}

void sim_swarm_choose(struct prng *p, struct sim_swarm *s)
{
    *s = (struct sim_swarm){0};
    for (uint32_t bit = 0; bit < SIM_FAULT_COUNT; bit++) {
        if (prng_chance(p, 500000)) {
            s->faults |= 1u << bit;
        }
    }
    swarm_choose_network(p, s);
    swarm_choose_raft(p, s);
    swarm_choose_ticks(p, s);
    s->fault_phase_us = prng_range(p, 2000000, 6000000);
    s->fault_gap_us = prng_range(p, 50000, 600000);
    s->partition_us_max = prng_range(p, 200000, 2000000);
    s->downtime_us_max = prng_range(p, 50000, 1500000);
    if (s->faults & SIM_FAULT_CHURN) {
        s->churn_ppm = (uint32_t)prng_range(p, 200000, 800000);
        s->churn_delay_us_max = prng_range(p, 2000, 50000);
    }
    s->slow_disk_us_max = prng_range(p, 2000, 80000);
    bool often = s->faults & SIM_FAULT_SNAPSHOT;
    s->snapshot_every = (uint32_t)(often ? prng_range(p, 2, 12) : prng_range(p, 40, 200));
    s->snapshot_trailing = (uint32_t)prng_range(p, 0, 8);
    s->client_count = (uint32_t)prng_range(p, 1, SIM_CLIENTS_MAX);
    s->key_count = (uint32_t)prng_range(p, 1, SIM_KEYS_MAX);
    s->think_us_max = prng_range(p, 1000, 50000);
}

static void swarm_append(char *out, size_t size, const char *text)
{
    size_t used = strlen(out);
    if (used < size) {
        snprintf(out + used, size - used, "%s%s", used > 0 ? ", " : "", text);
    }
}

void sim_swarm_describe(const struct sim_swarm *s, char *out, size_t size)
{
    out[0] = '\0';
    for (uint32_t bit = 0; bit < SIM_FAULT_COUNT; bit++) {
        uint32_t f = 1u << bit;
        char item[48];
        if (!(s->faults & f)) {
            continue;
        }
        if (f == SIM_FAULT_LOSS) {
            snprintf(item, sizeof(item), "loss %.1f%%", s->loss_ppm / 10000.0);
        } else if (f == SIM_FAULT_DUP) {
            snprintf(item, sizeof(item), "dup %.1f%%", s->dup_ppm / 10000.0);
        } else {
            snprintf(item, sizeof(item), "%s", sim_fault_name(f));
        }
        swarm_append(out, size, item);
    }
    if (out[0] == '\0') {
        swarm_append(out, size, "no faults");
    }
    char raft[96];
    snprintf(raft, sizeof(raft), "election %u/heartbeat %u ticks, pre-vote %s, check-quorum %s",
             s->election_ticks, s->heartbeat_ticks, s->pre_vote ? "on" : "off",
             s->check_quorum ? "on" : "off");
    size_t used = strlen(out);
    if (used < size) {
        snprintf(out + used, size - used, "; %s", raft);
    }
}
