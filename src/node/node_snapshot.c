/* node_snapshot.c: snapshots and log compaction. Once snapshot_entries entries were applied
 * since the last snapshot:
 *   1. the thread pool copies the store (an LMDB read transaction beside the loop's writes);
 *      the copy says which index it holds;
 *   2. the loop asks the core for that index's meta (term, configuration);
 *   3. the thread pool saves the copy in the WAL (atomically) and drops the segments it
 *      covers, keeping snapshot_trailing entries for followers a little behind; no persist
 *      runs meanwhile (WAL calls must not overlap);
 *   4. the loop tells the core (raft_compact), which from then on sends this snapshot to
 *      followers that need what it replaced.
 * The loop never blocks on any of it. */
#include "node/node_internal.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "log/log.h"

static void copy_work(uv_work_t *req)
{
    struct node *n = req->data;
    n->snap_rc = kv_snapshot_copy(n->kv, n->snap_tmp, &n->snap_size, &n->snap_copy_index,
                                  n->snap_err);
}

static int file_source(void *arg, uint8_t *buf, uint32_t size, uint32_t *filled)
{
    int fd = *(int *)arg;
    ssize_t got = read(fd, buf, size);
    if (got < 0) {
        return SYN_EIO;
    }
    *filled = (uint32_t)got;
    return 0;
}

static void save_work(uv_work_t *req)
{
    struct node *n = req->data;
    int fd = open(n->snap_tmp, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        n->snap_rc = SYN_EIO;
        return;
    }
    n->snap_rc = wal_snapshot_save_stream(n->wal, &n->snap_meta, file_source, &fd);
    close(fd);
    uint64_t trailing = n->cfg.snapshot_trailing;
    uint64_t upto = n->snap_meta.index > trailing ? n->snap_meta.index - trailing : 0;
    if (n->snap_rc == 0 && upto > 0) {
        n->snap_rc = wal_compact(n->wal, upto);
    }
}

static void snap_end(struct node *n)
{
    unlink(n->snap_tmp);
    n->snap_busy = false;
    n->snap_saving = false;
    if (n->persist_deferred) {
        node_persist_start(n);
    }
    node_maybe_finish(n);
}

static void save_done(uv_work_t *req, int status)
{
    struct node *n = req->data;
    int rc = status < 0 ? SYN_EIO : n->snap_rc;
    if (rc != 0) {
        LOG_ERROR("node", "saving the snapshot at %llu: %s", (unsigned long long)n->snap_meta.index,
                  wal_errmsg(n->wal));
        if (rc == SYN_EIO || rc == SYN_ENOSPC) {
            node_fail_disk(n, rc, wal_errmsg(n->wal));
        }
        snap_end(n);
        return;
    }
    rc = raft_compact(n->raft, &n->snap_meta, n->cfg.snapshot_trailing);
    if (rc != 0) {
        LOG_WARN("node", "compacting at %llu: %s", (unsigned long long)n->snap_meta.index,
                 raft_errmsg(n->raft));
    }
    n->snapshot_index = n->snap_meta.index;
#ifdef __GLIBC__
    malloc_trim(0); /* the compacted entries' memory goes back to the system, not the heap */
#endif
    const char *path = wal_snapshot_path(n->wal);
    snprintf(n->snapshot_path, sizeof(n->snapshot_path), "%s", path == NULL ? "" : path);
    LOG_INFO("node", "snapshot at index %llu (%llu bytes); log compacted",
             (unsigned long long)n->snap_meta.index, (unsigned long long)n->snap_meta.size);
    snap_end(n);
}

static void save_start(struct node *n)
{
    n->snap_save_waiting = false;
    n->snap_saving = true;
    n->snap_work.data = n;
    if (uv_queue_work(n->loop, &n->snap_work, save_work, save_done) != 0) {
        snap_end(n);
    }
}

void node_snapshot_wal_free(struct node *n)
{
    if (n->snap_save_waiting && !n->persist_busy) {
        save_start(n);
    }
}

static void copy_done(uv_work_t *req, int status)
{
    struct node *n = req->data;
    int rc = status < 0 ? SYN_EIO : n->snap_rc;
    if (rc == 0) {
        rc = raft_snapshot_meta_at(n->raft, n->snap_copy_index, &n->snap_meta);
        snprintf(n->snap_err, sizeof(n->snap_err), "the core has no meta for index %llu",
                 (unsigned long long)n->snap_copy_index);
    }
    if (rc != 0 || n->stopping || n->failed != 0 || n->persist_deferred) {
        if (rc != 0) {
            LOG_WARN("node", "snapshot skipped: %s", n->snap_err);
        }
        snap_end(n);
        return;
    }
    n->snap_meta.size = n->snap_size;
    if (n->persist_busy) {
        n->snap_save_waiting = true; /* persist_done calls node_snapshot_wal_free() */
    } else {
        save_start(n);
    }
}

/* The log in memory past its byte budget, with entries a snapshot would free (more than
 * the trailing ones): memory stays bounded whatever the size of the values. */
static bool log_too_big(struct node *n, uint64_t applied)
{
    struct raft_status st;
    raft_status(n->raft, &st);
    return st.log_bytes >= n->cfg.snapshot_log_bytes &&
           applied > n->snapshot_index + n->cfg.snapshot_trailing;
}

void node_snapshot_maybe(struct node *n)
{
    if (n->snap_busy || n->failed != 0 || n->stopping) {
        return;
    }
    if (n->persist_busy && n->persist_rd->snapshot_install) {
        return; /* that persist replaces the store the copy would read */
    }
    uint64_t applied = raft_applied_index(n->raft);
    if (applied < n->snapshot_index + n->cfg.snapshot_entries && !log_too_big(n, applied)) {
        return;
    }
    n->snap_busy = true;
    snprintf(n->snap_tmp, sizeof(n->snap_tmp), "%s/snapshot.copy", n->cfg.data_dir);
    n->snap_work.data = n;
    if (uv_queue_work(n->loop, &n->snap_work, copy_work, copy_done) != 0) {
        n->snap_busy = false;
    }
}
