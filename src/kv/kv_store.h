/* kv_store.h: the replicated state machine: a key-value store in LMDB that applies committed
 * Raft entries and serves reads. docs/kv.md describes the layout, the durability contract,
 * expiry and SCAN.
 *
 * A shell module: it does file I/O through LMDB. One thread uses a store at a time (the
 * node's loop); calls on one store must not overlap.
 *
 *   kv_open()                          recovers the store and its applied index
 *   per Ready: kv_apply_begin()        one LMDB write transaction for the batch
 *              kv_apply() per entry    in log order; each gives a struct kv_result
 *              kv_apply_commit()       with the applied index, in the same transaction
 *   kv_get(), kv_mget(), kv_exists(), kv_scan(), kv_dbsize()   reads (after ReadIndex)
 *   kv_sync()                          before the WAL drops entries (compaction)
 *   kv_snapshot_write() / kv_snapshot_restore()
 *
 * Durability: the Raft WAL is the durable record. Commits do not fsync (MDB_NOSYNC); after a
 * process crash the store is at the applied index of its last commit and the node replays
 * the WAL from there. After a machine crash with unsynced commits LMDB may be torn:
 * kv_open() then refuses with SYN_ECORRUPT and the node restores the Raft snapshot.
 *
 * Determinism: entries carry everything apply looks at (the proposer's clock included), so
 * the same entries give the same data on every replica (kv_digest() compares them).
 *
 * Errors: negative SYN_E* codes with a sentence in kv_errmsg(). If a function that takes a
 * callback fails, the callback never ran.
 */
#ifndef SYN_KV_STORE_H
#define SYN_KV_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "kv/kv_cmd.h"
#include "raft/raft.h"

#define KV_ERRMSG_SIZE 320u
#define KV_MAP_SIZE_DEFAULT (4ull << 30) /* sparse: only written pages take disk */
#define KV_MAP_SIZE_MAX_DEFAULT (256ull << 30)
#define KV_MAP_SIZE_MIN (1ull << 20)
#define KV_SCAN_COUNT_DEFAULT 10u /* Redis's SCAN default */

struct kv_store;

/* What the store keeps beside each value (Consul's KV fields). */
struct kv_meta_entry {
    uint64_t create_index; /* the entry that created the key (since its last deletion) */
    uint64_t modify_index; /* the entry that last wrote it */
    uint64_t user_flags;   /* opaque to synod: Consul's ?flags= (0 after a RESP write) */
};

/* What changed, for kv_change_cb. */
enum kv_change {
    KV_CHANGE_SET = 1,      /* key was written */
    KV_CHANGE_REMOVE = 2,   /* key was removed (deleted or expired) */
    KV_CHANGE_ALL = 3,      /* the whole store was replaced (a snapshot installed) */
    KV_CHANGE_REGISTRY = 4, /* the service registry changed (key is empty) */
};

/* The entry at index changed the store, in an open batch: called for every key a command
 * changes, in order; key is borrowed for the call. The data is readable once the batch
 * commits. */
typedef void (*kv_change_cb)(void *ctx, enum kv_change what, struct kv_bytes key,
                             uint64_t index);

struct kv_options {
    uint64_t map_size;     /* LMDB map size at open, bytes; 0: KV_MAP_SIZE_DEFAULT */
    uint64_t map_size_max; /* kv_apply_begin() doubles the map when it is half used, up to
                              this; 0: KV_MAP_SIZE_MAX_DEFAULT */
    bool write_map;        /* MDB_WRITEMAP: applies 1.5-4x faster (docs/kv.md), but the data
                              file is a sparse file of the map's size and a full disk kills
                              the process with SIGBUS instead of failing with SYN_ENOSPC */
};

/* Opens the store in dir (created if missing: dir/data.mdb, dir/lock.mdb). opts may be NULL.
 * 0; SYN_EINVAL (bad options); SYN_EBUSY (another process has it open);
 * SYN_ECORRUPT (not a synod store, an unknown format, or LMDB may be torn by a machine crash:
 * restore the Raft snapshot with kv_snapshot_restore()); SYN_EIO; SYN_ENOMEM.
 * On failure *out is NULL and errmsg (KV_ERRMSG_SIZE bytes, may be NULL) says why. */
