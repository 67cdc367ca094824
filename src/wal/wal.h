/* wal.h: stable storage for one Raft node: a write-ahead log of entries and hard state in
 * segment files, and the current snapshot. docs/storage.md describes the files, the recovery
 * rules and the durability contract.
 *
 * A shell module: it does file I/O (through struct wal_fs, wal_fs.h), never libuv. The daemon
 * calls it from a worker thread, one call at a time: calls on one wal must not overlap.
 *
 *   wal_open()                recovers: hard state, snapshot meta, entries after the snapshot
 *   per Ready: wal_persist()  writes the snapshot chunk/install, entries and hard state
 *   wal_sync()                makes everything persisted so far durable (group commit: persist
 *                             every Ready at hand, then sync once)
 *   wal_snapshot_save()       stores a snapshot the state machine took; then wal_compact()
 *   wal_snapshot_read()       fills an outgoing InstallSnapshot chunk (leader)
 *
 * Durability: nothing wal_persist() wrote is durable before wal_sync() returns 0. Send a
 * Ready's persisted_messages (acknowledgements, votes) only then. wal_snapshot_save() is
 * durable when it returns.
 *
 * Errors: negative SYN_E* codes, with a sentence in wal_errmsg(). After an I/O error on the
 * write path (a failed or short write, fsync, rename, unlink) the WAL refuses every further
 * write with that error: after a failed fsync the state of the page cache is unknown, so
 * retrying could acknowledge data that is lost ("fsyncgate"). The node stops accepting
 * writes; a restart recovers everything that was synced.
 */
#ifndef SYN_WAL_WAL_H
#define SYN_WAL_WAL_H

#include <stdbool.h>
#include <stdint.h>

#include "raft/raft.h"
#include "wal/wal_fs.h"

#define WAL_ERRMSG_SIZE 320u

struct wal;
struct wal_arena;

struct wal_options {
    const struct wal_fs *fs; /* NULL: POSIX. Borrowed until wal_close(). */
    uint32_t segment_size;   /* a segment is closed past this size; 0: SYN_WAL_SEGMENT_SIZE;
                                otherwise within [SYN_WAL_SEGMENT_SIZE_MIN, _MAX] */
    bool no_preallocate;     /* do not fallocate() new segments */
    bool verify_snapshot;    /* at open, read the whole snapshot body and check its checksum */
};

/* What wal_open() found. Zero it before the first use; wal_recovery_free() releases it. */
struct wal_recovery {
    bool fresh;                         /* the directory held no WAL: a brand-new node */
    struct raft_hard_state hard_state;
    struct raft_snapshot_meta snapshot; /* index 0: no snapshot */
    uint32_t entry_count;
    struct raft_entry *entries;         /* snapshot.index+1 on, contiguous; owned by this
                                           struct until wal_recovery_free() */
    bool repaired;                      /* a torn tail was cut or leftovers removed: see note */
    char note[WAL_ERRMSG_SIZE];         /* what recovery repaired, for the operator's log */
    char errmsg[WAL_ERRMSG_SIZE];       /* why wal_open() failed */
    struct wal_arena *arena;            /* private: holds the entries' data */
};

/* Opens (creating if needed) the WAL in dir and recovers it into rec (zeroed first):
 *  - the newest snapshot meta; its body must be whole;
 *  - the hard state and the entries after the snapshot, replayed from the segments;
 *  - a torn tail (a record cut short or garbled by a crash, with nothing synced after it)
 *    is cut off, and what was cut is said in rec->note;
 *  - corruption of synced data (a bad record followed by records written after it was
 *    synced, a bad record in a closed segment, a missing or misnamed segment, a corrupt
 *    snapshot meta or body size, a log that lost its hard state) is refused with
 *    SYN_ECORRUPT and a sentence naming the file and offset: never silently dropped.
 * A refused directory is left untouched. Everything recovered is made durable before
 * wal_open() returns. dir is copied; opts may be NULL (defaults).
 * 0, SYN_ECORRUPT, SYN_EBUSY (another process has it open), SYN_EINVAL (bad options),
 * SYN_EIO, SYN_ENOSPC, SYN_ENOMEM. On failure *out is NULL and rec->errmsg says why. */
int wal_open(const char *dir, const struct wal_options *opts, struct wal **out,
             struct wal_recovery *rec);
/* Frees what rec owns (the entries); rec may be reused. */
void wal_recovery_free(struct wal_recovery *rec);
/* Fills a raft_restore from rec; its entries stay borrowed from rec. */
void wal_recovery_restore(const struct wal_recovery *rec, struct raft_restore *restore);

