/* dev_plan.c: `synod dev`'s options and the cluster they describe: names, ports, paths and
 * agent command lines; and reading the leader out of an agent's HTTP answer. Pure. */
#include "cli/dev_plan.h"

#include <stdio.h>
#include <string.h>

#include "base/assert.h"
#include "base/err.h"
#include "base/num.h"
#include "node/config.h"

_Static_assert(DEV_PLAN_DIR_SIZE_MAX + sizeof("/n7") <= NODE_PATH_SIZE_MAX,
               "a node's data directory fits the agent's --data-dir");
_Static_assert(DEV_PLAN_ADDR_SIZE_MAX <= NODE_ADDR_SIZE_MAX, "an address fits the agent's");

const char dev_plan_usage[] =
    "usage: synod dev [--nodes N] [--data-dir DIR] [--fresh] [--port-offset N] [--wait S]\n"
    "                 [--json]\n"
    "\n"
    "Runs a local cluster in one command: N `synod agent` processes (n1, n2, ...) on\n"
    "127.0.0.1, waits until they have elected a leader, prints how to talk to them, and stops\n"
    "them cleanly on Ctrl-C (SIGINT) or SIGTERM. Node i listens on ports 6000+i (Redis\n"
    "protocol), 8500+i (HTTP), 8600+i (DNS) and 7000+i (Raft peers). Data and logs are kept between runs,\n"
    "so a dev cluster started again recovers. A node that dies (kill -9 it to watch a\n"
    "failover) is reported; the others carry on.\n"
    "\n"
    "  --nodes N          voters, 1 to 7 (default 3)\n"
    "  --data-dir DIR     data and logs: DIR/n1, DIR/n1.log, ... "
    "(default " DEV_PLAN_DATA_DIR_DEFAULT ")\n"
    "  --fresh            delete DIR/n1..n7 and their logs first: start an empty cluster\n"
    "                     (DIR remembers --nodes and --port-offset: others need --fresh)\n"
    "  --port-offset N    add N to every port, e.g. 10000 for 16001, 18501, 17001 (default 0)\n"
    "  --wait S           seconds to wait for a leader before giving up (default 15)\n"
    "  --json             print the endpoints as one JSON object (for scripts)\n"
    "  --help             this text\n"
    "\n"
    "exit status: 0 stopped by Ctrl-C or SIGTERM, 1 the cluster did not start (or every\n"
    "node exited on its own), 2 a usage error\n";

/* A whole number from min to max, as --flag's value. */
static int plan_number(const char *flag, const char *value, uint32_t min, uint32_t max,
                       uint32_t *out, char *err, size_t err_size)
{
    int64_t v = 0;
    if (!syn_i64_parse((const uint8_t *)value, strlen(value), &v) || v < min || v > max) {
        snprintf(err, err_size, "%s: expected a number from %u to %u, got '%s'", flag, min, max,
                 value);
        return SYN_EINVAL;
    }
    *out = (uint32_t)v;
    return 0;
}

static bool plan_takes_value(const char *flag)
{
    static const char *const flags[] = {"--nodes", "--port-offset", "--wait", "--data-dir"};
    for (size_t k = 0; k < sizeof(flags) / sizeof(flags[0]); k++) {
        if (strcmp(flag, flags[k]) == 0) {
            return true;
        }
    }
    return false;
}

/* One option that takes a value (plan_takes_value). */
static int plan_option(struct dev_plan *plan, const char *flag, const char *value, char *err,
                       size_t err_size)
{
    if (strcmp(flag, "--nodes") == 0) {
        return plan_number(flag, value, 1, DEV_PLAN_NODES_MAX, &plan->node_count, err, err_size);
    }
    if (strcmp(flag, "--port-offset") == 0) {
        return plan_number(flag, value, 0, DEV_PLAN_PORT_OFFSET_MAX, &plan->port_offset, err,
                           err_size);
    }
    if (strcmp(flag, "--wait") == 0) {
        return plan_number(flag, value, 1, DEV_PLAN_WAIT_S_MAX, &plan->wait_s, err, err_size);
    }
    ASSERT(strcmp(flag, "--data-dir") == 0);
    if (value[0] == '\0' || strlen(value) >= sizeof(plan->data_dir)) {
        snprintf(err, err_size, "--data-dir: empty, or longer than %u bytes",
                 DEV_PLAN_DIR_SIZE_MAX - 1);
        return SYN_EINVAL;
    }
    snprintf(plan->data_dir, sizeof(plan->data_dir), "%s", value);
    return 0;
}

