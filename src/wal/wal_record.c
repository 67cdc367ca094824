/* wal_record.c: encoding and decoding of WAL records and their payloads; no I/O, no globals. */
#include "wal/wal_record.h"

#include <string.h>

#include "base/assert.h"
#include "base/crc32c.h"
#include "base/err.h"

static const uint8_t zero_pad[WAL_RECORD_ALIGN];

static size_t pad_size(size_t payload_size)
{
    return (WAL_RECORD_ALIGN - payload_size % WAL_RECORD_ALIGN) % WAL_RECORD_ALIGN;
}

static int corrupt(const char **why, const char *what)
{
    *why = what;
    return SYN_ECORRUPT;
}

int wal_record_begin(struct syn_buf *b, size_t *start)
{
    *start = b->len;
    uint8_t header[WAL_RECORD_HEADER_SIZE] = {0};
    return syn_buf_append(b, header, sizeof(header));
}

int wal_record_end(struct syn_buf *b, size_t start, uint32_t type, uint32_t synced)
{
    ASSERT(start + WAL_RECORD_HEADER_SIZE <= b->len);
    ASSERT(type >= WAL_RECORD_SEGMENT && type <= WAL_RECORD_SNAPSHOT);
    size_t payload_size = b->len - start - WAL_RECORD_HEADER_SIZE;
    if (payload_size > SYN_WAL_RECORD_SIZE_MAX) {
        return SYN_ETOOBIG;
    }
    int rc = syn_buf_append(b, zero_pad, pad_size(payload_size));
    if (rc != 0) {
        return rc;
    }
    uint8_t *h = b->data + start;
    syn_put_u32le(h + 4, (uint32_t)payload_size);
    h[8] = (uint8_t)type;
    h[9] = h[10] = h[11] = 0;
    syn_put_u32le(h + 12, synced);
    syn_put_u32le(h, crc32c(0, h + 4, b->len - start - 4));
    /* Check the checksum after encoding (STYLE 7): a bad record must never reach the disk. */
    struct wal_record rec;
    const char *why = NULL;
    ASSERT(wal_record_decode(h, b->len - start, &rec, &why) == 0);
    ASSERT(rec.size == b->len - start);
    return 0;
}

bool wal_bytes_zero(const uint8_t *p, size_t size)
{
    /* A word at a time: recovery checks the whole preallocated tail of a segment (64 MiB). */
    size_t i = 0;
    for (; i + 8 <= size; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (w != 0) {
            return false;
        }
    }
    for (; i < size; i++) {
        if (p[i] != 0) {
            return false;
        }
    }
    return true;
}

int wal_record_decode(const uint8_t *data, size_t size, struct wal_record *rec, const char **why)
{
    if (size < WAL_RECORD_HEADER_SIZE) {
        return corrupt(why, wal_bytes_zero(data, size) ? "zeroed header (unwritten space)"
                                                 : "record header cut short");
    }
    if (wal_bytes_zero(data, WAL_RECORD_HEADER_SIZE)) {
        return corrupt(why, "zeroed header (unwritten space)");
    }
    uint32_t payload_size = syn_get_u32le(data + 4);
    uint32_t type = data[8];
    if (type < WAL_RECORD_SEGMENT || type > WAL_RECORD_SNAPSHOT || data[9] != 0 ||
        data[10] != 0 || data[11] != 0 || payload_size > SYN_WAL_RECORD_SIZE_MAX) {
        return corrupt(why, "bad record header");
    }
    size_t total = WAL_RECORD_HEADER_SIZE + payload_size + pad_size(payload_size);
    if (total > size) {
        return corrupt(why, "record runs past the end of the file");
    }
    if (crc32c(0, data + 4, total - 4) != syn_get_u32le(data)) {
        return corrupt(why, "bad checksum");
    }
    if (!wal_bytes_zero(data + WAL_RECORD_HEADER_SIZE + payload_size, pad_size(payload_size))) {
        return corrupt(why, "nonzero record padding");
    }
    *rec = (struct wal_record){
        .type = type,
        .synced = syn_get_u32le(data + 12),
        .payload_size = payload_size,
        .payload = data + WAL_RECORD_HEADER_SIZE,
        .size = (uint32_t)total,
    };
    return 0;
}

/* ---- hard state ------------------------------------------------------------------------ */

static int hard_state_encode(struct syn_buf *b, const struct raft_hard_state *hs)
{
    int rc = syn_buf_append_u64le(b, hs->term);
    if (rc == 0) {
        rc = syn_buf_append_u64le(b, hs->vote);
    }
    if (rc == 0) {
        rc = syn_buf_append_u64le(b, hs->commit);
    }
    return rc;
}

static struct raft_hard_state hard_state_decode(const uint8_t *p)
{
    return (struct raft_hard_state){
        .term = syn_get_u64le(p), .vote = syn_get_u64le(p + 8), .commit = syn_get_u64le(p + 16)};
}

