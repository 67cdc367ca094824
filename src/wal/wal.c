/* wal.c: opening and closing a WAL, its status, and the I/O helpers that turn a failed system
 * call into a code and a sentence naming the file (STYLE 5). */
#include "wal/wal_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/err.h"

/* ---- errors ---------------------------------------------------------------------------- */

static int code_of_errno(int neg_errno)
{
    switch (-neg_errno) {
    case ENOSPC:
    case EDQUOT:
        return SYN_ENOSPC;
    case ENOMEM:
        return SYN_ENOMEM;
    case ENOENT:
        return SYN_ENOENT;
    case EEXIST:
        return SYN_EEXIST;
    case EWOULDBLOCK:
        return SYN_EBUSY;
    default:
        return SYN_EIO;
    }
}

static void vformat(struct wal *w, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void vformat(struct wal *w, const char *fmt, va_list ap)
{
    int n = snprintf(w->errmsg, sizeof(w->errmsg), "wal: ");
    vsnprintf(w->errmsg + n, sizeof(w->errmsg) - (size_t)n, fmt, ap);
}

int wal_fail(struct wal *w, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vformat(w, fmt, ap);
    va_end(ap);
    return code;
}

int wal_fail_errno(struct wal *w, int neg_errno, const char *fmt, ...)
{
    ASSERT(neg_errno < 0);
    va_list ap;
    va_start(ap, fmt);
    vformat(w, fmt, ap);
    va_end(ap);
    size_t n = strlen(w->errmsg);
    snprintf(w->errmsg + n, sizeof(w->errmsg) - n, ": %s", strerror(-neg_errno));
    return code_of_errno(neg_errno);
}

int wal_poison(struct wal *w, int code)
{
    ASSERT(code < 0);
    if (w->failed == 0) {
        w->failed = code;
        memcpy(w->failmsg, w->errmsg, sizeof(w->failmsg));
    }
    return code;
}

int wal_check_writable(struct wal *w)
{
    if (w->failed == 0) {
        return 0;
    }
    return wal_fail(w, w->failed, "refusing writes after an earlier failure (%s)", w->failmsg);
}

/* ---- I/O with sentences ---------------------------------------------------------------- */

void wal_path(const struct wal *w, const char *name, char *out)
{
    int n = snprintf(out, SYN_WAL_PATH_SIZE_MAX, "%s/%s", w->dir, name);
    ASSERT(n > 0 && (size_t)n < SYN_WAL_PATH_SIZE_MAX);
}

int wal_file_open(struct wal *w, const char *name, int flags, int *fd)
{
    char path[SYN_WAL_PATH_SIZE_MAX];
    wal_path(w, name, path);
    int rc = w->fs->open(w->fs->ctx, path, flags, 0644);
    if (rc < 0) {
        *fd = -1;
        return wal_fail_errno(w, rc, "open %s", path);
    }
    *fd = rc;
    return 0;
}

void wal_file_close(struct wal *w, int *fd)
{
    if (*fd >= 0) {
        w->fs->close(w->fs->ctx, *fd); /* nothing to learn: durability came from fsync */
        *fd = -1;
    }
}

int wal_write_all(struct wal *w, int fd, const void *data, size_t size, uint64_t offset,
                  const char *name)
{
    const uint8_t *p = data;
    size_t done = 0;
    /* Bounded: every turn writes at least one byte or fails. */
    while (done < size) {
        int64_t n = w->fs->pwrite(w->fs->ctx, fd, p + done, size - done, offset + done);
        w->writes++;
        if (n < 0) {
            return wal_fail_errno(w, (int)n, "write %zu bytes at offset %llu of %s", size - done,
                                  (unsigned long long)(offset + done), name);
        }
        if (n == 0) {
            return wal_fail(w, SYN_EIO, "write at offset %llu of %s wrote nothing",
                            (unsigned long long)(offset + done), name);
        }
        done += (size_t)n;
        w->bytes_written += (uint64_t)n;
    }
    return 0;
}

int wal_read_all(struct wal *w, int fd, void *data, size_t size, uint64_t offset,
                 const char *name)
{
    uint8_t *p = data;
    size_t done = 0;
    while (done < size) {
        int64_t n = w->fs->pread(w->fs->ctx, fd, p + done, size - done, offset + done);
        if (n < 0) {
            return wal_fail_errno(w, (int)n, "read at offset %llu of %s",
                                  (unsigned long long)(offset + done), name);
        }
        if (n == 0) {
            return wal_fail(w, SYN_ECORRUPT, "%s ends at offset %llu, before the %zu bytes expected",
                            name, (unsigned long long)(offset + done), size);
        }
        done += (size_t)n;
    }
    return 0;
}

int wal_datasync(struct wal *w, int fd, const char *name)
{
    w->syncs++;
    int rc = w->fs->fdatasync(w->fs->ctx, fd);
    if (rc < 0) {
        return wal_fail_errno(w, rc, "fdatasync of %s failed; the page cache state is unknown",
                              name);
    }
    return 0;
}

int wal_unlink(struct wal *w, const char *name)
{
    char path[SYN_WAL_PATH_SIZE_MAX];
    wal_path(w, name, path);
    int rc = w->fs->unlink(w->fs->ctx, path);
    if (rc < 0 && rc != -ENOENT) {
        return wal_fail_errno(w, rc, "remove %s", path);
    }
    w->dir_dirty = true;
    return 0;
}

int wal_rename(struct wal *w, const char *from, const char *to)
{
    char a[SYN_WAL_PATH_SIZE_MAX];
    char b[SYN_WAL_PATH_SIZE_MAX];
    wal_path(w, from, a);
    wal_path(w, to, b);
    int rc = w->fs->rename(w->fs->ctx, a, b);
    if (rc < 0) {
        return wal_fail_errno(w, rc, "rename %s to %s", a, to);
    }
    w->dir_dirty = true;
    return 0;
}

int wal_sync_dir(struct wal *w)
{
    w->syncs++;
    int rc = w->fs->fsync(w->fs->ctx, w->dir_fd);
    if (rc < 0) {
        return wal_fail_errno(w, rc, "fsync of directory %s failed", w->dir);
    }
    w->dir_dirty = false;
    return 0;
}

int wal_preallocate(struct wal *w, int fd, uint64_t size, const char *name)
{
    if (!w->preallocate) {
        return 0;
    }
    int rc = w->fs->fallocate(w->fs->ctx, fd, 0, size);
    if (rc == -EOPNOTSUPP) {
        w->preallocate = false; /* this file system cannot: write without, quietly */
        return 0;
    }
    if (rc < 0) {
        return wal_fail_errno(w, rc, "preallocate %llu bytes for %s", (unsigned long long)size,
                              name);
    }
    return 0;
}

/* ---- open and close -------------------------------------------------------------------- */

static int options_apply(struct wal *w, const char *dir, const struct wal_options *opts)
{
    w->fs = opts->fs != NULL ? opts->fs : wal_fs_posix();
    w->segment_size = opts->segment_size != 0 ? opts->segment_size : SYN_WAL_SEGMENT_SIZE;
    w->preallocate = !opts->no_preallocate;
    w->verify_snapshot = opts->verify_snapshot;
    if (w->segment_size < SYN_WAL_SEGMENT_SIZE_MIN || w->segment_size > SYN_WAL_SEGMENT_SIZE_MAX) {
        return wal_fail(w, SYN_EINVAL, "segment size %u outside [%u, %u]", w->segment_size,
                        SYN_WAL_SEGMENT_SIZE_MIN, SYN_WAL_SEGMENT_SIZE_MAX);
    }
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/') {
        len--;
    }
    if (len == 0 || len + 1 + WAL_SEGMENT_NAME_SIZE > SYN_WAL_PATH_SIZE_MAX) {
        return wal_fail(w, SYN_EINVAL, "directory path empty or longer than %u bytes",
                        SYN_WAL_PATH_SIZE_MAX - 1 - WAL_SEGMENT_NAME_SIZE);
    }
    memcpy(w->dir, dir, len);
    w->dir[len] = '\0';
    return 0;
}

