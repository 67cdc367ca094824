/* http_operator.c: the operator's endpoints (http_operator.h, docs/api.md): the node's view of
 * the cluster, synod's and Consul's, membership changes and leadership transfer. The checks
 * of names and addresses and the calls into the service are api_admin's, shared with RESP's
 * SYNOD command. */
#include "api/http_operator.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "api/api_admin.h"
#include "api/http_query.h"
#include "api/json.h"
#include "base/err.h"

#define ADMIN_MSG_SIZE 256u

/* The service's view of the cluster, and an empty body to build. */
static struct service_info *view(struct http_exchange *ex)
{
    syn_buf_reset(&ex->srv->body);
    service_info(ex->srv->svc, &ex->srv->info);
    return &ex->srv->info;
}

static bool view_is_leader(const struct service_info *info)
{
    return info->role != NULL && strcmp(info->role, "leader") == 0;
}

void http_operator_respond(struct http_exchange *ex, int rc, uint16_t status,
                           const char *content_type)
{
    struct syn_buf *b = &ex->srv->body;
    bool json = strcmp(content_type, "application/json") == 0;
    if (rc == 0 && json) {
        rc = syn_buf_append(b, "\n", 1);
    }
    if (rc != 0) {
        http_respond_error(ex, 500, "out of memory");
    } else {
        http_respond(ex, status, content_type, b->data, b->len, NULL);
    }
    syn_buf_reset(b);
}

/* ---- Views --------------------------------------------------------------------------- */

/* Ids are written as decimal strings: 64-bit numbers do not survive the doubles of
 * JavaScript and jq. */
static void obj_id(struct json_obj *o, const char *key, raft_id id)
{
    char text[24];
    snprintf(text, sizeof(text), "%" PRIu64, (uint64_t)id);
    json_obj_str(o, key, text);
}

/* One member of /v1/synod/status. Match indexes are known on the leader only: elsewhere
 * match_index and lag are null rather than a misleading 0. */
static int status_member(struct syn_buf *b, const struct service_info *info,
                         const struct service_member *m)
{
    struct json_obj o;
    json_obj_begin(&o, b);
    json_obj_str(&o, "name", m->name);
    obj_id(&o, "id", m->id);
    json_obj_str(&o, "peer_addr", m->peer_addr);
    json_obj_bool(&o, "voter", m->voter);
    json_obj_bool(&o, "leader", m->leader);
    json_obj_bool(&o, "self", m->self);
    /* how this node's failure detector sees the member, and since when it is silent */
    json_obj_str(&o, "health", m->health != NULL ? m->health : "unknown");
    json_obj_u64(&o, "last_heard_ms", m->last_heard_ms);
    if (view_is_leader(info)) {
        json_obj_u64(&o, "match_index", m->match_index);
        json_obj_u64(&o, "lag",
                     info->last_index > m->match_index ? info->last_index - m->match_index : 0);
    } else {
        json_obj_null(&o, "match_index");
        json_obj_null(&o, "lag");
    }
    return json_obj_end(&o);
}

/* GET /v1/synod/status: the node, its Raft state, and each member. */
void http_operator_status(struct http_exchange *ex)
{
    struct service_info *info = view(ex);
    struct syn_buf *b = &ex->srv->body;
    struct json_obj o;
    json_obj_begin(&o, b);
    json_obj_str(&o, "node", info->name);
    obj_id(&o, "id", info->id);
    json_obj_str(&o, "role", info->role != NULL ? info->role : "unknown");
    json_obj_u64(&o, "term", info->term);
    json_obj_str(&o, "leader", info->leader_name);
    json_obj_u64(&o, "commit_index", info->commit_index);
    json_obj_u64(&o, "applied_index", info->applied_index);
    json_obj_u64(&o, "last_index", info->last_index);
    json_obj_u64(&o, "snapshot_index", info->snapshot_index);
    json_obj_bool(&o, "serving", info->serving);
    if (json_obj_key(&o, "members")) {
        o.rc = syn_buf_append(b, "[", 1);
        for (uint32_t i = 0; i < info->member_count && o.rc == 0; i++) {
            o.rc = i > 0 ? syn_buf_append(b, ",", 1) : 0;
            o.rc = o.rc == 0 ? status_member(b, info, &info->members[i]) : o.rc;
        }
        o.rc = o.rc == 0 ? syn_buf_append(b, "]", 1) : o.rc;
    }
    http_operator_respond(ex, json_obj_end(&o), 200, "application/json");
}

