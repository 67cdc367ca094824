/* test_kv_cmd.c: the state machine's codecs: command and result round trips, the layout
 * docs/kv.md gives, refusal of every truncation and malformed field, random mutations that
 * decode only to what re-encodes to the same bytes; and SCAN MATCH's glob against a direct
 * transcription of Redis's stringmatchlen() on random patterns and strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/prng.h"
#include "kv/kv_cmd.h"
#include "kv/kv_glob.h"

static struct kv_bytes str(const char *s)
{
    return (struct kv_bytes){.data = (const uint8_t *)s, .size = strlen(s)};
}

static bool bytes_eq(struct kv_bytes a, struct kv_bytes b)
{
    return a.size == b.size && (a.size == 0 || memcmp(a.data, b.data, a.size) == 0);
}

/* Re-encodes a decoded command. */
static int reencode(const struct kv_cmd *cmd, struct syn_buf *out)
{
    switch (cmd->op) {
    case KV_OP_SET:
        return kv_cmd_encode_set(out, cmd);
    case KV_OP_INCRBY:
        return kv_cmd_encode_incrby(out, cmd->now_ms, cmd->key, cmd->delta);
    case KV_OP_PUT:
    case KV_OP_DELETE:
        return kv_cmd_encode_consul(out, cmd);
    case KV_OP_APPEND:
        return kv_cmd_encode_append(out, cmd->now_ms, cmd->key, cmd->value);
    default: {
        struct kv_bytes *items = calloc(cmd->item_count, sizeof(*items));
        size_t offset = 0;
        for (uint32_t i = 0; i < cmd->item_count; i++) {
            items[i] = kv_cmd_item(cmd, &offset);
        }
        assert_int_equal(offset, cmd->items_size);
        int rc = kv_cmd_encode_items(out, cmd->op, cmd->now_ms, items, cmd->item_count);
        free(items);
        return rc;
    }
    }
}

/* ---- Commands ------------------------------------------------------------------------ */

static void test_set_round_trip(void **state)
{
    (void)state;
    struct syn_buf b;
    syn_buf_init(&b, 0);
    struct kv_cmd in = {.now_ms = 1700000000123ull,
                        .cond = KV_COND_IFEQ,
                        .flags = KV_SET_GET,
                        .expire_at_ms = 1700000060000ull,
                        .key = str("user:1"),
                        .value = str("new"),
                        .expected = str("old")};
    assert_int_equal(kv_cmd_encode_set(&b, &in), 0);
    /* The layout of docs/kv.md, by hand. */
    assert_int_equal(b.len, 10 + 10 + 4 + 6 + 4 + 3 + 4 + 3);
    assert_int_equal(b.data[0], KV_CMD_VERSION);
    assert_int_equal(b.data[1], KV_OP_SET);
    assert_int_equal(syn_get_u64le(b.data + 2), in.now_ms);
    assert_int_equal(b.data[10], KV_COND_IFEQ);
    assert_int_equal(b.data[11], KV_SET_GET);
    assert_int_equal(syn_get_u64le(b.data + 12), in.expire_at_ms);
    assert_int_equal(syn_get_u32le(b.data + 20), 6);
    assert_memory_equal(b.data + 24, "user:1", 6);
    struct kv_cmd out;
    assert_int_equal(kv_cmd_decode(b.data, b.len, &out), 0);
    assert_int_equal(out.op, KV_OP_SET);
    assert_int_equal(out.now_ms, in.now_ms);
    assert_int_equal(out.cond, KV_COND_IFEQ);
    assert_int_equal(out.flags, KV_SET_GET);
    assert_int_equal(out.expire_at_ms, in.expire_at_ms);
    assert_true(bytes_eq(out.key, in.key));
    assert_true(bytes_eq(out.value, in.value));
    assert_true(bytes_eq(out.expected, in.expected));
    /* Without IFEQ there is no expected field; empty key and value are fine. */
    syn_buf_reset(&b);
    struct kv_cmd plain = {.now_ms = 5, .cond = KV_COND_NX};
    assert_int_equal(kv_cmd_encode_set(&b, &plain), 0);
    assert_int_equal(b.len, 10 + 10 + 4 + 4);
    assert_int_equal(kv_cmd_decode(b.data, b.len, &out), 0);
    assert_int_equal(out.cond, KV_COND_NX);
    assert_int_equal(out.key.size, 0);
    assert_int_equal(out.expected.size, 0);
    syn_buf_free(&b);
}

