/* node_checks.c: the checks of the instances registered on this agent. The replicated
 * registry says what to check and each check's status; this file keeps a local table in step
 * with it (after every registry change), runs each check at its interval, applies the
 * rise/fall thresholds, and proposes a CHECK command through Raft when the status changes, so
 * every node sees it. TTL checks are reported by the service itself; the agent marks one
 * critical when its TTL passes without a report. Only status changes are replicated: the
 * output shown is the one that came with the last change. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "kv/kv_registry.h"
#include "log/log.h"
#include "node/node_checks.h"
#include "node/node_internal.h"

static struct node_check *check_find(struct node_checks *t, const char *service_id,
                                     const char *check_id)
{
    for (uint32_t i = 0; i < NODE_CHECKS_MAX; i++) {
        struct node_check *c = &t->table[i];
        if (c->used && strcmp(c->service_id, service_id) == 0 &&
            strcmp(c->def.id, check_id) == 0) {
            return c;
        }
    }
    return NULL;
}

static struct node_check *check_add(struct node_checks *t)
{
    for (uint32_t i = 0; i < NODE_CHECKS_MAX; i++) {
        if (!t->table[i].used) {
            return &t->table[i];
        }
    }
    return NULL;
}

struct sync_ctx {
    struct node *n;
    uint32_t dropped;
};

static int sync_instance(void *ctx, const struct reg_instance *in)
{
    struct sync_ctx *s = ctx;
    struct node *n = s->n;
    if (strcmp(in->node, n->cfg.name) != 0) {
        return 0;
    }
    uint64_t now = uv_now(n->loop);
    for (uint8_t i = 0; i < in->check_count; i++) {
        const struct reg_check *def = &in->checks[i];
        struct node_check *c = check_find(n->checks, in->id, def->id);
        if (c == NULL) {
            c = check_add(n->checks);
            if (c == NULL) {
                s->dropped++;
                continue;
            }
            *c = (struct node_check){.used = true, .node = n, .next_ms = now};
            snprintf(c->service_id, sizeof(c->service_id), "%s", in->id);
        }
        c->seen = true;
        c->def = *def;
    }
    return 0;
}

/* Brings the table in step with the registry: new checks start at once, changed ones take
 * their new definition and status, gone ones are dropped (their probe abandoned). */
static void checks_sync(struct node *n)
{
    struct node_checks *t = n->checks;
    t->dirty = false;
    for (uint32_t i = 0; i < NODE_CHECKS_MAX; i++) {
        if (t->table[i].used) { /* writing the others would make the whole table resident */
            t->table[i].seen = false;
        }
    }
    struct sync_ctx s = {.n = n};
    int rc = kv_reg_instances(n->kv, sync_instance, &s);
    if (rc != 0) {
        LOG_WARN("checks", "reading the registry: %s", kv_errmsg(n->kv));
        return;
    }
    if (s.dropped > 0) {
        LOG_WARN("checks", "%u checks not run: this agent runs at most %u", s.dropped,
                 NODE_CHECKS_MAX);
    }
    for (uint32_t i = 0; i < NODE_CHECKS_MAX; i++) {
        struct node_check *c = &t->table[i];
        if (c->used && !c->seen) {
            node_check_abandon(c);
            *c = (struct node_check){0};
        }
    }
}

struct proposal {
    struct node *n;
    char service_id[REG_NAME_SIZE_MAX + 1];
    char check_id[REG_NAME_SIZE_MAX + 1];
};

static void on_proposed(void *ctx, int status, const struct kv_result *result)
{
    (void)result;
    struct proposal *p = ctx;
    struct node *n = p->n;
    struct node_check *c = n->checks != NULL ? check_find(n->checks, p->service_id, p->check_id)
                                             : NULL;
    if (c != NULL) {
        c->proposing = false;
        if (status != 0) {
            c->next_ms = 0; /* not committed: the next tick probes and proposes again */
        }
    }
    free(p);
}

static void propose(struct node_check *c, uint8_t status, const char *output)
{
    struct node *n = c->node;
    struct proposal *p = malloc(sizeof(*p));
    if (p == NULL) {
        return;
    }
    *p = (struct proposal){.n = n};
    snprintf(p->service_id, sizeof(p->service_id), "%s", c->service_id);
    snprintf(p->check_id, sizeof(p->check_id), "%s", c->def.id);
    struct syn_buf cmd;
    syn_buf_init(&cmd, SYN_ENTRY_SIZE_MAX);
    char out[REG_OUTPUT_SIZE_MAX + 1];
    snprintf(out, sizeof(out), "%s", output);
    int rc = reg_cmd_encode_check(&cmd, node_wall_ms(), n->cfg.name, c->service_id, c->def.id, status,
                                  out);
    if (rc == 0) {
        rc = node_write_submit(n, cmd.data, cmd.len, on_proposed, p);
    }
    syn_buf_free(&cmd);
    if (rc != 0) {
        free(p);
        return; /* the next result tries again */
    }
    c->proposing = true;
    LOG_INFO("checks", "%s/%s: %s -> %s (%s)", c->service_id, c->def.id,
             reg_status_name(c->def.status), reg_status_name(status), out);
    node_event(n, NODE_EVENT_CHECK, "%s/%s: %s -> %s (%s)", c->service_id, c->def.id,
               reg_status_name(c->def.status), reg_status_name(status), out);
}

