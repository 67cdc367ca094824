/* config.h: the agent's configuration, from command-line flags and/or a config file.
 * The command line is a public interface (see docs/api.md):
 *   synod agent --id n1 --data-dir DIR --peer-addr HOST:PORT --resp-addr HOST:PORT
 *               --http-addr HOST:PORT --initial-cluster n1=HOST:PORT,n2=HOST:PORT,... */
#ifndef SYN_NODE_CONFIG_H
#define SYN_NODE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/limits.h"
#include "fd/fd.h"
#include "raft/raft.h"

#define NODE_NAME_SIZE_MAX 32u  /* "n1": letters, digits, '-', '_', '.' */
#define NODE_ADDR_SIZE_MAX 64u  /* "HOST:PORT" */
#define NODE_PATH_SIZE_MAX 512u
#define NODE_SERVICE_FILES_MAX 16u /* --service-file flags */

struct node_member {
    char name[NODE_NAME_SIZE_MAX];
    raft_id id;
    char peer_addr[NODE_ADDR_SIZE_MAX];
};

struct node_config {
    struct fd_config fd; /* the failure detector: --fd-interval-ms, --fd-timeout-ms, ... */
    char name[NODE_NAME_SIZE_MAX];
    raft_id id;
    char data_dir[NODE_PATH_SIZE_MAX];
    char peer_addr[NODE_ADDR_SIZE_MAX];
    char resp_addr[NODE_ADDR_SIZE_MAX];
    char http_addr[NODE_ADDR_SIZE_MAX];
    char dns_addr[NODE_ADDR_SIZE_MAX]; /* "" when no DNS server */
    char dns_domain[128];
    uint32_t dns_ttl_s;
    uint32_t service_file_count; /* --service-file, registered at start (node_services.c) */
    char service_files[NODE_SERVICE_FILES_MAX][NODE_PATH_SIZE_MAX];
    char cluster_id[SYN_CLUSTER_ID_SIZE_MAX + 1];
    struct node_member initial[SYN_MEMBERS_MAX];
    uint32_t initial_count;
    bool join;               /* start outside the cluster; a leader adds this node later */
    uint32_t tick_ms;        /* one Raft tick */
    uint32_t election_ticks; /* election timeout, randomized in [t, 2t) ticks */
    uint32_t heartbeat_ticks;
    uint64_t snapshot_entries; /* take a snapshot after this many entries applied since the last */
    uint64_t snapshot_trailing; /* entries kept in the log after a snapshot, for slow followers */
    uint64_t snapshot_log_bytes; /* ... or snapshot once the log in memory holds this much */
    uint32_t request_timeout_ms; /* a client write or read that cannot finish: -TIMEOUT */
    bool fsync;              /* false only for benchmarks that say so */
    int log_level;           /* enum syn_log_level */
    bool log_json;
};

/* Defaults for everything but the identity and addresses. */
void node_config_defaults(struct node_config *cfg);

/* Parses `synod agent` arguments (after "agent"); a --config FILE is read first and flags
 * override it. 0, 1 when --help was asked (usage printed to out), or SYN_EINVAL with a
 * sentence in err. */
int node_config_parse(struct node_config *cfg, int argc, char **argv, char *err, size_t err_size);

/* Reads `key = value` lines (keys are the flag names without "--"; '#' starts a comment). */
int node_config_load_file(struct node_config *cfg, const char *path, char *err, size_t err_size);

/* The Raft id of a node name: a 64-bit FNV-1a hash, never 0. */
raft_id node_id_from_name(const char *name);

/* Splits "HOST:PORT" (IPv4, a name, or [IPv6]); port 1..65535. 0 or SYN_EINVAL. */
int node_addr_split(const char *addr, char *host, size_t host_size, int *port);

/* The text the agent's --help prints. */
extern const char node_config_usage[];

#endif
