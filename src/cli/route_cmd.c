/* route_cmd.c: `synod route NAME -n COUNT`: where the next COUNT requests to service NAME
 * would go under a policy: the course lab's round-robin loop, on the registry's real list of
 * passing instances and synod lb's own policy code (src/lb/lb_policy.h). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/json.h"
#include "base/prng.h"
#include "cli/cli.h"
#include "cli/cli_call.h"
#include "cli/cli_out.h"
#include "lb/lb_policy.h"
#include "lb/lb_registry.h"
#include "lb/lb_table.h"

#define ROUTE_COUNT_DEFAULT 5u
#define ROUTE_COUNT_MAX 100000u

static const char route_help[] =
    "usage: synod route NAME [-n COUNT] [--policy P] [--client IP] [--seed N] [options]\n"
    "\n"
    "Asks an agent once for the passing instances of service NAME and prints where the next\n"
    "COUNT requests (default 5) would go under policy P, as synod lb would send them:\n"
    "\n"
    "    1  web-1  127.0.0.1:9001\n"
    "    2  web-2  127.0.0.1:9002\n"
    "\n"
    "Each request is taken to finish before the next (least-conn then rotates like\n"
    "round-robin); consistent-hash sends every request of one client to one instance.\n"
    "\n"
    "  -n COUNT, --count COUNT   how many requests (1 to 100000)\n"
    "  --policy P                round-robin (default), least-conn, weighted, power-of-two,\n"
    "                            consistent-hash\n"
    "  --client IP               the client's address for consistent-hash (default 127.0.0.1)\n"
    "  --seed N                  power-of-two's random numbers (default: from the clock)\n"
    "  --addr LIST               the agents' HTTP addresses, tried in order (default:\n"
    "                            $SYNOD_HTTP_ADDR, else " CLI_ADDRS_DEFAULT ")\n"
    "  --json                    a JSON array of {\"n\",\"id\",\"node\",\"addr\"}\n"
    "  --timeout MS              for the request to the agent (default 5000)\n"
    "  --help                    this text\n"
    "\n"
    "exit status: 0 printed, 1 no agent answered or no instance passes, 2 usage error\n";

struct route_args {
    const char *name;
    uint64_t count;
    uint8_t policy;
    uint64_t client_hash;
    uint64_t seed;
};

/* NAME and "-n COUNT" from the positional arguments, the rest from the flags. */
static int args_read(const struct cli_opts *o, const char *const text[4], const bool set[4],
                     struct route_args *a)
{
    const char *count = set[0] ? text[0] : NULL;
    a->name = NULL;
    for (uint32_t i = 0; i < o->arg_count; i++) {
        if (strcmp(o->args[i], "-n") == 0 && i + 1 < o->arg_count) {
            count = o->args[++i];
        } else if (strncmp(o->args[i], "-n", 2) == 0 && o->args[i][2] != '\0') {
            count = o->args[i] + 2;
        } else if (a->name == NULL) {
            a->name = o->args[i];
        } else {
            return cli_usage(o, "unexpected argument '%s'", o->args[i]);
        }
    }
    if (a->name == NULL || a->name[0] == '\0') {
        return cli_usage(o, "expected a service NAME");
    }
    a->count = ROUTE_COUNT_DEFAULT;
    if (count != NULL && (!cli_u64_parse(count, ROUTE_COUNT_MAX, &a->count) || a->count == 0)) {
        return cli_usage(o, "-n: expected a count from 1 to %u", ROUTE_COUNT_MAX);
    }
    a->policy = set[1] ? lb_policy_parse(text[1]) : LB_ROUND_ROBIN;
    if (a->policy == 0) {
        return cli_usage(o, "--policy: unknown policy '%s'", text[1]);
    }
    uint8_t ip[16];
    const char *client = set[2] ? text[2] : "127.0.0.1";
    if (inet_pton(AF_INET, client, ip) == 1) {
        a->client_hash = lb_hash_bytes(ip, 4); /* as synod lb hashes a client */
    } else if (inet_pton(AF_INET6, client, ip) == 1) {
        a->client_hash = lb_hash_bytes(ip, 16);
    } else {
        return cli_usage(o, "--client: '%s' is not an IP address", client);
    }
    a->seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    if (set[3] && !cli_u64_parse(text[3], UINT64_MAX, &a->seed)) {
        return cli_usage(o, "--seed: expected a number");
    }
    return CLI_GO_ON;
}

