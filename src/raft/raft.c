/* raft.c: creating the core, role transitions (thesis 3.3, figure 3.3), ticks, proposals and
 * status. Elections, replication, snapshots, membership, reads and transfers have files of
 * their own. */
#include "raft/raft_internal.h"

const char *raft_role_name(enum raft_role role)
{
    switch (role) {
    case RAFT_FOLLOWER:
        return "follower";
    case RAFT_PRE_CANDIDATE:
        return "pre-candidate";
    case RAFT_CANDIDATE:
        return "candidate";
    case RAFT_LEADER:
        return "leader";
    }
    return "?";
}

void raft_config_default(struct raft_config *config, raft_id id)
{
    *config = (struct raft_config){
        .id = id,
        .election_ticks = 10,
        .heartbeat_ticks = 1,
        .append_entries_max = SYN_APPEND_ENTRIES_MAX,
        .append_bytes_max = 1u << 20,
        .inflight_max = 64,
        .uncommitted_bytes_max = SYN_UNCOMMITTED_BYTES_MAX,
        .snapshot_chunk_size = 256u << 10,
        .pre_vote = true,
        .check_quorum = true,
        .seed = id,
    };
}

int raft_fail(struct raft *r, int code, const char *what)
{
    size_t n = strlen(what);
    if (n >= sizeof(r->errmsg)) {
        n = sizeof(r->errmsg) - 1;
    }
    memcpy(r->errmsg, what, n);
    r->errmsg[n] = '\0';
    return code;
}

const char *raft_errmsg(const struct raft *r)
{
    return r->errmsg;
}

static int validate_fail(char *msg, size_t msg_size, const char *what)
{
    if (msg != NULL && msg_size > 0) {
        size_t n = strlen(what);
        n = n < msg_size - 1 ? n : msg_size - 1;
        memcpy(msg, what, n);
        msg[n] = '\0';
    }
    return SYN_EINVAL;
}

static const char *validate_config(const struct raft_config *c)
{
    if (c->id == 0) {
        return "node id must not be 0";
    }
    if (c->election_ticks < 2 || c->heartbeat_ticks < 1 ||
        c->heartbeat_ticks >= c->election_ticks) {
        return "need 1 <= heartbeat_ticks < election_ticks";
    }
    if (c->append_entries_max < 1 || c->append_entries_max > SYN_APPEND_ENTRIES_MAX) {
        return "append_entries_max out of range";
    }
    if (c->append_bytes_max < 1 || c->append_bytes_max > SYN_APPEND_BYTES_MAX) {
        return "append_bytes_max out of range";
    }
    if (c->inflight_max < 1 || c->inflight_max > SYN_INFLIGHT_MAX) {
        return "inflight_max out of range";
    }
    if (c->snapshot_chunk_size < 1 || c->snapshot_chunk_size > SYN_SNAPSHOT_CHUNK_SIZE_MAX) {
        return "snapshot_chunk_size out of range";
    }
    if (c->uncommitted_bytes_max < 1 || c->uncommitted_bytes_max > SYN_UNCOMMITTED_BYTES_MAX) {
        return "uncommitted_bytes_max out of range";
    }
    return NULL;
}

static const char *validate_entries(const struct raft_restore *st)
{
    uint64_t prev_term = st->snapshot.term;
    for (uint32_t i = 0; i < st->entry_count; i++) {
        const struct raft_entry *e = &st->entries[i];
        if (e->index != st->snapshot.index + 1 + i) {
            return "stored entries are not contiguous after the snapshot";
        }
        if (e->term < prev_term || e->term > st->hard_state.term) {
            return "stored entry terms go backwards or exceed the stored term";
        }
        if (e->type < RAFT_ENTRY_NORMAL || e->type > RAFT_ENTRY_CONF) {
            return "stored entry has an unknown type";
        }
        if (e->data_size > SYN_ENTRY_SIZE_MAX || (e->data_size > 0 && e->data == NULL)) {
            return "stored entry has a bad payload";
        }
        struct raft_conf conf;
        if (e->type == RAFT_ENTRY_CONF && raft_conf_decode(e->data, e->data_size, &conf) != 0) {
            return "stored configuration entry is corrupt";
        }
        prev_term = e->term;
    }
    return NULL;
}

