/* http_agent.c: GET /v1/agent/members (http_agent.h). Consul answers with serf's member list;
 * synod answers with the Raft configuration's members and this agent's failure detector's
 * view of each:
 *
 *   [{"Name":"n2","Addr":"127.0.0.1","Port":7002,
 *     "Tags":{"role":"synod","id":"...","voter":"1","leader":"0"},
 *     "Status":1,"Health":"alive","LastHeardMs":40}, ...]
 *
 * Status is serf's MemberStatus as Consul reports it: 1 alive, 3 left, 4 failed. serf has no
 * suspect status (memberlist's suspicion stays inside memberlist, and Consul shows such a
 * member as alive), so a suspect member is 1, and synod's own Health says "suspect". A member
 * that left the configuration is not listed (3 never appears). */
#include "api/http_agent.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/json.h"

#define SERF_ALIVE 1u
#define SERF_FAILED 4u

/* "HOST:PORT" or "[V6]:PORT" into host and port; port 0 when there is none. */
static void addr_split(const char *addr, char *host, size_t size, uint64_t *port)
{
    const char *colon = strrchr(addr, ':');
    size_t n = colon != NULL ? (size_t)(colon - addr) : strlen(addr);
    const char *from = addr;
    if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']') {
        from++;
        n -= 2;
    }
    snprintf(host, size, "%.*s", (int)n, from);
    *port = colon != NULL ? strtoull(colon + 1, NULL, 10) : 0;
}

static int member_json(struct syn_buf *b, const struct service_member *m)
{
    char host[sizeof(m->peer_addr)];
    uint64_t port = 0;
    addr_split(m->peer_addr, host, sizeof(host), &port);
    const char *health = m->health != NULL ? m->health : "unknown";
    char id[24];
    snprintf(id, sizeof(id), "%" PRIu64, (uint64_t)m->id);
    struct json_obj o;
    json_obj_begin(&o, b);
    json_obj_str(&o, "Name", m->name);
    json_obj_str(&o, "Addr", host);
    json_obj_u64(&o, "Port", port);
    if (json_obj_key(&o, "Tags")) {
        struct json_obj tags;
        json_obj_begin(&tags, b);
        json_obj_str(&tags, "role", "synod");
        json_obj_str(&tags, "id", id);
        json_obj_str(&tags, "voter", m->voter ? "1" : "0");
        json_obj_str(&tags, "leader", m->leader ? "1" : "0");
        o.rc = json_obj_end(&tags);
    }
    json_obj_u64(&o, "Status", strcmp(health, "failed") == 0 ? SERF_FAILED : SERF_ALIVE);
    json_obj_str(&o, "Health", health);
    json_obj_u64(&o, "LastHeardMs", m->last_heard_ms);
    return json_obj_end(&o);
}

void http_agent_members(struct http_exchange *ex)
{
    struct syn_buf *b = &ex->srv->body;
    syn_buf_reset(b);
    struct service_info *info = &ex->srv->info;
    service_info(ex->srv->svc, info);
    int rc = syn_buf_append(b, "[", 1);
    for (uint32_t i = 0; i < info->member_count && rc == 0; i++) {
        rc = i > 0 ? syn_buf_append(b, ",", 1) : 0;
        rc = rc == 0 ? member_json(b, &info->members[i]) : rc;
    }
    rc = rc == 0 ? syn_buf_append(b, "]\n", 2) : rc;
    if (rc != 0) {
        http_respond_error(ex, 500, "out of memory");
    } else {
        http_respond_json(ex, 200, b);
    }
    syn_buf_reset(b);
}
