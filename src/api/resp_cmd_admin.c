/* resp_cmd_admin.c: the commands tools send about the server rather than the data: INFO
 * (with synod's "# Raft" section), CONFIG GET (the settings redis-benchmark and redis-cli
 * ask for), COMMAND (enough for redis-cli's hints) and CLIENT. docs/resp.md. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "api/resp_server_internal.h"
#include "base/assert.h"
#include "base/err.h"
#include "kv/kv_glob.h"

/* ---- INFO ---------------------------------------------------------------------------- */

enum info_section {
    INFO_SERVER = 1u << 0,
    INFO_CLIENTS = 1u << 1,
    INFO_STATS = 1u << 2,
    INFO_RAFT = 1u << 3,
    INFO_KEYSPACE = 1u << 4,
    INFO_ALL = (1u << 5) - 1u,
};

static const struct {
    const char *name;
    uint32_t bits;
} info_names[] = {
    {"server", INFO_SERVER}, {"clients", INFO_CLIENTS},   {"stats", INFO_STATS},
    {"raft", INFO_RAFT},     {"keyspace", INFO_KEYSPACE}, {"default", INFO_ALL},
    {"all", INFO_ALL},       {"everything", INFO_ALL},
};

static int info_server(struct resp_server *srv, struct syn_buf *b)
{
    uint64_t up_s = (uv_now(srv->loop) - srv->started_ms) / 1000u;
    uv_utsname_t uts;
    if (uv_os_uname(&uts) != 0) {
        snprintf(uts.sysname, sizeof(uts.sysname), "unknown");
        uts.release[0] = '\0';
        uts.machine[0] = '\0';
    }
    struct service_info *info = &srv->info;
    return api_buf_appendf(
        b,
        "# Server\r\nredis_version:%s\r\nsynod_version:%s\r\nredis_mode:standalone\r\n"
        "os:%s %s %s\r\narch_bits:%u\r\nprocess_id:%d\r\ntcp_port:%u\r\n"
        "uptime_in_seconds:%" PRIu64 "\r\nuptime_in_days:%" PRIu64 "\r\n"
        "node_name:%s\r\nnode_id:%" PRIu64 "\r\n\r\n",
        RESP_COMPAT_VERSION, srv->version, uts.sysname, uts.release, uts.machine,
        (unsigned)(sizeof(void *) * 8u), (int)uv_os_getpid(), api_server_port(srv->api), up_s,
        up_s / 86400u, info->name, info->id);
}

static int info_clients_stats(struct resp_server *srv, struct syn_buf *b, uint32_t sections)
{
    struct api_server_stats a;
    api_server_stats(srv->api, &a);
    int rc = 0;
    if (sections & INFO_CLIENTS) {
        rc = api_buf_appendf(b, "# Clients\r\nconnected_clients:%u\r\nmaxclients:%u\r\n\r\n",
                             a.open, srv->connections_max);
    }
    if (rc == 0 && (sections & INFO_STATS)) {
        rc = api_buf_appendf(b,
                             "# Stats\r\ntotal_connections_received:%" PRIu64
                             "\r\ntotal_commands_processed:%" PRIu64
                             "\r\nrejected_connections:%" PRIu64 "\r\ntotal_error_replies:%" PRIu64
                             "\r\ntotal_protocol_errors:%" PRIu64 "\r\n\r\n",
                             a.accepted, srv->stats.commands, a.refused, srv->stats.errors,
                             srv->stats.protocol_errors);
    }
    return rc;
}

