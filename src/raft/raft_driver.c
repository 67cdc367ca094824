/* raft_driver.c: carries out Readies in order: early send, persist, late send, apply, advance. */
#include "raft/raft_driver.h"

#include "base/assert.h"

void raft_driver_init(struct raft_driver *d, struct raft *raft, const struct raft_driver_io *io)
{
    *d = (struct raft_driver){.raft = raft, .io = io};
}

static void driver_queue_read(struct raft_driver *d, const struct raft_read_state *rs)
{
    if (d->read_count == SYN_READS_PENDING_MAX) {
        return; /* full: the client times out and retries, memory stays bounded */
    }
    uint32_t slot = (d->read_head + d->read_count) % SYN_READS_PENDING_MAX;
    d->reads[slot] = *rs;
    d->read_count++;
}

/* Reads leave in index order as soon as the state machine has applied their index. */
static void driver_serve_reads(struct raft_driver *d)
{
    uint64_t applied = raft_applied_index(d->raft);
    if (d->applied > applied) {
        applied = d->applied;
    }
    uint32_t kept = 0;
    uint32_t count = d->read_count;
    for (uint32_t i = 0; i < count; i++) {
        struct raft_read_state rs = d->reads[(d->read_head + i) % SYN_READS_PENDING_MAX];
        if (rs.index <= applied) {
            d->io->read(d->io->ctx, rs.request_id, rs.index);
        } else {
            d->reads[(d->read_head + kept) % SYN_READS_PENDING_MAX] = rs;
            kept++;
        }
    }
    d->read_count = kept;
}

/* Applies committed[from, to) of the current Ready. */
static void driver_apply(struct raft_driver *d, uint32_t from, uint32_t to)
{
    for (uint32_t i = from; i < to; i++) {
        d->io->apply(d->io->ctx, &d->rd.committed[i]);
    }
    if (to > from) {
        d->applied = d->rd.committed[to - 1].index;
        raft_advance_applied(d->raft, d->applied);
        if (d->io->applied != NULL) {
            d->io->applied(d->io->ctx);
        }
    }
}

static void driver_apply_one(void *ctx, const struct raft_entry *e)
{
    struct raft_driver *d = ctx;
    d->io->apply(d->io->ctx, e);
}

/* While the disk works: entries committed meanwhile that are durable here are applied. */
static void driver_flush_committed(struct raft_driver *d)
{
    uint64_t last = raft_flush_committed(d->raft, driver_apply_one, d);
    if (last == 0) {
        return;
    }
    d->applied = last;
    if (d->io->applied != NULL) {
        d->io->applied(d->io->ctx);
    }
    driver_serve_reads(d);
}

static void driver_finish(struct raft_driver *d)
{
    struct raft_ready *rd = &d->rd;
    for (uint32_t i = 0; i < rd->persisted_message_count; i++) {
        d->io->send(d->io->ctx, &rd->persisted_messages[i]);
    }
    driver_apply(d, rd->committed_durable_count, rd->committed_count);
    for (uint32_t i = 0; i < rd->read_count; i++) {
        driver_queue_read(d, &rd->reads[i]);
    }
    raft_advance(d->raft, rd);
    d->persisting = false;
    driver_serve_reads(d);
}

int raft_driver_run(struct raft_driver *d)
{
    if (d->failed != 0) {
        return d->failed;
    }
    if (d->persisting) {
        raft_flush_messages(d->raft, d->io->send, d->io->ctx);
        driver_flush_committed(d);
        return 0;
    }
    while (!d->persisting && raft_has_ready(d->raft)) {
        raft_ready(d->raft, &d->rd);
        d->persisting = true;
        if (d->io->observe != NULL) {
            d->io->observe(d->io->ctx, &d->rd);
        }
        for (uint32_t i = 0; i < d->rd.message_count; i++) {
            d->io->send(d->io->ctx, &d->rd.messages[i]);
        }
        driver_apply(d, 0, d->rd.committed_durable_count);
        driver_serve_reads(d);
        int rc = d->rd.must_sync ? d->io->persist(d->io->ctx, &d->rd) : 0;
        if (rc == RAFT_DRIVER_PENDING) {
            return 0;
        }
        if (rc < 0) {
            d->failed = rc;
            return rc;
        }
        ASSERT(rc == 0);
        driver_finish(d);
    }
    return 0;
}

int raft_driver_persisted(struct raft_driver *d)
{
    ASSERT(d->persisting);
    driver_finish(d);
    return raft_driver_run(d);
}

void raft_driver_abandon(struct raft_driver *d)
{
    /* The outstanding Ready stays with the core; raft_destroy() frees it. */
    d->persisting = false;
    d->read_count = 0;
}
