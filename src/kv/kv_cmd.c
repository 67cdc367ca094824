/* kv_cmd.c: encoding and validating the state machine's commands and results (kv_cmd.h). */
#include "kv/kv_cmd.h"

#include <string.h>

#include "base/assert.h"
#include "base/err.h"

/* ---- Reading untrusted bytes --------------------------------------------------------- */

struct reader {
    const uint8_t *p;
    size_t left;
};

/* The next n bytes, or NULL when fewer are left. */
static const uint8_t *take(struct reader *r, size_t n)
{
    if (r->left < n) {
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    r->left -= n;
    return p;
}

static bool read_u8(struct reader *r, uint8_t *v)
{
    const uint8_t *p = take(r, 1);
    *v = p != NULL ? p[0] : 0;
    return p != NULL;
}

static bool read_u32(struct reader *r, uint32_t *v)
{
    const uint8_t *p = take(r, 4);
    *v = p != NULL ? syn_get_u32le(p) : 0;
    return p != NULL;
}

static bool read_u64(struct reader *r, uint64_t *v)
{
    const uint8_t *p = take(r, 8);
    *v = p != NULL ? syn_get_u64le(p) : 0;
    return p != NULL;
}

/* A u32 size and that many bytes, at most size_max of them. */
static bool read_str(struct reader *r, size_t size_max, struct kv_bytes *out)
{
    uint32_t size;
    if (!read_u32(r, &size) || size > size_max) {
        return false;
    }
    const uint8_t *p = take(r, size);
    *out = (struct kv_bytes){.data = p, .size = size};
    return p != NULL;
}

/* ---- Commands ------------------------------------------------------------------------ */

static int cmd_bad(struct kv_cmd *cmd, const char *why)
{
    cmd->errmsg = why;
    return SYN_EBADMSG;
}

static int decode_set(struct reader *r, struct kv_cmd *cmd)
{
    if (!read_u8(r, &cmd->cond) || !read_u8(r, &cmd->flags) || !read_u64(r, &cmd->expire_at_ms)) {
        return cmd_bad(cmd, "a SET is shorter than its fixed fields");
    }
    if (cmd->cond > KV_COND_IFEQ) {
        return cmd_bad(cmd, "a SET has an unknown condition");
    }
    if ((cmd->flags & ~KV_SET_FLAGS_ALL) != 0) {
        return cmd_bad(cmd, "a SET has unknown flags");
    }
    if (!read_str(r, SYN_KEY_SIZE_MAX, &cmd->key)) {
        return cmd_bad(cmd, "a SET's key is cut short or over the key size limit");
    }
    if (!read_str(r, SYN_VALUE_SIZE_MAX, &cmd->value)) {
        return cmd_bad(cmd, "a SET's value is cut short or over the value size limit");
    }
    if (cmd->cond == KV_COND_IFEQ && !read_str(r, SYN_VALUE_SIZE_MAX, &cmd->expected)) {
        return cmd_bad(cmd, "a SET's expected value is cut short or over the value size limit");
    }
    return 0;
}

static int decode_incrby(struct reader *r, struct kv_cmd *cmd)
{
    uint64_t delta;
    if (!read_u64(r, &delta)) {
        return cmd_bad(cmd, "an INCRBY is shorter than its fixed fields");
    }
    cmd->delta = (int64_t)delta; /* two's complement on every platform C17 runs synod on */
    if (!read_str(r, SYN_KEY_SIZE_MAX, &cmd->key)) {
        return cmd_bad(cmd, "an INCRBY's key is cut short or over the key size limit");
    }
    return 0;
}

static int decode_consul(struct reader *r, struct kv_cmd *cmd)
{
    bool put = cmd->op == KV_OP_PUT;
    uint8_t recurse = 0;
    if (!read_u8(r, &cmd->cond) || (put && !read_u64(r, &cmd->user_flags)) ||
        (!put && !read_u8(r, &recurse)) || !read_u64(r, &cmd->cas_index)) {
        return cmd_bad(cmd, "a PUT or DELETE is shorter than its fixed fields");
    }
    if ((cmd->cond != KV_COND_NONE && cmd->cond != KV_COND_CAS) || recurse > 1 ||
        (recurse == 1 && cmd->cond == KV_COND_CAS)) {
        return cmd_bad(cmd, "a PUT or DELETE has an unknown condition");
    }
    cmd->recurse = recurse == 1;
    if (!read_str(r, SYN_KEY_SIZE_MAX, &cmd->key)) {
        return cmd_bad(cmd, "a PUT's or DELETE's key is cut short or over the key size limit");
    }
    if (put && !read_str(r, SYN_VALUE_SIZE_MAX, &cmd->value)) {
        return cmd_bad(cmd, "a PUT's value is cut short or over the value size limit");
    }
    return 0;
}

static int decode_append(struct reader *r, struct kv_cmd *cmd)
{
    if (!read_str(r, KV_APPEND_PREFIX_SIZE_MAX, &cmd->key)) {
        return cmd_bad(cmd, "an APPEND's prefix is cut short or over its size limit");
    }
    if (!read_str(r, SYN_VALUE_SIZE_MAX, &cmd->value)) {
        return cmd_bad(cmd, "an APPEND's value is cut short or over the value size limit");
    }
    return 0;
}

/* DEL, EXPIRE: count keys; MSET: count items, keys and values in turn. */
static int decode_items(struct reader *r, struct kv_cmd *cmd)
{
    if (!read_u32(r, &cmd->item_count)) {
        return cmd_bad(cmd, "a command is shorter than its item count");
    }
    if (cmd->item_count == 0 || cmd->item_count > SYN_KV_KEYS_MAX) {
        return cmd_bad(cmd, "a command's item count is 0 or over the limit");
    }
    bool pairs = cmd->op == KV_OP_MSET;
    if (pairs && cmd->item_count % 2 != 0) {
        return cmd_bad(cmd, "an MSET has a key without a value");
    }
    cmd->items = r->p;
    size_t start = r->left;
    for (uint32_t i = 0; i < cmd->item_count; i++) {
        size_t size_max = pairs && i % 2 == 1 ? SYN_VALUE_SIZE_MAX : SYN_KEY_SIZE_MAX;
        struct kv_bytes item;
        if (!read_str(r, size_max, &item)) {
            return cmd_bad(cmd, "a command's item is cut short or over its size limit");
        }
    }
    cmd->items_size = start - r->left;
    return 0;
}

int kv_cmd_decode(const uint8_t *data, size_t size, struct kv_cmd *cmd)
{
    *cmd = (struct kv_cmd){0};
    if (size > SYN_ENTRY_SIZE_MAX) {
        return cmd_bad(cmd, "a command is larger than an entry may be");
    }
    struct reader r = {.p = data, .left = size};
    uint8_t version;
    if (!read_u8(&r, &version) || !read_u8(&r, &cmd->op) || !read_u64(&r, &cmd->now_ms)) {
        return cmd_bad(cmd, "a command is shorter than its header");
    }
    if (version != KV_CMD_VERSION) {
        return cmd_bad(cmd, "a command has an unknown version");
    }
    int rc;
    switch (cmd->op) {
    case KV_OP_SET:
        rc = decode_set(&r, cmd);
        break;
    case KV_OP_INCRBY:
        rc = decode_incrby(&r, cmd);
        break;
    case KV_OP_PUT:
    case KV_OP_DELETE:
        rc = decode_consul(&r, cmd);
        break;
    case KV_OP_APPEND:
        rc = decode_append(&r, cmd);
        break;
    case KV_OP_DEL:
    case KV_OP_MSET:
    case KV_OP_EXPIRE:
        rc = decode_items(&r, cmd);
        break;
    default:
        return cmd_bad(cmd, "a command has an unknown op");
    }
    if (rc != 0) {
        return rc;
    }
    if (r.left != 0) {
        return cmd_bad(cmd, "a command has trailing bytes");
    }
    return 0;
}

struct kv_bytes kv_cmd_item(const struct kv_cmd *cmd, size_t *offset)
{
    ASSERT(*offset + 4 <= cmd->items_size);
    uint32_t size = syn_get_u32le(cmd->items + *offset);
    ASSERT(size <= cmd->items_size - *offset - 4);
    struct kv_bytes item = {.data = cmd->items + *offset + 4, .size = size};
    *offset += 4 + (size_t)size;
    return item;
}

static int append_header(struct syn_buf *out, uint8_t op, uint64_t now_ms)
{
    int rc = syn_buf_append_u8(out, KV_CMD_VERSION);
    if (rc == 0) {
        rc = syn_buf_append_u8(out, op);
    }
    return rc == 0 ? syn_buf_append_u64le(out, now_ms) : rc;
}

static int append_str(struct syn_buf *out, struct kv_bytes s)
{
    int rc = syn_buf_append_u32le(out, (uint32_t)s.size);
    return rc == 0 ? syn_buf_append(out, s.data, s.size) : rc;
}

/* Ends an encoding that began at out->len == start: on failure, or when the command came out
 * larger than an entry may be, forgets what was appended. */
static int encode_end(struct syn_buf *out, size_t start, int rc)
{
    if (rc == 0 && out->len - start > SYN_ENTRY_SIZE_MAX) {
        rc = SYN_ETOOBIG;
    }
    if (rc != 0) {
        out->len = start;
    }
    return rc;
}

int kv_cmd_encode_set(struct syn_buf *out, const struct kv_cmd *cmd)
{
    bool ifeq = cmd->cond == KV_COND_IFEQ;
    if (cmd->cond > KV_COND_IFEQ || (cmd->flags & ~KV_SET_FLAGS_ALL) != 0) {
        return SYN_EINVAL;
    }
    if (!ifeq && cmd->expected.size != 0) {
        return SYN_EINVAL;
    }
    if (cmd->key.size > SYN_KEY_SIZE_MAX || cmd->value.size > SYN_VALUE_SIZE_MAX ||
        cmd->expected.size > SYN_VALUE_SIZE_MAX) {
        return SYN_ETOOBIG;
    }
    size_t start = out->len;
    int rc = append_header(out, KV_OP_SET, cmd->now_ms);
    if (rc == 0) {
        rc = syn_buf_append_u8(out, cmd->cond);
    }
    if (rc == 0) {
        rc = syn_buf_append_u8(out, cmd->flags);
    }
    if (rc == 0) {
        rc = syn_buf_append_u64le(out, cmd->expire_at_ms);
    }
    if (rc == 0) {
        rc = append_str(out, cmd->key);
    }
    if (rc == 0) {
        rc = append_str(out, cmd->value);
    }
    if (rc == 0 && ifeq) {
        rc = append_str(out, cmd->expected);
    }
    return encode_end(out, start, rc);
}

int kv_cmd_encode_incrby(struct syn_buf *out, uint64_t now_ms, struct kv_bytes key, int64_t delta)
{
    if (key.size > SYN_KEY_SIZE_MAX) {
        return SYN_ETOOBIG;
    }
    size_t start = out->len;
    int rc = append_header(out, KV_OP_INCRBY, now_ms);
    if (rc == 0) {
        rc = syn_buf_append_u64le(out, (uint64_t)delta);
    }
    if (rc == 0) {
        rc = append_str(out, key);
    }
    return encode_end(out, start, rc);
}

int kv_cmd_encode_consul(struct syn_buf *out, const struct kv_cmd *cmd)
{
    bool put = cmd->op == KV_OP_PUT;
    if ((!put && cmd->op != KV_OP_DELETE) ||
        (cmd->cond != KV_COND_NONE && cmd->cond != KV_COND_CAS) ||
        (cmd->recurse && (put || cmd->cond == KV_COND_CAS)) || (!put && cmd->value.size != 0)) {
        return SYN_EINVAL;
    }
    if (cmd->key.size > SYN_KEY_SIZE_MAX || cmd->value.size > SYN_VALUE_SIZE_MAX) {
        return SYN_ETOOBIG;
    }
    size_t start = out->len;
    int rc = append_header(out, cmd->op, cmd->now_ms);
    if (rc == 0) {
        rc = syn_buf_append_u8(out, cmd->cond);
    }
    if (rc == 0) {
        rc = put ? syn_buf_append_u64le(out, cmd->user_flags)
                 : syn_buf_append_u8(out, cmd->recurse ? 1 : 0);
    }
    if (rc == 0) {
        rc = syn_buf_append_u64le(out, cmd->cas_index);
    }
    if (rc == 0) {
        rc = append_str(out, cmd->key);
    }
    if (rc == 0 && put) {
        rc = append_str(out, cmd->value);
    }
    return encode_end(out, start, rc);
}

int kv_cmd_encode_append(struct syn_buf *out, uint64_t now_ms, struct kv_bytes prefix,
                         struct kv_bytes value)
{
    if (prefix.size > KV_APPEND_PREFIX_SIZE_MAX || value.size > SYN_VALUE_SIZE_MAX) {
        return SYN_ETOOBIG;
    }
    size_t start = out->len;
    int rc = append_header(out, KV_OP_APPEND, now_ms);
    if (rc == 0) {
        rc = append_str(out, prefix);
    }
    if (rc == 0) {
        rc = append_str(out, value);
    }
    return encode_end(out, start, rc);
}

void kv_cmd_append_index(uint64_t index, char out[KV_APPEND_INDEX_DIGITS + 1])
{
    for (uint32_t i = KV_APPEND_INDEX_DIGITS; i-- > 0;) {
        out[i] = (char)('0' + index % 10u);
        index /= 10u;
    }
    out[KV_APPEND_INDEX_DIGITS] = '\0';
}

int kv_cmd_encode_items(struct syn_buf *out, uint8_t op, uint64_t now_ms,
                        const struct kv_bytes *items, uint32_t item_count)
{
    bool pairs = op == KV_OP_MSET;
    if (op != KV_OP_DEL && op != KV_OP_EXPIRE && !pairs) {
        return SYN_EINVAL;
    }
    if (item_count == 0 || (pairs && item_count % 2 != 0)) {
        return SYN_EINVAL;
    }
    if (item_count > SYN_KV_KEYS_MAX) {
        return SYN_ETOOBIG;
    }
    for (uint32_t i = 0; i < item_count; i++) {
        size_t size_max = pairs && i % 2 == 1 ? SYN_VALUE_SIZE_MAX : SYN_KEY_SIZE_MAX;
        if (items[i].size > size_max) {
            return SYN_ETOOBIG;
        }
    }
    size_t start = out->len;
    int rc = append_header(out, op, now_ms);
    if (rc == 0) {
        rc = syn_buf_append_u32le(out, item_count);
    }
    for (uint32_t i = 0; rc == 0 && i < item_count; i++) {
        rc = append_str(out, items[i]);
        if (rc == 0 && out->len - start > SYN_ENTRY_SIZE_MAX) {
            rc = SYN_ETOOBIG; /* stop before copying megabytes that cannot be sent */
        }
    }
    return encode_end(out, start, rc);
}

/* ---- Results ------------------------------------------------------------------------- */

void kv_result_init(struct kv_result *r)
{
    *r = (struct kv_result){.kind = KV_RESULT_OK};
    syn_buf_init(&r->data, SYN_VALUE_SIZE_MAX);
}

void kv_result_free(struct kv_result *r)
{
    syn_buf_free(&r->data);
    r->kind = KV_RESULT_OK;
}

void kv_result_set(struct kv_result *r, uint8_t kind)
{
    ASSERT(kind == KV_RESULT_OK || kind == KV_RESULT_NIL);
    r->kind = kind;
    r->integer = 0;
    syn_buf_reset(&r->data);
}

void kv_result_set_integer(struct kv_result *r, int64_t integer)
{
    r->kind = KV_RESULT_INTEGER;
    r->integer = integer;
    syn_buf_reset(&r->data);
}

int kv_result_set_bulk(struct kv_result *r, const uint8_t *value, size_t size)
{
    ASSERT(size <= SYN_VALUE_SIZE_MAX);
    kv_result_set(r, KV_RESULT_NIL);
    int rc = syn_buf_append(&r->data, value, size);
    if (rc == 0) {
        r->kind = KV_RESULT_BULK;
    }
    return rc;
}

int kv_result_set_error(struct kv_result *r, const char *message)
{
    kv_result_set(r, KV_RESULT_NIL);
    size_t size = strlen(message);
    if (size > SYN_KV_ERRMSG_SIZE_MAX) {
        size = SYN_KV_ERRMSG_SIZE_MAX;
    }
    int rc = syn_buf_append(&r->data, message, size);
    if (rc != 0) {
        return rc;
    }
    for (size_t i = 0; i < size; i++) {
        if (r->data.data[i] == '\r' || r->data.data[i] == '\n') {
            r->data.data[i] = ' '; /* a RESP error is one line */
        }
    }
    r->kind = KV_RESULT_ERROR;
    return 0;
}

int kv_result_encode(const struct kv_result *r, struct syn_buf *out)
{
    ASSERT(r->kind >= KV_RESULT_OK && r->kind <= KV_RESULT_KIND_MAX);
    size_t start = out->len;
    int rc = syn_buf_append_u8(out, KV_RESULT_VERSION);
    if (rc == 0) {
        rc = syn_buf_append_u8(out, r->kind);
    }
    if (rc == 0 && r->kind == KV_RESULT_INTEGER) {
        rc = syn_buf_append_u64le(out, (uint64_t)r->integer);
    }
    if (rc == 0 && (r->kind == KV_RESULT_BULK || r->kind == KV_RESULT_ERROR)) {
        rc = append_str(out, (struct kv_bytes){.data = r->data.data, .size = r->data.len});
    }
    if (rc != 0) {
        out->len = start;
    }
    return rc;
}

static int result_bad(const char **errmsg, const char *why)
{
    *errmsg = why;
    return SYN_EBADMSG;
}

int kv_result_decode(const uint8_t *data, size_t size, struct kv_result *r, const char **errmsg)
{
    struct reader rd = {.p = data, .left = size};
    uint8_t version, kind;
    if (!read_u8(&rd, &version) || !read_u8(&rd, &kind)) {
        return result_bad(errmsg, "a result is shorter than its header");
    }
    if (version != KV_RESULT_VERSION) {
        return result_bad(errmsg, "a result has an unknown version");
    }
    uint64_t integer = 0;
    struct kv_bytes s = {0};
    switch (kind) {
    case KV_RESULT_OK:
    case KV_RESULT_NIL:
        break;
    case KV_RESULT_INTEGER:
        if (!read_u64(&rd, &integer)) {
            return result_bad(errmsg, "an integer result is cut short");
        }
        break;
    case KV_RESULT_BULK:
        if (!read_str(&rd, SYN_VALUE_SIZE_MAX, &s)) {
            return result_bad(errmsg, "a bulk result is cut short or over the value size limit");
        }
        break;
    case KV_RESULT_ERROR:
        if (!read_str(&rd, SYN_KV_ERRMSG_SIZE_MAX, &s)) {
            return result_bad(errmsg, "an error result is cut short or too long");
        }
        if (memchr(s.data, '\r', s.size) != NULL || memchr(s.data, '\n', s.size) != NULL) {
            return result_bad(errmsg, "an error result holds a line break");
        }
        break;
    default:
        return result_bad(errmsg, "a result has an unknown kind");
    }
    if (rd.left != 0) {
        return result_bad(errmsg, "a result has trailing bytes");
    }
    syn_buf_reset(&r->data);
    int rc = syn_buf_append(&r->data, s.data, s.size);
    if (rc != 0) {
        return rc;
    }
    r->kind = kind;
    r->integer = (int64_t)integer;
    return 0;
}
