/* kv_apply.c: applying committed entries in batches: one LMDB write transaction per batch,
 * the applied index written in the same transaction, and the commands themselves. Apply
 * reads nothing but the store and the entry, so every replica computes the same thing. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/assert.h"
#include "base/err.h"
#include "base/num.h"
#include "kv/kv_internal.h"
#include "kv/kv_registry.h"
#include "registry/reg_record.h"

_Static_assert(KV_OP_MAX < REG_OP_FIRST, "the store's ops and the registry's do not overlap");

/* Doubles the map while it is more than half used, up to map_size_max, and notes where the
 * batch about to begin starts using new pages. Needs no transaction of this process to be
 * active (the read transaction is reset between reads). */
static int map_grow(struct kv_store *kv)
{
    MDB_envinfo info;
    MDB_stat stat;
    int rc = mdb_env_info(kv->env, &info);
    if (rc == 0) {
        rc = mdb_env_stat(kv->env, &stat);
    }
    if (rc != 0) {
        return kv_mdb_fail(kv, rc, "read the map's use");
    }
    uint64_t used = ((uint64_t)info.me_last_pgno + 1) * stat.ms_psize;
    uint64_t size = info.me_mapsize;
    kv->batch_base = used;
    kv->batch_need = 0;
    if (used <= size / 2 || size >= kv->map_size_max) {
        return 0;
    }
    uint64_t grown = size > kv->map_size_max / 2 ? kv->map_size_max : size * 2;
    rc = mdb_env_set_mapsize(kv->env, (size_t)grown);
    return rc == 0 ? 0 : kv_mdb_fail(kv, rc, "grow the map");
}

/* With write_map, LMDB writes pages through the map into a sparse file as large as the map:
 * a page over a hole the full disk cannot fill would kill the process with SIGBUS. So the
 * file's blocks are reserved ahead of use, a batch at a time, and a disk too full to reserve
 * fails the batch with SYN_ENOSPC like any write would. A batch may use KV_RESERVE_PER_ENTRY
 * plus twice the entry's bytes per entry (the pages it copies and the value), on top of
 * KV_RESERVE_AHEAD beyond the pages in use when it began (docs/storage.md). */
static int reserve(struct kv_store *kv, size_t entry_size)
{
    if (kv->data_fd < 0) {
        return 0;
    }
    kv->batch_need += KV_RESERVE_PER_ENTRY + 2 * (uint64_t)entry_size;
    uint64_t end = kv->batch_base + kv->batch_need + KV_RESERVE_AHEAD;
    if (end <= kv->reserved) {
        return 0;
    }
    MDB_envinfo info;
    int rc = mdb_env_info(kv->env, &info);
    if (rc != 0) {
        return kv_mdb_fail(kv, rc, "read the map's size");
    }
    if (end > info.me_mapsize) {
        end = info.me_mapsize; /* the file's size; past it the batch fails with MDB_MAP_FULL */
    }
    if (end <= kv->reserved) {
        return 0;
    }
    /* In steps rather than a call per batch; on a nearly full disk, just what is needed. */
    uint64_t step = end + KV_RESERVE_AHEAD <= info.me_mapsize ? end + KV_RESERVE_AHEAD : end;
    if (kv_fallocate(kv->data_fd, kv->reserved, step - kv->reserved) == 0) {
        kv->reserved = step;
        return 0;
    }
    if (step > end && (errno == ENOSPC || errno == EDQUOT) &&
        kv_fallocate(kv->data_fd, kv->reserved, end - kv->reserved) == 0) {
        kv->reserved = end;
        return 0;
    }
    int e = errno;
    return kv_fail(kv, e == ENOSPC || e == EDQUOT ? SYN_ENOSPC : SYN_EIO,
                   "reserve %llu MiB of disk for the store: %s",
                   (unsigned long long)((end - kv->reserved + (1u << 20) - 1) >> 20),
                   strerror(e));
}

