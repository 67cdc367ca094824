/* reg_record.h: the service registry's records and commands, as bytes: a service instance
 * (Consul's service with its checks), a node, and the commands that change them through Raft.
 * A pure codec (STYLE 10): encoders append to a syn_buf, decoders read (data, size) into
 * structs; no I/O, no clock, no globals. docs/registry.md gives the model and the formats.
 *
 * Every integer is little-endian; a str is u16 size | bytes. An instance record is
 *   u8 version | str node | str id | str name | str address | u16 port |
 *   u16 tag count | tags | u16 meta count | (str key, str value)... |
 *   u32 weight_passing | u32 weight_warning | u64 ttl_ms | u64 refreshed_ms |
 *   u64 create_index | u64 modify_index | u8 check count | checks
 * and a check
 *   str id | str name | u8 type | str target | u32 interval_ms | u32 timeout_ms |
 *   u32 ttl_ms | u8 rise | u8 fall | u64 deregister_after_ms | u8 status | str output |
 *   u64 status_ms | u64 critical_since_ms | u64 modify_index
 * A node record: u8 version | str name | str address | u8 health | u64 changed_ms |
 *   u64 modify_index.
 */
#ifndef SYN_REGISTRY_REG_RECORD_H
#define SYN_REGISTRY_REG_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/limits.h"

#define REG_RECORD_VERSION 1u
#define REG_NAME_SIZE_MAX 128u     /* service ids, names, check ids, tags, meta keys, nodes */
#define REG_ADDRESS_SIZE_MAX 256u  /* a host name or an address */
#define REG_META_VALUE_SIZE_MAX 512u
#define REG_TARGET_SIZE_MAX 1024u  /* a check's URL, HOST:PORT, command line or PID file */
#define REG_OUTPUT_SIZE_MAX 4096u  /* a check's last output */
#define REG_TAGS_MAX 32u
#define REG_META_MAX 32u
#define REG_CHECKS_MAX 8u
#define REG_REAP_MAX 64u           /* instances one REAP command names */
#define REG_NODE_INSTANCES_MAX 4096u /* instances of one node a NODE failure marks critical */

enum reg_check_type {
    REG_CHECK_TTL = 1,  /* the service reports itself within ttl_ms */
    REG_CHECK_PID = 2,  /* target: a PID, or the path of a PID file */
    REG_CHECK_TCP = 3,  /* target: HOST:PORT accepts a connection */
    REG_CHECK_HTTP = 4, /* target: a URL answering GET with 2xx */
    REG_CHECK_EXEC = 5, /* target: a command line (sh -c): 0 passing, 1 warning, else critical */
};
#define REG_CHECK_TYPE_MAX 5u

/* Ordered by severity: the worst check is the instance's status. */
enum reg_status {
    REG_PASSING = 1,
    REG_WARNING = 2,
    REG_CRITICAL = 3,
};
#define REG_STATUS_MAX 3u

/* A node's health, from the leader's failure detector. */
enum reg_health {
    REG_NODE_ALIVE = 1,
    REG_NODE_SUSPECT = 2,
    REG_NODE_FAILED = 3,
};
#define REG_HEALTH_MAX 3u

struct reg_check {
    char id[REG_NAME_SIZE_MAX + 1];
    char name[REG_NAME_SIZE_MAX + 1];
    uint8_t type; /* enum reg_check_type */
    char target[REG_TARGET_SIZE_MAX + 1];
    uint32_t interval_ms;
    uint32_t timeout_ms;
    uint32_t ttl_ms;
    uint8_t rise; /* consecutive successes before critical -> passing (>= 1) */
    uint8_t fall; /* consecutive failures before passing -> critical (>= 1) */
    uint64_t deregister_after_ms; /* critical this long: the instance goes; 0 never */
    uint8_t status;               /* enum reg_status */
    char output[REG_OUTPUT_SIZE_MAX + 1];
    uint64_t status_ms;         /* proposer clock of the last report (a CHECK command) */
    uint64_t critical_since_ms; /* when it turned critical; 0 when it is not */
    uint64_t modify_index;
};

struct reg_meta {
    char key[REG_NAME_SIZE_MAX + 1];
    char value[REG_META_VALUE_SIZE_MAX + 1];
};

struct reg_instance {
    char node[REG_NAME_SIZE_MAX + 1]; /* the agent that registered it and runs its checks */
    char id[REG_NAME_SIZE_MAX + 1];   /* unique on its node */
    char name[REG_NAME_SIZE_MAX + 1];
    char address[REG_ADDRESS_SIZE_MAX + 1]; /* "" means the node's address */
    uint16_t port;
    uint16_t tag_count;
    char tags[REG_TAGS_MAX][REG_NAME_SIZE_MAX + 1];
    uint16_t meta_count;
    struct reg_meta meta[REG_META_MAX];
    uint32_t weight_passing; /* Consul's Weights: for weighted balancing (default 1, 1) */
    uint32_t weight_warning;
    uint64_t ttl_ms;       /* registered without an agent: gone unless refreshed within it */
    uint64_t refreshed_ms; /* proposer clock of the last registration */
    uint64_t create_index;
    uint64_t modify_index;
    uint8_t check_count;
    struct reg_check checks[REG_CHECKS_MAX];
};

struct reg_node {
    char name[REG_NAME_SIZE_MAX + 1];
    char address[REG_ADDRESS_SIZE_MAX + 1];
    uint8_t health; /* enum reg_health */
    uint64_t changed_ms;
    uint64_t modify_index;
};

