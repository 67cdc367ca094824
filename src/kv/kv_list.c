/* kv_list.c: keys in byte order through the ordered index: prefix listings (Consul's
 * ?recurse and ?keys) and the removal of a whole prefix (DELETE ?recurse). */
#include <string.h>

#include "base/assert.h"
#include "base/err.h"
#include "kv/kv_internal.h"

/* Where a prefix's ordered keys begin: 0x00 and the prefix, cut to what ordered keys hold. */
static size_t order_start(struct kv_bytes prefix, uint8_t *out)
{
    size_t n = prefix.size < KV_ORDER_PREFIX_MAX ? prefix.size : KV_ORDER_PREFIX_MAX;
    out[0] = 0;
    if (n > 0) {
        memcpy(out + 1, prefix.data, n);
    }
    return 1 + n;
}

static bool has_prefix(const MDB_val *k, const uint8_t *start, size_t start_size)
{
    return k->mv_size >= start_size && memcmp(k->mv_data, start, start_size) == 0;
}

static bool key_has_prefix(struct kv_bytes key, struct kv_bytes prefix)
{
    return key.size >= prefix.size &&
           (prefix.size == 0 || memcmp(key.data, prefix.data, prefix.size) == 0);
}

/* The record an ordered key names, into slot; *key_out is the whole key. */
static int order_load(struct kv_store *kv, MDB_txn *txn, const MDB_val *order,
                      struct kv_slot *slot, struct kv_bytes *key_out)
{
    if (kv_order_stored(order, slot) != 0) {
        return kv_fail(kv, SYN_ECORRUPT, "an ordered index key is malformed");
    }
    MDB_val k = {.mv_size = slot->stored_size, .mv_data = slot->stored};
    MDB_val v;
    int rc = mdb_get(txn, kv->dbi_data, &k, &v);
    if (rc == MDB_NOTFOUND) {
        return kv_fail(kv, SYN_ECORRUPT, "the ordered index names a key that is not stored");
    }
    if (rc != 0) {
        return kv_mdb_fail(kv, rc, "look a listed key up");
    }
    struct kv_record rec;
    if (kv_record_parse(&k, &v, &rec) != 0) {
        return kv_fail(kv, SYN_ECORRUPT, "a record is malformed");
    }
    slot->found = true;
    slot->expire_at_ms = rec.expire_at_ms;
    slot->meta = rec.meta;
    slot->value = rec.value.data;
    slot->value_size = rec.value.size;
    *key_out = kv_stored_user_key(&k, &rec);
    return 0;
}

int kv_list(struct kv_store *kv, struct kv_bytes prefix, bool with_values, uint64_t now_ms,
            kv_entry_cb cb, void *ctx, uint64_t *index_out)
{
    ASSERT(prefix.size <= SYN_KEY_SIZE_MAX);
    MDB_txn *txn = NULL;
    int rc = kv_read_begin(kv, &txn);
    if (rc != 0) {
        return rc;
    }
    uint64_t now = kv_clock(kv, now_ms);
    uint64_t index = kv_absent_index(kv);
    MDB_cursor *cur = NULL;
    rc = mdb_cursor_open(txn, kv->dbi_order, &cur);
    if (rc != 0) {
        kv_read_end(kv, txn);
        return kv_mdb_fail(kv, rc, "open a cursor");
    }
    uint8_t start[KV_ORDER_LONG_SIZE];
    size_t start_size = order_start(prefix, start);
    MDB_val k = {.mv_size = start_size, .mv_data = start};
    MDB_val v;
    int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && mrc == 0 && has_prefix(&k, start, start_size)) {
        struct kv_slot slot;
        struct kv_bytes key;
        rc = order_load(kv, txn, &k, &slot, &key);
        if (rc == 0 && key_has_prefix(key, prefix) && !kv_expired(slot.expire_at_ms, now)) {
            if (slot.meta.modify_index > index) {
                index = slot.meta.modify_index;
            }
            rc = cb(ctx, key, with_values ? slot.value : NULL, slot.value_size, &slot.meta);
        }
        if (rc == 0) {
            mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
        }
    }
    mdb_cursor_close(cur);
    kv_read_end(kv, txn);
    if (rc == 0 && mrc != 0 && mrc != MDB_NOTFOUND) {
        rc = kv_mdb_fail(kv, mrc, "walk the ordered index");
    }
    if (rc == 0 && index_out != NULL) {
        *index_out = index;
    }
    return rc;
}

/* The first key at or after `at` (past it when past_at) whose ordered key starts with start,
 * loaded into slot and key (copied to kv->scratch_key). 0 with slot->found false when none. */
static int next_under(struct kv_store *kv, const uint8_t *start, size_t start_size,
                      const uint8_t *at, size_t at_size, bool past_at, struct kv_slot *slot,
                      struct kv_bytes *key, MDB_val *order_out)
{
    /* A cursor per step: the removal between two steps writes to the tree it walks. */
    MDB_cursor *cur = NULL;
    int rc = mdb_cursor_open(kv->wtxn, kv->dbi_order, &cur);
    if (rc != 0) {
        return kv_mdb_fail(kv, rc, "open a cursor");
    }
    MDB_val k = {.mv_size = at_size, .mv_data = (void *)at};
    MDB_val v;
    int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    if (mrc == 0 && past_at && k.mv_size == at_size && memcmp(k.mv_data, at, at_size) == 0) {
        mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    slot->found = false;
    if (mrc == MDB_NOTFOUND || (mrc == 0 && !has_prefix(&k, start, start_size))) {
        return 0;
    }
    if (mrc != 0) {
        return kv_mdb_fail(kv, mrc, "walk the ordered index");
    }
    *order_out = k;
    rc = order_load(kv, kv->wtxn, &k, slot, key);
    if (rc != 0) {
        return rc;
    }
    /* The key's bytes live in a page the removal may free: copy them first. */
    syn_buf_reset(&kv->scratch_key);
    rc = syn_buf_append(&kv->scratch_key, key->data, key->size);
    *key = (struct kv_bytes){.data = kv->scratch_key.data, .size = kv->scratch_key.len};
    return rc;
}

int kv_delete_prefix(struct kv_store *kv, struct kv_bytes prefix)
{
    ASSERT(kv->wtxn != NULL);
    uint8_t start[KV_ORDER_LONG_SIZE];
    size_t start_size = order_start(prefix, start);
    /* Each step starts over from `at`, which moves only past keys that share the ordered
     * prefix but not the whole one (prefixes longer than the ordered index holds). */
    uint8_t at[KV_ORDER_LONG_SIZE];
    size_t at_size = start_size;
    memcpy(at, start, start_size);
    bool past_at = false;
    for (;;) {
        struct kv_slot slot;
        struct kv_bytes key;
        MDB_val order = {0};
        int rc = next_under(kv, start, start_size, at, at_size, past_at, &slot, &key, &order);
        if (rc != 0 || !slot.found) {
            return rc;
        }
        if (!key_has_prefix(key, prefix)) {
            memcpy(at, order.mv_data, order.mv_size);
            at_size = order.mv_size;
            past_at = true;
            continue;
        }
        rc = kv_slot_del(kv, &slot, key);
        if (rc != 0) {
            return rc;
        }
    }
}
