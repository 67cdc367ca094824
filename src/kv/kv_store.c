/* kv_store.c: opening and closing the store, its errors, its meta record, the unsynced
 * marker that tells a process crash (harmless) from a machine crash (LMDB may be torn), and
 * the read transaction that reads share. */
#define _GNU_SOURCE /* fallocate(2) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/assert.h"
#include "base/err.h"
#include "kv/kv_internal.h"

#define KV_BOOT_ID_SIZE 64u
#define KV_ENV_FLAGS (MDB_NOSYNC | MDB_NOMETASYNC | MDB_NOTLS | MDB_NORDAHEAD)

/* ---- Errors -------------------------------------------------------------------------- */

int kv_fail(struct kv_store *kv, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(kv->errmsg, sizeof(kv->errmsg), fmt, ap);
    va_end(ap);
    return code;
}

int kv_mdb_code(int mdb_rc)
{
    switch (mdb_rc) {
    case MDB_MAP_FULL:
    case ENOSPC:
        return SYN_ENOSPC;
    case ENOMEM:
        return SYN_ENOMEM;
    case MDB_INVALID:
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_VERSION_MISMATCH:
        return SYN_ECORRUPT;
    case EAGAIN:
    case EBUSY:
    case MDB_READERS_FULL:
        return SYN_EBUSY;
    default:
        return SYN_EIO;
    }
}

int kv_mdb_fail(struct kv_store *kv, int mdb_rc, const char *what)
{
    return kv_fail(kv, kv_mdb_code(mdb_rc), "%s: %s", what, mdb_strerror(mdb_rc));
}

const char *kv_errmsg(const struct kv_store *kv)
{
    return kv->errmsg;
}

/* ---- Files --------------------------------------------------------------------------- */

int kv_path(char *out, const char *dir, const char *name)
{
    int n = snprintf(out, KV_PATH_SIZE_MAX, "%s/%s", dir, name);
    return n > 0 && (size_t)n < KV_PATH_SIZE_MAX ? 0 : SYN_EINVAL;
}

int kv_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return SYN_EIO;
    }
    int rc = fsync(fd) == 0 ? 0 : SYN_EIO;
    close(fd);
    return rc;
}

/* This boot's id; empty when the system does not say (then any marker counts as a crash). */
static void boot_id(char out[KV_BOOT_ID_SIZE])
{
    out[0] = '\0';
    int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return;
    }
    ssize_t n = read(fd, out, KV_BOOT_ID_SIZE - 1);
    close(fd);
    out[n > 0 ? n : 0] = '\0';
}

/* Before the first commit after a sync: a durable marker holding the boot id, because LMDB
 * pages written without fsync may reach the disk in any order (LMDB's MDB_NOSYNC: a system
 * crash can corrupt the database). */
static int marker_write(struct kv_store *kv)
{
    char path[KV_PATH_SIZE_MAX];
    char id[KV_BOOT_ID_SIZE];
    boot_id(id);
    ASSERT(kv_path(path, kv->dir, KV_MARKER_NAME) == 0); /* kv_open() checked the length */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return kv_fail(kv, SYN_EIO, "create %s: %s", path, strerror(errno));
    }
    size_t size = strlen(id);
    bool ok = write(fd, id, size) == (ssize_t)size && fsync(fd) == 0;
    close(fd);
    if (!ok || kv_fsync_dir(kv->dir) != 0) {
        return kv_fail(kv, SYN_EIO, "write %s", path);
    }
    kv->dirty = true;
    return 0;
}

static int marker_remove(struct kv_store *kv)
{
    char path[KV_PATH_SIZE_MAX];
    ASSERT(kv_path(path, kv->dir, KV_MARKER_NAME) == 0);
    if (unlink(path) != 0 && errno != ENOENT) {
        return kv_fail(kv, SYN_EIO, "remove %s: %s", path, strerror(errno));
    }
    if (kv_fsync_dir(kv->dir) != 0) {
        return kv_fail(kv, SYN_EIO, "fsync %s", kv->dir);
    }
    kv->dirty = false;
    return 0;
}

