/* http_kv.c: Consul's KV API on /v1/kv/<key> (docs/api.md "KV"): GET (one key, ?recurse,
 * ?keys with ?separator, ?raw), PUT (?flags, ?cas) and DELETE (?recurse, ?cas), the
 * consistency modes (default and ?consistent: linearizable through ReadIndex; ?stale: this
 * node's store as it is), and blocking queries (?index with ?wait) woken by the store's
 * changes. Writes are state machine commands (KV_OP_PUT, KV_OP_DELETE) through Raft. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http_kv_internal.h"
#include "api/http_log.h"
#include "api/json.h"
#include "base/assert.h"
#include "base/base64.h"
#include "base/err.h"
#include "base/num.h"

/* ---- Parsing the request ------------------------------------------------------------- */

static bool query_u64(struct http_slice query, const char *name, uint64_t *out, bool *bad)
{
    struct http_slice v;
    if (!http_query_find(query, name, &v)) {
        return false;
    }
    int64_t parsed = 0;
    if (!syn_i64_parse(v.data, v.size, &parsed) || parsed < 0) {
        *bad = true;
        return false;
    }
    *out = (uint64_t)parsed;
    return true;
}

/* Consul's ?wait: a Go duration ("10s", "500ms", "5m", "1h"); a bare number is seconds. */
static bool wait_parse(struct http_slice v, uint64_t *ms_out)
{
    size_t digits = 0;
    while (digits < v.size && v.data[digits] >= '0' && v.data[digits] <= '9') {
        digits++;
    }
    int64_t n = 0;
    if (digits == 0 || digits > 9 || !syn_i64_parse(v.data, digits, &n)) {
        return false;
    }
    struct http_slice unit = {v.data + digits, v.size - digits};
    uint64_t scale = unit.size == 0 || http_slice_is(unit, "s") ? 1000
                     : http_slice_is(unit, "ms")               ? 1
                     : http_slice_is(unit, "m")                ? 60000
                     : http_slice_is(unit, "h")                ? 3600000
                                                               : 0;
    *ms_out = (uint64_t)n * scale;
    return scale != 0;
}

bool http_kv_parse_common(struct http_exchange *ex, struct http_kv_query *q)
{
    struct http_slice query = ex->req->query;
    q->stale = http_query_has(query, "stale");
    bool bad = false;
    q->has_index = query_u64(query, "index", &q->index, &bad);
    if (bad) {
        http_respond_error(ex, 400, "?index takes a non-negative integer");
        return false;
    }
    q->wait_ms = HTTP_KV_WAIT_MS_DEFAULT;
    struct http_slice v;
    if (http_query_find(query, "wait", &v) && !wait_parse(v, &q->wait_ms)) {
        http_respond_error(ex, 400, "?wait takes a duration such as 10s, 500ms or 5m");
        return false;
    }
    if (q->wait_ms > HTTP_KV_WAIT_MS_MAX) {
        q->wait_ms = HTTP_KV_WAIT_MS_MAX;
    }
    return true;
}

/* Fills q from ex's path and query; answers and returns false when they are malformed. */
static bool request_parse(struct http_exchange *ex, struct http_kv_query *q)
{
    struct http_slice query = ex->req->query;
    *q = (struct http_kv_query){0};
    syn_buf_init(&q->key, SYN_KEY_SIZE_MAX);
    int rc = http_percent_decode(ex->tail, &q->key);
    if (rc == SYN_ETOOBIG) {
        http_respond_error(ex, 413, "the key is longer than %u bytes", SYN_KEY_SIZE_MAX);
        return false;
    }
    if (rc != 0) {
        http_respond_error(ex, 400, "the key is not valid percent-encoding");
        return false;
    }
    q->raw = http_query_has(query, "raw");
    q->recurse = http_query_has(query, "recurse");
    q->keys = http_query_has(query, "keys");
    struct http_slice v;
    if (http_query_find(query, "separator", &v)) {
        syn_buf_init(&q->separator, SYN_KEY_SIZE_MAX);
        if (http_percent_decode(v, &q->separator) != 0) {
            http_respond_error(ex, 400, "?separator is not valid percent-encoding");
            return false;
        }
    }
    bool bad = false;
    q->has_cas = query_u64(query, "cas", &q->cas, &bad);
    query_u64(query, "flags", &q->flags, &bad);
    if (bad) {
        http_respond_error(ex, 400, "?cas and ?flags take a non-negative integer");
        return false;
    }
    if (!http_kv_parse_common(ex, q)) {
        return false;
    }
    if (http_query_has(query, "acquire") || http_query_has(query, "release")) {
        http_respond_error(ex, 400, "sessions (?acquire, ?release) are not supported");
        return false;
    }
    return true;
}

