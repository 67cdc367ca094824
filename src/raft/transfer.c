/* transfer.c: leadership transfer (thesis 3.10): stop taking proposals, bring the target up
 * to date, then tell it to start an election at once. */
#include "raft/raft_internal.h"

int raft_transfer_leader(struct raft *r, raft_id target)
{
    if (r->role != RAFT_LEADER) {
        return raft_fail(r, SYN_ENOTLEADER, "not the leader");
    }
    if (r->transferee != 0) {
        return raft_fail(r, SYN_ETRANSFER, "a leadership transfer is already in progress");
    }
    if (target == r->id) {
        return raft_fail(r, SYN_EINVAL, "already the leader");
    }
    struct raft_progress *pr = raft_progress_find(r, target);
    if (pr == NULL) {
        return raft_fail(r, SYN_EUNKNOWNNODE, "no such member");
    }
    if (pr->role != RAFT_VOTER) {
        return raft_fail(r, SYN_EINVAL, "a learner cannot lead");
    }
    r->transferee = target;
    r->transfer_elapsed = 0;
    if (pr->match == raft_log_last_index(&r->log)) {
        raft_transfer_check(r, pr);
    } else {
        raft_send_append(r, pr, true);
    }
    return 0;
}

void raft_transfer_check(struct raft *r, struct raft_progress *pr)
{
    if (r->transferee != pr->id || pr->match != raft_log_last_index(&r->log)) {
        return;
    }
    struct raft_message msg = {.type = RAFT_MSG_TIMEOUT_NOW, .to = pr->id, .term = r->term};
    raft_send(r, &msg, false);
}

void raft_transfer_abort(struct raft *r)
{
    r->transferee = 0;
    r->transfer_elapsed = 0;
}