/* GET /v1/operator/raft/configuration: as Consul's, so that `consul operator raft
 * list-peers`-style tooling reads it. ID is the member's Raft id, Node its name, Address its
 * peer address; Index is the commit index the view reflects. */
void http_operator_raft_configuration(struct http_exchange *ex)
{
    struct service_info *info = view(ex);
    struct syn_buf *b = &ex->srv->body;
    int rc = syn_buf_append(b, "{\"Servers\":[", 12);
    for (uint32_t i = 0; i < info->member_count && rc == 0; i++) {
        const struct service_member *m = &info->members[i];
        rc = i > 0 ? syn_buf_append(b, ",", 1) : 0;
        struct json_obj o;
        json_obj_begin(&o, b);
        obj_id(&o, "ID", m->id);
        json_obj_str(&o, "Node", m->name);
        json_obj_str(&o, "Address", m->peer_addr);
        json_obj_bool(&o, "Leader", m->leader);
        json_obj_bool(&o, "Voter", m->voter);
        json_obj_str(&o, "ProtocolVersion", "3");
        rc = rc == 0 ? json_obj_end(&o) : rc;
    }
    rc = rc == 0 ? api_buf_appendf(b, "],\"Index\":%" PRIu64 "}", info->commit_index) : rc;
    http_operator_respond(ex, rc, 200, "application/json");
}

/* ---- Changes ------------------------------------------------------------------------- */

/* The status for a service code (docs/api.md, "Errors"). 421 for "not the leader": the
 * request was fine but sent to the wrong node, which RFC 9110 15.5.20 names; 409 stays for
 * conflicts with the configuration itself, so a client can tell "ask elsewhere" from "no". */
static uint16_t admin_status(int rc)
{
    switch (rc) {
    case 0:
        return 200;
    case SYN_ENOTLEADER:
        return 421;
    case SYN_EINVAL:
        return 400;
    case SYN_EUNKNOWNNODE:
        return 404;
    case SYN_EEXIST:
    case SYN_ECONFCHANGE:
    case SYN_ETRANSFER:
    case SYN_EFULL:
        return 409;
    case SYN_ENOLEADER:
    case SYN_ESHUTDOWN:
    case SYN_EIO:
    case SYN_ENOSPC:
        return 503;
    default:
        return 500;
    }
}

/* Answers a change: {"ok":true,"message":...} or {"error":...,"code":...,"leader":...}; the
 * leader's name ("" when none is known) tells a client where to send it again. consul: the
 * success body is Consul's {"Success":true}. */
static void admin_answer(struct http_exchange *ex, int rc, const char *msg, bool consul)
{
    struct service_info *info = view(ex);
    struct json_obj o;
    json_obj_begin(&o, &ex->srv->body);
    if (rc == 0 && consul) {
        json_obj_bool(&o, "Success", true);
    } else if (rc == 0) {
        json_obj_bool(&o, "ok", true);
        json_obj_str(&o, "message", msg);
    } else {
        json_obj_str(&o, "error", msg);
        json_obj_str(&o, "code", syn_errname(rc));
    }
    json_obj_str(&o, "leader", info->leader_name);
    http_operator_respond(ex, json_obj_end(&o), admin_status(rc), "application/json");
}

static void admin_run(struct http_exchange *ex, enum api_admin_op op, struct http_slice name,
                      const char *addr, bool consul)
{
    char msg[ADMIN_MSG_SIZE];
    int rc = api_admin_run(ex->srv->svc, op, name.data, name.size, (const uint8_t *)addr,
                           addr != NULL ? strlen(addr) : 0, msg, sizeof(msg));
    admin_answer(ex, rc, msg, consul);
}

static void method_not_allowed(struct http_exchange *ex, const char *allow_header)
{
    const char *text = "{\"error\":\"method not allowed\"}\n";
    http_respond(ex, 405, "application/json", text, strlen(text), allow_header);
}

/* A query parameter that must be there, or a 400 that says which. */
static bool param_need(struct http_exchange *ex, const char *name, char *out, size_t size)
{
    int rc = http_query_get(ex->req->query, name, out, size, NULL);
    if (rc != 0) {
        const char *why = rc == SYN_ENOENT    ? "is missing"
                          : rc == SYN_ETOOBIG ? "is too long"
                                              : "is malformed";
        http_respond_error(ex, 400, "query parameter '%s' %s", name, why);
    }
    return rc == 0;
}

