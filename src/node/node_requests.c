/* node_requests.c: client requests waiting on this node.
 *
 * A write becomes one Raft entry whose payload is an envelope (this node's id, the request's
 * slot and sequence number) followed by the state-machine command. Whichever node proposes
 * it (this one as leader, or the leader a follower forwarded it to), every replica applies
 * it, and the node that holds the request recognizes its own envelope when it applies the
 * entry: the result comes from its own store, with no answer to carry back. A forwarded
 * write's only answer is whether the leader took it: if it did not (not the leader any
 * more), the write was never proposed and is sent again to the next leader.
 *
 * A read asks the core for a read index (ReadIndex: on a follower the core asks the leader)
 * and completes when the driver reports the store has applied it.
 *
 * Every request has the same timeout, so the slots sit on a list in deadline order and the
 * tick looks at the head only. A request that times out was maybe applied: the reply says
 * so (-TIMEOUT, or -NOQUORUM when no leader was known the whole time).
 */
#include "node/node_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "base/assert.h"
#include "base/err.h"
#include "log/log.h"

#define ENVELOPE_VERSION 1u
#define ENVELOPE_SIZE 21u /* version, origin, slot, seq */

_Static_assert(NODE_PENDING_MAX < (1u << 17), "a slot fits a read request id's low bits");

bool node_envelope_decode(const struct raft_entry *e, raft_id *origin, uint32_t *slot,
                          uint64_t *seq, struct raft_entry *inner)
{
    *inner = *e;
    if (e->type != RAFT_ENTRY_NORMAL || e->data_size < ENVELOPE_SIZE ||
        e->data[0] != ENVELOPE_VERSION) {
        return false;
    }
    *origin = syn_get_u64le(e->data + 1);
    *slot = syn_get_u32le(e->data + 9);
    *seq = syn_get_u64le(e->data + 13);
    inner->data = e->data + ENVELOPE_SIZE;
    inner->data_size = e->data_size - ENVELOPE_SIZE;
    return true;
}

int node_requests_init(struct node *n)
{
    n->reqs = calloc(NODE_PENDING_MAX, sizeof(*n->reqs));
    n->free_slots = malloc(NODE_PENDING_MAX * sizeof(*n->free_slots));
    if (n->reqs == NULL || n->free_slots == NULL) {
        return SYN_ENOMEM;
    }
    for (uint32_t i = 0; i < NODE_PENDING_MAX; i++) {
        n->free_slots[i] = NODE_PENDING_MAX - 1 - i;
    }
    n->free_count = NODE_PENDING_MAX;
    n->head = NODE_NONE;
    n->tail = NODE_NONE;
    /* Tags must never repeat across restarts: an entry a previous life proposed may still
     * be applied after this one starts, and must not complete a new request. A random
     * start makes a repeat as likely as guessing 46 random bits (read ids keep 47 bits). */
    uint64_t r = 0;
    if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
        r = uv_hrtime() ^ ((uint64_t)getpid() << 32);
    }
    n->seq = (r & ((1ull << 46) - 1)) | 1;
    return 0;
}

void node_requests_free(struct node *n)
{
    if (n->reqs != NULL) {
        for (uint32_t i = 0; i < NODE_PENDING_MAX; i++) {
            free(n->reqs[i].payload);
        }
    }
    for (uint32_t i = 0; i < n->done_count; i++) {
        kv_result_free(&n->done[i].result);
    }
    free(n->done);
    free(n->reqs);
    free(n->free_slots);
}

static uint32_t req_alloc(struct node *n, uint8_t kind)
{
    if (n->free_count == 0) {
        return NODE_NONE;
    }
    uint32_t slot = n->free_slots[--n->free_count];
    struct node_req *q = &n->reqs[slot];
    ASSERT(q->kind == NODE_REQ_FREE);
    *q = (struct node_req){.kind = kind, .prev = n->tail, .next = NODE_NONE};
    q->seq = ++n->seq;
    q->deadline_ms = node_now_ms(n) + n->cfg.request_timeout_ms;
    q->had_leader = raft_leader(n->raft) != 0;
    if (n->tail != NODE_NONE) {
        n->reqs[n->tail].next = slot;
    } else {
        n->head = slot;
    }
    n->tail = slot;
    return slot;
}

