/* replication.c: log replication (thesis 3.5) with batching, pipelining (10.2.2) and fast
 * backtracking (5.3 of the Raft paper), and the commitment rule (3.6.2). */
#include "raft/raft_internal.h"

int raft_append_local(struct raft *r, uint32_t type, const uint8_t *data, uint32_t size)
{
    ASSERT(r->role == RAFT_LEADER);
    struct raft_entry e = {
        .term = r->term,
        .index = raft_log_last_index(&r->log) + 1,
        .type = type,
        .data_size = size,
        .data = data,
    };
    int rc = raft_log_append(&r->log, &e);
    if (rc != 0) {
        return rc;
    }
    r->uncommitted_bytes += size;
    r->bcast_pending = true;
    if (type == RAFT_ENTRY_CONF) {
        struct raft_conf conf;
        rc = raft_conf_decode(data, size, &conf);
        ASSERT(rc == 0); /* the leader encoded it */
        raft_conf_apply(r, &conf, e.index);
    }
    return 0;
}

/* How many entries from index on fit one AppendEntries. */
static uint32_t batch_size(const struct raft *r, uint64_t index)
{
    uint64_t last = raft_log_last_index(&r->log);
    uint32_t count = 0;
    uint64_t bytes = 0;
    while (index + count <= last && count < r->config.append_entries_max) {
        uint32_t size = raft_log_get(&r->log, index + count)->data_size;
        if (count > 0 && bytes + size > r->config.append_bytes_max) {
            break;
        }
        bytes += size;
        count++;
    }
    return count;
}

void raft_send_append(struct raft *r, struct raft_progress *pr, bool allow_empty)
{
    ASSERT(r->role == RAFT_LEADER);
    ASSERT(pr->id != r->id);
    if (pr->state == RAFT_PROGRESS_SNAPSHOT) {
        raft_send_snapshot_chunk(r, pr);
        return;
    }
    if (!raft_progress_can_send(pr, r->config.inflight_max)) {
        return;
    }
    uint64_t prev = pr->next - 1;
    if (prev < r->log.offset) {
        /* The entries it needs were compacted: send the snapshot instead (thesis 5.1). */
        ASSERT(r->snapshot.index >= r->log.offset);
        raft_progress_become_snapshot(pr, r->snapshot.index);
        raft_send_snapshot_chunk(r, pr);
        return;
    }
    uint32_t count = batch_size(r, pr->next);
    if (count == 0 && !allow_empty) {
        return;
    }
    struct raft_message msg = {
        .type = RAFT_MSG_APPEND,
        .to = pr->id,
        .term = r->term,
        .index = prev,
        .log_term = raft_log_term(&r->log, prev),
        .commit = r->commit,
        .entry_count = count,
        .entries = raft_entries_copy(&r->log, pr->next, pr->next + count - 1),
    };
    if (count > 0 && msg.entries == NULL) {
        return; /* out of memory: a later heartbeat retries */
    }
    if (raft_send(r, &msg, false) == NULL) {
        return;
    }
    if (pr->state == RAFT_PROGRESS_REPLICATE && count > 0) {
        uint64_t last = pr->next + count - 1;
        raft_progress_inflight_add(pr, last, r->config.inflight_max);
        pr->next = last + 1;
    } else if (pr->state == RAFT_PROGRESS_PROBE) {
        pr->probe_sent = true;
    }
}

/* Sends as much as flow control allows; the bound keeps a loop from spinning if a send
 * could not be queued. */
static void send_more(struct raft *r, struct raft_progress *pr)
{
    for (uint32_t i = 0; i <= r->config.inflight_max; i++) {
        uint64_t next = pr->next;
        if (next > raft_log_last_index(&r->log) || !raft_progress_can_send(pr, r->config.inflight_max)) {
            return;
        }
        raft_send_append(r, pr, false);
        if (pr->next == next) {
            return;
        }
    }
}

void raft_bcast_append(struct raft *r)
{
    bool empty = r->commit_bcast_pending;
    r->bcast_pending = false;
    r->commit_bcast_pending = false;
    for (uint32_t i = 0; i < r->pr_count; i++) {
        struct raft_progress *pr = &r->prs[i];
        if (pr->id == r->id) {
            continue;
        }
        if (pr->state == RAFT_PROGRESS_REPLICATE) {
            send_more(r, pr);
        }
        raft_send_append(r, pr, empty);
    }
}

