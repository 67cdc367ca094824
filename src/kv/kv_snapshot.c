/* kv_snapshot.c: the state machine's side of Raft snapshots: a compact LMDB copy as the
 * snapshot body, and restoring a store from one (docs/kv.md "Snapshots"). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/assert.h"
#include "base/err.h"
#include "kv/kv_internal.h"

#define KV_COPY_BUF_SIZE (1u << 20)

int kv_snapshot_write(struct kv_store *kv, const char *path, uint64_t *size_out)
{
    ASSERT(kv->wtxn == NULL);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return kv_fail(kv, SYN_EIO, "create %s: %s", path, strerror(errno));
    }
    /* A read transaction of its own: the copy is the last commit, whole. */
    int rc = mdb_env_copyfd2(kv->env, fd, MDB_CP_COMPACT);
    struct stat st;
    if (rc != 0) {
        rc = kv_fail(kv, rc == ENOSPC ? SYN_ENOSPC : SYN_EIO, "copy the store to %s: %s", path,
                     mdb_strerror(rc));
    } else if (fsync(fd) != 0 || fstat(fd, &st) != 0) {
        rc = kv_fail(kv, errno == ENOSPC ? SYN_ENOSPC : SYN_EIO, "fsync %s: %s", path,
                     strerror(errno));
    }
    close(fd);
    if (rc != 0) {
        unlink(path);
        return rc;
    }
    *size_out = (uint64_t)st.st_size;
    return 0;
}

/* ---- Restoring ------------------------------------------------------------------------ */

static int restore_fail(char *errmsg, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int restore_fail(char *errmsg, int code, const char *fmt, ...)
{
    if (errmsg != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errmsg, KV_ERRMSG_SIZE, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Copies from into to (created or truncated) and fsyncs it. */
static int copy_file(const char *from, const char *to, char *errmsg)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        return restore_fail(errmsg, SYN_EIO, "open %s: %s", from, strerror(errno));
    }
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    uint8_t *buf = malloc(KV_COPY_BUF_SIZE);
    int rc = 0;
    if (out < 0 || buf == NULL) {
        rc = restore_fail(errmsg, out < 0 ? SYN_EIO : SYN_ENOMEM, "create %s", to);
    }
    while (rc == 0) {
        ssize_t n = read(in, buf, KV_COPY_BUF_SIZE);
        if (n == 0) {
            break;
        }
        if (n < 0 || write(out, buf, (size_t)n) != n) {
            rc = restore_fail(errmsg, errno == ENOSPC ? SYN_ENOSPC : SYN_EIO, "copy %s to %s: %s",
                              from, to, strerror(errno));
        }
    }
    if (rc == 0 && fsync(out) != 0) {
        rc = restore_fail(errmsg, SYN_EIO, "fsync %s: %s", to, strerror(errno));
    }
    free(buf);
    if (out >= 0) {
        close(out);
    }
    close(in);
    return rc;
}

/* Counts data's records, checking each, so that a damaged copy is refused now. */
static int count_records(MDB_txn *txn, MDB_dbi dbi, uint64_t *count_out)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0) {
        return rc;
    }
    uint64_t count = 0;
    MDB_val k, v;
    struct kv_record rec;
    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0 && kv_record_parse(&k, &v, &rec) == 0) {
        count++;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    *count_out = count;
    return rc == MDB_NOTFOUND ? 0 : MDB_CORRUPTED;
}

/* Reads the copy at path as a store: its pages all in the file, its format and meta, and
 * as many records as its key count says. */
static int check_copy(MDB_env *env, const char *path, struct kv_meta *meta_out, char *errmsg)
{
    struct stat st;
    MDB_envinfo info;
    MDB_stat mst;
    MDB_txn *txn;
    MDB_dbi meta_dbi, data_dbi;
    int rc = mdb_env_open(env, path, MDB_NOSUBDIR | MDB_RDONLY | MDB_NOLOCK, 0600);
    if (rc == 0) {
        rc = mdb_env_info(env, &info);
    }
    if (rc == 0) {
        rc = mdb_env_stat(env, &mst);
    }
    if (rc != 0) {
        return restore_fail(errmsg, SYN_ECORRUPT, "%s: not an LMDB file: %s", path,
                            mdb_strerror(rc));
    }
    /* Touching a page past the end of a mapped file would raise SIGBUS. */
    if (stat(path, &st) != 0 ||
        (uint64_t)st.st_size < ((uint64_t)info.me_last_pgno + 1) * mst.ms_psize) {
        return restore_fail(errmsg, SYN_ECORRUPT, "%s: cut short", path);
    }
    if ((rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) != 0) {
        return restore_fail(errmsg, SYN_EIO, "%s: %s", path, mdb_strerror(rc));
    }
    struct kv_meta meta;
    const char *why = "a database is missing";
    uint64_t count = 0;
    if ((rc = mdb_dbi_open(txn, "meta", 0, &meta_dbi)) == 0 &&
        (rc = mdb_dbi_open(txn, "data", 0, &data_dbi)) == 0 &&
        (rc = kv_meta_load(txn, meta_dbi, &meta, &why)) == 0) {
        rc = count_records(txn, data_dbi, &count);
        why = rc != 0 || count != meta.key_count ? "its records disagree with its key count" : why;
        rc = rc != 0 || count != meta.key_count ? SYN_ECORRUPT : 0;
    }
    mdb_txn_abort(txn);
    if (rc == 0 && meta_out != NULL) {
        *meta_out = meta;
    }
    return rc == 0 ? 0 : restore_fail(errmsg, SYN_ECORRUPT, "%s: %s", path, why);
}

