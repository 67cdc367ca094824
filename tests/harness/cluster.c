/* cluster.c: the in-memory test cluster of cluster.h. */
#include "cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void tc_send(void *ctx, const struct raft_message *m)
{
    struct tc_node *n = ctx;
    struct tc_cluster *c = n->cluster;
    if (m->to == 0 || m->to > c->node_count || c->cut[m->from][m->to] ||
        c->nodes[m->to - 1].down) {
        c->dropped++;
        return;
    }
    if (c->queue_head + c->queue_count == c->queue_cap) {
        if (c->queue_head > 0) {
            memmove(c->queue, c->queue + c->queue_head, c->queue_count * sizeof(*c->queue));
            c->queue_head = 0;
        } else {
            c->queue_cap = c->queue_cap ? c->queue_cap * 2 : 1024;
            c->queue = realloc(c->queue, c->queue_cap * sizeof(*c->queue));
        }
    }
    tc_msg_copy(&c->queue[c->queue_head + c->queue_count++], m);
}

static int tc_persist(void *ctx, const struct raft_ready *rd)
{
    (void)ctx;
    (void)rd;
    return 0;
}

static void tc_apply(void *ctx, const struct raft_entry *e)
{
    struct tc_node *n = ctx;
    if (e->index <= n->last_applied_index) {
        fprintf(stderr, "node %llu applied %llu twice\n", (unsigned long long)n->id,
                (unsigned long long)e->index);
        abort();
    }
    n->last_applied_index = e->index;
    n->applied_count++;
    uint64_t h = n->applied_hash ^ (e->index * 1099511628211ULL) ^ e->term;
    for (uint32_t i = 0; i < e->data_size; i++) {
        h = (h ^ e->data[i]) * 1099511628211ULL;
    }
    n->applied_hash = h;
}

static void tc_read(void *ctx, uint64_t id, uint64_t index)
{
    struct tc_node *n = ctx;
    (void)index;
    n->reads_served++;
    n->last_read_id = id;
}

void tc_init(struct tc_cluster *c, uint32_t count, const struct raft_config *tmpl)
{
    memset(c, 0, sizeof(*c));
    c->node_count = count;
    struct raft_restore st = {0};
    st.snapshot.conf.member_count = count;
    for (uint32_t i = 0; i < count; i++) {
        st.snapshot.conf.members[i].id = i + 1;
        st.snapshot.conf.members[i].role = RAFT_VOTER;
    }
    for (uint32_t i = 0; i < count; i++) {
        struct tc_node *n = &c->nodes[i];
        n->cluster = c;
        n->id = i + 1;
        struct raft_config cfg = *tmpl;
        cfg.id = n->id;
        cfg.seed = tmpl->seed * 31 + n->id;
        int rc = raft_create(&n->raft, &cfg, &st);
        if (rc != 0) {
            fprintf(stderr, "raft_create: %d\n", rc);
            abort();
        }
        n->io = (struct raft_driver_io){n, tc_send, tc_persist, tc_apply, tc_read, NULL, NULL};
        raft_driver_init(&n->driver, n->raft, &n->io);
    }
}

void tc_free(struct tc_cluster *c)
{
    for (size_t i = 0; i < c->queue_count; i++) {
        tc_msg_free(&c->queue[c->queue_head + i]);
    }
    free(c->queue);
    for (uint32_t i = 0; i < c->node_count; i++) {
        raft_destroy(c->nodes[i].raft);
    }
}

struct tc_node *tc_node(struct tc_cluster *c, raft_id id)
{
    return &c->nodes[id - 1];
}

void tc_run(struct tc_cluster *c, raft_id id)
{
    struct tc_node *n = tc_node(c, id);
    if (!n->down) {
        raft_driver_run(&n->driver);
    }
}

void tc_deliver(struct tc_cluster *c, size_t max)
{
    for (size_t k = 0; k < max && c->queue_count > 0; k++) {
        struct tc_msg q = c->queue[c->queue_head++];
        c->queue_count--;
        if (c->queue_count == 0) {
            c->queue_head = 0;
        }
        struct tc_node *to = tc_node(c, q.msg.to);
        if (!to->down && !c->cut[q.msg.from][q.msg.to]) {
            raft_step(to->raft, &q.msg);
            c->delivered++;
            tc_run(c, to->id);
        }
        tc_msg_free(&q);
    }
}

void tc_tick_all(struct tc_cluster *c)
{
    for (uint32_t i = 0; i < c->node_count; i++) {
        if (!c->nodes[i].down) {
            raft_tick(c->nodes[i].raft);
            tc_run(c, c->nodes[i].id);
        }
    }
}

raft_id tc_elect(struct tc_cluster *c, uint32_t max_ticks)
{
    for (uint32_t t = 0; t < max_ticks; t++) {
        tc_tick_all(c);
        tc_deliver(c, 100000);
        for (uint32_t i = 0; i < c->node_count; i++) {
            if (!c->nodes[i].down && raft_role(c->nodes[i].raft) == RAFT_LEADER) {
                return c->nodes[i].id;
            }
        }
    }
    return 0;
}

void tc_isolate(struct tc_cluster *c, raft_id id, bool isolated)
{
    for (uint32_t j = 1; j <= c->node_count; j++) {
        c->cut[id][j] = isolated;
        c->cut[j][id] = isolated;
    }
}
