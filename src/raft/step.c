/* step.c: validates a peer's message, applies the term rules every message obeys (thesis
 * figure 3.1, "Rules for servers"), and hands it to the handler of its type. */
#include "raft/raft_internal.h"

static const char *validate_entries(const struct raft_message *m)
{
    if (m->entry_count > SYN_APPEND_ENTRIES_MAX) {
        return "too many entries in one message";
    }
    if (m->entry_count > 0 && m->entries == NULL) {
        return "entries missing";
    }
    uint64_t prev_term = m->log_term;
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < m->entry_count; i++) {
        const struct raft_entry *e = &m->entries[i];
        bytes += e->data_size;
        if (bytes > SYN_APPEND_BYTES_MAX) {
            return "entries exceed the message size limit";
        }
        if (e->index != m->index + 1 + i) {
            return "entries are not contiguous";
        }
        if (e->term < prev_term || e->term > m->term) {
            return "entry terms out of order";
        }
        if (e->type < RAFT_ENTRY_NORMAL || e->type > RAFT_ENTRY_CONF) {
            return "unknown entry type";
        }
        if (e->data_size > SYN_ENTRY_SIZE_MAX || (e->data_size > 0 && e->data == NULL)) {
            return "bad entry payload";
        }
        struct raft_conf conf;
        if (e->type == RAFT_ENTRY_CONF && raft_conf_decode(e->data, e->data_size, &conf) != 0) {
            return "malformed configuration entry";
        }
        prev_term = e->term;
    }
    return NULL;
}

static const char *validate_snapshot(const struct raft_message *m)
{
    const struct raft_snapshot_meta *s = &m->snapshot;
    if (s->index == 0 || s->term == 0 || s->term > m->term) {
        return "snapshot index or term out of range";
    }
    if (!raft_conf_valid(&s->conf)) {
        return "snapshot configuration invalid";
    }
    if (m->data_size > SYN_SNAPSHOT_CHUNK_SIZE_MAX || (m->data_size > 0 && m->data == NULL)) {
        return "bad snapshot chunk";
    }
    if (m->offset > s->size || s->size - m->offset < m->data_size) {
        return "snapshot chunk beyond the snapshot's size";
    }
    bool last = m->offset + m->data_size == s->size;
    if (last != ((m->flags & RAFT_FLAG_LAST) != 0)) {
        return "snapshot last-chunk flag disagrees with its size";
    }
    return NULL;
}

static const char *validate(const struct raft *r, const struct raft_message *m)
{
    if (m->type < RAFT_MSG_APPEND || m->type > RAFT_MSG_TYPE_MAX) {
        return "unknown message type";
    }
    if (m->from == 0 || m->from == r->id || m->to != r->id) {
        return "bad sender or recipient";
    }
    if (m->term == 0) {
        return "term 0";
    }
    if (m->type != RAFT_MSG_APPEND && m->entry_count != 0) {
        return "entries in a message that carries none";
    }
    switch (m->type) {
    case RAFT_MSG_APPEND:
        if (m->log_term > m->term || (m->index == 0 && m->log_term != 0)) {
            return "previous entry term out of range";
        }
        return validate_entries(m);
    case RAFT_MSG_VOTE:
    case RAFT_MSG_PRE_VOTE:
        return m->log_term > m->term ? "candidate's last term out of range" : NULL;
    case RAFT_MSG_SNAPSHOT:
        return validate_snapshot(m);
    default:
        return NULL;
    }
}

/* Thesis 4.2.3: while a follower hears from a leader, it ignores candidates, so that a
 * removed or partitioned server cannot disrupt the cluster. */
static bool in_lease(const struct raft *r)
{
    return r->config.check_quorum && r->leader != 0 &&
           r->election_elapsed < r->config.election_ticks;
}

static bool from_leader(uint32_t type)
{
    return type == RAFT_MSG_APPEND || type == RAFT_MSG_HEARTBEAT || type == RAFT_MSG_SNAPSHOT;
}