static void req_release(struct node *n, uint32_t slot)
{
    struct node_req *q = &n->reqs[slot];
    ASSERT(q->kind != NODE_REQ_FREE);
    if (q->prev != NODE_NONE) {
        n->reqs[q->prev].next = q->next;
    } else {
        n->head = q->next;
    }
    if (q->next != NODE_NONE) {
        n->reqs[q->next].prev = q->prev;
    } else {
        n->tail = q->prev;
    }
    free(q->payload);
    *q = (struct node_req){0};
    n->free_slots[n->free_count++] = slot;
}

static void write_finish(struct node *n, uint32_t slot, int status, const struct kv_result *res)
{
    struct node_req *q = &n->reqs[slot];
    service_write_cb cb = q->write_cb;
    void *ctx = q->ctx;
    req_release(n, slot);
    cb(ctx, status, res);
}

static void read_finish(struct node *n, uint32_t slot, int status)
{
    struct node_req *q = &n->reqs[slot];
    service_read_cb cb = q->read_cb;
    void *ctx = q->ctx;
    req_release(n, slot);
    cb(ctx, status);
}

static void req_fail(struct node *n, uint32_t slot, int status)
{
    if (n->reqs[slot].kind == NODE_REQ_WRITE) {
        write_finish(n, slot, status, NULL);
    } else {
        read_finish(n, slot, status);
    }
}

/* Moves a write on: propose it here (leader), forward it (follower), or keep waiting.
 * Returns a code when the write definitely failed (never proposed): SYN_EBUSY, SYN_ETOOBIG. */
static int write_try(struct node *n, uint32_t slot)
{
    struct node_req *q = &n->reqs[slot];
    raft_id leader = raft_leader(n->raft);
    if (leader == 0) {
        n->any_waiting = true;
        return 0;
    }
    q->had_leader = true;
    if (leader != n->cfg.id) {
        int rc = transport_send_forward(n->transport, leader, PEER_FRAME_FORWARD_REQUEST, q->seq,
                                        q->payload, q->payload_size);
        if (rc == 0) {
            q->state = NODE_REQ_FORWARDED;
            q->via = leader;
        } else {
            n->any_waiting = true;
        }
        return 0;
    }
    uint64_t index, term;
    int rc = raft_propose(n->raft, q->payload, q->payload_size, &index, &term);
    if (rc == 0) {
        q->state = NODE_REQ_PROPOSED;
        free(q->payload);
        q->payload = NULL;
        return 0;
    }
    if (rc == SYN_ENOTLEADER || rc == SYN_ETRANSFER) {
        n->any_waiting = true;
        return 0;
    }
    return rc;
}

int node_write_submit(struct node *n, const uint8_t *cmd, size_t size, service_write_cb cb,
                      void *ctx)
{
    if (n->stopping) {
        return SYN_ESHUTDOWN;
    }
    if (n->failed != 0) {
        return n->failed;
    }
    if (size + ENVELOPE_SIZE > SYN_ENTRY_SIZE_MAX) {
        return SYN_ETOOBIG;
    }
    uint8_t *payload = malloc(size + ENVELOPE_SIZE);
    if (payload == NULL) {
        return SYN_ENOMEM;
    }
    uint32_t slot = req_alloc(n, NODE_REQ_WRITE);
    if (slot == NODE_NONE) {
        free(payload);
        return SYN_EBUSY;
    }
    struct node_req *q = &n->reqs[slot];
    payload[0] = ENVELOPE_VERSION;
    syn_put_u64le(payload + 1, n->cfg.id);
    syn_put_u32le(payload + 9, slot);
    syn_put_u64le(payload + 13, q->seq);
    memcpy(payload + ENVELOPE_SIZE, cmd, size);
    q->payload = payload;
    q->payload_size = (uint32_t)(size + ENVELOPE_SIZE);
    q->write_cb = cb;
    q->ctx = ctx;
    int rc = write_try(n, slot);
    if (rc != 0) {
        req_release(n, slot); /* callbacks never run from inside the submitting call */
        return rc;
    }
    node_raft_kick(n);
    return 0;
}

