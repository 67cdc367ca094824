/* ready.c: what the core hands the shell (a Ready) and what it learns back (advance). */
#include "raft/raft_internal.h"

/* Work deferred so that inputs arriving between two Readies share messages: new entries go
 * out in one AppendEntries per follower (batching), reads share one heartbeat round. */
static void flush(struct raft *r)
{
    if (r->role != RAFT_LEADER) {
        return;
    }
    if (r->bcast_pending || r->commit_bcast_pending) {
        raft_bcast_append(r);
    }
    raft_read_flush(r);
}

static struct raft_hard_state hard_state(const struct raft *r)
{
    return (struct raft_hard_state){.term = r->term, .vote = r->vote, .commit = r->commit};
}

static bool hard_state_changed(const struct raft *r)
{
    struct raft_hard_state hs = hard_state(r);
    return hs.term != r->hs_handed.term || hs.vote != r->hs_handed.vote ||
           hs.commit != r->hs_handed.commit;
}

bool raft_has_ready(struct raft *r)
{
    if (r->ready_out) {
        return false;
    }
    flush(r);
    return r->soft_changed || hard_state_changed(r) ||
           r->persist_next <= raft_log_last_index(&r->log) || r->early.count > 0 ||
           r->late.count > 0 || r->apply_next <= r->commit || r->read_state_count > 0 ||
           r->recv_chunk != NULL || r->install_pending;
}

static void ready_committed(struct raft *r, struct raft_ready *rd)
{
    if (r->apply_next > r->commit) {
        return;
    }
    ASSERT(r->apply_next > r->log.offset);
    uint64_t hi = r->commit;
    if (hi - r->apply_next >= SYN_APPLY_BATCH_MAX) {
        hi = r->apply_next + SYN_APPLY_BATCH_MAX - 1;
    }
    struct raft_entry *entries = raft_entries_copy(&r->log, r->apply_next, hi);
    if (entries == NULL) {
        return; /* out of memory: apply them in a later Ready */
    }
    rd->committed = entries;
    rd->committed_count = (uint32_t)(hi - r->apply_next + 1);
    uint64_t durable = r->stable < hi ? r->stable : hi;
    rd->committed_durable_count = durable >= r->apply_next ? (uint32_t)(durable - r->apply_next + 1) : 0;
    r->apply_next = hi + 1;
}

static void ready_entries(struct raft *r, struct raft_ready *rd)
{
    uint64_t last = raft_log_last_index(&r->log);
    if (r->persist_next > last) {
        return;
    }
    ASSERT(r->persist_next > r->log.offset);
    struct raft_entry *entries = raft_entries_copy(&r->log, r->persist_next, last);
    if (entries == NULL) {
        return;
    }
    rd->entries = entries;
    rd->entry_count = (uint32_t)(last - r->persist_next + 1);
    r->persist_next = last + 1;
}

static void ready_snapshot(struct raft *r, struct raft_ready *rd)
{
    if (r->recv_chunk != NULL) {
        rd->snapshot_chunk = true;
        rd->snapshot_offset = r->recv_chunk_offset;
        rd->snapshot_data_size = r->recv_chunk->size;
        rd->snapshot_data = r->recv_chunk->bytes;
        rd->snapshot = r->recv_meta;
        r->ready_chunk = r->recv_chunk;
        r->recv_chunk = NULL;
    }
    if (r->install_pending) {
        rd->snapshot_install = true;
        rd->snapshot = r->snapshot;
        r->install_pending = false;
    }
}

void raft_ready(struct raft *r, struct raft_ready *rd)
{
    ASSERT(!r->ready_out);
    flush(r);
    memset(rd, 0, sizeof(*rd));
    rd->soft_state_changed = r->soft_changed;
    rd->role = r->role;
    rd->leader = r->leader;
    r->soft_changed = false;
    if (hard_state_changed(r)) {
        rd->hard_state_changed = true;
        rd->hard_state = hard_state(r);
        rd->must_sync = rd->hard_state.term != r->hs_handed.term ||
                        rd->hard_state.vote != r->hs_handed.vote;
        r->hs_handed = rd->hard_state;
    }
    ready_snapshot(r, rd);
    ready_entries(r, rd);
    rd->must_sync = rd->must_sync || rd->entry_count > 0 || rd->snapshot_chunk ||
                    rd->snapshot_install;
    ready_committed(r, rd);
    rd->messages = r->early.msgs;
    rd->message_count = r->early.count;
    r->early = (struct raft_outbox){0};
    rd->persisted_messages = r->late.msgs;
    rd->persisted_message_count = r->late.count;
    r->late = (struct raft_outbox){0};
    rd->reads = r->read_states;
    rd->read_count = r->read_state_count;
    r->read_states = NULL;
    r->read_state_count = 0;
    r->truncated_low = UINT64_MAX;
    r->ready_out = true;
    r->ready = *rd;
}

