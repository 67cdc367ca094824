/* lb_cmd.c: `synod lb`: the command line of the load balancer (src/lb/lb.h). */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "base/limits.h"
#include "cli/cli.h"
#include "cli/cli_opts.h"
#include "lb/lb.h"
#include "lb/lb_policy.h"
#include "lb/lb_registry.h"
#include "lb/lb_table.h"
#include "log/log.h"

static const char lb_help[] =
    "usage: synod lb --service NAME --listen HOST:PORT [options]\n"
    "\n"
    "A TCP (layer 4) load balancer: each client connection to --listen is joined to one\n"
    "healthy instance of service NAME, which synod lb learns from an agent's health endpoint\n"
    "(GET /v1/health/service/NAME?passing, as Consul's) with blocking queries, so an instance\n"
    "that turns critical or is deregistered gets no new connection at once. A connect that\n"
    "fails (refused, or no answer within --connect-timeout-ms) is tried on another instance;\n"
    "an instance that refused --fall connects in a row is left out for --down-ms. An instance\n"
    "that leaves keeps its open connections until they close (or --drain-timeout-ms).\n"
    "\n"
    "  --service NAME            the service to balance (required)\n"
    "  --listen HOST:PORT        where clients connect (required)\n"
    "  --policy P                round-robin (default), least-conn, weighted (Consul's\n"
    "                            Weights.Passing, smooth as nginx), power-of-two, or\n"
    "                            consistent-hash (on the client's IP address)\n"
    "  --addr LIST               the agents' HTTP addresses, asked in turn when one fails\n"
    "                            (default: $SYNOD_HTTP_ADDR, else " CLI_ADDRS_DEFAULT ")\n"
    "  --stats-addr HOST:PORT    serve GET /stats (JSON) and GET /metrics (Prometheus)\n"
    "  --threads N               worker threads, each balancing the connections the kernel\n"
    "                            gives it (default: one a CPU, as HAProxy's nbthread); with\n"
    "                            more than one, round-robin order and connection counts are\n"
    "                            per thread\n"
    "  --max-conns N             client connections at once; more are closed (default 4096)\n"
    "  --connect-timeout-ms MS   one connect to an instance (default 1000)\n"
    "  --drain-timeout-ms MS     close a removed instance's connections after MS (default 0:\n"
    "                            keep them until they close)\n"
    "  --fall N                  failed connects in a row that mark an instance down (default 2)\n"
    "  --down-ms MS              how long it stays down before it is tried again (default 2000)\n"
    "  --wait-s S                how long one blocking query waits for a change (default 30)\n"
    "  --replay                  when an instance fails before answering the client's last\n"
    "                            bytes, send them again to another instance: clients see no\n"
    "                            error, but a request may run twice (idempotent requests only,\n"
    "                            such as HTTP GETs; docs/lb.md)\n"
    "  --seed N                  power-of-two's random numbers (default: from the clock)\n"
    "  --log-level L             debug, info (default), warn, error\n"
    "  --help                    this text\n"
    "\n"
    "SIGINT or SIGTERM closes every connection and exits 0.\n"
    "exit status: 0 stopped by a signal, 1 could not start, 2 usage error\n";

struct lb_args {
    bool service_set, listen_set, policy_set, stats_set, max_set, connect_set, drain_set;
    bool fall_set, down_set, wait_set, replay_set, seed_set, log_set, threads_set;
    const char *service, *listen, *policy, *stats, *max, *connect, *drain, *fall, *down, *wait;
    const char *seed, *log, *threads;
};

/* Reads "--name N" into *out when given: false (after a usage message) when N is not a
 * number in [min, max]. */
static bool number(const struct cli_opts *o, bool set, const char *name, const char *text,
                   uint64_t min, uint64_t max, uint64_t *out)
{
    if (!set) {
        return true;
    }
    uint64_t v;
    if (!cli_u64_parse(text, max, &v) || v < min) {
        cli_usage(o, "--%s: expected a number from %llu to %llu", name, (unsigned long long)min,
                  (unsigned long long)max);
        return false;
    }
    *out = v;
    return true;
}

