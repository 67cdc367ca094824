/* dev_report.c: `synod dev`'s ready report, as text or as JSON. */
#include "cli/dev_report.h"

#include <string.h>
#include <unistd.h>

#include "api/json.h"
#include "base/assert.h"
#include "base/buf.h"
#include "base/err.h"
#include "cli/cli_opts.h"

#define DEV_REPORT_JSON_SIZE_MAX (64u << 10) /* 7 nodes' endpoints and paths */

static void report_text(FILE *out, const struct dev_agents *agents, const char *prog,
                        uint32_t leader, uint64_t elapsed_ms)
{
    const struct dev_plan *plan = agents->plan;
    const struct dev_node *nodes = plan->nodes;
    uint32_t count = plan->node_count;
    /* Examples use different nodes, to show that any node takes any request. */
    const struct dev_node *a = &nodes[0];
    const struct dev_node *b = &nodes[1 % count];
    const struct dev_node *c = &nodes[2 % count];
    fprintf(out, "synod dev: ready: %u node%s, leader %s (elected in %.1f s)\n\n", count,
            count == 1 ? "" : "s", nodes[leader].name, (double)elapsed_ms / 1000.0);
    fprintf(out, "  node  pid      Redis protocol   HTTP API                Raft peers\n");
    for (uint32_t i = 0; i < count; i++) {
        fprintf(out, "  %-4s  %-7ld  %-15s  http://%-15s  %s\n", nodes[i].name,
                (long)agents->agents[i].pid, nodes[i].resp_addr, nodes[i].http_addr,
                nodes[i].peer_addr);
    }
    fprintf(out,
            "\n  data and logs   %s/  (n1/, n1.log, ...; kept between runs, --fresh starts "
            "over)\n",
            plan->data_dir);
    fprintf(out, "\nTalk to it (every node takes every request):\n");
    fprintf(out, "  redis-cli -p %u SET greeting hello\n", a->resp_port);
    fprintf(out, "  redis-cli -p %u GET greeting\n", b->resp_port);
    fprintf(out, "  redis-cli -p %u INFO raft\n", c->resp_port);
    fprintf(out, "  curl -X PUT -d hello http://%s/v1/kv/greeting\n", a->http_addr);
    fprintf(out, "  curl 'http://%s/v1/kv/greeting?raw'\n", b->http_addr);
    fprintf(out, "  curl http://%s/v1/status/leader\n", c->http_addr);
    fprintf(out, "  curl -X PUT -d '{\"Name\":\"web\",\"Port\":8080,\"Check\":{\"TCP\":\"127.0.0.1:8080\","
                 "\"Interval\":\"1s\"}}' http://%s/v1/agent/service/register\n",
            a->http_addr);
    fprintf(out, "  dig @127.0.0.1 -p %u web.service.synod SRV\n", b->dns_port);
    if (strcmp(plan->http_addrs, CLI_ADDRS_DEFAULT) != 0) { /* synod kv's default: ours */
        fprintf(out, "  export %s=%s\n", CLI_ADDR_ENV, plan->http_addrs);
    }
    fprintf(out, "  %s kv put greeting hello\n", prog);
    fprintf(out, "  %s kv get greeting\n", prog);
    fprintf(out, "  %s status\n", prog);
    fprintf(out, "\nBreak it:\n");
    fprintf(out, "  kill -9 %ld    # %s, the leader: %s\n", (long)agents->agents[leader].pid,
            nodes[leader].name,
            count >= 3 ? "another node takes over within a second or so"
                       : "with fewer than 3 nodes nothing can take over");
    fprintf(out, "  then Ctrl-C and run synod dev again: every node restarts from its data\n");
    fprintf(out, "\nCtrl-C stops the cluster.\n");
}

static int report_json(FILE *out, const struct dev_agents *agents, uint32_t leader,
                       uint64_t elapsed_ms)
{
    const struct dev_plan *plan = agents->plan;
    struct syn_buf b;
    syn_buf_init(&b, DEV_REPORT_JSON_SIZE_MAX);
    struct json_obj o;
    json_obj_begin(&o, &b);
    json_obj_bool(&o, "ready", true);
    json_obj_str(&o, "leader", plan->nodes[leader].name);
    json_obj_u64(&o, "elected_ms", elapsed_ms);
    json_obj_u64(&o, "pid", (uint64_t)getpid());
    json_obj_str(&o, "data_dir", plan->data_dir);
    json_obj_str(&o, "http_addrs", plan->http_addrs); /* for SYNOD_HTTP_ADDR */
    if (json_obj_key(&o, "nodes")) {
        o.rc = syn_buf_append(&b, "[", 1);
    }
    for (uint32_t i = 0; i < plan->node_count && o.rc == 0; i++) {
        const struct dev_node *n = &plan->nodes[i];
        struct json_obj node;
        o.rc = i == 0 ? 0 : syn_buf_append(&b, ",", 1);
        json_obj_begin(&node, &b);
        json_obj_str(&node, "name", n->name);
        json_obj_u64(&node, "pid", (uint64_t)agents->agents[i].pid);
        json_obj_str(&node, "resp_addr", n->resp_addr);
        json_obj_str(&node, "http_addr", n->http_addr);
        json_obj_str(&node, "peer_addr", n->peer_addr);
        json_obj_str(&node, "data_dir", n->data_dir);
        json_obj_str(&node, "log", n->log_path);
        o.rc = o.rc != 0 ? o.rc : json_obj_end(&node);
    }
    o.rc = o.rc != 0 ? o.rc : syn_buf_append(&b, "]", 1);
    int rc = json_obj_end(&o);
    if (rc == 0) {
        fwrite(b.data, 1, b.len, out);
        fputc('\n', out);
    }
    syn_buf_free(&b);
    return rc;
}

int dev_report_print(FILE *out, const struct dev_agents *agents, const char *prog, uint32_t leader,
                     uint64_t elapsed_ms)
{
    ASSERT(leader < agents->plan->node_count);
    int rc = 0;
    if (agents->plan->json) {
        rc = report_json(out, agents, leader, elapsed_ms);
    } else {
        report_text(out, agents, prog, leader, elapsed_ms);
    }
    fflush(out);
    return rc;
}
