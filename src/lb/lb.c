/* lb.c: synod lb's hub (lb.h, lb_internal.h): listens, accepts each client and hands it to
 * the workers in turn (as HAProxy's listener spreads connections over its threads: the kernel's
 * SO_REUSEPORT hash gave one of two workers 3 times the other's share of 64 connections),
 * asks the registry and hands each answer to every worker, serves the stats merged from the
 * workers' snapshots, and stops them all on SIGINT or SIGTERM. */
#define _GNU_SOURCE /* accept4(2): the descriptor non-blocking and close-on-exec at once */
#include "lb/lb.h"

#include <errno.h>
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

#define COLLECT_TIMEOUT_MS 1000u /* a worker's snapshot for the stats */

struct lb_hub {
    uv_loop_t loop;
    struct lb_config cfg;
    uint32_t worker_count;
    struct lb *workers[LB_THREADS_MAX];
    int listen_fd;          /* -1 until bound */
    uv_poll_t accept_poll;  /* readable: clients to accept */
    uv_timer_t accept_pause; /* out of descriptors: accept again later */
    bool accepting;
    uint32_t next_worker;   /* the next client's worker */
    uint64_t refused;       /* clients closed at once: every mailbox full */
    uv_signal_t sig_int;
    uv_signal_t sig_term;
    struct lb_watch *watch;
    struct lb_stats_server *stats;
    struct lb_totals registry; /* the registry's fields of the stats */
    struct lb_table *view;     /* the workers' tables merged, for the stats */
    uint64_t last_answer_ms;
    char listen_text[LB_ADDR_SIZE];
    bool stopping;
};

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

/* ---- The registry ---------------------------------------------------------------------- */

static void on_answer(void *ctx, struct lb_instance *list, uint32_t count, uint32_t skipped,
                      uint64_t index)
{
    struct lb_hub *hub = ctx;
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
    for (uint32_t w = 0; w < hub->worker_count; w++) {
        lb_worker_post_update(hub->workers[w], list, n);
    }
    struct lb_totals *t = &hub->registry;
    if (t->registry_answers == 0 || skipped > 0) {
        LOG_INFO("lb", "registry: %u instances of %s passing (%u entries left out), index %" PRIu64,
                 n, hub->cfg.service, skipped, index);
    }
    t->registry_index = index;
    t->registry_answers++;
    t->registry_error[0] = '\0';
    hub->last_answer_ms = uv_now(&hub->loop);
}

static void on_watch_failed(void *ctx, const char *agent, const char *why)
{
    struct lb_hub *hub = ctx;
    struct lb_totals *t = &hub->registry;
    if (t->registry_error[0] == '\0') { /* the first of a run of failures */
        LOG_WARN("lb", "registry %s: %s (asking the next agent; the last answer stays in force)",
                 agent, why);
    }
    t->registry_errors++;
    snprintf(t->registry_addr, sizeof(t->registry_addr), "%s", agent);
    snprintf(t->registry_error, sizeof(t->registry_error), "%s", why);
}

static int render_stats(void *ctx, bool prometheus, struct syn_buf *out)
{
    struct lb_hub *hub = ctx;
    uint64_t now = uv_now(&hub->loop);
    struct lb_totals totals = hub->registry;
    totals.registry_age_ms = totals.registry_answers > 0 ? now - hub->last_answer_ms : UINT64_MAX;
    totals.refused += hub->refused;
    lb_table_init(hub->view, hub->cfg.fall, hub->cfg.down_ms);
    for (uint32_t w = 0; w < hub->worker_count; w++) {
        lb_worker_collect(hub->workers[w], COLLECT_TIMEOUT_MS, hub->view, &totals);
    }
    struct lb_stats_view v = {.service = hub->cfg.service,
                              .policy = lb_policy_name(hub->cfg.policy),
                              .listen = hub->listen_text,
                              .table = hub->view,
                              .totals = &totals,
                              .now_ms = uv_now(&hub->loop)};
    return prometheus ? lb_stats_prometheus(&v, out) : lb_stats_json(&v, out);
}

/* ---- Signals, the end ---------------------------------------------------------------- */

