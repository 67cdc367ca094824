/* progress.c: the leader's view of one member's log, and the flow control of AppendEntries
 * in flight to it (pipelining bounded by inflight_max, thesis 10.2.2). */
#include "raft/raft_internal.h"

void raft_progress_reset(struct raft_progress *pr, uint64_t next)
{
    raft_id id = pr->id;
    uint8_t role = pr->role;
    memset(pr, 0, sizeof(*pr));
    pr->id = id;
    pr->role = role;
    pr->next = next;
    pr->state = RAFT_PROGRESS_PROBE;
}

static void progress_clear_inflight(struct raft_progress *pr)
{
    pr->inflight_start = 0;
    pr->inflight_count = 0;
}

void raft_progress_become_probe(struct raft_progress *pr)
{
    /* After a snapshot the follower holds at least the snapshot's entries. */
    if (pr->state == RAFT_PROGRESS_SNAPSHOT) {
        uint64_t floor = pr->match > pr->snap_index ? pr->match : pr->snap_index;
        pr->next = floor + 1;
    } else {
        pr->next = pr->match + 1;
    }
    pr->state = RAFT_PROGRESS_PROBE;
    pr->probe_sent = false;
    pr->snap_chunk_out = false;
    progress_clear_inflight(pr);
}

void raft_progress_become_replicate(struct raft_progress *pr)
{
    pr->state = RAFT_PROGRESS_REPLICATE;
    pr->next = pr->match + 1;
    pr->probe_sent = false;
    progress_clear_inflight(pr);
}

void raft_progress_become_snapshot(struct raft_progress *pr, uint64_t snap_index)
{
    pr->state = RAFT_PROGRESS_SNAPSHOT;
    pr->snap_index = snap_index;
    pr->snap_offset = 0;
    pr->snap_elapsed = 0;
    pr->snap_chunk_out = false;
    pr->probe_sent = false;
    progress_clear_inflight(pr);
}

bool raft_progress_inflight_full(const struct raft_progress *pr, uint32_t max)
{
    ASSERT(max <= SYN_INFLIGHT_MAX);
    return pr->inflight_count >= max;
}

void raft_progress_inflight_add(struct raft_progress *pr, uint64_t last_index, uint32_t max)
{
    ASSERT(!raft_progress_inflight_full(pr, max));
    if (pr->inflight_count > 0) {
        uint32_t newest = (pr->inflight_start + pr->inflight_count - 1) % max;
        ASSERT(pr->inflight[newest] < last_index);
    }
    pr->inflight[(pr->inflight_start + pr->inflight_count) % max] = last_index;
    pr->inflight_count++;
}

void raft_progress_inflight_free_to(struct raft_progress *pr, uint64_t index, uint32_t max)
{
    while (pr->inflight_count > 0 && pr->inflight[pr->inflight_start] <= index) {
        pr->inflight_start = (pr->inflight_start + 1) % max;
        pr->inflight_count--;
    }
}

void raft_progress_inflight_free_first(struct raft_progress *pr, uint32_t max)
{
    if (pr->inflight_count > 0) {
        pr->inflight_start = (pr->inflight_start + 1) % max;
        pr->inflight_count--;
    }
}

bool raft_progress_can_send(const struct raft_progress *pr, uint32_t inflight_max)
{
    switch (pr->state) {
    case RAFT_PROGRESS_PROBE:
        return !pr->probe_sent;
    case RAFT_PROGRESS_REPLICATE:
        return !raft_progress_inflight_full(pr, inflight_max);
    case RAFT_PROGRESS_SNAPSHOT:
        return false;
    default:
        UNREACHABLE();
    }
}

bool raft_progress_update(struct raft_progress *pr, uint64_t index)
{
    bool moved = false;
    if (index > pr->match) {
        pr->match = index;
        moved = true;
        pr->probe_sent = false;
    }
    if (pr->next < index + 1) {
        pr->next = index + 1;
    }
    return moved;
}
