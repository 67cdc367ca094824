/* sim_cmd.c: `synod sim`: argument parsing, running one seed or many, and reporting a
 * violation with the exact command that replays it. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/assert.h"
#include "base/err.h"
#include "cli/cli.h"
#include "raft/raft.h"
#include "sim/sim.h"

#define SIM_CMD_NODE_CHOICES_MAX 8u

struct sim_cmd {
    const char *prog;
    bool single;   /* --seed */
    uint64_t seed; /* --seed, or --from */
    uint64_t seed_count;
    uint32_t nodes[SIM_CMD_NODE_CHOICES_MAX];
    uint32_t node_choices;
    bool trace;
    bool trace_messages;
    bool progress;
    uint32_t mutants;
    const char *mutant_name;
};

/* What the assertion handler needs to print a replay command. A failed ASSERT has no
 * context argument, so this one piece of state is process-wide (base/assert.h). */
static struct {
    const struct sim_cmd *cmd;
    uint64_t seed;
    uint32_t nodes;
} sim_cmd_current;

static const char sim_cmd_help[] =
    "usage: synod sim --seed S [--nodes K] [--trace | --trace-messages] [--mutant NAME]\n"
    "       synod sim --seeds N [--from S] [--nodes K | --nodes 3,5,7] [--progress]\n"
    "\n"
    "Runs whole Raft clusters in this process from a seed, with message loss, duplication,\n"
    "delay and reordering, partitions, crashes, slow disks, uneven clocks, membership changes\n"
    "and leadership transfers; checks safety at every step, linearizability of the clients'\n"
    "history, and that the cluster converges once the faults end. A seed always replays the\n"
    "same run. See docs/simulator.md.\n"
    "\n"
    "  --seed S        run the one seed S\n"
    "  --seeds N       run N seeds, S, S+1, ... (S from --from, default 1)\n"
    "  --from S        the first seed of --seeds\n"
    "  --nodes K       voters in the initial cluster: 3, 5 or 7 (default 3); a list such as\n"
    "                  3,5,7 rotates through its counts by seed\n"
    "  --trace         print a readable timeline of the run\n"
    "  --trace-messages  the timeline also shows every message delivered\n"
    "  --progress      print progress while running many seeds\n"
    "  --mutant NAME   break a Raft rule on purpose (double-vote, commit-old-term,\n"
    "                  ack-unpersisted, no-log-check); needs build/mutants/synod\n"
    "  --help          this text\n"
    "\n"
    "exit status: 0 every property held, 1 a violation (the replay command is printed),\n"
    "2 a usage error\n";

static int sim_cmd_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints a usage error; returns exit status 2. */
static int sim_cmd_usage(const char *fmt, ...)
{
    fprintf(stderr, "synod sim: ");
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(try synod sim --help)\n");
    return 2;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    if (s == NULL || *s < '0' || *s > '9') {
        return false;
    }
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0') {
        return false;
    }
    *out = (uint64_t)v;
    return true;
}

static bool parse_nodes(struct sim_cmd *cmd, const char *s)
{
    cmd->node_choices = 0;
    char buf[64];
    if (s == NULL || strlen(s) >= sizeof(buf)) {
        return false;
    }
    strcpy(buf, s);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        uint64_t k = 0;
        if (!parse_u64(tok, &k) || k < 1 || k > SIM_VOTERS_MAX ||
            cmd->node_choices == SIM_CMD_NODE_CHOICES_MAX) {
            return false;
        }
        cmd->nodes[cmd->node_choices++] = (uint32_t)k;
    }
    return cmd->node_choices > 0;
}

static bool parse_mutant(struct sim_cmd *cmd, const char *name)
{
    static const struct {
        const char *name;
        uint32_t bit;
    } mutants[] = {
        {"double-vote", RAFT_MUTANT_DOUBLE_VOTE},
        {"commit-old-term", RAFT_MUTANT_COMMIT_OLD_TERM},
        {"ack-unpersisted", RAFT_MUTANT_ACK_UNPERSISTED},
        {"no-log-check", RAFT_MUTANT_NO_LOG_CHECK},
    };
    for (size_t i = 0; name != NULL && i < sizeof(mutants) / sizeof(mutants[0]); i++) {
        if (strcmp(name, mutants[i].name) == 0) {
            cmd->mutants = mutants[i].bit;
            cmd->mutant_name = mutants[i].name;
            return true;
        }
    }
    return false;
}

