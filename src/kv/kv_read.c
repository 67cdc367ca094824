/* kv_read.c: reads: GET, EXISTS, MGET, SCAN, DBSIZE, the expired keys for active expiry,
 * and the digest replicas compare. Each read uses one transaction and gathers what it found
 * before it calls back, so that a failing read never half-ran its callback. */
#include <string.h>

#include "base/assert.h"
#include "base/err.h"
#include "kv/kv_glob.h"
#include "kv/kv_internal.h"

/* Looks key up for a read: found only when live at now. */
static int find_live(struct kv_store *kv, MDB_txn *txn, struct kv_bytes key, uint64_t now,
                     struct kv_slot *slot)
{
    int rc = kv_slot_find(kv, txn, key, slot);
    if (rc == 0 && slot->found && kv_expired(slot->expire_at_ms, now)) {
        slot->found = false;
    }
    return rc;
}

int kv_get_entry(struct kv_store *kv, struct kv_bytes key, uint64_t now_ms,
                 struct syn_buf *value_out, struct kv_meta_entry *meta_out)
{
    MDB_txn *txn = NULL;
    int rc = kv_read_begin(kv, &txn);
    if (rc != 0) {
        return rc;
    }
    struct kv_slot slot;
    rc = find_live(kv, txn, key, kv_clock(kv, now_ms), &slot);
    if (rc == 0 && !slot.found) {
        rc = SYN_ENOENT;
    }
    if (rc == 0) {
        syn_buf_reset(value_out);
        rc = syn_buf_append(value_out, slot.value, slot.value_size);
    }
    if (rc == 0 && meta_out != NULL) {
        *meta_out = slot.meta;
    }
    kv_read_end(kv, txn);
    return rc;
}

int kv_get(struct kv_store *kv, struct kv_bytes key, uint64_t now_ms, struct syn_buf *value_out)
{
    return kv_get_entry(kv, key, now_ms, value_out, NULL);
}

/* Looks up keys into kv->views (data NULL: absent), in one transaction left open for the
 * caller to end once done with the views. */
static int lookup_many(struct kv_store *kv, const struct kv_bytes *keys, uint32_t key_count,
                       uint64_t now_ms, MDB_txn **txn)
{
    ASSERT(key_count <= SYN_KV_KEYS_MAX);
    int rc = kv_read_begin(kv, txn);
    uint64_t now = kv_clock(kv, now_ms);
    for (uint32_t i = 0; rc == 0 && i < key_count; i++) {
        struct kv_slot slot;
        rc = find_live(kv, *txn, keys[i], now, &slot);
        kv->views[i] = slot.found ? (struct kv_view){.data = slot.value, .size = slot.value_size}
                                  : (struct kv_view){0};
    }
    if (rc != 0 && *txn != NULL) {
        kv_read_end(kv, *txn);
    }
    return rc;
}

int kv_exists(struct kv_store *kv, const struct kv_bytes *keys, uint32_t key_count, uint64_t now_ms,
              uint32_t *count_out)
{
    MDB_txn *txn = NULL;
    int rc = lookup_many(kv, keys, key_count, now_ms, &txn);
    if (rc != 0) {
        return rc;
    }
    uint32_t count = 0;
    for (uint32_t i = 0; i < key_count; i++) {
        count += kv->views[i].data != NULL ? 1 : 0;
    }
    kv_read_end(kv, txn);
    *count_out = count;
    return 0;
}

int kv_mget(struct kv_store *kv, const struct kv_bytes *keys, uint32_t key_count, uint64_t now_ms,
            kv_value_cb cb, void *ctx)
{
    MDB_txn *txn = NULL;
    int rc = lookup_many(kv, keys, key_count, now_ms, &txn);
    if (rc != 0) {
        return rc;
    }
    for (uint32_t i = 0; i < key_count; i++) {
        cb(ctx, i, kv->views[i].data, kv->views[i].size);
    }
    kv_read_end(kv, txn);
    return 0;
}

/* ---- SCAN ----------------------------------------------------------------------------
 * The data database is ordered by the keys' 64-bit hash, so a cursor is a hash: a step
 * starts at the first stored key whose hash is >= cursor, visits about count keys, and
 * finishes the run of keys that share the last hash before it stops; the next cursor is
 * that hash + 1. Each step covers a whole range of hashes, so a key present for the whole
 * scan is returned exactly once, whatever is written in between. */

