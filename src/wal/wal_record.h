/* wal_record.h: the WAL's on-disk records, encoded and decoded by pure functions over bytes
 * (STYLE 10): recovery, the tests and the fuzzer share one decoder. docs/storage.md draws the
 * layout; in short, every record is
 *
 *    0  u32 crc32c of bytes 4 .. the end of the padding (header rest, payload, padding)
 *    4  u32 payload size, unpadded (at most SYN_WAL_RECORD_SIZE_MAX)
 *    8  u8  type (enum wal_record_type)
 *    9  u8  zero, u16 zero
 *   12  u32 synced: the offset in its segment below which every byte was durable when this
 *           record was written. Recovery tells a torn tail from corruption with it.
 *   16  payload, then zeros up to a multiple of 8 bytes
 *
 * All integers are little-endian. A record never spans two files.
 */
#ifndef SYN_WAL_RECORD_H
#define SYN_WAL_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "raft/raft.h"

#define WAL_RECORD_HEADER_SIZE 16u
#define WAL_RECORD_ALIGN 8u
/* The most bytes one record takes in a file: header, payload, padding. */
#define WAL_RECORD_FILE_SIZE_MAX (WAL_RECORD_HEADER_SIZE + SYN_WAL_RECORD_SIZE_MAX + WAL_RECORD_ALIGN)

enum wal_record_type {
    WAL_RECORD_SEGMENT = 1,  /* the first record of every segment file */
    WAL_RECORD_LOG = 2,      /* a hard state and/or a run of consecutive entries */
    WAL_RECORD_SNAPSHOT = 3, /* the one record of a snapshot meta file */
};

struct wal_record {
    uint32_t type;
    uint32_t synced;
    uint32_t payload_size;
    const uint8_t *payload; /* borrowed from the decoded bytes */
    uint32_t size;          /* header + payload + padding: the next record starts here */
};

/* Starts a record at the end of b (reserves its header); *start says where it begins.
 * 0, SYN_ENOMEM or SYN_ETOOBIG. */
int wal_record_begin(struct syn_buf *b, size_t *start);
/* Ends the record begun at start: pads it, fills its header and checksum, then decodes it
 * again as a check (STYLE 7). The payload is what was appended since wal_record_begin().
 * 0, SYN_ENOMEM, SYN_ETOOBIG (payload over SYN_WAL_RECORD_SIZE_MAX). */
int wal_record_end(struct syn_buf *b, size_t start, uint32_t type, uint32_t synced);

/* True when all size bytes are zero (unwritten, preallocated space reads so). */
bool wal_bytes_zero(const uint8_t *p, size_t size);

/* Decodes the record at the start of data (size bytes available). 0, or SYN_ECORRUPT with a
 * static phrase in *why ("bad checksum", "zeroed header (unwritten space)", ...). */
int wal_record_decode(const uint8_t *data, size_t size, struct wal_record *rec, const char **why);

/* ---- SEGMENT: magic, format version, where the segment sits in the sequence ------------ */

#define WAL_SEGMENT_MAGIC 0x31304c4157445953ull /* "SYDWAL01" */
#define WAL_FORMAT_VERSION 1u
#define WAL_SEGMENT_PAYLOAD_SIZE 64u

struct wal_segment_header {
    uint64_t seq;         /* 1, 2, 3...: one more than the segment before it */
    uint64_t first_index; /* the log's last index + 1 when the segment was created */
    uint64_t prev_size;   /* bytes of the segment before it when it was closed; 0 when none */
    struct raft_hard_state hard_state; /* the hard state when the segment was created */
};

int wal_segment_header_encode(struct syn_buf *b, const struct wal_segment_header *h);
int wal_segment_header_decode(const uint8_t *p, size_t size, struct wal_segment_header *h,
                              const char **why);

/* ---- LOG: u32 flags, u32 entry count, u64 first index, [hard state], entries -----------
 * Each entry: u64 term, u32 type, u32 data size, data. Entry i has index first_index + i. */

#define WAL_LOG_HARD_STATE 0x1u /* flags: a hard state (u64 term, vote, commit) follows */
#define WAL_LOG_FIXED_SIZE 16u
#define WAL_LOG_HARD_STATE_SIZE 24u
#define WAL_ENTRY_HEADER_SIZE 16u

struct wal_log_record {
    bool has_hard_state;
    struct raft_hard_state hard_state;
    uint64_t first_index;   /* 0 when entry_count is 0 */
    uint32_t entry_count;
    const uint8_t *entries; /* the validated entry run; borrowed from the decoded bytes */
    size_t entries_size;
};

struct wal_log_iter {
    const uint8_t *at;
    uint64_t index;
    uint32_t left;
};

/* Starts a LOG payload after wal_record_begin(): hs may be NULL; *count_at is where
 * wal_log_set_count() patches the entry count once it is known. */
int wal_log_begin(struct syn_buf *b, const struct raft_hard_state *hs, uint64_t first_index,
                  size_t *count_at);
int wal_log_append_entry(struct syn_buf *b, const struct raft_entry *e);
void wal_log_set_count(struct syn_buf *b, size_t count_at, uint32_t count);
/* Bytes one entry takes in a LOG payload. */
size_t wal_log_entry_size(const struct raft_entry *e);

/* Decodes and validates a LOG payload, entries included: afterwards iterating cannot fail. */
int wal_log_decode(const uint8_t *p, size_t size, struct wal_log_record *log, const char **why);
void wal_log_iter_init(struct wal_log_iter *it, const struct wal_log_record *log);
/* The next entry (data borrowed from the decoded bytes, buf NULL), or false at the end. */
bool wal_log_iter_next(struct wal_log_iter *it, struct raft_entry *e);

/* ---- SNAPSHOT: the meta of the current snapshot, in its own file ---------------------- */

#define WAL_SNAPSHOT_FIXED_SIZE 72u
#define WAL_SNAPSHOT_INSTALLED 0x1u /* flags: received from a leader; it replaced the log */

struct wal_snapshot_file {
    struct raft_snapshot_meta meta;
    uint32_t body_crc;                 /* crc32c of the meta.size bytes of the body */
    uint32_t flags;                    /* WAL_SNAPSHOT_INSTALLED */
    uint64_t log_seq;                  /* segments with a lower seq hold no live entry */
    struct raft_hard_state hard_state; /* the hard state when the snapshot was stored */
};

int wal_snapshot_file_encode(struct syn_buf *b, const struct wal_snapshot_file *f);
int wal_snapshot_file_decode(const uint8_t *p, size_t size, struct wal_snapshot_file *f,
                             const char **why);

#endif
