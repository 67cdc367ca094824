/* sim_cluster.h: the simulated nodes. Each is a Raft core driven by raft_driver, a disk and
 * a key-value state machine; a crash throws away everything but the disk's durable state,
 * and a restart rebuilds the core and the state machine from it. */
#ifndef SYN_SIM_CLUSTER_H
#define SYN_SIM_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>

#include "base/prng.h"
#include "raft/raft.h"
#include "raft/raft_driver.h"
#include "sim/sim_disk.h"
#include "sim/sim_kv.h"

struct sim;

struct sim_node {
    struct sim *sim; /* the world, for the driver's callbacks */
    raft_id id;      /* slot + 1 */
    bool up;
    bool was_member;      /* appeared in a committed configuration */
    bool retired;         /* removed from the cluster and shut down for good */
    uint32_t incarnation; /* bumps at every crash: its ticks and disk writes are dropped */
    uint64_t tick_us;
    struct raft *raft; /* NULL while down */
    struct raft_driver driver;
    struct raft_driver_io io;
    struct sim_disk disk;
    struct sim_kv kv;
    /* What the last observation saw, for the trace and the checks. */
    enum raft_role role;
    uint64_t term;
    raft_id leader;
    uint64_t commit;
    uint64_t apply_first; /* entries applied since the last observation, for the trace */
    uint64_t apply_last;
};

/* Creates every slot's node: the initial voters know the cluster, spares know nothing and
 * wait to be added. Starts them all. 0 or a negative code (the run cannot go on). */
int sim_cluster_init(struct sim *sim);
void sim_cluster_free(struct sim *sim);

/* The node with this id, or NULL. */
struct sim_node *sim_cluster_node(struct sim *sim, raft_id id);
/* An up node chosen uniformly with prng, or NULL when every node is down. */
struct sim_node *sim_cluster_random_up(struct sim *sim, struct prng *prng);
/* The up node that is leader in the highest term, or NULL. */
struct sim_node *sim_cluster_leader(struct sim *sim);

/* Builds the core from the durable state and schedules its ticks. */
void sim_node_start(struct sim *sim, struct sim_node *node);
/* Loses everything not durable. why goes to the trace. */
void sim_node_crash(struct sim *sim, struct sim_node *node, const char *why);
void sim_node_tick(struct sim *sim, struct sim_node *node, uint64_t incarnation);
void sim_node_receive(struct sim *sim, struct sim_node *node, const struct raft_message *msg);
void sim_node_disk_done(struct sim *sim, struct sim_node *node, uint64_t incarnation);
/* A removed node's grace time is over: shut it down for good if it is still removed. */
void sim_node_retire(struct sim *sim, struct sim_node *node);
/* Runs the driver after an input to the node, then observes and checks the node. */
void sim_node_run(struct sim *sim, struct sim_node *node);

/* The driver's callbacks (sim_node_io.c). */
void sim_node_io_init(struct sim_node *node);

#endif