static void hub_stop(struct lb_hub *hub)
{
    if (hub->stopping) {
        return;
    }
    hub->stopping = true;
    uv_close((uv_handle_t *)&hub->sig_int, NULL);
    uv_close((uv_handle_t *)&hub->sig_term, NULL);
    uv_close((uv_handle_t *)&hub->accept_pause, NULL);
    if (hub->accepting) {
        uv_close((uv_handle_t *)&hub->accept_poll, NULL);
    }
    if (hub->listen_fd >= 0) {
        close(hub->listen_fd); /* after the poll handle let go of it */
        hub->listen_fd = -1;
    }
    if (hub->watch != NULL) {
        lb_watch_close(hub->watch);
    }
    if (hub->stats != NULL) {
        lb_stats_server_close(hub->stats);
    }
    for (uint32_t w = 0; w < hub->worker_count; w++) {
        if (hub->workers[w] != NULL && hub->workers[w]->loop != NULL) {
            lb_worker_post_stop(hub->workers[w]);
        }
    }
}

static void on_signal(uv_signal_t *s, int signum)
{
    LOG_INFO("lb", "signal %d: stopping", signum);
    hub_stop(s->data);
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

/* ---- Accepting ------------------------------------------------------------------------- */

static void on_acceptable(uv_poll_t *poll, int status, int events);

static void on_accept_resume(uv_timer_t *timer)
{
    struct lb_hub *hub = timer->data;
    if (!hub->stopping) {
        uv_poll_start(&hub->accept_poll, UV_READABLE, on_acceptable);
    }
}

/* Accepts what waits (LB_ACCEPT_BATCH at most, so the loop turns) and hands each client to
 * the next worker. */
static void on_acceptable(uv_poll_t *poll, int status, int events)
{
    struct lb_hub *hub = poll->data;
    (void)events;
    for (int i = 0; i < LB_ACCEPT_BATCH && status == 0 && !hub->stopping; i++) {
        int fd = accept4(hub->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)) {
            LOG_WARN("lb", "accept: %s: pausing %u ms", uv_strerror(uv_translate_sys_error(errno)),
                     LB_ACCEPT_PAUSE_MS);
            uv_poll_stop(&hub->accept_poll);
            uv_timer_start(&hub->accept_pause, on_accept_resume, LB_ACCEPT_PAUSE_MS, 0);
            return;
        }
        if (fd < 0) {
            return; /* EAGAIN: all taken; a client that gave up already: nothing to do */
        }
        struct lb *w = hub->workers[hub->next_worker++ % hub->worker_count];
        if (!lb_worker_post_fd(w, fd)) {
            close(fd);
            hub->refused++;
        }
    }
}

