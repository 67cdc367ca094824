/* cluster.h: a tiny in-memory cluster of Raft cores for unit tests and benchmarks: a FIFO
 * network, synchronous "disks" kept in memory, and a record of what each node applied. */
#ifndef SYN_TESTS_CLUSTER_H
#define SYN_TESTS_CLUSTER_H

#include "message.h"
#include "raft/raft.h"
#include "raft/raft_driver.h"

#define TC_NODES_MAX 7

struct tc_node {
    struct tc_cluster *cluster;
    raft_id id;
    struct raft *raft;
    struct raft_driver driver;
    struct raft_driver_io io;
    bool down;
    uint64_t applied_count;
    uint64_t applied_hash;
    uint64_t last_applied_index;
    uint64_t reads_served;
    uint64_t last_read_id;
};

struct tc_cluster {
    uint32_t node_count;
    struct tc_node nodes[TC_NODES_MAX];
    struct tc_msg *queue;
    size_t queue_head;
    size_t queue_count;
    size_t queue_cap;
    bool cut[TC_NODES_MAX + 1][TC_NODES_MAX + 1]; /* cut[from][to]: drop */
    uint64_t delivered;
    uint64_t dropped;
};

/* Starts n voters (ids 1..n) with the given config template (id and seed are set here). */
void tc_init(struct tc_cluster *c, uint32_t n, const struct raft_config *tmpl);
void tc_free(struct tc_cluster *c);
struct tc_node *tc_node(struct tc_cluster *c, raft_id id);
/* Delivers queued messages until none are left or max deliveries happened. */
void tc_deliver(struct tc_cluster *c, size_t max);
void tc_tick_all(struct tc_cluster *c);
/* Ticks and delivers until some node leads; returns its id or 0 after max_ticks. */
raft_id tc_elect(struct tc_cluster *c, uint32_t max_ticks);
void tc_run(struct tc_cluster *c, raft_id id);
void tc_isolate(struct tc_cluster *c, raft_id id, bool isolated);

#endif
