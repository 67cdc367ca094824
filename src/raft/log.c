/* log.c: the Raft core's in-memory log and the reference-counted payloads its entries share
 * with Readies and messages. */
#include "raft/raft_internal.h"

struct raft_buf *raft_buf_new(const uint8_t *data, uint32_t size)
{
    struct raft_buf *buf = malloc(sizeof(*buf) + size);
    if (buf == NULL) {
        return NULL;
    }
    buf->refs = 1;
    buf->size = size;
    if (size > 0) {
        memcpy(buf->bytes, data, size);
    }
    return buf;
}

void raft_buf_ref(struct raft_buf *buf)
{
    if (buf != NULL) {
        ASSERT(buf->refs > 0);
        buf->refs++;
    }
}

void raft_buf_unref(struct raft_buf *buf)
{
    if (buf == NULL) {
        return;
    }
    ASSERT(buf->refs > 0);
    if (--buf->refs == 0) {
        free(buf);
    }
}

void raft_log_init(struct raft_log *log, uint64_t offset, uint64_t offset_term)
{
    *log = (struct raft_log){.offset = offset, .offset_term = offset_term};
}

void raft_log_free(struct raft_log *log)
{
    raft_log_truncate(log, log->offset + 1);
    free(log->entries);
    log->entries = NULL;
    log->cap = 0;
}

uint64_t raft_log_last_index(const struct raft_log *log)
{
    return log->offset + log->count;
}

uint64_t raft_log_last_term(const struct raft_log *log)
{
    return raft_log_term(log, raft_log_last_index(log));
}

struct raft_entry *raft_log_get(const struct raft_log *log, uint64_t index)
{
    if (index <= log->offset || index > raft_log_last_index(log)) {
        return NULL;
    }
    struct raft_entry *e = &log->entries[log->start + (index - log->offset - 1)];
    ASSERT(e->index == index);
    return e;
}

uint64_t raft_log_term(const struct raft_log *log, uint64_t index)
{
    if (index == log->offset) {
        return log->offset_term;
    }
    const struct raft_entry *e = raft_log_get(log, index);
    return e == NULL ? 0 : e->term;
}

static int log_grow(struct raft_log *log)
{
    if (log->start > 0 && log->start >= log->count) {
        /* Slide the live entries to the front instead of growing. */
        memmove(log->entries, log->entries + log->start, log->count * sizeof(*log->entries));
        log->start = 0;
        return 0;
    }
    uint64_t cap = log->cap == 0 ? 64 : log->cap * 2;
    struct raft_entry *entries = realloc(log->entries, cap * sizeof(*entries));
    if (entries == NULL) {
        return SYN_ENOMEM;
    }
    log->entries = entries;
    log->cap = cap;
    return 0;
}

/* After a compaction: an array four times larger than what it holds is given back, so a
 * burst of writes does not keep its memory for the life of the process. Best effort. */
static void log_shrink(struct raft_log *log)
{
    if (log->cap <= 1024 || log->count * 4 > log->cap) {
        return;
    }
    if (log->start > 0) {
        memmove(log->entries, log->entries + log->start, log->count * sizeof(*log->entries));
        log->start = 0;
    }
    uint64_t cap = log->count * 2 > 1024 ? log->count * 2 : 1024;
    struct raft_entry *entries = realloc(log->entries, cap * sizeof(*entries));
    if (entries != NULL) {
        log->entries = entries;
        log->cap = cap;
    }
}

int raft_log_append(struct raft_log *log, const struct raft_entry *e)
{
    ASSERT(e->index == raft_log_last_index(log) + 1);
    ASSERT(e->term >= raft_log_last_term(log));
    if (log->start + log->count == log->cap) {
        int rc = log_grow(log);
        if (rc != 0) {
            return rc;
        }
    }
    struct raft_entry copy = *e;
    if (copy.buf != NULL) {
        raft_buf_ref(copy.buf);
    } else if (copy.data_size > 0) {
        copy.buf = raft_buf_new(copy.data, copy.data_size);
        if (copy.buf == NULL) {
            return SYN_ENOMEM;
        }
    }
    copy.data = copy.buf == NULL ? NULL : copy.buf->bytes;
    log->entries[log->start + log->count] = copy;
    log->count++;
    log->bytes += copy.data_size;
    return 0;
}

void raft_log_truncate(struct raft_log *log, uint64_t index)
{
    ASSERT(index > log->offset);
    while (raft_log_last_index(log) >= index) {
        struct raft_entry *e = &log->entries[log->start + log->count - 1];
        ASSERT(log->bytes >= e->data_size);
        log->bytes -= e->data_size;
        raft_buf_unref(e->buf);
        log->count--;
    }
}

void raft_log_compact(struct raft_log *log, uint64_t index, uint64_t term)
{
    ASSERT(index <= raft_log_last_index(log));
    if (index <= log->offset) {
        return;
    }
    ASSERT(raft_log_term(log, index) == term);
    uint64_t drop = index - log->offset;
    for (uint64_t i = 0; i < drop; i++) {
        const struct raft_entry *e = &log->entries[log->start + i];
        ASSERT(log->bytes >= e->data_size);
        log->bytes -= e->data_size;
        raft_buf_unref(e->buf);
    }
    log->start += drop;
    log->count -= drop;
    log->offset = index;
    log->offset_term = term;
    if (log->count == 0) {
        log->start = 0;
    }
    log_shrink(log);
}

void raft_log_reset(struct raft_log *log, uint64_t index, uint64_t term)
{
    raft_log_truncate(log, log->offset + 1);
    log->start = 0;
    log->offset = index;
    log->offset_term = term;
}

struct raft_entry *raft_entries_copy(const struct raft_log *log, uint64_t lo, uint64_t hi)
{
    if (hi < lo) {
        return NULL;
    }
    ASSERT(lo > log->offset);
    ASSERT(hi <= raft_log_last_index(log));
    uint64_t n = hi - lo + 1;
    struct raft_entry *out = malloc(n * sizeof(*out));
    if (out == NULL) {
        return NULL;
    }
    memcpy(out, raft_log_get(log, lo), n * sizeof(*out));
    for (uint64_t i = 0; i < n; i++) {
        raft_buf_ref(out[i].buf);
    }
    return out;
}

void raft_entries_release(struct raft_entry *entries, uint32_t count)
{
    if (entries == NULL) {
        return;
    }
    for (uint32_t i = 0; i < count; i++) {
        raft_buf_unref(entries[i].buf);
    }
    free(entries);
}