/* The nodes' records, loaded before walking instances (kv_reg_nodes() with
 * reg_node_table_add); a node nobody reported on is absent (its agent registered the
 * instance: alive). Beyond REG_NODE_TABLE_MAX nodes the rest are left out. */
#define REG_NODE_TABLE_MAX (SYN_MEMBERS_MAX * 4)
struct reg_node_table {
    uint32_t count;
    struct reg_node nodes[REG_NODE_TABLE_MAX];
};
int reg_node_table_add(void *table, const struct reg_node *node); /* always 0 */
const struct reg_node *reg_node_table_find(const struct reg_node_table *t, const char *name);
/* The node's health for reg_instance_healthy(): REG_NODE_ALIVE when absent. */
uint8_t reg_node_table_health(const struct reg_node_table *t, const char *name);

/* Checks an instance (sizes are by construction; this checks names are non-empty, types,
 * statuses, rise/fall >= 1, intervals of checks that need them, no repeated check id).
 * 0 or SYN_EINVAL with *why, a static sentence. */
int reg_instance_check(const struct reg_instance *in, const char **why);
/* Appends the record of in. 0, SYN_ENOMEM, SYN_ETOOBIG. */
int reg_instance_encode(struct syn_buf *out, const struct reg_instance *in);
/* Decodes untrusted bytes: every size against its limit and the bytes left, enums, no
 * trailing bytes, then reg_instance_check(). 0 or SYN_EBADMSG. */
int reg_instance_decode(const uint8_t *data, size_t size, struct reg_instance *in);
int reg_node_encode(struct syn_buf *out, const struct reg_node *node);
int reg_node_decode(const uint8_t *data, size_t size, struct reg_node *node);

/* The worst status of the instance's checks (REG_PASSING when it has none). */
uint8_t reg_instance_status(const struct reg_instance *in);
/* Whether discovery returns it: every check passing and its node (node_health, enum
 * reg_health) not failed. What ?passing, DNS and the load balancer route to. */
bool reg_instance_healthy(const struct reg_instance *in, uint8_t node_health);
const char *reg_status_name(uint8_t status);    /* "passing", "warning", "critical" */
const char *reg_health_name(uint8_t health);    /* "alive", "suspect", "failed" */
const char *reg_check_type_name(uint8_t type);  /* "ttl", "pid", "tcp", "http", "exec" */
/* 0 and the status for "passing", "warning", "critical"; SYN_EINVAL otherwise. */
int reg_status_parse(const char *text, uint8_t *status_out);

/* ---- Commands: the state machine's registry operations (src/kv applies them) --------
 *   u8 version (KV_CMD_VERSION) | u8 op | u64 now_ms | by op:
 *     REGISTER    instance record (checks' status, output and indexes as the agent sets
 *                 them for a new check; a check kept from before keeps its own)
 *     DEREGISTER  str node | str id
 *     CHECK       str node | str service id | str check id | u8 status | str output
 *     NODE        str name | str address | u8 health
 *     REAP        u8 count | count x (str node | str id)   (removed if still due)
 * The op numbers follow the KV ones (src/kv/kv_cmd.h). */
enum reg_op {
    REG_OP_REGISTER = 16,
    REG_OP_DEREGISTER = 17,
    REG_OP_CHECK = 18,
    REG_OP_NODE = 19,
    REG_OP_REAP = 20,
};
#define REG_OP_FIRST 16u
#define REG_OP_LAST 20u

struct reg_key {
    char node[REG_NAME_SIZE_MAX + 1];
    char id[REG_NAME_SIZE_MAX + 1];
};

/* One decoded command. REGISTER fills instance (owned by the caller: it is large). */
struct reg_cmd {
    uint8_t op;
    uint64_t now_ms;
    struct reg_instance *instance; /* REGISTER: caller-provided storage */
    struct reg_key key;            /* DEREGISTER, CHECK (node, service id) */
    char check_id[REG_NAME_SIZE_MAX + 1];
    uint8_t status;
    char output[REG_OUTPUT_SIZE_MAX + 1];
    struct reg_node node; /* NODE: name, address, health */
    uint8_t reap_count;
    struct reg_key reap[REG_REAP_MAX];
    const char *errmsg; /* after SYN_EBADMSG */
};

/* Encoders append one command. 0, SYN_EINVAL, SYN_ETOOBIG, SYN_ENOMEM. */
int reg_cmd_encode_register(struct syn_buf *out, uint64_t now_ms, const struct reg_instance *in);
int reg_cmd_encode_deregister(struct syn_buf *out, uint64_t now_ms, const char *node,
                              const char *id);
int reg_cmd_encode_check(struct syn_buf *out, uint64_t now_ms, const char *node,
                         const char *service_id, const char *check_id, uint8_t status,
                         const char *output);
int reg_cmd_encode_node(struct syn_buf *out, uint64_t now_ms, const struct reg_node *node);
int reg_cmd_encode_reap(struct syn_buf *out, uint64_t now_ms, const struct reg_key *keys,
                        uint8_t count);
/* Whether the op byte of a command (data[1]) is a registry op. */
bool reg_cmd_is_registry(const uint8_t *data, size_t size);
/* Decodes and validates untrusted bytes. cmd->instance must point at storage for a
 * REGISTER. 0 or SYN_EBADMSG with cmd->errmsg. */
int reg_cmd_decode(const uint8_t *data, size_t size, struct reg_cmd *cmd);

#endif
