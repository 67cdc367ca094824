/* raft_bench.c: the Raft core's own cost, in memory. Three cores are wired by the test
 * harness (tests/harness/cluster.h): a FIFO network that copies each message, as a transport
 * would, and synchronous in-memory "disks" (no I/O). A client keeps up to K proposals of
 * `payload` bytes outstanding on the leader; the network delivers in rounds (each message
 * queued at the start of a round is delivered in it, and what it causes waits for the next
 * round); every node ticks once per BENCH_ROUNDS_PER_TICK rounds and compacts its log as a
 * shell with snapshots would. Reported per configuration, median of --runs runs:
 * committed proposals per second (wall clock), CPU time per proposal
 * (CLOCK_PROCESS_CPUTIME_ID) and messages delivered per proposal.
 *
 *     raft_bench [--quick] [--json] [--proposals N] [--runs N] [--payload BYTES]
 *
 * Batching on is the default config; batching off is append_entries_max = 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "harness/cluster.h"

#define BENCH_NODES 3
#define BENCH_ROUNDS_PER_TICK 100u        /* network rounds per tick of every node */
#define BENCH_COMPACT_EVERY 16384u        /* applied entries between two snapshots of a node */
#define BENCH_COMPACT_TRAILING 8192u      /* entries kept behind a snapshot for slow followers */
#define BENCH_SNAPSHOT_SIZE 64u           /* bytes of the (all-zero) test snapshot */
#define BENCH_ROUNDS_PER_PROPOSAL_MAX 64u /* a run that needs more rounds is stuck */
#define BENCH_RUNS_MAX 15u
#define BENCH_PAYLOAD_SIZE_MAX 65536u
#define BENCH_QUICK_PROPOSALS 2000u
#define BENCH_WARMUP_PROPOSALS 50000u /* an untimed run first: the heap grows, caches fill */

struct bench_options {
    uint64_t proposals; /* per run */
    uint32_t runs;
    uint32_t payload_size;
    bool json;
};

struct bench_case {
    bool batching;
    uint32_t outstanding; /* K: proposals the client keeps in flight */
};

static const struct bench_case bench_cases[] = {
    {true, 1}, {true, 64}, {true, 1024}, {false, 1}, {false, 64}, {false, 1024},
};
#define BENCH_CASES (sizeof(bench_cases) / sizeof(bench_cases[0]))

struct bench_result {
    double proposals_per_sec;
    double cpu_us_per_proposal;
    double messages_per_proposal;
};

