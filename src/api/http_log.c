/* http_log.c: POST /v1/synod/log (http_log.h), submitted like the KV writes: proposed through
 * the service, answered once the entry applied (or with the service's error). */
#include "api/http_log.h"

#include <string.h>

#include "api/http_kv_internal.h"
#include "api/json.h"
#include "kv/kv_cmd.h"

void http_log_route(struct http_exchange *ex)
{
    if (ex->body.size == 0) {
        http_respond_error(ex, 400, "the body is the text to append: it is empty");
        return;
    }
    if (ex->body.size > SYN_LOG_TEXT_SIZE_MAX) {
        http_respond_error(ex, 413, "the text is longer than %u bytes", SYN_LOG_TEXT_SIZE_MAX);
        return;
    }
    struct kv_bytes prefix = {.data = (const uint8_t *)KV_LOG_PREFIX,
                              .size = sizeof(KV_LOG_PREFIX) - 1};
    struct kv_bytes text = {.data = ex->body.data, .size = ex->body.size};
    struct syn_buf *enc = &ex->srv->command;
    syn_buf_reset(enc);
    ex->answer = HTTP_ANSWER_LOG;
    http_kv_submit(ex, kv_cmd_encode_append(enc, service_now_ms(ex->srv->svc), prefix, text));
}

void http_log_answer(struct http_exchange *ex, uint64_t index)
{
    char digits[KV_APPEND_INDEX_DIGITS + 1];
    kv_cmd_append_index(index, digits);
    char key[sizeof(KV_LOG_PREFIX) + KV_APPEND_INDEX_DIGITS];
    memcpy(key, KV_LOG_PREFIX, sizeof(KV_LOG_PREFIX) - 1);
    memcpy(key + sizeof(KV_LOG_PREFIX) - 1, digits, sizeof(digits));
    struct syn_buf *b = &ex->srv->body;
    syn_buf_reset(b);
    struct json_obj o;
    json_obj_begin(&o, b);
    json_obj_u64(&o, "index", index);
    json_obj_str(&o, "key", key);
    int rc = json_obj_end(&o);
    rc = rc == 0 ? syn_buf_append(b, "\n", 1) : rc;
    if (rc != 0) {
        http_respond_error(ex, 500, "out of memory");
    } else {
        http_respond_json(ex, 200, b);
    }
    syn_buf_reset(b);
}