void node_check_result(struct node_check *c, uint8_t result, const char *output)
{
    c->running = false;
    c->next_ms = uv_now(c->node->loop) + c->def.interval_ms;
    uint8_t status =
        reg_health_next(&c->counter, c->def.status, result, c->def.rise, c->def.fall);
    if (status != c->def.status && !c->proposing && c->node->failed == 0) {
        propose(c, status, output);
    }
}

/* A TTL check whose last report is older than its TTL turns critical. */
static void ttl_expire(struct node_check *c)
{
    if (c->def.status == REG_CRITICAL || c->proposing) {
        return;
    }
    uint64_t now = node_wall_ms();
    if (now >= c->def.status_ms + c->def.ttl_ms) {
        char text[96];
        snprintf(text, sizeof(text), "TTL expired: no report for %u ms", c->def.ttl_ms);
        propose(c, REG_CRITICAL, text);
    }
}

struct reap_ctx {
    uint64_t now_ms;
    uint8_t count;
    struct reg_key keys[REG_REAP_MAX];
};

static int reap_collect(void *ctx, const struct reg_instance *in)
{
    struct reap_ctx *r = ctx;
    if (r->count < REG_REAP_MAX && kv_reg_due(in, r->now_ms)) {
        struct reg_key *k = &r->keys[r->count++];
        snprintf(k->node, sizeof(k->node), "%s", in->node);
        snprintf(k->id, sizeof(k->id), "%s", in->id);
    }
    return 0;
}

static void on_reaped(void *ctx, int status, const struct kv_result *result)
{
    (void)ctx;
    if (status == 0 && result->kind == KV_RESULT_INTEGER && result->integer > 0) {
        LOG_INFO("checks", "removed %lld instances past their TTL or "
                           "DeregisterCriticalServiceAfter",
                 (long long)result->integer);
    }
}

/* The leader removes instances that are due (kv_reg_due): a REAP command, which removes only
 * those still due when it applies, whatever happened since the scan. */
static void reap(struct node *n)
{
    if (raft_role(n->raft) != RAFT_LEADER) {
        return;
    }
    struct reap_ctx *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return;
    }
    r->now_ms = node_wall_ms();
    if (kv_reg_instances(n->kv, reap_collect, r) == 0 && r->count > 0) {
        struct syn_buf cmd;
        syn_buf_init(&cmd, SYN_ENTRY_SIZE_MAX);
        if (reg_cmd_encode_reap(&cmd, r->now_ms, r->keys, r->count) == 0) {
            node_write_submit(n, cmd.data, cmd.len, on_reaped, NULL);
        }
        syn_buf_free(&cmd);
    }
    free(r);
}

static void on_tick(uv_timer_t *timer)
{
    struct node *n = timer->data;
    struct node_checks *t = n->checks;
    if (n->stopping || n->failed != 0) {
        return;
    }
    if (t->dirty) {
        checks_sync(n);
    }
    if (++t->ticks % NODE_REAP_TICKS == 0) {
        reap(n);
    }
    if (t->ticks % NODE_HEALTH_TICKS == 0) {
        node_health_publish(n);
    }
    node_services_tick(n);
    uint64_t now = uv_now(n->loop);
    for (uint32_t i = 0; i < NODE_CHECKS_MAX; i++) {
        struct node_check *c = &t->table[i];
        if (!c->used || c->running || now < c->next_ms) {
            continue;
        }
        if (c->def.type == REG_CHECK_TTL) {
            ttl_expire(c);
            c->next_ms = now + NODE_CHECK_TICK_MS * 4;
            continue;
        }
        c->running = true;
        node_check_run(c); /* may report at once */
    }
}

int node_checks_start(struct node *n)
{
    n->checks = calloc(1, sizeof(*n->checks));
    if (n->checks == NULL) {
        return SYN_ENOMEM;
    }
    uv_timer_init(n->loop, &n->checks->timer);
    n->checks->timer.data = n;
    n->checks->started = true;
    n->checks->dirty = true;
    uv_timer_start(&n->checks->timer, on_tick, NODE_CHECK_TICK_MS, NODE_CHECK_TICK_MS);
    return 0;
}

static void on_timer_closed(uv_handle_t *h)
{
    struct node *n = h->data;
    free(n->checks);
    n->checks = NULL;
    node_closed_one(n);
}

void node_checks_stop(struct node *n)
{
    if (n->checks == NULL || !n->checks->started) {
        return;
    }
    for (uint32_t i = 0; i < NODE_CHECKS_MAX; i++) {
        if (n->checks->table[i].used) {
            node_check_abandon(&n->checks->table[i]);
        }
    }
    n->checks->started = false;
    n->closing++;
    uv_close((uv_handle_t *)&n->checks->timer, on_timer_closed);
}

void node_checks_touch(struct node *n)
{
    if (n->checks != NULL) {
        n->checks->dirty = true;
    }
}