int dev_plan_parse(struct dev_plan *plan, int argc, char **argv, char *err, size_t err_size)
{
    memset(plan, 0, sizeof(*plan));
    plan->node_count = DEV_PLAN_NODES_DEFAULT;
    plan->wait_s = DEV_PLAN_WAIT_S_DEFAULT;
    snprintf(plan->data_dir, sizeof(plan->data_dir), "%s", DEV_PLAN_DATA_DIR_DEFAULT);
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            return 1;
        }
        if (strcmp(arg, "--fresh") == 0) {
            plan->fresh = true;
            continue;
        }
        if (strcmp(arg, "--json") == 0) {
            plan->json = true;
            continue;
        }
        if (strncmp(arg, "--", 2) != 0) {
            snprintf(err, err_size, "unexpected argument '%s' (try synod dev --help)", arg);
            return SYN_EINVAL;
        }
        char flag[32];
        const char *eq = strchr(arg, '=');
        const char *value = eq != NULL ? eq + 1 : (i + 1 < argc ? argv[i + 1] : NULL);
        size_t flag_size = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
        if (flag_size < sizeof(flag)) {
            memcpy(flag, arg, flag_size);
            flag[flag_size] = '\0';
        }
        if (flag_size >= sizeof(flag) || !plan_takes_value(flag)) {
            snprintf(err, err_size, "unknown option '%s' (try synod dev --help)", arg);
            return SYN_EINVAL;
        }
        if (value == NULL) {
            snprintf(err, err_size, "%s needs a value (try synod dev --help)", flag);
            return SYN_EINVAL;
        }
        i += eq == NULL ? 1 : 0;
        int rc = plan_option(plan, flag, value, err, err_size);
        if (rc != 0) {
            return rc;
        }
    }
    int rc = dev_plan_layout(plan, plan->data_dir);
    ASSERT(rc == 0); /* the data directory was checked above */
    return 0;
}

/* Appends "key=value" (or "value" when key is "") to a comma-separated list sized for every
 * node. */
static void plan_list_add(char *list, size_t size, const char *key, const char *value)
{
    size_t used = strlen(list);
    int w = snprintf(list + used, size - used, "%s%s%s%s", used == 0 ? "" : ",", key,
                     key[0] == '\0' ? "" : "=", value);
    ASSERT(w > 0);
    ASSERT((size_t)w < size - used); /* sized for DEV_PLAN_NODES_MAX */
}