/* A marker left by this boot means a process crash: the page cache kept every commit. One
 * left by another boot (or when the boot id is unknown) means LMDB may be torn. */
static int marker_check(struct kv_store *kv)
{
    char path[KV_PATH_SIZE_MAX];
    ASSERT(kv_path(path, kv->dir, KV_MARKER_NAME) == 0);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno == ENOENT ? 0 : kv_fail(kv, SYN_EIO, "open %s: %s", path, strerror(errno));
    }
    char stored[KV_BOOT_ID_SIZE];
    ssize_t n = read(fd, stored, sizeof(stored) - 1);
    close(fd);
    stored[n > 0 ? n : 0] = '\0';
    char now[KV_BOOT_ID_SIZE];
    boot_id(now);
    if (now[0] == '\0' || strcmp(stored, now) != 0) {
        return kv_fail(kv, SYN_ECORRUPT,
                       "%s: the machine restarted while the store held unsynced commits, so "
                       "LMDB may be torn: restore the Raft snapshot (kv_snapshot_restore)",
                       path);
    }
    kv->dirty = true;
    return 0;
}

int kv_commit(struct kv_store *kv, MDB_txn *txn)
{
    if (!kv->dirty) {
        int rc = marker_write(kv);
        if (rc != 0) {
            mdb_txn_abort(txn);
            return rc;
        }
    }
    int rc = mdb_txn_commit(txn);
    return rc == 0 ? 0 : kv_mdb_fail(kv, rc, "commit");
}

/* ---- Meta ---------------------------------------------------------------------------- */

int kv_meta_load(MDB_txn *txn, MDB_dbi dbi, struct kv_meta *meta, const char **why)
{
    MDB_val k = {.mv_size = 6, .mv_data = "format"};
    MDB_val v;
    if (mdb_get(txn, dbi, &k, &v) != 0 || v.mv_size != 4) {
        *why = "no format record: not a synod store";
        return SYN_ECORRUPT;
    }
    if (syn_get_u32le(v.mv_data) != KV_FORMAT) {
        *why = "an unknown store format";
        return SYN_ECORRUPT;
    }
    k = (MDB_val){.mv_size = 5, .mv_data = "state"};
    if (mdb_get(txn, dbi, &k, &v) != 0 || v.mv_size != KV_META_STATE_SIZE) {
        *why = "no state record";
        return SYN_ECORRUPT;
    }
    const uint8_t *p = v.mv_data;
    *meta = (struct kv_meta){.applied_index = syn_get_u64le(p),
                             .applied_term = syn_get_u64le(p + 8),
                             .key_count = syn_get_u64le(p + 16),
                             .clock_ms = syn_get_u64le(p + 24),
                             .del_index = syn_get_u64le(p + 32),
                             .reg_index = syn_get_u64le(p + 40)};
    return 0;
}

int kv_meta_store(struct kv_store *kv, MDB_txn *txn, const struct kv_meta *meta)
{
    uint8_t state[KV_META_STATE_SIZE];
    syn_put_u64le(state, meta->applied_index);
    syn_put_u64le(state + 8, meta->applied_term);
    syn_put_u64le(state + 16, meta->key_count);
    syn_put_u64le(state + 24, meta->clock_ms);
    syn_put_u64le(state + 32, meta->del_index);
    syn_put_u64le(state + 40, meta->reg_index);
    MDB_val k = {.mv_size = 5, .mv_data = "state"};
    MDB_val v = {.mv_size = sizeof(state), .mv_data = state};
    int rc = mdb_put(txn, kv->dbi_meta, &k, &v, 0);
    return rc == 0 ? 0 : kv_mdb_fail(kv, rc, "store the applied index");
}

const struct kv_meta *kv_meta_now(const struct kv_store *kv)
{
    return kv->wtxn != NULL ? &kv->pending : &kv->committed;
}

uint64_t kv_clock(const struct kv_store *kv, uint64_t now_ms)
{
    uint64_t clock = kv_meta_now(kv)->clock_ms;
    return now_ms > clock ? now_ms : clock;
}

