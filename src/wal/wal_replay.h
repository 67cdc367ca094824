/* wal_replay.h: replaying segment files during recovery (wal_replay.c), for wal_recover.c. */
#ifndef SYN_WAL_REPLAY_H
#define SYN_WAL_REPLAY_H

#include "wal/wal_internal.h"

/* The log as replayed so far. Entries at or below the snapshot index are counted, not kept. */
struct wal_replay {
    uint64_t snap_index;
    uint64_t snap_term;
    struct raft_hard_state hs;  /* the latest replayed */
    uint64_t base;              /* the index before entries[0] */
    uint32_t count;
    uint32_t cap;
    struct raft_entry *entries; /* base+1 .. base+count; data in arena */
    struct wal_arena *arena;
    bool snap_seen;             /* the log holds the entry at the snapshot index */
    uint64_t snap_seen_term;
    uint64_t end;               /* where the last replayed segment's valid records end */
    bool cut;                   /* bytes after end must be cut off (a torn tail) */
};

struct wal_replay_segment {
    struct wal_segment seg;
    bool last;
    char name[WAL_SEGMENT_NAME_SIZE];
    uint64_t size; /* bytes loaded */
};

void wal_replay_free(struct wal_replay *r);
/* Replays one segment: a closed one must hold exactly length bytes of valid records; the
 * last one (last = true) is read whole and may end in a torn tail. SYN_ECORRUPT (with a
 * sentence naming file and offset), SYN_EIO, SYN_ENOMEM. */
int wal_replay_segment(struct wal *w, struct wal_replay *r, const struct wal_segment *seg,
                       bool last, uint64_t length);
/* Opens a segment file read-only and sizes it. */
int wal_segment_open_read(struct wal *w, const struct wal_segment *seg, int *fd, uint64_t *size);
/* Loads a segment file: whole, or exactly its first length bytes. *data is malloc()ed. */
int wal_segment_load(struct wal *w, const struct wal_segment *seg, bool whole, uint64_t length,
                     uint8_t **data, uint64_t *size);
/* Decodes a segment's first record and checks it against the file name. */
int wal_header_check(struct wal *w, const struct wal_segment *seg, const struct wal_record *rec,
                     struct wal_segment_header *h);
/* The offset of a valid record after the bad one at offset bad whose synced field lies past
 * bad (proof that bad's bytes had been synced), or 0 when there is none. */
uint64_t wal_replay_synced_after(const uint8_t *data, size_t size, uint64_t bad);

#endif