static int config_fill(const struct cli_opts *o, const struct lb_args *a, struct lb_config *cfg)
{
    if (o->arg_count > 0) {
        return cli_usage(o, "unexpected argument '%s'", o->args[0]);
    }
    if (o->json || o->timeout_ms != CLI_TIMEOUT_MS_DEFAULT) {
        return cli_usage(o, "--json and --timeout are not options of synod lb");
    }
    if (!a->service_set || a->service[0] == '\0' || !a->listen_set) {
        return cli_usage(o, "--service NAME and --listen HOST:PORT are required");
    }
    cfg->service = a->service;
    cfg->listen_addr = a->listen;
    cfg->stats_addr = a->stats_set ? a->stats : NULL;
    cfg->replay = a->replay_set;
    if (a->policy_set && (cfg->policy = lb_policy_parse(a->policy)) == 0) {
        return cli_usage(o, "--policy: unknown policy '%s'", a->policy);
    }
    for (uint32_t i = 0; i < o->addr_count; i++) {
        cfg->agents[i] = o->addrs[i];
    }
    cfg->agent_count = o->addr_count;
    uint64_t max = cfg->max_conns, connect = cfg->connect_timeout_ms, drain = 0;
    uint64_t fall = cfg->fall, down = cfg->down_ms, wait = cfg->wait_s, seed = 0, threads = 0;
    if (!number(o, a->max_set, "max-conns", a->max, 1, SYN_LB_CONNECTIONS_MAX, &max) ||
        !number(o, a->connect_set, "connect-timeout-ms", a->connect, 1, LB_TIMEOUT_MS_MAX,
                &connect) ||
        !number(o, a->drain_set, "drain-timeout-ms", a->drain, 0, LB_TIMEOUT_MS_MAX, &drain) ||
        !number(o, a->fall_set, "fall", a->fall, 1, LB_FALL_MAX, &fall) ||
        !number(o, a->down_set, "down-ms", a->down, 0, LB_TIMEOUT_MS_MAX, &down) ||
        !number(o, a->wait_set, "wait-s", a->wait, 1, LB_REGISTRY_WAIT_S_MAX, &wait) ||
        !number(o, a->seed_set, "seed", a->seed, 0, UINT64_MAX, &seed) ||
        !number(o, a->threads_set, "threads", a->threads, 1, LB_THREADS_MAX, &threads)) {
        return CLI_EXIT_USAGE;
    }
    cfg->max_conns = (uint32_t)max;
    cfg->connect_timeout_ms = (uint32_t)connect;
    cfg->drain_timeout_ms = (uint32_t)drain;
    cfg->fall = (uint32_t)fall;
    cfg->down_ms = (uint32_t)down;
    cfg->wait_s = (uint32_t)wait;
    cfg->seed = seed;
    cfg->threads = (uint32_t)threads;
    return CLI_GO_ON;
}

int lb_cmd_main(const char *prog, int argc, char **argv)
{
    (void)prog;
    struct lb_args a = {0};
    const struct cli_flag flags[] = {
        {"service", &a.service_set, &a.service},
        {"listen", &a.listen_set, &a.listen},
        {"policy", &a.policy_set, &a.policy},
        {"stats-addr", &a.stats_set, &a.stats},
        {"max-conns", &a.max_set, &a.max},
        {"connect-timeout-ms", &a.connect_set, &a.connect},
        {"drain-timeout-ms", &a.drain_set, &a.drain},
        {"fall", &a.fall_set, &a.fall},
        {"down-ms", &a.down_set, &a.down},
        {"wait-s", &a.wait_set, &a.wait},
        {"replay", &a.replay_set, NULL},
        {"seed", &a.seed_set, &a.seed},
        {"log-level", &a.log_set, &a.log},
        {"threads", &a.threads_set, &a.threads},
    };
    struct cli_opts o;
    int rc = cli_opts_begin(&o, "synod lb", argc, argv, flags, sizeof(flags) / sizeof(flags[0]),
                            lb_help);
    if (rc != CLI_GO_ON) {
        return rc;
    }
    struct lb_config cfg;
    lb_config_default(&cfg);
    rc = config_fill(&o, &a, &cfg);
    if (rc != CLI_GO_ON) {
        return rc;
    }
    int level = a.log_set ? syn_log_level_parse(a.log) : SYN_LOG_INFO;
    if (level < 0) {
        return cli_usage(&o, "--log-level: expected debug, info, warn or error");
    }
    syn_log_setup((enum syn_log_level)level, NULL, 0);
    signal(SIGPIPE, SIG_IGN); /* a peer that closed: the write fails with EPIPE instead */
    char err[LB_ERR_SIZE] = "";
    rc = lb_run(&cfg, err);
    if (rc != 0) {
        LOG_ERROR("lb", "cannot start: %s", err);
        return CLI_EXIT_FAILED;
    }
    return CLI_EXIT_OK;
}
