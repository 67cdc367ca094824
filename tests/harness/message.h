/* message.h: a Raft message as an in-memory network holds it: a deep copy that owns its
 * entries and snapshot chunk, so it outlives the Ready it came from. */
#ifndef SYN_TESTS_MESSAGE_H
#define SYN_TESTS_MESSAGE_H

#include "raft/raft.h"

struct tc_msg {
    struct raft_message msg;
    struct raft_entry *entries; /* owned copies */
    uint8_t *data;              /* snapshot chunk */
};

/* Copies m into q. m is borrowed for the call. A SNAPSHOT chunk from a core carries no bytes
 * (the shell fills them from its snapshot); the test state machine's snapshot is all zeros,
 * so the chunk is data_size zero bytes. */
void tc_msg_copy(struct tc_msg *q, const struct raft_message *m);
void tc_msg_free(struct tc_msg *q);

#endif