struct scan_state {
    uint32_t count;
    bool match_all;
    struct kv_bytes pattern;
    uint64_t now;
    uint32_t visited;
    uint32_t found; /* views filled */
    uint64_t last_hash;
};

/* Visits one stored key: 1 when the step is over before it (a new hash past count). */
static int scan_visit(struct kv_store *kv, struct scan_state *s, const MDB_val *k, const MDB_val *v)
{
    struct kv_record rec;
    if (kv_record_parse(k, v, &rec) != 0) {
        return kv_fail(kv, SYN_ECORRUPT, "a record is malformed");
    }
    uint64_t hash = kv_get_u64be(k->mv_data);
    /* A run of one hash longer than the views is cut (docs/kv.md): thousands of keys with
     * one SipHash value, a multicollision nobody can compute. */
    if ((s->visited >= s->count && hash != s->last_hash) || s->found == SYN_KV_KEYS_MAX) {
        return 1;
    }
    s->visited++;
    s->last_hash = hash;
    struct kv_bytes key = kv_stored_user_key(k, &rec);
    if (kv_expired(rec.expire_at_ms, s->now)) {
        return 0;
    }
    if (s->match_all || kv_glob_match(s->pattern.data, s->pattern.size, key.data, key.size)) {
        kv->views[s->found++] = (struct kv_view){.data = key.data, .size = key.size};
    }
    return 0;
}

static int scan_walk(struct kv_store *kv, MDB_txn *txn, uint64_t cursor, struct scan_state *s,
                     bool *done)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, kv->dbi_data, &cur);
    if (rc != 0) {
        return kv_mdb_fail(kv, rc, "open a cursor");
    }
    uint8_t start[KV_HASH_SIZE];
    kv_put_u64be(start, cursor);
    MDB_val k = {.mv_size = sizeof(start), .mv_data = start};
    MDB_val v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    int stop = 0;
    while (rc == 0 && stop == 0) {
        stop = scan_visit(kv, s, &k, &v);
        if (stop == 0) {
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
        }
    }
    mdb_cursor_close(cur);
    if (stop < 0) {
        return stop;
    }
    if (rc != 0 && rc != MDB_NOTFOUND) {
        return kv_mdb_fail(kv, rc, "scan");
    }
    *done = rc == MDB_NOTFOUND;
    return 0;
}

int kv_scan(struct kv_store *kv, uint64_t cursor, struct kv_bytes pattern, uint32_t count,
            uint64_t now_ms, kv_key_cb cb, void *ctx, uint64_t *next_cursor)
{
    struct scan_state s = {
        .count = count == 0 ? KV_SCAN_COUNT_DEFAULT : count,
        .match_all = pattern.data == NULL || (pattern.size == 1 && pattern.data[0] == '*'),
        .pattern = pattern,
        .now = kv_clock(kv, now_ms),
    };
    if (s.count > SYN_KV_SCAN_COUNT_MAX) {
        s.count = SYN_KV_SCAN_COUNT_MAX;
    }
    MDB_txn *txn = NULL;
    int rc = kv_read_begin(kv, &txn);
    if (rc != 0) {
        return rc;
    }
    bool done = false;
    rc = scan_walk(kv, txn, cursor, &s, &done);
    if (rc == 0) {
        for (uint32_t i = 0; i < s.found; i++) {
            cb(ctx, kv->views[i].data, kv->views[i].size);
        }
        *next_cursor = done || s.last_hash == UINT64_MAX ? 0 : s.last_hash + 1;
    }
    kv_read_end(kv, txn);
    return rc;
}

/* ---- Expiry -------------------------------------------------------------------------- */

/* Walks the expiry index from the soonest, while the time is <= now, for at most max keys;
 * fills kv->views with their keys when views is set. */
