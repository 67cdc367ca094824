/* wal_recover.c: what wal_open() does before it returns: list the directory, load the newest
 * snapshot meta, order the segments and replay the live ones, then (only once everything
 * checked out) repair: cut a torn tail, remove leftovers, reopen or start the open segment
 * and make all that was recovered durable. docs/storage.md, "Recovery". */
#include "wal/wal_replay.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/err.h"

struct listing {
    struct wal *w;
    struct wal_segment *segs;
    uint32_t count;
    uint32_t cap;
    bool have_meta;
    uint64_t meta_index; /* the newest snapshot meta */
    bool any;            /* a segment or snapshot file exists: not a fresh directory */
    int rc;
};

/* What recovery decided to change, done only after every check passed. */
struct plan {
    bool drop;                 /* the newest segment's header is torn: remove the file */
    struct wal_segment dropped;
    uint64_t max_seq;          /* the highest sequence number seen */
    uint64_t log_last;         /* the last replayed index (may lie below the snapshot) */
    uint32_t removed;          /* leftover files removed */
};

static int listing_add(void *arg, const char *name)
{
    struct listing *l = arg;
    uint64_t seq, first, index;
    bool meta;
    if (wal_snapshot_name_parse(name, &index, &meta)) {
        l->any = true;
        if (meta && (!l->have_meta || index > l->meta_index)) {
            l->have_meta = true;
            l->meta_index = index;
        }
        return 0;
    }
    if (!wal_segment_name_parse(name, &seq, &first)) {
        return 0; /* not ours (LOCK, temporaries, anything else) */
    }
    l->any = true;
    if (l->count == SYN_WAL_SEGMENTS_MAX) {
        l->rc = wal_fail(l->w, SYN_ETOOBIG, "more than %u segments in %s", SYN_WAL_SEGMENTS_MAX,
                         l->w->dir);
        return 1;
    }
    if (l->count == l->cap) {
        uint32_t cap = l->cap == 0 ? 16 : 2 * l->cap;
        struct wal_segment *grown = realloc(l->segs, cap * sizeof(*grown));
        if (grown == NULL) {
            l->rc = wal_fail(l->w, SYN_ENOMEM, "out of memory listing %s", l->w->dir);
            return 1;
        }
        l->segs = grown;
        l->cap = cap;
    }
    l->segs[l->count++] = (struct wal_segment){.seq = seq, .first_index = first};
    return 0;
}

