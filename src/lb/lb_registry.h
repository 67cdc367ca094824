/* lb_registry.h: what synod lb and synod route ask a synod agent, and read from its answer:
 * Consul's health endpoint, GET /v1/health/service/NAME?passing&index=N&wait=Ws, a blocking
 * query (https://developer.hashicorp.com/consul/api-docs/features/blocking). The answer is a
 * JSON array of {"Node":{"Node","Address",...},"Service":{"ID","Service","Address","Port",
 * "Weights":{"Passing","Warning"},...},"Checks":[{"Status",...}]}; X-Consul-Index gives the
 * index to wait on next. Pure: bytes in, instances out (the bytes come from the network and
 * are checked).
 */
#ifndef SYN_LB_LB_REGISTRY_H
#define SYN_LB_LB_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "lb/lb_table.h"

#define LB_REGISTRY_WAIT_S_MAX 600u /* Consul caps ?wait at 10 minutes */

/* Appends "/v1/health/service/NAME?passing" and, when index > 0, "&index=N&wait=Ws", and a
 * NUL. 0, SYN_ENOMEM or SYN_ETOOBIG. */
int lb_registry_target(struct syn_buf *out, const char *service, uint64_t index, uint32_t wait_s);

/* Reads the instances of the answer body[0 .. size) into out[0 .. max): those whose checks
 * all pass (the agent filters with ?passing; this holds even if it did not), with a port in
 * 1 .. 65535 and an address. *count: how many were read; *skipped: how many entries were left
 * out (failing checks, no address or port, fields too long, more than max). 0, or
 * SYN_EBADMSG (not JSON, or not an array of objects), SYN_ENOMEM. */
int lb_registry_parse(const uint8_t *body, size_t size, struct lb_instance *out, uint32_t max,
                      uint32_t *count, uint32_t *skipped);

/* The X-Consul-Index of a response head[0 .. size): true with *index, false when absent or
 * not a decimal number. */
bool lb_registry_index(const uint8_t *head, size_t size, uint64_t *index);

/* The index to wait on after an answer carrying got (have: it carried one) when the last one
 * waited on was prev, by Consul's rules: an index that went backwards starts over at 0, and
 * an index is at least 1 once one was seen (index 0 never blocks). */
uint64_t lb_registry_next_index(uint64_t prev, bool have, uint64_t got);

#endif
