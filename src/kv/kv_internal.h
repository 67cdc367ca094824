/* kv_internal.h: the store's private state and the helpers its files share.
 *
 * LMDB layout (docs/kv.md "Layout"), four named databases:
 *   data     stored key -> record
 *   expires  u64 BE expire_at_ms | stored key -> empty    (only keys with a TTL)
 *   order    ordered key -> empty: every key in byte order, for prefix listings
 *   meta     "format" -> u32; "state" -> struct kv_meta; "conf" -> the last CONF payload
 * A stored key is the key's 64-bit hash, big-endian (so SCAN walks hash order), then:
 *   short key (<= KV_KEY_INLINE_MAX bytes): the key itself;
 *   long key: its first KV_KEY_INLINE_MAX bytes and a u32 BE probe number, because LMDB
 *   keys are at most 511 bytes; the record holds the whole key, and a lookup walks the few
 *   stored keys that share hash and prefix. Lengths tell the two forms apart.
 * A record: u8 flags | u64 LE expire_at_ms (0: none) | u64 LE create_index |
 *           u64 LE modify_index | u64 LE user_flags | [u32 LE size | key, if long] | value.
 * An ordered key is 0x00 then, for a short key, the key itself; for a long key its first
 * KV_ORDER_PREFIX_MAX bytes, its hash and its probe (so the stored key can be rebuilt from
 * it, and keys sort by those bytes). The 0x00 lets the empty key have an LMDB key.
 */
#ifndef SYN_KV_INTERNAL_H
#define SYN_KV_INTERNAL_H

#include <lmdb.h>
#include <stdarg.h>

#include "kv/kv_store.h"
#include "registry/reg_record.h"

#define KV_FORMAT 3u
#define KV_HASH_SIZE 8u
#define KV_KEY_INLINE_MAX 448u
#define KV_PROBE_SIZE 4u
#define KV_STORED_SHORT_MAX (KV_HASH_SIZE + KV_KEY_INLINE_MAX)
#define KV_STORED_LONG_SIZE (KV_STORED_SHORT_MAX + KV_PROBE_SIZE)
#define KV_EXPIRY_KEY_MAX (8u + KV_STORED_LONG_SIZE)
#define KV_RECORD_HEADER_SIZE 33u
#define KV_ORDER_PREFIX_MAX 498u
#define KV_ORDER_LONG_SIZE (1u + KV_ORDER_PREFIX_MAX + KV_HASH_SIZE + KV_PROBE_SIZE)
#define KV_RECORD_LONG_KEY 0x1u
#define KV_META_STATE_SIZE 48u
#define KV_DBS_MAX 6u              /* data, expires, order, meta, services, nodes */
#define KV_LMDB_KEY_SIZE_MAX 511u  /* LMDB's default MDB_MAXKEYSIZE; checked at open */
#define KV_PATH_SIZE_MAX 1024u     /* the store's directory plus a file name */
#define KV_MARKER_NAME "unsynced"  /* present while commits may not be on disk */
#define KV_OWNER_NAME "owner.lock" /* flock()ed by the process that has the store open */
#define KV_PROBE_NAME "fallocate.probe" /* write_map: can this file system reserve blocks? */
#define KV_RESERVE_AHEAD (32ull << 20)  /* write_map: blocks reserved beyond a batch's need */
#define KV_RESERVE_PER_ENTRY (12u << 10) /* ... and per entry (3 pages), besides twice its bytes */

_Static_assert(KV_EXPIRY_KEY_MAX <= KV_LMDB_KEY_SIZE_MAX, "an expiry index key fits LMDB");
_Static_assert(KV_ORDER_LONG_SIZE <= KV_LMDB_KEY_SIZE_MAX, "an ordered key fits LMDB");
_Static_assert(KV_ORDER_PREFIX_MAX >= KV_KEY_INLINE_MAX, "a long ordered key holds the inline part");
_Static_assert(KV_KEY_INLINE_MAX < SYN_KEY_SIZE_MAX, "long keys exist: their form is tested");

/* What the meta "state" record holds, LE u64s in this order. */
struct kv_meta {
    uint64_t applied_index;
    uint64_t applied_term;
    uint64_t key_count; /* records in data, expired ones included */
    uint64_t clock_ms;  /* the newest command clock applied: time never runs back */
    uint64_t del_index; /* the last entry that removed a key (deleted or expired) */
    uint64_t reg_index; /* the last entry that changed the service registry */
};

/* A borrowed slice handed to callbacks after a read found everything without error. */
struct kv_view {
    const uint8_t *data; /* NULL: absent */
    size_t size;
};

