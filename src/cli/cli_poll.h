/* cli_poll.h: following a node with blocking queries (synod watch, synod monitor, synod log
 * show --follow): GET TARGET with index=N&wait=CLI_POLL_WAIT_S, again and again, each answer
 * coming as soon as something changed. When a node cannot be reached, or answers that it
 * cannot serve now (5xx, 429: no quorum, an election), the next address of --addr is asked
 * (or the same one again when pinned to it), after a backoff that doubles from
 * CLI_POLL_BACKOFF_MS_MIN to CLI_POLL_BACKOFF_MS_MAX and starts over after an answer. It
 * says so on stderr. These commands run until Ctrl-C, which ends them with status 0. */
#ifndef SYN_CLI_CLI_POLL_H
#define SYN_CLI_CLI_POLL_H

#include <stdbool.h>
#include <stdint.h>

#include "cli/cli_call.h"

#define CLI_POLL_WAIT_S 60u          /* ?wait of each blocking query */
#define CLI_POLL_BACKOFF_MS_MIN 100u /* before asking again after a failure */
#define CLI_POLL_BACKOFF_MS_MAX 5000u
#define CLI_POLL_TARGET_SIZE_MAX 1024u /* a target with its query */

struct cli_poll {
    const struct cli_opts *o;
    uint32_t addr;   /* the address asked: an index into o->addrs */
    bool pinned;     /* only that one */
    bool have_index; /* send index=index (else the answer comes at once); the caller sets
                        both after each answer, and a failure clears have_index */
    uint64_t index;
    uint32_t backoff_ms; /* 0 after an answer */
};

void cli_poll_init(struct cli_poll *p, const struct cli_opts *o, uint32_t addr, bool pinned);

/* One answer to GET target ("/v1/...?a&b": the index and wait are appended): asks until a
 * node answers with a status that is neither 5xx nor 429, then 0 with the answer in r and
 * its X-Consul-Index in *index (0 when it has none). *resumed: a failure came before it, so
 * it was asked without an index (the node may be another, or the same one restarted: its
 * numbers may not follow the last answer's). Returns CLI_EXIT_FAILED only for a target too
 * long. */
int cli_poll_next(struct cli_poll *p, const char *target, struct cli_reply *r, uint64_t *index,
                  bool *resumed);

/* Ctrl-C (SIGINT) and SIGTERM end the process with status 0 at once: the commands that
 * follow flush their output after each block, so nothing printed is lost. */
void cli_poll_exit_on_interrupt(void);

#endif
