/* resp_cmd_kv.c: the data commands. Writes (SET, DEL, INCR, INCRBY, DECR, DECRBY, MSET) are
 * checked and encoded as state-machine commands (kv_cmd.h) stamped with the service's clock,
 * then go through service_write(); their replies are the state machine's results. Reads
 * (GET, MGET, EXISTS, SCAN, DBSIZE) keep their arguments in the slot and run on the store
 * once service_read() says it is current. Arguments and messages follow Redis 7 (SET IFEQ
 * follows Valkey 8.1). docs/resp.md. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "api/resp_server_internal.h"
#include "base/assert.h"
#include "base/err.h"
#include "kv/kv_store.h"

#define ERR_NOT_INTEGER "value is not an integer or out of range"

static struct kv_bytes arg_bytes(const struct resp_arg *a)
{
    return (struct kv_bytes){.data = a->data, .size = a->size};
}

static bool key_ok(struct resp_call *call, const struct resp_arg *key)
{
    if (key->size > SYN_KEY_SIZE_MAX) {
        resp_out_error(&call->out, "ERR", "key is too large: %zu bytes, the limit is %u", key->size,
                       SYN_KEY_SIZE_MAX);
        return false;
    }
    return true;
}

static bool keys_ok(struct resp_call *call, uint32_t first, uint32_t step)
{
    for (uint32_t i = first; i < call->argc; i += step) {
        if (!key_ok(call, &call->args[i])) {
            return false;
        }
    }
    return true;
}

static bool value_ok(struct resp_call *call, const struct resp_arg *value, const char *what)
{
    if (value->size > SYN_VALUE_SIZE_MAX) {
        resp_out_error(&call->out, "ERR", "%s is too large: %zu bytes, the limit is %u", what,
                       value->size, SYN_VALUE_SIZE_MAX);
        return false;
    }
    return true;
}

/* ---- Writes -------------------------------------------------------------------------- */

/* rc from a kv_cmd_encode_*() into the scratch buffer: on success the encoded command moves
 * into a new write slot. */
static void push_write(struct resp_call *call, int rc)
{
    struct resp_server *srv = call->srv;
    struct resp_slot *s = NULL;
    if (rc == 0) {
        s = resp_slot_push(call->conn, RESP_SLOT_WRITE);
        rc = s == NULL ? SYN_ENOMEM : 0;
    }
    if (rc != 0) {
        syn_buf_reset(&srv->scratch);
        if (rc == SYN_ETOOBIG) {
            resp_out_error(&call->out, "ERR",
                           "the command is too large for one log entry "
                           "(%u bytes): send fewer or smaller values",
                           SYN_ENTRY_SIZE_MAX);
        } else {
            resp_out_error(&call->out, "ERR", "%s", syn_strerror(rc));
        }
        return;
    }
    struct syn_buf t = s->body; /* the slot takes the encoding, scratch gets its empty buffer */
    s->body = srv->scratch;
    srv->scratch = t;
    syn_buf_reset(&srv->scratch);
}

/* Turns SET's expiry option into an absolute unix time in ms; false after replying. */
static bool set_expiry(struct resp_call *call, const struct resp_arg *opt,
                       const struct resp_arg *value, uint64_t now, uint64_t *expire_at)
{
    int64_t v = 0;
    if (!resp_arg_i64(value, &v)) {
        resp_out_error(&call->out, "ERR", ERR_NOT_INTEGER);
        return false;
    }
    bool seconds = resp_arg_is(opt, "ex") || resp_arg_is(opt, "exat");
    bool relative = resp_arg_is(opt, "ex") || resp_arg_is(opt, "px");
    if (v <= 0 || (seconds && v > INT64_MAX / 1000)) {
        resp_out_error(&call->out, "ERR", "invalid expire time in 'set' command");
        return false;
    }
    uint64_t ms = (uint64_t)v * (seconds ? 1000u : 1u);
    if (relative && ms > (uint64_t)INT64_MAX - now) {
        resp_out_error(&call->out, "ERR", "invalid expire time in 'set' command");
        return false;
    }
    *expire_at = relative ? now + ms : ms;
    return true;
}

static bool is_expiry_option(const struct resp_arg *a)
{
    return resp_arg_is(a, "ex") || resp_arg_is(a, "px") || resp_arg_is(a, "exat") ||
           resp_arg_is(a, "pxat");
}

