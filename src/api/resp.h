/* resp.h: the Redis protocol (RESP2) for synod's client API: a request parser and reply
 * encoders, so redis-cli, redis-benchmark and Redis client libraries work unchanged.
 *
 * A pure codec (STYLE 10): resp_parse() reads (data, size) into a struct and never replies,
 * logs or touches a connection. The server loop does the rest:
 *
 *     for (;;) {
 *         rc = resp_parse(in->data, in->len, &cmd, &used);
 *         if (rc == RESP_INCOMPLETE) break;   // read more: cmd.size_needed bytes in all
 *         if (rc < 0) { reply "-ERR " cmd.errmsg; close after the reply; break; }
 *         if (cmd.arg_count > 0) execute(cmd.args, cmd.arg_count);
 *         syn_buf_consume(in, used);
 *     }
 *
 * Requests come in two forms, as in Redis (networking.c processMultibulkBuffer and
 * processInlineBuffer): multibulk `*<n>\r\n` then n times `$<len>\r\n<len bytes>\r\n`, and
 * inline `PING\r\n` (a line split on blanks, with sdssplitargs()'s "..." and '...' quoting).
 * Protocol errors carry Redis's sentences; docs/protocol.md lists them with synod's limits.
 */
#ifndef SYN_API_RESP_H
#define SYN_API_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/limits.h"

/* resp_parse(): no error so far, more bytes needed. */
#define RESP_INCOMPLETE 1

#define RESP_ERRMSG_SIZE 96u

/* One argument: size bytes at data, not NUL-terminated. */
struct resp_arg {
    const uint8_t *data;
    size_t size;
};

/* Where an incomplete command stopped, so that bytes already checked are not parsed again
 * (a 1 MiB bulk arriving in 64 KiB reads costs one pass, not sixteen). Private. */
struct resp_resume {
    uint8_t form;           /* 0: not started, '*': multibulk, 'i': inline */
    bool in_bulk;           /* multibulk: the current bulk's header is parsed */
    uint32_t args_expected; /* multibulk: the count from the header */
    uint32_t args_seen;     /* multibulk: complete bulks */
    uint64_t bulk_size;     /* multibulk: the current bulk's length, when in_bulk */
    size_t at;              /* bytes of the command checked so far */
};

/* The parser's state for one connection, and the last command it parsed. */
struct resp_command {
    /* Set by resp_command_init(); borrowed for the command's life. */
    struct resp_arg *args;   /* room for args_cap arguments */
    uint32_t args_cap;       /* 1 .. SYN_RESP_ARGS_MAX: the most arguments accepted */
    struct syn_buf *scratch; /* holds inline arguments that needed unescaping */

    /* After resp_parse() returned 0: args[0 .. arg_count). 0 arguments means an empty
     * command (a blank inline line, `*0`, `*-1`): consume it and execute nothing. */
    uint32_t arg_count;
    /* After RESP_INCOMPLETE: call again once data holds at least this many bytes. */
    size_t size_needed;
    /* After a negative return: Redis's sentence, to send as "-ERR <errmsg>". */
    char errmsg[RESP_ERRMSG_SIZE];

    struct resp_resume resume;
};

/* args: room for args_cap (1 .. SYN_RESP_ARGS_MAX) arguments; scratch: a buffer whose
 * max_size allows SYN_RESP_INLINE_SIZE_MAX bytes. Both borrowed until the last resp_parse()
 * of this command struct. Both may be shared by several connections' command structs: they
 * are only written when a command completes, and read before the next resp_parse(). */
void resp_command_init(struct resp_command *cmd, struct resp_arg *args, uint32_t args_cap,
                       struct syn_buf *scratch);
/* Forgets a partly parsed command (the connection dropped its input). */
void resp_command_reset(struct resp_command *cmd);

/* Parses the command at the start of data. Returns
 *   0                the command is complete: cmd->args/arg_count, *consumed = its bytes;
 *   RESP_INCOMPLETE  a valid prefix: call again with the same bytes and more after them
 *                    (the buffer may have moved); cmd->size_needed says how many in all;
 *   SYN_EPROTO       malformed (cmd->errmsg is Redis's "Protocol error: ..." sentence);
 *   SYN_ETOOBIG      over a limit: SYN_RESP_ARGS_MAX (or args_cap) arguments,
 *                    SYN_RESP_REQUEST_SIZE_MAX bytes, SYN_RESP_INLINE_SIZE_MAX per line;
 *   SYN_ENOMEM       no memory to unescape a quoted inline argument.
 * Arguments point into data (borrowed while data is), or into cmd->scratch for inline
 * arguments that had quotes (valid until the next resp_parse()). After 0 or an error the
 * next call starts a new command. Pure: reads data[0 .. size) only, replies nothing. */
int resp_parse(const uint8_t *data, size_t size, struct resp_command *cmd, size_t *consumed);

/* Reply encoders (RESP2). Each appends one whole reply to b, or nothing: 0, SYN_ENOMEM, or
 * SYN_ETOOBIG (b's max_size). Arguments are borrowed for the call. */

/* "+<text>\r\n"; text holds no CR or LF (asserted). */
int resp_append_simple(struct syn_buf *b, const char *text);
/* "-<code> <text>\r\n", e.g. code "ERR"; CR and LF in text become spaces, as in Redis.
 * code: an upper-case word (asserted). */
int resp_append_error(struct syn_buf *b, const char *code, const char *text);
/* ":<v>\r\n" */
int resp_append_integer(struct syn_buf *b, int64_t v);
/* "$<size>\r\n<data>\r\n" */
int resp_append_bulk(struct syn_buf *b, const void *data, size_t size);
/* "$-1\r\n" */
int resp_append_null_bulk(struct syn_buf *b);
/* "*<count>\r\n": count elements follow. */
int resp_append_array_header(struct syn_buf *b, uint64_t count);
/* "*-1\r\n" */
int resp_append_null_array(struct syn_buf *b);
/* A request as clients send it: an array of arg_count bulk strings (a follower forwarding
 * a command to the leader, tests). */
int resp_append_command(struct syn_buf *b, const struct resp_arg *args, uint32_t arg_count);

#endif
