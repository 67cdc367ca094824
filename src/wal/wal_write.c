/* wal_write.c: the write path: persisting a Ready as records, syncing (group commit), and
 * compaction. */
#include "wal/wal_internal.h"

#include "base/assert.h"
#include "base/err.h"

static bool hard_state_equal(const struct raft_hard_state *a, const struct raft_hard_state *b)
{
    return a->term == b->term && a->vote == b->vote && a->commit == b->commit;
}

static int entry_check(struct wal *w, const struct raft_entry *e, uint64_t index)
{
    if (e->index != index) {
        return wal_fail(w, SYN_EINVAL, "entry %llu follows entry %llu in one Ready",
                        (unsigned long long)e->index, (unsigned long long)(index - 1));
    }
    if (e->term == 0 || e->type < RAFT_ENTRY_NORMAL || e->type > RAFT_ENTRY_CONF) {
        return wal_fail(w, SYN_EINVAL, "entry %llu has term 0 or unknown type %u",
                        (unsigned long long)index, e->type);
    }
    if (e->data_size > SYN_ENTRY_SIZE_MAX || (e->data_size > 0 && e->data == NULL)) {
        return wal_fail(w, SYN_EINVAL, "entry %llu has a bad payload (%u bytes)",
                        (unsigned long long)index, e->data_size);
    }
    return 0;
}

