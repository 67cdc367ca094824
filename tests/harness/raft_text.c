/* raft_text.c: the text spelling of Raft messages and Readies (raft_text.h). */
#include "raft_text.h"

#include <string.h>

#define LLU(x) ((unsigned long long)(x))
#define DATA_SHOWN_MAX 16 /* longer payloads show as <N bytes> */

const char *rtext_msg_type(uint32_t type)
{
    const char *name = raft_msg_type_name(type);
    return strcmp(name, "UNKNOWN") == 0 ? NULL : name;
}

uint32_t rtext_msg_type_parse(const char *name)
{
    for (uint32_t type = 1; type <= RAFT_MSG_TYPE_MAX; type++) {
        if (strcmp(name, raft_msg_type_name(type)) == 0) {
            return type;
        }
    }
    return 0;
}

void rtext_conf(struct text *t, const struct raft_conf *conf)
{
    for (uint32_t i = 0; i < conf->member_count; i++) {
        const struct raft_member *m = &conf->members[i];
        text_printf(t, "%s%c%llu", i > 0 ? " " : "", m->role == RAFT_VOTER ? 'v' : 'l', LLU(m->id));
    }
}

static bool printable(const uint8_t *data, uint32_t size)
{
    if (size > DATA_SHOWN_MAX) {
        return false;
    }
    for (uint32_t i = 0; i < size; i++) {
        if (data[i] < 0x21 || data[i] > 0x7e || data[i] == '"') {
            return false;
        }
    }
    return true;
}

void rtext_entry(struct text *t, const struct raft_entry *e)
{
    text_printf(t, "%llu/%llu ", LLU(e->term), LLU(e->index));
    struct raft_conf conf;
    switch (e->type) {
    case RAFT_ENTRY_NOOP:
        text_printf(t, "NOOP");
        return;
    case RAFT_ENTRY_CONF:
        if (raft_conf_decode(e->data, e->data_size, &conf) != 0) {
            text_printf(t, "CONF(corrupt)");
            return;
        }
        text_printf(t, "CONF(");
        rtext_conf(t, &conf);
        text_printf(t, ")");
        return;
    case RAFT_ENTRY_NORMAL:
        if (printable(e->data, e->data_size)) {
            text_printf(t, "\"%.*s\"", (int)e->data_size, (const char *)e->data);
        } else {
            text_printf(t, "<%u bytes>", e->data_size);
        }
        return;
    default:
        text_printf(t, "type=%u", e->type);
        return;
    }
}

void rtext_entries(struct text *t, const struct raft_entry *entries, uint32_t count)
{
    bool all = count <= RTEXT_ENTRIES_SHOWN;
    for (uint32_t i = 0; i < count; i++) {
        if (!all && i == 3) {
            text_printf(t, ", ...");
            i = count - 1;
        }
        text_printf(t, "%s", i > 0 ? ", " : "");
        rtext_entry(t, &entries[i]);
    }
    if (!all) {
        text_printf(t, " (%u entries)", count);
    }
}

static void append_fields(struct text *t, const struct raft_message *m)
{
    text_printf(t, " prev=(%llu,%llu) commit=%llu", LLU(m->index), LLU(m->log_term),
                LLU(m->commit));
}

static void append_resp_fields(struct text *t, const struct raft_message *m)
{
    if ((m->flags & RAFT_FLAG_REJECT) != 0) {
        text_printf(t, " reject index=%llu hint=(%llu,%llu)", LLU(m->index), LLU(m->hint),
                    LLU(m->hint_term));
    } else {
        text_printf(t, " index=%llu", LLU(m->index));
    }
}

static void snapshot_fields(struct text *t, const struct raft_message *m)
{
    text_printf(t, " snap=(%llu,%llu) size=%llu offset=%llu len=%u%s", LLU(m->snapshot.index),
                LLU(m->snapshot.term), LLU(m->snapshot.size), LLU(m->offset), m->data_size,
                (m->flags & RAFT_FLAG_LAST) != 0 ? " last" : "");
}

static void snapshot_resp_fields(struct text *t, const struct raft_message *m)
{
    text_printf(t, " snap=%llu offset=%llu%s%s", LLU(m->index), LLU(m->offset),
                (m->flags & RAFT_FLAG_LAST) != 0 ? " installed" : "",
                (m->flags & RAFT_FLAG_REJECT) != 0 ? " reject" : "");
}

static void read_round(struct text *t, const struct raft_message *m)
{
    if (m->context != 0) {
        text_printf(t, " round=%llu", LLU(m->context));
    }
}

