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

static void driver_finish(struct raft_driver *d)
{
    struct raft_ready *rd = &d->rd;
    for (uint32_t i = 0; i < rd->persisted_message_count; i++) {
        d->io->send(d->io->ctx, &rd->persisted_messages[i]);
    }
    for (uint32_t i = 0; i < rd->committed_count; i++) {
        d->io->apply(d->io->ctx, &rd->committed[i]);
    }
    if (rd->committed_count > 0 && d->io->applied != NULL) {
        d->io->applied(d->io->ctx);
    }
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
        return 0;
    }
    while (!d->persisting && raft_has_ready(d->raft)) {
        raft_ready(d->raft, &d->rd);
        d->persisting = true;
        for (uint32_t i = 0; i < d->rd.message_count; i++) {
            d->io->send(d->io->ctx, &d->rd.messages[i]);
        }
        int rc = d->io->persist(d->io->ctx, &d->rd);
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