int kv_apply_begin(struct kv_store *kv)
{
    ASSERT(kv->wtxn == NULL);
    int rc = map_grow(kv);
    if (rc == 0) {
        rc = reserve(kv, 0);
    }
    if (rc != 0) {
        return rc;
    }
    rc = mdb_txn_begin(kv->env, NULL, 0, &kv->wtxn);
    if (rc != 0) {
        kv->wtxn = NULL;
        return kv_mdb_fail(kv, rc, "begin a batch");
    }
    kv->pending = kv->committed;
    kv->batch_failed = 0;
    return 0;
}

void kv_apply_abort(struct kv_store *kv)
{
    ASSERT(kv->wtxn != NULL);
    mdb_txn_abort(kv->wtxn);
    kv->wtxn = NULL;
    kv->batch_failed = 0;
}

int kv_apply_commit(struct kv_store *kv)
{
    ASSERT(kv->wtxn != NULL);
    int rc = kv->batch_failed;
    if (rc == 0) {
        rc = kv_meta_store(kv, kv->wtxn, &kv->pending);
    }
    if (rc != 0) {
        kv_apply_abort(kv);
        return rc;
    }
    MDB_txn *txn = kv->wtxn;
    kv->wtxn = NULL; /* kv_commit() ends txn either way */
    rc = kv_commit(kv, txn);
    if (rc == 0) {
        kv->committed = kv->pending;
    }
    return rc;
}

/* ---- Commands ------------------------------------------------------------------------ */

/* Finds key for a write; an expired key is removed on the spot (lazy expiry) and is absent. */
static int find_live(struct kv_store *kv, struct kv_bytes key, uint64_t now, struct kv_slot *slot)
{
    int rc = kv_slot_find(kv, kv->wtxn, key, slot);
    if (rc == 0 && slot->found && kv_expired(slot->expire_at_ms, now)) {
        rc = kv_slot_del(kv, slot, key);
    }
    return rc;
}

static bool bytes_equal(const uint8_t *a, size_t a_size, struct kv_bytes b)
{
    return a_size == b.size && (a_size == 0 || memcmp(a, b.data, a_size) == 0);
}

static int apply_set(struct kv_store *kv, const struct kv_cmd *cmd, uint64_t now,
                     struct kv_result *res)
{
    struct kv_slot slot;
    int rc = find_live(kv, cmd->key, now, &slot);
    if (rc != 0) {
        return rc;
    }
    bool set = false;
    switch (cmd->cond) {
    case KV_COND_NONE:
        set = true;
        break;
    case KV_COND_NX:
        set = !slot.found;
        break;
    case KV_COND_XX:
        set = slot.found;
        break;
    case KV_COND_IFEQ:
        set = slot.found && bytes_equal(slot.value, slot.value_size, cmd->expected);
        break;
    default:
        UNREACHABLE(); /* the decoder checked */
    }
    /* The old value is copied before the write: LMDB may reuse its page. */
    if ((cmd->flags & KV_SET_GET) != 0 && slot.found) {
        rc = kv_result_set_bulk(res, slot.value, slot.value_size);
    } else {
        kv_result_set(res, set && (cmd->flags & KV_SET_GET) == 0 ? KV_RESULT_OK : KV_RESULT_NIL);
    }
    if (rc != 0 || !set) {
        return rc;
    }
    if (kv_expired(cmd->expire_at_ms, now)) {
        /* An expiry already past leaves no key (Redis 7: SET with a past time deletes). */
        return slot.found ? kv_slot_del(kv, &slot, cmd->key) : 0;
    }
    return kv_slot_put(kv, &slot, cmd->key, cmd->value, cmd->expire_at_ms, 0);
}

/* DEL removes the keys and counts the live ones; EXPIRE removes and counts only expired ones.
 * Both remove an expired key they name. A key named twice is removed once. */
static int apply_remove(struct kv_store *kv, const struct kv_cmd *cmd, uint64_t now,
                        struct kv_result *res)
{
    bool only_expired = cmd->op == KV_OP_EXPIRE;
    int64_t removed = 0;
    size_t offset = 0;
    for (uint32_t i = 0; i < cmd->item_count; i++) {
        struct kv_slot slot;
        struct kv_bytes key = kv_cmd_item(cmd, &offset);
        int rc = kv_slot_find(kv, kv->wtxn, key, &slot);
        if (rc != 0) {
            return rc;
        }
        bool expired = slot.found && kv_expired(slot.expire_at_ms, now);
        if (!slot.found || (only_expired && !expired)) {
            continue;
        }
        rc = kv_slot_del(kv, &slot, key);
        if (rc != 0) {
            return rc;
        }
        removed += expired == only_expired ? 1 : 0;
    }
    kv_result_set_integer(res, removed);
    return 0;
}

