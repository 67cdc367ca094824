/* http_operator.h: the HTTP API's endpoints for operators, rows of routes[] in http_routes.c
 * (docs/api.md):
 *
 *   GET    /v1/synod/status                          this node's view of the cluster
 *   GET    /v1/operator/raft/configuration           the same in Consul's shape
 *   PUT    /v1/synod/members/NAME?peer-addr=H:P[&learner]   add a voter (or a learner)
 *   POST   /v1/synod/members/NAME/promote            learner -> voter
 *   DELETE /v1/synod/members/NAME                    remove a member
 *   POST   /v1/synod/leader/transfer?to=NAME         hand leadership to a voter
 *   POST   /v1/operator/raft/transfer-leader?id=ID   the same, as Consul
 *   GET    /metrics                                  Prometheus text format 0.0.4
 *
 * Every handler answers before it returns: the service's view and its membership calls are
 * synchronous (service.h). Membership changes and transfers are the leader's: a follower
 * answers 421 with {"error":...,"leader":"<name or empty>"} so that a client asks elsewhere.
 */
#ifndef SYN_API_HTTP_OPERATOR_H
#define SYN_API_HTTP_OPERATOR_H

#include <stdint.h>

#include "api/http_server_internal.h"

/* http_operator.c */
void http_operator_status(struct http_exchange *ex);
void http_operator_raft_configuration(struct http_exchange *ex);
/* The prefix route "/v1/synod/members/": ex->tail is "NAME" or "NAME/promote". */
void http_operator_members(struct http_exchange *ex);
void http_operator_transfer(struct http_exchange *ex);
void http_operator_consul_transfer(struct http_exchange *ex);
/* Answers with the body built in ex->srv->body (rc: how building it went) as content_type,
 * or 500 when building failed; empties the body buffer. */
void http_operator_respond(struct http_exchange *ex, int rc, uint16_t status,
                           const char *content_type);

/* http_metrics.c */
void http_operator_metrics(struct http_exchange *ex);

#endif