int dev_plan_layout(struct dev_plan *plan, const char *data_dir)
{
    ASSERT(plan->node_count >= 1);
    ASSERT(plan->node_count <= DEV_PLAN_NODES_MAX);
    ASSERT(plan->port_offset <= DEV_PLAN_PORT_OFFSET_MAX);
    char dir[DEV_PLAN_DIR_SIZE_MAX]; /* a copy: data_dir may be plan->data_dir */
    size_t dir_size = strlen(data_dir);
    if (dir_size == 0 || dir_size >= sizeof(dir)) {
        return SYN_EINVAL;
    }
    memcpy(dir, data_dir, dir_size + 1);
    memcpy(plan->data_dir, dir, dir_size + 1);
    plan->initial_cluster[0] = '\0';
    plan->http_addrs[0] = '\0';
    for (uint32_t i = 0; i < plan->node_count; i++) {
        struct dev_node *n = &plan->nodes[i];
        uint32_t port = i + 1 + plan->port_offset;
        n->peer_port = (uint16_t)(DEV_PLAN_PEER_PORT_BASE + port);
        n->resp_port = (uint16_t)(DEV_PLAN_RESP_PORT_BASE + port);
        n->http_port = (uint16_t)(DEV_PLAN_HTTP_PORT_BASE + port);
        n->dns_port = (uint16_t)(DEV_PLAN_DNS_PORT_BASE + port);
        /* Built in locals, then copied: snprintf() must not read the plan it writes. */
        const char name[DEV_PLAN_NAME_SIZE_MAX] = {'n', (char)('1' + i), '\0'};
        char peer[DEV_PLAN_ADDR_SIZE_MAX];
        char http[DEV_PLAN_ADDR_SIZE_MAX];
        snprintf(peer, sizeof(peer), "127.0.0.1:%u", (unsigned)n->peer_port);
        snprintf(http, sizeof(http), "127.0.0.1:%u", (unsigned)n->http_port);
        memcpy(n->name, name, sizeof(name));
        memcpy(n->peer_addr, peer, sizeof(peer));
        memcpy(n->http_addr, http, sizeof(http));
        snprintf(n->resp_addr, sizeof(n->resp_addr), "127.0.0.1:%u", (unsigned)n->resp_port);
        snprintf(n->dns_addr, sizeof(n->dns_addr), "127.0.0.1:%u", (unsigned)n->dns_port);
        snprintf(n->data_dir, sizeof(n->data_dir), "%s/%s", dir, name);
        snprintf(n->log_path, sizeof(n->log_path), "%s/%s.log", dir, name);
        plan_list_add(plan->initial_cluster, sizeof(plan->initial_cluster), name, peer);
        plan_list_add(plan->http_addrs, sizeof(plan->http_addrs), "", http);
    }
    return 0;
}

void dev_plan_agent_argv(const struct dev_plan *plan, uint32_t i, const char *exe,
                         char *argv[DEV_PLAN_AGENT_ARGC + 1])
{
    ASSERT(i < plan->node_count);
    const struct dev_node *n = &plan->nodes[i];
    const struct {
        const char *flag;
        const char *value;
    } options[] = {
        {"--id", n->name},
        {"--data-dir", n->data_dir},
        {"--peer-addr", n->peer_addr},
        {"--resp-addr", n->resp_addr},
        {"--http-addr", n->http_addr},
        {"--dns-addr", n->dns_addr},
        {"--initial-cluster", plan->initial_cluster},
    };
    _Static_assert(2 + 2 * sizeof(options) / sizeof(options[0]) == DEV_PLAN_AGENT_ARGC,
                   "exe, \"agent\" and the options fill the command line");
    /* execv() takes char *const[] but changes nothing: the casts drop a const only. */
    argv[0] = (char *)exe;
    argv[1] = (char *)"agent";
    for (size_t k = 0; k < sizeof(options) / sizeof(options[0]); k++) {
        argv[2 + 2 * k] = (char *)options[k].flag;
        argv[3 + 2 * k] = (char *)options[k].value;
    }
    argv[DEV_PLAN_AGENT_ARGC] = NULL;
}

void dev_plan_stamp(const struct dev_plan *plan, char out[DEV_PLAN_STAMP_SIZE_MAX])
{
    snprintf(out, DEV_PLAN_STAMP_SIZE_MAX, "nodes %u, port offset %u\n", plan->node_count,
             plan->port_offset);
}

int dev_plan_leader_index(const struct dev_plan *plan, const char *body, size_t size)
{
    size_t start = 0;
    while (start < size && (body[start] == ' ' || body[start] == '\n' || body[start] == '\r')) {
        start++;
    }
    if (start == size || body[start] != '"') {
        return SYN_EBADMSG;
    }
    const char *addr = body + start + 1;
    const char *quote = memchr(addr, '"', size - start - 1);
    if (quote == NULL || memchr(addr, '\\', (size_t)(quote - addr)) != NULL) {
        return SYN_EBADMSG; /* peer addresses need no escapes; refuse rather than guess */
    }
    size_t addr_size = (size_t)(quote - addr);
    if (addr_size == 0) {
        return SYN_ENOLEADER;
    }
    for (uint32_t i = 0; i < plan->node_count; i++) {
        const char *peer = plan->nodes[i].peer_addr;
        if (strlen(peer) == addr_size && memcmp(peer, addr, addr_size) == 0) {
            return (int)i;
        }
    }
    return SYN_EUNKNOWNNODE;
}
