/* wal_snapshot.c: the current snapshot: saving one atomically (temporary file, fsync, rename,
 * fsync of the directory), receiving one in chunks and installing it, and reading it back. */
#include "wal/wal_internal.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/crc32c.h"
#include "base/err.h"

void wal_snapshot_set(struct wal *w, const struct wal_snapshot_file *f)
{
    char name[WAL_SNAPSHOT_NAME_SIZE];
    wal_snapshot_name(f->meta.index, false, name);
    wal_file_close(w, &w->snap_fd);
    w->snap = *f;
    w->has_snapshot = true;
    wal_path(w, name, w->snap_path);
}

/* Writes f's meta as a temporary file, syncs it, renames it into place and syncs the
 * directory. The rename is the commit point of a snapshot. */
static int meta_write(struct wal *w, const struct wal_snapshot_file *f)
{
    struct syn_buf b;
    syn_buf_init(&b, WAL_META_FILE_SIZE_MAX);
    size_t start;
    int rc = wal_record_begin(&b, &start);
    if (rc == 0) {
        rc = wal_snapshot_file_encode(&b, f);
    }
    if (rc == 0) {
        rc = wal_record_end(&b, start, WAL_RECORD_SNAPSHOT, 0);
    }
    if (rc != 0) {
        syn_buf_free(&b);
        return wal_fail(w, rc, "encode a snapshot meta: %s", syn_strerror(rc));
    }
    int fd;
    rc = wal_file_open(w, WAL_META_TMP_NAME, O_WRONLY | O_CREAT | O_TRUNC, &fd);
    if (rc == 0) {
        rc = wal_write_all(w, fd, b.data, b.len, 0, WAL_META_TMP_NAME);
        if (rc == 0) {
            rc = wal_datasync(w, fd, WAL_META_TMP_NAME);
        }
        wal_file_close(w, &fd);
    }
    syn_buf_free(&b);
    char name[WAL_SNAPSHOT_NAME_SIZE];
    wal_snapshot_name(f->meta.index, true, name);
    if (rc == 0) {
        rc = wal_rename(w, WAL_META_TMP_NAME, name);
    }
    return rc == 0 ? wal_sync_dir(w) : rc;
}

/* The body at tmp_name is whole and synced: rename it into place, commit the meta, then drop
 * the previous snapshot (its meta first, so that no meta outlives its body). */
static int snapshot_commit(struct wal *w, const char *tmp_name, const struct wal_snapshot_file *f)
{
    char name[WAL_SNAPSHOT_NAME_SIZE];
    wal_snapshot_name(f->meta.index, false, name);
    int rc = wal_rename(w, tmp_name, name);
    if (rc == 0) {
        rc = meta_write(w, f);
    }
    if (rc != 0) {
        return rc;
    }
    bool had = w->has_snapshot;
    uint64_t old = w->snap.meta.index;
    wal_snapshot_set(w, f);
    if (had && old != f->meta.index) {
        wal_snapshot_name(old, true, name);
        rc = wal_unlink(w, name);
        wal_snapshot_name(old, false, name);
        rc = rc == 0 ? wal_unlink(w, name) : rc;
    }
    return rc;
}

/* The checksum of the first size bytes of fd. */
static int body_checksum(struct wal *w, int fd, uint64_t size, const char *name, uint32_t *crc)
{
    uint8_t *chunk = malloc(WAL_IO_CHUNK_SIZE);
    if (chunk == NULL) {
        return wal_fail(w, SYN_ENOMEM, "out of memory reading %s", name);
    }
    uint32_t c = 0;
    int rc = 0;
    for (uint64_t at = 0; at < size && rc == 0;) {
        uint32_t n = size - at < WAL_IO_CHUNK_SIZE ? (uint32_t)(size - at) : WAL_IO_CHUNK_SIZE;
        rc = wal_read_all(w, fd, chunk, n, at, name);
        c = crc32c(c, chunk, n);
        at += n;
    }
    free(chunk);
    *crc = c;
    return rc;
}

/* ---- incoming snapshots ---------------------------------------------------------------- */

int wal_partial_write(struct wal *w, uint64_t offset, const uint8_t *data, uint32_t size)
{
    if (w->partial_fd < 0) {
        int rc = wal_file_open(w, WAL_PARTIAL_NAME, O_RDWR | O_CREAT | O_TRUNC, &w->partial_fd);
        if (rc != 0) {
            return rc;
        }
        w->partial_size = 0;
        w->partial_crc = 0;
        w->partial_crc_ok = true;
    }
    ASSERT(offset <= w->partial_size);
    if (offset < w->partial_size) {
        /* A resent chunk, or offset 0: a new transfer. Nothing past offset is kept. */
        int rc = w->fs->ftruncate(w->fs->ctx, w->partial_fd, offset);
        if (rc < 0) {
            return wal_fail_errno(w, rc, "cut %s to %llu bytes", WAL_PARTIAL_NAME,
                                  (unsigned long long)offset);
        }
        w->partial_size = offset;
        w->partial_crc_ok = offset == 0;
        w->partial_crc = 0;
    }
    int rc = wal_write_all(w, w->partial_fd, data, size, offset, WAL_PARTIAL_NAME);
    if (rc != 0) {
        return rc;
    }
    if (w->partial_crc_ok) {
        w->partial_crc = crc32c(w->partial_crc, data, size);
    }
    w->partial_size = offset + size;
    return 0;
}

