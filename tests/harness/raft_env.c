/* raft_env.c: the step-by-step Raft cluster of raft_env.h. */
#include "raft_env.h"

#include "base/err.h"
#include "raft_text.h"

#include <stdlib.h>
#include <string.h>

#define LLU(x) ((unsigned long long)(x))

void renv_init(struct renv *e)
{
    memset(e, 0, sizeof(*e));
}

void renv_free(struct renv *e)
{
    for (size_t i = 0; i < e->queue_count; i++) {
        tc_msg_free(&e->queue[i]);
    }
    free(e->queue);
    for (uint32_t i = 0; i < e->node_count; i++) {
        raft_destroy(e->nodes[i].raft);
    }
    memset(e, 0, sizeof(*e));
}

struct renv_node *renv_node(struct renv *e, raft_id id)
{
    return id >= 1 && id <= e->node_count ? &e->nodes[id - 1] : NULL;
}

/* ---- What the network does with a message ------------------------------------------ */

static bool env_lost(void *ctx, const struct raft_message *m)
{
    struct renv *e = ctx;
    return renv_node(e, m->to) == NULL || e->isolated[m->from] || e->isolated[m->to];
}

static void env_send(void *ctx, const struct raft_message *m)
{
    struct renv_node *n = ctx;
    struct renv *e = n->env;
    if (env_lost(e, m) || e->queue_count == RENV_QUEUE_MAX) {
        return;
    }
    if (e->queue_count == e->queue_cap) {
        e->queue_cap = e->queue_cap == 0 ? 64 : e->queue_cap * 2;
        e->queue = text_xrealloc(e->queue, e->queue_cap * sizeof(*e->queue));
    }
    tc_msg_copy(&e->queue[e->queue_count++], m);
}

/* ---- The shell of one node: a disk that is durable at once, a state machine -------- */

static void env_observe(void *ctx, const struct raft_ready *rd)
{
    struct renv_node *n = ctx;
    struct text body = {0};
    rtext_ready(&body, rd, env_lost, n->env);
    if (body.size > 0) { /* a Ready that only changed the role was described already */
        text_printf(n->env->out, "> %llu handling Ready%s\n%s", LLU(n->id),
                    rd->must_sync ? "" : " (nothing to sync)", text_str(&body));
    }
    text_free(&body);
}

static int env_persist(void *ctx, const struct raft_ready *rd)
{
    (void)ctx;
    (void)rd; /* durable at once; env_observe described it */
    return 0;
}

static void env_apply(void *ctx, const struct raft_entry *entry)
{
    (void)ctx;
    (void)entry; /* the Ready's description lists what is applied */
}

static void env_read(void *ctx, uint64_t request_id, uint64_t index)
{
    struct renv_node *n = ctx;
    text_printf(n->env->out, "  %llu serves read %llu at index %llu\n", LLU(n->id), LLU(request_id),
                LLU(index));
}

/* ---- Nodes ---------------------------------------------------------------------------- */

static void initial_conf(struct raft_conf *conf, uint32_t count)
{
    memset(conf, 0, sizeof(*conf));
    conf->member_count = count;
    for (uint32_t i = 0; i < count; i++) {
        conf->members[i].id = i + 1;
        conf->members[i].role = RAFT_VOTER;
    }
}

int renv_add_nodes(struct renv *e, uint32_t count, const struct raft_config *tmpl)
{
    if (count == 0 || e->node_count + count > RENV_NODES_MAX) {
        return SYN_EINVAL;
    }
    struct raft_restore restore = {0};
    if (e->node_count == 0) {
        initial_conf(&restore.snapshot.conf, count);
    }
    for (uint32_t k = 0; k < count; k++) {
        struct renv_node *n = &e->nodes[e->node_count];
        *n = (struct renv_node){.env = e, .id = e->node_count + 1, .config = *tmpl};
        n->config.id = n->id;
        n->config.seed = tmpl->seed * 31 + n->id;
        int rc = raft_create(&n->raft, &n->config, &restore);
        if (rc != 0) {
            return rc;
        }
        e->node_count++;
        n->io = (struct raft_driver_io){n, env_send, env_persist, env_apply, env_read, NULL, env_observe};
        raft_driver_init(&n->driver, n->raft, &n->io);
        n->role = raft_role(n->raft);
        n->term = raft_term(n->raft);
        n->leader = raft_leader(n->raft);
    }
    return 0;
}

