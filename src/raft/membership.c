/* membership.c: membership changes one server at a time (thesis 4.1-4.2). A configuration
 * takes effect as soon as its entry is in the log, committed or not; a leader proposes the
 * next change only after the previous one committed and after an entry of its own term
 * committed (the fix for the single-server change bug, thesis errata 2015). */
#include "raft/raft_internal.h"

void raft_conf_recompute(struct raft *r)
{
    for (uint64_t i = raft_log_last_index(&r->log); i > r->snapshot.index; i--) {
        const struct raft_entry *e = raft_log_get(&r->log, i);
        if (e != NULL && e->type == RAFT_ENTRY_CONF) {
            struct raft_conf conf;
            int rc = raft_conf_decode(e->data, e->data_size, &conf);
            ASSERT(rc == 0);
            raft_conf_apply(r, &conf, i);
            return;
        }
    }
    raft_conf_apply(r, &r->snapshot.conf, r->snapshot.index);
}

void raft_conf_apply(struct raft *r, const struct raft_conf *conf, uint64_t index)
{
    ASSERT(raft_conf_valid(conf));
    r->conf = *conf;
    r->conf_index = index;
    if (r->role == RAFT_LEADER) {
        raft_progress_sync(r);
        raft_maybe_commit(r); /* a smaller quorum may commit more */
    }
}

/* Keeps the progress of members that stay, adds fresh progress for new ones. */
void raft_progress_sync(struct raft *r)
{
    uint32_t kept = 0;
    for (uint32_t i = 0; i < r->pr_count; i++) {
        const struct raft_member *m = raft_conf_find(&r->conf, r->prs[i].id);
        if (m != NULL) {
            r->prs[kept] = r->prs[i];
            r->prs[kept].role = m->role;
            kept++;
        }
    }
    r->pr_count = kept;
    uint64_t next = raft_log_last_index(&r->log) + 1;
    for (uint32_t i = 0; i < r->conf.member_count; i++) {
        const struct raft_member *m = &r->conf.members[i];
        if (raft_progress_find(r, m->id) != NULL) {
            continue;
        }
        ASSERT(r->pr_count < SYN_MEMBERS_MAX);
        struct raft_progress *pr = &r->prs[r->pr_count++];
        pr->id = m->id;
        pr->role = m->role;
        raft_progress_reset(pr, next);
        pr->recent_active = true;
        if (m->id == r->id) {
            pr->match = r->stable;
            pr->state = RAFT_PROGRESS_REPLICATE;
        }
    }
}

void raft_conf_after_commit(struct raft *r)
{
    /* Thesis 4.2.2: a leader removed from the configuration steps down once the removal
     * is committed; until then it manages the cluster without counting itself. */
    if (r->role == RAFT_LEADER && r->conf_index <= r->commit && !raft_is_voter(r, r->id)) {
        r->commit_bcast_pending = true;
        raft_bcast_append(r); /* the others learn at once that the removal committed */
        raft_become_follower(r, r->term, 0);
    }
}

static int conf_change(struct raft *r, struct raft_conf *conf, enum raft_conf_op op, raft_id id,
                       const char *addr)
{
    struct raft_member *m = NULL;
    for (uint32_t i = 0; i < conf->member_count; i++) {
        if (conf->members[i].id == id) {
            m = &conf->members[i];
        }
    }
    switch (op) {
    case RAFT_CONF_ADD_VOTER:
    case RAFT_CONF_ADD_LEARNER: {
        if (m != NULL) {
            return raft_fail(r, SYN_EEXIST, "node is already a member");
        }
        if (conf->member_count == SYN_MEMBERS_MAX) {
            return raft_fail(r, SYN_EFULL, "configuration is full");
        }
        size_t len = addr == NULL ? 0 : strlen(addr);
        if (len > SYN_MEMBER_ADDR_SIZE_MAX) {
            return raft_fail(r, SYN_EINVAL, "address too long");
        }
        m = &conf->members[conf->member_count++];
        memset(m, 0, sizeof(*m));
        m->id = id;
        m->role = op == RAFT_CONF_ADD_VOTER ? RAFT_VOTER : RAFT_LEARNER;
        m->addr_size = (uint8_t)len;
        memcpy(m->addr, addr == NULL ? "" : addr, len);
        return 0;
    }
    case RAFT_CONF_PROMOTE:
        if (m == NULL) {
            return raft_fail(r, SYN_EUNKNOWNNODE, "no such member");
        }
        if (m->role != RAFT_LEARNER) {
            return raft_fail(r, SYN_EINVAL, "node is not a learner");
        }
        m->role = RAFT_VOTER;
        return 0;
    case RAFT_CONF_REMOVE:
        if (m == NULL) {
            return raft_fail(r, SYN_EUNKNOWNNODE, "no such member");
        }
        if (m->role == RAFT_VOTER && raft_conf_voter_count(conf) == 1) {
            return raft_fail(r, SYN_EINVAL, "cannot remove the last voter");
        }
        *m = conf->members[--conf->member_count];
        return 0;
    }
    return raft_fail(r, SYN_EINVAL, "unknown membership operation");
}

int raft_propose_conf(struct raft *r, enum raft_conf_op op, raft_id id, const char *addr,
                      uint64_t *index, uint64_t *term)
{
    if (r->role != RAFT_LEADER) {
        return raft_fail(r, SYN_ENOTLEADER, "not the leader");
    }
    if (id == 0) {
        return raft_fail(r, SYN_EINVAL, "node id must not be 0");
    }
    if (r->transferee != 0) {
        return raft_fail(r, SYN_ETRANSFER, "leadership transfer in progress");
    }
    if (r->conf_index > r->commit || raft_log_term(&r->log, r->commit) != r->term) {
        return raft_fail(r, SYN_ECONFCHANGE, "previous membership change not yet committed");
    }
    struct raft_conf conf = r->conf;
    int rc = conf_change(r, &conf, op, id, addr);
    if (rc != 0) {
        return rc;
    }
    uint8_t buf[RAFT_CONF_ENCODED_SIZE_MAX];
    uint32_t size = raft_conf_encode(&conf, buf);
    rc = raft_append_local(r, RAFT_ENTRY_CONF, buf, size);
    if (rc != 0) {
        return raft_fail(r, rc, "out of memory");
    }
    *index = raft_log_last_index(&r->log);
    *term = r->term;
    return 0;
}