uint64_t kv_absent_index(const struct kv_store *kv)
{
    uint64_t index = kv_meta_now(kv)->del_index;
    return index > 0 ? index : 1;
}

void kv_set_change_cb(struct kv_store *kv, kv_change_cb cb, void *ctx)
{
    kv->change_cb = cb;
    kv->change_ctx = ctx;
}

uint64_t kv_applied_index(const struct kv_store *kv)
{
    return kv_meta_now(kv)->applied_index;
}

uint64_t kv_applied_term(const struct kv_store *kv)
{
    return kv_meta_now(kv)->applied_term;
}

/* ---- Opening ------------------------------------------------------------------------- */

/* A brand-new store: create the databases and the meta records. */
static int create_dbs(struct kv_store *kv)
{
    MDB_txn *txn = NULL;
    int rc = mdb_txn_begin(kv->env, NULL, 0, &txn);
    if (rc != 0) {
        return kv_mdb_fail(kv, rc, "begin a transaction");
    }
    uint8_t format[4];
    syn_put_u32le(format, KV_FORMAT);
    MDB_val k = {.mv_size = 6, .mv_data = "format"};
    MDB_val v = {.mv_size = sizeof(format), .mv_data = format};
    if ((rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &kv->dbi_meta)) != 0 ||
        (rc = mdb_dbi_open(txn, "data", MDB_CREATE, &kv->dbi_data)) != 0 ||
        (rc = mdb_dbi_open(txn, "expires", MDB_CREATE, &kv->dbi_expires)) != 0 ||
        (rc = mdb_dbi_open(txn, "order", MDB_CREATE, &kv->dbi_order)) != 0 ||
        (rc = mdb_dbi_open(txn, "services", MDB_CREATE, &kv->dbi_services)) != 0 ||
        (rc = mdb_dbi_open(txn, "nodes", MDB_CREATE, &kv->dbi_nodes)) != 0 ||
        (rc = mdb_put(txn, kv->dbi_meta, &k, &v, 0)) != 0) {
        mdb_txn_abort(txn);
        return kv_mdb_fail(kv, rc, "create the databases");
    }
    kv->committed = (struct kv_meta){0};
    rc = kv_meta_store(kv, txn, &kv->committed);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    return kv_commit(kv, txn);
}

static int open_dbs(struct kv_store *kv)
{
    MDB_txn *txn = NULL;
    int rc = mdb_txn_begin(kv->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0) {
        return kv_mdb_fail(kv, rc, "begin a transaction");
    }
    rc = mdb_dbi_open(txn, "meta", 0, &kv->dbi_meta);
    if (rc == MDB_NOTFOUND) {
        mdb_txn_abort(txn);
        return create_dbs(kv);
    }
    if (rc == 0) {
        rc = mdb_dbi_open(txn, "data", 0, &kv->dbi_data);
    }
    if (rc == 0) {
        rc = mdb_dbi_open(txn, "expires", 0, &kv->dbi_expires);
    }
    if (rc == 0) {
        rc = mdb_dbi_open(txn, "order", 0, &kv->dbi_order);
    }
    if (rc == 0) {
        rc = mdb_dbi_open(txn, "services", 0, &kv->dbi_services);
    }
    if (rc == 0) {
        rc = mdb_dbi_open(txn, "nodes", 0, &kv->dbi_nodes);
    }
    if (rc != 0) {
        mdb_txn_abort(txn);
        return kv_mdb_fail(kv, rc, "open the databases");
    }
    const char *why;
    rc = kv_meta_load(txn, kv->dbi_meta, &kv->committed, &why);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return kv_fail(kv, rc, "%s/data.mdb: %s", kv->dir, why);
    }
    rc = mdb_txn_commit(txn); /* keeps the database handles */
    return rc == 0 ? 0 : kv_mdb_fail(kv, rc, "open the databases");
}

