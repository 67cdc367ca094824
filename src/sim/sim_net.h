/* sim_net.h: the simulated network. Every message is deep-copied at send (core outputs are
 * borrowed only until raft_advance()) and travels as an event with a delivery time. It can be
 * lost, duplicated, delayed and reordered, and a reachability matrix, checked at send and
 * again at delivery, models partitions. */
#ifndef SYN_SIM_NET_H
#define SYN_SIM_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "raft/raft.h"
#include "sim/sim_limits.h"

struct sim;

struct sim_net {
    bool reach[SIM_NODES_MAX][SIM_NODES_MAX]; /* [from][to]: from's messages get to `to` */
    uint64_t link_last_us[SIM_NODES_MAX][SIM_NODES_MAX]; /* FIFO links: last arrival */
    uint32_t loss_ppm;                                   /* chance a message is lost, per million */
    uint32_t dup_ppm;                                    /* chance a message arrives twice */
    uint64_t delay_min_us;
    uint64_t delay_max_us;
    bool reorder;             /* when false, every link delivers in order */
    uint32_t inflight;        /* packets scheduled and not yet delivered */
    uint32_t partition_epoch; /* bumps at every partition change */
    uint32_t quiet_epoch[SIM_NODES_MAX][SIM_NODES_MAX]; /* trace: link drop reported */
};

/* Everything reachable, no loss. */
void sim_net_init(struct sim_net *net);
/* Hands msg (borrowed) from its sender to the network. */
void sim_net_send(struct sim *sim, const struct raft_message *msg);
/* A packet's delivery time came: deliver it or drop it; frees it. */
void sim_net_deliver(struct sim *sim, struct raft_message *packet);
/* Every node reaches every node again. */
void sim_net_heal(struct sim_net *net);

#endif
