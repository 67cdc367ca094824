/* wal_fs.c: the POSIX file operations behind struct wal_fs. */
#define _GNU_SOURCE /* fallocate(2) */
#include "wal/wal_fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static int neg_errno(void)
{
    return errno > 0 ? -errno : -EIO;
}

static int sys_open(void *ctx, const char *path, int flags, uint32_t mode)
{
    (void)ctx;
    int fd;
    do {
        fd = open(path, flags | O_CLOEXEC, (mode_t)mode);
    } while (fd < 0 && errno == EINTR);
    return fd >= 0 ? fd : neg_errno();
}

static int sys_close(void *ctx, int fd)
{
    (void)ctx;
    /* Linux releases the descriptor even when close() fails: never retry it. */
    return close(fd) == 0 || errno == EINTR ? 0 : neg_errno();
}

static int64_t sys_pread(void *ctx, int fd, void *buf, size_t size, uint64_t offset)
{
    (void)ctx;
    ssize_t n;
    do {
        n = pread(fd, buf, size, (off_t)offset);
    } while (n < 0 && errno == EINTR);
    return n >= 0 ? (int64_t)n : neg_errno();
}

static int64_t sys_pwrite(void *ctx, int fd, const void *buf, size_t size, uint64_t offset)
{
    (void)ctx;
    ssize_t n;
    do {
        n = pwrite(fd, buf, size, (off_t)offset);
    } while (n < 0 && errno == EINTR);
    return n >= 0 ? (int64_t)n : neg_errno();
}

static int sys_fsync(void *ctx, int fd)
{
    (void)ctx;
    /* Never retried on EINTR either: a failed fsync may have dropped the dirty pages. */
    return fsync(fd) == 0 ? 0 : neg_errno();
}

static int sys_fdatasync(void *ctx, int fd)
{
    (void)ctx;
    return fdatasync(fd) == 0 ? 0 : neg_errno();
}

static int sys_ftruncate(void *ctx, int fd, uint64_t size)
{
    (void)ctx;
    int rc;
    do {
        rc = ftruncate(fd, (off_t)size);
    } while (rc < 0 && errno == EINTR);
    return rc == 0 ? 0 : neg_errno();
}

static int sys_fallocate(void *ctx, int fd, uint64_t offset, uint64_t size)
{
    (void)ctx;
#ifdef __linux__
    int rc;
    do {
        rc = fallocate(fd, 0, (off_t)offset, (off_t)size);
    } while (rc < 0 && errno == EINTR);
    if (rc == 0) {
        return 0;
    }
    return errno == ENOSYS || errno == EINVAL ? -EOPNOTSUPP : neg_errno();
#else
    (void)fd;
    (void)offset;
    (void)size;
    return -EOPNOTSUPP;
#endif
}

static int sys_size(void *ctx, int fd, uint64_t *size)
{
    (void)ctx;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        return neg_errno();
    }
    *size = (uint64_t)st.st_size;
    return 0;
}

static int sys_rename(void *ctx, const char *from, const char *to)
{
    (void)ctx;
    return rename(from, to) == 0 ? 0 : neg_errno();
}

static int sys_unlink(void *ctx, const char *path)
{
    (void)ctx;
    return unlink(path) == 0 ? 0 : neg_errno();
}

static int sys_mkdir(void *ctx, const char *path, uint32_t mode)
{
    (void)ctx;
    return mkdir(path, (mode_t)mode) == 0 ? 0 : neg_errno();
}

static int sys_lock(void *ctx, int fd)
{
    (void)ctx;
    int rc;
    do {
        rc = flock(fd, LOCK_EX | LOCK_NB);
    } while (rc < 0 && errno == EINTR);
    return rc == 0 ? 0 : neg_errno();
}

static int sys_list(void *ctx, const char *dir, wal_fs_list_fn each, void *arg)
{
    (void)ctx;
    DIR *d = opendir(dir);
    if (d == NULL) {
        return neg_errno();
    }
    int rc = 0;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (de == NULL) {
            rc = errno != 0 ? neg_errno() : 0;
            break;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
            continue;
        }
        rc = each(arg, de->d_name);
        if (rc != 0) {
            break;
        }
    }
    closedir(d);
    return rc;
}

static const struct wal_fs posix_fs = {
    .ctx = NULL,
    .open = sys_open,
    .close = sys_close,
    .pread = sys_pread,
    .pwrite = sys_pwrite,
    .fsync = sys_fsync,
    .fdatasync = sys_fdatasync,
    .ftruncate = sys_ftruncate,
    .fallocate = sys_fallocate,
    .size = sys_size,
    .rename = sys_rename,
    .unlink = sys_unlink,
    .mkdir = sys_mkdir,
    .lock = sys_lock,
    .list = sys_list,
};

const struct wal_fs *wal_fs_posix(void)
{
    return &posix_fs;
}