/* A directory created here must survive a crash: fsync its parent too. */
static int sync_parent(struct wal *w)
{
    char parent[SYN_WAL_PATH_SIZE_MAX];
    const char *slash = strrchr(w->dir, '/');
    if (slash == NULL) {
        snprintf(parent, sizeof(parent), ".");
    } else {
        size_t n = slash == w->dir ? 1 : (size_t)(slash - w->dir);
        memcpy(parent, w->dir, n);
        parent[n] = '\0';
    }
    int fd = w->fs->open(w->fs->ctx, parent, O_RDONLY | O_DIRECTORY, 0);
    if (fd < 0) {
        return wal_fail_errno(w, fd, "open directory %s", parent);
    }
    int rc = w->fs->fsync(w->fs->ctx, fd);
    w->fs->close(w->fs->ctx, fd);
    return rc < 0 ? wal_fail_errno(w, rc, "fsync of directory %s", parent) : 0;
}

static int open_dir(struct wal *w)
{
    int rc = w->fs->mkdir(w->fs->ctx, w->dir, 0700);
    if (rc == 0) {
        rc = sync_parent(w);
    } else if (rc == -EEXIST) {
        rc = 0;
    } else {
        return wal_fail_errno(w, rc, "create directory %s", w->dir);
    }
    if (rc != 0) {
        return rc;
    }
    w->dir_fd = w->fs->open(w->fs->ctx, w->dir, O_RDONLY | O_DIRECTORY, 0);
    if (w->dir_fd < 0) {
        return wal_fail_errno(w, w->dir_fd, "open directory %s", w->dir);
    }
    rc = wal_file_open(w, WAL_LOCK_NAME, O_RDWR | O_CREAT, &w->lock_fd);
    if (rc != 0) {
        return rc;
    }
    rc = w->fs->lock(w->fs->ctx, w->lock_fd);
    if (rc == -EWOULDBLOCK || rc == -EAGAIN) {
        return wal_fail(w, SYN_EBUSY, "%s is in use by another process", w->dir);
    }
    return rc < 0 ? wal_fail_errno(w, rc, "lock %s/%s", w->dir, WAL_LOCK_NAME) : 0;
}

