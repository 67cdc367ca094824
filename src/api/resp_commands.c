/* resp_commands.c: the RESP command table, dispatch with Redis's arity and unknown-command
 * errors, and the commands about the connection itself: PING, ECHO, SELECT, QUIT, HELLO,
 * AUTH, WAIT, TIME, and the refusals (FLUSHALL, FLUSHDB, MULTI, ...). docs/resp.md. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "api/resp_server_internal.h"
#include "base/assert.h"
#include "base/err.h"

/* ---- Connection commands ------------------------------------------------------------- */

static void cmd_ping(struct resp_call *call)
{
    if (call->argc > 2) {
        resp_reply_arity(call);
    } else if (call->argc == 2) {
        resp_out_bulk(&call->out, call->args[1].data, call->args[1].size);
    } else {
        resp_out_simple(&call->out, "PONG");
    }
}

static void cmd_echo(struct resp_call *call)
{
    resp_out_bulk(&call->out, call->args[1].data, call->args[1].size);
}

static void cmd_select(struct resp_call *call)
{
    int64_t db = 0;
    if (!resp_arg_i64(&call->args[1], &db)) {
        resp_out_error(&call->out, "ERR", "value is not an integer or out of range");
    } else if (db != 0) {
        resp_out_error(&call->out, "ERR", "DB index is out of range");
    } else {
        resp_out_simple(&call->out, "OK");
    }
}

static void cmd_quit(struct resp_call *call)
{
    resp_out_simple(&call->out, "OK");
    call->conn->quitting = true;
}

/* AUTH [user] password: synod has no users; the default user has no password. */
static bool auth_check(struct resp_call *call, const struct resp_arg *user)
{
    if (user == NULL) {
        resp_out_error(&call->out, "ERR",
                       "AUTH <password> called without any password configured for the default "
                       "user. Are you sure your configuration is correct?");
        return false;
    }
    if (!resp_arg_is(user, "default")) {
        resp_out_error(&call->out, "WRONGPASS",
                       "invalid username-password pair or user is disabled.");
        return false;
    }
    return true;
}

static void cmd_auth(struct resp_call *call)
{
    if (call->argc > 3) {
        resp_out_error(&call->out, "ERR", "syntax error");
    } else if (auth_check(call, call->argc == 3 ? &call->args[1] : NULL)) {
        resp_out_simple(&call->out, "OK");
    }
}

/* The HELLO reply: RESP2's flat array of field names and values. */
static void hello_reply(struct resp_call *call)
{
    struct resp_out *o = &call->out;
    resp_out_array(o, 14);
    resp_out_bulk_str(o, "server");
    resp_out_bulk_str(o, "synod");
    resp_out_bulk_str(o, "version");
    resp_out_bulk_str(o, call->srv->version);
    resp_out_bulk_str(o, "proto");
    resp_out_integer(o, 2);
    resp_out_bulk_str(o, "id");
    resp_out_integer(o, (int64_t)call->conn->base.id);
    resp_out_bulk_str(o, "mode");
    resp_out_bulk_str(o, "standalone");
    resp_out_bulk_str(o, "role");
    resp_out_bulk_str(o, "master");
    resp_out_bulk_str(o, "modules");
    resp_out_array(o, 0);
}

/* HELLO [protover [AUTH username password] [SETNAME clientname]] */
static void cmd_hello(struct resp_call *call)
{
    const struct resp_arg *a = call->args;
    if (call->argc >= 2) {
        int64_t ver = 0;
        if (!resp_arg_i64(&a[1], &ver)) {
            resp_out_error(&call->out, "ERR", "Protocol version is not an integer or out of range");
            return;
        }
        if (ver != 2) {
            resp_out_error(&call->out, "NOPROTO", "sorry, this protocol version is not supported");
            return;
        }
    }
    const struct resp_arg *name = NULL;
    for (uint32_t i = 2; i < call->argc; i++) {
        bool more = i + 1 < call->argc;
        if (resp_arg_is(&a[i], "auth") && i + 2 < call->argc) {
            if (!auth_check(call, &a[i + 1])) {
                return;
            }
            i += 2;
        } else if (resp_arg_is(&a[i], "setname") && more) {
            name = &a[++i];
            if (!resp_client_value_ok(call, name, "Client names")) {
                return;
            }
        } else {
            resp_out_error(&call->out, "ERR", "Syntax error in HELLO option '%.*s'",
                           resp_arg_text_size(&a[i]), (const char *)a[i].data);
            return;
        }
    }
    if (name != NULL) {
        resp_client_value_copy(call->conn->name, name);
    }
    hello_reply(call);
}

/* WAIT numreplicas timeout: a write is acknowledged once a majority of the voters hold it,
 * so every acknowledged write is already on floor(voters / 2) other voters. */
static void cmd_wait(struct resp_call *call)
{
    int64_t replicas = 0;
    int64_t timeout = 0;
    if (!resp_arg_i64(&call->args[1], &replicas) || !resp_arg_i64(&call->args[2], &timeout)) {
        resp_out_error(&call->out, "ERR", "value is not an integer or out of range");
        return;
    }
    if (timeout < 0) {
        resp_out_error(&call->out, "ERR", "timeout is negative");
        return;
    }
    struct service_info *info = &call->srv->info;
    service_info(call->srv->svc, info);
    uint32_t voters = 0;
    for (uint32_t i = 0; i < info->member_count; i++) {
        voters += info->members[i].voter ? 1u : 0u;
    }
    resp_out_integer(&call->out, voters / 2u);
}

