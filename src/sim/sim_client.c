/* sim_client.c: clients issuing writes, compare-and-swaps and reads, and the history of
 * what they saw. A client keeps one operation in flight and a hint of who leads. */
#include "sim/sim_client.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/assert.h"
#include "base/err.h"
#include "sim/sim_trace.h"
#include "sim/sim_world.h"

#define CLIENT_TIMEOUT_US 2000000u  /* an operation unanswered this long is UNKNOWN */
#define CLIENT_BACKOFF_MIN_US 2000u /* retry after a refusal (not the leader, busy) */
#define CLIENT_BACKOFF_MAX_US 100000u

/* Values name their writer: client c's s-th write is "c.s" in the trace. */
static void value_text(uint64_t v, char *out, size_t size)
{
    if (v == 0) {
        snprintf(out, size, "absent");
    } else {
        snprintf(out, size, "%llu.%llu", (unsigned long long)(v >> 40),
                 (unsigned long long)(v & ((1ull << 40) - 1)));
    }
}

/* "write k2=1.17", "cas k2 1.3->1.17", "read k2". */
static void op_text(const struct lin_op *op, char *out, size_t size)
{
    char v[24];
    char e[24];
    value_text(op->value, v, sizeof(v));
    value_text(op->expected, e, sizeof(e));
    unsigned long long k = (unsigned long long)op->key;
    if (op->kind == LIN_WRITE) {
        snprintf(out, size, "write k%llu=%s", k, v);
    } else if (op->kind == LIN_CAS) {
        snprintf(out, size, "cas k%llu %s->%s", k, e, v);
    } else {
        snprintf(out, size, "read k%llu", k);
    }
}