static void type_fields(struct text *t, const struct raft_message *m)
{
    bool reject = (m->flags & RAFT_FLAG_REJECT) != 0;
    switch (m->type) {
    case RAFT_MSG_APPEND:
        append_fields(t, m);
        break;
    case RAFT_MSG_APPEND_RESP:
        append_resp_fields(t, m);
        break;
    case RAFT_MSG_VOTE:
    case RAFT_MSG_PRE_VOTE:
        text_printf(t, " last=(%llu,%llu)%s", LLU(m->index), LLU(m->log_term),
                    (m->flags & RAFT_FLAG_TRANSFER) != 0 ? " transfer" : "");
        break;
    case RAFT_MSG_VOTE_RESP:
    case RAFT_MSG_PRE_VOTE_RESP:
        text_printf(t, " %s", reject ? "rejected" : "granted");
        break;
    case RAFT_MSG_HEARTBEAT:
        text_printf(t, " commit=%llu", LLU(m->commit));
        read_round(t, m);
        break;
    case RAFT_MSG_HEARTBEAT_RESP:
        read_round(t, m);
        break;
    case RAFT_MSG_SNAPSHOT:
        snapshot_fields(t, m);
        break;
    case RAFT_MSG_SNAPSHOT_RESP:
        snapshot_resp_fields(t, m);
        break;
    case RAFT_MSG_READ_INDEX:
        text_printf(t, " id=%llu", LLU(m->context));
        break;
    case RAFT_MSG_READ_INDEX_RESP:
        text_printf(t, " id=%llu index=%llu%s", LLU(m->context), LLU(m->index),
                    reject ? " reject" : "");
        break;
    default:
        break;
    }
}

void rtext_message(struct text *t, const struct raft_message *m)
{
    const char *name = rtext_msg_type(m->type);
    text_printf(t, "%llu->%llu ", LLU(m->from), LLU(m->to));
    if (name != NULL) {
        text_printf(t, "%s", name);
    } else {
        text_printf(t, "type=%u", m->type);
    }
    text_printf(t, " term=%llu", LLU(m->term));
    type_fields(t, m);
    if (m->entry_count > 0 && m->entries != NULL) {
        text_printf(t, " entries=[");
        rtext_entries(t, m->entries, m->entry_count);
        text_printf(t, "]");
    }
}

static void ready_messages(struct text *t, const char *label, const struct raft_message *msgs,
                           uint32_t count, bool (*dropped)(void *, const struct raft_message *),
                           void *ctx)
{
    for (uint32_t i = 0; i < count; i++) {
        text_printf(t, "  %s: ", label);
        rtext_message(t, &msgs[i]);
        text_printf(t, "%s\n", dropped != NULL && dropped(ctx, &msgs[i]) ? " (dropped)" : "");
    }
}

static void ready_snapshot(struct text *t, const struct raft_ready *rd)
{
    if (rd->snapshot_chunk) {
        text_printf(t, "  snapshot chunk: offset=%llu len=%u\n", LLU(rd->snapshot_offset),
                    rd->snapshot_data_size);
    }
    if (rd->snapshot_install) {
        text_printf(t, "  install snapshot: (%llu,%llu) size=%llu conf=", LLU(rd->snapshot.index),
                    LLU(rd->snapshot.term), LLU(rd->snapshot.size));
        rtext_conf(t, &rd->snapshot.conf);
        text_printf(t, "\n");
    }
}

void rtext_ready(struct text *t, const struct raft_ready *rd,
                 bool (*dropped)(void *ctx, const struct raft_message *m), void *ctx)
{
    if (rd->hard_state_changed) {
        text_printf(t, "  hard state: term=%llu vote=%llu commit=%llu\n", LLU(rd->hard_state.term),
                    LLU(rd->hard_state.vote), LLU(rd->hard_state.commit));
    }
    ready_snapshot(t, rd);
    if (rd->entry_count > 0) {
        text_printf(t, "  persist: ");
        rtext_entries(t, rd->entries, rd->entry_count);
        text_printf(t, "\n");
    }
    ready_messages(t, "send", rd->messages, rd->message_count, dropped, ctx);
    ready_messages(t, "send after persist", rd->persisted_messages, rd->persisted_message_count,
                   dropped, ctx);
    if (rd->committed_count > 0) {
        text_printf(t, "  apply: ");
        rtext_entries(t, rd->committed, rd->committed_count);
        text_printf(t, "\n");
    }
    for (uint32_t i = 0; i < rd->read_count; i++) {
        text_printf(t, "  read state: id=%llu index=%llu\n", LLU(rd->reads[i].request_id),
                    LLU(rd->reads[i].index));
    }
}