void http_kv_query_free(struct http_kv_query *q)
{
    syn_buf_free(&q->key);
    syn_buf_free(&q->separator);
}

static struct kv_bytes query_key(const struct http_kv_query *q)
{
    return (struct kv_bytes){.data = q->key.data, .size = q->key.len};
}

/* ---- Answers ------------------------------------------------------------------------- */

/* A service error as HTTP: which status, and what the client should know. */
void http_kv_respond_status(struct http_exchange *ex, int status)
{
    switch (status) {
    case SYN_ETIMEDOUT:
        http_respond_error(ex, 504, "timed out: the cluster did not commit in time; a write "
                                    "may or may not have been applied");
        break;
    case SYN_ENOQUORUM:
        http_respond_error(ex, 503, "no quorum: no leader could be reached; a write may or "
                                    "may not have been applied");
        break;
    case SYN_ENOTLEADER:
    case SYN_ESTALE:
        http_respond_error(ex, 503, "leadership changed before the write committed: it was "
                                    "not applied; retry");
        break;
    case SYN_EBUSY:
        http_respond_error(ex, 429, "too many requests are pending on this node");
        break;
    case SYN_ETOOBIG:
        http_respond_error(ex, 413, "the request is larger than an entry may be");
        break;
    case SYN_EIO:
    case SYN_ENOSPC:
        http_respond_error(ex, 503, "this node cannot write to its disk (%s)",
                           syn_strerror(status));
        break;
    case SYN_ESHUTDOWN:
        http_respond_error(ex, 503, "this node is shutting down");
        break;
    default:
        http_respond_error(ex, 500, "%s", syn_strerror(status));
        break;
    }
}

/* X-Consul-Index and, for reads, how current this node is. */
void http_kv_read_headers(struct http_exchange *ex, uint64_t index, char *out, size_t size)
{
    struct service_info *info = &ex->srv->info;
    service_info(ex->srv->svc, info);
    snprintf(out, size,
             "X-Consul-Index: %" PRIu64 "\r\nX-Consul-KnownLeader: %s\r\n"
             "X-Consul-LastContact: %" PRIu64 "\r\n",
             index, info->known_leader ? "true" : "false", info->last_contact_ms);
}

/* ---- Reads --------------------------------------------------------------------------- */

struct list_ctx {
    struct syn_buf *body;
    const struct http_kv_query *q;
    uint32_t count;
    struct syn_buf last_folded; /* ?keys&separator: the last key folded, to skip repeats */
};

static int entry_append(struct syn_buf *b, struct kv_bytes key, const uint8_t *value,
                        size_t value_size, const struct kv_meta_entry *meta)
{
    struct json_obj o;
    json_obj_begin(&o, b);
    json_obj_u64(&o, "LockIndex", 0);
    if (json_obj_key(&o, "Key")) {
        o.rc = json_append_string(b, key.data, key.size);
    }
    json_obj_u64(&o, "Flags", meta->user_flags);
    if (value_size == 0) {
        json_obj_null(&o, "Value");
    } else if (json_obj_key(&o, "Value")) {
        o.rc = syn_buf_append(b, "\"", 1);
        if (o.rc == 0) {
            o.rc = syn_base64_append(b, value, value_size);
        }
        if (o.rc == 0) {
            o.rc = syn_buf_append(b, "\"", 1);
        }
    }
    json_obj_u64(&o, "CreateIndex", meta->create_index);
    json_obj_u64(&o, "ModifyIndex", meta->modify_index);
    return json_obj_end(&o);
}

static int list_entry(void *ctx, struct kv_bytes key, const uint8_t *value, size_t value_size,
                      const struct kv_meta_entry *meta)
{
    struct list_ctx *l = ctx;
    int rc = syn_buf_append(l->body, l->count == 0 ? "[" : ",", 1);
    if (rc == 0) {
        rc = entry_append(l->body, key, value, value_size, meta);
    }
    l->count++;
    return rc;
}

/* The first occurrence of needle in hay, or NULL. */
static const uint8_t *bytes_find(const uint8_t *hay, size_t hay_size, const uint8_t *needle,
                                 size_t needle_size)
{
    for (size_t i = 0; needle_size <= hay_size && i <= hay_size - needle_size; i++) {
        if (memcmp(hay + i, needle, needle_size) == 0) {
            return hay + i;
        }
    }
    return NULL;
}

