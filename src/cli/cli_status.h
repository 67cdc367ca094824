/* cli_status.h: a node's GET /v1/synod/status as the CLI reads it (synod status, synod
 * members): parsed from JSON into a struct, completed with the leader's match indexes when
 * the node asked is a follower, and shown as a table for people or as JSON for scripts. Pure:
 * bytes in, bytes out. */
#ifndef SYN_CLI_CLI_STATUS_H
#define SYN_CLI_CLI_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/limits.h"

#define CLI_STATUS_NAME_SIZE 32u /* a node's name and its terminator (service.h) */
#define CLI_STATUS_ID_SIZE 24u   /* a 64-bit id in decimal */

struct cli_member {
    char name[CLI_STATUS_NAME_SIZE];
    char id[CLI_STATUS_ID_SIZE];
    char peer_addr[SYN_MEMBER_ADDR_SIZE_MAX];
    bool voter;
    bool leader;
    bool self;
    char health[16];        /* the asked node's failure detector: alive, suspect, failed, self */
    uint64_t last_heard_ms; /* since that node last heard from it */
    bool has_match; /* match_index and lag are known (from the leader) */
    uint64_t match_index;
    uint64_t lag;
};

struct cli_status {
    char node[CLI_STATUS_NAME_SIZE];
    char id[CLI_STATUS_ID_SIZE];
    char role[CLI_STATUS_NAME_SIZE];
    uint64_t term;
    char leader[CLI_STATUS_NAME_SIZE]; /* "" when none is known */
    uint64_t commit_index;
    uint64_t applied_index;
    uint64_t last_index;
    uint64_t snapshot_index;
    bool serving;
    char match_from[CLI_STATUS_NAME_SIZE]; /* whose view the match indexes are: "" none */
    uint32_t member_count;
    struct cli_member members[SYN_MEMBERS_MAX];
};

/* Reads a /v1/synod/status body into st. 0, or SYN_EBADMSG (not that shape, or more than
 * SYN_MEMBERS_MAX members). */
int cli_status_parse(const uint8_t *body, size_t size, struct cli_status *st);
/* Whether st is the leader's own view. */
bool cli_status_is_leader(const struct cli_status *st);
/* Takes each member's match index and lag from the leader's view (by name). */
void cli_status_merge(struct cli_status *st, const struct cli_status *leader);
/* st as /v1/synod/status writes it, plus "match_from"; a newline ends it. */
int cli_status_json(const struct cli_status *st, struct syn_buf *out);
/* st for people: with summary, the node's Raft state first; then a table of the members. */
int cli_status_text(const struct cli_status *st, bool summary, struct syn_buf *out);

struct cli_opts;
/* status_cmd.c (I/O): the status of the first of o's nodes that answers, with the match
 * indexes of the leader found among the others when that node is a follower. 0, or
 * CLI_EXIT_FAILED after saying why on stderr. */
int cli_status_fetch(const struct cli_opts *o, struct cli_status *st);
/* status_cmd.c (I/O): cli_status_fetch(), then the status on stdout: as JSON with --json,
 * else as text (the node's summary only with summary). 0 or CLI_EXIT_FAILED. */
int cli_status_show(const struct cli_opts *o, bool summary);

#endif
