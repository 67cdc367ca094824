/* sim_history.c: how client operations end (the cluster reports applies, snapshot restores,
 * reads and crashes) and the linearizability check of the whole history at the end. */
#include <stdio.h>

#include "base/assert.h"
#include "check/lin.h"
#include "sim/sim_client.h"
#include "sim/sim_trace.h"
#include "sim/sim_world.h"

/* The step budget of one key's linearizability search. */
#define HISTORY_LIN_STEPS_PER_KEY 2000000u

static uint64_t client_cmd_hash(const struct sim_client *c)
{
    uint8_t data[SIM_KV_CMD_SIZE];
    uint32_t size = sim_kv_cmd_encode(&c->cmd, data);
    return sim_entry_hash(RAFT_ENTRY_NORMAL, data, size);
}

/* A proposal's index was applied on its node with (term, hash): it took effect exactly when
 * both are the ones raft_propose returned. */
static void history_resolve(struct sim *sim, struct sim_client *c, uint64_t term, uint64_t hash,
                            bool cas_ok)
{
    char why[64];
    if (term != c->term) {
        snprintf(why, sizeof(why), " (index %llu holds an entry of term %llu)",
                 (unsigned long long)c->index, (unsigned long long)term);
        sim_client_finish(sim, c, LIN_FAIL, 0, false, why);
        return;
    }
    if (hash != client_cmd_hash(c)) {
        sim_fail(sim, "proposal identity",
                 "c%u's command was placed at (index %llu, term %llu) "
                 "but another command was applied there",
                 c->id, (unsigned long long)c->index, (unsigned long long)c->term);
        return;
    }
    struct sim_clients *cs = &sim->clients;
    ASSERT(cs->ack_count < SIM_OPS_MAX);
    cs->acks[cs->ack_count++] = (struct sim_ack){.index = c->index, .term = c->term, .op = c->op};
    snprintf(why, sizeof(why), " (index %llu)", (unsigned long long)c->index);
    sim_client_finish(sim, c, LIN_OK, 0, cas_ok, why);
}

void sim_clients_on_apply(struct sim *sim, struct sim_node *node, const struct raft_entry *entry,
                          bool cas_ok)
{
    for (uint32_t i = 0; i < sim->clients.count && !sim->failed; i++) {
        struct sim_client *c = &sim->clients.clients[i];
        if (c->state == SIM_CLIENT_PROPOSING && c->node == node->id && c->index == entry->index) {
            history_resolve(sim, c, entry->term,
                            sim_entry_hash(entry->type, entry->data, entry->data_size), cas_ok);
        }
    }
}

void sim_clients_on_restore(struct sim *sim, struct sim_node *node)
{
    for (uint32_t i = 0; i < sim->clients.count && !sim->failed; i++) {
        struct sim_client *c = &sim->clients.clients[i];
        if (c->state != SIM_CLIENT_PROPOSING || c->node != node->id ||
            c->index > node->kv.applied_index) {
            continue;
        }
        const struct sim_applied *rec = sim_check_applied_at(sim, c->index);
        ASSERT(rec != NULL); /* the snapshot's author applied everything it covers */
        history_resolve(sim, c, rec->term, rec->entry_hash, rec->cas_ok);
    }
}

void sim_clients_on_read(struct sim *sim, struct sim_node *node, uint64_t request_id,
                         uint64_t index)
{
    for (uint32_t i = 0; i < sim->clients.count; i++) {
        struct sim_client *c = &sim->clients.clients[i];
        if (c->state == SIM_CLIENT_READING && c->node == node->id && c->request_id == request_id) {
            uint64_t key = sim->clients.ops[c->op].key;
            char why[48];
            snprintf(why, sizeof(why), " (read index %llu)", (unsigned long long)index);
            sim_client_finish(sim, c, LIN_OK, node->kv.values[key], false, why);
            return;
        }
    }
}

void sim_clients_on_crash(struct sim *sim, struct sim_node *node)
{
    for (uint32_t i = 0; i < sim->clients.count; i++) {
        struct sim_client *c = &sim->clients.clients[i];
        if ((c->state == SIM_CLIENT_PROPOSING || c->state == SIM_CLIENT_READING) &&
            c->node == node->id) {
            sim_client_finish(sim, c, LIN_UNKNOWN, 0, false, " (its node crashed)");
        }
    }
}

bool sim_clients_done(const struct sim *sim)
{
    for (uint32_t i = 0; i < sim->clients.count; i++) {
        if (sim->clients.clients[i].state != SIM_CLIENT_DONE) {
            return false;
        }
    }
    return true;
}

/* After convergence: the leader's log (or its snapshot) still holds every acknowledged
 * proposal where it was acknowledged, and every member applied past it. */
void sim_clients_check_acks(struct sim *sim)
{
    struct sim_node *leader = sim_cluster_leader(sim);
    ASSERT(leader != NULL);
    struct raft_status st;
    raft_status(leader->raft, &st);
    for (uint32_t i = 0; i < sim->clients.ack_count && !sim->failed; i++) {
        const struct sim_ack *a = &sim->clients.acks[i];
        const struct sim_applied *rec = sim_check_applied_at(sim, a->index);
        uint64_t term = a->index > st.snapshot_index ? raft_term_at(leader->raft, a->index)
                        : rec != NULL                ? rec->term
                                                     : 0;
        if (term != a->term || a->index > st.commit_index) {
            sim_fail(sim, "acknowledged proposals survive",
                     "c%llu's acknowledged proposal at (index %llu, term %llu) is gone: the final "
                     "leader n%llu has term %llu there (commit %llu)",
                     (unsigned long long)sim->clients.ops[a->op].client,
                     (unsigned long long)a->index, (unsigned long long)a->term,
                     (unsigned long long)leader->id, (unsigned long long)term,
                     (unsigned long long)st.commit_index);
        }
    }
}

void sim_clients_check_history(struct sim *sim)
{
    struct sim_clients *cs = &sim->clients;
    struct lin_result res;
    int rc = lin_check(cs->ops, cs->op_count, HISTORY_LIN_STEPS_PER_KEY, &res);
    struct sim_stats *stats = &sim->result->stats;
    stats->ops = cs->op_count;
    stats->ops_ok = cs->ok_count;
    stats->ops_unknown = cs->unknown_count;
    stats->lin_steps = res.steps;
    if (rc != 0) {
        sim_fail(sim, "simulator history", "lin_check refused the history: %s", res.message);
    } else if (res.verdict == LIN_RESULT_VIOLATION) {
        const struct lin_op *op = res.op_index < cs->op_count ? &cs->ops[res.op_index] : NULL;
        sim_fail(sim, "linearizability", "%s (op #%zu by c%llu on k%llu)", res.message,
                 res.op_index, op ? (unsigned long long)op->client : 0ull,
                 (unsigned long long)res.key);
    } else if (res.verdict == LIN_RESULT_UNKNOWN) {
        stats->lin_unknown = 1;
    }
    sim_trace(sim, "--", "linearizability of %u operations on %u keys: %s (%llu search steps)",
              cs->op_count, sim->swarm.key_count, lin_verdict_name(res.verdict),
              (unsigned long long)res.steps);
}
