/* read.c: linearizable reads without writing the log (ReadIndex, thesis 6.4). The leader
 * notes its commit index, confirms with a heartbeat round that a majority still follows it,
 * and then the read may be served once that index is applied. Requests that arrive between
 * two Readies share one round. */
#include "raft/raft_internal.h"

int raft_read_state_push(struct raft *r, uint64_t request_id, uint64_t index)
{
    if (r->read_state_count == SYN_READS_PENDING_MAX) {
        return SYN_EBUSY; /* the client times out and retries */
    }
    if (r->read_states == NULL) {
        r->read_states = malloc(SYN_READS_PENDING_MAX * sizeof(*r->read_states));
        if (r->read_states == NULL) {
            return SYN_ENOMEM;
        }
    }
    r->read_states[r->read_state_count++] = (struct raft_read_state){request_id, index};
    return 0;
}

static bool committed_in_term(const struct raft *r)
{
    return raft_log_term(&r->log, r->commit) == r->term;
}

static int leader_read(struct raft *r, raft_id from, uint64_t request_id)
{
    if (r->read_count == SYN_READS_PENDING_MAX) {
        return raft_fail(r, SYN_EBUSY, "too many reads pending");
    }
    struct raft_read_req *req = &r->reads[(r->read_head + r->read_count) % SYN_READS_PENDING_MAX];
    *req = (struct raft_read_req){.request_id = request_id, .from = from};
    r->read_count++;
    r->read_round_pending = true;
    return 0;
}

int raft_read_index(struct raft *r, uint64_t request_id)
{
    if (r->role == RAFT_LEADER) {
        return leader_read(r, 0, request_id);
    }
    if (r->leader == 0) {
        return raft_fail(r, SYN_ENOLEADER, "no leader known");
    }
    struct raft_message msg = {
        .type = RAFT_MSG_READ_INDEX,
        .to = r->leader,
        .term = r->term,
        .context = request_id,
    };
    raft_send(r, &msg, false);
    return 0;
}

void raft_read_flush(struct raft *r)
{
    if (r->role != RAFT_LEADER || !r->read_round_pending || !committed_in_term(r)) {
        return; /* a new leader first commits its blank entry, so it knows the commit index */
    }
    r->read_round_pending = false;
    uint64_t round = ++r->read_round;
    for (uint32_t i = 0; i < r->read_count; i++) {
        struct raft_read_req *req = &r->reads[(r->read_head + i) % SYN_READS_PENDING_MAX];
        if (req->round == 0) {
            req->round = round;
            req->index = r->commit;
        }
    }
    raft_bcast_heartbeat(r);
    raft_read_ack(r);
}

static uint32_t acked(const struct raft *r, uint64_t round)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < r->pr_count; i++) {
        const struct raft_progress *pr = &r->prs[i];
        if (pr->role == RAFT_VOTER && (pr->id == r->id || pr->read_ack >= round)) {
            n++;
        }
    }
    return n;
}

static void release(struct raft *r, const struct raft_read_req *req)
{
    if (req->from == 0) {
        raft_read_state_push(r, req->request_id, req->index);
        return;
    }
    struct raft_message msg = {
        .type = RAFT_MSG_READ_INDEX_RESP,
        .to = req->from,
        .term = r->term,
        .index = req->index,
        .context = req->request_id,
    };
    raft_send(r, &msg, false);
}

void raft_read_ack(struct raft *r)
{
    uint32_t quorum = raft_quorum(r);
    while (r->read_count > 0) {
        struct raft_read_req *req = &r->reads[r->read_head];
        if (req->round == 0 || acked(r, req->round) < quorum) {
            return;
        }
        release(r, req);
        r->read_head = (r->read_head + 1) % SYN_READS_PENDING_MAX;
        r->read_count--;
    }
}

void raft_read_drop_all(struct raft *r)
{
    r->read_head = 0;
    r->read_count = 0;
    r->read_round_pending = false;
}

void raft_step_read_index(struct raft *r, const struct raft_message *msg)
{
    if (r->role != RAFT_LEADER || leader_read(r, msg->from, msg->context) != 0) {
        struct raft_message resp = {
            .type = RAFT_MSG_READ_INDEX_RESP,
            .to = msg->from,
            .term = r->term,
            .context = msg->context,
            .flags = RAFT_FLAG_REJECT,
        };
        raft_send(r, &resp, false);
    }
}

void raft_step_read_index_resp(struct raft *r, const struct raft_message *msg)
{
    if ((msg->flags & RAFT_FLAG_REJECT) == 0) {
        raft_read_state_push(r, msg->context, msg->index);
    }
}
