/* resp_server_internal.h: the RESP server's state and the functions its files share:
 *   resp_server.c     start, close, stats; the input loop (parse, dispatch, backpressure)
 *   resp_fifo.c       a connection's FIFO of pending commands: submit, complete, drain
 *   resp_reply.c      the reply writer, service statuses and write results as replies
 *   resp_commands.c   the command table, dispatch, connection commands (PING, HELLO, ...)
 *   resp_cmd_kv.c     the data commands (GET, SET, DEL, ... SCAN) and their reads
 *   resp_cmd_admin.c  INFO, CONFIG, COMMAND, CLIENT
 * Not for other modules.
 *
 * A connection's replies leave in request order. An immediate reply (PING, an arity error)
 * goes to the connection's output when nothing is pending before it, else to the "follow"
 * buffer of the last pending slot: when that slot completes, its reply and then its follow
 * bytes move to the output. A slot at the head of the FIFO writes its reply straight to the
 * output.
 *
 * Ownership (STYLE 9): slots belong to their connection, free ones are kept on a short spare
 * list. A slot whose service call is pending holds the connection (api_conn_hold), so the
 * connection and its slots outlive a client that disconnects until every callback ran.
 */
#ifndef SYN_API_RESP_SERVER_INTERNAL_H
#define SYN_API_RESP_SERVER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "api/api_server.h"
#include "api/resp.h"
#include "api/resp_server.h"
#include "api/service.h"
#include "base/buf.h"
#include "base/limits.h"

#define RESP_LOG "resp"
#define RESP_NAME_SIZE_MAX 128u     /* CLIENT SETNAME, CLIENT SETINFO values */
#define RESP_SLOT_SPARE_MAX 32u     /* free slots a connection keeps for reuse */
#define RESP_COMPAT_VERSION "7.0.0" /* the Redis API level INFO reports as redis_version */

_Static_assert(RESP_SERVER_ERRMSG_SIZE == API_ERRMSG_SIZE, "one errmsg size");

enum resp_slot_kind {
    RESP_SLOT_WRITE = 1, /* service_write() of body */
    RESP_SLOT_READ = 2,  /* service_read(), then read_op from the store */
};

enum resp_read_op {
    RESP_READ_GET = 1,
    RESP_READ_MGET = 2,
    RESP_READ_EXISTS = 3,
    RESP_READ_SCAN = 4,
    RESP_READ_DBSIZE = 5,
};

struct resp_conn;

/* One command waiting for the service, then for the commands before it. */
struct resp_slot {
    struct resp_conn *conn;
    struct resp_slot *next;
    uint8_t kind;    /* enum resp_slot_kind */
    uint8_t read_op; /* enum resp_read_op */
    bool started;    /* submitted to the service */
    bool done;       /* reply holds its reply */
    uint32_t batch;  /* reads: slots answered by this slot's service_read, itself first */
    uint64_t scan_cursor;
    uint32_t scan_count;
    bool scan_type_ok;     /* SCAN TYPE named "string" or no TYPE: keys are all strings */
    bool scan_match;       /* SCAN MATCH given: body holds the pattern */
    struct syn_buf body;   /* write: the encoded command; read: its keys (u32 size, bytes) */
    struct syn_buf reply;  /* its reply, when it completed before it reached the head */
    struct syn_buf follow; /* immediate replies of the commands after it */
};

struct resp_conn {
    struct api_conn base; /* first: the api server allocates a resp_conn */
    struct resp_command cmd;
    struct resp_slot *head; /* the FIFO, oldest first */
    struct resp_slot *tail;
    struct resp_slot *unstarted; /* the first slot not yet submitted, or NULL */
    struct resp_slot *spare;
    uint32_t spare_count;
    uint32_t slot_count;     /* in the FIFO */
    uint32_t writes_started; /* submitted and not done */
    uint32_t reads_started;
    size_t pending_bytes; /* in the FIFO's reply and follow buffers */
    bool quitting;        /* QUIT or a protocol error: close once replies are out */
    uint64_t commands;
    char name[RESP_NAME_SIZE_MAX + 1];
    char lib_name[RESP_NAME_SIZE_MAX + 1];
    char lib_ver[RESP_NAME_SIZE_MAX + 1];
    char last_cmd[24];
};

struct resp_server {
    struct api_server *api;
    uv_loop_t *loop;
    struct service *svc;
    uint32_t connections_max;
    uint32_t inflight_max;
    const char *version;
    uint64_t started_ms;            /* uv_now() at start */
    struct resp_server_stats stats; /* connection counts are the api server's */
    /* Scratch for one command at a time (everything runs on the loop's thread). */
    struct resp_arg args[SYN_RESP_ARGS_MAX];
    struct syn_buf parse_scratch; /* the parser's unescaped inline arguments */
    struct syn_buf scratch;       /* a command being encoded, a text being built */
    struct syn_buf value;         /* a value read from the store */
    struct kv_bytes keys[SYN_KV_KEYS_MAX];
    struct service_info info;
};

/* ---- Replies (resp_reply.c) ----------------------------------------------------------
 * A reply writer appends one reply to a buffer. Appends after a failure do nothing; the end
 * replaces a reply that failed or grew past SYN_RESP_REPLY_SIZE_MAX with an error. */
struct resp_out {
    struct resp_server *srv;
    struct syn_buf *b;
    size_t start;
    int rc;
};

