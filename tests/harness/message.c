/* message.c: owned copies of Raft messages for the in-memory networks of the harness. */
#include "message.h"

#include "text.h"

#include <stdlib.h>
#include <string.h>

void tc_msg_copy(struct tc_msg *q, const struct raft_message *m)
{
    memset(q, 0, sizeof(*q));
    q->msg = *m;
    if (m->entry_count > 0) {
        q->entries = text_xcalloc(m->entry_count, sizeof(*q->entries));
        for (uint32_t i = 0; i < m->entry_count; i++) {
            q->entries[i] = m->entries[i];
            q->entries[i].buf = NULL;
            if (m->entries[i].data_size > 0) {
                uint8_t *d = text_xrealloc(NULL, m->entries[i].data_size);
                memcpy(d, m->entries[i].data, m->entries[i].data_size);
                q->entries[i].data = d;
            }
        }
        q->msg.entries = q->entries;
    }
    if (m->type == RAFT_MSG_SNAPSHOT) {
        q->data = text_xcalloc(1, (size_t)m->data_size + 1);
        q->msg.data = q->data;
    }
}

void tc_msg_free(struct tc_msg *q)
{
    for (uint32_t i = 0; i < q->msg.entry_count; i++) {
        free((void *)q->entries[i].data);
    }
    free(q->entries);
    free(q->data);
    q->entries = NULL;
    q->data = NULL;
}