void renv_observe(struct renv_node *n, const char *prefix)
{
    enum raft_role role = raft_role(n->raft);
    uint64_t term = raft_term(n->raft);
    raft_id leader = raft_leader(n->raft);
    if (role == n->role && term == n->term && leader == n->leader) {
        return;
    }
    struct text *t = n->env->out;
    bool follows = leader != 0 && role == RAFT_FOLLOWER;
    text_printf(t, "%s%llu ", prefix, LLU(n->id));
    if (role != n->role) {
        text_printf(t, "becomes %s at term %llu%s", raft_role_name(role), LLU(term),
                    follows ? ", " : "");
    } else if (term != n->term) {
        text_printf(t, "moves to term %llu%s", LLU(term), follows ? ", " : "");
    } else if (!follows) {
        text_printf(t, "has no leader");
    }
    if (follows) {
        text_printf(t, "follows leader %llu", LLU(leader));
    }
    text_printf(t, "\n");
    n->role = role;
    n->term = term;
    n->leader = leader;
}

bool renv_process_ready(struct renv_node *n)
{
    if (!raft_has_ready(n->raft)) {
        return false;
    }
    int rc = raft_driver_run(&n->driver);
    if (rc != 0) {
        text_printf(n->env->out, "  persist failed: %s\n", syn_errname(rc));
    }
    renv_observe(n, "  ");
    return true;
}

int renv_step(struct renv_node *n, const struct raft_message *m)
{
    struct text *t = n->env->out;
    text_printf(t, "  ");
    rtext_message(t, m);
    text_printf(t, "\n");
    int rc = raft_step(n->raft, m);
    if (rc != 0) {
        text_printf(t, "  error %s: %s\n", syn_errname(rc), raft_errmsg(n->raft));
    }
    renv_observe(n, "  ");
    return rc;
}

/* ---- The network ------------------------------------------------------------------------ */

static bool route_matches(const struct raft_message *m, raft_id from, raft_id to)
{
    return (from == 0 || m->from == from) && (to == 0 || m->to == to);
}

/* Moves the queued messages that match out of the queue, in order, into *taken. */
static size_t take(struct renv *e, raft_id from, raft_id to, struct tc_msg **taken)
{
    *taken = text_xcalloc(e->queue_count + 1, sizeof(**taken));
    size_t count = 0;
    size_t kept = 0;
    for (size_t i = 0; i < e->queue_count; i++) {
        if (route_matches(&e->queue[i].msg, from, to)) {
            (*taken)[count++] = e->queue[i];
        } else {
            e->queue[kept++] = e->queue[i];
        }
    }
    e->queue_count = kept;
    return count;
}

size_t renv_deliver(struct renv *e, raft_id from, raft_id to)
{
    size_t total = 0;
    for (uint32_t i = 0; i < e->node_count; i++) {
        struct renv_node *n = &e->nodes[i];
        if (to != 0 && n->id != to) {
            continue;
        }
        struct tc_msg *msgs;
        size_t count = take(e, from, n->id, &msgs);
        if (count > 0) {
            text_printf(e->out, "> %llu receiving messages\n", LLU(n->id));
        }
        for (size_t k = 0; k < count; k++) {
            renv_step(n, &msgs[k].msg);
            tc_msg_free(&msgs[k]);
        }
        free(msgs);
        total += count;
    }
    return total;
}

size_t renv_drop(struct renv *e, raft_id from, raft_id to)
{
    struct tc_msg *msgs;
    size_t count = take(e, from, to, &msgs);
    for (size_t k = 0; k < count; k++) {
        text_printf(e->out, "dropped: ");
        rtext_message(e->out, &msgs[k].msg);
        text_printf(e->out, "\n");
        tc_msg_free(&msgs[k]);
    }
    free(msgs);
    return count;
}

bool renv_round(struct renv *e)
{
    bool busy = false;
    for (uint32_t i = 0; i < e->node_count; i++) {
        busy |= renv_process_ready(&e->nodes[i]);
    }
    busy |= renv_deliver(e, 0, 0) > 0;
    return busy;
}

int renv_stabilize(struct renv *e)
{
    for (uint32_t round = 0; round < RENV_STABILIZE_ROUNDS_MAX; round++) {
        if (!renv_round(e)) {
            return 0;
        }
    }
    return -1;
}

void renv_isolate(struct renv *e, raft_id id)
{
    renv_drop(e, id, 0);
    renv_drop(e, 0, id);
    e->isolated[id] = true;
}

void renv_heal(struct renv *e)
{
    memset(e->isolated, 0, sizeof(e->isolated));
}
