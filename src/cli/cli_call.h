/* cli_call.h: asking the nodes given with --addr: any one of them (reads, status), or the
 * leader, found by trying each in turn (membership changes and transfers, which only the
 * leader accepts: the others answer 421 and name the leader). */
#ifndef SYN_CLI_CLI_CALL_H
#define SYN_CLI_CLI_CALL_H

#include <stdint.h>

#include "base/buf.h"
#include "cli/cli_http.h"
#include "cli/cli_opts.h"

#define CLI_LEADER_RETRY_MS 100u /* between rounds of asking for the leader */

struct cli_reply {
    struct syn_buf raw;
    struct cli_http_response resp; /* borrows raw */
    const char *addr;              /* the node that answered; borrowed from the options */
};

void cli_reply_init(struct cli_reply *r);
void cli_reply_free(struct cli_reply *r);

/* Sends req to address i of o. 0 when the node answered (any status); otherwise a negative
 * code with err saying why ("connection refused"). */
int cli_call_one(const struct cli_opts *o, uint32_t i, const struct cli_http_request *req,
                 struct cli_reply *r, char *err, size_t err_size);
/* Sends req to o's addresses in order until one answers (any status). 0; or, after printing
 * "synod: cannot reach ADDR: why" for each, CLI_EXIT_FAILED. */
int cli_call_any(const struct cli_opts *o, const struct cli_http_request *req, struct cli_reply *r);
/* Sends req to o's addresses in turn until one answers with another status than 421 (not the
 * leader). When every node answered 421 or could not be reached, it asks again every
 * CLI_LEADER_RETRY_MS (an election may be running) for o->timeout_ms. 0 with that answer; or
 * CLI_EXIT_FAILED, after printing what each node said. */
int cli_call_leader(const struct cli_opts *o, const struct cli_http_request *req,
                    struct cli_reply *r);

/* A leader-only change (a membership change, a transfer): req through cli_call_leader(),
 * then "DONE (the node's message)" on stdout, or the node's JSON with --json. 0, or
 * CLI_EXIT_FAILED after printing the node's error ("synod: ADDR: no such member"). */
int cli_call_change(const struct cli_opts *o, const char *method, const char *target,
                    const char *done);

/* The sentence of an error answer: its JSON "error", else its body's first line, else the
 * status. Into out (NUL-terminated). */
void cli_reply_error(const struct cli_reply *r, char *out, size_t out_size);
/* An answer that is not the one expected: "synod: WHAT: <its sentence> (HTTP N from ADDR)" on
 * stderr. Returns CLI_EXIT_FAILED. */
int cli_reply_refused(const struct cli_reply *r, const char *what);
/* The JSON string member key of the answer's body into out; "" when absent. */
void cli_reply_field(const struct cli_reply *r, const char *key, char *out, size_t out_size);

#endif