void raft_flush_messages(struct raft *r, void (*send)(void *ctx, const struct raft_message *msg),
                         void *ctx)
{
    flush(r);
    struct raft_outbox early = r->early;
    r->early = (struct raft_outbox){0};
    for (uint32_t i = 0; i < early.count; i++) {
        send(ctx, &early.msgs[i]);
    }
    raft_outbox_free(&early, true);
}

void raft_advance_applied(struct raft *r, uint64_t index)
{
    ASSERT(index < r->apply_next);
    ASSERT(index <= r->commit);
    if (index > r->applied) {
        r->applied = index;
    }
}

uint64_t raft_flush_committed(struct raft *r, void (*apply)(void *ctx, const struct raft_entry *e),
                              void *ctx)
{
    const struct raft_ready *rd = &r->ready;
    if (!r->ready_out || rd->committed_count > rd->committed_durable_count ||
        rd->snapshot_install || r->install_pending) {
        return 0; /* the outstanding Ready must be applied first, in order */
    }
    uint64_t hi = r->commit < r->stable ? r->commit : r->stable;
    if (r->apply_next > hi) {
        return 0;
    }
    if (hi - r->apply_next >= SYN_APPLY_BATCH_MAX) {
        hi = r->apply_next + SYN_APPLY_BATCH_MAX - 1;
    }
    ASSERT(r->apply_next > r->log.offset);
    for (uint64_t i = r->apply_next; i <= hi; i++) {
        apply(ctx, raft_log_get(&r->log, i));
    }
    r->apply_next = hi + 1;
    r->applied = hi;
    return hi;
}

static void advance_stable(struct raft *r, const struct raft_ready *rd)
{
    if (rd->entry_count == 0) {
        return;
    }
    uint64_t last = rd->entries[rd->entry_count - 1].index;
    if (r->truncated_low != UINT64_MAX && last >= r->truncated_low) {
        last = r->truncated_low - 1; /* the tail was replaced while it was being written */
    }
    if (last > r->stable) {
        ASSERT(last <= raft_log_last_index(&r->log));
        r->stable = last;
    }
}

void raft_advance(struct raft *r, struct raft_ready *rd)
{
    ASSERT(r->ready_out);
    ASSERT(rd->entries == r->ready.entries);
    advance_stable(r, rd);
    if (rd->committed_count > 0) {
        uint64_t last = rd->committed[rd->committed_count - 1].index;
        r->applied = last > r->applied ? last : r->applied;
    }
    if (rd->snapshot_install && rd->snapshot.index > r->applied) {
        r->applied = rd->snapshot.index;
    }
    ASSERT(r->applied <= r->commit);
    raft_entries_release((struct raft_entry *)rd->entries, rd->entry_count);
    raft_entries_release((struct raft_entry *)rd->committed, rd->committed_count);
    struct raft_outbox early = {rd->messages, rd->message_count, rd->message_count};
    struct raft_outbox late = {rd->persisted_messages, rd->persisted_message_count, 0};
    raft_outbox_free(&early, true);
    raft_outbox_free(&late, true);
    free((void *)rd->reads);
    raft_buf_unref(r->ready_chunk);
    r->ready_chunk = NULL;
    r->truncated_low = UINT64_MAX;
    r->ready_out = false;
    memset(rd, 0, sizeof(*rd));
    memset(&r->ready, 0, sizeof(r->ready));
    if (r->role == RAFT_LEADER) {
        struct raft_progress *self = raft_progress_find(r, r->id);
        if (self != NULL && r->stable > self->match) {
            self->match = r->stable;
            raft_maybe_commit(r);
        }
    }
}
