/* lb.c: synod lb's daemon (lb.h): wires the registry watch, the backend table, the policy,
 * the listener and the stats endpoint on one libuv loop, and stops on SIGINT or SIGTERM. */
#include "lb/lb.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/err.h"
#include "lb/lb_internal.h"
#include "lb/lb_stats_server.h"
#include "lb/lb_watch.h"
#include "log/log.h"

void lb_config_default(struct lb_config *cfg)
{
    *cfg = (struct lb_config){
        .policy = LB_ROUND_ROBIN,
        .max_conns = LB_MAX_CONNS_DEFAULT,
        .connect_timeout_ms = LB_CONNECT_TIMEOUT_MS_DEFAULT,
        .fall = LB_FALL_DEFAULT,
        .down_ms = LB_DOWN_MS_DEFAULT,
        .wait_s = LB_WAIT_S_DEFAULT,
    };
}

/* ---- The registry's answers ---------------------------------------------------------- */

static void on_answer(void *ctx, struct lb_instance *list, uint32_t count, uint32_t skipped,
                      uint64_t index)
{
    struct lb *lb = ctx;
    uint32_t n = 0;
    for (uint32_t i = 0; i < count; i++) {
        struct sockaddr_storage sa;
        if (lb_addr_ip(list[i].host, list[i].port, &sa) != 0) {
            LOG_WARN("lb", "instance %s: address '%s' is no IP address: left out", list[i].id,
                     list[i].host);
            continue;
        }
        list[n++] = list[i];
    }
    struct lb_update u;
    bool first = lb->totals.registry_answers == 0;
    lb_table_update(lb->table, list, n, uv_now(lb->loop), &u);
    for (uint32_t s = 0; s < lb->table->count; s++) {
        const struct lb_backend *b = &lb->table->backends[s];
        if (b->state == LB_BACKEND_UP) {
            (void)lb_addr_ip(b->inst.host, b->inst.port, &lb->backend_sa[s]);
        }
    }
    if (u.members_changed) {
        lb_policy_rebuild(lb->policy, lb->table->targets, lb->table->count);
    }
    struct lb_totals *t = &lb->totals;
    t->registry_index = index;
    t->registry_answers++;
    t->registry_error[0] = '\0';
    lb->last_answer_ms = uv_now(lb->loop);
    if (first || u.members_changed || u.reweighted > 0 || u.skipped > 0) {
        LOG_INFO("lb", "service %s: %u instances passing (%u added, %u removed, %u reweighted, "
                       "%u left out), index %" PRIu64,
                 lb->cfg.service, lb_table_up_count(lb->table), u.added, u.removed,
                 u.reweighted, u.skipped + skipped + (count - n), index);
    }
}

static void on_watch_failed(void *ctx, const char *agent, const char *why)
{
    struct lb *lb = ctx;
    struct lb_totals *t = &lb->totals;
    if (t->registry_error[0] == '\0') { /* the first of a run of failures */
        LOG_WARN("lb", "registry %s: %s (asking the next agent; the last answer stays in force)",
                 agent, why);
    }
    t->registry_errors++;
    snprintf(t->registry_addr, sizeof(t->registry_addr), "%s", agent);
    snprintf(t->registry_error, sizeof(t->registry_error), "%s", why);
}

int lb_render_stats(void *ctx, bool prometheus, struct syn_buf *out)
{
    struct lb *lb = ctx;
    uint64_t now = uv_now(lb->loop);
    lb->totals.registry_age_ms =
        lb->totals.registry_answers > 0 ? now - lb->last_answer_ms : UINT64_MAX;
    struct lb_stats_view v = {.service = lb->cfg.service,
                              .policy = lb_policy_name(lb->cfg.policy),
                              .listen = lb->listen_text,
                              .table = lb->table,
                              .totals = &lb->totals,
                              .now_ms = now};
    return prometheus ? lb_stats_prometheus(&v, out) : lb_stats_json(&v, out);
}

/* ---- Ticks, signals, the end --------------------------------------------------------- */