static int info_raft(struct resp_server *srv, struct syn_buf *b)
{
    const struct service_info *info = &srv->info;
    int rc = api_buf_appendf(
        b,
        "# Raft\r\nrole:%s\r\nterm:%" PRIu64 "\r\nleader:%s\r\nleader_addr:%s\r\n"
        "commit_index:%" PRIu64 "\r\napplied_index:%" PRIu64 "\r\nlast_index:%" PRIu64
        "\r\nsnapshot_index:%" PRIu64 "\r\nserving:%s\r\nmembers:%u\r\n",
        info->role != NULL ? info->role : "unknown", info->term, info->leader_name,
        info->leader_peer_addr, info->commit_index, info->applied_index, info->last_index,
        info->snapshot_index, info->serving ? "yes" : "no", info->member_count);
    for (uint32_t i = 0; i < info->member_count && rc == 0; i++) {
        const struct service_member *m = &info->members[i];
        rc = api_buf_appendf(b,
                             "member%u:name=%s,id=%" PRIu64 ",addr=%s,voter=%d,leader=%d,"
                             "self=%d,match_index=%" PRIu64 "\r\n",
                             i, m->name, m->id, m->peer_addr, m->voter, m->leader, m->self,
                             m->match_index);
    }
    return rc != 0 ? rc : api_buf_appendf(b, "\r\n");
}

static int info_keyspace(struct resp_server *srv, struct syn_buf *b)
{
    uint64_t keys = 0;
    /* a local, possibly stale count: INFO is not linearizable, in Redis either */
    int rc = kv_dbsize(service_kv(srv->svc), service_now_ms(srv->svc), &keys);
    if (rc != 0) {
        return api_buf_appendf(b, "# Keyspace\r\n\r\n");
    }
    return api_buf_appendf(b, "# Keyspace\r\ndb0:keys=%" PRIu64 "\r\n\r\n", keys);
}

/* INFO [section ...]: unknown sections are left out, as in Redis. */
void resp_cmd_info(struct resp_call *call)
{
    uint32_t sections = call->argc == 1 ? INFO_ALL : 0u;
    for (uint32_t i = 1; i < call->argc; i++) {
        for (size_t k = 0; k < sizeof(info_names) / sizeof(info_names[0]); k++) {
            if (resp_arg_is(&call->args[i], info_names[k].name)) {
                sections |= info_names[k].bits;
            }
        }
    }
    struct resp_server *srv = call->srv;
    struct syn_buf *b = &srv->scratch;
    syn_buf_reset(b);
    service_info(srv->svc, &srv->info);
    int rc = 0;
    if (sections & INFO_SERVER) {
        rc = info_server(srv, b);
    }
    if (rc == 0 && (sections & (INFO_CLIENTS | INFO_STATS))) {
        rc = info_clients_stats(srv, b, sections);
    }
    if (rc == 0 && (sections & INFO_RAFT)) {
        rc = info_raft(srv, b);
    }
    if (rc == 0 && (sections & INFO_KEYSPACE)) {
        rc = info_keyspace(srv, b);
    }
    if (rc != 0) {
        resp_out_error(&call->out, "ERR", "out of memory");
    } else {
        resp_out_bulk(&call->out, b->data, b->len >= 2 ? b->len - 2 : b->len); /* last CRLF */
    }
    syn_buf_reset(b);
}

/* ---- CONFIG -------------------------------------------------------------------------- */

enum { CONFIG_PARAMS = 11 };

/* The settings tools ask for; each has a fixed answer (synod has no CONFIG SET). */
static void config_values(const struct resp_server *srv, const char *values[CONFIG_PARAMS],
                          char maxclients[16], char port[8], char bulk_max[16])
{
    snprintf(maxclients, 16, "%u", srv->connections_max);
    snprintf(port, 8, "%u", api_server_port(srv->api));
    snprintf(bulk_max, 16, "%u", SYN_RESP_REQUEST_SIZE_MAX);
    const char *v[CONFIG_PARAMS] = {"",  "no", "0",      "noeviction", "1", maxclients,
                                    "0", port, bulk_max, "no",         "1"};
    memcpy(values, v, sizeof(v));
}

static const char *const config_names[CONFIG_PARAMS] = {
    "save",    "appendonly", "maxmemory",          "maxmemory-policy", "databases",  "maxclients",
    "timeout", "port",       "proto-max-bulk-len", "cluster-enabled",  "io-threads",
};

/* CONFIG GET pattern [pattern ...]: name/value pairs, each parameter once; patterns match
 * without regard to case, as in Redis. */