static uint64_t read_request_id(uint32_t slot, uint64_t seq)
{
    return (seq << 17) | slot;
}

static void read_try(struct node *n, uint32_t slot)
{
    struct node_req *q = &n->reqs[slot];
    raft_id leader = raft_leader(n->raft);
    if (leader != 0) {
        q->had_leader = true;
    }
    if (raft_read_index(n->raft, read_request_id(slot, q->seq)) == 0) {
        q->state = NODE_REQ_ASKED;
        q->via = leader;
    } else {
        q->state = NODE_REQ_WAITING;
        n->any_waiting = true;
    }
}

int node_read_submit(struct node *n, service_read_cb cb, void *ctx)
{
    if (n->stopping) {
        return SYN_ESHUTDOWN;
    }
    uint32_t slot = req_alloc(n, NODE_REQ_READ);
    if (slot == NODE_NONE) {
        return SYN_EBUSY;
    }
    struct node_req *q = &n->reqs[slot];
    q->read_cb = cb;
    q->ctx = ctx;
    read_try(n, slot);
    node_raft_kick(n);
    return 0;
}

void node_requests_read_ready(struct node *n, uint64_t request_id)
{
    uint32_t slot = (uint32_t)(request_id & ((1u << 17) - 1));
    uint64_t seq = request_id >> 17;
    if (slot >= NODE_PENDING_MAX) {
        return;
    }
    struct node_req *q = &n->reqs[slot];
    if (q->kind != NODE_REQ_READ || (q->seq & (UINT64_MAX >> 17)) != seq) {
        return; /* timed out already */
    }
    read_finish(n, slot, 0);
}

void node_requests_applied(struct node *n, raft_id origin, uint32_t slot, uint64_t seq,
                           struct kv_result *res)
{
    if (origin != n->cfg.id || slot >= NODE_PENDING_MAX || n->reqs[slot].kind != NODE_REQ_WRITE ||
        n->reqs[slot].seq != seq) {
        kv_result_free(res);
        return;
    }
    if (n->done_count == n->done_cap) {
        uint32_t cap = n->done_cap == 0 ? 64 : n->done_cap * 2;
        struct node_done *done = realloc(n->done, cap * sizeof(*done));
        ASSERT(done != NULL);
        n->done = done;
        n->done_cap = cap;
    }
    n->done[n->done_count++] = (struct node_done){.slot = slot, .seq = seq, .result = *res};
}

/* The batch committed: the writes it applied answer their clients. */
void node_requests_flush(struct node *n)
{
    for (uint32_t i = 0; i < n->done_count; i++) {
        struct node_done *d = &n->done[i];
        struct node_req *q = &n->reqs[d->slot];
        if (q->kind == NODE_REQ_WRITE && q->seq == d->seq) {
            write_finish(n, d->slot, 0, &d->result);
        }
        kv_result_free(&d->result);
    }
    n->done_count = 0;
}

static int timeout_status(const struct node_req *q)
{
    return q->had_leader ? SYN_ETIMEDOUT : SYN_ENOQUORUM;
}

/* After a leader change or while no leader is known: requests that wait try again; a read
 * asked of a leader that is gone is asked again (reads are idempotent); a write forwarded
 * to a leader that is gone, with no word that it was proposed, ends as maybe-applied at once
 * rather than at its deadline (it cannot be resent: it might apply twice). */
