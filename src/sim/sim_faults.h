/* sim_faults.h: the fault schedule of the fault phase, then the heal that starts the
 * liveness phase. Which faults happen was chosen by the swarm (sim_swarm.h); when and to
 * whom is chosen here, step by step, from the fault PRNG. */
#ifndef SYN_SIM_FAULTS_H
#define SYN_SIM_FAULTS_H

#include <stdbool.h>
#include <stdint.h>

struct sim;
struct sim_node;

enum sim_partition_kind {
    SIM_PARTITION_SYMMETRIC = 0, /* two sides that cannot talk */
    SIM_PARTITION_ONE_WAY = 1,   /* some links carry messages in one direction only */
    SIM_PARTITION_LEADER = 2,    /* the leader is cut off from everyone */
    SIM_PARTITION_BRIDGE = 3,    /* two sides, and one node that sees both */
};

struct sim_faults {
    uint32_t partition_generation; /* bumps at each partition start and heal */
    bool partitioned;
};

/* Schedules the first fault step and the end of the fault phase. */
void sim_faults_start(struct sim *sim);
/* One step of the schedule: maybe a fault, then the next step. */
void sim_faults_step(struct sim *sim);
/* node just became leader, or (a leader) advanced its commit index: with leader churn on,
 * maybe schedule its crash or isolation. */
void sim_faults_on_leader(struct sim *sim, struct sim_node *node);
void sim_faults_on_commit(struct sim *sim, struct sim_node *node);
/* A scheduled crash or isolation of a new leader (leader churn) is due. */
void sim_faults_crash_due(struct sim *sim, struct sim_node *node, uint64_t incarnation);
void sim_faults_isolate_due(struct sim *sim, struct sim_node *node, uint64_t incarnation);
/* Starts a partition of the given kind (sim_partition.c). */
void sim_partition_start(struct sim *sim, enum sim_partition_kind kind);
/* Cuts every link to and from node, within the current partition (sim_partition.c). */
void sim_partition_isolate(struct sim *sim, struct sim_node *node, const char *why);
/* A partition's time is up. */
void sim_partition_end(struct sim *sim, uint64_t generation);
/* Ends the fault phase: heals the network, stops loss, restarts crashed nodes, makes disks
 * fast; the liveness phase begins. */
void sim_faults_heal(struct sim *sim);
/* Membership changes and transfers, asked of the current leader (sim_member.c). */
void sim_member_change(struct sim *sim);
void sim_member_transfer(struct sim *sim);

#endif
