/* cli_log.c: a node's copy of the replicated log, read and shown (cli_log.h). */
#include "cli/cli_log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/json.h"
#include "base/base64.h"
#include "base/err.h"
#include "cli/cli_json.h"
#include "cli/cli_out.h"
#include "cli/cli_time.h"
#include "kv/kv_cmd.h"

/* The index in key: KV_LOG_PREFIX and KV_APPEND_INDEX_DIGITS digits. */
static bool key_index(const struct syn_buf *key, uint64_t *index)
{
    size_t p = sizeof(KV_LOG_PREFIX) - 1;
    if (key->len != p + KV_APPEND_INDEX_DIGITS || memcmp(key->data, KV_LOG_PREFIX, p) != 0) {
        return false;
    }
    uint64_t v = 0;
    for (size_t i = p; i < key->len; i++) {
        uint8_t c = key->data[i];
        if (c < '0' || c > '9' || v > (UINT64_MAX - (uint64_t)(c - '0')) / 10u) {
            return false;
        }
        v = v * 10u + (uint64_t)(c - '0');
    }
    *index = v;
    return true;
}

/* Entry e of the answer into item (a struct cli_log_entry): 1 when it is not the log's. */
static int entry_read(const struct cli_json *j, uint32_t e, void *item)
{
    struct cli_log_entry *out = item;
    struct syn_buf key, b64;
    syn_buf_init(&key, 0);
    syn_buf_init(&b64, 0);
    syn_buf_init(&out->text, 0);
    uint32_t value = cli_json_get(j, e, "Value");
    uint32_t flags = cli_json_get(j, e, "Flags");
    int rc = cli_json_string(j, cli_json_get(j, e, "Key"), &key) == 0 ? 0 : SYN_EBADMSG;
    bool keep = rc == 0 && key_index(&key, &out->index);
    if (rc == 0 && flags != CLI_JSON_NONE && !cli_json_u64(j, flags, &out->time_ms)) {
        rc = SYN_EBADMSG;
    }
    if (rc == 0 && cli_json_type(j, value) == CLI_JSON_STRING) {
        rc = cli_json_string(j, value, &b64) == 0 ? 0 : SYN_EBADMSG;
        rc = rc == 0 ? syn_base64_decode(&out->text, b64.data, b64.len) : rc;
    } else if (rc == 0 && cli_json_type(j, value) != CLI_JSON_NULL) {
        rc = SYN_EBADMSG; /* null is Consul's empty value */
    }
    syn_buf_free(&key);
    syn_buf_free(&b64);
    if (rc != 0 || !keep) {
        syn_buf_free(&out->text); /* the slot is used again */
    }
    return rc != 0 ? rc : keep ? 0 : 1;
}

int cli_log_parse(const uint8_t *body, size_t size, struct cli_log *log)
{
    void *items = NULL;
    int rc = cli_json_read_array(body, size, sizeof(*log->items), entry_read, &items, &log->count);
    log->items = items;
    return rc;
}

void cli_log_free(struct cli_log *log)
{
    for (uint32_t i = 0; i < log->count; i++) {
        syn_buf_free(&log->items[i].text);
    }
    free(log->items);
    *log = (struct cli_log){0};
}

int cli_log_entry_text(const struct cli_log_entry *e, struct syn_buf *out)
{
    char time[CLI_TIME_SIZE];
    cli_time_format(e->time_ms, time);
    char head[CLI_TIME_SIZE + 32];
    int n = snprintf(head, sizeof(head), "%-6" PRIu64 "  %s  ", e->index, time);
    size_t start = out->len;
    int rc = syn_buf_append(out, head, n > 0 ? (size_t)n : 0);
    rc = rc == 0 ? cli_out_escape(out, e->text.data, e->text.len) : rc;
    rc = rc == 0 ? syn_buf_append(out, "\n", 1) : rc;
    if (rc != 0) {
        out->len = start;
    }
    return rc;
}

int cli_log_entry_json(const struct cli_log_entry *e, struct syn_buf *out)
{
    char time[CLI_TIME_SIZE];
    cli_time_format(e->time_ms, time);
    struct json_obj o;
    json_obj_begin(&o, out);
    json_obj_u64(&o, "index", e->index);
    json_obj_str(&o, "time", time);
    json_obj_u64(&o, "time_ms", e->time_ms);
    if (json_obj_key(&o, "text")) {
        o.rc =
            json_append_string(out, e->text.len > 0 ? (const void *)e->text.data : "", e->text.len);
    }
    int rc = json_obj_end(&o);
    return rc == 0 ? syn_buf_append(out, "\n", 1) : rc;
}