static void test_other_round_trips(void **state)
{
    (void)state;
    struct syn_buf b;
    syn_buf_init(&b, 0);
    struct kv_cmd out;
    assert_int_equal(kv_cmd_encode_incrby(&b, 9, str("n"), INT64_MIN), 0);
    assert_int_equal(kv_cmd_decode(b.data, b.len, &out), 0);
    assert_int_equal(out.op, KV_OP_INCRBY);
    assert_true(out.delta == INT64_MIN);
    assert_true(bytes_eq(out.key, str("n")));
    struct kv_bytes items[4] = {str("a"), str("1"), str(""), str("two")};
    uint8_t ops[3] = {KV_OP_DEL, KV_OP_EXPIRE, KV_OP_MSET};
    for (int k = 0; k < 3; k++) {
        syn_buf_reset(&b);
        assert_int_equal(kv_cmd_encode_items(&b, ops[k], 77, items, 4), 0);
        assert_int_equal(kv_cmd_decode(b.data, b.len, &out), 0);
        assert_int_equal(out.op, ops[k]);
        assert_int_equal(out.now_ms, 77);
        assert_int_equal(out.item_count, 4);
        size_t offset = 0;
        for (int i = 0; i < 4; i++) {
            assert_true(bytes_eq(kv_cmd_item(&out, &offset), items[i]));
        }
        assert_int_equal(offset, out.items_size);
    }
    /* Consul's PUT and DELETE */
    struct kv_cmd put = {.op = KV_OP_PUT, .now_ms = 5, .cond = KV_COND_CAS, .cas_index = 0,
                         .user_flags = UINT64_MAX, .key = str("web/a"), .value = str("v")};
    syn_buf_reset(&b);
    assert_int_equal(kv_cmd_encode_consul(&b, &put), 0);
    assert_int_equal(kv_cmd_decode(b.data, b.len, &out), 0);
    assert_int_equal(out.op, KV_OP_PUT);
    assert_int_equal(out.cond, KV_COND_CAS);
    assert_true(out.user_flags == UINT64_MAX);
    assert_true(bytes_eq(out.key, str("web/a")) && bytes_eq(out.value, str("v")));
    struct kv_cmd del = {.op = KV_OP_DELETE, .now_ms = 5, .recurse = true, .key = str("web/")};
    syn_buf_reset(&b);
    assert_int_equal(kv_cmd_encode_consul(&b, &del), 0);
    assert_int_equal(kv_cmd_decode(b.data, b.len, &out), 0);
    assert_true(out.op == KV_OP_DELETE && out.recurse && out.cond == KV_COND_NONE);
    assert_true(bytes_eq(out.key, str("web/")));
    /* recurse with CAS, a value on a DELETE, CAS on a SET: refused */
    del.cond = KV_COND_CAS;
    assert_int_equal(kv_cmd_encode_consul(&b, &del), SYN_EINVAL);
    del = (struct kv_cmd){.op = KV_OP_DELETE, .key = str("k"), .value = str("v")};
    assert_int_equal(kv_cmd_encode_consul(&b, &del), SYN_EINVAL);
    struct kv_cmd set = {.cond = KV_COND_CAS, .key = str("k")};
    assert_int_equal(kv_cmd_encode_set(&b, &set), SYN_EINVAL);
    syn_buf_free(&b);
}

