/* http_events.h: GET /v1/synod/events?index=N&wait=D, this node's recent events (the
 * failure detector's judgements, leaders, configurations, check status changes, registry
 * changes, log entries) for `synod monitor` (docs/api.md). A long poll: the answer holds the
 * events numbered above N, and when there is none yet the request waits until one comes or D
 * passes, as Consul's blocking queries do. The waiting requests are a bounded list
 * (SYN_HTTP_EVENT_WAITERS_MAX) with its own timer, woken by the service's event observer. */
#ifndef SYN_API_HTTP_EVENTS_H
#define SYN_API_HTTP_EVENTS_H

#include "api/http_server_internal.h"

/* The route's handler. */
void http_events_route(struct http_exchange *ex);
/* Sets up the waiter list and becomes the service's event observer (once the server runs);
 * without the service's events op, or memory, the route answers 404. */
void http_events_init(struct http_server *srv);
/* Drops every waiting request without an answer (the server closes), stops observing, and
 * closes the timer: srv->events is freed once its close callback ran. */
void http_events_close(struct http_server *srv);

#endif