static void config_get(struct resp_call *call)
{
    bool hit[CONFIG_PARAMS] = {false};
    uint32_t count = 0;
    for (uint32_t i = 2; i < call->argc; i++) {
        uint8_t lower[RESP_ARG_TEXT_MAX];
        size_t n = (size_t)resp_arg_text_size(&call->args[i]);
        for (size_t k = 0; k < n; k++) {
            uint8_t ch = call->args[i].data[k];
            lower[k] = (ch >= 'A' && ch <= 'Z') ? (uint8_t)(ch - 'A' + 'a') : ch;
        }
        for (uint32_t p = 0; p < CONFIG_PARAMS; p++) {
            const char *name = config_names[p];
            if (!hit[p] && kv_glob_match(lower, n, (const uint8_t *)name, strlen(name))) {
                hit[p] = true;
                count++;
            }
        }
    }
    const char *values[CONFIG_PARAMS];
    char maxclients[16];
    char port[8];
    char bulk_max[16];
    config_values(call->srv, values, maxclients, port, bulk_max);
    resp_out_array(&call->out, 2u * count);
    for (uint32_t p = 0; p < CONFIG_PARAMS; p++) {
        if (hit[p]) {
            resp_out_bulk_str(&call->out, config_names[p]);
            resp_out_bulk_str(&call->out, values[p]);
        }
    }
}

void resp_cmd_config(struct resp_call *call)
{
    const struct resp_arg *sub = &call->args[1];
    if (resp_arg_is(sub, "get")) {
        if (call->argc < 3) {
            resp_out_error(&call->out, "ERR", "wrong number of arguments for 'config|get' command");
        } else {
            config_get(call);
        }
    } else if (resp_arg_is(sub, "set") || resp_arg_is(sub, "rewrite")) {
        resp_out_error(&call->out, "ERR",
                       "CONFIG %s is not supported by synod: configure the node when it starts",
                       resp_arg_is(sub, "set") ? "SET" : "REWRITE");
    } else if (resp_arg_is(sub, "resetstat")) {
        call->srv->stats.commands = 0;
        call->srv->stats.errors = 0;
        call->srv->stats.protocol_errors = 0;
        resp_out_simple(&call->out, "OK");
    } else {
        resp_reply_unknown_subcommand(call);
    }
}

/* ---- COMMAND ------------------------------------------------------------------------- */

/* COMMAND and COMMAND DOCS answer an empty list: redis-cli then uses its built-in help. */
void resp_cmd_command(struct resp_call *call)
{
    uint32_t count = 0;
    const struct resp_command_def *table = resp_command_table(&count);
    if (call->argc == 1 || resp_arg_is(&call->args[1], "docs")) {
        resp_out_array(&call->out, 0);
    } else if (resp_arg_is(&call->args[1], "count") && call->argc == 2) {
        resp_out_integer(&call->out, count);
    } else if (resp_arg_is(&call->args[1], "list") && call->argc == 2) {
        resp_out_array(&call->out, count);
        for (uint32_t i = 0; i < count; i++) {
            resp_out_bulk_str(&call->out, table[i].name);
        }
    } else if (resp_arg_is(&call->args[1], "info")) {
        resp_out_array(&call->out, call->argc - 2u); /* a nil per name: no details */
        for (uint32_t i = 2; i < call->argc; i++) {
            if (call->out.rc == 0) {
                call->out.rc = resp_append_null_array(call->out.b);
            }
        }
    } else {
        resp_reply_unknown_subcommand(call);
    }
}

/* ---- CLIENT -------------------------------------------------------------------------- */

/* One line of CLIENT LIST / CLIENT INFO, with Redis's field names. */
static int client_line(struct resp_server *srv, struct resp_conn *c, struct syn_buf *b)
{
    uint64_t now = uv_now(srv->loop);
    uv_os_fd_t fd = -1;
    uv_fileno((const uv_handle_t *)&c->base.tcp, &fd);
    return api_buf_appendf(
        b,
        "id=%" PRIu64 " addr=%s laddr=%s fd=%d name=%s age=%" PRIu64 " idle=%" PRIu64
        " flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=%zu qbuf-free=%zu obl=0 oll=%u "
        "omem=%zu events=r cmd=%s user=default redir=-1 resp=2 lib-name=%s lib-ver=%s\n",
        c->base.id, c->base.peer, c->base.local, (int)fd, c->name,
        (now - c->base.opened_ms) / 1000u, (now - c->base.active_ms) / 1000u, c->base.in.len,
        c->base.in.cap - c->base.in.len, c->slot_count,
        api_conn_output_size(&c->base) + c->pending_bytes,
        c->last_cmd[0] != '\0' ? c->last_cmd : "NULL", c->lib_name, c->lib_ver);
}