/* ---- SEGMENT --------------------------------------------------------------------------- */

int wal_segment_header_encode(struct syn_buf *b, const struct wal_segment_header *h)
{
    int rc = syn_buf_append_u64le(b, WAL_SEGMENT_MAGIC);
    if (rc == 0) {
        rc = syn_buf_append_u32le(b, WAL_FORMAT_VERSION);
    }
    if (rc == 0) {
        rc = syn_buf_append_u32le(b, 0);
    }
    if (rc == 0) {
        rc = syn_buf_append_u64le(b, h->seq);
    }
    if (rc == 0) {
        rc = syn_buf_append_u64le(b, h->first_index);
    }
    if (rc == 0) {
        rc = syn_buf_append_u64le(b, h->prev_size);
    }
    if (rc == 0) {
        rc = hard_state_encode(b, &h->hard_state);
    }
    return rc;
}

int wal_segment_header_decode(const uint8_t *p, size_t size, struct wal_segment_header *h,
                              const char **why)
{
    if (size != WAL_SEGMENT_PAYLOAD_SIZE || syn_get_u64le(p) != WAL_SEGMENT_MAGIC) {
        return corrupt(why, "not a segment header");
    }
    if (syn_get_u32le(p + 8) != WAL_FORMAT_VERSION || syn_get_u32le(p + 12) != 0) {
        return corrupt(why, "unknown segment format version");
    }
    *h = (struct wal_segment_header){
        .seq = syn_get_u64le(p + 16),
        .first_index = syn_get_u64le(p + 24),
        .prev_size = syn_get_u64le(p + 32),
        .hard_state = hard_state_decode(p + 40),
    };
    if (h->seq == 0 || h->first_index == 0) {
        return corrupt(why, "segment header with a zero sequence number or index");
    }
    return 0;
}

/* ---- LOG ------------------------------------------------------------------------------- */

size_t wal_log_entry_size(const struct raft_entry *e)
{
    return WAL_ENTRY_HEADER_SIZE + e->data_size;
}

int wal_log_begin(struct syn_buf *b, const struct raft_hard_state *hs, uint64_t first_index,
                  size_t *count_at)
{
    int rc = syn_buf_append_u32le(b, hs != NULL ? WAL_LOG_HARD_STATE : 0);
    *count_at = b->len;
    if (rc == 0) {
        rc = syn_buf_append_u32le(b, 0);
    }
    if (rc == 0) {
        rc = syn_buf_append_u64le(b, first_index);
    }
    if (rc == 0 && hs != NULL) {
        rc = hard_state_encode(b, hs);
    }
    return rc;
}

int wal_log_append_entry(struct syn_buf *b, const struct raft_entry *e)
{
    ASSERT(e->term > 0);
    ASSERT(e->data_size == 0 || e->data != NULL);
    int rc = syn_buf_reserve(b, wal_log_entry_size(e));
    if (rc != 0) {
        return rc;
    }
    rc = syn_buf_append_u64le(b, e->term);
    ASSERT(rc == 0);
    rc = syn_buf_append_u32le(b, e->type);
    ASSERT(rc == 0);
    rc = syn_buf_append_u32le(b, e->data_size);
    ASSERT(rc == 0);
    return syn_buf_append(b, e->data, e->data_size);
}

void wal_log_set_count(struct syn_buf *b, size_t count_at, uint32_t count)
{
    ASSERT(count_at + 4 <= b->len);
    syn_put_u32le(b->data + count_at, count);
}

/* Walks the entry run: every entry fits, has a known type and a nonzero term. */
static int log_entries_check(const uint8_t *p, size_t size, uint32_t count, const char **why)
{
    size_t at = 0;
    for (uint32_t i = 0; i < count; i++) {
        if (size - at < WAL_ENTRY_HEADER_SIZE) {
            return corrupt(why, "log record cut inside an entry header");
        }
        uint64_t term = syn_get_u64le(p + at);
        uint32_t type = syn_get_u32le(p + at + 8);
        uint32_t data_size = syn_get_u32le(p + at + 12);
        if (term == 0 || type < RAFT_ENTRY_NORMAL || type > RAFT_ENTRY_CONF) {
            return corrupt(why, "log entry with a zero term or an unknown type");
        }
        at += WAL_ENTRY_HEADER_SIZE;
        if (data_size > SYN_ENTRY_SIZE_MAX || data_size > size - at) {
            return corrupt(why, "log entry data runs past its record");
        }
        at += data_size;
    }
    if (at != size) {
        return corrupt(why, "log record has bytes after its last entry");
    }
    return 0;
}

