/* cli_health.h: a service's instances as GET /v1/health/service/NAME answers them (Consul's
 * shape: [{"Node": {...}, "Service": {...}, "Checks": [...]}], docs/registry.md), read into
 * structs, each instance's status worked out as Consul does (the worst of its checks, the
 * node's serfHealth included), and shown for `synod service show`. Pure: bytes in, bytes out.
 * synod watch compares two of these (cli_watch.h). */
#ifndef SYN_CLI_CLI_HEALTH_H
#define SYN_CLI_CLI_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "registry/reg_record.h"

#define CLI_HEALTH_CHECKS_MAX (REG_CHECKS_MAX + 1u) /* the instance's and serfHealth */
#define CLI_HEALTH_OUTPUT_SIZE 512u /* a check's output as the CLI keeps it (longer is cut) */
#define CLI_HEALTH_STATUS_SIZE 16u
#define CLI_HEALTH_NODE_CHECK "serfHealth" /* the check that is the node's own health */

struct cli_check {
    char id[REG_NAME_SIZE_MAX + 1];
    char status[CLI_HEALTH_STATUS_SIZE]; /* "passing", "warning", "critical" */
    char output[CLI_HEALTH_OUTPUT_SIZE];
};

struct cli_instance {
    char node[REG_NAME_SIZE_MAX + 1];
    char id[REG_NAME_SIZE_MAX + 1];
    char address[REG_ADDRESS_SIZE_MAX + 1]; /* the service's, else its node's */
    uint64_t port;
    const char *status; /* the worst of the checks: "passing", "warning" or "critical" */
    uint32_t check_count;
    struct cli_check checks[CLI_HEALTH_CHECKS_MAX];
};

struct cli_health {
    struct cli_instance *items; /* owned */
    uint32_t count;
};

/* Reads a /v1/health/service/NAME body into h. 0, SYN_EBADMSG (not that shape, or more
 * checks on one instance than an instance has), SYN_ENOMEM; free h either way. */
int cli_health_parse(const uint8_t *body, size_t size, struct cli_health *h);
void cli_health_free(struct cli_health *h);
/* How many instances are passing. */
uint32_t cli_health_passing(const struct cli_health *h);
/* The check that explains in's status: the first of its own checks with that status, else
 * its node's serfHealth when that has it; NULL when it has no check. */
const struct cli_check *cli_health_reason(const struct cli_instance *in);
/* The instance of h on node with id, or NULL. */
const struct cli_instance *cli_health_find(const struct cli_health *h, const char *node,
                                           const char *id);

/* `synod service show NAME` for people: a summary line, then a table of every instance's
 * node, ID, address:port and status, and under it each check's ID, status and output (its
 * first line, escaped, cut). 0, SYN_ENOMEM. */
int cli_health_show_text(const struct cli_health *h, const char *name, struct syn_buf *out);

/* A check's output as one short line: the first line, escaped, cut to max bytes with "...".
 * Into out, NUL-terminated. */
void cli_health_output_line(const char *output, size_t max, char *out, size_t out_size);

#endif