static int expiry_walk(struct kv_store *kv, MDB_txn *txn, uint64_t now, uint32_t max, bool views,
                       uint32_t *count_out)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, kv->dbi_expires, &cur);
    if (rc != 0) {
        return kv_mdb_fail(kv, rc, "open a cursor");
    }
    uint32_t count = 0;
    MDB_val k, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0 && count < max) {
        if (k.mv_size < 8 + KV_HASH_SIZE || kv_get_u64be(k.mv_data) > now) {
            break;
        }
        if (views) {
            MDB_val stored = {.mv_size = k.mv_size - 8, .mv_data = (uint8_t *)k.mv_data + 8};
            MDB_val record;
            struct kv_record rec;
            rc = mdb_get(txn, kv->dbi_data, &stored, &record);
            if (rc != 0 || kv_record_parse(&stored, &record, &rec) != 0) {
                mdb_cursor_close(cur);
                return kv_fail(kv, SYN_ECORRUPT, "the expiry index names a missing key");
            }
            struct kv_bytes key = kv_stored_user_key(&stored, &rec);
            kv->views[count] = (struct kv_view){.data = key.data, .size = key.size};
        }
        count++;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        return kv_mdb_fail(kv, rc, "walk the expiry index");
    }
    *count_out = count;
    return 0;
}

int kv_expired_keys(struct kv_store *kv, uint64_t now_ms, uint32_t max, kv_key_cb cb, void *ctx)
{
    MDB_txn *txn = NULL;
    int rc = kv_read_begin(kv, &txn);
    if (rc != 0) {
        return rc;
    }
    uint32_t count = 0;
    uint32_t limit = max < SYN_KV_EXPIRED_MAX ? max : SYN_KV_EXPIRED_MAX;
    rc = expiry_walk(kv, txn, kv_clock(kv, now_ms), limit, true, &count);
    for (uint32_t i = 0; rc == 0 && i < count; i++) {
        cb(ctx, kv->views[i].data, kv->views[i].size);
    }
    kv_read_end(kv, txn);
    return rc;
}

int kv_dbsize(struct kv_store *kv, uint64_t now_ms, uint64_t *count_out)
{
    MDB_txn *txn = NULL;
    int rc = kv_read_begin(kv, &txn);
    if (rc != 0) {
        return rc;
    }
    uint32_t expired = 0;
    rc = expiry_walk(kv, txn, kv_clock(kv, now_ms), SYN_KV_DBSIZE_SCAN_MAX, false, &expired);
    uint64_t stored = kv_meta_now(kv)->key_count;
    kv_read_end(kv, txn);
    if (rc == 0 && expired > stored) {
        rc = kv_fail(kv, SYN_ECORRUPT, "the expiry index holds more keys than the store");
    }
    if (rc == 0) {
        *count_out = stored - expired;
    }
    return rc;
}

/* ---- Digest -------------------------------------------------------------------------- */

static uint64_t fnv1a(uint64_t h, const void *data, size_t size)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < size; i++) {
        h = (h ^ p[i]) * 0x100000001b3ull;
    }
    return h;
}

static int digest_db(struct kv_store *kv, MDB_txn *txn, MDB_dbi dbi, uint64_t *h)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0) {
        return kv_mdb_fail(kv, rc, "open a cursor");
    }
    MDB_val k, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0) {
        uint8_t sizes[16];
        syn_put_u64le(sizes, k.mv_size);
        syn_put_u64le(sizes + 8, v.mv_size);
        *h = fnv1a(*h, sizes, sizeof(sizes));
        *h = fnv1a(*h, k.mv_data, k.mv_size);
        *h = fnv1a(*h, v.mv_data, v.mv_size);
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : kv_mdb_fail(kv, rc, "digest");
}

int kv_digest(struct kv_store *kv, uint64_t *digest_out)
{
    ASSERT(kv->wtxn == NULL); /* the meta record is written at commit */
    MDB_txn *txn = NULL;
    int rc = kv_read_begin(kv, &txn);
    if (rc != 0) {
        return rc;
    }
    uint64_t h = 0xcbf29ce484222325ull;
    MDB_dbi dbis[6] = {kv->dbi_meta,  kv->dbi_data,     kv->dbi_expires,
                       kv->dbi_order, kv->dbi_services, kv->dbi_nodes};
    for (int i = 0; rc == 0 && i < 6; i++) {
        rc = digest_db(kv, txn, dbis[i], &h);
    }
    kv_read_end(kv, txn);
    if (rc == 0) {
        *digest_out = h;
    }
    return rc;
}