int wal_log_decode(const uint8_t *p, size_t size, struct wal_log_record *log, const char **why)
{
    if (size < WAL_LOG_FIXED_SIZE) {
        return corrupt(why, "log record too short");
    }
    uint32_t flags = syn_get_u32le(p);
    if ((flags & ~WAL_LOG_HARD_STATE) != 0) {
        return corrupt(why, "log record with unknown flags");
    }
    *log = (struct wal_log_record){
        .has_hard_state = (flags & WAL_LOG_HARD_STATE) != 0,
        .entry_count = syn_get_u32le(p + 4),
        .first_index = syn_get_u64le(p + 8),
    };
    size_t at = WAL_LOG_FIXED_SIZE;
    if (log->has_hard_state) {
        if (size - at < WAL_LOG_HARD_STATE_SIZE) {
            return corrupt(why, "log record cut inside its hard state");
        }
        log->hard_state = hard_state_decode(p + at);
        at += WAL_LOG_HARD_STATE_SIZE;
    }
    if (log->entry_count == 0 && (!log->has_hard_state || log->first_index != 0)) {
        return corrupt(why, "log record with neither entries nor a hard state");
    }
    if (log->entry_count > 0 &&
        (log->first_index == 0 || log->first_index > UINT64_MAX - log->entry_count)) {
        return corrupt(why, "log record with an impossible first index");
    }
    log->entries = p + at;
    log->entries_size = size - at;
    return log_entries_check(log->entries, log->entries_size, log->entry_count, why);
}

void wal_log_iter_init(struct wal_log_iter *it, const struct wal_log_record *log)
{
    *it = (struct wal_log_iter){
        .at = log->entries, .index = log->first_index, .left = log->entry_count};
}

bool wal_log_iter_next(struct wal_log_iter *it, struct raft_entry *e)
{
    if (it->left == 0) {
        return false;
    }
    uint32_t data_size = syn_get_u32le(it->at + 12);
    *e = (struct raft_entry){
        .term = syn_get_u64le(it->at),
        .index = it->index,
        .type = syn_get_u32le(it->at + 8),
        .data_size = data_size,
        .data = data_size > 0 ? it->at + WAL_ENTRY_HEADER_SIZE : NULL,
    };
    it->at += WAL_ENTRY_HEADER_SIZE + data_size;
    it->index++;
    it->left--;
    return true;
}

/* ---- SNAPSHOT -------------------------------------------------------------------------- */

int wal_snapshot_file_encode(struct syn_buf *b, const struct wal_snapshot_file *f)
{
    uint8_t conf[RAFT_CONF_ENCODED_SIZE_MAX];
    uint32_t conf_size = raft_conf_encode(&f->meta.conf, conf);
    int rc = syn_buf_reserve(b, WAL_SNAPSHOT_FIXED_SIZE + conf_size);
    if (rc != 0) {
        return rc;
    }
    uint64_t fixed[] = {
        f->meta.index, f->meta.term,           f->meta.size,         f->log_seq,
        f->hard_state.term, f->hard_state.vote, f->hard_state.commit,
    };
    rc = syn_buf_append_u32le(b, WAL_FORMAT_VERSION);
    ASSERT(rc == 0);
    rc = syn_buf_append_u32le(b, f->body_crc);
    ASSERT(rc == 0);
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        rc = syn_buf_append_u64le(b, fixed[i]);
        ASSERT(rc == 0);
    }
    rc = syn_buf_append_u32le(b, conf_size);
    ASSERT(rc == 0);
    rc = syn_buf_append_u32le(b, f->flags);
    ASSERT(rc == 0);
    return syn_buf_append(b, conf, conf_size);
}

int wal_snapshot_file_decode(const uint8_t *p, size_t size, struct wal_snapshot_file *f,
                             const char **why)
{
    if (size < WAL_SNAPSHOT_FIXED_SIZE) {
        return corrupt(why, "snapshot meta too short");
    }
    if (syn_get_u32le(p) != WAL_FORMAT_VERSION ||
        (syn_get_u32le(p + 68) & ~WAL_SNAPSHOT_INSTALLED) != 0) {
        return corrupt(why, "unknown snapshot meta format version or flags");
    }
    memset(f, 0, sizeof(*f));
    f->body_crc = syn_get_u32le(p + 4);
    f->flags = syn_get_u32le(p + 68);
    f->meta.index = syn_get_u64le(p + 8);
    f->meta.term = syn_get_u64le(p + 16);
    f->meta.size = syn_get_u64le(p + 24);
    f->log_seq = syn_get_u64le(p + 32);
    f->hard_state = hard_state_decode(p + 40);
    uint32_t conf_size = syn_get_u32le(p + 64);
    if (conf_size != size - WAL_SNAPSHOT_FIXED_SIZE) {
        return corrupt(why, "snapshot meta configuration size disagrees with its record");
    }
    if (raft_conf_decode(p + WAL_SNAPSHOT_FIXED_SIZE, conf_size, &f->meta.conf) != 0) {
        return corrupt(why, "snapshot meta configuration does not decode");
    }
    if (f->meta.index == 0 || f->meta.term == 0 || f->meta.size > SYN_SNAPSHOT_SIZE_MAX) {
        return corrupt(why, "snapshot meta with a zero index or term, or too large");
    }
    return 0;
}
