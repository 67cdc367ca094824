/* kv_key.c: where a key lives in LMDB: its hash, its stored form (short or long), its record,
 * and the writes that keep the key count and the expiry index in step (kv_internal.h). */
#include <string.h>

#include "base/assert.h"
#include "base/err.h"
#include "kv/kv_internal.h"

/* ---- The key hash: SipHash-2-4 with the fixed key 00 01 .. 0f ------------------------
 * Part of the on-disk format: every replica and every version must agree on it. A keyed
 * PRF, even with a public key, makes many keys with one hash (long SCAN groups, long probe
 * walks) as hard to find as a generic multicollision. */

#define ROTL64(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static void sip_round(uint64_t v[4])
{
    v[0] += v[1];
    v[1] = ROTL64(v[1], 13);
    v[1] ^= v[0];
    v[0] = ROTL64(v[0], 32);
    v[2] += v[3];
    v[3] = ROTL64(v[3], 16);
    v[3] ^= v[2];
    v[0] += v[3];
    v[3] = ROTL64(v[3], 21);
    v[3] ^= v[0];
    v[2] += v[1];
    v[1] = ROTL64(v[1], 17);
    v[1] ^= v[2];
    v[2] = ROTL64(v[2], 32);
}

static void sip_absorb(uint64_t v[4], uint64_t m)
{
    v[3] ^= m;
    sip_round(v);
    sip_round(v);
    v[0] ^= m;
}