/* Returns 1 when the message is done with (ignored or answered), 0 to go on. */
static int step_term(struct raft *r, const struct raft_message *m)
{
    bool reject = (m->flags & RAFT_FLAG_REJECT) != 0;
    if (m->term > r->term) {
        bool vote_req = m->type == RAFT_MSG_VOTE || m->type == RAFT_MSG_PRE_VOTE;
        if (vote_req && in_lease(r) && (m->flags & RAFT_FLAG_TRANSFER) == 0) {
            return 1;
        }
        if (m->type == RAFT_MSG_PRE_VOTE || (m->type == RAFT_MSG_PRE_VOTE_RESP && !reject)) {
            return 0; /* pre-votes never change terms */
        }
        bool leader = from_leader(m->type);
        uint32_t elapsed = r->election_elapsed;
        raft_become_follower(r, m->term, leader ? m->from : 0);
        if (!leader) {
            /* Raft paper figure 2: only a current leader or a granted vote resets the
             * election timer. A newer term alone does not, or candidates with stale logs
             * could keep an up-to-date server from ever standing. */
            r->election_elapsed = elapsed;
        }
        return 0;
    }
    if (m->term < r->term) {
        if (from_leader(m->type) && (r->config.check_quorum || r->config.pre_vote)) {
            /* Tell a deposed leader about the newer term so it steps down. */
            struct raft_message resp = {.type = RAFT_MSG_APPEND_RESP, .to = m->from, .term = r->term};
            raft_send(r, &resp, false);
        } else if (m->type == RAFT_MSG_PRE_VOTE) {
            struct raft_message resp = {.type = RAFT_MSG_PRE_VOTE_RESP, .to = m->from, .term = r->term,
                                        .flags = RAFT_FLAG_REJECT};
            raft_send(r, &resp, false);
        }
        return SYN_ESTALE;
    }
    return 0;
}

/* A message from the leader of the current term: follow it. */
static int follow(struct raft *r, const struct raft_message *m)
{
    if (r->role == RAFT_LEADER) {
        return raft_fail(r, SYN_EPROTO, "another leader in the same term");
    }
    if (r->role != RAFT_FOLLOWER || r->leader != m->from) {
        raft_become_follower(r, m->term, m->from);
    }
    r->election_elapsed = 0;
    return 0;
}

static int step_leader_only(struct raft *r, const struct raft_message *m)
{
    if (r->role != RAFT_LEADER) {
        return 0; /* an answer to a leader this node no longer is */
    }
    if (raft_progress_find(r, m->from) == NULL) {
        return raft_fail(r, SYN_EUNKNOWNNODE, "answer from a node that is not a member");
    }
    switch (m->type) {
    case RAFT_MSG_APPEND_RESP:
        return raft_step_append_resp(r, m);
    case RAFT_MSG_HEARTBEAT_RESP:
        raft_step_heartbeat_resp(r, m);
        return 0;
    case RAFT_MSG_SNAPSHOT_RESP:
        return raft_step_snapshot_resp(r, m);
    default:
        UNREACHABLE();
    }
}

int raft_step(struct raft *r, const struct raft_message *m)
{
    const char *why = validate(r, m);
    if (why != NULL) {
        return raft_fail(r, SYN_EBADMSG, why);
    }
    int rc = step_term(r, m);
    if (rc != 0) {
        return rc < 0 ? raft_fail(r, rc, "message from an older term") : 0;
    }
    switch (m->type) {
    case RAFT_MSG_APPEND:
    case RAFT_MSG_HEARTBEAT:
    case RAFT_MSG_SNAPSHOT:
        rc = follow(r, m);
        if (rc != 0) {
            return rc;
        }
        if (m->type == RAFT_MSG_HEARTBEAT) {
            raft_step_heartbeat(r, m);
            return 0;
        }
        return m->type == RAFT_MSG_APPEND ? raft_step_append(r, m) : raft_step_snapshot(r, m);
    case RAFT_MSG_VOTE:
    case RAFT_MSG_PRE_VOTE:
        raft_step_vote(r, m);
        return 0;
    case RAFT_MSG_VOTE_RESP:
    case RAFT_MSG_PRE_VOTE_RESP:
        raft_step_vote_resp(r, m);
        return 0;
    case RAFT_MSG_TIMEOUT_NOW:
        if (m->from == r->leader) {
            raft_step_timeout_now(r, m);
        }
        return 0;
    case RAFT_MSG_READ_INDEX:
        raft_step_read_index(r, m);
        return 0;
    case RAFT_MSG_READ_INDEX_RESP:
        raft_step_read_index_resp(r, m);
        return 0;
    default:
        return step_leader_only(r, m);
    }
}