static int check_snapshot(const char *path, struct kv_meta *meta_out, char *errmsg)
{
    MDB_env *env;
    int rc = mdb_env_create(&env);
    if (rc != 0) {
        return restore_fail(errmsg, SYN_ENOMEM, "create an LMDB environment");
    }
    rc = mdb_env_set_maxdbs(env, KV_DBS_MAX);
    rc = rc == 0 ? check_copy(env, path, meta_out, errmsg) : SYN_EIO;
    mdb_env_close(env);
    return rc;
}

int kv_snapshot_copy(struct kv_store *kv, const char *path, uint64_t *size_out,
                     uint64_t *index_out, char *errmsg)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return restore_fail(errmsg, SYN_EIO, "create %s: %s", path, strerror(errno));
    }
    /* kv->env is fixed after kv_open(); LMDB lets this read transaction run beside the
     * owner's write transactions. */
    int rc = mdb_env_copyfd2(kv->env, fd, MDB_CP_COMPACT);
    struct stat st;
    if (rc != 0) {
        rc = restore_fail(errmsg, rc == ENOSPC ? SYN_ENOSPC : SYN_EIO, "copy the store to %s: %s",
                          path, mdb_strerror(rc));
    } else if (fsync(fd) != 0 || fstat(fd, &st) != 0) {
        rc = restore_fail(errmsg, errno == ENOSPC ? SYN_ENOSPC : SYN_EIO, "fsync %s: %s", path,
                          strerror(errno));
    }
    close(fd);
    struct kv_meta meta;
    if (rc == 0) {
        rc = check_snapshot(path, &meta, errmsg);
    }
    if (rc != 0) {
        unlink(path);
        return rc;
    }
    *size_out = (uint64_t)st.st_size;
    *index_out = meta.applied_index;
    return 0;
}

/* Renames the checked copy over the data file; drops LMDB's lock file (its reader table is
 * stale) and the unsynced marker (the new data is synced); fsyncs the directory. */
static int install(const char *dir, const char *tmp, char *errmsg)
{
    char path[KV_PATH_SIZE_MAX];
    ASSERT(kv_path(path, dir, "data.mdb") == 0);
    if (rename(tmp, path) != 0) {
        return restore_fail(errmsg, SYN_EIO, "rename %s to %s: %s", tmp, path, strerror(errno));
    }
    const char *drop[] = {"lock.mdb", KV_MARKER_NAME};
    for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++) {
        ASSERT(kv_path(path, dir, drop[i]) == 0);
        if (unlink(path) != 0 && errno != ENOENT) {
            return restore_fail(errmsg, SYN_EIO, "remove %s: %s", path, strerror(errno));
        }
    }
    return kv_fsync_dir(dir) == 0 ? 0 : restore_fail(errmsg, SYN_EIO, "fsync %s", dir);
}

int kv_snapshot_restore(const char *dir, const char *snapshot_path, char *errmsg)
{
    char tmp[KV_PATH_SIZE_MAX];
    if (kv_path(tmp, dir, "data.mdb.restore") != 0) {
        return restore_fail(errmsg, SYN_EINVAL, "the directory's path is too long");
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        return restore_fail(errmsg, SYN_EIO, "create %s: %s", dir, strerror(errno));
    }
    int owner_fd;
    int rc = kv_lock_dir(dir, &owner_fd);
    if (rc != 0) {
        return restore_fail(errmsg, rc, "%s: %s", dir,
                            rc == SYN_EBUSY ? "the store is open" : "cannot take its owner lock");
    }
    rc = copy_file(snapshot_path, tmp, errmsg);
    if (rc == 0) {
        rc = check_snapshot(tmp, NULL, errmsg);
    }
    if (rc == 0) {
        rc = install(dir, tmp, errmsg);
    }
    if (rc != 0) {
        unlink(tmp);
    }
    close(owner_fd);
    return rc;
}
