/* http_routes.c: the HTTP API's route table and its handlers: health and, as Consul has
 * them, the leader and the peers. docs/http.md. The next endpoints (/v1/kv/ as a prefix
 * route, /metrics) are rows in the table. */
#include <stdio.h>
#include <string.h>

#include "api/http_agent.h"
#include "api/http_events.h"
#include "api/http_log.h"
#include "api/http_operator.h"
#include "api/http_registry.h"
#include "api/http_server_internal.h"
#include "api/json.h"
#include "base/assert.h"

#define GET_HEAD (HTTP_METHOD_BIT(HTTP_GET) | HTTP_METHOD_BIT(HTTP_HEAD))

/* ---- Handlers ------------------------------------------------------------------------ */

/* The service's view of the cluster, and an empty body to build. */
static struct service_info *exchange_begin(struct http_exchange *ex)
{
    syn_buf_reset(&ex->srv->body);
    service_info(ex->srv->svc, &ex->srv->info);
    return &ex->srv->info;
}

/* Answers with the body built (rc: how building it went; a newline ends it), or 500. */
static void body_respond(struct http_exchange *ex, int rc, uint16_t status)
{
    struct syn_buf *b = &ex->srv->body;
    if (rc == 0) {
        rc = syn_buf_append(b, "\n", 1);
    }
    if (rc != 0) {
        http_respond_error(ex, 500, "out of memory");
    } else {
        http_respond_json(ex, status, b);
    }
    syn_buf_reset(b);
}

/* GET /v1/health: 200 while the node can serve requests (its disk works and a leader is
 * known), 503 with the reason otherwise. For load balancers and orchestrators. */
static void route_health(struct http_exchange *ex)
{
    struct service_info *info = exchange_begin(ex);
    const char *reason = !info->serving                 ? "this node cannot write to its disk"
                         : info->leader_name[0] == '\0' ? "no leader is known"
                                                        : NULL;
    struct json_obj o;
    json_obj_begin(&o, &ex->srv->body);
    json_obj_str(&o, "status", reason == NULL ? "ok" : "unavailable");
    if (reason != NULL) {
        json_obj_str(&o, "reason", reason);
    }
    json_obj_str(&o, "node", info->name);
    json_obj_str(&o, "role", info->role != NULL ? info->role : "unknown");
    json_obj_str(&o, "leader", info->leader_name);
    json_obj_u64(&o, "term", info->term);
    json_obj_u64(&o, "commit_index", info->commit_index);
    json_obj_u64(&o, "applied_index", info->applied_index);
    json_obj_bool(&o, "serving", info->serving);
    json_obj_str(&o, "version", ex->srv->version);
    body_respond(ex, json_obj_end(&o), reason == NULL ? 200 : 503);
}

/* GET /v1/status/leader: as Consul, "host:port" of the leader's peer address, or "". */
static void route_status_leader(struct http_exchange *ex)
{
    struct service_info *info = exchange_begin(ex);
    const char *addr = info->leader_name[0] != '\0' ? info->leader_peer_addr : "";
    body_respond(ex, json_append_cstring(&ex->srv->body, addr), 200);
}

/* GET /v1/status/peers: as Consul, the voters' peer addresses. */
static void route_status_peers(struct http_exchange *ex)
{
    struct service_info *info = exchange_begin(ex);
    struct syn_buf *b = &ex->srv->body;
    int rc = syn_buf_append(b, "[", 1);
    const char *sep = "";
    for (uint32_t i = 0; i < info->member_count && rc == 0; i++) {
        if (info->members[i].voter) {
            rc = syn_buf_append(b, sep, strlen(sep));
            sep = ",";
        }
        if (rc == 0 && info->members[i].voter) {
            rc = json_append_cstring(b, info->members[i].peer_addr);
        }
    }
    body_respond(ex, rc != 0 ? rc : syn_buf_append(b, "]", 1), 200);
}

/* ---- Routing ------------------------------------------------------------------------- */

