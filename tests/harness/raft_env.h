/* raft_env.h: a Raft cluster driven one step at a time, for interaction scripts (after
 * etcd-io/raft's InteractionEnv). Each node runs the real raft_driver loop over a synchronous
 * in-memory disk (snapshots are all zeros, see message.h); the network holds every message
 * until the script delivers or drops it; and everything that happens is described, one line
 * at a time, to a text:
 *
 *     > 1 handling Ready                    what the core asked the shell to do
 *       send after persist: 1->2 VOTE term=1 last=(0,0)
 *     > 2 receiving messages                what the network delivered, and what it changed
 *       1->2 VOTE term=1 last=(0,0)
 *       2 moves to term 1
 */
#ifndef SYN_TESTS_RAFT_ENV_H
#define SYN_TESTS_RAFT_ENV_H

#include "message.h"
#include "raft/raft_driver.h"
#include "text.h"

#define RENV_NODES_MAX 7                /* ids 1..7 */
#define RENV_QUEUE_MAX 65536u           /* messages the network holds; more are lost */
#define RENV_STABILIZE_ROUNDS_MAX 1000u /* Ready-then-deliver rounds before giving up */

struct renv;

struct renv_node {
    struct renv *env;
    raft_id id;
    struct raft *raft;
    struct raft_driver driver;
    struct raft_driver_io io;
    struct raft_config config;
    /* What was last described, so that only changes are. */
    enum raft_role role;
    uint64_t term;
    raft_id leader;
};

struct renv {
    struct text *out; /* borrowed: where everything is described */
    uint32_t node_count;
    struct renv_node nodes[RENV_NODES_MAX];
    bool isolated[RENV_NODES_MAX + 1];
    struct tc_msg *queue;
    size_t queue_count;
    size_t queue_cap;
};

void renv_init(struct renv *e);
void renv_free(struct renv *e);
/* Starts count nodes with the next ids, configured from tmpl (id and seed set here). The
 * nodes of the first call form the initial configuration, all voters; later nodes start
 * with an empty configuration, to join through a membership change. 0 or a SYN_E* code. */
int renv_add_nodes(struct renv *e, uint32_t count, const struct raft_config *tmpl);
/* The node with this id, or NULL. */
struct renv_node *renv_node(struct renv *e, raft_id id);
/* Describes a change of role, term or leader since the last call, each line after prefix. */
void renv_observe(struct renv_node *n, const char *prefix);
/* Carries out the node's Readies (raft_driver_run), describing each. True if there was one. */
bool renv_process_ready(struct renv_node *n);
/* Steps one message into its recipient and describes it, its error and what it changed.
 * Returns raft_step()'s code. */
int renv_step(struct renv_node *n, const struct raft_message *m);
/* Delivers the queued messages from `from` to `to` (0 matches any node), recipients in id
 * order, each recipient's in the order they were sent. Returns how many. */
size_t renv_deliver(struct renv *e, raft_id from, raft_id to);
/* Loses the queued messages from `from` to `to` (0: any), describing each. */
size_t renv_drop(struct renv *e, raft_id from, raft_id to);
/* One round: every node's Readies, in id order, then every queued message. False when
 * there was nothing to do. */
bool renv_round(struct renv *e);
/* Rounds until nothing is left. 0, or -1 when the cluster is still busy after
 * RENV_STABILIZE_ROUNDS_MAX rounds. */
int renv_stabilize(struct renv *e);
/* Cuts a node off: its queued messages and all it sends or is sent are lost until heal. */
void renv_isolate(struct renv *e, raft_id id);
void renv_heal(struct renv *e);

#endif