int wal_snapshot_install(struct wal *w, const struct raft_snapshot_meta *meta,
                         const struct raft_hard_state *hs)
{
    ASSERT(w->buf.len == 0);
    if (w->partial_fd < 0) {
        ASSERT(meta->size == 0);
        int rc = wal_partial_write(w, 0, NULL, 0);
        if (rc != 0) {
            return rc;
        }
    }
    ASSERT(w->partial_size == meta->size);
    int rc = wal_datasync(w, w->partial_fd, WAL_PARTIAL_NAME);
    uint32_t crc = w->partial_crc;
    if (rc == 0 && !w->partial_crc_ok) {
        rc = body_checksum(w, w->partial_fd, meta->size, WAL_PARTIAL_NAME, &crc);
    }
    wal_file_close(w, &w->partial_fd);
    w->partial_size = 0;
    if (rc != 0) {
        return rc;
    }
    /* Segments below log_seq hold the log the snapshot replaces: recovery ignores them, so
     * the commit point (the meta's rename) also drops every stored entry. */
    struct wal_snapshot_file f = {
        .meta = *meta,
        .body_crc = crc,
        .flags = WAL_SNAPSHOT_INSTALLED,
        .log_seq = w->segs[w->seg_count - 1].seq + 1,
        .hard_state = *hs,
    };
    rc = snapshot_commit(w, WAL_PARTIAL_NAME, &f);
    if (rc != 0) {
        return rc;
    }
    wal_file_close(w, &w->seg_fd);
    w->hs = *hs;
    w->last_index = meta->index;
    uint32_t old = w->seg_count;
    rc = wal_segment_create(w, f.log_seq, meta->index + 1, 0);
    return rc == 0 ? wal_segments_remove(w, old) : rc;
}

/* ---- local snapshots ------------------------------------------------------------------- */

/* Pulls the body from source into the temporary file and syncs it. */
static int body_write(struct wal *w, wal_snapshot_source source, void *arg, uint64_t *size,
                      uint32_t *crc)
{
    uint8_t *chunk = malloc(WAL_IO_CHUNK_SIZE);
    if (chunk == NULL) {
        return wal_fail(w, SYN_ENOMEM, "out of memory writing a snapshot");
    }
    int fd;
    int rc = wal_file_open(w, WAL_BODY_TMP_NAME, O_WRONLY | O_CREAT | O_TRUNC, &fd);
    uint64_t at = 0;
    uint32_t c = 0;
    while (rc == 0) { /* bounded: each turn adds a byte, up to SYN_SNAPSHOT_SIZE_MAX */
        uint32_t filled = 0;
        int src = source(arg, chunk, WAL_IO_CHUNK_SIZE, &filled);
        if (src != 0 || filled > WAL_IO_CHUNK_SIZE) {
            rc = src < 0 ? src : SYN_EINVAL;
            rc = wal_fail(w, rc, "the snapshot source failed: %s", syn_strerror(rc));
        } else if (filled == 0) {
            break;
        } else if (filled > SYN_SNAPSHOT_SIZE_MAX - at) {
            rc = wal_fail(w, SYN_ETOOBIG, "snapshot larger than %llu bytes",
                          (unsigned long long)SYN_SNAPSHOT_SIZE_MAX);
        } else {
            rc = wal_write_all(w, fd, chunk, filled, at, WAL_BODY_TMP_NAME);
            c = crc32c(c, chunk, filled);
            at += filled;
        }
    }
    if (rc == 0) {
        rc = wal_datasync(w, fd, WAL_BODY_TMP_NAME);
    }
    wal_file_close(w, &fd);
    free(chunk);
    if (rc != 0) {
        char path[SYN_WAL_PATH_SIZE_MAX];
        wal_path(w, WAL_BODY_TMP_NAME, path);
        w->fs->unlink(w->fs->ctx, path); /* best effort: open removes it too */
    }
    *size = at;
    *crc = c;
    return rc;
}

