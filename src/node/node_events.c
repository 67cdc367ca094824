/* node_events.c: the node's ring of recent events (node_events.h) and the sentences that
 * describe leaders, configurations, registry changes and log entries. */
#include "node/node_events.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/assert.h"
#include "kv/kv_cmd.h"
#include "node/node_internal.h"

const char *node_event_kind_name(uint8_t kind)
{
    static const char *const names[NODE_EVENT_KIND_MAX + 1] = {
        "unknown", "start", "leader", "election", "members", "suspect",
        "failed",  "alive", "check",  "registry", "log",
    };
    return kind <= NODE_EVENT_KIND_MAX ? names[kind] : names[0];
}

uint64_t node_events_add(struct node_events *ev, uint64_t time_ms, uint8_t kind, const char *text)
{
    uint64_t seq = ++ev->last_seq;
    struct node_event_rec *r = &ev->ring[(seq - 1) % SYN_NODE_EVENTS_MAX];
    r->seq = seq;
    r->time_ms = time_ms;
    r->kind = kind;
    snprintf(r->text, sizeof(r->text), "%s", text);
    return seq;
}

uint32_t node_events_after(const struct node_events *ev, uint64_t after,
                           const struct node_event_rec **out, uint32_t max)
{
    uint64_t oldest =
        ev->last_seq > SYN_NODE_EVENTS_MAX ? ev->last_seq - SYN_NODE_EVENTS_MAX + 1 : 1;
    if (after > ev->last_seq) {
        after = 0; /* a number from before this node restarted */
    }
    uint64_t from = after + 1 > oldest ? after + 1 : oldest;
    uint32_t count = 0;
    for (uint64_t s = from; s <= ev->last_seq && count < max; s++) {
        out[count] = &ev->ring[(s - 1) % SYN_NODE_EVENTS_MAX];
        ASSERT(out[count]->seq == s);
        count++;
    }
    return count;
}

void node_event(struct node *n, enum node_event_kind kind, const char *fmt, ...)
{
    char text[SYN_NODE_EVENT_TEXT_SIZE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    uv_timeval64_t tv;
    uv_gettimeofday(&tv);
    uint64_t now = (uint64_t)tv.tv_sec * 1000u + (uint64_t)tv.tv_usec / 1000u;
    node_events_add(&n->events, now, (uint8_t)kind, text);
    if (n->events.observer != NULL) {
        n->events.observer(n->events.observer_ctx);
    }
}

/* A member's name ("n2") from the latest configuration, or its id in hex. */
static void member_name(const struct raft_status *st, raft_id id, char *out, size_t size)
{
    const struct raft_member *m = raft_conf_find(&st->conf, id);
    if (m == NULL || node_member_name(m, out, size)[0] == '\0') {
        snprintf(out, size, "%" PRIx64, (uint64_t)id);
    }
}

void node_event_leader(struct node *n, const char *role, raft_id leader)
{
    struct raft_status st;
    raft_status(n->raft, &st);
    if (leader == 0) {
        node_event(n, NODE_EVENT_ELECTION, "no leader in term %" PRIu64 " (this node: %s)", st.term,
                   role);
        return;
    }
    char name[SYN_MEMBER_ADDR_SIZE_MAX];
    member_name(&st, leader, name, sizeof(name));
    node_event(n, NODE_EVENT_LEADER, "%s is the leader in term %" PRIu64 " (this node: %s)", name,
               st.term, role);
}

void node_event_members(struct node *n)
{
    struct raft_status st;
    raft_status(n->raft, &st);
    char text[SYN_NODE_EVENT_TEXT_SIZE_MAX];
    size_t len =
        (size_t)snprintf(text, sizeof(text), "configuration at index %" PRIu64 ":", st.conf_index);
    for (uint32_t i = 0; i < st.conf.member_count && len < sizeof(text); i++) {
        char name[SYN_MEMBER_ADDR_SIZE_MAX];
        member_name(&st, st.conf.members[i].id, name, sizeof(name));
        bool voter = st.conf.members[i].role == RAFT_VOTER;
        len += (size_t)snprintf(text + len, sizeof(text) - len, "%s %s%s", i == 0 ? "" : ",", name,
                                voter ? "" : " (learner)");
    }
    node_event(n, NODE_EVENT_MEMBERS, "%s", text);
}

void node_event_kv_change(struct node *n, enum kv_change what, struct kv_bytes key, uint64_t index)
{
    static const char prefix[] = KV_LOG_PREFIX;
    size_t p = sizeof(prefix) - 1;
    if (what == KV_CHANGE_REGISTRY) {
        node_event(n, NODE_EVENT_REGISTRY, "registry changed at index %" PRIu64, index);
    } else if (what == KV_CHANGE_SET && key.size == p + KV_APPEND_INDEX_DIGITS &&
               memcmp(key.data, prefix, p) == 0) {
        node_event(n, NODE_EVENT_LOG, "log entry %" PRIu64 " applied", index);
    }
}
