/* cli_service.h: the pure half of `synod service register|list`: a service definition built
 * from command-line flags as Consul's JSON (what PUT /v1/agent/service/register takes,
 * docs/registry.md), the repeatable flags (--tag, --meta) taken out of the arguments, and the
 * services listing (GET /v1/catalog/services, then each service's health) as a table for
 * people or JSON for scripts. Bytes in, bytes out. */
#ifndef SYN_CLI_CLI_SERVICE_H
#define SYN_CLI_CLI_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "registry/reg_record.h"

/* The flags of `synod service register --name ...`; NULL: not given. Borrowed from argv. */
struct cli_service_def {
    const char *name;
    const char *id;
    const char *address;
    const char *port;
    const char *tags[REG_TAGS_MAX];
    uint32_t tag_count;
    const char *meta[REG_META_MAX]; /* "key=value" */
    uint32_t meta_count;
    const char *check_http;    /* a URL */
    const char *check_tcp;     /* HOST:PORT */
    const char *check_ttl;     /* a duration */
    const char *check_pid;     /* a process id */
    const char *check_pidfile; /* a file holding one */
    const char *check_exec;    /* a shell command */
    const char *interval;      /* durations, passed on as they are: the agent checks them */
    const char *timeout;
    const char *deregister_after;
};

/* Moves every "--tag V", "--tag=V", "--meta K=V" and "--meta=K=V" before a "--" from
 * argv[0 .. argc) into d, and a "--timeout D" whose D has a unit ("1s": the check's timeout;
 * a bare number is the CLI's request timeout in milliseconds, left in place), and the other
 * arguments, in order, into rest (room for argc); *rest_count is how many. 0, or SYN_EINVAL
 * with err saying why (a missing value, too many tags or meta keys). */
int cli_service_take_repeated(int argc, char **argv, struct cli_service_def *d, char **rest,
                              int *rest_count, char *err, size_t err_size);

/* d as Consul's service definition: {"Name", "ID", "Address", "Port", "Tags", "Meta",
 * "Check": {"HTTP"|"TCP"|"TTL"|"PID"|"PIDFile"|"Script", "Interval", "Timeout",
 * "DeregisterCriticalServiceAfter"}}, appended to out with a newline. 0; SYN_EINVAL with err
 * (no --name, a port that is no number up to 65535, meta without "=", more than one check,
 * check options without a check, --interval with a TTL check, a PID that is no positive
 * number); SYN_ENOMEM. */
int cli_service_def_json(const struct cli_service_def *d, struct syn_buf *out, char *err,
                         size_t err_size);

/* One row of `synod service list`. */
struct cli_service_row {
    char name[REG_NAME_SIZE_MAX + 1];
    struct syn_buf tags;      /* "a,b": the catalog's tags of the service */
    struct syn_buf tags_json; /* the same as a JSON array */
    uint32_t instances;
    uint32_t passing;
};

struct cli_service_list {
    struct cli_service_row *rows;
    uint32_t count;
};

/* A GET /v1/catalog/services answer ({"name": ["tag", ...]}) into l, rows in the answer's
 * order, counts 0. 0, SYN_EBADMSG, SYN_ENOMEM; free l either way. */
int cli_service_list_parse(const uint8_t *body, size_t size, struct cli_service_list *l);
void cli_service_list_free(struct cli_service_list *l);
/* The list for people: SERVICE, TAGS, INSTANCES, PASSING. */
int cli_service_list_text(const struct cli_service_list *l, struct syn_buf *out);
/* For scripts: [{"name", "tags", "instances", "passing"}] and a newline. */
int cli_service_list_json(const struct cli_service_list *l, struct syn_buf *out);

struct cli_opts;
/* service_register.c (I/O): registers with the agent of the first address that answers the
 * definition in file ("-": standard input) when file is non-NULL, else the one built from d;
 * says so on stdout ("web-1: registered with the agent at ADDR"; with --json {"id", "agent"}).
 * 0, CLI_EXIT_FAILED, or CLI_EXIT_USAGE for a definition the flags cannot make. */
int cli_service_register(const struct cli_opts *o, const struct cli_service_def *d,
                         const char *file);

#endif
