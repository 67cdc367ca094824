/* sim_swarm.h: swarm testing. Each seed switches on a random subset of fault kinds with
 * random rates, and picks random Raft settings, so that over many seeds every mix is run,
 * including the quiet ones where a rare interleaving is not drowned by noise
 * (Groce et al., "Swarm Testing", ISSTA 2012; tigerbeetle's VOPR does the same). */
#ifndef SYN_SIM_SWARM_H
#define SYN_SIM_SWARM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/prng.h"
#include "sim/sim_limits.h"

enum sim_fault {
    SIM_FAULT_LOSS = 1u << 0,         /* messages lost at random */
    SIM_FAULT_DUP = 1u << 1,          /* messages delivered twice */
    SIM_FAULT_DELAY = 1u << 2,        /* long and variable network delays */
    SIM_FAULT_REORDER = 1u << 3,      /* links do not keep order */
    SIM_FAULT_PARTITION = 1u << 4,    /* symmetric, one-way, leader isolated, bridge */
    SIM_FAULT_CRASH = 1u << 5,        /* crash and restart, losing unsynced writes */
    SIM_FAULT_SLOW_DISK = 1u << 6,    /* some disks take long to sync */
    SIM_FAULT_UNEVEN_TICKS = 1u << 7, /* nodes' clocks tick at different rates */
    SIM_FAULT_MEMBERSHIP = 1u << 8,   /* add learner, promote, remove voter */
    SIM_FAULT_TRANSFER = 1u << 9,     /* leadership transfers */
    SIM_FAULT_SNAPSHOT = 1u << 10,    /* frequent snapshots and log compaction */
    SIM_FAULT_CHURN = 1u << 11,       /* new leaders crash soon after winning (Raft figure 3.7) */
};
#define SIM_FAULT_COUNT 12u

struct sim_swarm {
    uint32_t faults; /* enum sim_fault bits */
    uint32_t loss_ppm;
    uint32_t dup_ppm;
    uint64_t delay_min_us;
    uint64_t delay_max_us;
    uint64_t fault_phase_us; /* simulated time with faults, before the liveness phase */
    uint64_t fault_gap_us;   /* mean time between fault steps */
    uint64_t partition_us_max;
    uint64_t downtime_us_max;
    uint32_t churn_ppm; /* chance a new leader is crashed soon after its election */
    uint64_t churn_delay_us_max;
    uint64_t slow_disk_us_max; /* write latency of a slow disk */
    uint32_t snapshot_every;   /* applied entries between two snapshots of a node */
    uint32_t snapshot_trailing;
    uint32_t client_count;
    uint32_t key_count;
    uint64_t think_us_max; /* client pause between operations */
    uint64_t tick_us[SIM_NODES_MAX];
    /* Raft settings for every node. */
    uint32_t election_ticks;
    uint32_t heartbeat_ticks;
    uint32_t append_entries_max;
    uint32_t inflight_max;
    uint32_t snapshot_chunk_size;
    bool pre_vote;
    bool check_quorum;
};

#define SIM_TICK_US 10000u /* a node's nominal tick: 10 ms */

/* Chooses the mix for one seed. */
void sim_swarm_choose(struct prng *prng, struct sim_swarm *swarm);
/* A one-line description, e.g. "loss 2.1%, partitions, crashes; pre-vote on". */
void sim_swarm_describe(const struct sim_swarm *swarm, char *out, size_t size);
/* The short name of one fault bit, e.g. "partition". */
const char *sim_fault_name(uint32_t fault);

#endif