/* One process per store: LMDB itself would let two nodes share the files. */
int kv_lock_dir(const char *dir, int *fd_out)
{
    char path[KV_PATH_SIZE_MAX];
    if (kv_path(path, dir, KV_OWNER_NAME) != 0) {
        return SYN_EINVAL;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        return SYN_EIO;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return SYN_EBUSY;
    }
    *fd_out = fd;
    return 0;
}

int kv_fallocate(int fd, uint64_t offset, uint64_t size)
{
    int rc;
    do {
        rc = fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)offset, (off_t)size);
    } while (rc != 0 && errno == EINTR);
    return rc;
}

/* write_map is safe only where blocks can be reserved ahead (kv_apply.c): elsewhere the
 * store opens without it. */
static bool can_reserve(const char *dir)
{
    char path[KV_PATH_SIZE_MAX];
    if (kv_path(path, dir, KV_PROBE_NAME) != 0) {
        return false;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return false;
    }
    bool ok = kv_fallocate(fd, 0, 4096) == 0;
    close(fd);
    unlink(path);
    return ok;
}

static int open_env(struct kv_store *kv, const struct kv_options *o)
{
    if (mkdir(kv->dir, 0700) != 0 && errno != EEXIST) {
        return kv_fail(kv, SYN_EIO, "create %s: %s", kv->dir, strerror(errno));
    }
    int rc = kv_lock_dir(kv->dir, &kv->owner_fd);
    if (rc != 0) {
        return kv_fail(kv, rc, "%s: %s", kv->dir,
                       rc == SYN_EBUSY ? "another process has the store open"
                                       : "cannot create its owner lock");
    }
    rc = marker_check(kv);
    if (rc != 0) {
        return rc;
    }
    if ((rc = mdb_env_create(&kv->env)) != 0) {
        return kv_mdb_fail(kv, rc, "create an LMDB environment");
    }
    bool write_map = o->write_map && can_reserve(kv->dir);
    if ((rc = mdb_env_set_maxdbs(kv->env, KV_DBS_MAX)) != 0 ||
        (rc = mdb_env_set_mapsize(kv->env, (size_t)o->map_size)) != 0 ||
        (rc = mdb_env_open(kv->env, kv->dir, KV_ENV_FLAGS | (write_map ? MDB_WRITEMAP : 0),
                           0600)) != 0) {
        return kv_mdb_fail(kv, rc, kv->dir);
    }
    if (write_map && (rc = mdb_env_get_fd(kv->env, &kv->data_fd)) != 0) {
        return kv_mdb_fail(kv, rc, "read the data file's descriptor");
    }
    if (mdb_env_get_maxkeysize(kv->env) < (int)KV_EXPIRY_KEY_MAX) {
        return kv_fail(kv, SYN_EIO, "LMDB was built with keys shorter than %u bytes",
                       KV_EXPIRY_KEY_MAX);
    }
    return 0;
}

static void kv_free(struct kv_store *kv)
{
    if (kv->rtxn != NULL) {
        mdb_txn_abort(kv->rtxn);
    }
    if (kv->env != NULL) {
        mdb_env_close(kv->env);
    }
    if (kv->owner_fd >= 0) {
        close(kv->owner_fd); /* drops the flock */
    }
    kv_result_free(&kv->spare);
    syn_buf_free(&kv->scratch_key);
    syn_buf_free(&kv->reg_buf);
    free(kv->dir);
    free(kv);
}

static int check_options(const struct kv_options *opts, struct kv_options *o, char *errmsg)
{
    *o = opts != NULL ? *opts : (struct kv_options){0};
    if (o->map_size == 0) {
        o->map_size = KV_MAP_SIZE_DEFAULT;
    }
    if (o->map_size_max == 0) {
        o->map_size_max =
            o->map_size > KV_MAP_SIZE_MAX_DEFAULT ? o->map_size : KV_MAP_SIZE_MAX_DEFAULT;
    }
    if (o->map_size < KV_MAP_SIZE_MIN || o->map_size_max < o->map_size ||
        o->map_size_max > SIZE_MAX / 2) {
        if (errmsg != NULL) {
            snprintf(errmsg, KV_ERRMSG_SIZE,
                     "map_size must be at least %llu and at most "
                     "map_size_max",
                     (unsigned long long)KV_MAP_SIZE_MIN);
        }
        return SYN_EINVAL;
    }
    return 0;
}

