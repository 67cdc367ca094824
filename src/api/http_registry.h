/* http_registry.h: the service registry's HTTP endpoints, in Consul's shapes
 * (docs/registry.md): reads in http_registry.c, writes (register, deregister, TTL check
 * updates) in http_agent_service.c. Route handlers for http_routes.c. */
#ifndef SYN_API_HTTP_REGISTRY_H
#define SYN_API_HTTP_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "registry/reg_record.h"

struct http_exchange;

enum http_reg_endpoint {
    HTTP_REG_CATALOG_SERVICES = 1,
    HTTP_REG_CATALOG_SERVICE = 2,
    HTTP_REG_NODES = 3,
    HTTP_REG_HEALTH_SERVICE = 4,
    HTTP_REG_HEALTH_STATE = 5,
    HTTP_REG_AGENT_SERVICES = 6,
};

void http_reg_catalog_services(struct http_exchange *ex);
void http_reg_catalog_service(struct http_exchange *ex);
void http_reg_catalog_nodes(struct http_exchange *ex);
void http_reg_health_service(struct http_exchange *ex);
void http_reg_health_state(struct http_exchange *ex);
void http_reg_agent_services(struct http_exchange *ex);

void http_reg_register(struct http_exchange *ex);
void http_reg_deregister(struct http_exchange *ex);
void http_reg_check_update(struct http_exchange *ex);
void http_reg_agent_self(struct http_exchange *ex);

#endif