void raft_bcast_heartbeat(struct raft *r)
{
    for (uint32_t i = 0; i < r->pr_count; i++) {
        struct raft_progress *pr = &r->prs[i];
        if (pr->id == r->id) {
            continue;
        }
        struct raft_message msg = {
            .type = RAFT_MSG_HEARTBEAT,
            .to = pr->id,
            .term = r->term,
            /* Never more than the follower is known to hold: its tail may differ. */
            .commit = pr->match < r->commit ? pr->match : r->commit,
            .context = r->read_round,
        };
        raft_send(r, &msg, false);
    }
}

void raft_commit_to(struct raft *r, uint64_t index)
{
    if (index <= r->commit) {
        return;
    }
    ASSERT(index <= raft_log_last_index(&r->log));
    if (r->role == RAFT_LEADER) {
        for (uint64_t i = r->commit + 1; i <= index; i++) {
            uint32_t size = raft_log_get(&r->log, i)->data_size;
            ASSERT(r->uncommitted_bytes >= size);
            r->uncommitted_bytes -= size;
        }
        r->commit_bcast_pending = true;
    }
    r->commit = index;
    raft_conf_after_commit(r);
}

static int cmp_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;
    return x < y ? 1 : (x > y ? -1 : 0);
}

bool raft_maybe_commit(struct raft *r)
{
    ASSERT(r->role == RAFT_LEADER);
    uint64_t matches[SYN_MEMBERS_MAX];
    uint32_t n = 0;
    for (uint32_t i = 0; i < r->pr_count; i++) {
        if (r->prs[i].role == RAFT_VOTER) {
            matches[n++] = r->prs[i].match;
        }
    }
    uint32_t quorum = raft_quorum(r);
    if (n < quorum) {
        return false;
    }
    qsort(matches, n, sizeof(matches[0]), cmp_desc);
    uint64_t index = matches[quorum - 1];
    if (index <= r->commit) {
        return false;
    }
    /* Thesis 3.6.2 (figure 3.7): only an entry of the current term is committed by counting
     * replicas; earlier entries are committed with it. */
    if (raft_log_term(&r->log, index) != r->term && !MUTANT(r, RAFT_MUTANT_COMMIT_OLD_TERM)) {
        return false;
    }
    raft_commit_to(r, index);
    return true;
}

void raft_after_truncate(struct raft *r, uint64_t index)
{
    ASSERT(index > r->commit);
    if (r->persist_next > index) {
        r->persist_next = index;
    }
    if (r->stable >= index) {
        r->stable = index - 1;
    }
    if (r->ready_out && r->truncated_low > index) {
        r->truncated_low = index;
    }
    if (r->conf_index >= index) {
        raft_conf_recompute(r);
    }
    raft_outbox_forget(r, index);
}

/* Appends msg's entries after the matching prefix, dropping a conflicting tail. */
static int append_entries(struct raft *r, const struct raft_message *msg)
{
    for (uint32_t i = 0; i < msg->entry_count; i++) {
        const struct raft_entry *e = &msg->entries[i];
        uint64_t have = raft_log_term(&r->log, e->index);
        if (e->index <= raft_log_last_index(&r->log)) {
            if (have == e->term) {
                continue;
            }
            if (e->index <= r->commit) {
                return raft_fail(r, SYN_EPROTO, "leader contradicts a committed entry");
            }
            raft_log_truncate(&r->log, e->index);
            raft_after_truncate(r, e->index);
        }
        struct raft_entry copy = *e;
        copy.buf = NULL;
        int rc = raft_log_append(&r->log, &copy);
        if (rc != 0) {
            return raft_fail(r, rc, "out of memory appending entries");
        }
        if (copy.type == RAFT_ENTRY_CONF) {
            struct raft_conf conf;
            rc = raft_conf_decode(copy.data, copy.data_size, &conf);
            ASSERT(rc == 0); /* validated in raft_step */
            raft_conf_apply(r, &conf, copy.index);
        }
    }
    return 0;
}

/* The last index at or before index whose term is <= term: where the leader should probe
 * next (fast backtracking). */
static uint64_t find_conflict_by_term(const struct raft *r, uint64_t index, uint64_t term)
{
    uint64_t last = raft_log_last_index(&r->log);
    if (index > last) {
        index = last;
    }
    while (index > r->log.offset && raft_log_term(&r->log, index) > term) {
        index--;
    }
    return index;
}