static void client_trace(const struct sim *sim, const struct sim_client *c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "c1  write k0=1.2 <what fmt says>" */
static void client_trace(const struct sim *sim, const struct sim_client *c, const char *fmt, ...)
{
    if (!sim_tracing(sim)) {
        return;
    }
    char who[8];
    char op[64];
    char what[160];
    snprintf(who, sizeof(who), "c%u", c->id);
    op_text(&sim->clients.ops[c->op], op, sizeof(op));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    sim_trace(sim, who, "%s %s", op, what);
}

int sim_clients_init(struct sim *sim)
{
    struct sim_clients *cs = &sim->clients;
    *cs = (struct sim_clients){.count = sim->swarm.client_count};
    cs->ops = calloc(SIM_OPS_MAX, sizeof(*cs->ops));
    cs->acks = calloc(SIM_OPS_MAX, sizeof(*cs->acks));
    if (cs->ops == NULL || cs->acks == NULL) {
        return SYN_ENOMEM;
    }
    for (uint32_t i = 0; i < cs->count; i++) {
        cs->clients[i] = (struct sim_client){.id = i + 1, .backoff_us = CLIENT_BACKOFF_MIN_US};
        sim_schedule(sim, prng_range(&sim->prng, 1000, 200000), SIM_EVENT_CLIENT, i, 0, NULL);
    }
    return 0;
}

void sim_clients_free(struct sim_clients *cs)
{
    free(cs->ops);
    free(cs->acks);
    *cs = (struct sim_clients){0};
}

static void client_next(struct sim *sim, struct sim_client *c, uint64_t delay_us)
{
    c->state = SIM_CLIENT_IDLE;
    c->generation++;
    sim_schedule(sim, delay_us, SIM_EVENT_CLIENT, c->id - 1, c->generation, NULL);
}

/* "=> OK, got 1.7 (read index 9)", "=> OK, swapped (index 12)", "=> UNKNOWN (timed out)" */
static void client_trace_outcome(const struct sim *sim, const struct sim_client *c,
                                 const struct lin_op *op, const char *why)
{
    char detail[48] = "";
    if (op->outcome == LIN_OK && op->kind == LIN_READ) {
        char v[24];
        value_text(op->value, v, sizeof(v));
        snprintf(detail, sizeof(detail), ", got %s", v);
    } else if (op->outcome == LIN_OK && op->kind == LIN_CAS) {
        snprintf(detail, sizeof(detail), op->cas_ok ? ", swapped" : ", not swapped");
    }
    const char *result = op->outcome == LIN_FAIL      ? "FAILED"
                         : op->outcome == LIN_UNKNOWN ? "UNKNOWN"
                                                      : "OK";
    client_trace(sim, c, "=> %s%s%s", result, detail, why);
}

void sim_client_finish(struct sim *sim, struct sim_client *c, uint8_t outcome, uint64_t value,
                       bool cas_ok, const char *why)
{
    struct sim_clients *cs = &sim->clients;
    struct lin_op *op = &cs->ops[c->op];
    op->outcome = outcome;
    if (outcome == LIN_OK) {
        op->complete_time = ++cs->clock;
        op->cas_ok = cas_ok;
        if (op->kind == LIN_READ) {
            op->value = value;
        }
        if (op->kind != LIN_CAS || cas_ok) {
            c->known[op->key] = op->value;
        }
    }
    cs->ok_count += outcome == LIN_OK;
    cs->fail_count += outcome == LIN_FAIL;
    cs->unknown_count += outcome == LIN_UNKNOWN;
    client_trace_outcome(sim, c, op, why);
    c->backoff_us = CLIENT_BACKOFF_MIN_US;
    if (sim->phase == SIM_PHASE_LIVENESS && outcome == LIN_OK && op->invoke_time > cs->heal_clock) {
        c->state = SIM_CLIENT_DONE;
        c->generation++;
        return;
    }
    client_next(sim, c, prng_range(&sim->prng, 0, sim->swarm.think_us_max));
}

/* A node to ask: the leader hint when it is up, else any up node. */
static struct sim_node *client_pick_node(struct sim *sim, struct sim_client *c, bool any)
{
    struct sim_node *hinted = sim_cluster_node(sim, c->leader_hint);
    if (hinted != NULL && hinted->up && !(any && prng_chance(&sim->prng, 500000))) {
        return hinted;
    }
    return sim_cluster_random_up(sim, &sim->prng);
}

/* The node refused (not the leader, no leader, busy): remember its hint, try again later. */
static void client_refused(struct sim *sim, struct sim_client *c, struct sim_node *node)
{
    raft_id hint = raft_leader(node->raft);
    c->leader_hint = hint != node->id ? hint : 0;
    uint64_t delay = prng_range(&sim->prng, c->backoff_us / 2, c->backoff_us);
    c->backoff_us =
        c->backoff_us * 2 > CLIENT_BACKOFF_MAX_US ? CLIENT_BACKOFF_MAX_US : c->backoff_us * 2;
    client_next(sim, c, delay);
}

static struct lin_op *client_invoke(struct sim *sim, struct sim_client *c, uint8_t kind,
                                    uint32_t key)
{
    struct sim_clients *cs = &sim->clients;
    ASSERT(cs->op_count < SIM_OPS_MAX);
    c->op = cs->op_count++;
    struct lin_op *op = &cs->ops[c->op];
    *op = (struct lin_op){.client = c->id, .key = key, .kind = kind, .outcome = LIN_UNKNOWN};
    op->invoke_time = ++cs->clock;
    c->generation++;
    sim_schedule(sim, CLIENT_TIMEOUT_US, SIM_EVENT_CLIENT, c->id - 1, c->generation, NULL);
    return op;
}

static void client_propose(struct sim *sim, struct sim_client *c, struct sim_node *node,
                           uint8_t kind, uint32_t key)
{
    c->seq++;
    c->cmd = (struct sim_kv_cmd){
        .op = kind == LIN_CAS ? SIM_KV_CAS : SIM_KV_WRITE,
        .client = c->id,
        .seq = c->seq,
        .key = key,
        .value = (uint64_t)c->id << 40 | c->seq,
        .expected = c->known[key],
    };
    uint8_t data[SIM_KV_CMD_SIZE];
    uint32_t size = sim_kv_cmd_encode(&c->cmd, data);
    uint64_t index = 0;
    uint64_t term = 0;
    if (raft_propose(node->raft, data, size, &index, &term) != 0) {
        client_refused(sim, c, node);
        return;
    }
    struct lin_op *op = client_invoke(sim, c, kind, key);
    op->value = c->cmd.value;
    op->expected = c->cmd.expected;
    c->state = SIM_CLIENT_PROPOSING;
    c->node = node->id;
    c->index = index;
    c->term = term;
    c->leader_hint = node->id;
    client_trace(sim, c, "-> n%llu (placed at index %llu, term %llu)", (unsigned long long)node->id,
                 (unsigned long long)index, (unsigned long long)term);
    sim_node_run(sim, node);
}

static void client_read(struct sim *sim, struct sim_client *c, struct sim_node *node, uint32_t key)
{
    uint64_t request_id = ++sim->clients.next_request_id;
    if (raft_read_index(node->raft, request_id) != 0) {
        client_refused(sim, c, node);
        return;
    }
    client_invoke(sim, c, LIN_READ, key);
    c->state = SIM_CLIENT_READING;
    c->node = node->id;
    c->request_id = request_id;
    client_trace(sim, c, "-> n%llu (ReadIndex)", (unsigned long long)node->id);
    sim_node_run(sim, node);
}

static void client_start(struct sim *sim, struct sim_client *c)
{
    /* Keep room in the history for every client's liveness-phase operation. */
    if (sim->phase == SIM_PHASE_FAULTS && sim->clients.op_count + SIM_CLIENTS_MAX >= SIM_OPS_MAX) {
        client_next(sim, c, CLIENT_BACKOFF_MAX_US);
        return;
    }
    uint64_t dice = prng_range(&sim->prng, 0, 99);
    uint8_t kind = dice < 40 ? LIN_READ : dice < 80 ? LIN_WRITE : LIN_CAS;
    uint32_t key = (uint32_t)prng_range(&sim->prng, 0, sim->swarm.key_count - 1);
    struct sim_node *node = client_pick_node(sim, c, kind == LIN_READ);
    if (node == NULL) {
        client_next(sim, c, CLIENT_BACKOFF_MAX_US); /* every node is down */
    } else if (kind == LIN_READ) {
        client_read(sim, c, node, key);
    } else {
        client_propose(sim, c, node, kind, key);
    }
}

void sim_client_event(struct sim *sim, uint32_t slot, uint64_t generation)
{
    ASSERT(slot < sim->clients.count);
    struct sim_client *c = &sim->clients.clients[slot];
    if (generation != c->generation || c->state == SIM_CLIENT_DONE) {
        return; /* a timeout of an operation that has completed */
    }
    if (c->state == SIM_CLIENT_IDLE) {
        client_start(sim, c);
    } else {
        sim_client_finish(sim, c, LIN_UNKNOWN, 0, false, " (timed out)");
    }
}