static bool drain_expired(const struct lb *lb, uint32_t slot, uint64_t now)
{
    const struct lb_backend *b = &lb->table->backends[slot];
    return b->state == LB_BACKEND_DRAINING &&
           now - b->draining_since_ms >= lb->cfg.drain_timeout_ms;
}

static void on_tick(uv_timer_t *timer)
{
    struct lb *lb = timer->data;
    if (lb->accept_stalled) {
        lb_conn_accept(lb);
    }
    if (lb->cfg.drain_timeout_ms == 0) {
        return;
    }
    uint64_t now = uv_now(lb->loop);
    for (struct lb_conn *c = lb->conns; c != NULL; c = c->next) {
        if (c->state != LB_CONN_CLOSING && c->slot >= 0 &&
            drain_expired(lb, (uint32_t)c->slot, now)) {
            lb->totals.drained++;
            lb_conn_close(c); /* freed by a later close callback: c->next stays valid */
        }
    }
}

static void lb_stop(struct lb *lb)
{
    if (lb->stopping) {
        return;
    }
    lb->stopping = true;
    LOG_INFO("lb", "stopping: closing %u connections", lb->totals.active);
    uv_close((uv_handle_t *)&lb->listener, NULL);
    uv_close((uv_handle_t *)&lb->sig_int, NULL);
    uv_close((uv_handle_t *)&lb->sig_term, NULL);
    uv_close((uv_handle_t *)&lb->tick, NULL);
    if (lb->watch != NULL) {
        lb_watch_close(lb->watch);
    }
    if (lb->stats != NULL) {
        lb_stats_server_close(lb->stats);
    }
    for (struct lb_conn *c = lb->conns; c != NULL; c = c->next) {
        lb_conn_close(c);
    }
}

static void on_signal(uv_signal_t *s, int signum)
{
    LOG_INFO("lb", "signal %d", signum);
    lb_stop(s->data);
}

/* Two descriptors a connection: raise the soft limit to the hard one (as HAProxy does), and
 * lower max_conns if even that is too few. */
static void fd_limit_fit(struct lb_config *cfg)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        return;
    }
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
        (void)getrlimit(RLIMIT_NOFILE, &rl);
    }
    rlim_t need = 2 * (rlim_t)cfg->max_conns + 64u;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        uint32_t fit = rl.rlim_cur > 128 ? (uint32_t)((rl.rlim_cur - 64) / 2) : 32u;
        LOG_WARN("lb", "--max-conns %u needs %llu descriptors, the limit is %llu: using %u",
                 cfg->max_conns, (unsigned long long)need, (unsigned long long)rl.rlim_cur,
                 fit);
        cfg->max_conns = fit;
    }
}

/* ---- Start --------------------------------------------------------------------------- */

static int lb_listen(struct lb *lb, char *err)
{
    int rc = lb_addr_resolve(lb->cfg.listen_addr, &lb->listen_sa, err);
    if (rc != 0) {
        return rc;
    }
    rc = uv_tcp_bind(&lb->listener, (const struct sockaddr *)&lb->listen_sa, 0);
    rc = rc == 0 ? uv_listen((uv_stream_t *)&lb->listener, LB_BACKLOG, lb_conn_on_listen) : rc;
    if (rc != 0) {
        snprintf(err, LB_ERR_SIZE, "listen on %s: %s", lb->cfg.listen_addr, uv_strerror(rc));
        return SYN_EIO;
    }
    struct sockaddr_storage bound;
    int len = sizeof(bound);
    uv_tcp_getsockname(&lb->listener, (struct sockaddr *)&bound, &len);
    lb_addr_name(&bound, lb->listen_text);
    return 0;
}

