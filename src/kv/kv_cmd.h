/* kv_cmd.h: the state machine's commands, as they travel in Raft entries, and their results,
 * as a leader hands them back to the follower that forwarded a write.
 *
 * A pure codec (STYLE 10): encoders append to a syn_buf, decoders read (data, size) into a
 * struct whose pointers borrow those bytes. No I/O, no clock, no globals. docs/kv.md gives
 * the formats byte by byte; every integer is little-endian.
 *
 *   command:  u8 version (KV_CMD_VERSION) | u8 op | u64 now_ms | fields by op
 *     SET     u8 cond | u8 flags | u64 expire_at_ms | str key | str value [| str expected]
 *     DEL     u32 count | count x str key
 *     INCRBY  i64 delta | str key
 *     MSET    u32 count | count x str (key, value, key, value, ...)
 *     EXPIRE  u32 count | count x str key
 *     PUT     u8 cond | u64 user_flags | u64 cas_index | str key | str value
 *     DELETE  u8 cond | u8 recurse | u64 cas_index | str key (a prefix when recurse)
 *     APPEND  str prefix | str value
 *   where str is u32 size | size bytes. PUT and DELETE are Consul's KV writes. APPEND is the
 *   replicated log's (synod log): it writes value under prefix + the index of its own entry.
 *
 * now_ms is the proposer's wall clock, stamped into every command so that applying it is
 * deterministic: every replica decides expiry with the same time (docs/kv.md "Expiry").
 * EXPIRE is what active expiry proposes: it removes the keys named that are expired at
 * now_ms and leaves alone any that a later write made live again (a DEL would not).
 */
#ifndef SYN_KV_CMD_H
#define SYN_KV_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/limits.h"

#define KV_CMD_VERSION 1u
#define KV_RESULT_VERSION 1u

enum kv_op {
    KV_OP_SET = 1,
    KV_OP_DEL = 2,
    KV_OP_INCRBY = 3,
    KV_OP_MSET = 4,
    KV_OP_EXPIRE = 5,
    KV_OP_PUT = 6,
    KV_OP_DELETE = 7,
    KV_OP_APPEND = 8,
};
#define KV_OP_MAX 8u /* below the registry's ops (REG_OP_FIRST, kv_apply.c checks) */

/* An APPEND's key is its prefix and then the index of the entry that applied it, in this
 * many decimal digits, zero-padded (2^64 has 20): keys sort in log order. */
#define KV_APPEND_INDEX_DIGITS 20u
#define KV_APPEND_PREFIX_SIZE_MAX (SYN_KEY_SIZE_MAX - KV_APPEND_INDEX_DIGITS)
#define KV_LOG_PREFIX "synod/log/" /* where synod log appends (POST /v1/synod/log) */

/* SET's condition on the key's current value (an expired key counts as absent). */
enum kv_cond {
    KV_COND_NONE = 0,
    KV_COND_NX = 1,   /* only when absent */
    KV_COND_XX = 2,   /* only when present */
    KV_COND_IFEQ = 3, /* only when present and equal to expected (Valkey 8.1) */
    KV_COND_CAS = 4,  /* PUT, DELETE: only when the modify index is cas_index (PUT: 0 means
                         only when absent), as Consul's ?cas= */
};
#define KV_COND_MAX 4u

#define KV_SET_GET 0x1u /* SET flag: the result is the old value (or NIL), set or not */
#define KV_SET_FLAGS_ALL KV_SET_GET

/* Fixed bytes: version, op, now_ms; SET's cond, flags, expire_at_ms and three sizes. */
#define KV_CMD_HEADER_SIZE 10u
#define KV_CMD_SET_FIXED_SIZE (KV_CMD_HEADER_SIZE + 10u + 3u * 4u)
_Static_assert(KV_CMD_SET_FIXED_SIZE <= SYN_COMMAND_HEADER_SIZE_MAX,
               "a SET's fixed fields fit the command header budget");

/* size bytes at data; data may be NULL when size is 0. */
struct kv_bytes {
    const uint8_t *data;
    size_t size;
};

/* One command. After kv_cmd_decode() every pointer borrows the decoded bytes. */
struct kv_cmd {
    uint8_t op;      /* enum kv_op */
    uint64_t now_ms; /* the proposer's wall clock, unix ms */
    /* SET */
    uint8_t cond;             /* enum kv_cond */
    uint8_t flags;            /* KV_SET_* */
    uint64_t expire_at_ms;    /* unix ms; 0: no expiry (a SET without one clears the TTL) */
    struct kv_bytes key;      /* SET, INCRBY */
    struct kv_bytes value;    /* SET */
    struct kv_bytes expected; /* SET with KV_COND_IFEQ */
    /* INCRBY (DECR, DECRBY and INCR are INCRBY with -1, -n and 1) */
    int64_t delta;
    /* PUT, DELETE (cond is KV_COND_NONE or KV_COND_CAS; key and, for PUT, value); APPEND:
     * key is the prefix, value the value */
    uint64_t user_flags; /* PUT */
    uint64_t cas_index;
    bool recurse; /* DELETE: every key that starts with key */
    /* DEL, EXPIRE: keys; MSET: keys and values in turn (an even count). Read them with
     * kv_cmd_item(); the decoder has checked every size. */
    uint32_t item_count;
    const uint8_t *items;
    size_t items_size;
    const char *errmsg; /* after SYN_EBADMSG: why, a static sentence */
};