static int apply_incrby(struct kv_store *kv, const struct kv_cmd *cmd, uint64_t now,
                        struct kv_result *res)
{
    struct kv_slot slot;
    int rc = find_live(kv, cmd->key, now, &slot);
    if (rc != 0) {
        return rc;
    }
    int64_t old = 0;
    if (slot.found && !syn_i64_parse(slot.value, slot.value_size, &old)) {
        return kv_result_set_error(res, KV_ERR_NOT_INTEGER);
    }
    int64_t delta = cmd->delta;
    if ((delta < 0 && old < 0 && delta < INT64_MIN - old) ||
        (delta > 0 && old > 0 && delta > INT64_MAX - old)) {
        return kv_result_set_error(res, KV_ERR_OVERFLOW);
    }
    int64_t sum = old + delta;
    char digits[SYN_I64_TEXT_SIZE_MAX];
    size_t size = syn_i64_format(sum, digits);
    struct kv_bytes value = {.data = (const uint8_t *)digits, .size = size};
    kv_result_set_integer(res, sum);
    /* INCRBY keeps the key's TTL, as in Redis. */
    return kv_slot_put(kv, &slot, cmd->key, value, slot.found ? slot.expire_at_ms : 0,
                       slot.found ? slot.meta.user_flags : 0);
}

static int apply_mset(struct kv_store *kv, const struct kv_cmd *cmd, uint64_t now,
                      struct kv_result *res)
{
    size_t offset = 0;
    for (uint32_t i = 0; i < cmd->item_count; i += 2) {
        struct kv_bytes key = kv_cmd_item(cmd, &offset);
        struct kv_bytes value = kv_cmd_item(cmd, &offset);
        struct kv_slot slot;
        int rc = find_live(kv, key, now, &slot);
        if (rc == 0) {
            rc = kv_slot_put(kv, &slot, key, value, 0, 0); /* MSET clears TTLs */
        }
        if (rc != 0) {
            return rc;
        }
    }
    kv_result_set(res, KV_RESULT_OK);
    return 0;
}

/* Consul's ?cas=: 0 asks for an absent key, anything else for that modify index. */
static bool cas_holds(const struct kv_cmd *cmd, const struct kv_slot *slot)
{
    if (cmd->cond != KV_COND_CAS) {
        return true;
    }
    return cmd->cas_index == 0 ? !slot->found
                               : slot->found && slot->meta.modify_index == cmd->cas_index;
}

static int apply_put(struct kv_store *kv, const struct kv_cmd *cmd, uint64_t now,
                     struct kv_result *res)
{
    struct kv_slot slot;
    int rc = find_live(kv, cmd->key, now, &slot);
    if (rc != 0) {
        return rc;
    }
    bool holds = cas_holds(cmd, &slot);
    kv_result_set_integer(res, holds ? 1 : 0);
    return holds ? kv_slot_put(kv, &slot, cmd->key, cmd->value, 0, cmd->user_flags) : 0;
}

static int apply_delete(struct kv_store *kv, const struct kv_cmd *cmd, uint64_t now,
                        struct kv_result *res)
{
    if (cmd->recurse) {
        kv_result_set_integer(res, 1);
        return kv_delete_prefix(kv, cmd->key);
    }
    struct kv_slot slot;
    int rc = find_live(kv, cmd->key, now, &slot);
    if (rc != 0) {
        return rc;
    }
    bool holds = cmd->cond != KV_COND_CAS || (slot.found && cas_holds(cmd, &slot));
    kv_result_set_integer(res, holds ? 1 : 0);
    return holds && slot.found ? kv_slot_del(kv, &slot, cmd->key) : 0;
}

/* The replicated log (synod log): the key is the prefix and this entry's index, the same on
 * every replica; Flags holds the command's clock, the time the entry is shown with. */