int wal_snapshot_meta_check(struct wal *w, const struct raft_snapshot_meta *meta,
                            const char *verb)
{
    if (meta->index == 0 || meta->term == 0 || !raft_conf_valid(&meta->conf)) {
        return wal_fail(w, SYN_EINVAL, "%s a snapshot with a bad meta (index %llu)", verb,
                        (unsigned long long)meta->index);
    }
    if (w->has_snapshot && meta->index <= w->snap.meta.index) {
        return wal_fail(w, SYN_EINVAL, "%s snapshot %llu over the newer snapshot %llu", verb,
                        (unsigned long long)meta->index, (unsigned long long)w->snap.meta.index);
    }
    return 0;
}

static int save_check(struct wal *w, const struct raft_snapshot_meta *meta)
{
    int rc = wal_snapshot_meta_check(w, meta, "saving");
    if (rc == 0 && meta->index > w->last_index) {
        rc = wal_fail(w, SYN_EINVAL, "saving snapshot %llu past the log's last index %llu",
                      (unsigned long long)meta->index, (unsigned long long)w->last_index);
    }
    return rc;
}

int wal_snapshot_save_stream(struct wal *w, struct raft_snapshot_meta *meta,
                             wal_snapshot_source source, void *arg)
{
    int rc = wal_check_writable(w);
    if (rc == 0) {
        rc = save_check(w, meta);
    }
    uint64_t size = 0;
    uint32_t crc = 0;
    if (rc == 0) {
        rc = body_write(w, source, arg, &size, &crc);
    }
    if (rc != 0) {
        return rc; /* nothing changed: the WAL stays usable */
    }
    meta->size = size;
    struct wal_snapshot_file f = {
        .meta = *meta,
        .body_crc = crc,
        .log_seq = w->has_snapshot ? w->snap.log_seq : 0,
        .hard_state = w->hs,
    };
    rc = snapshot_commit(w, WAL_BODY_TMP_NAME, &f);
    return rc != 0 ? wal_poison(w, rc) : 0;
}

struct mem_source {
    const uint8_t *data;
    uint64_t size;
    uint64_t at;
};

static int mem_source_read(void *arg, uint8_t *buf, uint32_t size, uint32_t *filled)
{
    struct mem_source *m = arg;
    uint64_t left = m->size - m->at;
    uint32_t n = left < size ? (uint32_t)left : size;
    if (n > 0) {
        memcpy(buf, m->data + m->at, n);
    }
    m->at += n;
    *filled = n;
    return 0;
}

int wal_snapshot_save(struct wal *w, struct raft_snapshot_meta *meta, const uint8_t *data,
                      uint64_t size)
{
    if (size > 0 && data == NULL) {
        return wal_fail(w, SYN_EINVAL, "snapshot data missing");
    }
    struct mem_source m = {.data = data, .size = size};
    return wal_snapshot_save_stream(w, meta, mem_source_read, &m);
}

/* ---- reading --------------------------------------------------------------------------- */

static int body_open(struct wal *w)
{
    if (w->snap_fd >= 0) {
        return 0;
    }
    int fd = w->fs->open(w->fs->ctx, w->snap_path, O_RDONLY, 0);
    if (fd < 0) {
        return wal_fail_errno(w, fd, "open %s", w->snap_path);
    }
    w->snap_fd = fd;
    return 0;
}

int wal_snapshot_read(struct wal *w, uint64_t index, uint64_t offset, uint8_t *buf,
                      uint32_t size)
{
    if (!w->has_snapshot || w->snap.meta.index != index) {
        return wal_fail(w, SYN_ENOENT, "no snapshot at index %llu (the current one is at %llu)",
                        (unsigned long long)index,
                        w->has_snapshot ? (unsigned long long)w->snap.meta.index : 0ull);
    }
    if (offset > w->snap.meta.size || size > w->snap.meta.size - offset) {
        return wal_fail(w, SYN_EINVAL, "reading %u bytes at offset %llu of a %llu-byte snapshot",
                        size, (unsigned long long)offset, (unsigned long long)w->snap.meta.size);
    }
    int rc = body_open(w);
    return rc != 0 ? rc : wal_read_all(w, w->snap_fd, buf, size, offset, w->snap_path);
}

int wal_snapshot_verify(struct wal *w)
{
    if (!w->has_snapshot) {
        return wal_fail(w, SYN_ENOENT, "no snapshot to verify");
    }
    uint32_t crc;
    int rc = body_open(w);
    if (rc == 0) {
        rc = body_checksum(w, w->snap_fd, w->snap.meta.size, w->snap_path, &crc);
    }
    if (rc == 0 && crc != w->snap.body_crc) {
        rc = wal_fail(w, SYN_ECORRUPT, "snapshot body %s has checksum %08x, its meta says %08x",
                      w->snap_path, crc, w->snap.body_crc);
    }
    return rc;
}

const char *wal_snapshot_path(const struct wal *w)
{
    return w->has_snapshot ? w->snap_path : NULL;
}