/* Writes the durable part of one Ready, not yet durable, in this order:
 *  1. ready.snapshot_chunk: the chunk at snapshot_offset in the partial snapshot, which is
 *     first cut to snapshot_offset (a resent chunk, or offset 0: a new transfer);
 *  2. ready.snapshot_install: the partial snapshot, whose size must be snapshot.size,
 *     becomes the current snapshot atomically with its meta, and every stored entry is
 *     dropped (the core reset its log);
 *  3. ready.entries, dropping stored entries from entries[0].index on (a conflict);
 *  4. ready.hard_state when changed.
 * Entries and hard state of one Ready go into one buffer and one write; the hard state comes
 * first, so a Ready cut by a crash never leaves entries newer than the stored term. Only an
 * install and the closing of a full segment (both rare) sync on their own.
 * rd is borrowed for the call. 0; SYN_EINVAL when rd breaks the storage rules (a gap in the
 * log, an install whose bytes did not all arrive: nothing is written); or an I/O error
 * (SYN_EIO, SYN_ENOSPC), after which the WAL refuses writes. */
int wal_persist(struct wal *w, const struct raft_ready *rd);

/* Makes everything written so far durable: fdatasync of the open segment, and fsync of the
 * directory when segments or snapshots were created or removed since the last sync.
 * 0, or SYN_EIO/SYN_ENOSPC, after which the WAL refuses writes. */
int wal_sync(struct wal *w);

/* Drops whole segments whose entries are all at or below index, which must not exceed the
 * current snapshot's index (SYN_EINVAL). The open segment always stays. */
int wal_compact(struct wal *w, uint64_t index);

/* Fills buf with up to size bytes of a snapshot body and sets *filled; *filled = 0 ends the
 * body. A negative return aborts the save with that code. */
typedef int (*wal_snapshot_source)(void *arg, uint8_t *buf, uint32_t size, uint32_t *filled);

/* Stores a snapshot the state machine took at meta->index (> the current snapshot's index;
 * term and conf from raft_snapshot_meta_at()), atomically: a temporary file, fsync, rename,
 * fsync of the directory. It is durable on return; the previous snapshot is removed.
 * meta->size is set to the bytes stored (the caller passes meta on to raft_compact()). The
 * buffer form stores size bytes of data; the stream form pulls bytes from source until it
 * returns *filled = 0. 0, SYN_EINVAL, SYN_ETOOBIG, the source's error (nothing stored), or
 * an I/O error. A failure before the rename leaves the WAL usable. */
int wal_snapshot_save(struct wal *w, struct raft_snapshot_meta *meta, const uint8_t *data,
                      uint64_t size);
int wal_snapshot_save_stream(struct wal *w, struct raft_snapshot_meta *meta,
                             wal_snapshot_source source, void *arg);

/* Reads size bytes at offset of the body of the current snapshot, which must be the one at
 * index: the leader fills an outgoing RAFT_MSG_SNAPSHOT chunk with it, and a restarting node
 * restores its state machine. 0; SYN_ENOENT when the current snapshot is not at index (the
 * shell drops the message); SYN_EINVAL when the range lies outside the body; SYN_ECORRUPT
 * when the body file is shorter than its meta says; SYN_EIO. */
int wal_snapshot_read(struct wal *w, uint64_t index, uint64_t offset, uint8_t *buf,
                      uint32_t size);
/* Reads the whole current body and checks its checksum. 0, SYN_ENOENT (no snapshot),
 * SYN_ECORRUPT, SYN_EIO. */
int wal_snapshot_verify(struct wal *w);
/* The path of the current snapshot body, or NULL when there is none. Valid until the next
 * call that changes the snapshot. */
const char *wal_snapshot_path(const struct wal *w);

struct wal_status {
    uint64_t last_index;          /* the last stored entry; the snapshot index if none */
    struct raft_hard_state hard_state;
    uint64_t snapshot_index;      /* 0: none */
    uint32_t segment_count;
    uint64_t segment_seq;         /* the open segment */
    uint64_t segment_first_index;
    uint64_t segment_offset;      /* bytes written to it */
    uint64_t segment_synced;      /* of which durable */
    uint64_t bytes_written;       /* since wal_open() */
    uint64_t writes;              /* write calls that reached the file system */
    uint64_t syncs;               /* fdatasync/fsync calls */
    int failed;                   /* the error that stopped writes; 0 while healthy */
};

void wal_status(const struct wal *w, struct wal_status *status);

/* A sentence about the last error, "" when none. */
const char *wal_errmsg(const struct wal *w);

/* Closes the files and frees w. It does not sync: what was not synced may be lost. */
void wal_close(struct wal *w);

#endif
