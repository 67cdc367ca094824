/* snapshot.c: InstallSnapshot in chunks (thesis 5.1, figure 5.3) and log compaction. The core
 * never holds snapshot bytes of its own: the leader's chunks are filled by the shell from
 * its snapshot, and a follower's chunks go to the shell to persist. */
#include "raft/raft_internal.h"

void raft_send_snapshot_chunk(struct raft *r, struct raft_progress *pr)
{
    ASSERT(pr->state == RAFT_PROGRESS_SNAPSHOT);
    if (pr->snap_index != r->snapshot.index) {
        /* The shell replaced its snapshot: start over with the new one. */
        raft_progress_become_snapshot(pr, r->snapshot.index);
    }
    if (pr->snap_chunk_out) {
        return; /* one chunk in flight per follower bounds memory on both sides */
    }
    uint64_t size = r->snapshot.size;
    ASSERT(pr->snap_offset <= size);
    uint64_t left = size - pr->snap_offset;
    uint32_t chunk = left < r->config.snapshot_chunk_size ? (uint32_t)left
                                                          : r->config.snapshot_chunk_size;
    struct raft_message msg = {
        .type = RAFT_MSG_SNAPSHOT,
        .to = pr->id,
        .term = r->term,
        .snapshot = r->snapshot,
        .offset = pr->snap_offset,
        .data_size = chunk,
        .flags = pr->snap_offset + chunk == size ? RAFT_FLAG_LAST : 0,
    };
    if (raft_send(r, &msg, false) != NULL) {
        pr->snap_chunk_out = true;
        pr->snap_elapsed = 0;
    }
}

void raft_snapshot_tick(struct raft *r)
{
    for (uint32_t i = 0; i < r->pr_count; i++) {
        struct raft_progress *pr = &r->prs[i];
        if (pr->state != RAFT_PROGRESS_SNAPSHOT || !pr->snap_chunk_out) {
            continue;
        }
        /* A chunk or its answer was lost: send it again after an election timeout. */
        if (++pr->snap_elapsed >= r->config.election_ticks) {
            pr->snap_chunk_out = false;
            raft_send_snapshot_chunk(r, pr);
        }
    }
}

int raft_step_snapshot_resp(struct raft *r, const struct raft_message *msg)
{
    struct raft_progress *pr = raft_progress_find(r, msg->from);
    ASSERT(pr != NULL);
    pr->recent_active = true;
    if ((msg->flags & RAFT_FLAG_LAST) != 0) {
        if (msg->index > raft_log_last_index(&r->log)) {
            return raft_fail(r, SYN_EBADINDEX, "follower installed a snapshot past our log");
        }
        if (raft_progress_update(pr, msg->index)) {
            raft_maybe_commit(r);
            if (r->role != RAFT_LEADER) {
                return 0;
            }
            raft_transfer_check(r, pr);
        }
        if (pr->state == RAFT_PROGRESS_SNAPSHOT) {
            raft_progress_become_probe(pr);
        }
        raft_send_append(r, pr, true);
        return 0;
    }
    if (pr->state != RAFT_PROGRESS_SNAPSHOT || msg->index != pr->snap_index ||
        msg->offset > r->snapshot.size) {
        return 0; /* about another transfer */
    }
    if ((msg->flags & RAFT_FLAG_REJECT) != 0 || msg->offset > pr->snap_offset) {
        pr->snap_offset = msg->offset;
    }
    pr->snap_chunk_out = false;
    raft_send_snapshot_chunk(r, pr);
    return 0;
}

static void snapshot_reply(struct raft *r, const struct raft_message *msg, uint32_t flags,
                           uint64_t offset)
{
    struct raft_message resp = {
        .type = RAFT_MSG_SNAPSHOT_RESP,
        .to = msg->from,
        .term = r->term,
        .index = msg->snapshot.index,
        .offset = offset,
        .flags = flags,
    };
    raft_send(r, &resp, true);
}

static bool same_snapshot(const struct raft_snapshot_meta *a, const struct raft_snapshot_meta *b)
{
    return a->index == b->index && a->term == b->term && a->size == b->size;
}