/* The passing instances of a->name into t. CLI_GO_ON or the exit code. */
static int instances_fetch(const struct cli_opts *o, const struct route_args *a,
                           struct lb_table *t)
{
    struct syn_buf target;
    syn_buf_init(&target, 0);
    if (lb_registry_target(&target, a->name, 0, 0) != 0) {
        syn_buf_free(&target);
        return cli_fail("out of memory");
    }
    struct cli_http_request req = {.method = "GET", .target = (const char *)target.data};
    struct cli_reply r;
    cli_reply_init(&r);
    int rc = cli_call_any(o, &req, &r);
    static struct lb_instance list[SYN_LB_BACKENDS_MAX];
    uint32_t count = 0;
    uint32_t skipped = 0;
    if (rc == 0 && r.resp.status != 200) {
        char why[CLI_ERR_SIZE];
        cli_reply_error(&r, why, sizeof(why));
        rc = cli_fail("%s: %s", r.addr, why);
    } else if (rc == 0 && lb_registry_parse(r.resp.body, r.resp.body_size, list,
                                            SYN_LB_BACKENDS_MAX, &count, &skipped) != 0) {
        rc = cli_fail("%s: the answer is not Consul's health JSON", r.addr);
    } else if (rc == 0 && count == 0) {
        rc = cli_fail("no passing instance of service '%s'", a->name);
    }
    cli_reply_free(&r);
    syn_buf_free(&target);
    if (rc != 0) {
        return rc;
    }
    struct lb_update u;
    lb_table_update(t, list, count, 0, &u);
    return CLI_GO_ON;
}

static int routes_print(const struct cli_opts *o, const struct route_args *a, struct lb_table *t,
                        struct lb_policy *p)
{
    struct prng rng;
    prng_init(&rng, a->seed);
    struct cli_table table;
    cli_table_init(&table, 3);
    struct syn_buf out;
    syn_buf_init(&out, 0);
    int rc = o->json ? syn_buf_append(&out, "[", 1) : 0;
    for (uint64_t i = 1; i <= a->count && rc == 0; i++) {
        lb_table_usable(t, 0, NULL, false);
        struct lb_pick_in in = {.client_hash = a->client_hash,
                                .random = {prng_next(&rng), prng_next(&rng)}};
        int32_t s = lb_policy_pick(p, t->targets, t->count, &in);
        const struct lb_backend *b = &t->backends[s];
        if (!o->json) {
            cli_table_add(&table, "%llu", (unsigned long long)i);
            cli_table_add(&table, "%s", b->inst.id);
            cli_table_add(&table, "%s", b->addr);
            continue;
        }
        struct json_obj j;
        rc = i > 1 ? syn_buf_append(&out, ",", 1) : 0;
        json_obj_begin(&j, &out);
        json_obj_u64(&j, "n", i);
        json_obj_str(&j, "id", b->inst.id);
        json_obj_str(&j, "node", b->inst.node);
        json_obj_str(&j, "addr", b->addr);
        rc = rc == 0 ? json_obj_end(&j) : rc;
    }
    rc = rc == 0 ? (o->json ? syn_buf_append(&out, "]\n", 2) : cli_table_format(&table, &out))
                 : rc;
    if (rc == 0) {
        fwrite(out.data, 1, out.len, stdout);
    }
    cli_table_free(&table);
    syn_buf_free(&out);
    return rc == 0 ? CLI_EXIT_OK : cli_fail("out of memory");
}

int route_cmd_main(const char *prog, int argc, char **argv)
{
    (void)prog;
    bool set[4] = {false};
    const char *text[4] = {NULL};
    const struct cli_flag flags[] = {{"count", &set[0], &text[0]},
                                     {"policy", &set[1], &text[1]},
                                     {"client", &set[2], &text[2]},
                                     {"seed", &set[3], &text[3]}};
    struct cli_opts o;
    int rc = cli_opts_begin(&o, "synod route", argc, argv, flags, 4, route_help);
    struct route_args a;
    rc = rc == CLI_GO_ON ? args_read(&o, text, set, &a) : rc;
    if (rc != CLI_GO_ON) {
        return rc;
    }
    struct lb_table *t = calloc(1, sizeof(*t));
    struct lb_policy *p = calloc(1, sizeof(*p));
    if (t == NULL || p == NULL) {
        free(t);
        free(p);
        return cli_fail("out of memory");
    }
    lb_table_init(t, 1, 0);
    lb_policy_init(p, a.policy);
    rc = instances_fetch(&o, &a, t);
    if (rc == CLI_GO_ON) {
        lb_policy_rebuild(p, t->targets, t->count);
        rc = routes_print(&o, &a, t, p);
    }
    free(t);
    free(p);
    return rc;
}
