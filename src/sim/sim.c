/* sim.c: one simulated run: set up the world from the seed, process events in time order
 * until the cluster converged after the faults (or an invariant broke), then judge the
 * client history. */
#include "sim/sim.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/err.h"
#include "sim/sim_trace.h"
#include "sim/sim_world.h"

void sim_fail(struct sim *sim, const char *property, const char *fmt, ...)
{
    if (sim->failed) {
        return;
    }
    sim->failed = true;
    struct sim_result *res = sim->result;
    res->violated = true;
    snprintf(res->property, sizeof(res->property), "%s", property);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->detail, sizeof(res->detail), fmt, ap);
    va_end(ap);
    sim_trace(sim, "!!!", "VIOLATION of %s: %s", res->property, res->detail);
}

void sim_schedule(struct sim *sim, uint64_t delay_us, uint32_t kind, uint32_t node, uint64_t arg,
                  void *ptr)
{
    struct sim_event ev = {
        .time_us = sim->now_us + delay_us, .kind = kind, .node = node, .arg = arg, .ptr = ptr};
    ASSERT(sim_event_push(&sim->events, &ev) == 0); /* bounded: see sim_limits.h */
}

static void sim_dispatch(struct sim *sim, struct sim_event *ev)
{
    struct sim_node *node = ev->node < sim->node_count ? &sim->nodes[ev->node] : NULL;
    switch (ev->kind) {
    case SIM_EVENT_TICK:
        sim_node_tick(sim, node, ev->arg);
        break;
    case SIM_EVENT_DELIVER:
        sim_net_deliver(sim, ev->ptr);
        break;
    case SIM_EVENT_DISK:
        sim_node_disk_done(sim, node, ev->arg);
        break;
    case SIM_EVENT_CLIENT:
        sim_client_event(sim, ev->node, ev->arg);
        break;
    case SIM_EVENT_FAULT:
        sim_faults_step(sim);
        break;
    case SIM_EVENT_RESTART:
        if (!node->up && !node->retired && node->incarnation == ev->arg) {
            sim_node_start(sim, node);
        }
        break;
    case SIM_EVENT_PARTITION_END:
        sim_partition_end(sim, ev->arg);
        break;
    case SIM_EVENT_HEAL:
        sim_faults_heal(sim);
        break;
    case SIM_EVENT_CRASH:
        sim_faults_crash_due(sim, node, ev->arg);
        break;
    case SIM_EVENT_ISOLATE:
        sim_faults_isolate_due(sim, node, ev->arg);
        break;
    case SIM_EVENT_RETIRE:
        sim_node_retire(sim, node);
        break;
    default:
        UNREACHABLE();
    }
}

static void sim_loop(struct sim *sim)
{
    struct sim_stats *stats = &sim->result->stats;
    struct sim_event ev;
    while (!sim->failed && sim->phase != SIM_PHASE_DONE) {
        if (!sim_event_pop(&sim->events, &ev)) {
            sim_fail(sim, "simulator", "nothing left to do before the cluster converged");
            break;
        }
        ASSERT(ev.time_us >= sim->now_us);
        sim->now_us = ev.time_us;
        if (++stats->steps > SIM_STEPS_MAX) {
            sim_fail(sim, "simulator bound", "more than %u steps", SIM_STEPS_MAX);
            free(ev.ptr);
            break;
        }
        sim_dispatch(sim, &ev);
        if (sim->phase == SIM_PHASE_LIVENESS && !sim->failed) {
            sim_liveness_poll(sim);
        }
    }
    stats->time_us = sim->now_us;
}

static void sim_trace_header(struct sim *sim)
{
    sim_trace(sim, "--", "seed %llu: %u nodes (n1..n%u)%s", (unsigned long long)sim->options.seed,
              sim->voter_count, sim->voter_count,
              sim->node_count > sim->voter_count ? ", spare slots for new members" : "");
    sim_trace(sim, "--", "faults: %s", sim->result->swarm);
    if (sim->swarm.faults & SIM_FAULT_UNEVEN_TICKS) {
        char ticks[SIM_TRACE_LINE_MAX / 2] = "";
        for (uint32_t i = 0, used = 0; i < sim->node_count && used < sizeof(ticks); i++) {
            used += (uint32_t)snprintf(ticks + used, sizeof(ticks) - used, " n%u %.1fms", i + 1,
                                       sim->swarm.tick_us[i] / 1000.0);
        }
        sim_trace(sim, "--", "tick intervals:%s", ticks);
    }
    sim_trace(sim, "--", "fault phase %llu ms, %u clients on %u keys",
              (unsigned long long)sim->swarm.fault_phase_us / 1000, sim->swarm.client_count,
              sim->swarm.key_count);
}

static int sim_setup(struct sim *sim)
{
    const struct sim_options *o = &sim->options;
    prng_init(&sim->fault_prng, o->seed);
    prng_init(&sim->prng, o->seed ^ 0x51a7e5eed0ddba11ull);
    sim_swarm_choose(&sim->fault_prng, &sim->swarm);
    sim_swarm_describe(&sim->swarm, sim->result->swarm, sizeof(sim->result->swarm));
    sim->voter_count = o->node_count;
    sim->node_count = o->node_count;
    if (sim->swarm.faults & SIM_FAULT_MEMBERSHIP) {
        sim->node_count += SIM_SPARES;
    }
    int rc = sim_event_queue_init(&sim->events, SIM_EVENTS_MAX);
    if (rc == 0) {
        rc = sim_check_init(&sim->check);
    }
    if (rc == 0) {
        rc = sim_clients_init(sim);
    }
    if (rc != 0) {
        return rc;
    }
    sim_net_init(&sim->net);
    sim_trace_header(sim);
    sim_faults_start(sim);
    return sim_cluster_init(sim);
}

int sim_run(const struct sim_options *options, struct sim_result *result)
{
    *result = (struct sim_result){0};
    if (options->node_count < 1 || options->node_count > SIM_VOTERS_MAX) {
        return SYN_EINVAL;
    }
    struct sim *sim = calloc(1, sizeof(*sim));
    if (sim == NULL) {
        return SYN_ENOMEM;
    }
    sim->options = *options;
    sim->result = result;
    int rc = sim_setup(sim);
    if (rc == 0) {
        sim_loop(sim);
        if (!sim->failed) {
            sim_clients_check_acks(sim);
        }
        if (!sim->failed) {
            sim_clients_check_history(sim);
        }
    }
    sim_cluster_free(sim);
    sim_clients_free(&sim->clients);
    sim_check_free(&sim->check);
    sim_event_queue_free(&sim->events);
    free(sim);
    return rc;
}