/* The last chunk arrived: the snapshot replaces the whole log (thesis 5.1). */
static void install(struct raft *r)
{
    const struct raft_snapshot_meta *meta = &r->recv_meta;
    ASSERT(meta->index > r->commit);
    raft_log_reset(&r->log, meta->index, meta->term);
    r->snapshot = *meta;
    r->conf = meta->conf;
    r->conf_index = meta->index;
    r->commit = meta->index;
    r->apply_next = meta->index + 1;
    r->persist_next = meta->index + 1;
    r->stable = meta->index;
    if (r->ready_out) {
        r->truncated_low = 1; /* entries of the outstanding Ready are superseded */
    }
    r->install_pending = true;
    r->recv_active = false;
}

int raft_step_snapshot(struct raft *r, const struct raft_message *msg)
{
    const struct raft_snapshot_meta *meta = &msg->snapshot;
    if (meta->index <= r->commit || raft_log_term(&r->log, meta->index) == meta->term) {
        /* Nothing to install: the log already holds everything the snapshot covers. */
        if (meta->index <= raft_log_last_index(&r->log)) {
            raft_commit_to(r, meta->index);
        }
        snapshot_reply(r, msg, RAFT_FLAG_LAST, meta->size);
        return 0;
    }
    if (r->recv_chunk != NULL || r->install_pending) {
        return 0; /* one chunk per Ready; the leader sends this one again */
    }
    if (!r->recv_active || !same_snapshot(&r->recv_meta, meta)) {
        if (msg->offset != 0) {
            snapshot_reply(r, msg, RAFT_FLAG_REJECT, 0);
            return 0;
        }
        r->recv_active = true;
        r->recv_meta = *meta;
        r->recv_offset = 0;
    }
    if (msg->offset != r->recv_offset) {
        /* A duplicate (acknowledge what we have) or a gap (ask for what we miss). */
        uint32_t flags = msg->offset > r->recv_offset ? RAFT_FLAG_REJECT : 0;
        snapshot_reply(r, msg, flags, r->recv_offset);
        return 0;
    }
    r->recv_chunk = raft_buf_new(msg->data, msg->data_size);
    if (r->recv_chunk == NULL) {
        return raft_fail(r, SYN_ENOMEM, "out of memory receiving a snapshot");
    }
    r->recv_chunk_offset = msg->offset;
    r->recv_offset += msg->data_size;
    if ((msg->flags & RAFT_FLAG_LAST) != 0) {
        ASSERT(r->recv_offset == meta->size);
        install(r);
        snapshot_reply(r, msg, RAFT_FLAG_LAST, r->recv_offset);
    } else {
        snapshot_reply(r, msg, 0, r->recv_offset);
    }
    return 0;
}

/* The configuration as of index >= the current snapshot's index. */
static void conf_at(const struct raft *r, uint64_t index, struct raft_conf *conf)
{
    for (uint64_t i = index; i > r->snapshot.index; i--) {
        const struct raft_entry *e = raft_log_get(&r->log, i);
        ASSERT(e != NULL);
        if (e->type == RAFT_ENTRY_CONF) {
            int rc = raft_conf_decode(e->data, e->data_size, conf);
            ASSERT(rc == 0);
            return;
        }
    }
    *conf = r->snapshot.conf;
}

int raft_snapshot_meta_at(const struct raft *r, uint64_t index, struct raft_snapshot_meta *meta)
{
    if (index > r->applied || index < r->snapshot.index || index < r->log.offset) {
        return SYN_EBADINDEX;
    }
    memset(meta, 0, sizeof(*meta));
    meta->index = index;
    meta->term = raft_log_term(&r->log, index);
    conf_at(r, index, &meta->conf);
    return 0;
}

int raft_compact(struct raft *r, const struct raft_snapshot_meta *meta, uint64_t trailing)
{
    if (meta->index > r->applied || meta->index < r->snapshot.index ||
        meta->index < r->log.offset || raft_log_term(&r->log, meta->index) != meta->term) {
        return raft_fail(r, SYN_EBADINDEX, "snapshot does not match the applied log");
    }
    if (!raft_conf_valid(&meta->conf)) {
        return raft_fail(r, SYN_EINVAL, "snapshot configuration is invalid");
    }
    r->snapshot = *meta;
    uint64_t upto = meta->index > trailing ? meta->index - trailing : 0;
    if (upto > r->log.offset) {
        ASSERT(upto < r->persist_next);
        raft_log_compact(&r->log, upto, raft_log_term(&r->log, upto));
    }
    return 0;
}