int raft_step_append(struct raft *r, const struct raft_message *msg)
{
    struct raft_message resp = {.type = RAFT_MSG_APPEND_RESP, .to = msg->from, .term = r->term};
    if (msg->index < r->commit) {
        resp.index = r->commit; /* already committed here: nothing to learn from this one */
        raft_send(r, &resp, true);
        return 0;
    }
    if (msg->index > raft_log_last_index(&r->log) ||
        raft_log_term(&r->log, msg->index) != msg->log_term) {
        uint64_t hint = find_conflict_by_term(r, msg->index, msg->log_term);
        resp.flags = RAFT_FLAG_REJECT;
        resp.index = msg->index;
        resp.hint = hint;
        resp.hint_term = raft_log_term(&r->log, hint);
        raft_send(r, &resp, false); /* a refusal promises nothing durable */
        return 0;
    }
    int rc = append_entries(r, msg);
    if (rc != 0) {
        return rc;
    }
    uint64_t last_new = msg->index + msg->entry_count;
    raft_commit_to(r, msg->commit < last_new ? msg->commit : last_new);
    resp.index = last_new;
    /* Acknowledge only once durable (thesis 3.8); the mutant acknowledges at once. */
    raft_send(r, &resp, !MUTANT(r, RAFT_MUTANT_ACK_UNPERSISTED));
    return 0;
}

static void append_rejected(struct raft *r, struct raft_progress *pr, const struct raft_message *msg)
{
    if (msg->index <= pr->match) {
        return; /* stale: it already matched further */
    }
    if (pr->state == RAFT_PROGRESS_PROBE && msg->index != pr->next - 1) {
        return; /* an answer to an older probe */
    }
    if (pr->state == RAFT_PROGRESS_SNAPSHOT) {
        return;
    }
    uint64_t probe = find_conflict_by_term(r, msg->hint, msg->hint_term);
    uint64_t next = probe + 1 < msg->index ? probe + 1 : msg->index;
    if (next < pr->match + 1) {
        next = pr->match + 1;
    }
    raft_progress_become_probe(pr);
    pr->next = next;
    raft_send_append(r, pr, true);
}

int raft_step_append_resp(struct raft *r, const struct raft_message *msg)
{
    struct raft_progress *pr = raft_progress_find(r, msg->from);
    ASSERT(pr != NULL);
    pr->recent_active = true;
    if ((msg->flags & RAFT_FLAG_REJECT) != 0) {
        append_rejected(r, pr, msg);
        return 0;
    }
    if (msg->index > raft_log_last_index(&r->log)) {
        return raft_fail(r, SYN_EBADINDEX, "follower acknowledged entries the leader lacks");
    }
    bool moved = raft_progress_update(pr, msg->index);
    if (pr->state == RAFT_PROGRESS_REPLICATE) {
        raft_progress_inflight_free_to(pr, msg->index, r->config.inflight_max);
    } else if (moved && pr->state == RAFT_PROGRESS_PROBE) {
        raft_progress_become_replicate(pr);
    } else if (pr->state == RAFT_PROGRESS_SNAPSHOT && pr->match >= pr->snap_index) {
        raft_progress_become_replicate(pr); /* caught up without the snapshot */
    }
    if (moved) {
        raft_maybe_commit(r);
        if (r->role != RAFT_LEADER) {
            return 0; /* the commit removed this leader from the configuration */
        }
        raft_transfer_check(r, pr);
    }
    send_more(r, pr);
    return 0;
}

void raft_step_heartbeat(struct raft *r, const struct raft_message *msg)
{
    uint64_t last = raft_log_last_index(&r->log);
    raft_commit_to(r, msg->commit < last ? msg->commit : last);
    struct raft_message resp = {
        .type = RAFT_MSG_HEARTBEAT_RESP,
        .to = msg->from,
        .term = r->term,
        .context = msg->context,
    };
    raft_send(r, &resp, false); /* acknowledges leadership, promises nothing durable */
}

void raft_step_heartbeat_resp(struct raft *r, const struct raft_message *msg)
{
    struct raft_progress *pr = raft_progress_find(r, msg->from);
    ASSERT(pr != NULL);
    pr->recent_active = true;
    if (msg->context > pr->read_ack && msg->context <= r->read_round) {
        pr->read_ack = msg->context;
        raft_read_ack(r);
    }
    if (pr->state == RAFT_PROGRESS_PROBE) {
        pr->probe_sent = false;
    } else if (pr->state == RAFT_PROGRESS_REPLICATE &&
               raft_progress_inflight_full(pr, r->config.inflight_max)) {
        raft_progress_inflight_free_first(pr, r->config.inflight_max);
    }
    if (pr->match < raft_log_last_index(&r->log) && pr->state != RAFT_PROGRESS_SNAPSHOT) {
        raft_send_append(r, pr, true);
    }
    raft_transfer_check(r, pr); /* TimeoutNow again, in case it was lost */
}
