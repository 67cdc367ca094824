/* wal_fs.h: the file operations the WAL performs, as a small vtable, so that tests can fail
 * the Nth write or fsync, return a short write or run out of space (STYLE 15).
 * wal_fs_posix() is the real thing; tests/harness/wal_fault_fs.h wraps it with faults.
 *
 * Every operation returns 0 (a descriptor, or a byte count) on success and -errno on
 * failure. Paths are full paths. open() takes the usual O_* flags; the WAL always adds
 * O_CLOEXEC. */
#ifndef SYN_WAL_FS_H
#define SYN_WAL_FS_H

#include <stddef.h>
#include <stdint.h>

/* Called once per directory entry (not "." or ".."); a nonzero return stops the listing
 * and is returned by list(). */
typedef int (*wal_fs_list_fn)(void *arg, const char *name);

struct wal_fs {
    void *ctx; /* passed to every operation */
    int (*open)(void *ctx, const char *path, int flags, uint32_t mode);
    int (*close)(void *ctx, int fd);
    int64_t (*pread)(void *ctx, int fd, void *buf, size_t size, uint64_t offset);
    /* May write fewer bytes than asked (a short write); the WAL writes the rest again. */
    int64_t (*pwrite)(void *ctx, int fd, const void *buf, size_t size, uint64_t offset);
    int (*fsync)(void *ctx, int fd);
    int (*fdatasync)(void *ctx, int fd);
    int (*ftruncate)(void *ctx, int fd, uint64_t size);
    /* Reserves [offset, offset+size) and extends the file to cover it, reading as zeros.
     * -EOPNOTSUPP where the file system cannot: the WAL then goes on without. */
    int (*fallocate)(void *ctx, int fd, uint64_t offset, uint64_t size);
    int (*size)(void *ctx, int fd, uint64_t *size);
    int (*rename)(void *ctx, const char *from, const char *to);
    int (*unlink)(void *ctx, const char *path);
    int (*mkdir)(void *ctx, const char *path, uint32_t mode);
    /* An exclusive, non-blocking advisory lock on fd: -EWOULDBLOCK when another holds it. */
    int (*lock)(void *ctx, int fd);
    int (*list)(void *ctx, const char *dir, wal_fs_list_fn each, void *arg);
};

/* The POSIX implementation (Linux fallocate(2) where available). Its ctx is unused. */
const struct wal_fs *wal_fs_posix(void);

#endif
