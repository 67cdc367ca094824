/* wal_segment.c: segment files: their names, creation with preallocation, closing a full one
 * and removing compacted ones. */
#include "wal/wal_internal.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/err.h"

void wal_segment_name(uint64_t seq, uint64_t first_index, char *name)
{
    snprintf(name, WAL_SEGMENT_NAME_SIZE, "%016" PRIx64 "-%016" PRIx64 ".log", seq, first_index);
}

/* Exactly 16 lowercase hex digits, as the WAL writes them. */
static bool hex16_parse(const char *s, uint64_t *v)
{
    uint64_t x = 0;
    for (int i = 0; i < 16; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            x = x << 4 | (uint64_t)(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            x = x << 4 | (uint64_t)(c - 'a' + 10);
        } else {
            return false;
        }
    }
    *v = x;
    return true;
}

bool wal_segment_name_parse(const char *name, uint64_t *seq, uint64_t *first_index)
{
    return strlen(name) == WAL_SEGMENT_NAME_SIZE - 1 && name[16] == '-' &&
           strcmp(name + 33, ".log") == 0 && hex16_parse(name, seq) &&
           hex16_parse(name + 17, first_index);
}

void wal_snapshot_name(uint64_t index, bool meta, char *name)
{
    snprintf(name, WAL_SNAPSHOT_NAME_SIZE, "snap-%016" PRIx64 ".%s", index, meta ? "meta" : "data");
}

bool wal_snapshot_name_parse(const char *name, uint64_t *index, bool *meta)
{
    if (strlen(name) != WAL_SNAPSHOT_NAME_SIZE - 2 || strncmp(name, "snap-", 5) != 0 ||
        !hex16_parse(name + 5, index)) {
        return false;
    }
    *meta = strcmp(name + 21, ".meta") == 0;
    return *meta || strcmp(name + 21, ".data") == 0;
}

uint32_t wal_segments_needed_from(const struct wal_segment *segs, uint32_t count, uint64_t index)
{
    /* An entry above index that is still live was written after the log last reached below
     * it, so in a segment created no earlier than the newest one starting at or below
     * index + 1 (docs/storage.md, "Compaction"). */
    for (uint32_t k = count; k-- > 0;) {
        if (segs[k].first_index <= index + 1) {
            return k;
        }
    }
    return count;
}

int wal_segment_push(struct wal *w, uint64_t seq, uint64_t first_index)
{
    if (w->seg_count == SYN_WAL_SEGMENTS_MAX) {
        return wal_fail(w, SYN_ETOOBIG, "%u segments in %s: compact the log",
                        SYN_WAL_SEGMENTS_MAX, w->dir);
    }
    if (w->seg_count == w->seg_cap) {
        uint32_t cap = w->seg_cap == 0 ? 16 : 2 * w->seg_cap;
        struct wal_segment *segs = realloc(w->segs, cap * sizeof(*segs));
        if (segs == NULL) {
            return wal_fail(w, SYN_ENOMEM, "out of memory listing segments");
        }
        w->segs = segs;
        w->seg_cap = cap;
    }
    w->segs[w->seg_count++] = (struct wal_segment){.seq = seq, .first_index = first_index};
    return 0;
}

static int header_queue(struct wal *w, const struct wal_segment_header *h)
{
    size_t start;
    int rc = wal_record_begin(&w->buf, &start);
    if (rc == 0) {
        rc = wal_segment_header_encode(&w->buf, h);
    }
    if (rc == 0) {
        rc = wal_record_end(&w->buf, start, WAL_RECORD_SEGMENT, 0);
    }
    return rc != 0 ? wal_fail(w, rc, "encode a segment header: %s", syn_strerror(rc)) : 0;
}

int wal_segment_create(struct wal *w, uint64_t seq, uint64_t first_index, uint64_t prev_size)
{
    ASSERT(w->seg_fd < 0);
    ASSERT(w->buf.len == 0);
    char name[WAL_SEGMENT_NAME_SIZE];
    wal_segment_name(seq, first_index, name);
    int fd;
    int rc = wal_file_open(w, name, O_RDWR | O_CREAT | O_EXCL, &fd);
    if (rc != 0) {
        return rc;
    }
    w->dir_dirty = true;
    rc = wal_preallocate(w, fd, w->segment_size, name);
    if (rc == 0) {
        rc = wal_segment_push(w, seq, first_index);
    }
    if (rc != 0) {
        wal_file_close(w, &fd);
        char path[SYN_WAL_PATH_SIZE_MAX];
        wal_path(w, name, path);
        w->fs->unlink(w->fs->ctx, path); /* best effort: an empty segment is also harmless */
        return rc;
    }
    w->seg_fd = fd;
    w->seg_offset = 0;
    w->seg_synced = 0;
    struct wal_segment_header h = {
        .seq = seq, .first_index = first_index, .prev_size = prev_size, .hard_state = w->hs};
    return header_queue(w, &h);
}

void wal_segment_open_name(const struct wal *w, char *name)
{
    ASSERT(w->seg_count > 0);
    const struct wal_segment *s = &w->segs[w->seg_count - 1];
    wal_segment_name(s->seq, s->first_index, name);
}

int wal_flush(struct wal *w)
{
    if (w->buf.len == 0) {
        return 0;
    }
    char name[WAL_SEGMENT_NAME_SIZE];
    wal_segment_open_name(w, name);
    int rc = wal_write_all(w, w->seg_fd, w->buf.data, w->buf.len, w->seg_offset, name);
    if (rc != 0) {
        return rc;
    }
    w->seg_offset += w->buf.len;
    syn_buf_reset(&w->buf);
    return 0;
}

int wal_segment_roll(struct wal *w)
{
    int rc = wal_flush(w);
    if (rc != 0) {
        return rc;
    }
    char name[WAL_SEGMENT_NAME_SIZE];
    wal_segment_open_name(w, name);
    /* Cut the preallocated tail and make the whole segment durable before the next one can
     * exist: recovery then treats any damage to a closed segment as corruption. */
    rc = w->fs->ftruncate(w->fs->ctx, w->seg_fd, w->seg_offset);
    if (rc < 0) {
        return wal_fail_errno(w, rc, "cut segment %s to %llu bytes", name,
                              (unsigned long long)w->seg_offset);
    }
    rc = wal_datasync(w, w->seg_fd, name);
    if (rc != 0) {
        return rc;
    }
    w->seg_synced = w->seg_offset;
    wal_file_close(w, &w->seg_fd);
    uint64_t seq = w->segs[w->seg_count - 1].seq;
    return wal_segment_create(w, seq + 1, w->last_index + 1, w->seg_offset);
}

int wal_segments_remove(struct wal *w, uint32_t n)
{
    ASSERT(n <= w->seg_count);
    uint32_t removed = 0;
    int rc = 0;
    while (removed < n && rc == 0) {
        char name[WAL_SEGMENT_NAME_SIZE];
        wal_segment_name(w->segs[removed].seq, w->segs[removed].first_index, name);
        rc = wal_unlink(w, name);
        removed += rc == 0;
    }
    memmove(w->segs, w->segs + removed, (w->seg_count - removed) * sizeof(*w->segs));
    w->seg_count -= removed;
    return rc;
}
