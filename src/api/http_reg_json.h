/* http_reg_json.h: Consul's JSON service definition into a registry instance. */
#ifndef SYN_API_HTTP_REG_JSON_H
#define SYN_API_HTTP_REG_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "registry/reg_record.h"

/* Parses a service definition ({"Name","ID","Tags","Address","Port","Meta","Weights","TTL",
 * "Check":{...},"Checks":[...]}) for node. Checks start critical unless "Status" says
 * otherwise. 0, or SYN_EINVAL with a sentence in err (err_size bytes). */
int http_reg_json_parse(const uint8_t *body, size_t size, const char *node,
                        struct reg_instance *in, char *err, size_t err_size);
/* A Go-style duration ("10s", "1m30s", "500ms", "1h"; a bare number is seconds) in ms.
 * 0 or SYN_EINVAL. */
int http_duration_parse(const char *text, uint64_t *ms_out);

#endif