/* SET's options after key and value into c; false after replying. */
static bool set_options(struct resp_call *call, uint64_t now, struct kv_cmd *c)
{
    const struct resp_arg *a = call->args;
    bool expiry = false;
    for (uint32_t i = 3; i < call->argc; i++) {
        bool more = i + 1 < call->argc;
        uint8_t cond = resp_arg_is(&a[i], "nx")     ? KV_COND_NX
                       : resp_arg_is(&a[i], "xx")   ? KV_COND_XX
                       : resp_arg_is(&a[i], "ifeq") ? KV_COND_IFEQ
                                                    : KV_COND_NONE;
        if (cond != KV_COND_NONE && (c->cond == KV_COND_NONE || c->cond == cond) &&
            (cond != KV_COND_IFEQ || more)) {
            c->cond = cond;
            if (cond == KV_COND_IFEQ) {
                c->expected = arg_bytes(&a[++i]);
            }
        } else if (resp_arg_is(&a[i], "get")) {
            c->flags |= KV_SET_GET;
        } else if (is_expiry_option(&a[i]) && !expiry && more) {
            if (!set_expiry(call, &a[i], &a[i + 1], now, &c->expire_at_ms)) {
                return false;
            }
            expiry = true;
            i++;
        } else if (resp_arg_is(&a[i], "keepttl") && !expiry) {
            resp_out_error(&call->out, "ERR",
                           "KEEPTTL is not supported by synod: a SET "
                           "without an expiry clears the key's TTL");
            return false;
        } else {
            resp_out_error(&call->out, "ERR", "syntax error");
            return false;
        }
    }
    return true;
}

/* SET key value [NX | XX | IFEQ old] [GET] [EX s | PX ms | EXAT s | PXAT ms] */
void resp_cmd_set(struct resp_call *call)
{
    uint64_t now = service_now_ms(call->srv->svc);
    struct kv_cmd c = {
        .now_ms = now, .key = arg_bytes(&call->args[1]), .value = arg_bytes(&call->args[2])};
    if (!set_options(call, now, &c) || !key_ok(call, &call->args[1]) ||
        !value_ok(call, &call->args[2], "value")) {
        return;
    }
    if (c.cond == KV_COND_IFEQ && c.expected.size > SYN_VALUE_SIZE_MAX) {
        resp_out_error(&call->out, "ERR", "IFEQ value is too large: %zu bytes, the limit is %u",
                       c.expected.size, SYN_VALUE_SIZE_MAX);
        return;
    }
    push_write(call, kv_cmd_encode_set(&call->srv->scratch, &c));
}

static void incrby(struct resp_call *call, int64_t delta)
{
    if (key_ok(call, &call->args[1])) {
        uint64_t now = service_now_ms(call->srv->svc);
        push_write(
            call, kv_cmd_encode_incrby(&call->srv->scratch, now, arg_bytes(&call->args[1]), delta));
    }
}

void resp_cmd_incr(struct resp_call *call)
{
    incrby(call, 1);
}

void resp_cmd_decr(struct resp_call *call)
{
    incrby(call, -1);
}

void resp_cmd_incrby(struct resp_call *call)
{
    int64_t delta = 0;
    if (!resp_arg_i64(&call->args[2], &delta)) {
        resp_out_error(&call->out, "ERR", ERR_NOT_INTEGER);
        return;
    }
    incrby(call, delta);
}

void resp_cmd_decrby(struct resp_call *call)
{
    int64_t delta = 0;
    if (!resp_arg_i64(&call->args[2], &delta)) {
        resp_out_error(&call->out, "ERR", ERR_NOT_INTEGER);
        return;
    }
    if (delta == INT64_MIN) {
        resp_out_error(&call->out, "ERR", "decrement would overflow");
        return;
    }
    incrby(call, -delta);
}

/* DEL and MSET: the arguments after the name are the command's items. */
static void items_write(struct resp_call *call, uint8_t op)
{
    struct resp_server *srv = call->srv;
    uint32_t n = call->argc - 1;
    ASSERT(n <= SYN_KV_KEYS_MAX); /* the parser's argument limit */
    for (uint32_t i = 0; i < n; i++) {
        srv->keys[i] = arg_bytes(&call->args[i + 1]);
    }
    uint64_t now = service_now_ms(srv->svc);
    push_write(call, kv_cmd_encode_items(&srv->scratch, op, now, srv->keys, n));
}

void resp_cmd_del(struct resp_call *call)
{
    if (keys_ok(call, 1, 1)) {
        items_write(call, KV_OP_DEL);
    }
}

void resp_cmd_mset(struct resp_call *call)
{
    if (call->argc % 2 == 0) {
        resp_reply_arity(call);
        return;
    }
    for (uint32_t i = 2; i < call->argc; i += 2) {
        if (!value_ok(call, &call->args[i], "value")) {
            return;
        }
    }
    if (keys_ok(call, 1, 2)) {
        items_write(call, KV_OP_MSET);
    }
}