int wal_open(const char *dir, const struct wal_options *opts, struct wal **out,
             struct wal_recovery *rec)
{
    *out = NULL;
    *rec = (struct wal_recovery){0};
    struct wal_options defaults = {0};
    struct wal *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        snprintf(rec->errmsg, sizeof(rec->errmsg), "wal: out of memory opening %s", dir);
        return SYN_ENOMEM;
    }
    w->dir_fd = w->lock_fd = w->seg_fd = w->snap_fd = w->partial_fd = -1;
    syn_buf_init(&w->buf, 2u * WAL_RECORD_FILE_SIZE_MAX + WAL_RECORD_FILE_SIZE_MAX / 2);
    int rc = options_apply(w, dir, opts != NULL ? opts : &defaults);
    if (rc == 0) {
        rc = open_dir(w);
    }
    if (rc == 0) {
        rc = wal_recover(w, rec);
    }
    if (rc != 0) {
        memcpy(rec->errmsg, w->errmsg, sizeof(rec->errmsg));
        wal_recovery_free(rec);
        wal_close(w);
        return rc;
    }
    w->errmsg[0] = '\0';
    *out = w;
    return 0;
}

void wal_close(struct wal *w)
{
    if (w == NULL) {
        return;
    }
    wal_file_close(w, &w->seg_fd);
    wal_file_close(w, &w->snap_fd);
    wal_file_close(w, &w->partial_fd);
    wal_file_close(w, &w->lock_fd); /* releases the lock */
    wal_file_close(w, &w->dir_fd);
    syn_buf_free(&w->buf);
    free(w->segs);
    free(w);
}

void wal_recovery_free(struct wal_recovery *rec)
{
    free(rec->entries);
    wal_arena_free(rec->arena);
    rec->entries = NULL;
    rec->entry_count = 0;
    rec->arena = NULL;
}

void wal_recovery_restore(const struct wal_recovery *rec, struct raft_restore *restore)
{
    *restore = (struct raft_restore){
        .hard_state = rec->hard_state,
        .snapshot = rec->snapshot,
        .entry_count = rec->entry_count,
        .entries = rec->entries,
    };
}

void wal_status(const struct wal *w, struct wal_status *st)
{
    const struct wal_segment *open = w->seg_count > 0 ? &w->segs[w->seg_count - 1] : NULL;
    *st = (struct wal_status){
        .last_index = w->last_index,
        .hard_state = w->hs,
        .snapshot_index = w->has_snapshot ? w->snap.meta.index : 0,
        .segment_count = w->seg_count,
        .segment_seq = open != NULL ? open->seq : 0,
        .segment_first_index = open != NULL ? open->first_index : 0,
        .segment_offset = w->seg_offset + w->buf.len,
        .segment_synced = w->seg_synced,
        .bytes_written = w->bytes_written,
        .writes = w->writes,
        .syncs = w->syncs,
        .failed = w->failed,
    };
}

const char *wal_errmsg(const struct wal *w)
{
    return w->errmsg;
}