static double clock_seconds(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void bench_fail(const char *what)
{
    fprintf(stderr, "raft_bench: %s\n", what);
    exit(1);
}

/* Compacts each node's log every BENCH_COMPACT_EVERY applied entries. */
static void compact_logs(struct tc_cluster *c, uint64_t *compacted)
{
    for (uint32_t i = 0; i < c->node_count; i++) {
        struct raft *r = c->nodes[i].raft;
        uint64_t applied = raft_applied_index(r);
        if (applied - compacted[i] < BENCH_COMPACT_EVERY) {
            continue;
        }
        struct raft_snapshot_meta meta;
        if (raft_snapshot_meta_at(r, applied, &meta) != 0) {
            bench_fail("no snapshot meta at the applied index");
        }
        meta.size = BENCH_SNAPSHOT_SIZE;
        if (raft_compact(r, &meta, BENCH_COMPACT_TRAILING) != 0) {
            bench_fail(raft_errmsg(r));
        }
        compacted[i] = applied;
    }
}

/* Proposes until K are outstanding; returns how many are outstanding. */
static uint64_t top_up(struct tc_node *leader, const struct bench_options *o, uint32_t k,
                       uint64_t *proposed, uint64_t committed, uint8_t *payload)
{
    while (*proposed - committed < k && *proposed < o->proposals) {
        memcpy(payload, proposed,
               sizeof(*proposed) < o->payload_size ? sizeof(*proposed) : o->payload_size);
        uint64_t index, term;
        int rc = raft_propose(leader->raft, payload, o->payload_size, &index, &term);
        if (rc == SYN_EBUSY) {
            break; /* backpressure: wait for commits */
        }
        if (rc != 0) {
            bench_fail(raft_errmsg(leader->raft));
        }
        (*proposed)++;
    }
    return *proposed - committed;
}

/* After the timed part: every node must have applied the same entries. */
static void check_converged(struct tc_cluster *c, raft_id leader)
{
    for (uint32_t t = 0; t < 10; t++) {
        tc_tick_all(c);
        tc_deliver(c, SIZE_MAX);
    }
    const struct tc_node *ln = tc_node(c, leader);
    for (uint32_t i = 0; i < c->node_count; i++) {
        const struct tc_node *n = &c->nodes[i];
        if (n->last_applied_index != ln->last_applied_index ||
            n->applied_hash != ln->applied_hash) {
            bench_fail("nodes applied different entries");
        }
    }
}

static void bench_run(const struct bench_case *bc, const struct bench_options *o,
                      struct bench_result *res)
{
    struct raft_config cfg;
    raft_config_default(&cfg, 1);
    cfg.seed = 7;
    cfg.append_entries_max = bc->batching ? cfg.append_entries_max : 1;
    struct tc_cluster *c = calloc(1, sizeof(*c));
    uint8_t *payload = calloc(1, o->payload_size + 1);
    if (c == NULL || payload == NULL) {
        bench_fail("out of memory");
    }
    tc_init(c, BENCH_NODES, &cfg);
    raft_id leader = tc_elect(c, 1000);
    if (leader == 0) {
        bench_fail("no leader elected");
    }
    tc_deliver(c, SIZE_MAX);
    struct tc_node *ln = tc_node(c, leader);
    uint64_t base = ln->last_applied_index; /* the leader's blank entry */
    uint64_t delivered = c->delivered;
    uint64_t compacted[BENCH_NODES] = {0};
    uint64_t proposed = 0, committed = 0, rounds = 0;
    uint64_t rounds_max = o->proposals * BENCH_ROUNDS_PER_PROPOSAL_MAX + 1000;
    double wall = clock_seconds(CLOCK_MONOTONIC);
    double cpu = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
    while (committed < o->proposals) {
        top_up(ln, o, bc->outstanding, &proposed, committed, payload);
        tc_run(c, leader);
        tc_deliver(c, c->queue_count);
        if (++rounds % BENCH_ROUNDS_PER_TICK == 0) {
            tc_tick_all(c);
        }
        compact_logs(c, compacted);
        if (raft_role(ln->raft) != RAFT_LEADER || rounds > rounds_max) {
            bench_fail(rounds > rounds_max ? "no progress" : "the leader lost its leadership");
        }
        committed = ln->last_applied_index - base;
    }
    wall = clock_seconds(CLOCK_MONOTONIC) - wall;
    cpu = clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu;
    res->proposals_per_sec = (double)committed / wall;
    res->cpu_us_per_proposal = cpu * 1e6 / (double)committed;
    res->messages_per_proposal = (double)(c->delivered - delivered) / (double)committed;
    check_converged(c, leader);
    tc_free(c);
    free(c);
    free(payload);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return x < y ? -1 : (x > y ? 1 : 0);
}

static double median(double *values, uint32_t count)
{
    qsort(values, count, sizeof(*values), cmp_double);
    return count % 2 == 1 ? values[count / 2] : (values[count / 2 - 1] + values[count / 2]) / 2;
}

/* Runs every configuration once per round of runs, so that a slow moment of the machine is
 * spread over all of them, and keeps each metric's median over the runs. */
static void bench_all(const struct bench_options *o, struct bench_result *out)
{
    double rate[BENCH_CASES][BENCH_RUNS_MAX];
    double cpu[BENCH_CASES][BENCH_RUNS_MAX];
    double msgs[BENCH_CASES][BENCH_RUNS_MAX];
    struct bench_options warm = *o;
    warm.proposals = o->proposals < BENCH_WARMUP_PROPOSALS ? o->proposals : BENCH_WARMUP_PROPOSALS;
    struct bench_result ignored;
    bench_run(&bench_cases[0], &warm, &ignored); /* grow the heap before timing anything */
    for (uint32_t run = 0; run < o->runs; run++) {
        for (size_t i = 0; i < BENCH_CASES; i++) {
            struct bench_result r;
            bench_run(&bench_cases[i], o, &r);
            rate[i][run] = r.proposals_per_sec;
            cpu[i][run] = r.cpu_us_per_proposal;
            msgs[i][run] = r.messages_per_proposal;
        }
    }
    for (size_t i = 0; i < BENCH_CASES; i++) {
        out[i].proposals_per_sec = median(rate[i], o->runs);
        out[i].cpu_us_per_proposal = median(cpu[i], o->runs);
        out[i].messages_per_proposal = median(msgs[i], o->runs);
    }
}

static void print_table(const struct bench_options *o, const struct bench_result *res)
{
    printf("Raft core in memory: %d nodes, payload %u B, %llu proposals per run, median of %u "
           "run%s\n\n",
           BENCH_NODES, o->payload_size, (unsigned long long)o->proposals, o->runs,
           o->runs == 1 ? "" : "s");
    printf("| batching | outstanding | proposals/s | CPU us/proposal | messages/proposal |\n");
    printf("|----------|------------:|------------:|----------------:|------------------:|\n");
    for (size_t i = 0; i < BENCH_CASES; i++) {
        printf("| %-8s | %11u | %11.0f | %15.2f | %17.2f |\n",
               bench_cases[i].batching ? "on" : "off", bench_cases[i].outstanding,
               res[i].proposals_per_sec, res[i].cpu_us_per_proposal, res[i].messages_per_proposal);
    }
}

static void print_json(const struct bench_options *o, const struct bench_result *res)
{
    printf("{\"benchmark\": \"raft_core_memory\", \"nodes\": %d, \"payload_bytes\": %u, "
           "\"proposals_per_run\": %llu, \"runs\": %u, \"results\": [",
           BENCH_NODES, o->payload_size, (unsigned long long)o->proposals, o->runs);
    for (size_t i = 0; i < BENCH_CASES; i++) {
        printf("%s\n  {\"batching\": %s, \"outstanding\": %u, \"proposals_per_sec\": %.0f, "
               "\"cpu_us_per_proposal\": %.3f, \"messages_per_proposal\": %.3f}",
               i > 0 ? "," : "", bench_cases[i].batching ? "true" : "false",
               bench_cases[i].outstanding, res[i].proposals_per_sec, res[i].cpu_us_per_proposal,
               res[i].messages_per_proposal);
    }
    printf("\n]}\n");
}

static bool parse_count(const char *s, uint64_t max, uint64_t *v)
{
    char *end;
    if (s == NULL || s[0] < '0' || s[0] > '9') {
        return false;
    }
    *v = strtoull(s, &end, 10);
    return *end == '\0' && *v >= 1 && *v <= max;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: raft_bench [--quick] [--json] [--proposals N] [--runs 1..%u] "
            "[--payload 1..%u]\n",
            BENCH_RUNS_MAX, BENCH_PAYLOAD_SIZE_MAX);
    return 2;
}