int kv_open(const char *dir, const struct kv_options *opts, struct kv_store **out, char *errmsg)
{
    *out = NULL;
    struct kv_options o;
    int rc = check_options(opts, &o, errmsg);
    if (rc != 0) {
        return rc;
    }
    struct kv_store *kv = calloc(1, sizeof(*kv));
    if (kv == NULL) {
        return SYN_ENOMEM;
    }
    kv->owner_fd = -1;
    kv->data_fd = -1;
    kv->map_size_max = o.map_size_max;
    kv_result_init(&kv->spare);
    syn_buf_init(&kv->scratch_key, SYN_KEY_SIZE_MAX);
    syn_buf_init(&kv->reg_buf, SYN_ENTRY_SIZE_MAX);
    char probe[KV_PATH_SIZE_MAX];
    kv->dir = strdup(dir);
    if (kv->dir == NULL) {
        rc = kv_fail(kv, SYN_ENOMEM, "out of memory");
    } else if (kv_path(probe, dir, KV_OWNER_NAME) != 0) { /* the longest name it uses */
        rc = kv_fail(kv, SYN_EINVAL, "the directory's path is too long");
    } else {
        rc = open_env(kv, &o);
    }
    if (rc == 0) {
        rc = open_dbs(kv);
    }
    if (rc != 0) {
        if (errmsg != NULL) {
            memcpy(errmsg, kv->errmsg, KV_ERRMSG_SIZE);
        }
        kv_free(kv);
        return rc;
    }
    *out = kv;
    return 0;
}

int kv_sync(struct kv_store *kv)
{
    if (!kv->dirty) {
        return 0;
    }
    int rc = mdb_env_sync(kv->env, 1);
    if (rc != 0) {
        return kv_mdb_fail(kv, rc, "sync LMDB");
    }
    return marker_remove(kv);
}

int kv_close(struct kv_store *kv)
{
    if (kv->wtxn != NULL) {
        kv_apply_abort(kv);
    }
    int rc = kv_sync(kv);
    kv_free(kv);
    return rc;
}

/* ---- Reading ------------------------------------------------------------------------- */

int kv_read_begin(struct kv_store *kv, MDB_txn **txn)
{
    if (kv->wtxn != NULL) {
        if (kv->batch_failed != 0) {
            return kv_fail(kv, kv->batch_failed, "the open batch failed");
        }
        *txn = kv->wtxn;
        return 0;
    }
    int rc = kv->rtxn == NULL ? mdb_txn_begin(kv->env, NULL, MDB_RDONLY, &kv->rtxn)
                              : mdb_txn_renew(kv->rtxn);
    if (rc != 0) {
        return kv_mdb_fail(kv, rc, "begin a read");
    }
    *txn = kv->rtxn;
    return 0;
}

void kv_read_end(struct kv_store *kv, MDB_txn *txn)
{
    if (txn == kv->rtxn) {
        mdb_txn_reset(txn); /* frees its snapshot of the pages; renewed by the next read */
    }
}

int kv_conf(struct kv_store *kv, struct syn_buf *out)
{
    MDB_txn *txn = NULL;
    int rc = kv_read_begin(kv, &txn);
    if (rc != 0) {
        return rc;
    }
    MDB_val k = {.mv_size = 4, .mv_data = "conf"};
    MDB_val v;
    rc = mdb_get(txn, kv->dbi_meta, &k, &v);
    if (rc == 0) {
        syn_buf_reset(out);
        rc = syn_buf_append(out, v.mv_data, v.mv_size);
    } else {
        rc = rc == MDB_NOTFOUND ? SYN_ENOENT : kv_mdb_fail(kv, rc, "read the conf");
    }
    kv_read_end(kv, txn);
    return rc;
}