int raft_validate(const struct raft_config *config, const struct raft_restore *restore,
                  char *msg, size_t msg_size)
{
    const char *why = validate_config(config);
    if (why == NULL && !raft_conf_valid(&restore->snapshot.conf)) {
        why = "stored configuration is invalid";
    }
    if (why == NULL && restore->snapshot.term > restore->hard_state.term) {
        why = "snapshot term exceeds the stored term";
    }
    if (why == NULL && (restore->snapshot.index == 0) != (restore->snapshot.term == 0)) {
        why = "snapshot index and term disagree";
    }
    if (why == NULL && restore->entry_count > 0 && restore->entries == NULL) {
        why = "entries missing";
    }
    if (why == NULL) {
        why = validate_entries(restore);
    }
    return why == NULL ? 0 : validate_fail(msg, msg_size, why);
}

static int raft_restore_log(struct raft *r, const struct raft_restore *st)
{
    raft_log_init(&r->log, st->snapshot.index, st->snapshot.term);
    for (uint32_t i = 0; i < st->entry_count; i++) {
        struct raft_entry e = st->entries[i];
        e.buf = NULL; /* copy the shell's bytes */
        int rc = raft_log_append(&r->log, &e);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

int raft_create(struct raft **out, const struct raft_config *config,
                const struct raft_restore *restore)
{
    *out = NULL;
    if (raft_validate(config, restore, NULL, 0) != 0) {
        return SYN_EINVAL;
    }
    struct raft *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return SYN_ENOMEM;
    }
    r->config = *config;
    r->id = config->id;
    prng_init(&r->prng, config->seed ^ (config->id * 0x9e3779b97f4a7c15ULL));
    r->term = restore->hard_state.term;
    r->vote = restore->hard_state.vote;
    r->snapshot = restore->snapshot;
    r->conf = restore->snapshot.conf;
    r->conf_index = restore->snapshot.index;
    r->prs = calloc(SYN_MEMBERS_MAX, sizeof(*r->prs));
    r->reads = calloc(SYN_READS_PENDING_MAX, sizeof(*r->reads));
    int rc = (r->prs == NULL || r->reads == NULL) ? SYN_ENOMEM : raft_restore_log(r, restore);
    if (rc != 0) {
        raft_destroy(r);
        return rc;
    }
    uint64_t last = raft_log_last_index(&r->log);
    uint64_t commit = restore->hard_state.commit;
    r->commit = commit > last ? last : commit;
    if (r->commit < restore->snapshot.index) {
        r->commit = restore->snapshot.index;
    }
    r->applied = restore->snapshot.index;
    r->apply_next = restore->snapshot.index + 1;
    r->stable = last;
    r->persist_next = last + 1;
    r->truncated_low = UINT64_MAX;
    r->hs_handed = (struct raft_hard_state){r->term, r->vote, r->commit};
    raft_conf_recompute(r);
    raft_become_follower(r, r->term, 0);
    r->soft_changed = false;
    *out = r;
    return 0;
}

void raft_destroy(struct raft *r)
{
    if (r == NULL) {
        return;
    }
    if (r->ready_out) {
        raft_advance(r, &r->ready);
    }
    raft_outbox_free(&r->early, true);
    raft_outbox_free(&r->late, true);
    raft_log_free(&r->log);
    raft_buf_unref(r->recv_chunk);
    free(r->read_states);
    free(r->reads);
    free(r->prs);
    free(r);
}

void raft_reset_election_timer(struct raft *r)
{
    r->election_elapsed = 0;
    uint32_t base = r->config.election_ticks;
    r->election_timeout = (uint32_t)prng_range(&r->prng, base, 2 * (uint64_t)base - 1);
}

static void set_role(struct raft *r, enum raft_role role, raft_id leader)
{
    /* The legal transitions of thesis figure 3.3, with pre-vote (9.6) in between. */
    enum raft_role from = r->role;
    ASSERT(role == RAFT_FOLLOWER || (from != RAFT_LEADER && role == RAFT_PRE_CANDIDATE) ||
           (from != RAFT_LEADER && role == RAFT_CANDIDATE) ||
           (from == RAFT_CANDIDATE && role == RAFT_LEADER));
    if (role == RAFT_LEADER) {
        ASSERT(leader == r->id);
    }
    if (r->role != role || r->leader != leader) {
        r->soft_changed = true;
    }
    r->role = role;
    r->leader = leader;
}

void raft_become_follower(struct raft *r, uint64_t term, raft_id leader)
{
    ASSERT(term >= r->term);
    if (term > r->term) {
        r->term = term;
        r->vote = 0;
        raft_outbox_forget(r, UINT64_MAX);
    }
    if (r->role == RAFT_LEADER) {
        raft_read_drop_all(r);
    }
    set_role(r, RAFT_FOLLOWER, leader);
    r->transferee = 0;
    r->bcast_pending = false;
    r->heartbeat_elapsed = 0;
    raft_reset_election_timer(r);
}

static void reset_votes(struct raft *r)
{
    r->vote_count = 0;
}

void raft_become_pre_candidate(struct raft *r)
{
    set_role(r, RAFT_PRE_CANDIDATE, 0);
    reset_votes(r);
    raft_reset_election_timer(r);
}

void raft_become_candidate(struct raft *r)
{
    set_role(r, RAFT_CANDIDATE, 0);
    r->term++;
    r->vote = r->id;
    raft_outbox_forget(r, UINT64_MAX);
    reset_votes(r);
    raft_reset_election_timer(r);
}

void raft_become_leader(struct raft *r)
{
    set_role(r, RAFT_LEADER, r->id);
    r->transferee = 0;
    r->heartbeat_elapsed = 0;
    r->election_elapsed = 0;
    r->pr_count = 0;
    raft_progress_sync(r);
    r->uncommitted_bytes = 0;
    for (uint64_t i = r->commit + 1; i <= raft_log_last_index(&r->log); i++) {
        r->uncommitted_bytes += raft_log_get(&r->log, i)->data_size;
    }
    /* Thesis 6.4: a new leader commits a blank entry of its own term at once, which also
     * commits every earlier entry (figure 3.7's rule) and enables ReadIndex. */
    int rc = raft_append_local(r, RAFT_ENTRY_NOOP, NULL, 0);
    ASSERT(rc == 0 || rc == SYN_ENOMEM);
}

bool raft_is_voter(const struct raft *r, raft_id id)
{
    const struct raft_member *m = raft_conf_find(&r->conf, id);
    return m != NULL && m->role == RAFT_VOTER;
}

uint32_t raft_quorum(const struct raft *r)
{
    return raft_conf_voter_count(&r->conf) / 2 + 1;
}

struct raft_progress *raft_progress_find(struct raft *r, raft_id id)
{
    for (uint32_t i = 0; i < r->pr_count; i++) {
        if (r->prs[i].id == id) {
            return &r->prs[i];
        }
    }
    return NULL;
}

static bool quorum_active(struct raft *r)
{
    uint32_t active = 0;
    for (uint32_t i = 0; i < r->pr_count; i++) {
        struct raft_progress *pr = &r->prs[i];
        if (pr->role == RAFT_VOTER && (pr->id == r->id || pr->recent_active)) {
            active++;
        }
        pr->recent_active = false;
    }
    return active >= raft_quorum(r);
}

static void tick_leader(struct raft *r)
{
    r->heartbeat_elapsed++;
    r->election_elapsed++;
    if (r->election_elapsed >= r->config.election_ticks) {
        r->election_elapsed = 0;
        /* Thesis 6.2: a leader that cannot reach a majority steps down. */
        if (r->config.check_quorum && !quorum_active(r)) {
            raft_become_follower(r, r->term, 0);
            return;
        }
    }
    if (r->transferee != 0 && ++r->transfer_elapsed >= r->config.election_ticks) {
        raft_transfer_abort(r);
    }
    if (r->heartbeat_elapsed >= r->config.heartbeat_ticks) {
        r->heartbeat_elapsed = 0;
        raft_bcast_heartbeat(r);
    }
    raft_snapshot_tick(r);
}

void raft_tick(struct raft *r)
{
    if (r->role == RAFT_LEADER) {
        tick_leader(r);
        return;
    }
    r->election_elapsed++;
    if (r->election_elapsed >= r->election_timeout && raft_is_voter(r, r->id)) {
        raft_campaign(r, r->config.pre_vote, false);
    }
}

int raft_propose(struct raft *r, const uint8_t *data, uint32_t size, uint64_t *index,
                 uint64_t *term)
{
    if (r->role != RAFT_LEADER) {
        return raft_fail(r, SYN_ENOTLEADER, "not the leader");
    }
    if (r->transferee != 0) {
        return raft_fail(r, SYN_ETRANSFER, "leadership transfer in progress");
    }
    if (size > 0 && data == NULL) {
        return raft_fail(r, SYN_EINVAL, "proposal data missing");
    }
    if (size > SYN_ENTRY_SIZE_MAX) {
        return raft_fail(r, SYN_ETOOBIG, "proposal larger than the entry size limit");
    }
    if (r->uncommitted_bytes > 0 &&
        r->uncommitted_bytes + size > r->config.uncommitted_bytes_max) {
        return raft_fail(r, SYN_EBUSY, "too many uncommitted bytes; retry later");
    }
    int rc = raft_append_local(r, RAFT_ENTRY_NORMAL, data, size);
    if (rc != 0) {
        return raft_fail(r, rc, "out of memory");
    }
    *index = raft_log_last_index(&r->log);
    *term = r->term;
    return 0;
}

enum raft_role raft_role(const struct raft *r)
{
    return r->role;
}

uint64_t raft_term(const struct raft *r)
{
    return r->term;
}

raft_id raft_leader(const struct raft *r)
{
    return r->leader;
}

uint64_t raft_commit_index(const struct raft *r)
{
    return r->commit;
}

uint64_t raft_applied_index(const struct raft *r)
{
    return r->applied;
}

uint64_t raft_last_index(const struct raft *r)
{
    return raft_log_last_index(&r->log);
}

uint64_t raft_term_at(const struct raft *r, uint64_t index)
{
    return raft_log_term(&r->log, index);
}

const struct raft_entry *raft_entry_at(const struct raft *r, uint64_t index)
{
    return raft_log_get(&r->log, index);
}

void raft_status(const struct raft *r, struct raft_status *st)
{
    memset(st, 0, sizeof(*st));
    st->id = r->id;
    st->role = r->role;
    st->term = r->term;
    st->vote = r->vote;
    st->leader = r->leader;
    st->commit_index = r->commit;
    st->applied_index = r->applied;
    st->last_index = raft_log_last_index(&r->log);
    st->last_term = raft_log_last_term(&r->log);
    st->stable_index = r->stable;
    st->snapshot_index = r->snapshot.index;
    st->snapshot_term = r->snapshot.term;
    st->log_bytes = r->log.bytes;
    st->transfer_target = r->transferee;
    st->conf = r->conf;
    st->conf_index = r->conf_index;
    for (uint32_t i = 0; i < r->conf.member_count; i++) {
        struct raft_peer_status *ps = &st->peers[st->peer_count++];
        ps->id = r->conf.members[i].id;
        ps->role = r->conf.members[i].role;
        if (r->role != RAFT_LEADER) {
            continue;
        }
        const struct raft_progress *pr = raft_progress_find((struct raft *)r, ps->id);
        ASSERT(pr != NULL);
        ps->state = pr->state;
        ps->recent_active = pr->recent_active || pr->id == r->id;
        ps->match_index = pr->match;
        ps->next_index = pr->next;
        ps->inflight = pr->inflight_count;
    }
}
