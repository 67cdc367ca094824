/* cli_log.h: the pure half of `synod log show`: a node's copy of the replicated log, read
 * from its GET /v1/kv/synod/log/?recurse answer (keys KV_LOG_PREFIX + the 20-digit index of
 * the entry that appended, Flags the entry's time, the text as the value), and each entry
 * shown as "INDEX  TIME  TEXT" for people or as a JSON line for scripts. */
#ifndef SYN_CLI_CLI_LOG_H
#define SYN_CLI_CLI_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

struct cli_log_entry {
    uint64_t index;      /* the Raft index of the entry that appended it */
    uint64_t time_ms;    /* the entry's clock, unix ms */
    struct syn_buf text; /* owned */
};

struct cli_log {
    struct cli_log_entry *items; /* owned, in log order */
    uint32_t count;
};

/* Reads a ?recurse answer into log, keeping the entries whose key is KV_LOG_PREFIX and 20
 * digits (anything else written under the prefix is not the log's). 0, SYN_EBADMSG,
 * SYN_ENOMEM; free log either way. */
int cli_log_parse(const uint8_t *body, size_t size, struct cli_log *log);
void cli_log_free(struct cli_log *log);

/* "INDEX  TIME  TEXT" and a newline, the text escaped (a newline in it shows as \n). */
int cli_log_entry_text(const struct cli_log_entry *e, struct syn_buf *out);
/* {"index", "time", "time_ms", "text"} and a newline. */
int cli_log_entry_json(const struct cli_log_entry *e, struct syn_buf *out);

#endif