static int parse_options(int argc, char **argv, struct bench_options *o)
{
    *o = (struct bench_options){.proposals = 200000, .runs = 3, .payload_size = 128};
    for (int i = 1; i < argc; i++) {
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t v;
        if (strcmp(argv[i], "--json") == 0) {
            o->json = true;
        } else if (strcmp(argv[i], "--quick") == 0) {
            o->proposals = BENCH_QUICK_PROPOSALS;
            o->runs = 1;
        } else if (strcmp(argv[i], "--proposals") == 0 && parse_count(next, UINT32_MAX, &v)) {
            o->proposals = v;
            i++;
        } else if (strcmp(argv[i], "--runs") == 0 && parse_count(next, BENCH_RUNS_MAX, &v)) {
            o->runs = (uint32_t)v;
            i++;
        } else if (strcmp(argv[i], "--payload") == 0 &&
                   parse_count(next, BENCH_PAYLOAD_SIZE_MAX, &v)) {
            o->payload_size = (uint32_t)v;
            i++;
        } else {
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct bench_options o;
    if (parse_options(argc, argv, &o) != 0) {
        return usage();
    }
    struct bench_result res[BENCH_CASES];
    bench_all(&o, res);
    if (o.json) {
        print_json(&o, res);
    } else {
        print_table(&o, res);
    }
    return 0;
}