int kv_open(const char *dir, const struct kv_options *opts, struct kv_store **out, char *errmsg);
/* Aborts an open batch, syncs LMDB, and frees the store (always). 0, or the sync's error:
 * the store is still consistent at some applied index. */
int kv_close(struct kv_store *kv);
/* A sentence about the last error. */
const char *kv_errmsg(const struct kv_store *kv);
/* Sets (cb NULL: clears) the one observer of changes (blocking queries). */
void kv_set_change_cb(struct kv_store *kv, kv_change_cb cb, void *ctx);

/* ---- Applying committed entries ------------------------------------------------------ */

/* Starts a batch: one LMDB write transaction. No batch may be open. 0, SYN_ENOMEM, SYN_EIO. */
int kv_apply_begin(struct kv_store *kv);
/* Applies one committed entry: a NORMAL entry runs its command; NOOP and CONF (the conf is
 * kept, see kv_conf()) only advance the applied index. e->index must exceed the applied
 * index (ASSERT: the shell skips entries at or below kv_applied_index() after a restart).
 * A NORMAL entry that does not decode yields an ERROR result and still advances the index:
 * the same bytes are in every replica's log, so every replica does the same.
 * res (may be NULL) is overwritten with the command's result.
 * 0; a negative code (SYN_ENOSPC: the map is full; SYN_ENOMEM; SYN_EIO; SYN_ECORRUPT) means
 * the batch failed: it must be aborted (kv_apply_commit() does that and returns the code). */
int kv_apply(struct kv_store *kv, const struct raft_entry *e, struct kv_result *res);
/* Ends the batch: writes the applied index, term, key count and clock, then commits (no
 * fsync). 0, or the batch's first error, or the commit's (the batch is then discarded). */
int kv_apply_commit(struct kv_store *kv);
/* Discards an open batch: the store is back at the last commit. */
void kv_apply_abort(struct kv_store *kv);
/* The last entry applied (and its term), including an open batch's entries. 0: none. */
uint64_t kv_applied_index(const struct kv_store *kv);
uint64_t kv_applied_term(const struct kv_store *kv);
/* Copies the payload of the last CONF entry applied into out. 0, SYN_ENOENT (none yet),
 * SYN_ENOMEM, SYN_EIO. */
int kv_conf(struct kv_store *kv, struct syn_buf *out);

/* Makes every commit durable (fsync), so the WAL may drop the entries they applied.
 * 0 or SYN_EIO. */
int kv_sync(struct kv_store *kv);

/* ---- Reads ----------------------------------------------------------------------------
 * Reads see every entry applied so far: between batches, the last commit; during a batch,
 * the batch too (they read through its transaction; all of it is committed in Raft). An
 * expired key is absent. now_ms is the reader's clock; the store never lets it run behind
 * the newest command's clock (docs/kv.md "Expiry"). */

/* Copies key's value into value_out (reset first). 0, SYN_ENOENT (absent or expired),
 * SYN_ENOMEM, SYN_EIO, SYN_ECORRUPT. */
int kv_get(struct kv_store *kv, struct kv_bytes key, uint64_t now_ms, struct syn_buf *value_out);
/* Like kv_get(), and the key's meta. */
int kv_get_entry(struct kv_store *kv, struct kv_bytes key, uint64_t now_ms,
                 struct syn_buf *value_out, struct kv_meta_entry *meta_out);

/* key and value: borrowed for the call; value is NULL when listing keys only. Return 0 to go
 * on, anything else stops the listing and is returned by kv_list(). */
typedef int (*kv_entry_cb)(void *ctx, struct kv_bytes key, const uint8_t *value,
                           size_t value_size, const struct kv_meta_entry *meta);
/* Calls cb for every live key that starts with prefix, in byte order (keys longer than
 * KV_ORDER_PREFIX_MAX bytes sort by their first 498 bytes), from one consistent view.
 * with_values: pass values too. *index_out (may be NULL): the index of that view for
 * blocking queries: the highest modify index listed, or the last removal of any key if
 * higher (a removal under the prefix must move it; one elsewhere may), at least 1.
 * 0, cb's non-zero return, SYN_ENOMEM, SYN_EIO, SYN_ECORRUPT. */