static void test_encode_limits(void **state)
{
    (void)state;
    struct syn_buf b;
    syn_buf_init(&b, 0);
    assert_int_equal(syn_buf_append(&b, "xyz", 3), 0);
    uint8_t *big = calloc(1, SYN_VALUE_SIZE_MAX + 1);
    struct kv_bytes key_over = {.data = big, .size = SYN_KEY_SIZE_MAX + 1};
    struct kv_bytes value_max = {.data = big, .size = SYN_VALUE_SIZE_MAX};
    struct kv_bytes value_over = {.data = big, .size = SYN_VALUE_SIZE_MAX + 1};
    struct kv_cmd set = {.key = str("k"), .value = value_max};
    assert_int_equal(kv_cmd_encode_set(&b, &set), 0); /* the largest single SET fits */
    b.len = 3;
    set.value = value_over;
    assert_int_equal(kv_cmd_encode_set(&b, &set), SYN_ETOOBIG);
    set = (struct kv_cmd){.key = key_over};
    assert_int_equal(kv_cmd_encode_set(&b, &set), SYN_ETOOBIG);
    set = (struct kv_cmd){.cond = KV_COND_IFEQ, .value = value_max, .expected = value_max};
    assert_int_equal(kv_cmd_encode_set(&b, &set), SYN_ETOOBIG); /* two values overflow an entry */
    set = (struct kv_cmd){.cond = KV_COND_MAX + 1};
    assert_int_equal(kv_cmd_encode_set(&b, &set), SYN_EINVAL);
    set = (struct kv_cmd){.flags = 0x80};
    assert_int_equal(kv_cmd_encode_set(&b, &set), SYN_EINVAL);
    set = (struct kv_cmd){.cond = KV_COND_NX, .expected = str("x")};
    assert_int_equal(kv_cmd_encode_set(&b, &set), SYN_EINVAL);
    assert_int_equal(kv_cmd_encode_incrby(&b, 0, key_over, 1), SYN_ETOOBIG);
    struct kv_bytes pair[3] = {str("k"), str("v"), str("k2")};
    assert_int_equal(kv_cmd_encode_items(&b, KV_OP_MSET, 0, pair, 3), SYN_EINVAL);
    assert_int_equal(kv_cmd_encode_items(&b, KV_OP_DEL, 0, pair, 0), SYN_EINVAL);
    assert_int_equal(kv_cmd_encode_items(&b, KV_OP_SET, 0, pair, 1), SYN_EINVAL);
    struct kv_bytes *many = calloc(SYN_KV_KEYS_MAX + 1, sizeof(*many));
    assert_int_equal(kv_cmd_encode_items(&b, KV_OP_DEL, 0, many, SYN_KV_KEYS_MAX + 1), SYN_ETOOBIG);
    assert_int_equal(kv_cmd_encode_items(&b, KV_OP_DEL, 0, many, SYN_KV_KEYS_MAX), 0);
    b.len = 3;
    struct kv_bytes values[4] = {str("a"), value_max, str("b"), value_max};
    assert_int_equal(kv_cmd_encode_items(&b, KV_OP_MSET, 0, values, 4), SYN_ETOOBIG);
    /* A failed encoding leaves the buffer as it was. */
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "xyz", 3);
    free(many);
    free(big);
    syn_buf_free(&b);
}

/* The replicated log's APPEND: its layout, its limits, every truncation refused, and the
 * index of a key written in 20 digits. */
