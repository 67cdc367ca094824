/* cli_kv.c: Consul KV requests and answers for `synod kv` (cli_kv.h). */
#include "cli/cli_kv.h"

#include <inttypes.h>
#include <string.h>

#include "api/api_server.h"
#include "base/base64.h"
#include "base/err.h"
#include "cli/cli_http.h"
#include "cli/cli_json.h"
#include "cli/cli_out.h"

int cli_kv_target(struct syn_buf *out, const char *key, const char *const *params,
                  uint32_t param_count)
{
    int rc = syn_buf_append(out, "/v1/kv/", 7);
    rc = rc == 0 ? cli_http_path_append(out, (const uint8_t *)key, strlen(key)) : rc;
    for (uint32_t i = 0; i < param_count && rc == 0; i++) {
        rc = syn_buf_append(out, i == 0 ? "?" : "&", 1);
        rc = rc == 0 ? syn_buf_append(out, params[i], strlen(params[i])) : rc;
    }
    return rc == 0 ? syn_buf_append(out, "", 1) : rc;
}

int cli_kv_result(const uint8_t *body, size_t size)
{
    struct cli_json j;
    int rc = cli_json_parse(&j, body, size);
    uint8_t type = rc == 0 ? cli_json_type(&j, 0) : 0;
    cli_json_free(&j);
    return type == CLI_JSON_TRUE ? 1 : type == CLI_JSON_FALSE ? 0 : SYN_EBADMSG;
}

/* A JSON array at body (a listing), or SYN_EBADMSG. */
static int array_parse(struct cli_json *j, const uint8_t *body, size_t size)
{
    int rc = cli_json_parse(j, body, size);
    return rc == 0 && cli_json_type(j, 0) != CLI_JSON_ARRAY ? SYN_EBADMSG : rc;
}

int cli_kv_keys_text(const uint8_t *body, size_t size, struct syn_buf *out)
{
    struct cli_json j;
    int rc = array_parse(&j, body, size);
    struct syn_buf key;
    syn_buf_init(&key, 0);
    for (uint32_t k = rc == 0 ? cli_json_first(&j, 0) : CLI_JSON_NONE;
         k != CLI_JSON_NONE && rc == 0; k = cli_json_next(&j, 0, k)) {
        syn_buf_reset(&key);
        rc = cli_json_string(&j, k, &key) == 0 ? 0 : SYN_EBADMSG;
        rc = rc == 0 ? cli_out_escape(out, key.data, key.len) : rc;
        rc = rc == 0 ? syn_buf_append(out, "\n", 1) : rc;
    }
    syn_buf_free(&key);
    cli_json_free(&j);
    return rc;
}

/* One entry's row: its key, flags and value. */
static int entry_row(const struct cli_json *j, uint32_t e, struct cli_table *t,
                     struct syn_buf *scratch)
{
    uint64_t flags = 0;
    uint32_t value = cli_json_get(j, e, "Value");
    uint32_t flags_tok = cli_json_get(j, e, "Flags");
    if (flags_tok != CLI_JSON_NONE && !cli_json_u64(j, flags_tok, &flags)) {
        return SYN_EBADMSG;
    }
    struct syn_buf raw;
    syn_buf_init(&raw, 0);
    syn_buf_reset(scratch);
    int rc = cli_json_string(j, cli_json_get(j, e, "Key"), &raw) == 0 ? 0 : SYN_EBADMSG;
    rc = rc == 0 ? cli_out_escape(scratch, raw.data, raw.len) : rc;
    rc = rc == 0 ? syn_buf_append(scratch, "", 1) : rc;
    if (rc == 0) {
        cli_table_add(t, "%s", (const char *)scratch->data);
        cli_table_add(t, "%" PRIu64, flags);
    }
    syn_buf_reset(&raw);
    syn_buf_reset(scratch);
    if (rc == 0 && cli_json_type(j, value) == CLI_JSON_STRING) {
        struct syn_buf text;
        syn_buf_init(&text, 0);
        rc = cli_json_string(j, value, &text) == 0 ? 0 : SYN_EBADMSG;
        rc = rc == 0 ? syn_base64_decode(&raw, text.data, text.len) : rc;
        syn_buf_free(&text);
    } else if (rc == 0 && cli_json_type(j, value) != CLI_JSON_NULL) {
        rc = SYN_EBADMSG; /* null is Consul's empty value */
    }
    rc = rc == 0 ? cli_out_escape(scratch, raw.data, raw.len) : rc;
    rc = rc == 0 ? syn_buf_append(scratch, "", 1) : rc;
    if (rc == 0) {
        cli_table_add(t, "%s", (const char *)scratch->data);
    }
    syn_buf_free(&raw);
    return rc;
}

int cli_kv_entries_text(const uint8_t *body, size_t size, struct syn_buf *out)
{
    struct cli_json j;
    int rc = array_parse(&j, body, size);
    struct cli_table t;
    cli_table_init(&t, 3);
    cli_table_add(&t, "KEY");
    cli_table_add(&t, "FLAGS");
    cli_table_add(&t, "VALUE");
    struct syn_buf scratch;
    syn_buf_init(&scratch, 0);
    for (uint32_t e = rc == 0 ? cli_json_first(&j, 0) : CLI_JSON_NONE;
         e != CLI_JSON_NONE && rc == 0; e = cli_json_next(&j, 0, e)) {
        rc = entry_row(&j, e, &t, &scratch);
    }
    rc = rc == 0 ? cli_table_format(&t, out) : rc;
    syn_buf_free(&scratch);
    cli_table_free(&t);
    cli_json_free(&j);
    return rc;
}
