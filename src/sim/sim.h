/* sim.h: the deterministic simulator behind `synod sim`.
 *
 * One call runs one cluster of Raft cores in this process from a seed: simulated time,
 * network, disks, crashes and clients all come from that seed, so the same seed gives the
 * same run, step for step. The run has a fault phase (a swarm-chosen mix of message loss,
 * duplication, delay and reordering, partitions, crashes, slow disks, uneven clocks,
 * membership changes and leadership transfers, with clients writing and reading all along)
 * and then a liveness phase (everything healed: a leader must emerge and catch everyone up).
 * Safety invariants are checked at every step and linearizability at the end.
 * docs/simulator.md describes the faults, the invariants and how to read a trace. */
#ifndef SYN_SIM_SIM_H
#define SYN_SIM_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/sim_limits.h"

struct sim_options {
    uint64_t seed;
    uint32_t node_count; /* voters of the initial cluster: 3, 5 or 7 */
    uint32_t mutants;    /* raft_config.mutants for every node (enum raft_mutant bits) */
    FILE *trace;         /* the timeline goes here; NULL for none. Borrowed. */
    bool trace_messages; /* the timeline also shows every message delivered */
};

struct sim_stats {
    uint64_t steps;        /* events processed */
    uint64_t time_us;      /* simulated time at the end */
    uint64_t heal_us;      /* when the fault phase ended */
    uint64_t converged_us; /* when the liveness conditions held */
    uint64_t messages;     /* sent by cores */
    uint64_t dropped;      /* lost, cut by a partition, or addressed to a down node */
    uint64_t leaders;      /* times a node became leader */
    uint64_t crashes;
    uint64_t snapshots;    /* taken by nodes */
    uint64_t installs;     /* snapshots installed from a leader */
    uint64_t conf_changes; /* membership changes proposed */
    uint64_t ops;          /* client operations in the history */
    uint64_t ops_ok;
    uint64_t ops_unknown;
    uint64_t lin_steps;
    uint64_t lin_unknown; /* 1: the linearizability search gave up (not a pass, a fail) */
};

struct sim_result {
    bool violated;
    char property[64];            /* which invariant broke, e.g. "election safety" */
    char detail[SIM_DETAIL_SIZE]; /* what exactly was seen */
    char swarm[256];              /* the seed's fault mix */
    struct sim_stats stats;
};

/* Runs one seed. Returns 0 when the run completed (result says whether an invariant broke),
 * SYN_EINVAL for bad options, or SYN_ENOMEM. */
int sim_run(const struct sim_options *options, struct sim_result *result);

#endif
