/* wal_replay.c: replays segment files into the recovered log, and tells a torn tail (cut it)
 * from corruption of synced data (refuse to start). docs/storage.md, "Recovery". */
#include "wal/wal_replay.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/err.h"

#define ARENA_BLOCK_SIZE (1u << 20)

struct wal_arena {
    struct wal_arena *next;
    size_t used;
    size_t cap;
    uint8_t data[];
};

void wal_arena_free(struct wal_arena *arena)
{
    while (arena != NULL) {
        struct wal_arena *next = arena->next;
        free(arena);
        arena = next;
    }
}

static const uint8_t *arena_copy(struct wal_arena **head, const uint8_t *data, size_t size)
{
    struct wal_arena *a = *head;
    if (a == NULL || a->cap - a->used < size) {
        size_t cap = size > ARENA_BLOCK_SIZE ? size : ARENA_BLOCK_SIZE;
        a = malloc(sizeof(*a) + cap);
        if (a == NULL) {
            return NULL;
        }
        *a = (struct wal_arena){.next = *head, .cap = cap};
        *head = a;
    }
    uint8_t *p = a->data + a->used;
    memcpy(p, data, size);
    a->used += size;
    return p;
}

void wal_replay_free(struct wal_replay *r)
{
    free(r->entries);
    wal_arena_free(r->arena);
    r->entries = NULL;
    r->arena = NULL;
    r->count = 0;
}

static int replay_push(struct wal *w, struct wal_replay *r, const struct raft_entry *e)
{
    if (r->count == r->cap) {
        if (r->cap == UINT32_MAX / 2) {
            return wal_fail(w, SYN_ETOOBIG, "more than %u entries to recover", r->cap);
        }
        uint32_t cap = r->cap == 0 ? 1024 : 2 * r->cap;
        struct raft_entry *grown = realloc(r->entries, cap * sizeof(*grown));
        if (grown == NULL) {
            return wal_fail(w, SYN_ENOMEM, "out of memory recovering %u entries", cap);
        }
        r->entries = grown;
        r->cap = cap;
    }
    struct raft_entry copy = *e;
    if (e->data_size > 0) {
        copy.data = arena_copy(&r->arena, e->data, e->data_size);
        if (copy.data == NULL) {
            return wal_fail(w, SYN_ENOMEM, "out of memory recovering entry %llu",
                            (unsigned long long)e->index);
        }
    }
    r->entries[r->count++] = copy;
    return 0;
}

/* One entry in write order. An index at or below the last one drops the stored entries from
 * it on (a conflicting tail replaced, thesis 3.5); an index past last + 1 is a gap. Entries the
 * snapshot covers are only counted, never kept. */
static int replay_entry(struct wal *w, struct wal_replay *r, const struct raft_entry *e,
                        const char *name, uint64_t offset)
{
    uint64_t last = r->base + r->count;
    if (e->index > last + 1) {
        return wal_fail(w, SYN_ECORRUPT,
                        "segment %s: record at offset %llu holds entry %llu after entry %llu "
                        "(a gap): refusing to start",
                        name, (unsigned long long)offset, (unsigned long long)e->index,
                        (unsigned long long)last);
    }
    if (e->index <= r->snap_index) {
        r->count = 0;
        r->base = e->index;
        r->snap_seen = e->index == r->snap_index;
        r->snap_seen_term = e->term;
        return 0;
    }
    if (e->index <= r->base) {
        r->count = 0;
        r->base = e->index - 1;
    } else {
        r->count = (uint32_t)(e->index - r->base - 1);
    }
    return replay_push(w, r, e);
}