static const struct http_route routes[] = {
    {"/v1/health", GET_HEAD, route_health},
    {"/v1/status/leader", GET_HEAD, route_status_leader},
    {"/v1/status/peers", GET_HEAD, route_status_peers},
    {"/v1/synod/status", GET_HEAD, http_operator_status},
    {"/v1/synod/members/",
     HTTP_METHOD_BIT(HTTP_PUT) | HTTP_METHOD_BIT(HTTP_POST) | HTTP_METHOD_BIT(HTTP_DELETE),
     http_operator_members},
    {"/v1/synod/leader/transfer", HTTP_METHOD_BIT(HTTP_POST), http_operator_transfer},
    {"/v1/synod/events", GET_HEAD, http_events_route},
    {"/v1/synod/log", HTTP_METHOD_BIT(HTTP_POST), http_log_route},
    {"/v1/operator/raft/configuration", GET_HEAD, http_operator_raft_configuration},
    {"/v1/operator/raft/transfer-leader", HTTP_METHOD_BIT(HTTP_POST),
     http_operator_consul_transfer},
    {"/metrics", GET_HEAD, http_operator_metrics},
    {"/v1/kv/", GET_HEAD | HTTP_METHOD_BIT(HTTP_PUT) | HTTP_METHOD_BIT(HTTP_DELETE), http_kv_route},
    {"/v1/catalog/services", GET_HEAD, http_reg_catalog_services},
    {"/v1/catalog/service/", GET_HEAD, http_reg_catalog_service},
    {"/v1/catalog/nodes", GET_HEAD, http_reg_catalog_nodes},
    {"/v1/health/service/", GET_HEAD, http_reg_health_service},
    {"/v1/health/state/", GET_HEAD, http_reg_health_state},
    {"/v1/agent/services", GET_HEAD, http_reg_agent_services},
    {"/v1/agent/self", GET_HEAD, http_reg_agent_self},
    {"/v1/agent/members", GET_HEAD, http_agent_members},
    {"/v1/agent/service/register", HTTP_METHOD_BIT(HTTP_PUT), http_reg_register},
    {"/v1/agent/service/deregister/", HTTP_METHOD_BIT(HTTP_PUT) | GET_HEAD, http_reg_deregister},
    /* GET too: Consul accepted it for TTL reports before 1.0, and clients still send it */
    {"/v1/agent/check/", HTTP_METHOD_BIT(HTTP_PUT) | GET_HEAD, http_reg_check_update},
};

/* Whether route r matches path; for a prefix route, *tail is the rest of the path. */
static bool route_matches(const struct http_route *r, struct http_slice path,
                          struct http_slice *tail)
{
    size_t n = strlen(r->path);
    bool prefix = r->path[n - 1] == '/';
    if (path.size < n || memcmp(path.data, r->path, n) != 0) {
        return false;
    }
    if (!prefix && path.size != n) {
        return false;
    }
    *tail = (struct http_slice){path.data + n, path.size - n};
    return true;
}

/* "Allow: GET, HEAD\r\n" for methods. */
static void allow_header(uint32_t methods, char *out, size_t size)
{
    static const char *const names[] = {
        [HTTP_GET] = "GET",   [HTTP_HEAD] = "HEAD",     [HTTP_PUT] = "PUT",
        [HTTP_POST] = "POST", [HTTP_DELETE] = "DELETE", [HTTP_OPTIONS] = "OPTIONS",
    };
    size_t used = (size_t)snprintf(out, size, "Allow:");
    const char *sep = " ";
    for (uint8_t m = HTTP_GET; m <= HTTP_OPTIONS && used < size; m++) {
        if (methods & HTTP_METHOD_BIT(m)) {
            used += (size_t)snprintf(out + used, size - used, "%s%s", sep, names[m]);
            sep = ", ";
        }
    }
    if (used < size) {
        snprintf(out + used, size - used, "\r\n");
    }
}

void http_route(struct http_exchange *ex)
{
    const struct http_request *req = ex->req;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const struct http_route *r = &routes[i];
        if (!route_matches(r, req->path, &ex->tail)) {
            continue;
        }
        if (!(r->methods & HTTP_METHOD_BIT(req->method))) {
            char allow[64];
            allow_header(r->methods, allow, sizeof(allow));
            const char *text = "{\"error\":\"method not allowed\"}\n";
            http_respond(ex, 405, "application/json", text, strlen(text), allow);
            return;
        }
        r->handler(ex);
        return;
    }
    http_respond_error(ex, 404, "no such endpoint");
}