void resp_out_begin(struct resp_out *o, struct resp_server *srv, struct syn_buf *b);
void resp_out_simple(struct resp_out *o, const char *text);
__attribute__((format(printf, 3, 4))) void resp_out_error(struct resp_out *o, const char *code,
                                                          const char *fmt, ...);
void resp_out_integer(struct resp_out *o, int64_t v);
void resp_out_bulk(struct resp_out *o, const void *data, size_t size);
void resp_out_bulk_str(struct resp_out *o, const char *text);
void resp_out_null(struct resp_out *o);
void resp_out_array(struct resp_out *o, uint64_t count);
/* Appends raw bytes that form (part of) a reply. */
void resp_out_raw(struct resp_out *o, const void *data, size_t size);
/* 0, or SYN_ENOMEM: the reply could not be written at all (close the connection). */
int resp_out_end(struct resp_out *o);
/* A service status (not 0) as its reply; write tells a write's from a read's sentence. */
void resp_out_status(struct resp_out *o, int status, bool write);
/* A write's outcome, as the state machine gave it. */
void resp_out_result(struct resp_out *o, const struct kv_result *r);
/* Case-insensitive comparison of an argument with a lower-case word. */
bool resp_arg_is(const struct resp_arg *a, const char *word);
/* How much of an argument an error message shows: Redis's "%.128s". For "%.*s". */
#define RESP_ARG_TEXT_MAX 128
int resp_arg_text_size(const struct resp_arg *a);
/* A strict decimal int64 argument (Redis's string2ll). */
bool resp_arg_i64(const struct resp_arg *a, int64_t *out);

/* ---- The FIFO (resp_fifo.c) ---------------------------------------------------------- */

/* The buffer an immediate reply goes to now: the output, or the last slot's follow. */
struct syn_buf *resp_conn_reply_buf(struct resp_conn *c);
/* Ends an immediate reply begun on resp_conn_reply_buf(c) (closes c when it could not be
 * written at all). */
void resp_conn_reply_end(struct resp_conn *c, struct resp_out *o);
/* A new slot at the end of the FIFO, not started; NULL when out of memory. */
struct resp_slot *resp_slot_push(struct resp_conn *c, uint8_t kind);
/* Submits the slots that may start: a write once no read before it is pending, a read once
 * no write before it is pending; consecutive reads share one service_read(). */
void resp_fifo_start(struct resp_conn *c);
/* Frees the FIFO and the spare slots (the connection is being freed). */
void resp_fifo_free(struct resp_conn *c);

/* ---- Input and backpressure (resp_server.c) ------------------------------------------ */

/* After a slot completed or output was written: lifts the pause, closes after QUIT, enforces
 * the output limit, writes. */
void resp_conn_progress(struct resp_conn *c);

/* ---- Commands ------------------------------------------------------------------------ */

/* One command being executed: args[0] is its name. An immediate reply goes to out; a
 * command that needs the service pushes a slot instead and writes nothing to out. */
struct resp_call {
    struct resp_server *srv;
    struct resp_conn *conn;
    const struct resp_arg *args;
    uint32_t argc;
    struct resp_out out;
};

typedef void (*resp_handler)(struct resp_call *call);

struct resp_command_def {
    const char *name; /* lower case */
    int32_t arity;    /* Redis's: n exactly, or -n at least n arguments, the name included */
    resp_handler handler;
};

/* resp_commands.c */
void resp_dispatch(struct resp_conn *c, const struct resp_arg *args, uint32_t argc);
const struct resp_command_def *resp_command_table(uint32_t *count);
/* Replies "-ERR unknown subcommand 'x'. Try NAME HELP." for args[1]. */
void resp_reply_unknown_subcommand(struct resp_call *call);
void resp_reply_arity(struct resp_call *call);

/* resp_cmd_kv.c */
void resp_cmd_get(struct resp_call *call);
void resp_cmd_set(struct resp_call *call);
void resp_cmd_del(struct resp_call *call);
void resp_cmd_exists(struct resp_call *call);
void resp_cmd_incr(struct resp_call *call);
void resp_cmd_incrby(struct resp_call *call);
void resp_cmd_decr(struct resp_call *call);
void resp_cmd_decrby(struct resp_call *call);
void resp_cmd_mget(struct resp_call *call);
void resp_cmd_mset(struct resp_call *call);
void resp_cmd_scan(struct resp_call *call);
void resp_cmd_dbsize(struct resp_call *call);
/* Runs a read slot's read_op on the store (after its service_read), into o. */
void resp_read_execute(struct resp_server *srv, struct resp_slot *s, struct resp_out *o);

/* resp_cmd_admin.c */
void resp_cmd_info(struct resp_call *call);
void resp_cmd_config(struct resp_call *call);
void resp_cmd_command(struct resp_call *call);
void resp_cmd_client(struct resp_call *call);

/* resp_cmd_synod.c */
void resp_cmd_synod(struct resp_call *call);
/* A client name or library field: printable, no spaces, at most RESP_NAME_SIZE_MAX bytes;
 * false after replying with the error (what: "Client names", "lib-name"). */
bool resp_client_value_ok(struct resp_call *call, const struct resp_arg *v, const char *what);
void resp_client_value_copy(char *dst, const struct resp_arg *v);

#endif