/* Entries must continue the log, possibly replacing its tail, after the install if any. */
static int entries_check(struct wal *w, const struct raft_entry *entries, uint32_t count,
                         uint64_t last)
{
    if (count == 0) {
        return 0;
    }
    if (entries == NULL || entries[0].index == 0 || entries[0].index > last + 1) {
        return wal_fail(w, SYN_EINVAL, "entries start at %llu but the log ends at %llu",
                        entries == NULL ? 0ull : (unsigned long long)entries[0].index,
                        (unsigned long long)last);
    }
    for (uint32_t i = 0; i < count; i++) {
        int rc = entry_check(w, &entries[i], entries[0].index + i);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

static int chunk_check(struct wal *w, const struct raft_ready *rd)
{
    if (rd->snapshot_data_size > SYN_SNAPSHOT_CHUNK_SIZE_MAX ||
        (rd->snapshot_data_size > 0 && rd->snapshot_data == NULL) ||
        rd->snapshot_offset > SYN_SNAPSHOT_SIZE_MAX - rd->snapshot_data_size) {
        return wal_fail(w, SYN_EINVAL, "bad snapshot chunk: %u bytes at offset %llu",
                        rd->snapshot_data_size, (unsigned long long)rd->snapshot_offset);
    }
    if (rd->snapshot_offset > w->partial_size) {
        return wal_fail(w, SYN_EINVAL,
                        "snapshot chunk at offset %llu leaves a hole after the %llu bytes "
                        "received",
                        (unsigned long long)rd->snapshot_offset,
                        (unsigned long long)w->partial_size);
    }
    return 0;
}

static int install_check(struct wal *w, const struct raft_ready *rd)
{
    const struct raft_snapshot_meta *m = &rd->snapshot;
    uint64_t received = rd->snapshot_chunk ? rd->snapshot_offset + rd->snapshot_data_size
                                           : w->partial_size;
    if (received != m->size) {
        return wal_fail(w, SYN_EINVAL, "installing a snapshot of %llu bytes with %llu received",
                        (unsigned long long)m->size, (unsigned long long)received);
    }
    return wal_snapshot_meta_check(w, m, "installing");
}

/* Checks a Ready against the storage rules before anything is written (STYLE 6). */
static int ready_check(struct wal *w, const struct raft_ready *rd)
{
    int rc = rd->snapshot_chunk ? chunk_check(w, rd) : 0;
    if (rc == 0 && rd->snapshot_install) {
        rc = install_check(w, rd);
    }
    if (rc == 0 && rd->hard_state_changed && rd->hard_state.term < w->hs.term) {
        rc = wal_fail(w, SYN_EINVAL, "hard state term goes back from %llu to %llu",
                      (unsigned long long)w->hs.term, (unsigned long long)rd->hard_state.term);
    }
    if (rc != 0) {
        return rc;
    }
    uint64_t last = rd->snapshot_install ? rd->snapshot.index : w->last_index;
    return entries_check(w, rd->entries, rd->entry_count, last);
}

/* Queues one LOG record: hs (may be NULL) and as many entries as fit; *used says how many. */
static int log_record(struct wal *w, const struct raft_hard_state *hs,
                      const struct raft_entry *entries, uint32_t count, uint32_t *used)
{
    size_t start;
    size_t count_at = 0;
    int rc = wal_record_begin(&w->buf, &start);
    if (rc == 0) {
        rc = wal_log_begin(&w->buf, hs, count > 0 ? entries[0].index : 0, &count_at);
    }
    size_t payload = WAL_LOG_FIXED_SIZE + (hs != NULL ? WAL_LOG_HARD_STATE_SIZE : 0);
    uint32_t n = 0;
    while (rc == 0 && n < count) {
        size_t size = wal_log_entry_size(&entries[n]);
        if (n > 0 && payload + size > SYN_WAL_RECORD_SIZE_MAX) {
            break; /* the rest goes into the next record */
        }
        rc = wal_log_append_entry(&w->buf, &entries[n]);
        payload += size;
        n += rc == 0;
    }
    if (rc == 0) {
        wal_log_set_count(&w->buf, count_at, n);
        rc = wal_record_end(&w->buf, start, WAL_RECORD_LOG, (uint32_t)w->seg_synced);
    }
    if (rc != 0) {
        w->buf.len = start;
        return wal_fail(w, rc, "encode a log record: %s", syn_strerror(rc));
    }
    *used = n;
    return 0;
}

/* Hard state first, then the entries, in as few records and writes as they fit: one record
 * and one write for any Ready below SYN_WAL_RECORD_SIZE_MAX. */
static int log_write(struct wal *w, const struct raft_hard_state *hs,
                     const struct raft_entry *entries, uint32_t count)
{
    uint32_t done = 0;
    while (hs != NULL || done < count) { /* bounded: each turn takes hs or an entry */
        if (w->seg_offset + w->buf.len >= w->segment_size) {
            int rc = wal_segment_roll(w);
            if (rc != 0) {
                return rc;
            }
        }
        uint32_t used = 0;
        int rc = log_record(w, hs, entries + done, count - done, &used);
        if (rc != 0) {
            return rc;
        }
        if (hs != NULL) {
            w->hs = *hs;
            hs = NULL;
        }
        done += used;
        if (used > 0) {
            w->last_index = entries[done - 1].index;
        }
        if (w->buf.len >= SYN_WAL_RECORD_SIZE_MAX) {
            rc = wal_flush(w);
            if (rc != 0) {
                return rc;
            }
        }
    }
    return wal_flush(w);
}

int wal_persist(struct wal *w, const struct raft_ready *rd)
{
    int rc = wal_check_writable(w);
    if (rc == 0) {
        rc = ready_check(w, rd);
    }
    if (rc != 0) {
        return rc; /* nothing was written */
    }
    struct raft_hard_state hs = rd->hard_state_changed ? rd->hard_state : w->hs;
    if (rd->snapshot_chunk) {
        rc = wal_partial_write(w, rd->snapshot_offset, rd->snapshot_data,
                               rd->snapshot_data_size);
    }
    if (rc == 0 && rd->snapshot_install) {
        rc = wal_snapshot_install(w, &rd->snapshot, &hs);
    }
    if (rc == 0) {
        const struct raft_hard_state *changed = hard_state_equal(&hs, &w->hs) ? NULL : &hs;
        rc = log_write(w, changed, rd->entries, rd->entry_count);
    }
    return rc != 0 ? wal_poison(w, rc) : 0;
}

int wal_sync(struct wal *w)
{
    int rc = wal_check_writable(w);
    if (rc != 0) {
        return rc;
    }
    ASSERT(w->buf.len == 0);
    if (w->seg_offset > w->seg_synced) {
        char name[WAL_SEGMENT_NAME_SIZE];
        wal_segment_open_name(w, name);
        rc = wal_datasync(w, w->seg_fd, name);
        if (rc != 0) {
            return wal_poison(w, rc);
        }
        w->seg_synced = w->seg_offset;
    }
    if (w->dir_dirty) {
        rc = wal_sync_dir(w);
        if (rc != 0) {
            return wal_poison(w, rc);
        }
    }
    return 0;
}

int wal_compact(struct wal *w, uint64_t index)
{
    int rc = wal_check_writable(w);
    if (rc != 0) {
        return rc;
    }
    uint64_t snapshot_index = w->has_snapshot ? w->snap.meta.index : 0;
    if (index > snapshot_index) {
        return wal_fail(w, SYN_EINVAL, "compacting through %llu, past the snapshot at %llu",
                        (unsigned long long)index, (unsigned long long)snapshot_index);
    }
    uint32_t keep_from = wal_segments_needed_from(w->segs, w->seg_count, index);
    if (keep_from == w->seg_count) {
        return 0; /* no segment starts that low: every one may hold a live entry */
    }
    rc = wal_segments_remove(w, keep_from);
    return rc != 0 ? wal_poison(w, rc) : 0;
}
