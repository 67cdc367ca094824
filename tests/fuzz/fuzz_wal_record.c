/* fuzz_wal_record.c: libFuzzer target for the WAL's record decoder (src/wal/wal_record.c),
 * the bytes recovery reads from disk. The input is scanned as recovery scans a segment: a
 * record at every 8-byte offset. Whatever decodes must decode again from its re-encoding to
 * the very same bytes (the encoding is canonical), so the decoder accepts nothing the encoder
 * would not write. Any crash, failed assertion or sanitizer report is a bug. `make fuzz`
 * runs it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/err.h"
#include "wal/wal_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Re-encodes a decoded LOG payload and checks it is byte for byte the original. */
static void log_roundtrip(const struct wal_record *rec, struct syn_buf *b)
{
    struct wal_log_record log;
    const char *why = NULL;
    if (wal_log_decode(rec->payload, rec->payload_size, &log, &why) != 0) {
        ASSERT(why != NULL);
        return;
    }
    size_t start, count_at;
    syn_buf_reset(b);
    ASSERT(wal_record_begin(b, &start) == 0);
    ASSERT(wal_log_begin(b, log.has_hard_state ? &log.hard_state : NULL, log.first_index,
                         &count_at) == 0);
    struct wal_log_iter it;
    wal_log_iter_init(&it, &log);
    struct raft_entry e;
    uint32_t n = 0;
    uint64_t index = log.first_index;
    while (wal_log_iter_next(&it, &e)) {
        ASSERT(e.index == index++);
        ASSERT(e.term > 0);
        ASSERT(wal_log_append_entry(b, &e) == 0);
        n++;
    }
    ASSERT(n == log.entry_count);
    wal_log_set_count(b, count_at, n);
    ASSERT(wal_record_end(b, start, WAL_RECORD_LOG, rec->synced) == 0);
    ASSERT(b->len == rec->size);
    ASSERT(memcmp(b->data, rec->payload - WAL_RECORD_HEADER_SIZE, b->len) == 0);
}

/* Re-encodes a decoded SEGMENT or SNAPSHOT payload: the same bytes must come out. */
static void fixed_roundtrip(const struct wal_record *rec, struct syn_buf *b)
{
    const char *why = NULL;
    syn_buf_reset(b);
    if (rec->type == WAL_RECORD_SEGMENT) {
        struct wal_segment_header h;
        if (wal_segment_header_decode(rec->payload, rec->payload_size, &h, &why) != 0) {
            return;
        }
        ASSERT(wal_segment_header_encode(b, &h) == 0);
    } else {
        struct wal_snapshot_file f;
        if (wal_snapshot_file_decode(rec->payload, rec->payload_size, &f, &why) != 0) {
            return;
        }
        ASSERT(wal_snapshot_file_encode(b, &f) == 0);
    }
    ASSERT(b->len == rec->payload_size);
    ASSERT(memcmp(b->data, rec->payload, b->len) == 0);
}

static void roundtrip(const struct wal_record *rec, struct syn_buf *b)
{
    if (rec->type == WAL_RECORD_LOG) {
        log_roundtrip(rec, b);
    } else {
        fixed_roundtrip(rec, b);
    }
}

/* The fuzzer rarely guesses a CRC: also try the input as a payload of each type, sealed
 * into a record with a correct checksum. */
static void sealed(const uint8_t *data, size_t size, uint32_t type, struct syn_buf *b,
                   struct syn_buf *scratch)
{
    size_t start;
    syn_buf_reset(b);
    ASSERT(wal_record_begin(b, &start) == 0);
    ASSERT(syn_buf_append(b, data, size) == 0);
    ASSERT(wal_record_end(b, start, type, (uint32_t)size) == 0);
    struct wal_record rec;
    const char *why = NULL;
    ASSERT(wal_record_decode(b->data, b->len, &rec, &why) == 0);
    roundtrip(&rec, scratch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 16)) {
        return 0;
    }
    struct syn_buf b, scratch;
    syn_buf_init(&b, 0);
    syn_buf_init(&scratch, 0);
    for (size_t at = 0; at < size; at += WAL_RECORD_ALIGN) {
        struct wal_record rec;
        const char *why = NULL;
        if (wal_record_decode(data + at, size - at, &rec, &why) != 0) {
            ASSERT(why != NULL);
            continue;
        }
        ASSERT(rec.size >= WAL_RECORD_HEADER_SIZE && rec.size <= size - at);
        ASSERT(rec.size % WAL_RECORD_ALIGN == 0);
        roundtrip(&rec, &b);
    }
    if (size > 0) {
        sealed(data + 1, size - 1, 1u + data[0] % 3u, &b, &scratch);
    }
    syn_buf_free(&b);
    syn_buf_free(&scratch);
    return 0;
}