/* ?keys: the keys, each cut after the first separator past the prefix (Consul's folding). */
static int list_key(void *ctx, struct kv_bytes key, const uint8_t *value, size_t value_size,
                    const struct kv_meta_entry *meta)
{
    (void)value;
    (void)value_size;
    (void)meta;
    struct list_ctx *l = ctx;
    const struct syn_buf *sep = &l->q->separator;
    size_t prefix = l->q->key.len;
    if (sep->len > 0 && key.size > prefix) {
        const uint8_t *hit = bytes_find(key.data + prefix, key.size - prefix, sep->data, sep->len);
        if (hit != NULL) {
            key.size = (size_t)(hit - key.data) + sep->len;
        }
        if (l->count > 0 && l->last_folded.len == key.size &&
            memcmp(l->last_folded.data, key.data, key.size) == 0) {
            return 0;
        }
        syn_buf_reset(&l->last_folded);
        int rc = syn_buf_append(&l->last_folded, key.data, key.size);
        if (rc != 0) {
            return rc;
        }
    }
    int rc = syn_buf_append(l->body, l->count == 0 ? "[" : ",", 1);
    if (rc == 0) {
        rc = json_append_string(l->body, key.data, key.size);
    }
    l->count++;
    return rc;
}

int http_kv_evaluate(struct http_server *srv, const struct http_kv_query *q,
                     struct http_kv_result *out)
{
    struct kv_store *kv = service_kv(srv->svc);
    uint64_t now = service_now_ms(srv->svc);
    struct syn_buf *body = &srv->body;
    syn_buf_reset(body);
    *out = (struct http_kv_result){.status = 200};
    if (q->registry) {
        return http_reg_evaluate(srv, q, out);
    }
    if (!q->recurse && !q->keys) {
        struct kv_meta_entry meta;
        int rc = kv_get_entry(kv, query_key(q), now, &srv->value, &meta);
        if (rc == SYN_ENOENT) {
            *out = (struct http_kv_result){.status = 404, .index = kv_absent_index(kv)};
            return 0;
        }
        if (rc != 0) {
            return rc;
        }
        out->index = meta.modify_index;
        if (q->raw) {
            out->raw = true;
            return syn_buf_append(body, srv->value.data, srv->value.len);
        }
        rc = syn_buf_append(body, "[", 1);
        if (rc == 0) {
            rc = entry_append(body, query_key(q), srv->value.data, srv->value.len, &meta);
        }
        return rc == 0 ? syn_buf_append(body, "]", 1) : rc;
    }
    struct list_ctx l = {.body = body, .q = q};
    syn_buf_init(&l.last_folded, SYN_KEY_SIZE_MAX);
    int rc = kv_list(kv, query_key(q), !q->keys, now, q->keys ? list_key : list_entry, &l,
                     &out->index);
    syn_buf_free(&l.last_folded);
    if (rc == 0 && l.count == 0) {
        out->status = 404;
        syn_buf_reset(body);
    } else if (rc == 0) {
        rc = syn_buf_append(body, "]", 1);
    }
    return rc;
}

void http_kv_answer(struct http_exchange *ex, const struct http_kv_query *q)
{
    struct http_kv_result res;
    int rc = http_kv_evaluate(ex->srv, q, &res);
    if (rc == SYN_ETOOBIG) {
        http_respond_error(ex, 413, "the answer is larger than %u bytes: list a narrower "
                                    "prefix, or use ?keys",
                           SYN_HTTP_RESPONSE_SIZE_MAX);
        return;
    }
    if (rc != 0) {
        http_respond_error(ex, 500, "reading the store: %s", syn_strerror(rc));
        return;
    }
    char headers[256];
    http_kv_read_headers(ex, res.index, headers, sizeof(headers));
    struct syn_buf *body = &ex->srv->body;
    if (res.status == 404) {
        http_respond(ex, 404, NULL, "", 0, headers);
    } else if (res.raw) {
        http_respond(ex, 200, "application/octet-stream", body->data, body->len, headers);
    } else {
        http_respond(ex, 200, "application/json", body->data, body->len, headers);
    }
    syn_buf_reset(body);
}

/* A read has its consistency: answer it now, or wait for a change (?index). */
static void read_ready(struct http_exchange *ex, struct http_kv_query *q)
{
    if (q->has_index && q->index > 0) {
        struct http_kv_result res;
        int rc = http_kv_evaluate(ex->srv, q, &res);
        syn_buf_reset(&ex->srv->body);
        if (rc == 0 && res.index <= q->index && http_kv_wait(ex, q) == 0) {
            return; /* the waiter owns q now */
        }
    }
    http_kv_answer(ex, q);
    http_kv_query_free(q);
    free(q);
}