static void requeue(struct node *n, uint32_t slot, raft_id leader)
{
    struct node_req *q = &n->reqs[slot];
    if (q->state == NODE_REQ_FORWARDED && q->via != leader) {
        write_finish(n, slot, SYN_ETIMEDOUT, NULL);
        return;
    }
    if (q->state == NODE_REQ_ASKED && q->via != leader) {
        q->state = NODE_REQ_WAITING;
    }
    if (q->state != NODE_REQ_WAITING) {
        return;
    }
    if (q->kind == NODE_REQ_READ) {
        read_try(n, slot);
        return;
    }
    int rc = write_try(n, slot);
    if (rc != 0) {
        write_finish(n, slot, rc, NULL);
    }
}

void node_requests_tick(struct node *n)
{
    uint64_t now = node_now_ms(n);
    while (n->head != NODE_NONE && n->reqs[n->head].deadline_ms <= now) {
        req_fail(n, n->head, timeout_status(&n->reqs[n->head]));
    }
    raft_id leader = raft_leader(n->raft);
    if (!n->any_waiting && leader == n->scan_leader) {
        return;
    }
    n->any_waiting = false;
    n->scan_leader = leader;
    for (uint32_t slot = n->head; slot != NODE_NONE;) {
        uint32_t next = n->reqs[slot].next;
        requeue(n, slot, leader);
        slot = next;
    }
}

void node_requests_fail_all(struct node *n, int status)
{
    while (n->head != NODE_NONE) {
        req_fail(n, n->head, status);
    }
}

/* The leader's answer to a forwarded write: taken, or not (then it was never proposed). */
static void forward_answer(struct node *n, uint64_t seq, const uint8_t *body, size_t size)
{
    if (size != 8) {
        return;
    }
    uint32_t slot = syn_get_u32le(body);
    int32_t status = (int32_t)syn_get_u32le(body + 4);
    if (slot >= NODE_PENDING_MAX || n->reqs[slot].kind != NODE_REQ_WRITE ||
        n->reqs[slot].seq != seq || n->reqs[slot].state != NODE_REQ_FORWARDED) {
        return;
    }
    struct node_req *q = &n->reqs[slot];
    if (status == 0) {
        q->state = NODE_REQ_PROPOSED;
        free(q->payload);
        q->payload = NULL;
    } else if (status == SYN_ENOTLEADER || status == SYN_ETRANSFER) {
        q->state = NODE_REQ_WAITING; /* never proposed: the next tick tries the next leader */
        n->any_waiting = true;
    } else {
        write_finish(n, slot, status, NULL);
    }
}

/* A follower's forwarded write: propose it as it is (its envelope names the follower). */
static void forward_request(struct node *n, raft_id from, uint64_t seq, const uint8_t *body,
                            size_t size)
{
    int rc = SYN_ENOTLEADER;
    uint32_t slot = 0;
    if (size >= ENVELOPE_SIZE && size <= SYN_ENTRY_SIZE_MAX && body[0] == ENVELOPE_VERSION &&
        syn_get_u64le(body + 1) == from) {
        slot = syn_get_u32le(body + 9);
        uint64_t index, term;
        rc = n->failed != 0 ? n->failed : raft_propose(n->raft, body, (uint32_t)size, &index, &term);
    } else {
        rc = SYN_EBADMSG;
    }
    uint8_t answer[8];
    syn_put_u32le(answer, slot);
    syn_put_u32le(answer + 4, (uint32_t)rc);
    transport_send_forward(n->transport, from, PEER_FRAME_FORWARD_RESPONSE, seq, answer,
                           sizeof(answer));
    node_raft_kick(n);
}

void node_on_forward(void *ctx, raft_id from, int kind, uint64_t request_id,
                     const uint8_t *body, size_t size)
{
    struct node *n = ctx;
    if (n->stopping) {
        return;
    }
    if (kind == PEER_FRAME_FORWARD_REQUEST) {
        forward_request(n, from, request_id, body, size);
    } else {
        forward_answer(n, request_id, body, size);
    }
}
