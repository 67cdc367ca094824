/* election.c: leader election (thesis 3.4) with pre-vote (9.6) and leadership-transfer
 * campaigns (3.10). */
#include "raft/raft_internal.h"

enum tally { TALLY_PENDING, TALLY_WON, TALLY_LOST };

static void record_vote(struct raft *r, raft_id from, bool granted)
{
    if (!raft_is_voter(r, from)) {
        return;
    }
    for (uint32_t i = 0; i < r->vote_count; i++) {
        if (r->vote_from[i] == from) {
            return; /* the first answer counts; duplicates change nothing */
        }
    }
    ASSERT(r->vote_count < SYN_MEMBERS_MAX);
    r->vote_from[r->vote_count] = from;
    r->vote_granted[r->vote_count] = granted;
    r->vote_count++;
}

static enum tally tally_votes(const struct raft *r)
{
    uint32_t granted = 0;
    uint32_t rejected = 0;
    for (uint32_t i = 0; i < r->vote_count; i++) {
        if (!raft_is_voter(r, r->vote_from[i])) {
            continue;
        }
        if (r->vote_granted[i]) {
            granted++;
        } else {
            rejected++;
        }
    }
    uint32_t quorum = raft_quorum(r);
    if (granted >= quorum) {
        return TALLY_WON;
    }
    if (rejected >= quorum) {
        return TALLY_LOST;
    }
    return TALLY_PENDING;
}

static void won(struct raft *r, bool transfer)
{
    if (r->role == RAFT_PRE_CANDIDATE) {
        raft_campaign(r, false, transfer);
    } else {
        ASSERT(r->role == RAFT_CANDIDATE);
        raft_become_leader(r);
    }
}

void raft_campaign(struct raft *r, bool pre_vote, bool transfer)
{
    ASSERT(r->role != RAFT_LEADER);
    if (!raft_is_voter(r, r->id)) {
        return; /* learners and removed servers never campaign */
    }
    uint64_t term;
    uint32_t type;
    if (pre_vote) {
        raft_become_pre_candidate(r);
        term = r->term + 1; /* the term it would use; its own stays as is */
        type = RAFT_MSG_PRE_VOTE;
    } else {
        raft_become_candidate(r);
        term = r->term;
        type = RAFT_MSG_VOTE;
    }
    record_vote(r, r->id, true);
    if (tally_votes(r) == TALLY_WON) {
        won(r, transfer);
        return;
    }
    for (uint32_t i = 0; i < r->conf.member_count; i++) {
        const struct raft_member *m = &r->conf.members[i];
        if (m->id == r->id || m->role != RAFT_VOTER) {
            continue;
        }
        struct raft_message msg = {
            .type = type,
            .to = m->id,
            .term = term,
            .index = raft_log_last_index(&r->log),
            .log_term = raft_log_last_term(&r->log),
            .flags = transfer ? RAFT_FLAG_TRANSFER : 0,
        };
        /* A vote request follows the durable new term and self-vote; a pre-vote changes
         * nothing and goes at once. */
        raft_send(r, &msg, !pre_vote);
    }
}

/* Thesis 3.6.1: grant only to a candidate whose log is at least as up-to-date. */
static bool log_up_to_date(const struct raft *r, const struct raft_message *msg)
{
    if (MUTANT(r, RAFT_MUTANT_NO_LOG_CHECK)) {
        return true;
    }
    uint64_t last_term = raft_log_last_term(&r->log);
    return msg->log_term > last_term ||
           (msg->log_term == last_term && msg->index >= raft_log_last_index(&r->log));
}

void raft_step_vote(struct raft *r, const struct raft_message *msg)
{
    bool pre = msg->type == RAFT_MSG_PRE_VOTE;
    /* At most one vote per term (thesis 3.4); a pre-vote for a later term binds nothing. */
    bool can_vote = r->vote == msg->from || (r->vote == 0 && r->leader == 0) ||
                    (pre && msg->term > r->term);
    if (!pre && MUTANT(r, RAFT_MUTANT_DOUBLE_VOTE)) {
        can_vote = true;
    }
    /* Thesis 9.6: no pre-vote while this node still hears from a leader. */
    bool leader_heard = r->leader != 0 && r->election_elapsed < r->config.election_ticks &&
                        (msg->flags & RAFT_FLAG_TRANSFER) == 0;
    if (pre && leader_heard) {
        can_vote = false;
    }
    bool grant = can_vote && log_up_to_date(r, msg);
    struct raft_message resp = {
        .type = pre ? RAFT_MSG_PRE_VOTE_RESP : RAFT_MSG_VOTE_RESP,
        .to = msg->from,
        .term = grant ? msg->term : r->term,
        .flags = grant ? 0 : RAFT_FLAG_REJECT,
    };
    if (grant && !pre) {
        ASSERT(msg->term == r->term);
        r->vote = msg->from;
        r->election_elapsed = 0;
    }
    /* A vote must be durable before it is promised; a pre-vote promises nothing. */
    raft_send(r, &resp, !pre);
}

void raft_step_vote_resp(struct raft *r, const struct raft_message *msg)
{
    bool pre = msg->type == RAFT_MSG_PRE_VOTE_RESP;
    if (r->role != (pre ? RAFT_PRE_CANDIDATE : RAFT_CANDIDATE)) {
        return; /* a late answer to an election already decided */
    }
    if (pre && msg->term != r->term + 1 && (msg->flags & RAFT_FLAG_REJECT) == 0) {
        return; /* an answer to an older pre-vote round */
    }
    record_vote(r, msg->from, (msg->flags & RAFT_FLAG_REJECT) == 0);
    switch (tally_votes(r)) {
    case TALLY_WON:
        won(r, false);
        break;
    case TALLY_LOST:
        raft_become_follower(r, r->term, 0);
        break;
    case TALLY_PENDING:
        break;
    }
}

void raft_step_timeout_now(struct raft *r, const struct raft_message *msg)
{
    (void)msg;
    if (r->role == RAFT_LEADER) {
        return;
    }
    /* Thesis 3.10: start an election at once, skipping pre-vote, flagged so that voters
     * that still hear from the old leader grant it anyway. */
    raft_campaign(r, false, true);
}