static void test_append(void **state)
{
    (void)state;
    struct syn_buf b;
    syn_buf_init(&b, 0);
    assert_int_equal(kv_cmd_encode_append(&b, 0x0102, str("synod/log/"), str("hello")), 0);
    /* version, op, now_ms; the prefix; the value */
    /* clang-format off */
    static const uint8_t want[] = {KV_CMD_VERSION, KV_OP_APPEND, 2, 1, 0, 0, 0, 0, 0, 0,
                                   10, 0, 0, 0, 's', 'y', 'n', 'o', 'd', '/', 'l', 'o', 'g', '/',
                                   5, 0, 0, 0, 'h', 'e', 'l', 'l', 'o'};
    /* clang-format on */
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.data, want, sizeof(want));
    struct kv_cmd out;
    assert_int_equal(kv_cmd_decode(b.data, b.len, &out), 0);
    assert_int_equal(out.op, KV_OP_APPEND);
    assert_int_equal(out.now_ms, 0x0102);
    assert_true(bytes_eq(out.key, str("synod/log/")) && bytes_eq(out.value, str("hello")));
    for (size_t n = 0; n < b.len; n++) {
        assert_int_equal(kv_cmd_decode(b.data, n, &out), SYN_EBADMSG);
    }
    /* A prefix leaves room for the index in a key; values are values. */
    uint8_t *big = calloc(1, SYN_VALUE_SIZE_MAX + 1);
    struct kv_bytes prefix_max = {.data = big, .size = KV_APPEND_PREFIX_SIZE_MAX};
    struct kv_bytes prefix_over = {.data = big, .size = KV_APPEND_PREFIX_SIZE_MAX + 1};
    struct kv_bytes value_over = {.data = big, .size = SYN_VALUE_SIZE_MAX + 1};
    syn_buf_reset(&b);
    assert_int_equal(kv_cmd_encode_append(&b, 0, prefix_max, str("")), 0);
    assert_int_equal(kv_cmd_decode(b.data, b.len, &out), 0);
    syn_put_u32le(b.data + KV_CMD_HEADER_SIZE, KV_APPEND_PREFIX_SIZE_MAX + 1);
    assert_int_equal(kv_cmd_decode(b.data, b.len, &out), SYN_EBADMSG);
    syn_buf_reset(&b);
    assert_int_equal(kv_cmd_encode_append(&b, 0, prefix_over, str("")), SYN_ETOOBIG);
    assert_int_equal(kv_cmd_encode_append(&b, 0, str("p"), value_over), SYN_ETOOBIG);
    assert_int_equal(b.len, 0);
    free(big);
    char digits[KV_APPEND_INDEX_DIGITS + 1];
    kv_cmd_append_index(57, digits);
    assert_string_equal(digits, "00000000000000000057");
    kv_cmd_append_index(UINT64_MAX, digits);
    assert_string_equal(digits, "18446744073709551615");
    syn_buf_free(&b);
}

static void expect_bad(const uint8_t *data, size_t size)
{
    struct kv_cmd cmd;
    assert_int_equal(kv_cmd_decode(data, size, &cmd), SYN_EBADMSG);
    assert_non_null(cmd.errmsg);
}