static void client_list(struct resp_call *call, bool all)
{
    struct resp_server *srv = call->srv;
    struct syn_buf *b = &srv->scratch;
    syn_buf_reset(b);
    int rc = 0;
    if (all) {
        for (struct api_conn *a = api_server_first(srv->api); a != NULL && rc == 0;
             a = api_server_next(a)) {
            if (!a->refused) {
                rc = client_line(srv, (struct resp_conn *)a, b);
            }
        }
    } else {
        rc = client_line(srv, call->conn, b);
    }
    if (rc != 0) {
        resp_out_error(&call->out, "ERR", "out of memory");
    } else {
        resp_out_bulk(&call->out, b->data, b->len);
    }
    syn_buf_reset(b);
}

bool resp_client_value_ok(struct resp_call *call, const struct resp_arg *v, const char *what)
{
    bool ok = v->size <= RESP_NAME_SIZE_MAX;
    for (size_t i = 0; i < v->size && ok; i++) {
        ok = v->data[i] >= '!' && v->data[i] <= '~';
    }
    if (!ok) {
        resp_out_error(&call->out, "ERR",
                       "%s cannot contain spaces, newlines or special characters, and is "
                       "limited to %u bytes",
                       what, RESP_NAME_SIZE_MAX);
    }
    return ok;
}

void resp_client_value_copy(char *dst, const struct resp_arg *v)
{
    memcpy(dst, v->data, v->size);
    dst[v->size] = '\0';
}

/* CLIENT SETINFO LIB-NAME|LIB-VER value */
static void client_setinfo(struct resp_call *call)
{
    const struct resp_arg *a = call->args;
    if (call->argc != 4) {
        resp_out_error(&call->out, "ERR", "wrong number of arguments for 'client|setinfo' command");
        return;
    }
    bool name = resp_arg_is(&a[2], "lib-name");
    if (!name && !resp_arg_is(&a[2], "lib-ver")) {
        resp_out_error(&call->out, "ERR", "Unrecognized option '%.*s'", resp_arg_text_size(&a[2]),
                       (const char *)a[2].data);
        return;
    }
    if (resp_client_value_ok(call, &a[3], name ? "lib-name" : "lib-ver")) {
        resp_client_value_copy(name ? call->conn->lib_name : call->conn->lib_ver, &a[3]);
        resp_out_simple(&call->out, "OK");
    }
}

void resp_cmd_client(struct resp_call *call)
{
    const struct resp_arg *sub = &call->args[1];
    struct resp_conn *c = call->conn;
    if (resp_arg_is(sub, "setname") && call->argc == 3) {
        if (resp_client_value_ok(call, &call->args[2], "Client names")) {
            resp_client_value_copy(c->name, &call->args[2]);
            resp_out_simple(&call->out, "OK");
        }
    } else if (resp_arg_is(sub, "getname") && call->argc == 2) {
        if (c->name[0] == '\0') {
            resp_out_null(&call->out);
        } else {
            resp_out_bulk_str(&call->out, c->name);
        }
    } else if (resp_arg_is(sub, "id") && call->argc == 2) {
        resp_out_integer(&call->out, (int64_t)c->base.id);
    } else if (resp_arg_is(sub, "list")) {
        client_list(call, true); /* TYPE and ID filters are not supported: every client */
    } else if (resp_arg_is(sub, "info") && call->argc == 2) {
        client_list(call, false);
    } else if (resp_arg_is(sub, "setinfo")) {
        client_setinfo(call);
    } else if ((resp_arg_is(sub, "no-evict") || resp_arg_is(sub, "no-touch")) && call->argc == 3) {
        resp_out_simple(&call->out, "OK"); /* nothing is evicted, nothing tracks access */
    } else {
        resp_reply_unknown_subcommand(call);
    }
}
