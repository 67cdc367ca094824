/* wal_fault_fs.h: a struct wal_fs for tests that wraps a real one and breaks on purpose
 * (STYLE 15): fail the Nth write or sync, write short, run out of space, refuse fallocate.
 *
 * It also remembers, per file, how far it was written and how far synced, so that
 * fault_fs_crash_copy() can build the directory a power loss might leave behind (SQLite's
 * test6.c does the same): synced bytes survive; unsynced ones are cut at a random point, or
 * lose random sectors; a file created since the last fsync of the directory may vanish. */
#ifndef SYN_TESTS_WAL_FAULT_FS_H
#define SYN_TESTS_WAL_FAULT_FS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/prng.h"
#include "wal/wal_fs.h"

#define FAULT_FS_FILES_MAX 1024u
#define FAULT_FS_FDS_MAX 1024u
#define FAULT_FS_PATH_SIZE 1024u
#define FAULT_FS_UNLIMITED UINT64_MAX

struct fault_fs_file {
    char path[FAULT_FS_PATH_SIZE]; /* "" when the slot is free */
    uint64_t written;              /* the end of the furthest write */
    uint64_t durable;              /* bytes known synced */
    uint64_t allocated;            /* bytes counted against space_left */
    bool created;                  /* created or renamed since the last directory fsync */
};

struct fault_fs {
    struct wal_fs fs;          /* hand &ff->fs to wal_options.fs */
    const struct wal_fs *base; /* borrowed: usually wal_fs_posix() */
    uint64_t writes;           /* pwrite calls so far */
    uint64_t syncs;            /* fsync and fdatasync calls so far */
    uint64_t fail_write_at;    /* the Nth pwrite (1-based) misbehaves; 0: none */
    uint32_t short_write_bytes; /* > 0: it writes this many bytes and returns short... */
    int fail_write_errno;       /* ...and the next pwrite fails with this (0: succeeds); with
                                   short_write_bytes 0 the Nth pwrite itself fails with it */
    uint64_t fail_sync_at;      /* the Nth fsync/fdatasync fails with fail_sync_errno */
    int fail_sync_errno;
    uint64_t space_left;        /* bytes the disk still takes; FAULT_FS_UNLIMITED */
    bool no_fallocate;          /* fallocate returns -EOPNOTSUPP */
    bool real_sync;             /* really fsync; by default only the bookkeeping is done (the
                                   crash model needs no more, and tests stay fast) */
    int pending_errno;          /* internal: the next pwrite fails with it */
    struct fault_fs_file files[FAULT_FS_FILES_MAX];
    int fd_file[FAULT_FS_FDS_MAX]; /* file slot of each descriptor, -1 */
    bool fd_dir[FAULT_FS_FDS_MAX];
};

void fault_fs_init(struct fault_fs *ff, const struct wal_fs *base);

#define FAULT_CRASH_TORN_SECTORS 0x1u /* unsynced 512-byte sectors before the cut may be lost */
#define FAULT_CRASH_LOSE_NEW_FILES 0x2u /* files created since the last dir fsync may vanish */

/* Copies the regular files of src into dst (which must exist) as a crash at this moment
 * might leave them, choices drawn from rng. 0 or -errno. */
int fault_fs_crash_copy(const struct fault_fs *ff, const char *src, const char *dst,
                        struct prng *rng, unsigned flags);

#endif
