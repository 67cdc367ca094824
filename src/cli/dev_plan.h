/* dev_plan.h: what `synod dev` runs, worked out from its options: each node's name, ports,
 * data directory, log file and `synod agent` command line, and how to read the leader from
 * an agent's /v1/status/leader answer.
 *
 * Pure (STYLE 1, 10): no I/O and no globals, so every rule here is unit-tested
 * (tests/unit/test_dev_plan.c). dev_cmd.c does the processes, sockets and files. */
#ifndef SYN_CLI_DEV_PLAN_H
#define SYN_CLI_DEV_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A local cluster is small: every Raft size from 1 to 7 voters, one process each. */
#define DEV_PLAN_NODES_MAX 7u
#define DEV_PLAN_NODES_DEFAULT 3u
/* Node i (1-based) listens on BASE + i + the port offset: 7001, 6001, 8501 for n1. */
#define DEV_PLAN_PEER_PORT_BASE 7000u
#define DEV_PLAN_RESP_PORT_BASE 6000u
#define DEV_PLAN_HTTP_PORT_BASE 8500u
#define DEV_PLAN_DNS_PORT_BASE 8600u
#define DEV_PLAN_PORT_OFFSET_MAX 50000u /* the highest port stays below 65536 */
#define DEV_PLAN_WAIT_S_DEFAULT 15u     /* for a leader, before giving up */
#define DEV_PLAN_WAIT_S_MAX 600u
#define DEV_PLAN_DATA_DIR_DEFAULT "/var/tmp/synod-dev"
/* The data directory's path: room for "/n7" within the agent's own path limit
 * (NODE_PATH_SIZE_MAX in node/config.h; checked in dev_plan.c), and for "/n7.log". */
#define DEV_PLAN_DIR_SIZE_MAX 480u
#define DEV_PLAN_PATH_SIZE_MAX (DEV_PLAN_DIR_SIZE_MAX + 8u)
#define DEV_PLAN_NAME_SIZE_MAX 4u  /* "n7" */
#define DEV_PLAN_ADDR_SIZE_MAX 24u /* "127.0.0.1:65535" */
#define DEV_PLAN_CLUSTER_SIZE_MAX                                                                  \
    (DEV_PLAN_NODES_MAX * (DEV_PLAN_NAME_SIZE_MAX + DEV_PLAN_ADDR_SIZE_MAX))
#define DEV_PLAN_AGENT_ARGC 16u /* synod agent --id .. --initial-cluster LIST */
#define DEV_PLAN_STAMP_SIZE_MAX 64u

_Static_assert(DEV_PLAN_NODES_MAX <= 9u, "node names n1..n9 have one digit");
_Static_assert(DEV_PLAN_DNS_PORT_BASE + DEV_PLAN_PORT_OFFSET_MAX + DEV_PLAN_NODES_MAX <= 65535u,
               "the highest port of the largest offset is a port");
_Static_assert(DEV_PLAN_PEER_PORT_BASE + DEV_PLAN_NODES_MAX < DEV_PLAN_HTTP_PORT_BASE &&
                   DEV_PLAN_RESP_PORT_BASE + DEV_PLAN_NODES_MAX < DEV_PLAN_PEER_PORT_BASE,
               "the three port ranges never overlap");

struct dev_node {
    char name[DEV_PLAN_NAME_SIZE_MAX];
    uint16_t peer_port;
    uint16_t resp_port;
    uint16_t http_port;
    uint16_t dns_port;
    char peer_addr[DEV_PLAN_ADDR_SIZE_MAX];
    char resp_addr[DEV_PLAN_ADDR_SIZE_MAX];
    char http_addr[DEV_PLAN_ADDR_SIZE_MAX];
    char dns_addr[DEV_PLAN_ADDR_SIZE_MAX];
    char data_dir[DEV_PLAN_PATH_SIZE_MAX];
    char log_path[DEV_PLAN_PATH_SIZE_MAX];
};

struct dev_plan {
    /* Options. */
    uint32_t node_count;
    uint32_t port_offset;
    uint32_t wait_s;
    bool fresh;
    bool json;
    char data_dir[DEV_PLAN_DIR_SIZE_MAX];
    /* Worked out by dev_plan_layout(). */
    char initial_cluster[DEV_PLAN_CLUSTER_SIZE_MAX]; /* n1=127.0.0.1:7001,... */
    char http_addrs[DEV_PLAN_CLUSTER_SIZE_MAX];      /* 127.0.0.1:8501,...: the CLI's --addr */
    struct dev_node nodes[DEV_PLAN_NODES_MAX];
};

/* Parses the arguments after "dev" into plan and lays it out (dev_plan_layout). 0, 1 when
 * --help was asked, or SYN_EINVAL with a sentence in err. */
int dev_plan_parse(struct dev_plan *plan, int argc, char **argv, char *err, size_t err_size);

/* Works out every node from the options, with data_dir as the data directory (the caller
 * passes it made absolute). 0, or SYN_EINVAL when data_dir is empty or too long. */
int dev_plan_layout(struct dev_plan *plan, const char *data_dir);

/* Fills argv (NULL-terminated) with node i's agent command line, exe first. The strings
 * are borrowed from plan and exe: keep both while argv is used. */
void dev_plan_agent_argv(const struct dev_plan *plan, uint32_t i, const char *exe,
                         char *argv[DEV_PLAN_AGENT_ARGC + 1]);

/* The line that describes the cluster plan lays out on disk, "nodes 3, port offset 0\n",
 * for the data directory to remember: the node count and the ports end up in the nodes'
 * Raft configuration, so data made by one plan cannot serve another. */
void dev_plan_stamp(const struct dev_plan *plan, char out[DEV_PLAN_STAMP_SIZE_MAX]);

/* Which node a GET /v1/status/leader body names (a JSON string: the leader's peer address,
 * "" when there is none): its index, SYN_ENOLEADER for "", SYN_EUNKNOWNNODE for an address
 * of no node of the plan, SYN_EBADMSG when the body is not a plain JSON string. */
int dev_plan_leader_index(const struct dev_plan *plan, const char *body, size_t size);

/* The text `synod dev --help` prints. */
extern const char dev_plan_usage[];

#endif