/* ---- Reads: submission --------------------------------------------------------------- */

/* A read slot with the arguments from first on saved as (u32 size, bytes). */
static struct resp_slot *push_read(struct resp_call *call, uint8_t op, uint32_t first)
{
    struct resp_slot *s = resp_slot_push(call->conn, RESP_SLOT_READ);
    int rc = s == NULL ? SYN_ENOMEM : 0;
    for (uint32_t i = first; i < call->argc && rc == 0; i++) {
        rc = syn_buf_append_u32le(&s->body, (uint32_t)call->args[i].size);
        if (rc == 0) {
            rc = syn_buf_append(&s->body, call->args[i].data, call->args[i].size);
        }
    }
    if (rc != 0) {
        /* A slot without its arguments cannot run: the connection cannot go on. */
        resp_out_error(&call->out, "ERR", "out of memory");
        api_conn_close(&call->conn->base);
        return NULL;
    }
    s->read_op = op;
    return s;
}

void resp_cmd_get(struct resp_call *call)
{
    if (key_ok(call, &call->args[1])) {
        push_read(call, RESP_READ_GET, 1);
    }
}

void resp_cmd_mget(struct resp_call *call)
{
    if (keys_ok(call, 1, 1)) {
        push_read(call, RESP_READ_MGET, 1);
    }
}

void resp_cmd_exists(struct resp_call *call)
{
    if (keys_ok(call, 1, 1)) {
        push_read(call, RESP_READ_EXISTS, 1);
    }
}

void resp_cmd_dbsize(struct resp_call *call)
{
    push_read(call, RESP_READ_DBSIZE, call->argc);
}

static bool cursor_parse(const struct resp_arg *a, uint64_t *out)
{
    if (a->size == 0 || a->size > 20) {
        return false;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < a->size; i++) {
        uint8_t d = a->data[i];
        if (d < '0' || d > '9' || v > (UINT64_MAX - (uint64_t)(d - '0')) / 10u) {
            return false;
        }
        v = v * 10u + (uint64_t)(d - '0');
    }
    *out = v;
    return true;
}

/* SCAN cursor [MATCH pattern] [COUNT count] [TYPE type] */
void resp_cmd_scan(struct resp_call *call)
{
    const struct resp_arg *a = call->args;
    uint64_t cursor = 0;
    if (!cursor_parse(&a[1], &cursor)) {
        resp_out_error(&call->out, "ERR", "invalid cursor");
        return;
    }
    const struct resp_arg *match = NULL;
    int64_t count = KV_SCAN_COUNT_DEFAULT;
    bool type_ok = true;
    for (uint32_t i = 2; i < call->argc; i += 2) {
        if (i + 1 >= call->argc) {
            resp_out_error(&call->out, "ERR", "syntax error");
            return;
        }
        if (resp_arg_is(&a[i], "match")) {
            match = &a[i + 1];
        } else if (resp_arg_is(&a[i], "count")) {
            if (!resp_arg_i64(&a[i + 1], &count)) {
                resp_out_error(&call->out, "ERR", ERR_NOT_INTEGER);
                return;
            }
            if (count < 1) {
                resp_out_error(&call->out, "ERR", "syntax error");
                return;
            }
        } else if (resp_arg_is(&a[i], "type")) {
            type_ok = resp_arg_is(&a[i + 1], "string"); /* every key holds a string */
        } else {
            resp_out_error(&call->out, "ERR", "syntax error");
            return;
        }
    }
    struct resp_slot *s = push_read(call, RESP_READ_SCAN, call->argc); /* no keys */
    if (s == NULL) {
        return;
    }
    s->scan_cursor = cursor;
    s->scan_count = count > SYN_KV_SCAN_COUNT_MAX ? SYN_KV_SCAN_COUNT_MAX : (uint32_t)count;
    s->scan_type_ok = type_ok;
    s->scan_match = match != NULL;
    if (match != NULL && syn_buf_append(&s->body, match->data, match->size) != 0) {
        resp_out_error(&call->out, "ERR", "out of memory");
        api_conn_close(&call->conn->base);
    }
}

/* ---- Reads: execution ---------------------------------------------------------------- */