/* Encoders append one command to out, which is left as it was on failure.
 * 0; SYN_EINVAL (unknown cond or flags, expected given without IFEQ, no items, an odd MSET
 * count, an op that does not take items); SYN_ETOOBIG (a key over SYN_KEY_SIZE_MAX, a value
 * over SYN_VALUE_SIZE_MAX, more than SYN_KV_KEYS_MAX items, or a command over
 * SYN_ENTRY_SIZE_MAX: e.g. IFEQ with two values near the maximum); SYN_ENOMEM.
 * cmd and items are borrowed for the call. */
int kv_cmd_encode_set(struct syn_buf *out, const struct kv_cmd *cmd);
int kv_cmd_encode_incrby(struct syn_buf *out, uint64_t now_ms, struct kv_bytes key, int64_t delta);
/* Consul's writes: cmd's op (KV_OP_PUT or KV_OP_DELETE), now_ms, cond, key, and value,
 * user_flags (PUT), recurse (DELETE; not with KV_COND_CAS), cas_index. Results: INTEGER 1
 * when it was carried out, 0 when its CAS condition failed. */
int kv_cmd_encode_consul(struct syn_buf *out, const struct kv_cmd *cmd);
/* The replicated log's append: value under prefix + the 20-digit index of the entry that
 * applies it, with user_flags set to the command's clock (the entry's time, for synod log).
 * SYN_ETOOBIG: prefix over KV_APPEND_PREFIX_SIZE_MAX, value over SYN_VALUE_SIZE_MAX.
 * Result: INTEGER the entry's index. */
int kv_cmd_encode_append(struct syn_buf *out, uint64_t now_ms, struct kv_bytes prefix,
                         struct kv_bytes value);
/* index in KV_APPEND_INDEX_DIGITS decimal digits, zero-padded, and a NUL, into out. */
void kv_cmd_append_index(uint64_t index, char out[KV_APPEND_INDEX_DIGITS + 1]);
/* op is KV_OP_DEL, KV_OP_EXPIRE (items are keys) or KV_OP_MSET (key, value, key, value...). */
int kv_cmd_encode_items(struct syn_buf *out, uint8_t op, uint64_t now_ms,
                        const struct kv_bytes *items, uint32_t item_count);

/* Decodes and validates untrusted bytes (a committed entry's payload): version, op, every
 * size against the bytes left and against the key and value limits, counts within
 * 1..SYN_KV_KEYS_MAX, no trailing bytes. 0, or SYN_EBADMSG with cmd->errmsg. */
int kv_cmd_decode(const uint8_t *data, size_t size, struct kv_cmd *cmd);

/* The item at *offset in a decoded command's items; moves *offset past it. Start with 0 and
 * call it item_count times. */
struct kv_bytes kv_cmd_item(const struct kv_cmd *cmd, size_t *offset);

/* ---- Results ------------------------------------------------------------------------- */

enum kv_result_kind {
    KV_RESULT_OK = 1,      /* +OK */
    KV_RESULT_NIL = 2,     /* a null bulk */
    KV_RESULT_INTEGER = 3, /* :integer */
    KV_RESULT_BULK = 4,    /* $data, e.g. SET GET's old value */
    KV_RESULT_ERROR = 5,   /* -data: the whole message, e.g. "ERR value is not an integer..." */
};
#define KV_RESULT_KIND_MAX 5u

/* Redis's messages, as KV_RESULT_ERROR carries them. */
#define KV_ERR_NOT_INTEGER "ERR value is not an integer or out of range"
#define KV_ERR_OVERFLOW "ERR increment or decrement would overflow"

/* The outcome of one applied command.
 *   result: u8 version (KV_RESULT_VERSION) | u8 kind | by kind:
 *     INTEGER i64 | BULK str (<= SYN_VALUE_SIZE_MAX) | ERROR str (<= SYN_KV_ERRMSG_SIZE_MAX,
 *     no CR or LF) | OK, NIL nothing */
struct kv_result {
    uint8_t kind;        /* enum kv_result_kind */
    int64_t integer;     /* INTEGER */
    struct syn_buf data; /* BULK: the value; ERROR: the message. Owned. */
};

/* An empty result (kind OK); kv_result_free() releases its buffer. */
void kv_result_init(struct kv_result *r);
void kv_result_free(struct kv_result *r);
/* Set r to kind with no data (OK, NIL), to an INTEGER, to a BULK copy of value, or to an
 * ERROR with a copy of message (a sentence with no CR or LF, at most SYN_KV_ERRMSG_SIZE_MAX
 * bytes: longer ones are cut). 0 or SYN_ENOMEM. */
void kv_result_set(struct kv_result *r, uint8_t kind);
void kv_result_set_integer(struct kv_result *r, int64_t integer);
int kv_result_set_bulk(struct kv_result *r, const uint8_t *value, size_t size);
int kv_result_set_error(struct kv_result *r, const char *message);

/* Appends r's encoding to out (left as it was on failure). 0, SYN_ENOMEM, SYN_ETOOBIG. */
int kv_result_encode(const struct kv_result *r, struct syn_buf *out);
/* Decodes untrusted bytes into r (its data is copied). 0, SYN_EBADMSG with *errmsg set, or
 * SYN_ENOMEM. */
int kv_result_decode(const uint8_t *data, size_t size, struct kv_result *r, const char **errmsg);

#endif