static int replay_log(struct wal *w, struct wal_replay *r, const struct wal_record *rec,
                      const char *name, uint64_t offset)
{
    struct wal_log_record log;
    const char *why = NULL;
    if (wal_log_decode(rec->payload, rec->payload_size, &log, &why) != 0) {
        return wal_fail(w, SYN_ECORRUPT,
                        "segment %s: record at offset %llu has a valid checksum but %s: "
                        "refusing to start",
                        name, (unsigned long long)offset, why);
    }
    if (log.has_hard_state) {
        r->hs = log.hard_state;
    }
    struct wal_log_iter it;
    wal_log_iter_init(&it, &log);
    struct raft_entry e;
    while (wal_log_iter_next(&it, &e)) {
        int rc = replay_entry(w, r, &e, name, offset);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

int wal_header_check(struct wal *w, const struct wal_segment *seg, const struct wal_record *rec,
                     struct wal_segment_header *h)
{
    char name[WAL_SEGMENT_NAME_SIZE];
    wal_segment_name(seg->seq, seg->first_index, name);
    const char *why = NULL;
    if (rec->type != WAL_RECORD_SEGMENT ||
        wal_segment_header_decode(rec->payload, rec->payload_size, h, &why) != 0) {
        return wal_fail(w, SYN_ECORRUPT,
                        "segment %s: its first record is not a valid segment header (%s): "
                        "refusing to start",
                        name, why != NULL ? why : "another record type");
    }
    if (h->seq != seg->seq || h->first_index != seg->first_index) {
        return wal_fail(w, SYN_ECORRUPT,
                        "segment %s: its header says sequence %llu, first index %llu "
                        "(misnamed): refusing to start",
                        name, (unsigned long long)h->seq, (unsigned long long)h->first_index);
    }
    return 0;
}

uint64_t wal_replay_synced_after(const uint8_t *data, size_t size, uint64_t bad)
{
    /* Records start at multiples of 8. A valid record written after bad had been synced
     * proves that bad's bytes were durable once, so they were damaged afterwards. */
    for (uint64_t at = (bad / WAL_RECORD_ALIGN + 1) * WAL_RECORD_ALIGN;
         at + WAL_RECORD_HEADER_SIZE <= size; at += WAL_RECORD_ALIGN) {
        if (wal_bytes_zero(data + at, WAL_RECORD_HEADER_SIZE)) {
            continue; /* unwritten space, most of a preallocated segment: no record here */
        }
        struct wal_record rec;
        const char *why = NULL;
        if (wal_record_decode(data + at, size - at, &rec, &why) == 0 && rec.synced > bad &&
            rec.synced <= at) {
            return at;
        }
    }
    return 0;
}

/* The walk stopped at `at` with a bad record (why). In a closed segment that is corruption;
 * in the last one it is a torn tail unless a later record proves it had been synced. */
static int replay_stop(struct wal *w, struct wal_replay *r, const struct wal_replay_segment *s,
                       const uint8_t *data, uint64_t at, const char *why)
{
    if (!s->last) {
        return wal_fail(w, SYN_ECORRUPT,
                        "segment %s: %s at offset %llu, but a later segment follows it: "
                        "refusing to start",
                        s->name, why, (unsigned long long)at);
    }
    uint64_t proof = wal_replay_synced_after(data, s->size, at);
    if (proof != 0) {
        return wal_fail(w, SYN_ECORRUPT,
                        "segment %s: %s at offset %llu with valid records after it (one at "
                        "offset %llu was written once it was synced): refusing to start",
                        s->name, why, (unsigned long long)at, (unsigned long long)proof);
    }
    r->end = at;
    r->cut = !wal_bytes_zero(data + at, s->size - at);
    return 0;
}

static int replay_records(struct wal *w, struct wal_replay *r, const struct wal_replay_segment *s,
                          const uint8_t *data)
{
    uint64_t at = 0;
    while (at < s->size) { /* bounded: each turn moves past a record of 16 bytes or more */
        struct wal_record rec;
        const char *why = NULL;
        int rc = wal_record_decode(data + at, s->size - at, &rec, &why);
        if (rc == 0 && rec.synced > at) {
            rc = SYN_ECORRUPT;
            why = "record claims to be synced past itself";
        }
        if (rc != 0) {
            return replay_stop(w, r, s, data, at, why);
        }
        if (at == 0) {
            struct wal_segment_header h;
            rc = wal_header_check(w, &s->seg, &rec, &h);
            r->hs = h.hard_state;
        } else if (rec.type == WAL_RECORD_LOG) {
            rc = replay_log(w, r, &rec, s->name, at);
        } else {
            rc = wal_fail(w, SYN_ECORRUPT, "segment %s: unexpected record type %u at offset %llu",
                          s->name, rec.type, (unsigned long long)at);
        }
        if (rc != 0) {
            return rc;
        }
        at += rec.size;
    }
    r->end = at;
    r->cut = false;
    return 0;
}

int wal_replay_segment(struct wal *w, struct wal_replay *r, const struct wal_segment *seg,
                       bool last, uint64_t length)
{
    struct wal_replay_segment s = {.seg = *seg, .last = last};
    wal_segment_name(seg->seq, seg->first_index, s.name);
    uint8_t *data = NULL;
    int rc = wal_segment_load(w, seg, last, length, &data, &s.size);
    if (rc == 0) {
        rc = replay_records(w, r, &s, data);
    }
    free(data);
    return rc;
}

int wal_segment_open_read(struct wal *w, const struct wal_segment *seg, int *fd, uint64_t *size)
{
    char name[WAL_SEGMENT_NAME_SIZE];
    wal_segment_name(seg->seq, seg->first_index, name);
    int rc = wal_file_open(w, name, O_RDONLY, fd);
    if (rc != 0) {
        return rc;
    }
    rc = w->fs->size(w->fs->ctx, *fd, size);
    if (rc < 0) {
        wal_file_close(w, fd);
        return wal_fail_errno(w, rc, "size of segment %s", name);
    }
    return 0;
}

int wal_segment_load(struct wal *w, const struct wal_segment *seg, bool whole, uint64_t length,
                     uint8_t **data, uint64_t *size)
{
    char name[WAL_SEGMENT_NAME_SIZE];
    wal_segment_name(seg->seq, seg->first_index, name);
    int fd;
    uint64_t file_size = 0;
    *data = NULL;
    int rc = wal_segment_open_read(w, seg, &fd, &file_size);
    if (rc != 0) {
        return rc;
    }
    if (file_size > WAL_SEGMENT_FILE_SIZE_MAX) {
        rc = wal_fail(w, SYN_ECORRUPT, "segment %s is %llu bytes, more than the WAL ever writes",
                      name, (unsigned long long)file_size);
    } else if (!whole && file_size < length) {
        rc = wal_fail(w, SYN_ECORRUPT,
                      "segment %s is %llu bytes but the next segment says it had %llu: "
                      "refusing to start",
                      name, (unsigned long long)file_size, (unsigned long long)length);
    }
    uint64_t n = whole ? file_size : length;
    *data = rc == 0 ? malloc(n > 0 ? n : 1) : NULL;
    if (rc == 0 && *data == NULL) {
        rc = wal_fail(w, SYN_ENOMEM, "out of memory reading segment %s", name);
    }
    if (rc == 0) {
        rc = wal_read_all(w, fd, *data, n, 0, name);
    }
    wal_file_close(w, &fd);
    *size = n;
    return rc;
}
