/* sim_world.h: the whole state of one simulated run, passed explicitly to every part of the
 * simulator (no globals, STYLE 11). Internal to src/sim. */
#ifndef SYN_SIM_WORLD_H
#define SYN_SIM_WORLD_H

#include "base/prng.h"
#include "sim/sim.h"
#include "sim/sim_check.h"
#include "sim/sim_client.h"
#include "sim/sim_cluster.h"
#include "sim/sim_event.h"
#include "sim/sim_faults.h"
#include "sim/sim_net.h"
#include "sim/sim_swarm.h"

enum sim_phase {
    SIM_PHASE_FAULTS = 0,   /* faults happen */
    SIM_PHASE_LIVENESS = 1, /* healed: the cluster must converge before the deadline */
    SIM_PHASE_DONE = 2,
};

/* How long a healed cluster may take to elect a leader, commit everything pending and catch
 * every member up, in nominal ticks. */
#define SIM_LIVENESS_TICKS 1500u

struct sim {
    struct sim_options options;
    struct sim_result *result;
    struct prng prng;       /* network, disks, clients, node seeds */
    struct prng fault_prng; /* the fault schedule */
    struct sim_swarm swarm;
    uint64_t now_us;
    enum sim_phase phase;
    uint64_t deadline_us; /* liveness phase: converge before this */
    uint64_t next_live_check_us;
    bool failed; /* an invariant broke: the run stops */
    struct sim_event_queue events;
    struct sim_net net;
    struct sim_faults faults;
    uint32_t voter_count; /* nodes of the initial cluster */
    uint32_t node_count;  /* slots in use: voters and spares */
    struct sim_node nodes[SIM_NODES_MAX];
    struct raft_conf conf; /* the latest configuration any node applied */
    struct sim_clients clients;
    struct sim_check check;
};

/* In the liveness phase: ends the run when the cluster converged, fails it past the deadline
 * (sim_liveness.c). */
void sim_liveness_poll(struct sim *sim);
/* Records a broken invariant (the first one wins) and stops the run. */
void sim_fail(struct sim *sim, const char *property, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Schedules an event after delay_us of simulated time; a full agenda is a simulator bug. */
void sim_schedule(struct sim *sim, uint64_t delay_us, uint32_t kind, uint32_t node, uint64_t arg,
                  void *ptr);

#endif