struct pending {
    struct http_exchange *ex;
    struct http_kv_query *q;
};

static void on_read(void *ctx, int status)
{
    struct pending *p = ctx;
    struct http_exchange *ex = p->ex;
    struct http_kv_query *q = p->q;
    struct api_conn *conn = &ex->conn->base;
    free(p);
    if (status != 0) {
        http_kv_respond_status(ex, status);
        http_kv_query_free(q);
        free(q);
    } else {
        read_ready(ex, q);
    }
    api_conn_release(conn);
}

void http_kv_read(struct http_exchange *ex, struct http_kv_query *q)
{
    if (q->stale) {
        read_ready(ex, q);
        return;
    }
    struct pending *p = malloc(sizeof(*p));
    int rc = p == NULL ? SYN_ENOMEM : service_read(ex->srv->svc, on_read, p);
    if (rc != 0) {
        free(p);
        http_kv_respond_status(ex, rc);
        http_kv_query_free(q);
        free(q);
        return;
    }
    *p = (struct pending){.ex = ex, .q = q};
    api_conn_hold(&ex->conn->base);
}

/* ---- Writes -------------------------------------------------------------------------- */

static void on_write(void *ctx, int status, const struct kv_result *result)
{
    struct http_exchange *ex = ctx;
    struct api_conn *conn = &ex->conn->base;
    if (status != 0) {
        http_kv_respond_status(ex, status);
    } else if (result->kind != KV_RESULT_INTEGER) {
        http_respond_error(ex, 500, "the write failed: %.*s", (int)result->data.len,
                           (const char *)result->data.data);
    } else if (ex->answer == HTTP_ANSWER_LOG) {
        http_log_answer(ex, (uint64_t)result->integer);
    } else if (ex->answer == HTTP_ANSWER_BOOL) {
        const char *text = result->integer == 1 ? "true" : "false";
        http_respond(ex, 200, "application/json", text, strlen(text), NULL);
    } else if (result->integer == 0) {
        http_respond_error(ex, 404, "%s", ex->answer_404);
    } else {
        http_respond(ex, 200, NULL, "", 0, NULL);
    }
    api_conn_release(conn);
}

void http_kv_submit(struct http_exchange *ex, int encode_rc)
{
    struct syn_buf *enc = &ex->srv->command;
    int rc = encode_rc;
    if (rc == 0) {
        rc = service_write(ex->srv->svc, enc->data, enc->len, on_write, ex);
    }
    syn_buf_reset(enc);
    if (rc == SYN_EINVAL) {
        http_respond_error(ex, 400, "the request is not valid");
        return;
    }
    if (rc != 0) {
        http_kv_respond_status(ex, rc);
        return;
    }
    api_conn_hold(&ex->conn->base);
}

static void write_start(struct http_exchange *ex, const struct http_kv_query *q)
{
    bool put = ex->req->method == HTTP_PUT;
    if (put && q->key.len == 0) {
        http_respond_error(ex, 400, "missing key name");
        return;
    }
    if (!put && q->recurse && q->has_cas) {
        http_respond_error(ex, 400, "?cas cannot be used with ?recurse");
        return;
    }
    struct kv_cmd cmd = {
        .op = put ? KV_OP_PUT : KV_OP_DELETE,
        .now_ms = service_now_ms(ex->srv->svc),
        .cond = q->has_cas ? KV_COND_CAS : KV_COND_NONE,
        .key = query_key(q),
        .value = put ? (struct kv_bytes){ex->body.data, ex->body.size} : (struct kv_bytes){0},
        .user_flags = q->flags,
        .cas_index = q->cas,
        .recurse = !put && q->recurse,
    };
    struct syn_buf *enc = &ex->srv->command;
    syn_buf_reset(enc);
    ex->answer = HTTP_ANSWER_BOOL;
    http_kv_submit(ex, kv_cmd_encode_consul(enc, &cmd));
}

void http_kv_route(struct http_exchange *ex)
{
    struct http_kv_query *q = malloc(sizeof(*q));
    if (q == NULL) {
        http_respond_error(ex, 500, "out of memory");
        return;
    }
    if (!request_parse(ex, q)) {
        http_kv_query_free(q);
        free(q);
        return;
    }
    if (ex->req->method == HTTP_GET || ex->req->method == HTTP_HEAD) {
        http_kv_read(ex, q); /* takes q */
        return;
    }
    write_start(ex, q);
    http_kv_query_free(q);
    free(q);
}