static int apply_append(struct kv_store *kv, const struct kv_cmd *cmd, uint64_t now,
                        struct kv_result *res)
{
    char digits[KV_APPEND_INDEX_DIGITS + 1];
    kv_cmd_append_index(kv->entry_index, digits);
    struct syn_buf *key = &kv->scratch_key; /* free while commands apply (kv_list.c's) */
    syn_buf_reset(key);
    int rc = syn_buf_append(key, cmd->key.data, cmd->key.size);
    rc = rc == 0 ? syn_buf_append(key, digits, KV_APPEND_INDEX_DIGITS) : rc;
    struct kv_bytes k = {.data = key->data, .size = key->len};
    struct kv_slot slot;
    rc = rc == 0 ? find_live(kv, k, now, &slot) : rc;
    rc = rc == 0 ? kv_slot_put(kv, &slot, k, cmd->value, 0, now) : rc;
    kv_result_set_integer(res, (int64_t)kv->entry_index);
    return rc;
}

static int apply_command(struct kv_store *kv, const struct raft_entry *e, struct kv_result *res)
{
    if (reg_cmd_is_registry(e->data, e->data_size)) {
        return kv_registry_apply(kv, e->data, e->data_size, res);
    }
    struct kv_cmd cmd;
    if (kv_cmd_decode(e->data, e->data_size, &cmd) != 0) {
        char msg[SYN_KV_ERRMSG_SIZE_MAX];
        snprintf(msg, sizeof(msg), "ERR bad command in the log: %s", cmd.errmsg);
        return kv_result_set_error(res, msg);
    }
    /* The state machine's clock never runs back, even when leaders' clocks disagree: once a
     * key is expired in the log it stays expired. */
    uint64_t now = kv_clock(kv, cmd.now_ms);
    kv->pending.clock_ms = now;
    switch (cmd.op) {
    case KV_OP_SET:
        return apply_set(kv, &cmd, now, res);
    case KV_OP_DEL:
    case KV_OP_EXPIRE:
        return apply_remove(kv, &cmd, now, res);
    case KV_OP_INCRBY:
        return apply_incrby(kv, &cmd, now, res);
    case KV_OP_MSET:
        return apply_mset(kv, &cmd, now, res);
    case KV_OP_PUT:
        return apply_put(kv, &cmd, now, res);
    case KV_OP_DELETE:
        return apply_delete(kv, &cmd, now, res);
    case KV_OP_APPEND:
        return apply_append(kv, &cmd, now, res);
    default:
        UNREACHABLE(); /* the decoder checked */
    }
}

static int conf_store(struct kv_store *kv, const struct raft_entry *e)
{
    MDB_val k = {.mv_size = 4, .mv_data = "conf"};
    MDB_val v = {.mv_size = e->data_size, .mv_data = (void *)e->data};
    int rc = mdb_put(kv->wtxn, kv->dbi_meta, &k, &v, 0);
    return rc == 0 ? 0 : kv_mdb_fail(kv, rc, "store a configuration");
}

int kv_apply(struct kv_store *kv, const struct raft_entry *e, struct kv_result *res)
{
    ASSERT(kv->wtxn != NULL);
    ASSERT(e->index > kv->pending.applied_index); /* never apply an entry twice */
    if (kv->batch_failed != 0) {
        return kv->batch_failed;
    }
    if (res == NULL) {
        res = &kv->spare;
    }
    int rc = reserve(kv, e->data_size);
    if (rc != 0) {
        kv->batch_failed = rc;
        return rc;
    }
    kv->entry_index = e->index;
    switch (e->type) {
    case RAFT_ENTRY_NORMAL:
        rc = apply_command(kv, e, res);
        break;
    case RAFT_ENTRY_NOOP:
        kv_result_set(res, KV_RESULT_OK);
        break;
    case RAFT_ENTRY_CONF:
        kv_result_set(res, KV_RESULT_OK);
        rc = conf_store(kv, e);
        break;
    default:
        UNREACHABLE(); /* the Raft core checks entry types */
    }
    if (rc != 0) {
        kv->batch_failed = rc;
        return rc;
    }
    kv->pending.applied_index = e->index;
    kv->pending.applied_term = e->term;
    return 0;
}