/* One option with its value; returns 0, 1 when --help was printed, or 2 for a usage error. */
static int sim_cmd_option(struct sim_cmd *cmd, const char *opt, const char *val, bool *used_val)
{
    *used_val = true;
    if (strcmp(opt, "--seed") == 0) {
        cmd->single = true;
        return parse_u64(val, &cmd->seed) ? 0 : sim_cmd_usage("bad --seed '%s'", val ? val : "");
    }
    if (strcmp(opt, "--seeds") == 0) {
        return parse_u64(val, &cmd->seed_count) && cmd->seed_count > 0
                   ? 0
                   : sim_cmd_usage("bad --seeds '%s'", val ? val : "");
    }
    if (strcmp(opt, "--from") == 0) {
        return parse_u64(val, &cmd->seed) ? 0 : sim_cmd_usage("bad --from '%s'", val ? val : "");
    }
    if (strcmp(opt, "--nodes") == 0) {
        return parse_nodes(cmd, val)
                   ? 0
                   : sim_cmd_usage("bad --nodes '%s' (e.g. 5 or 3,5,7)", val ? val : "");
    }
    if (strcmp(opt, "--mutant") == 0) {
        return parse_mutant(cmd, val) ? 0 : sim_cmd_usage("unknown mutant '%s'", val ? val : "");
    }
    *used_val = false;
    if (strcmp(opt, "--trace") == 0) {
        cmd->trace = true;
        return 0;
    }
    if (strcmp(opt, "--trace-messages") == 0) {
        cmd->trace = true;
        cmd->trace_messages = true;
        return 0;
    }
    if (strcmp(opt, "--progress") == 0) {
        cmd->progress = true;
        return 0;
    }
    if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0) {
        fputs(sim_cmd_help, stdout);
        return 1;
    }
    return sim_cmd_usage("unknown option '%s'", opt);
}

static int sim_cmd_parse(struct sim_cmd *cmd, int argc, char **argv)
{
    bool have_from = false;
    for (int i = 0; i < argc; i++) {
        bool used_val = false;
        have_from |= strcmp(argv[i], "--from") == 0;
        int rc = sim_cmd_option(cmd, argv[i], i + 1 < argc ? argv[i + 1] : NULL, &used_val);
        if (rc != 0) {
            return rc;
        }
        i += used_val;
    }
    if (cmd->single == (cmd->seed_count > 0)) {
        return sim_cmd_usage("give either --seed S or --seeds N");
    }
    if (cmd->single && have_from) {
        return sim_cmd_usage("--from goes with --seeds");
    }
#ifndef SYN_MUTANTS
    if (cmd->mutants != 0) {
        return sim_cmd_usage("--mutant %s needs a build with the mutants compiled in "
                             "(make build/mutants/synod, then run build/mutants/synod sim)",
                             cmd->mutant_name);
    }
#endif
    return 0;
}

static uint32_t sim_cmd_nodes_for(const struct sim_cmd *cmd, uint64_t seed)
{
    return cmd->nodes[seed % cmd->node_choices];
}

static void sim_cmd_print_replay(FILE *out, const struct sim_cmd *cmd, uint64_t seed,
                                 uint32_t nodes)
{
    fprintf(out, "  replay: %s sim --seed %" PRIu64 " --nodes %u%s%s --trace\n", cmd->prog, seed,
            nodes, cmd->mutant_name ? " --mutant " : "", cmd->mutant_name ? cmd->mutant_name : "");
}

static void sim_cmd_on_assert(const char *file, int line, const char *expr)
{
    const struct sim_cmd *cmd = sim_cmd_current.cmd;
    fflush(stdout);
    printf("synod sim: VIOLATION at seed %" PRIu64 " (%u nodes): core assertion failed: %s "
           "(%s:%d)\n",
           sim_cmd_current.seed, sim_cmd_current.nodes, expr, file, line);
    sim_cmd_print_replay(stdout, cmd, sim_cmd_current.seed, sim_cmd_current.nodes);
    fflush(stdout);
    _Exit(1); /* exit status 1 is "a violation"; skip atexit work (leak checks) on a dead run */
}

static void sim_cmd_report(const struct sim_cmd *cmd, uint64_t seed, uint32_t nodes,
                           const struct sim_result *res)
{
    if (res->violated) {
        printf("synod sim: VIOLATION of %s at seed %" PRIu64 " (%u nodes)\n", res->property, seed,
               nodes);
        printf("  %s\n  faults: %s\n", res->detail, res->swarm);
        sim_cmd_print_replay(stdout, cmd, seed, nodes);
        return;
    }
    if (cmd->single) {
        const struct sim_stats *s = &res->stats;
        printf("seed %" PRIu64 ": ok (%u nodes; %s)\n", seed, nodes, res->swarm);
        printf("  %" PRIu64 " steps, %.3f s simulated, converged %.3f s after the faults "
               "ended; %" PRIu64 " ops (%" PRIu64 " ok, %" PRIu64 " unknown), linearizability %s\n",
               s->steps, s->time_us / 1e6, (s->converged_us - s->heal_us) / 1e6, s->ops, s->ops_ok,
               s->ops_unknown, s->lin_unknown ? "undecided (search budget)" : "ok");
    }
}