/* Keys saved as (u32 size, bytes) into srv->keys; returns their count. */
static uint32_t saved_keys(struct resp_server *srv, const struct syn_buf *saved)
{
    uint32_t n = 0;
    size_t at = 0;
    while (at < saved->len) {
        ASSERT(n < SYN_KV_KEYS_MAX);
        ASSERT(saved->len - at >= 4);
        uint32_t size = syn_get_u32le(saved->data + at);
        at += 4;
        ASSERT(saved->len - at >= size);
        srv->keys[n++] = (struct kv_bytes){.data = saved->data + at, .size = size};
        at += size;
    }
    return n;
}

static void out_store_error(struct resp_out *o, struct kv_store *kv)
{
    o->b->len = o->start; /* drop what a failed read began */
    o->rc = 0;
    resp_out_error(o, "ERR", "reading the store failed: %s", kv_errmsg(kv));
}

static void on_mget_value(void *ctx, uint32_t i, const uint8_t *value, size_t size)
{
    struct resp_out *o = ctx;
    (void)i;
    if (value == NULL) {
        resp_out_null(o);
    } else {
        resp_out_bulk(o, value, size);
    }
}

struct scan_listing {
    struct syn_buf *keys; /* (u32 size, bytes) per key listed */
    int rc;
};

static void on_scan_key(void *ctx, const uint8_t *key, size_t size)
{
    struct scan_listing *l = ctx;
    if (l->rc == 0) {
        l->rc = syn_buf_reserve(l->keys, 4 + size);
    }
    if (l->rc == 0) {
        syn_buf_append_u32le(l->keys, (uint32_t)size); /* room reserved: cannot fail */
        syn_buf_append(l->keys, key, size);
    }
}

static int scan_execute(struct resp_server *srv, struct resp_slot *s, struct resp_out *o,
                        struct kv_store *kv, uint64_t now)
{
    struct kv_bytes pattern = {0};
    if (s->scan_match) { /* MATCH "" matches only the empty key: a pointer, not NULL */
        pattern.data = s->body.len > 0 ? s->body.data : (const uint8_t *)"";
        pattern.size = s->body.len;
    }
    uint64_t next = 0;
    syn_buf_reset(&srv->scratch);
    struct scan_listing listing = {.keys = &srv->scratch};
    int rc = kv_scan(kv, s->scan_cursor, pattern, s->scan_count, now, on_scan_key, &listing, &next);
    if (rc == 0 && listing.rc != 0) {
        resp_out_error(o, "ERR", "out of memory");
    } else if (rc == 0) {
        if (!s->scan_type_ok) {
            syn_buf_reset(&srv->scratch);
        }
        uint32_t n = saved_keys(srv, &srv->scratch);
        char text[24];
        snprintf(text, sizeof(text), "%" PRIu64, next);
        resp_out_array(o, 2);
        resp_out_bulk_str(o, text);
        resp_out_array(o, n);
        for (uint32_t i = 0; i < n; i++) {
            resp_out_bulk(o, srv->keys[i].data, srv->keys[i].size);
        }
    }
    syn_buf_reset(&srv->scratch);
    return rc;
}

void resp_read_execute(struct resp_server *srv, struct resp_slot *s, struct resp_out *o)
{
    struct kv_store *kv = service_kv(srv->svc);
    uint64_t now = service_now_ms(srv->svc);
    bool keyed = s->read_op != RESP_READ_SCAN && s->read_op != RESP_READ_DBSIZE;
    uint32_t n = keyed ? saved_keys(srv, &s->body) : 0;
    int rc = 0;
    uint32_t count = 0;
    uint64_t size = 0;
    switch (s->read_op) {
    case RESP_READ_GET:
        rc = kv_get(kv, srv->keys[0], now, &srv->value);
        if (rc == 0) {
            resp_out_bulk(o, srv->value.data, srv->value.len);
        } else if (rc == SYN_ENOENT) {
            resp_out_null(o);
            rc = 0;
        }
        break;
    case RESP_READ_MGET:
        resp_out_array(o, n);
        rc = kv_mget(kv, srv->keys, n, now, on_mget_value, o);
        break;
    case RESP_READ_EXISTS:
        rc = kv_exists(kv, srv->keys, n, now, &count);
        resp_out_integer(o, count);
        break;
    case RESP_READ_SCAN:
        rc = scan_execute(srv, s, o, kv, now);
        break;
    case RESP_READ_DBSIZE:
        rc = kv_dbsize(kv, now, &size);
        resp_out_integer(o, (int64_t)size);
        break;
    default:
        UNREACHABLE();
    }
    if (rc != 0) {
        out_store_error(o, kv);
    }
    if (srv->value.cap > SYN_VALUE_SIZE_MAX) {
        syn_buf_free(&srv->value);
    }
}