uint64_t kv_key_hash(const uint8_t *key, size_t size)
{
    const uint64_t k0 = 0x0706050403020100ull;
    const uint64_t k1 = 0x0f0e0d0c0b0a0908ull;
    uint64_t v[4] = {k0 ^ 0x736f6d6570736575ull, k1 ^ 0x646f72616e646f6dull,
                     k0 ^ 0x6c7967656e657261ull, k1 ^ 0x7465646279746573ull};
    size_t full = size - size % 8;
    for (size_t i = 0; i < full; i += 8) {
        sip_absorb(v, syn_get_u64le(key + i));
    }
    uint64_t last = (uint64_t)size << 56;
    for (size_t i = 0; i < size % 8; i++) {
        last |= (uint64_t)key[full + i] << (8 * i);
    }
    sip_absorb(v, last);
    v[2] ^= 0xff;
    for (int i = 0; i < 4; i++) {
        sip_round(v);
    }
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static uint32_t get_u32be(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_u32be(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

bool kv_expired(uint64_t expire_at_ms, uint64_t now_ms)
{
    return expire_at_ms != 0 && expire_at_ms <= now_ms;
}

/* ---- Records ------------------------------------------------------------------------- */

int kv_record_parse(const MDB_val *stored, const MDB_val *v, struct kv_record *rec)
{
    bool long_key = stored->mv_size == KV_STORED_LONG_SIZE;
    if (stored->mv_size < KV_HASH_SIZE || (stored->mv_size > KV_STORED_SHORT_MAX && !long_key)) {
        return SYN_ECORRUPT;
    }
    const uint8_t *p = v->mv_data;
    if (v->mv_size < KV_RECORD_HEADER_SIZE || p[0] != (long_key ? KV_RECORD_LONG_KEY : 0)) {
        return SYN_ECORRUPT;
    }
    *rec = (struct kv_record){
        .expire_at_ms = syn_get_u64le(p + 1),
        .meta = {.create_index = syn_get_u64le(p + 9),
                 .modify_index = syn_get_u64le(p + 17),
                 .user_flags = syn_get_u64le(p + 25)},
    };
    if (rec->meta.create_index == 0 || rec->meta.create_index > rec->meta.modify_index) {
        return SYN_ECORRUPT;
    }
    size_t at = KV_RECORD_HEADER_SIZE;
    if (long_key) {
        if (v->mv_size - at < 4) {
            return SYN_ECORRUPT;
        }
        uint32_t size = syn_get_u32le(p + at);
        at += 4;
        if (size <= KV_KEY_INLINE_MAX || size > SYN_KEY_SIZE_MAX || size > v->mv_size - at) {
            return SYN_ECORRUPT;
        }
        rec->key = (struct kv_bytes){.data = p + at, .size = size};
        at += size;
    }
    rec->value = (struct kv_bytes){.data = p + at, .size = v->mv_size - at};
    return rec->value.size <= SYN_VALUE_SIZE_MAX ? 0 : SYN_ECORRUPT;
}

struct kv_bytes kv_stored_user_key(const MDB_val *stored, const struct kv_record *rec)
{
    if (stored->mv_size == KV_STORED_LONG_SIZE) {
        return rec->key;
    }
    return (struct kv_bytes){.data = (const uint8_t *)stored->mv_data + KV_HASH_SIZE,
                             .size = stored->mv_size - KV_HASH_SIZE};
}

static void slot_fill(struct kv_slot *slot, const struct kv_record *rec)
{
    slot->found = true;
    slot->expire_at_ms = rec->expire_at_ms;
    slot->meta = rec->meta;
    slot->value = rec->value.data;
    slot->value_size = rec->value.size;
}

/* ---- Finding a key -------------------------------------------------------------------- */

/* A long key: walk the stored keys that share its hash and prefix, comparing whole keys.
 * When it is absent, the slot gets the probe after the highest one in use. */
static int find_long(struct kv_store *kv, MDB_txn *txn, struct kv_bytes key, struct kv_slot *slot)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, kv->dbi_data, &cur);
    if (rc != 0) {
        return kv_mdb_fail(kv, rc, "open a cursor");
    }
    memset(slot->stored + KV_STORED_SHORT_MAX, 0, KV_PROBE_SIZE);
    slot->stored_size = KV_STORED_LONG_SIZE;
    MDB_val k = {.mv_size = KV_STORED_LONG_SIZE, .mv_data = slot->stored};
    MDB_val v;
    uint64_t next_probe = 0;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && k.mv_size == KV_STORED_LONG_SIZE &&
           memcmp(k.mv_data, slot->stored, KV_STORED_SHORT_MAX) == 0) {
        struct kv_record rec;
        if (kv_record_parse(&k, &v, &rec) != 0) {
            mdb_cursor_close(cur);
            return kv_fail(kv, SYN_ECORRUPT, "a long key's record is malformed");
        }
        next_probe = (uint64_t)get_u32be((const uint8_t *)k.mv_data + KV_STORED_SHORT_MAX) + 1;
        if (rec.key.size == key.size && memcmp(rec.key.data, key.data, key.size) == 0) {
            memcpy(slot->stored, k.mv_data, KV_STORED_LONG_SIZE);
            slot_fill(slot, &rec);
            break;
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        return kv_mdb_fail(kv, rc, "walk long keys");
    }
    if (!slot->found) {
        if (next_probe > UINT32_MAX) {
            return kv_fail(kv, SYN_EFULL, "2^32 long keys share one hash and prefix");
        }
        put_u32be(slot->stored + KV_STORED_SHORT_MAX, (uint32_t)next_probe);
    }
    return 0;
}

int kv_slot_find(struct kv_store *kv, MDB_txn *txn, struct kv_bytes key, struct kv_slot *slot)
{
    ASSERT(key.size <= SYN_KEY_SIZE_MAX);
    slot->found = false;
    kv_put_u64be(slot->stored, kv_key_hash(key.data, key.size));
    size_t inline_size = key.size < KV_KEY_INLINE_MAX ? key.size : KV_KEY_INLINE_MAX;
    if (inline_size > 0) {
        memcpy(slot->stored + KV_HASH_SIZE, key.data, inline_size);
    }
    slot->stored_size = KV_HASH_SIZE + inline_size;
    if (key.size > KV_KEY_INLINE_MAX) {
        return find_long(kv, txn, key, slot);
    }
    MDB_val k = {.mv_size = slot->stored_size, .mv_data = slot->stored};
    MDB_val v;
    int rc = mdb_get(txn, kv->dbi_data, &k, &v);
    if (rc == MDB_NOTFOUND) {
        return 0;
    }
    if (rc != 0) {
        return kv_mdb_fail(kv, rc, "look a key up");
    }
    struct kv_record rec;
    if (kv_record_parse(&k, &v, &rec) != 0) {
        return kv_fail(kv, SYN_ECORRUPT, "a record is malformed");
    }
    slot_fill(slot, &rec);
    return 0;
}

/* ---- The ordered index ---------------------------------------------------------------- */

size_t kv_order_key(struct kv_bytes key, uint64_t hash, uint32_t probe, uint8_t *out)
{
    out[0] = 0;
    if (key.size <= KV_KEY_INLINE_MAX) {
        if (key.size > 0) {
            memcpy(out + 1, key.data, key.size);
        }
        return 1 + key.size;
    }
    size_t n = key.size < KV_ORDER_PREFIX_MAX ? key.size : KV_ORDER_PREFIX_MAX;
    memset(out + 1, 0, KV_ORDER_PREFIX_MAX);
    memcpy(out + 1, key.data, n);
    kv_put_u64be(out + 1 + KV_ORDER_PREFIX_MAX, hash);
    put_u32be(out + 1 + KV_ORDER_PREFIX_MAX + KV_HASH_SIZE, probe);
    return KV_ORDER_LONG_SIZE;
}

int kv_order_stored(const MDB_val *order, struct kv_slot *slot)
{
    const uint8_t *p = order->mv_data;
    if (order->mv_size == 0 || p[0] != 0) {
        return SYN_ECORRUPT;
    }
    if (order->mv_size == KV_ORDER_LONG_SIZE) {
        kv_put_u64be(slot->stored, kv_get_u64be(p + 1 + KV_ORDER_PREFIX_MAX));
        memcpy(slot->stored + KV_HASH_SIZE, p + 1, KV_KEY_INLINE_MAX);
        memcpy(slot->stored + KV_STORED_SHORT_MAX, p + 1 + KV_ORDER_PREFIX_MAX + KV_HASH_SIZE,
               KV_PROBE_SIZE);
        slot->stored_size = KV_STORED_LONG_SIZE;
        return 0;
    }
    if (order->mv_size > 1 + KV_KEY_INLINE_MAX) {
        return SYN_ECORRUPT;
    }
    size_t size = order->mv_size - 1;
    kv_put_u64be(slot->stored, kv_key_hash(p + 1, size));
    memcpy(slot->stored + KV_HASH_SIZE, p + 1, size);
    slot->stored_size = KV_HASH_SIZE + size;
    return 0;
}

/* Adds (add) or drops key's ordered key, for the slot it lives in. */
static int order_put(struct kv_store *kv, const struct kv_slot *slot, struct kv_bytes key,
                     bool add)
{
    uint8_t buf[KV_ORDER_LONG_SIZE];
    uint32_t probe = 0;
    if (slot->stored_size == KV_STORED_LONG_SIZE) {
        probe = get_u32be(slot->stored + KV_STORED_SHORT_MAX);
    }
    MDB_val k = {.mv_size = kv_order_key(key, kv_get_u64be(slot->stored), probe, buf),
                 .mv_data = buf};
    if (add) {
        MDB_val empty = {.mv_size = 0, .mv_data = NULL};
        int rc = mdb_put(kv->wtxn, kv->dbi_order, &k, &empty, 0);
        return rc == 0 ? 0 : kv_mdb_fail(kv, rc, "index a key in order");
    }
    int rc = mdb_del(kv->wtxn, kv->dbi_order, &k, NULL);
    if (rc == MDB_NOTFOUND) {
        return kv_fail(kv, SYN_ECORRUPT, "the ordered index misses a key");
    }
    return rc == 0 ? 0 : kv_mdb_fail(kv, rc, "drop a key from the ordered index");
}

void kv_change_note(struct kv_store *kv, enum kv_change what, struct kv_bytes key)
{
    if (kv->change_cb != NULL) {
        kv->change_cb(kv->change_ctx, what, key, kv->entry_index);
    }
}

/* ---- Writing (in the open batch) ----------------------------------------------------- */

static int expiry_put(struct kv_store *kv, const struct kv_slot *slot, uint64_t at, bool add)
{
    uint8_t buf[KV_EXPIRY_KEY_MAX];
    kv_put_u64be(buf, at);
    memcpy(buf + 8, slot->stored, slot->stored_size);
    MDB_val k = {.mv_size = 8 + slot->stored_size, .mv_data = buf};
    if (add) {
        MDB_val empty = {.mv_size = 0, .mv_data = NULL};
        int rc = mdb_put(kv->wtxn, kv->dbi_expires, &k, &empty, 0);
        return rc == 0 ? 0 : kv_mdb_fail(kv, rc, "index an expiry");
    }
    int rc = mdb_del(kv->wtxn, kv->dbi_expires, &k, NULL);
    if (rc == MDB_NOTFOUND) {
        return kv_fail(kv, SYN_ECORRUPT, "the expiry index misses a key that has a TTL");
    }
    return rc == 0 ? 0 : kv_mdb_fail(kv, rc, "drop an expiry");
}

int kv_slot_put(struct kv_store *kv, struct kv_slot *slot, struct kv_bytes key,
                struct kv_bytes value, uint64_t expire_at_ms, uint64_t user_flags)
{
    ASSERT(kv->wtxn != NULL);
    ASSERT(value.size <= SYN_VALUE_SIZE_MAX);
    ASSERT(kv->entry_index > 0);
    struct kv_meta_entry meta = {
        .create_index = slot->found ? slot->meta.create_index : kv->entry_index,
        .modify_index = kv->entry_index,
        .user_flags = user_flags,
    };
    bool long_key = slot->stored_size == KV_STORED_LONG_SIZE;
    uint64_t old_expire = slot->found ? slot->expire_at_ms : 0;
    int rc = 0;
    if (old_expire != 0 && old_expire != expire_at_ms) {
        rc = expiry_put(kv, slot, old_expire, false);
    }
    size_t header = KV_RECORD_HEADER_SIZE + (long_key ? 4 + key.size : 0);
    MDB_val k = {.mv_size = slot->stored_size, .mv_data = slot->stored};
    MDB_val v = {.mv_size = header + value.size, .mv_data = NULL};
    if (rc == 0) {
        rc = mdb_put(kv->wtxn, kv->dbi_data, &k, &v, MDB_RESERVE);
        if (rc != 0) {
            return kv_mdb_fail(kv, rc, "store a record");
        }
        uint8_t *p = v.mv_data;
        p[0] = long_key ? KV_RECORD_LONG_KEY : 0;
        syn_put_u64le(p + 1, expire_at_ms);
        syn_put_u64le(p + 9, meta.create_index);
        syn_put_u64le(p + 17, meta.modify_index);
        syn_put_u64le(p + 25, meta.user_flags);
        if (long_key) {
            syn_put_u32le(p + KV_RECORD_HEADER_SIZE, (uint32_t)key.size);
            memcpy(p + KV_RECORD_HEADER_SIZE + 4, key.data, key.size);
        }
        if (value.size > 0) {
            memcpy(p + header, value.data, value.size);
        }
    }
    if (rc == 0 && expire_at_ms != 0 && expire_at_ms != old_expire) {
        rc = expiry_put(kv, slot, expire_at_ms, true);
    }
    if (rc == 0 && !slot->found) {
        rc = order_put(kv, slot, key, true);
    }
    if (rc != 0) {
        return rc;
    }
    if (!slot->found) {
        kv->pending.key_count++;
    }
    kv_change_note(kv, KV_CHANGE_SET, key);
    slot->found = true;
    slot->expire_at_ms = expire_at_ms;
    slot->meta = meta;
    slot->value = (const uint8_t *)v.mv_data + header;
    slot->value_size = value.size;
    return 0;
}

int kv_slot_del(struct kv_store *kv, struct kv_slot *slot, struct kv_bytes key)
{
    ASSERT(kv->wtxn != NULL);
    ASSERT(slot->found);
    ASSERT(kv->pending.key_count > 0);
    MDB_val k = {.mv_size = slot->stored_size, .mv_data = slot->stored};
    int rc = mdb_del(kv->wtxn, kv->dbi_data, &k, NULL);
    if (rc != 0) {
        return kv_mdb_fail(kv, rc, "delete a record");
    }
    if (slot->expire_at_ms != 0) {
        rc = expiry_put(kv, slot, slot->expire_at_ms, false);
    }
    if (rc == 0) {
        rc = order_put(kv, slot, key, false);
    }
    if (rc != 0) {
        return rc;
    }
    kv->pending.key_count--;
    kv->pending.del_index = kv->entry_index;
    kv_change_note(kv, KV_CHANGE_REMOVE, key);
    slot->found = false;
    slot->value = NULL;
    slot->value_size = 0;
    return 0;
}