static void test_decode_refuses(void **state)
{
    (void)state;
    struct syn_buf b;
    syn_buf_init(&b, 0);
    struct kv_cmd set = {
        .cond = KV_COND_IFEQ, .key = str("key"), .value = str("v"), .expected = str("e")};
    assert_int_equal(kv_cmd_encode_set(&b, &set), 0);
    for (size_t n = 0; n < b.len; n++) {
        expect_bad(b.data, n); /* every truncation */
    }
    assert_int_equal(syn_buf_append_u8(&b, 0), 0);
    expect_bad(b.data, b.len); /* trailing byte */
    b.len--;
    uint8_t *copy = malloc(b.len);
    struct {
        size_t at;
        uint8_t byte;
    } bad[] = {
        {0, 0},
        {0, 2}, /* version */
        {1, 0},
        {1, KV_OP_MAX + 1},    /* op */
        {10, KV_COND_MAX + 1}, /* cond */
        {11, 2},               /* flags */
        {20, 0xff},            /* key size past the end */
        {23, 0x01},            /* key size over SYN_KEY_SIZE_MAX */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memcpy(copy, b.data, b.len);
        copy[bad[i].at] = bad[i].byte;
        expect_bad(copy, b.len);
    }
    free(copy);
    /* Item counts: 0, over the limit, odd for MSET, claiming more items than bytes. */
    uint8_t items[] = {KV_CMD_VERSION, KV_OP_DEL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    expect_bad(items, sizeof(items));
    syn_put_u32le(items + 10, SYN_KV_KEYS_MAX + 1);
    expect_bad(items, sizeof(items));
    syn_put_u32le(items + 10, 1);
    expect_bad(items, sizeof(items));
    uint8_t mset[] = {KV_CMD_VERSION, KV_OP_MSET, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0};
    expect_bad(mset, sizeof(mset));
    mset[10] = 2;
    expect_bad(mset, sizeof(mset)); /* two items announced, one there */
    syn_buf_free(&b);
}

/* Random mutations of valid commands: the decoder accepts only what re-encodes to the very
 * same bytes (the encoding is canonical), and refuses the rest with a sentence. */
static void test_decode_mutations(void **state)
{
    (void)state;
    struct prng rng;
    prng_init(&rng, 7);
    struct syn_buf valid, again;
    syn_buf_init(&valid, 0);
    syn_buf_init(&again, 0);
    struct kv_bytes items[4] = {str("alpha"), str("1"), str("beta"), str("")};
    uint32_t accepted = 0;
    for (int round = 0; round < 20000; round++) {
        syn_buf_reset(&valid);
        switch (round % 6) {
        case 5:
            assert_int_equal(kv_cmd_encode_append(&valid, 9, str("synod/log/"), str("hi")), 0);
            break;
        case 4: {
            struct kv_cmd c = {.op = round % 2 ? KV_OP_PUT : KV_OP_DELETE,
                               .cond = round % 3 ? KV_COND_CAS : KV_COND_NONE,
                               .cas_index = (uint64_t)round,
                               .key = str("web/x")};
            c.value = c.op == KV_OP_PUT ? str("val") : (struct kv_bytes){0};
            c.recurse = c.op == KV_OP_DELETE && c.cond == KV_COND_NONE;
            assert_int_equal(kv_cmd_encode_consul(&valid, &c), 0);
            break;
        }
        case 0: {
            struct kv_cmd set = {
                .cond = (uint8_t)(round / 4 % 4), .key = str("k"), .value = str("vv")};
            set.expected = set.cond == KV_COND_IFEQ ? str("old") : (struct kv_bytes){0};
            assert_int_equal(kv_cmd_encode_set(&valid, &set), 0);
            break;
        }
        case 1:
            assert_int_equal(kv_cmd_encode_incrby(&valid, 3, str("counter"), -5), 0);
            break;
        case 2:
            assert_int_equal(kv_cmd_encode_items(&valid, KV_OP_MSET, 4, items, 4), 0);
            break;
        default:
            assert_int_equal(kv_cmd_encode_items(&valid, KV_OP_DEL, 4, items, 3), 0);
            break;
        }
        uint32_t flips = (uint32_t)prng_range(&rng, 1, 3);
        for (uint32_t f = 0; f < flips; f++) {
            valid.data[prng_range(&rng, 0, valid.len - 1)] = (uint8_t)prng_next(&rng);
        }
        size_t size = prng_chance(&rng, 100000) ? prng_range(&rng, 0, valid.len) : valid.len;
        struct kv_cmd cmd;
        int rc = kv_cmd_decode(valid.data, size, &cmd);
        if (rc != 0) {
            assert_int_equal(rc, SYN_EBADMSG);
            assert_non_null(cmd.errmsg);
            continue;
        }
        accepted++;
        syn_buf_reset(&again);
        assert_int_equal(reencode(&cmd, &again), 0);
        assert_int_equal(again.len, size);
        assert_memory_equal(again.data, valid.data, size);
    }
    assert_true(accepted > 1000); /* flips inside values and now_ms stay valid */
    syn_buf_free(&valid);
    syn_buf_free(&again);
}

/* ---- Results ------------------------------------------------------------------------- */

static void test_result_round_trip(void **state)
{
    (void)state;
    struct kv_result in, out;
    kv_result_init(&in);
    kv_result_init(&out);
    struct syn_buf b;
    syn_buf_init(&b, 0);
    const char *errmsg = NULL;
    for (int kind = KV_RESULT_OK; kind <= KV_RESULT_ERROR; kind++) {
        switch (kind) {
        case KV_RESULT_OK:
        case KV_RESULT_NIL:
            kv_result_set(&in, (uint8_t)kind);
            break;
        case KV_RESULT_INTEGER:
            kv_result_set_integer(&in, -42);
            break;
        case KV_RESULT_BULK:
            assert_int_equal(kv_result_set_bulk(&in, (const uint8_t *)"old\r\nvalue", 10), 0);
            break;
        default:
            assert_int_equal(kv_result_set_error(&in, "ERR a\r\nb"), 0);
            assert_memory_equal(in.data.data, "ERR a  b", 8); /* one line */
            break;
        }
        syn_buf_reset(&b);
        assert_int_equal(kv_result_encode(&in, &b), 0);
        assert_int_equal(kv_result_decode(b.data, b.len, &out, &errmsg), 0);
        assert_int_equal(out.kind, kind);
        assert_true(out.integer == in.integer);
        assert_int_equal(out.data.len, in.data.len);
        if (in.data.len > 0) {
            assert_memory_equal(out.data.data, in.data.data, in.data.len);
        }
        for (size_t n = 0; n < b.len; n++) {
            assert_int_equal(kv_result_decode(b.data, n, &out, &errmsg), SYN_EBADMSG);
        }
    }
    /* Unknown kind and version, a line break in an error, an error too long. */
    uint8_t bad_kind[] = {KV_RESULT_VERSION, KV_RESULT_KIND_MAX + 1};
    assert_int_equal(kv_result_decode(bad_kind, 2, &out, &errmsg), SYN_EBADMSG);
    uint8_t bad_version[] = {KV_RESULT_VERSION + 1, KV_RESULT_OK};
    assert_int_equal(kv_result_decode(bad_version, 2, &out, &errmsg), SYN_EBADMSG);
    uint8_t crlf[] = {KV_RESULT_VERSION, KV_RESULT_ERROR, 2, 0, 0, 0, 'a', '\n'};
    assert_int_equal(kv_result_decode(crlf, sizeof(crlf), &out, &errmsg), SYN_EBADMSG);
    assert_non_null(errmsg);
    uint8_t too_long[6 + SYN_KV_ERRMSG_SIZE_MAX + 1];
    memset(too_long, 'x', sizeof(too_long));
    too_long[0] = KV_RESULT_VERSION;
    too_long[1] = KV_RESULT_ERROR;
    syn_put_u32le(too_long + 2, SYN_KV_ERRMSG_SIZE_MAX + 1);
    assert_int_equal(kv_result_decode(too_long, sizeof(too_long), &out, &errmsg), SYN_EBADMSG);
    syn_buf_free(&b);
    kv_result_free(&in);
    kv_result_free(&out);
}

/* ---- Glob ---------------------------------------------------------------------------- */

/* Redis's stringmatchlen_impl() transcribed, without the early exit and the nesting limit:
 * the naive recursive reference. */
static bool ref_match(const uint8_t *p, size_t pl, const uint8_t *s, size_t sl)
{
    while (pl > 0 && sl > 0) {
        if (p[0] == '*') {
            while (pl > 1 && p[1] == '*') {
                p++;
                pl--;
            }
            if (pl == 1) {
                return true;
            }
            for (; sl > 0; s++, sl--) {
                if (ref_match(p + 1, pl - 1, s, sl)) {
                    return true;
                }
            }
            return false;
        } else if (p[0] == '?') {
            s++;
            sl--;
        } else if (p[0] == '[') {
            p++;
            pl--;
            bool negate = pl > 0 && p[0] == '^';
            if (negate) {
                p++;
                pl--;
            }
            bool match = false;
            for (;;) {
                if (pl >= 2 && p[0] == '\\') {
                    p++;
                    pl--;
                    match = match || p[0] == s[0];
                } else if (pl > 0 && p[0] == ']') {
                    break;
                } else if (pl == 0) {
                    p--;
                    pl++;
                    break;
                } else if (pl >= 3 && p[1] == '-') {
                    int lo = p[0], hi = p[2], c = s[0];
                    if (lo > hi) {
                        int t = lo;
                        lo = hi;
                        hi = t;
                    }
                    p += 2;
                    pl -= 2;
                    match = match || (c >= lo && c <= hi);
                } else {
                    match = match || p[0] == s[0];
                }
                p++;
                pl--;
            }
            if (negate ? match : !match) {
                return false;
            }
            s++;
            sl--;
        } else {
            if (p[0] == '\\' && pl >= 2) {
                p++;
                pl--;
            }
            if (p[0] != s[0]) {
                return false;
            }
            s++;
            sl--;
        }
        p++;
        pl--;
        if (sl == 0) {
            while (pl > 0 && p[0] == '*') {
                p++;
                pl--;
            }
            break;
        }
    }
    return pl == 0 && sl == 0;
}

static bool glob(const char *pattern, const char *s)
{
    bool got =
        kv_glob_match((const uint8_t *)pattern, strlen(pattern), (const uint8_t *)s, strlen(s));
    assert_int_equal(
        got, ref_match((const uint8_t *)pattern, strlen(pattern), (const uint8_t *)s, strlen(s)));
    return got;
}

static void test_glob_examples(void **state)
{
    (void)state;
    assert_true(glob("*", "anything"));
    assert_true(glob("h?llo", "hello"));
    assert_true(glob("h*llo", "heeeello"));
    assert_true(glob("h[ae]llo", "hallo"));
    assert_false(glob("h[ae]llo", "hillo"));
    assert_true(glob("h[^e]llo", "hallo"));
    assert_false(glob("h[^e]llo", "hello"));
    assert_true(glob("h[a-b]llo", "hbllo"));
    assert_true(glob("h[b-a]llo", "hallo")); /* reversed range */
    assert_true(glob("user:*:name", "user:42:name"));
    assert_false(glob("user:*:name", "user:42:mail"));
    assert_true(glob("a\\*b", "a*b"));
    assert_false(glob("a\\*b", "axb"));
    assert_true(glob("[\\]]", "]"));
    assert_false(glob("[]", "a"));   /* an empty class matches nothing */
    assert_true(glob("[^]", "a"));   /* and its negation anything */
    assert_true(glob("[abc", "b"));  /* an unclosed class runs to the end */
    assert_true(glob("[a-]", "]"));  /* the range takes the ']' */
    assert_true(glob("a\\", "a\\")); /* a trailing backslash is itself */
    assert_true(glob("a**", "a"));
    assert_false(glob("a*?", "a"));
    assert_false(glob("*", "")); /* Redis: nonempty patterns never match "" */
    assert_true(glob("", ""));
    assert_false(glob("", "a"));
    uint8_t high[] = {'[', 0x80, '-', 0xff, ']'};
    uint8_t c = 0xc3;
    assert_true(kv_glob_match(high, sizeof(high), &c, 1)); /* bytes compare unsigned */
}

static size_t random_text(struct prng *rng, const char *alphabet, size_t max, uint8_t *out)
{
    size_t n = (size_t)prng_range(rng, 0, max);
    size_t letters = strlen(alphabet);
    for (size_t i = 0; i < n; i++) {
        out[i] = (uint8_t)alphabet[prng_range(rng, 0, letters - 1)];
    }
    return n;
}

static void test_glob_property(void **state)
{
    (void)state;
    struct prng rng;
    prng_init(&rng, 42);
    uint8_t p[10], s[10];
    uint32_t matched = 0;
    for (int i = 0; i < 300000; i++) {
        size_t pl = random_text(&rng, "ab*?[]^-\\", sizeof(p), p);
        size_t sl = random_text(&rng, i % 2 ? "ab" : "ab]-^\\*?[", sizeof(s), s);
        bool want = ref_match(p, pl, s, sl);
        if (kv_glob_match(p, pl, s, sl) != want) {
            fail_msg("pattern \"%.*s\" string \"%.*s\": reference says %d", (int)pl, (char *)p,
                     (int)sl, (char *)s, want);
        }
        matched += want ? 1 : 0;
    }
    assert_true(matched > 10000); /* the property saw both answers */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_round_trip),   cmocka_unit_test(test_other_round_trips),
        cmocka_unit_test(test_encode_limits),    cmocka_unit_test(test_decode_refuses),
        cmocka_unit_test(test_decode_mutations), cmocka_unit_test(test_result_round_trip),
        cmocka_unit_test(test_glob_examples),    cmocka_unit_test(test_glob_property),
        cmocka_unit_test(test_append),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