static int seq_compare(const void *a, const void *b)
{
    const struct wal_segment *x = a;
    const struct wal_segment *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int list_dir(struct wal *w, struct listing *l)
{
    int rc = w->fs->list(w->fs->ctx, w->dir, listing_add, l);
    if (rc > 0) {
        return l->rc;
    }
    if (rc < 0) {
        return wal_fail_errno(w, rc, "list %s", w->dir);
    }
    if (l->count > 1) {
        qsort(l->segs, l->count, sizeof(*l->segs), seq_compare);
    }
    for (uint32_t k = 1; k < l->count; k++) {
        if (l->segs[k].seq == l->segs[k - 1].seq) {
            return wal_fail(w, SYN_ECORRUPT,
                            "two segments have sequence number %llu (first indexes %llu and "
                            "%llu): refusing to start",
                            (unsigned long long)l->segs[k].seq,
                            (unsigned long long)l->segs[k - 1].first_index,
                            (unsigned long long)l->segs[k].first_index);
        }
    }
    return 0;
}

/* ---- the snapshot ---------------------------------------------------------------------- */

static int meta_read(struct wal *w, uint64_t index, struct wal_snapshot_file *f)
{
    char name[WAL_SNAPSHOT_NAME_SIZE];
    wal_snapshot_name(index, true, name);
    int fd;
    int rc = wal_file_open(w, name, O_RDONLY, &fd);
    if (rc != 0) {
        return rc;
    }
    uint8_t buf[WAL_META_FILE_SIZE_MAX];
    uint64_t size = 0;
    rc = w->fs->size(w->fs->ctx, fd, &size);
    if (rc < 0) {
        rc = wal_fail_errno(w, rc, "size of %s", name);
    } else if (size > sizeof(buf)) {
        rc = wal_fail(w, SYN_ECORRUPT, "snapshot meta %s is %llu bytes: refusing to start", name,
                      (unsigned long long)size);
    } else {
        rc = wal_read_all(w, fd, buf, size, 0, name);
    }
    wal_file_close(w, &fd);
    struct wal_record rec;
    const char *why = NULL;
    if (rc == 0 && (wal_record_decode(buf, size, &rec, &why) != 0 || rec.size != size ||
                    rec.type != WAL_RECORD_SNAPSHOT ||
                    wal_snapshot_file_decode(rec.payload, rec.payload_size, f, &why) != 0 ||
                    f->meta.index != index)) {
        rc = wal_fail(w, SYN_ECORRUPT, "snapshot meta %s is corrupt (%s): refusing to start",
                      name, why != NULL ? why : "wrong size, type or index");
    }
    return rc;
}

static int snapshot_load(struct wal *w, uint64_t index)
{
    struct wal_snapshot_file f;
    int rc = meta_read(w, index, &f);
    if (rc != 0) {
        return rc;
    }
    wal_snapshot_set(w, &f);
    int fd = w->fs->open(w->fs->ctx, w->snap_path, O_RDONLY, 0);
    if (fd == -ENOENT) {
        return wal_fail(w, SYN_ECORRUPT,
                        "snapshot %llu has a meta but no body %s: refusing to start",
                        (unsigned long long)index, w->snap_path);
    }
    if (fd < 0) {
        return wal_fail_errno(w, fd, "open %s", w->snap_path);
    }
    uint64_t size = 0;
    rc = w->fs->size(w->fs->ctx, fd, &size);
    w->fs->close(w->fs->ctx, fd);
    if (rc < 0) {
        return wal_fail_errno(w, rc, "size of %s", w->snap_path);
    }
    if (size != f.meta.size) {
        return wal_fail(w, SYN_ECORRUPT,
                        "snapshot body %s is %llu bytes, its meta says %llu: refusing to start",
                        w->snap_path, (unsigned long long)size, (unsigned long long)f.meta.size);
    }
    return w->verify_snapshot ? wal_snapshot_verify(w) : 0;
}

/* ---- the segments ---------------------------------------------------------------------- */

/* Reads a segment's first record. *bad when it does not decode (a torn header?). */
static int header_read(struct wal *w, const struct wal_segment *seg, struct wal_segment_header *h,
                       bool *bad)
{
    char name[WAL_SEGMENT_NAME_SIZE];
    wal_segment_name(seg->seq, seg->first_index, name);
    int fd;
    uint64_t size = 0;
    int rc = wal_segment_open_read(w, seg, &fd, &size);
    if (rc != 0) {
        return rc;
    }
    uint8_t buf[WAL_RECORD_HEADER_SIZE + WAL_SEGMENT_PAYLOAD_SIZE];
    size = size < sizeof(buf) ? size : sizeof(buf);
    rc = wal_read_all(w, fd, buf, size, 0, name);
    wal_file_close(w, &fd);
    struct wal_record rec;
    const char *why = NULL;
    *bad = rc == 0 && wal_record_decode(buf, size, &rec, &why) != 0;
    if (rc != 0 || *bad) {
        return rc;
    }
    return wal_header_check(w, seg, &rec, h);
}

/* The newest segment may have been created just before a crash, its header never synced:
 * then nothing in it was synced either, and it goes. A record in it written after a sync
 * proves the header was durable: then the damage is corruption. */
static int newest_check(struct wal *w, const struct wal_segment *seg, bool *torn)
{
    struct wal_segment_header h;
    int rc = header_read(w, seg, &h, torn);
    if (rc != 0 || !*torn) {
        return rc;
    }
    uint8_t *data = NULL;
    uint64_t size = 0;
    rc = wal_segment_load(w, seg, true, 0, &data, &size);
    uint64_t proof = rc == 0 ? wal_replay_synced_after(data, size, 0) : 0;
    free(data);
    if (rc == 0 && proof != 0) {
        char name[WAL_SEGMENT_NAME_SIZE];
        wal_segment_name(seg->seq, seg->first_index, name);
        rc = wal_fail(w, SYN_ECORRUPT,
                      "segment %s: bad header at offset 0 with valid records after it (one at "
                      "offset %llu): refusing to start",
                      name, (unsigned long long)proof);
    }
    return rc;
}

/* Replays live[from..n): each closed one must hold exactly what its successor says. */
static int chain_replay(struct wal *w, struct wal_replay *r, const struct wal_segment *live,
                        uint32_t from, uint32_t n)
{
    for (uint32_t k = from; k < n; k++) {
        uint64_t length = 0;
        if (k + 1 < n) {
            struct wal_segment_header h;
            bool bad = false;
            char name[WAL_SEGMENT_NAME_SIZE];
            wal_segment_name(live[k + 1].seq, live[k + 1].first_index, name);
            int rc = header_read(w, &live[k + 1], &h, &bad);
            if (rc == 0 && bad) {
                rc = wal_fail(w, SYN_ECORRUPT,
                              "segment %s: bad header, but it is not the newest: refusing to "
                              "start",
                              name);
            }
            if (rc == 0 && live[k + 1].seq != live[k].seq + 1) {
                rc = wal_fail(w, SYN_ECORRUPT,
                              "segment %s follows sequence number %llu: segment %llu is "
                              "missing: refusing to start",
                              name, (unsigned long long)live[k].seq,
                              (unsigned long long)(live[k].seq + 1));
            }
            if (rc != 0) {
                return rc;
            }
            length = h.prev_size;
        }
        int rc = wal_replay_segment(w, r, &live[k], k + 1 == n, length);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

static int log_replay(struct wal *w, struct listing *l, struct wal_replay *r, struct plan *p)
{
    uint64_t log_seq = w->has_snapshot ? w->snap.log_seq : 0;
    uint32_t dead = 0;
    while (dead < l->count && l->segs[dead].seq < log_seq) {
        dead++; /* the log a received snapshot replaced */
    }
    const struct wal_segment *live = l->segs + dead;
    uint32_t n = l->count - dead;
    p->max_seq = l->count > 0 ? l->segs[l->count - 1].seq : 0;
    if (n > 0) {
        int rc = newest_check(w, &live[n - 1], &p->drop);
        if (rc != 0) {
            return rc;
        }
        p->dropped = live[n - 1];
        n -= p->drop;
    }
    r->base = r->snap_index;
    if (n == 0 && w->has_snapshot && (w->snap.flags & WAL_SNAPSHOT_INSTALLED) == 0) {
        /* Only an install interrupted before its new segment leaves no live segment. */
        return wal_fail(w, SYN_ECORRUPT,
                        "snapshot %llu was taken here but no log segment follows it: the "
                        "hard state is lost: refusing to start",
                        (unsigned long long)r->snap_index);
    }
    if (n == 0) {
        return 0;
    }
    uint32_t from = wal_segments_needed_from(live, n, r->snap_index);
    if (from == n) {
        char name[WAL_SEGMENT_NAME_SIZE];
        wal_segment_name(live[0].seq, live[0].first_index, name);
        return wal_fail(w, SYN_ECORRUPT,
                        "the oldest segment %s starts after the snapshot at %llu: entries are "
                        "missing: refusing to start",
                        name, (unsigned long long)r->snap_index);
    }
    r->base = live[from].first_index - 1;
    int rc = chain_replay(w, r, live, from, n);
    for (uint32_t k = from; k < n && rc == 0; k++) {
        rc = wal_segment_push(w, live[k].seq, live[k].first_index);
    }
    return rc;
}

/* ---- the result ------------------------------------------------------------------------ */

static void note_add(struct wal_recovery *rec, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void note_add(struct wal_recovery *rec, const char *fmt, ...)
{
    size_t n = strlen(rec->note);
    if (n > 0 && n + 2 < sizeof(rec->note)) {
        memcpy(rec->note + n, "; ", 3);
        n += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rec->note + n, sizeof(rec->note) - n, fmt, ap);
    va_end(ap);
}

/* Hands the replayed log to rec (and the WAL's in-memory state). */
static int log_result(struct wal *w, struct wal_replay *r, struct plan *p,
                      struct wal_recovery *rec)
{
    if (r->snap_seen && r->snap_seen_term != r->snap_term) {
        return wal_fail(w, SYN_ECORRUPT,
                        "the stored entry at the snapshot index %llu has term %llu but the "
                        "snapshot says %llu: refusing to start",
                        (unsigned long long)r->snap_index, (unsigned long long)r->snap_seen_term,
                        (unsigned long long)r->snap_term);
    }
    if (r->count > 0) {
        ASSERT(r->base == r->snap_index); /* replay keeps only entries after the snapshot */
    }
    p->log_last = r->base + r->count;
    w->hs = r->hs;
    w->last_index = p->log_last > r->snap_index ? p->log_last : r->snap_index;
    rec->hard_state = r->hs;
    rec->snapshot = w->has_snapshot ? w->snap.meta : (struct raft_snapshot_meta){0};
    rec->entry_count = r->count;
    rec->entries = r->entries;
    rec->arena = r->arena;
    r->entries = NULL;
    r->arena = NULL;
    r->count = 0;
    return 0;
}

/* ---- repairs --------------------------------------------------------------------------- */

/* Opens the newest segment for appends at the end of its valid records. */
static int tail_reopen(struct wal *w, const struct wal_replay *r, struct wal_recovery *rec)
{
    char name[WAL_SEGMENT_NAME_SIZE];
    wal_segment_open_name(w, name);
    int rc = wal_file_open(w, name, O_RDWR, &w->seg_fd);
    if (rc == 0 && r->cut) {
        rc = w->fs->ftruncate(w->fs->ctx, w->seg_fd, r->end);
        if (rc < 0) {
            return wal_fail_errno(w, rc, "cut the torn tail of %s", name);
        }
        rec->repaired = true;
        note_add(rec, "cut a torn tail off segment %s at offset %llu", name,
                 (unsigned long long)r->end);
    }
    w->seg_offset = r->end;
    return rc;
}

/* The log ends below the snapshot: close the open segment where its records end, so that a
 * new one can start after the snapshot. */
static int tail_close(struct wal *w)
{
    char name[WAL_SEGMENT_NAME_SIZE];
    wal_segment_open_name(w, name);
    int rc = w->fs->ftruncate(w->fs->ctx, w->seg_fd, w->seg_offset);
    rc = rc < 0 ? wal_fail_errno(w, rc, "cut segment %s", name)
                : wal_datasync(w, w->seg_fd, name);
    wal_file_close(w, &w->seg_fd);
    return rc;
}

/* Makes the open segment ready for appends and everything recovered durable. */
static int tail_prepare(struct wal *w, const struct wal_replay *r, const struct plan *p,
                        struct wal_recovery *rec)
{
    uint64_t prev_size = 0;
    char name[WAL_SEGMENT_NAME_SIZE];
    if (w->seg_count > 0) {
        int rc = tail_reopen(w, r, rec);
        if (rc == 0 && p->log_last >= r->snap_index) {
            wal_segment_open_name(w, name);
            rc = wal_preallocate(w, w->seg_fd, w->segment_size, name);
            if (rc == SYN_ENOSPC) {
                rc = 0; /* a full disk must not keep the node from starting */
                note_add(rec, "disk full: segment %s not preallocated", name);
            }
            rc = rc == 0 ? wal_datasync(w, w->seg_fd, name) : rc;
            w->seg_synced = w->seg_offset;
            return rc;
        }
        rc = rc == 0 ? tail_close(w) : rc;
        if (rc != 0) {
            return rc;
        }
        prev_size = w->seg_offset;
    }
    uint64_t log_seq = w->has_snapshot ? w->snap.log_seq : 0;
    uint64_t seq = p->max_seq + 1 > log_seq ? p->max_seq + 1 : log_seq;
    int rc = wal_segment_create(w, seq, w->last_index + 1, prev_size);
    rc = rc == 0 ? wal_flush(w) : rc;
    if (rc == 0) {
        wal_segment_open_name(w, name);
        rc = wal_datasync(w, w->seg_fd, name);
        w->seg_synced = w->seg_offset;
    }
    return rc;
}

static bool segment_is_live(const struct wal *w, uint64_t seq, uint64_t first_index)
{
    uint32_t lo = 0;
    uint32_t hi = w->seg_count;
    while (lo < hi) { /* the list is sorted by seq */
        uint32_t mid = lo + (hi - lo) / 2;
        if (w->segs[mid].seq < seq) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < w->seg_count && w->segs[lo].seq == seq && w->segs[lo].first_index == first_index;
}

struct cleanup {
    struct wal *w;
    uint32_t removed;
    int rc;
};

/* Removes what no live state refers to: replaced or compacted segments, older snapshots,
 * temporaries of an interrupted save or transfer. Files the WAL does not name stay. */
static int cleanup_each(void *arg, const char *name)
{
    struct cleanup *c = arg;
    struct wal *w = c->w;
    uint64_t a, b;
    bool meta;
    bool garbage = strcmp(name, WAL_PARTIAL_NAME) == 0 || strcmp(name, WAL_BODY_TMP_NAME) == 0 ||
                   strcmp(name, WAL_META_TMP_NAME) == 0;
    if (wal_segment_name_parse(name, &a, &b)) {
        garbage = !segment_is_live(w, a, b);
    } else if (wal_snapshot_name_parse(name, &a, &meta)) {
        garbage = !w->has_snapshot || a != w->snap.meta.index;
    }
    if (!garbage) {
        return 0;
    }
    c->rc = wal_unlink(w, name);
    c->removed++;
    return c->rc != 0;
}

static int cleanup(struct wal *w, struct wal_recovery *rec)
{
    struct cleanup c = {.w = w};
    int rc = w->fs->list(w->fs->ctx, w->dir, cleanup_each, &c);
    if (rc > 0) {
        return c.rc;
    }
    if (rc < 0) {
        return wal_fail_errno(w, rc, "list %s", w->dir);
    }
    if (c.removed > 0) {
        note_add(rec, "removed %u leftover files (replaced segments, old snapshots, temporaries)",
                 c.removed);
    }
    return wal_sync_dir(w);
}

int wal_recover(struct wal *w, struct wal_recovery *rec)
{
    struct listing l = {.w = w};
    struct plan p = {0};
    struct wal_replay r = {0};
    int rc = list_dir(w, &l);
    if (rc == 0 && l.have_meta) {
        rc = snapshot_load(w, l.meta_index);
    }
    if (rc == 0 && w->has_snapshot) {
        r.snap_index = w->snap.meta.index;
        r.snap_term = w->snap.meta.term;
        r.hs = w->snap.hard_state;
    }
    rc = rc == 0 ? log_replay(w, &l, &r, &p) : rc;
    rc = rc == 0 ? log_result(w, &r, &p, rec) : rc;
    /* Every check passed: only now is the directory changed. */
    if (rc == 0 && p.drop) {
        /* Gone for good before another segment can take its place as the newest. */
        char name[WAL_SEGMENT_NAME_SIZE];
        wal_segment_name(p.dropped.seq, p.dropped.first_index, name);
        rc = wal_unlink(w, name);
        rc = rc == 0 ? wal_sync_dir(w) : rc;
        rec->repaired = true;
        note_add(rec, "removed segment %s, created just before a crash (torn header)", name);
    }
    rc = rc == 0 ? tail_prepare(w, &r, &p, rec) : rc;
    rc = rc == 0 ? cleanup(w, rec) : rc;
    rec->fresh = !l.any;
    free(l.segs);
    wal_replay_free(&r);
    return rc;
}
