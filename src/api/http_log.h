/* http_log.h: POST /v1/synod/log, the replicated log of `synod log append` (docs/api.md): the
 * body, 1 byte to SYN_LOG_TEXT_SIZE_MAX, becomes an APPEND command (src/kv/kv_cmd.h) that
 * stores it under KV_LOG_PREFIX and the index of its own entry, on every replica. The answer,
 * once it applied, is {"index": N, "key": "synod/log/0000000000000000000N"}. */
#ifndef SYN_API_HTTP_LOG_H
#define SYN_API_HTTP_LOG_H

#include <stdint.h>

#include "api/http_server_internal.h"

/* The route's handler. */
void http_log_route(struct http_exchange *ex);
/* The answer to an append that applied at index (http_kv.c's HTTP_ANSWER_LOG). */
void http_log_answer(struct http_exchange *ex, uint64_t index);

#endif