static void cmd_time(struct resp_call *call)
{
    uint64_t now = service_now_ms(call->srv->svc);
    char sec[24];
    char usec[24];
    snprintf(sec, sizeof(sec), "%" PRIu64, now / 1000u);
    snprintf(usec, sizeof(usec), "%" PRIu64, (now % 1000u) * 1000u);
    resp_out_array(&call->out, 2);
    resp_out_bulk_str(&call->out, sec);
    resp_out_bulk_str(&call->out, usec);
}

static void cmd_flush(struct resp_call *call)
{
    resp_out_error(&call->out, "ERR",
                   "%s is not supported by synod: delete keys with DEL (SCAN finds them)",
                   resp_arg_is(&call->args[0], "flushall") ? "FLUSHALL" : "FLUSHDB");
}

static void cmd_transaction(struct resp_call *call)
{
    resp_out_error(&call->out, "ERR",
                   "MULTI/EXEC transactions are not supported by synod; send the commands "
                   "without MULTI (a pipeline), or use SET ... IFEQ for compare-and-set");
}

/* ---- The table ----------------------------------------------------------------------- */

static const struct resp_command_def commands[] = {
    {"get", 2, resp_cmd_get},        {"set", -3, resp_cmd_set},
    {"del", -2, resp_cmd_del},       {"exists", -2, resp_cmd_exists},
    {"incr", 2, resp_cmd_incr},      {"incrby", 3, resp_cmd_incrby},
    {"decr", 2, resp_cmd_decr},      {"decrby", 3, resp_cmd_decrby},
    {"mget", -2, resp_cmd_mget},     {"mset", -3, resp_cmd_mset},
    {"scan", -2, resp_cmd_scan},     {"dbsize", 1, resp_cmd_dbsize},
    {"synod", -2, resp_cmd_synod},   {"ping", -1, cmd_ping},
    {"echo", 2, cmd_echo},           {"select", 2, cmd_select},
    {"quit", -1, cmd_quit},          {"hello", -1, cmd_hello},
    {"auth", -2, cmd_auth},          {"wait", 3, cmd_wait},
    {"time", 1, cmd_time},           {"info", -1, resp_cmd_info},
    {"config", -2, resp_cmd_config}, {"command", -1, resp_cmd_command},
    {"client", -2, resp_cmd_client}, {"flushall", -1, cmd_flush},
    {"flushdb", -1, cmd_flush},      {"multi", 1, cmd_transaction},
    {"exec", 1, cmd_transaction},    {"discard", 1, cmd_transaction},
    {"watch", -2, cmd_transaction},  {"unwatch", 1, cmd_transaction},
};

const struct resp_command_def *resp_command_table(uint32_t *count)
{
    *count = (uint32_t)(sizeof(commands) / sizeof(commands[0]));
    return commands;
}

static const struct resp_command_def *command_find(const struct resp_arg *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (resp_arg_is(name, commands[i].name)) {
            return &commands[i];
        }
    }
    return NULL;
}

static bool arity_ok(const struct resp_command_def *def, uint32_t argc)
{
    return def->arity > 0 ? argc == (uint32_t)def->arity : argc >= (uint32_t)-def->arity;
}

void resp_reply_arity(struct resp_call *call)
{
    const struct resp_command_def *def = command_find(&call->args[0]);
    ASSERT(def != NULL);
    resp_out_error(&call->out, "ERR", "wrong number of arguments for '%s' command", def->name);
}

void resp_reply_unknown_subcommand(struct resp_call *call)
{
    char upper[16] = "";
    const struct resp_command_def *def = command_find(&call->args[0]);
    ASSERT(def != NULL);
    size_t n = strlen(def->name);
    ASSERT(n < sizeof(upper));
    for (size_t i = 0; i < n; i++) {
        upper[i] = (char)(def->name[i] - 'a' + 'A');
    }
    upper[n] = '\0';
    resp_out_error(&call->out, "ERR", "unknown subcommand '%.*s'. Try %s HELP.",
                   resp_arg_text_size(&call->args[1]), (const char *)call->args[1].data, upper);
}

/* Redis: "unknown command 'x', with args beginning with: 'a' 'b' ", the arguments cut at
 * about 128 characters. */
static void reply_unknown(struct resp_call *call)
{
    char args[RESP_ARG_TEXT_MAX + 8] = "";
    size_t used = 0;
    for (uint32_t i = 1; i < call->argc && used < RESP_ARG_TEXT_MAX; i++) {
        size_t room = RESP_ARG_TEXT_MAX - used;
        size_t n = call->args[i].size < room ? call->args[i].size : room;
        int w = snprintf(args + used, sizeof(args) - used, "'%.*s' ", (int)n,
                         (const char *)call->args[i].data);
        used += w > 0 ? strlen(args + used) : 0;
    }
    const struct resp_arg *name = &call->args[0];
    resp_out_error(&call->out, "ERR", "unknown command '%.*s', with args beginning with: %s",
                   resp_arg_text_size(name), (const char *)name->data, args);
}

void resp_dispatch(struct resp_conn *c, const struct resp_arg *args, uint32_t argc)
{
    ASSERT(argc > 0);
    struct resp_server *srv = api_server_ctx(c->base.srv);
    struct resp_call call = {.srv = srv, .conn = c, .args = args, .argc = argc};
    resp_out_begin(&call.out, srv, resp_conn_reply_buf(c));
    srv->stats.commands++;
    c->commands++;
    const struct resp_command_def *def = command_find(&args[0]);
    if (def == NULL) {
        snprintf(c->last_cmd, sizeof(c->last_cmd), "unknown");
        reply_unknown(&call);
    } else {
        snprintf(c->last_cmd, sizeof(c->last_cmd), "%s", def->name);
        if (!arity_ok(def, argc)) {
            resp_reply_arity(&call);
        } else {
            def->handler(&call);
        }
    }
    resp_conn_reply_end(c, &call.out);
}