/* PUT/DELETE /v1/synod/members/NAME, POST /v1/synod/members/NAME/promote. */
void http_operator_members(struct http_exchange *ex)
{
    struct http_slice tail = ex->tail;
    const uint8_t *slash = memchr(tail.data, '/', tail.size);
    struct http_slice raw = {tail.data, slash != NULL ? (size_t)(slash - tail.data) : tail.size};
    uint8_t method = ex->req->method;
    if (slash != NULL) {
        struct http_slice action = {slash + 1, tail.size - raw.size - 1};
        if (!http_slice_is(action, "promote")) {
            http_respond_error(ex, 404, "no such endpoint");
        } else if (method != HTTP_POST) {
            method_not_allowed(ex, "Allow: POST\r\n");
        }
    } else if (method != HTTP_PUT && method != HTTP_DELETE) {
        method_not_allowed(ex, "Allow: PUT, DELETE\r\n");
    }
    if (ex->responded) {
        return;
    }
    /* Valid names need no percent-encoding, but a client may encode any byte. */
    struct syn_buf name;
    syn_buf_init(&name, API_MEMBER_NAME_SIZE_MAX + 1);
    if (http_percent_decode(raw, &name) != 0) {
        syn_buf_reset(&name); /* malformed or too long: api_admin refuses the empty name */
    }
    struct http_slice decoded = {name.data, name.len};
    char addr[SYN_MEMBER_ADDR_SIZE_MAX];
    if (method == HTTP_PUT && param_need(ex, "peer-addr", addr, sizeof(addr))) {
        bool learner = http_query_has(ex->req->query, "learner");
        admin_run(ex, learner ? API_ADMIN_ADD_LEARNER : API_ADMIN_ADD_VOTER, decoded, addr, false);
    } else if (method != HTTP_PUT) {
        admin_run(ex, method == HTTP_POST ? API_ADMIN_PROMOTE : API_ADMIN_REMOVE, decoded, NULL,
                  false);
    }
    syn_buf_free(&name);
}

/* The voter with the longest log other than this node, for a transfer that names none (as
 * Consul's picks one): the match indexes are the leader's. NULL when there is none. */
static const char *transferee_pick(const struct service_info *info)
{
    const struct service_member *best = NULL;
    for (uint32_t i = 0; i < info->member_count; i++) {
        const struct service_member *m = &info->members[i];
        if (m->voter && !m->self && (best == NULL || m->match_index > best->match_index)) {
            best = m;
        }
    }
    return best != NULL ? best->name : NULL;
}

/* The member that text names: by name, or by the id /v1/operator/raft/configuration shows
 * (Consul clients pass its ID). text itself when none matches: the service says so. */
static const char *member_resolve(const struct service_info *info, const char *text)
{
    for (uint32_t i = 0; i < info->member_count; i++) {
        char id[24];
        snprintf(id, sizeof(id), "%" PRIu64, (uint64_t)info->members[i].id);
        if (strcmp(info->members[i].name, text) == 0 || strcmp(id, text) == 0) {
            return info->members[i].name;
        }
    }
    return text;
}

static void transfer(struct http_exchange *ex, const char *param, bool consul)
{
    char text[3u * API_MEMBER_NAME_SIZE_MAX + 1];
    int rc = http_query_get(ex->req->query, param, text, sizeof(text), NULL);
    if (rc != 0 && rc != SYN_ENOENT) {
        http_respond_error(ex, 400, "query parameter '%s' is %s", param,
                           rc == SYN_ETOOBIG ? "too long" : "malformed");
        return;
    }
    struct service_info *info = view(ex);
    const char *target = rc == 0 ? member_resolve(info, text) : transferee_pick(info);
    if (rc == SYN_ENOENT && !view_is_leader(info)) {
        admin_answer(ex, SYN_ENOTLEADER, syn_strerror(SYN_ENOTLEADER), consul);
        return;
    }
    if (target == NULL) {
        admin_answer(ex, SYN_EINVAL, "there is no other voter to transfer leadership to", consul);
        return;
    }
    /* target may point into srv->info, which admin_answer() refills: api_admin_run() copies
     * the name before anything else runs. */
    admin_run(ex, API_ADMIN_TRANSFER, (struct http_slice){(const uint8_t *)target, strlen(target)},
              NULL, consul);
}

/* POST /v1/synod/leader/transfer[?to=NAME] */
void http_operator_transfer(struct http_exchange *ex)
{
    transfer(ex, "to", false);
}

/* POST /v1/operator/raft/transfer-leader[?id=ID]: Consul's, answering {"Success":true}. */
void http_operator_consul_transfer(struct http_exchange *ex)
{
    transfer(ex, "id", true);
}