static double sim_cmd_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sim_stats_add(struct sim_stats *sum, const struct sim_stats *s)
{
    sum->steps += s->steps;
    sum->time_us += s->time_us;
    sum->messages += s->messages;
    sum->dropped += s->dropped;
    sum->leaders += s->leaders;
    sum->crashes += s->crashes;
    sum->snapshots += s->snapshots;
    sum->installs += s->installs;
    sum->conf_changes += s->conf_changes;
    sum->ops += s->ops;
    sum->ops_ok += s->ops_ok;
    sum->ops_unknown += s->ops_unknown;
    sum->lin_unknown += s->lin_unknown;
}

static void sim_cmd_summary(const struct sim_cmd *cmd, const struct sim_stats *sum, double elapsed)
{
    char nodes[48] = "";
    for (uint32_t i = 0; i < cmd->node_choices; i++) {
        size_t used = strlen(nodes);
        snprintf(nodes + used, sizeof(nodes) - used, "%s%u", i > 0 ? "," : "", cmd->nodes[i]);
    }
    printf("synod sim: %" PRIu64 " seeds passed (%" PRIu64 "..%" PRIu64 ", %s nodes) in %.1f s, "
           "%.0f seeds/s\n",
           cmd->seed_count, cmd->seed, cmd->seed + cmd->seed_count - 1, nodes, elapsed,
           elapsed > 0 ? (double)cmd->seed_count / elapsed : 0.0);
    printf("  totals: %.0f s simulated, %" PRIu64 " steps, %" PRIu64 " messages (%" PRIu64
           " dropped), %" PRIu64 " leaders elected, %" PRIu64 " crashes, %" PRIu64
           " snapshots taken, %" PRIu64 " installed, %" PRIu64 " membership changes, %" PRIu64
           " client ops (%" PRIu64 " ok, %" PRIu64 " unknown)\n",
           sum->time_us / 1e6, sum->steps, sum->messages, sum->dropped, sum->leaders, sum->crashes,
           sum->snapshots, sum->installs, sum->conf_changes, sum->ops, sum->ops_ok,
           sum->ops_unknown);
    if (sum->lin_unknown > 0) {
        printf("  %u seeds left linearizability undecided (search budget hit)\n",
               (unsigned)sum->lin_unknown);
    }
}

static int sim_cmd_run(const struct sim_cmd *cmd)
{
    uint64_t count = cmd->single ? 1 : cmd->seed_count;
    double start = sim_cmd_seconds();
    double last_progress = start;
    struct sim_stats sum = {0};
    syn_assert_set_handler(sim_cmd_on_assert);
    for (uint64_t i = 0; i < count; i++) {
        uint64_t seed = cmd->seed + i;
        uint32_t nodes = sim_cmd_nodes_for(cmd, seed);
        sim_cmd_current.cmd = cmd;
        sim_cmd_current.seed = seed;
        sim_cmd_current.nodes = nodes;
        struct sim_options options = {.seed = seed,
                                      .node_count = nodes,
                                      .mutants = cmd->mutants,
                                      .trace = cmd->trace ? stdout : NULL,
                                      .trace_messages = cmd->trace_messages};
        struct sim_result res;
        int rc = sim_run(&options, &res);
        if (rc != 0) {
            fprintf(stderr, "synod sim: seed %" PRIu64 ": %s\n", seed, syn_strerror(rc));
            return 1;
        }
        sim_cmd_report(cmd, seed, nodes, &res);
        if (res.violated) {
            return 1;
        }
        sim_stats_add(&sum, &res.stats);
        double now = sim_cmd_seconds();
        if (cmd->progress && now - last_progress >= 2.0) {
            last_progress = now;
            printf("  %" PRIu64 "/%" PRIu64 " seeds, %.0f seeds/s\n", i + 1, count,
                   (double)(i + 1) / (now - start));
            fflush(stdout);
        }
    }
    if (!cmd->single) {
        sim_cmd_summary(cmd, &sum, sim_cmd_seconds() - start);
    }
    return 0;
}

int sim_cmd_main(const char *prog, int argc, char **argv)
{
    struct sim_cmd cmd = {.prog = prog, .seed = 1, .nodes = {3}, .node_choices = 1};
    int rc = sim_cmd_parse(&cmd, argc, argv);
    if (rc != 0) {
        return rc == 1 ? 0 : rc;
    }
    return sim_cmd_run(&cmd);
}
