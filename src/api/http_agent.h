/* http_agent.h: GET /v1/agent/members, the cluster's members as this agent's failure
 * detector sees them, in Consul's shape (docs/http.md, docs/failure-detection.md). A row of
 * routes[] in http_routes.c. */
#ifndef SYN_API_HTTP_AGENT_H
#define SYN_API_HTTP_AGENT_H

#include "api/http_server_internal.h"

void http_agent_members(struct http_exchange *ex);

#endif