int kv_list(struct kv_store *kv, struct kv_bytes prefix, bool with_values, uint64_t now_ms,
            kv_entry_cb cb, void *ctx, uint64_t *index_out);
/* The index a read of absent keys reports: the last removal of any key, at least 1. */
uint64_t kv_absent_index(const struct kv_store *kv);

/* Counts the keys present (a key named twice counts twice, as in Redis). */
int kv_exists(struct kv_store *kv, const struct kv_bytes *keys, uint32_t key_count, uint64_t now_ms,
              uint32_t *count_out);

/* value: borrowed for the call; NULL when the key is absent. */
typedef void (*kv_value_cb)(void *ctx, uint32_t i, const uint8_t *value, size_t size);
/* Calls cb once per key, in order, from one consistent view. key_count <= SYN_KV_KEYS_MAX. */
int kv_mget(struct kv_store *kv, const struct kv_bytes *keys, uint32_t key_count, uint64_t now_ms,
            kv_value_cb cb, void *ctx);

/* key: borrowed for the call. */
typedef void (*kv_key_cb)(void *ctx, const uint8_t *key, size_t size);
/* One SCAN step from cursor (0 starts): visits about count keys (0: KV_SCAN_COUNT_DEFAULT;
 * at most SYN_KV_SCAN_COUNT_MAX), calls cb for those live and matching pattern
 * (kv_glob.h; pattern.data NULL or "*": all), and sets *next_cursor (0: the scan is done).
 * A key present for the whole scan is returned exactly once; a key added or removed meanwhile
 * may or may not be. Order is by a hash of the key, so a cursor is a 64-bit number. */
int kv_scan(struct kv_store *kv, uint64_t cursor, struct kv_bytes pattern, uint32_t count,
            uint64_t now_ms, kv_key_cb cb, void *ctx, uint64_t *next_cursor);
/* The number of live keys: the stored count less the expired keys not removed yet, of which
 * it looks at no more than SYN_KV_DBSIZE_SCAN_MAX (past that it counts them as Redis does). */
int kv_dbsize(struct kv_store *kv, uint64_t now_ms, uint64_t *count_out);
/* Calls cb for up to max (<= SYN_KV_EXPIRED_MAX) keys that are expired at now_ms but still
 * stored, soonest expired first: the leader proposes KV_OP_EXPIRE for them (active expiry). */
int kv_expired_keys(struct kv_store *kv, uint64_t now_ms, uint32_t max, kv_key_cb cb, void *ctx);
/* A 64-bit digest of everything stored (data, expiry index, applied index and meta): equal
 * on replicas that applied the same entries. Between batches only; reads the whole store. */
int kv_digest(struct kv_store *kv, uint64_t *digest_out);

/* ---- Snapshots ----------------------------------------------------------------------- */

/* Writes a compact, consistent copy of the store as of the last commit (no batch may be
 * open) to path (created or truncated), fsyncs it and sets *size_out. The caller writes to a
 * temporary path and does the rename and directory fsync. The copy's applied index is
 * kv_applied_index(). On failure the file is removed. 0, SYN_EIO, SYN_ENOSPC. */
int kv_snapshot_write(struct kv_store *kv, const char *path, uint64_t *size_out);
/* Like kv_snapshot_write(), but safe to run on another thread while the owner keeps applying
 * batches: it uses only the LMDB environment, and the copy is whatever commit its read
 * transaction saw: *index_out is that commit's applied index (read back from the copy).
 * Errors go to errmsg (KV_ERRMSG_SIZE bytes), never to the store's. */
int kv_snapshot_copy(struct kv_store *kv, const char *path, uint64_t *size_out,
                     uint64_t *index_out, char *errmsg);
/* Replaces the data of the store in dir (which must not be open) with a copy of the
 * snapshot at snapshot_path, which stays as it is: copied, fsynced, checked (a synod store
 * whose key count matches), renamed into place, directory fsynced. The next kv_open() finds
 * the snapshot's applied index. 0, SYN_ECORRUPT (not a valid snapshot: dir is untouched),
 * SYN_EIO, SYN_ENOSPC; errmsg (KV_ERRMSG_SIZE bytes, may be NULL) says why. */
int kv_snapshot_restore(const char *dir, const char *snapshot_path, char *errmsg);

#endif