static int hub_listen(struct lb_hub *hub, char *err)
{
    struct sockaddr_storage sa;
    int rc = lb_addr_resolve(hub->cfg.listen_addr, &sa, err);
    if (rc != 0) {
        return rc;
    }
    socklen_t len = sa.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                              : sizeof(struct sockaddr_in);
    int on = 1;
    hub->listen_fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (hub->listen_fd < 0 ||
        setsockopt(hub->listen_fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
        bind(hub->listen_fd, (const struct sockaddr *)&sa, len) != 0 ||
        listen(hub->listen_fd, LB_BACKLOG) != 0) {
        snprintf(err, LB_ERR_SIZE, "listen on %s: %s", hub->cfg.listen_addr,
                 uv_strerror(uv_translate_sys_error(errno)));
        return SYN_EIO;
    }
    len = sizeof(sa);
    getsockname(hub->listen_fd, (struct sockaddr *)&sa, &len);
    lb_addr_name(&sa, hub->listen_text);
    uv_poll_init(&hub->loop, &hub->accept_poll, hub->listen_fd);
    hub->accept_poll.data = hub;
    hub->accepting = true;
    return 0;
}

static int workers_start(struct lb_hub *hub, char *err)
{
    struct lb_config wc = hub->cfg;
    wc.max_conns = (hub->cfg.max_conns + hub->worker_count - 1) / hub->worker_count;
    for (uint32_t w = 0; w < hub->worker_count; w++) {
        if (lb_worker_new(hub, w, &wc, &hub->workers[w]) != 0) {
            snprintf(err, LB_ERR_SIZE, "out of memory");
            return SYN_ENOMEM;
        }
    }
    return 0;
}

static int hub_start(struct lb_hub *hub, char *err)
{
    uv_signal_init(&hub->loop, &hub->sig_int);
    uv_signal_init(&hub->loop, &hub->sig_term);
    uv_timer_init(&hub->loop, &hub->accept_pause);
    hub->sig_int.data = hub;
    hub->sig_term.data = hub;
    hub->accept_pause.data = hub;
    int rc = hub_listen(hub, err);
    rc = rc == 0 ? workers_start(hub, err) : rc;
    if (rc == 0 && hub->cfg.stats_addr != NULL) {
        struct sockaddr_storage sa;
        rc = lb_addr_resolve(hub->cfg.stats_addr, &sa, err);
        rc = rc == 0 ? lb_stats_server_start(&hub->loop, &sa, render_stats, hub, &hub->stats, err)
                     : rc;
    }
    struct sockaddr_storage agents[LB_AGENTS_MAX];
    for (uint32_t i = 0; i < hub->cfg.agent_count && rc == 0; i++) {
        rc = lb_addr_resolve(hub->cfg.agents[i], &agents[i], err);
    }
    if (rc == 0) {
        struct lb_watch_config wc = {.service = hub->cfg.service,
                                     .agents = agents,
                                     .agent_count = hub->cfg.agent_count,
                                     .wait_s = hub->cfg.wait_s,
                                     .seed = hub->cfg.seed};
        struct lb_watch_callbacks cbs = {.ctx = hub, .answer = on_answer, .failed = on_watch_failed};
        lb_addr_name(&agents[0], hub->registry.registry_addr);
        if (lb_watch_start(&hub->loop, &wc, &cbs, &hub->watch) != 0) {
            snprintf(err, LB_ERR_SIZE, "out of memory");
            rc = SYN_ENOMEM;
        }
    }
    for (uint32_t w = 0; w < hub->worker_count && rc == 0; w++) {
        if (lb_worker_run(hub->workers[w]) != 0) {
            snprintf(err, LB_ERR_SIZE, "cannot start a thread");
            rc = SYN_ENOMEM;
        }
    }
    if (rc != 0) {
        return rc;
    }
    uv_signal_start(&hub->sig_int, on_signal, SIGINT);
    uv_signal_start(&hub->sig_term, on_signal, SIGTERM);
    uv_poll_start(&hub->accept_poll, UV_READABLE, on_acceptable);
    LOG_INFO("lb", "balancing service %s on %s (%s, %u threads), asking %s%s%s", hub->cfg.service,
             hub->listen_text, lb_policy_name(hub->cfg.policy), hub->worker_count,
             hub->cfg.agents[0], hub->cfg.agent_count > 1 ? " and others" : "",
             hub->cfg.replay ? "; unanswered requests are replayed" : "");
    return 0;
}

static struct lb_hub *hub_new(const struct lb_config *cfg)
{
    struct lb_hub *hub = calloc(1, sizeof(*hub));
    struct lb_table *view = calloc(1, sizeof(*view));
    if (hub == NULL || view == NULL) {
        free(hub);
        free(view);
        return NULL;
    }
    hub->cfg = *cfg;
    hub->view = view;
    hub->listen_fd = -1;
    uint32_t n = cfg->threads != 0 ? cfg->threads : (uint32_t)uv_available_parallelism();
    hub->worker_count = n < 1 ? 1 : n > LB_THREADS_MAX ? LB_THREADS_MAX : n;
    if (hub->cfg.seed == 0) {
        hub->cfg.seed = uv_hrtime() ^ ((uint64_t)getpid() << 32);
    }
    fd_limit_fit(&hub->cfg);
    hub->registry.registry_age_ms = UINT64_MAX;
    uv_loop_init(&hub->loop);
    return hub;
}

int lb_run(const struct lb_config *cfg, char *err)
{
    struct lb_hub *hub = hub_new(cfg);
    if (hub == NULL) {
        snprintf(err, LB_ERR_SIZE, "out of memory");
        return SYN_ENOMEM;
    }
    int rc = hub_start(hub, err);
    if (rc != 0) {
        hub_stop(hub);
    }
    uv_run(&hub->loop, UV_RUN_DEFAULT);
    uint64_t served = 0;
    for (uint32_t w = 0; w < hub->worker_count; w++) {
        lb_worker_free(hub->workers[w], &served); /* joins its thread first */
    }
    int close_rc = uv_loop_close(&hub->loop);
    if (close_rc != 0) {
        LOG_WARN("lb", "handles still open at exit: %s", uv_strerror(close_rc));
    }
    if (rc == 0) {
        LOG_INFO("lb", "stopped: %" PRIu64 " connections served", served);
    }
    free(hub->view);
    free(hub);
    return rc;
}
