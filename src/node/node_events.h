/* node_events.h: what happened on this node lately, for `synod monitor` (GET
 * /v1/synod/events, docs/api.md): the failure detector's judgements, elections and leaders,
 * configuration changes, the status changes of checks this agent runs, registry changes and
 * replicated log entries as they apply, each as a kind and a sentence.
 *
 * The events live in a bounded ring of SYN_NODE_EVENTS_MAX (STYLE 8): the newest replaces the
 * oldest, and a reader that comes back too late gets the oldest still held, the gap showing in
 * the sequence numbers. The ring itself is pure (node_events_add, node_events_after: no clock,
 * no I/O); node_event() stamps the wall clock and tells the observer, which is how waiting
 * monitors (src/api/http_events.c) learn of an event at once. Events are this node's alone:
 * they are not replicated, and they start again from sequence 1 when the node restarts. */
#ifndef SYN_NODE_EVENTS_H
#define SYN_NODE_EVENTS_H

#include <stdint.h>

#include "base/limits.h"
#include "kv/kv_store.h"
#include "raft/raft.h"

enum node_event_kind {
    NODE_EVENT_START = 1,    /* this node started serving */
    NODE_EVENT_LEADER = 2,   /* a leader is known: elected, or learned of */
    NODE_EVENT_ELECTION = 3, /* no leader: an election runs */
    NODE_EVENT_MEMBERS = 4,  /* the configuration changed */
    NODE_EVENT_SUSPECT = 5,  /* the failure detector suspects a member */
    NODE_EVENT_FAILED = 6,   /* ... judges it failed */
    NODE_EVENT_ALIVE = 7,    /* ... hears from it again */
    NODE_EVENT_CHECK = 8,    /* a check this agent runs changed status */
    NODE_EVENT_REGISTRY = 9, /* a registry command applied: a registration, a removal, ... */
    NODE_EVENT_LOG = 10,     /* a replicated log entry (synod log) applied */
};
#define NODE_EVENT_KIND_MAX 10u

struct node_event_rec {
    uint64_t seq;                            /* 1, 2, ... since the node started */
    uint64_t time_ms;                        /* unix ms */
    uint8_t kind;                            /* enum node_event_kind */
    char text[SYN_NODE_EVENT_TEXT_SIZE_MAX]; /* a sentence, NUL-terminated (cut if longer) */
};

/* The ring. Embedded in struct node: zeroed memory is an empty ring. */
struct node_events {
    struct node_event_rec ring[SYN_NODE_EVENTS_MAX]; /* seq s lives at (s - 1) % MAX */
    uint64_t last_seq;                               /* the newest; 0 while empty */
    void (*observer)(void *ctx);                     /* after each event; may be NULL */
    void *observer_ctx;
};

/* "suspect", "leader", ...; "unknown" for a kind out of range. Static. */
const char *node_event_kind_name(uint8_t kind);

/* Appends an event (text is copied, cut to fit). Returns its sequence number. Pure: calls no
 * observer. */
uint64_t node_events_add(struct node_events *ev, uint64_t time_ms, uint8_t kind, const char *text);

/* The events after sequence number after, oldest first: up to max pointers into the ring,
 * borrowed until the next node_events_add(). Events already replaced are skipped (the first
 * returned is then past after + 1). An after past last_seq means the reader's number comes
 * from before a restart: every event held is returned. The count. Pure. */
uint32_t node_events_after(const struct node_events *ev, uint64_t after,
                           const struct node_event_rec **out, uint32_t max);

struct node;

/* Records an event on n with the wall clock and a printf sentence, then tells the observer.
 * Callable from anywhere on the loop thread (the observer only schedules work). */
__attribute__((format(printf, 3, 4))) void node_event(struct node *n, enum node_event_kind kind,
                                                      const char *fmt, ...);
/* The leader this node knows changed (io_persist): "n2 is the leader in term 3", or an
 * election. role is this node's (raft_role_name). */
void node_event_leader(struct node *n, const char *role, raft_id leader);
/* The configuration changed: its members, voters and learners. */
void node_event_members(struct node *n);
/* The store's change observer saw what at index (node_service.c): registry changes and
 * replicated log entries (keys under SYN_LOG_PREFIX) become events; other changes do not. */
void node_event_kv_change(struct node *n, enum kv_change what, struct kv_bytes key, uint64_t index);

#endif
