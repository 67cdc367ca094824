/* sim_client.h: simulated clients. Each runs one operation at a time (a write or a
 * compare-and-swap through raft_propose, or a read through raft_read_index) against some
 * node, and records it in the history that lin_check() judges at the end of the run.
 *
 * Outcomes: a proposal placed at (index, term) is OK when its node applies that index with
 * that term, FAIL when the node applies that index with another term (it never took
 * effect), UNKNOWN when the node crashes or the client times out first. */
#ifndef SYN_SIM_CLIENT_H
#define SYN_SIM_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "check/lin.h"
#include "raft/raft.h"
#include "sim/sim_kv.h"
#include "sim/sim_limits.h"

struct sim;
struct sim_node;

enum sim_client_state {
    SIM_CLIENT_IDLE = 0,
    SIM_CLIENT_PROPOSING = 1,
    SIM_CLIENT_READING = 2,
    SIM_CLIENT_DONE = 3, /* liveness phase: got its answer after the faults ended */
};

struct sim_client {
    uint32_t id; /* 1-based */
    uint32_t state;
    uint64_t generation; /* bumps per operation: stale timeouts are ignored */
    raft_id leader_hint;
    uint64_t seq;
    uint32_t op; /* the pending operation's slot in the history */
    raft_id node;
    uint64_t index; /* proposal: where raft_propose placed it */
    uint64_t term;
    uint64_t request_id; /* read */
    struct sim_kv_cmd cmd;
    uint64_t known[SIM_KEYS_MAX]; /* last value seen per key: cas expectations */
    uint64_t backoff_us;          /* after a refusal: doubles up to a bound */
};

/* An acknowledged proposal: where it committed. */
struct sim_ack {
    uint64_t index;
    uint64_t term;
    uint32_t op;
};

struct sim_clients {
    uint32_t count;
    struct sim_client clients[SIM_CLIENTS_MAX];
    struct lin_op *ops; /* the history */
    uint32_t op_count;
    uint64_t clock; /* logical time of the history: bumps at every invoke and completion */
    uint64_t next_request_id;
    uint64_t ok_count;
    uint64_t fail_count;
    uint64_t unknown_count;
    uint64_t heal_clock;  /* clock when the fault phase ended */
    struct sim_ack *acks; /* SIM_OPS_MAX of them */
    uint32_t ack_count;
};

int sim_clients_init(struct sim *sim);
void sim_clients_free(struct sim_clients *clients);
/* A client's event: start its next operation, or time out the pending one. */
void sim_client_event(struct sim *sim, uint32_t slot, uint64_t generation);
/* Ends c's pending operation with an outcome (enum lin_outcome); why is appended to the
 * trace line. */
void sim_client_finish(struct sim *sim, struct sim_client *c, uint8_t outcome, uint64_t value,
                       bool cas_ok, const char *why);
/* Outcomes reported by the cluster (sim_history.c). */
void sim_clients_on_apply(struct sim *sim, struct sim_node *node, const struct raft_entry *entry,
                          bool cas_ok);
void sim_clients_on_restore(struct sim *sim, struct sim_node *node);
void sim_clients_on_read(struct sim *sim, struct sim_node *node, uint64_t request_id,
                         uint64_t index);
void sim_clients_on_crash(struct sim *sim, struct sim_node *node);
/* True when every client got an answer after the fault phase ended. */
bool sim_clients_done(const struct sim *sim);
/* The converged cluster still holds every acknowledged proposal (sim_history.c). */
void sim_clients_check_acks(struct sim *sim);
/* Runs lin_check() over the history; a violation ends the run. */
void sim_clients_check_history(struct sim *sim);

#endif
