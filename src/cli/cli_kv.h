/* cli_kv.h: the pure half of `synod kv`: request targets for Consul's KV API (GET, PUT and
 * DELETE /v1/kv/KEY with its query parameters), and its answers read: "true"/"false", a
 * ?keys listing, and ?recurse entries with their base64 values, shown for people. */
#ifndef SYN_CLI_CLI_KV_H
#define SYN_CLI_CLI_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define CLI_KV_PARAMS_MAX 4u

/* "/v1/kv/<key, percent-encoded>?p1&p2..." into out, NUL-terminated; params are already
 * encoded ("raw", "cas=5"). 0, SYN_ENOMEM or SYN_ETOOBIG. */
int cli_kv_target(struct syn_buf *out, const char *key, const char *const *params,
                  uint32_t param_count);

/* A PUT's or DELETE's body: 1 for "true", 0 for "false" (blanks around allowed), or
 * SYN_EBADMSG. */
int cli_kv_result(const uint8_t *body, size_t size);

/* A ?keys answer (a JSON array of strings): one key a line, as cli_out_escape() shows bytes.
 * 0, SYN_EBADMSG, SYN_ENOMEM. */
int cli_kv_keys_text(const uint8_t *body, size_t size, struct syn_buf *out);

/* A ?recurse answer (a JSON array of {"Key","Value",...}): a table of KEY, FLAGS and VALUE,
 * values decoded from base64 and escaped. 0, SYN_EBADMSG, SYN_ENOMEM. */
int cli_kv_entries_text(const uint8_t *body, size_t size, struct syn_buf *out);

#endif