struct kv_store {
    MDB_env *env;
    MDB_dbi dbi_data;
    MDB_dbi dbi_expires;
    MDB_dbi dbi_order;
    MDB_dbi dbi_meta;
    MDB_dbi dbi_services; /* the registry (kv_registry.c) */
    MDB_dbi dbi_nodes;
    MDB_txn *wtxn;    /* the open batch, or NULL */
    MDB_txn *rtxn;    /* a read-only transaction, reset between reads; NULL until used */
    int batch_failed; /* the open batch's first error */
    struct kv_meta committed;
    struct kv_meta pending; /* the open batch's */
    uint64_t entry_index;   /* the entry being applied: keys written get it as modify index */
    kv_change_cb change_cb; /* may be NULL */
    void *change_ctx;
    bool dirty;             /* the unsynced marker exists: commits may not be on disk yet */
    int owner_fd;           /* flock()ed: one process per store */
    uint64_t map_size_max;
    /* write_map: LMDB's data file, its blocks reserved from offset 0 up to reserved, and the
     * bytes the open batch may need beyond the pages in use when it began (kv_apply.c) */
    int data_fd; /* -1 without write_map */
    uint64_t reserved;
    uint64_t batch_base;
    uint64_t batch_need;
    char *dir;
    struct kv_result spare; /* the result of kv_apply(..., NULL) */
    struct syn_buf scratch_key; /* a key copied out of a page that is about to be freed */
    /* kv_registry.c's working space: instances are large, so they live here */
    struct syn_buf reg_buf;
    struct reg_cmd reg_cmd;
    struct reg_instance reg_new;
    struct reg_instance reg_old;
    struct reg_instance reg_read;
    struct kv_view views[SYN_KV_KEYS_MAX];
    char errmsg[KV_ERRMSG_SIZE];
};

/* Where a key lives, or would live, in data. */
struct kv_slot {
    uint8_t stored[KV_STORED_LONG_SIZE];
    size_t stored_size;
    bool found;
    uint64_t expire_at_ms; /* when found */
    struct kv_meta_entry meta; /* when found */
    const uint8_t *value;  /* when found; borrowed from the transaction until it writes */
    size_t value_size;
};

/* A record's parts. */
struct kv_record {
    uint64_t expire_at_ms;
    struct kv_meta_entry meta;
    struct kv_bytes key; /* the whole key, for a long key; else empty */
    struct kv_bytes value;
};

static inline uint64_t kv_get_u64be(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

static inline void kv_put_u64be(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (56 - 8 * i));
    }
}

/* kv_store.c */
/* Reserves blocks for [offset, offset + size) of fd without changing its size; 0 or -1 with
 * errno (EOPNOTSUPP where the file system cannot). */
int kv_fallocate(int fd, uint64_t offset, uint64_t size);
int kv_fail(struct kv_store *kv, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int kv_mdb_fail(struct kv_store *kv, int mdb_rc, const char *what);
int kv_mdb_code(int mdb_rc);
int kv_path(char *out, const char *dir, const char *name); /* KV_PATH_SIZE_MAX bytes */
int kv_fsync_dir(const char *dir);
/* Takes the store directory's owner lock (flock on dir/owner.lock): 0 with *fd_out set, or
 * SYN_EBUSY (another process, or another handle in this one, holds it) or SYN_EIO. */
int kv_lock_dir(const char *dir, int *fd_out);
/* Commits txn, first making the unsynced marker durable if it is not. Aborts txn on error. */
int kv_commit(struct kv_store *kv, MDB_txn *txn);
int kv_meta_store(struct kv_store *kv, MDB_txn *txn, const struct kv_meta *meta);
const struct kv_meta *kv_meta_now(const struct kv_store *kv);
uint64_t kv_clock(const struct kv_store *kv, uint64_t now_ms);
int kv_read_begin(struct kv_store *kv, MDB_txn **txn);
void kv_read_end(struct kv_store *kv, MDB_txn *txn);
int kv_meta_load(MDB_txn *txn, MDB_dbi dbi, struct kv_meta *meta, const char **why);

/* kv_key.c */
uint64_t kv_key_hash(const uint8_t *key, size_t size);
bool kv_expired(uint64_t expire_at_ms, uint64_t now_ms);
int kv_record_parse(const MDB_val *stored, const MDB_val *v, struct kv_record *rec);
struct kv_bytes kv_stored_user_key(const MDB_val *stored, const struct kv_record *rec);
int kv_slot_find(struct kv_store *kv, MDB_txn *txn, struct kv_bytes key, struct kv_slot *slot);
/* Writes key's record: its create index is kept (a new key gets the entry being applied),
 * its modify index becomes the entry being applied. */
int kv_slot_put(struct kv_store *kv, struct kv_slot *slot, struct kv_bytes key,
                struct kv_bytes value, uint64_t expire_at_ms, uint64_t user_flags);
int kv_slot_del(struct kv_store *kv, struct kv_slot *slot, struct kv_bytes key);
/* The ordered key of key (KV_ORDER_LONG_SIZE bytes at out); its size. */
size_t kv_order_key(struct kv_bytes key, uint64_t hash, uint32_t probe, uint8_t *out);
/* Tells the change observer, if any, about the entry being applied. */
void kv_change_note(struct kv_store *kv, enum kv_change what, struct kv_bytes key);
/* The stored key that an ordered key names. SYN_ECORRUPT if it is malformed. */
int kv_order_stored(const MDB_val *order, struct kv_slot *slot);

/* kv_list.c */
/* Removes every key that starts with prefix, in the open batch. */
int kv_delete_prefix(struct kv_store *kv, struct kv_bytes prefix);

#endif