static int lb_start_watch(struct lb *lb, char *err)
{
    struct sockaddr_storage agents[LB_AGENTS_MAX];
    for (uint32_t i = 0; i < lb->cfg.agent_count; i++) {
        int rc = lb_addr_resolve(lb->cfg.agents[i], &agents[i], err);
        if (rc != 0) {
            return rc;
        }
    }
    struct lb_watch_config wc = {.service = lb->cfg.service,
                                 .agents = agents,
                                 .agent_count = lb->cfg.agent_count,
                                 .wait_s = lb->cfg.wait_s,
                                 .seed = prng_next(&lb->prng)};
    struct lb_watch_callbacks cbs = {.ctx = lb, .answer = on_answer, .failed = on_watch_failed};
    lb_addr_name(&agents[0], lb->totals.registry_addr);
    int rc = lb_watch_start(lb->loop, &wc, &cbs, &lb->watch);
    if (rc != 0) {
        snprintf(err, LB_ERR_SIZE, "out of memory");
    }
    return rc;
}

static int lb_start(struct lb *lb, char *err)
{
    uv_tcp_init(lb->loop, &lb->listener);
    lb->listener.data = lb;
    int rc = lb_listen(lb, err);
    if (rc == 0 && lb->cfg.stats_addr != NULL) {
        struct sockaddr_storage sa;
        rc = lb_addr_resolve(lb->cfg.stats_addr, &sa, err);
        rc = rc == 0 ? lb_stats_server_start(lb->loop, &sa, lb_render_stats, lb, &lb->stats, err)
                     : rc;
    }
    rc = rc == 0 ? lb_start_watch(lb, err) : rc;
    uv_signal_init(lb->loop, &lb->sig_int);
    uv_signal_init(lb->loop, &lb->sig_term);
    uv_timer_init(lb->loop, &lb->tick);
    lb->sig_int.data = lb;
    lb->sig_term.data = lb;
    lb->tick.data = lb;
    if (rc != 0) {
        return rc;
    }
    uv_signal_start(&lb->sig_int, on_signal, SIGINT);
    uv_signal_start(&lb->sig_term, on_signal, SIGTERM);
    uv_timer_start(&lb->tick, on_tick, LB_TICK_MS, LB_TICK_MS);
    LOG_INFO("lb", "balancing service %s on %s (%s), asking %s%s%s", lb->cfg.service,
             lb->listen_text, lb_policy_name(lb->cfg.policy), lb->cfg.agents[0],
             lb->cfg.agent_count > 1 ? " and others" : "",
             lb->cfg.replay ? "; unanswered requests are replayed" : "");
    return 0;
}

static struct lb *lb_new(const struct lb_config *cfg, uv_loop_t *loop)
{
    struct lb *lb = calloc(1, sizeof(*lb));
    struct lb_table *table = calloc(1, sizeof(*table));
    struct lb_policy *policy = calloc(1, sizeof(*policy));
    if (lb == NULL || table == NULL || policy == NULL) {
        free(lb);
        free(table);
        free(policy);
        return NULL;
    }
    lb->loop = loop;
    lb->cfg = *cfg;
    lb->table = table;
    lb->policy = policy;
    lb_table_init(table, cfg->fall, cfg->down_ms);
    lb_policy_init(policy, cfg->policy);
    uint64_t seed = cfg->seed != 0 ? cfg->seed : uv_hrtime() ^ ((uint64_t)getpid() << 32);
    prng_init(&lb->prng, seed);
    lb->totals.registry_age_ms = UINT64_MAX;
    return lb;
}

int lb_run(const struct lb_config *cfg, char *err)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct lb_config fitted = *cfg;
    fd_limit_fit(&fitted);
    struct lb *lb = lb_new(&fitted, &loop);
    if (lb == NULL) {
        snprintf(err, LB_ERR_SIZE, "out of memory");
        uv_loop_close(&loop);
        return SYN_ENOMEM;
    }
    int rc = lb_start(lb, err);
    if (rc != 0) {
        lb_stop(lb);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    int close_rc = uv_loop_close(&loop);
    if (close_rc != 0) {
        LOG_WARN("lb", "handles still open at exit: %s", uv_strerror(close_rc));
    }
    if (rc == 0) {
        LOG_INFO("lb", "stopped: %" PRIu64 " connections served", lb->totals.accepted);
    }
    free(lb->table);
    free(lb->policy);
    free(lb);
    return rc;
}
