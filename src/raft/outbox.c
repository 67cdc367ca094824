/* outbox.c: messages waiting for the next Ready, in two queues: those that may leave before
 * the Ready is persisted, and those that promise durable state (thesis 3.8: respond only
 * after persisting). */
#include "raft/raft_internal.h"

const char *raft_msg_type_name(uint32_t type)
{
    static const char *const names[RAFT_MSG_TYPE_MAX + 1] = {
        [RAFT_MSG_APPEND] = "APPEND",
        [RAFT_MSG_APPEND_RESP] = "APPEND_RESP",
        [RAFT_MSG_VOTE] = "VOTE",
        [RAFT_MSG_VOTE_RESP] = "VOTE_RESP",
        [RAFT_MSG_PRE_VOTE] = "PRE_VOTE",
        [RAFT_MSG_PRE_VOTE_RESP] = "PRE_VOTE_RESP",
        [RAFT_MSG_HEARTBEAT] = "HEARTBEAT",
        [RAFT_MSG_HEARTBEAT_RESP] = "HEARTBEAT_RESP",
        [RAFT_MSG_SNAPSHOT] = "SNAPSHOT",
        [RAFT_MSG_SNAPSHOT_RESP] = "SNAPSHOT_RESP",
        [RAFT_MSG_TIMEOUT_NOW] = "TIMEOUT_NOW",
        [RAFT_MSG_READ_INDEX] = "READ_INDEX",
        [RAFT_MSG_READ_INDEX_RESP] = "READ_INDEX_RESP",
    };
    return type <= RAFT_MSG_TYPE_MAX && names[type] != NULL ? names[type] : "UNKNOWN";
}

struct raft_message *raft_send(struct raft *r, struct raft_message *msg, bool late)
{
    struct raft_outbox *box = late ? &r->late : &r->early;
    msg->from = r->id;
    ASSERT(msg->to != 0);
    ASSERT(msg->to != r->id);
    ASSERT(msg->type >= RAFT_MSG_APPEND && msg->type <= RAFT_MSG_TYPE_MAX);
    if (box->count == SYN_READY_MESSAGES_MAX) {
        raft_entries_release(msg->entries, msg->entry_count);
        return NULL; /* bounded: Raft tolerates a lost message */
    }
    if (box->count == box->cap) {
        uint32_t cap = box->cap == 0 ? 16 : box->cap * 2;
        struct raft_message *msgs = realloc(box->msgs, cap * sizeof(*msgs));
        if (msgs == NULL) {
            raft_entries_release(msg->entries, msg->entry_count);
            return NULL;
        }
        box->msgs = msgs;
        box->cap = cap;
    }
    box->msgs[box->count] = *msg;
    return &box->msgs[box->count++];
}

/* A late message waits for the next Ready to be durable. If before then the node moves to a
 * newer term or drops the entries it acknowledges, the promise would be about a state that
 * never reaches the disk: such answers are withdrawn (the leader retries). */
void raft_outbox_forget(struct raft *r, uint64_t truncated)
{
    struct raft_outbox *box = &r->late;
    uint32_t kept = 0;
    for (uint32_t i = 0; i < box->count; i++) {
        struct raft_message *m = &box->msgs[i];
        bool ack = m->type == RAFT_MSG_APPEND_RESP && (m->flags & RAFT_FLAG_REJECT) == 0;
        if (m->term < r->term || (ack && m->index >= truncated)) {
            raft_entries_release(m->entries, m->entry_count);
            continue;
        }
        box->msgs[kept++] = *m;
    }
    box->count = kept;
}

void raft_outbox_free(struct raft_outbox *box, bool release_entries)
{
    if (release_entries) {
        for (uint32_t i = 0; i < box->count; i++) {
            raft_entries_release(box->msgs[i].entries, box->msgs[i].entry_count);
        }
    }
    free(box->msgs);
    *box = (struct raft_outbox){0};
}
