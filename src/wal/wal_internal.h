/* wal_internal.h: the WAL's state and the helpers its files share. Not for callers. */
#ifndef SYN_WAL_INTERNAL_H
#define SYN_WAL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/limits.h"
#include "wal/wal.h"
#include "wal/wal_record.h"

/* File names inside the WAL directory (docs/storage.md). */
#define WAL_SEGMENT_NAME_SIZE 38u  /* "%016x-%016x.log": seq, first index */
#define WAL_SNAPSHOT_NAME_SIZE 28u /* "snap-%016x.meta" / ".data": snapshot index */
#define WAL_LOCK_NAME "LOCK"
#define WAL_PARTIAL_NAME "snap.partial" /* an incoming snapshot being received */
#define WAL_BODY_TMP_NAME "snap.tmp"    /* a local snapshot being written */
#define WAL_META_TMP_NAME "meta.tmp"    /* a snapshot meta being written */
#define WAL_IO_CHUNK_SIZE (1u << 20)    /* bytes per read or write of a snapshot body */
#define WAL_META_FILE_SIZE_MAX (WAL_RECORD_HEADER_SIZE + WAL_SNAPSHOT_FIXED_SIZE + \
                                RAFT_CONF_ENCODED_SIZE_MAX + WAL_RECORD_ALIGN)
/* The largest segment file the WAL writes: it is closed once past the largest allowed size,
 * so one more record (a Ready splits into records of at most SYN_WAL_RECORD_SIZE_MAX) may
 * follow the last boundary. */
#define WAL_SEGMENT_FILE_SIZE_MAX \
    ((uint64_t)SYN_WAL_SEGMENT_SIZE_MAX + 2u * WAL_RECORD_FILE_SIZE_MAX)

struct wal_segment {
    uint64_t seq;
    uint64_t first_index;
};

struct wal {
    const struct wal_fs *fs; /* borrowed */
    char dir[SYN_WAL_PATH_SIZE_MAX];
    int dir_fd;
    int lock_fd;
    uint32_t segment_size;
    bool preallocate;
    bool verify_snapshot;
    int failed; /* the sticky write-path error; 0 while healthy */
    char errmsg[WAL_ERRMSG_SIZE];
    char failmsg[WAL_ERRMSG_SIZE]; /* the sentence of the failure that stopped writes */

    /* The log as stored (durable or not). */
    struct raft_hard_state hs;
    uint64_t last_index;

    /* Live segments, oldest first; the last one is open for appends. */
    struct wal_segment *segs;
    uint32_t seg_count;
    uint32_t seg_cap;
    int seg_fd;
    uint64_t seg_offset; /* bytes written to the open segment */
    uint64_t seg_synced; /* bytes of it known durable */
    bool dir_dirty;      /* a file was created, renamed or removed since the last fsync */
    struct syn_buf buf;  /* records waiting for one write */

    bool has_snapshot;
    struct wal_snapshot_file snap;
    char snap_path[SYN_WAL_PATH_SIZE_MAX];
    int snap_fd; /* read side of the current body; -1 until the first read */
    int partial_fd;
    uint64_t partial_size;
    uint32_t partial_crc;
    bool partial_crc_ok; /* partial_crc covers [0, partial_size) */

    uint64_t bytes_written;
    uint64_t writes;
    uint64_t syncs;
};

/* ---- wal.c: errors and I/O with sentences ---------------------------------------------- */

/* Sets errmsg to "wal: " + the formatted sentence; returns code. */
int wal_fail(struct wal *w, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The same for a -errno from struct wal_fs: the code follows errno, strerror ends the text. */
int wal_fail_errno(struct wal *w, int neg_errno, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Stops all further writes with code (the sentence in errmsg stays). Returns code. */
int wal_poison(struct wal *w, int code);
/* 0 while writes are allowed; else the sticky error, with a sentence. */
int wal_check_writable(struct wal *w);

/* dir + "/" + name into out (SYN_WAL_PATH_SIZE_MAX bytes; the length was checked at open). */
void wal_path(const struct wal *w, const char *name, char *out);
int wal_file_open(struct wal *w, const char *name, int flags, int *fd);
void wal_file_close(struct wal *w, int *fd);
/* Writes all size bytes at offset, writing the rest again after a short write. */
int wal_write_all(struct wal *w, int fd, const void *data, size_t size, uint64_t offset,
                  const char *name);
/* Reads size bytes at offset; SYN_ECORRUPT when the file ends first. */
int wal_read_all(struct wal *w, int fd, void *data, size_t size, uint64_t offset,
                 const char *name);
int wal_datasync(struct wal *w, int fd, const char *name);
int wal_unlink(struct wal *w, const char *name); /* a missing file is no error */
int wal_rename(struct wal *w, const char *from, const char *to);
int wal_sync_dir(struct wal *w);
/* fallocate [0, size) unless disabled or unsupported (then silently nothing); SYN_ENOSPC. */
int wal_preallocate(struct wal *w, int fd, uint64_t size, const char *name);

/* ---- wal_segment.c: file names and segments -------------------------------------------- */

void wal_segment_name(uint64_t seq, uint64_t first_index, char *name);
bool wal_segment_name_parse(const char *name, uint64_t *seq, uint64_t *first_index);
/* The name of the open (last) segment. */
void wal_segment_open_name(const struct wal *w, char *name);
void wal_snapshot_name(uint64_t index, bool meta, char *name);
bool wal_snapshot_name_parse(const char *name, uint64_t *index, bool *meta);
/* The position of the oldest segment that may hold an entry above index: the newest one that
 * starts at or below index + 1. Segments before it hold only entries at or below index.
 * count when no segment starts that low. */
uint32_t wal_segments_needed_from(const struct wal_segment *segs, uint32_t count,
                                  uint64_t index);
int wal_segment_push(struct wal *w, uint64_t seq, uint64_t first_index);
/* Creates, preallocates and opens a segment and queues its header record in w->buf. */
int wal_segment_create(struct wal *w, uint64_t seq, uint64_t first_index, uint64_t prev_size);
/* Writes w->buf to the open segment. */
int wal_flush(struct wal *w);
/* Closes the full open segment (cut to its size, fdatasync) and starts the next one. */
int wal_segment_roll(struct wal *w);
/* Removes the segments [0, n) from the directory and the list. */
int wal_segments_remove(struct wal *w, uint32_t n);

/* ---- wal_snapshot.c -------------------------------------------------------------------- */

/* A meta the WAL can store as the next snapshot: index and term set, a valid configuration,
 * newer than the current snapshot. SYN_EINVAL; verb ("saving", "installing") for the text. */
int wal_snapshot_meta_check(struct wal *w, const struct raft_snapshot_meta *meta,
                            const char *verb);
/* Makes f the current snapshot in memory (its files are in place). */
void wal_snapshot_set(struct wal *w, const struct wal_snapshot_file *f);
int wal_partial_write(struct wal *w, uint64_t offset, const uint8_t *data, uint32_t size);
int wal_snapshot_install(struct wal *w, const struct raft_snapshot_meta *meta,
                         const struct raft_hard_state *hs);

/* ---- wal_recover.c, wal_replay.c ------------------------------------------------------- */

int wal_recover(struct wal *w, struct wal_recovery *rec);
void wal_arena_free(struct wal_arena *arena);

#endif
