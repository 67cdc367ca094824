/* wal_fault_fs.c: the fault-injecting file system of the WAL tests, and crash copies. */
#include "harness/wal_fault_fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECTOR_SIZE 512u

static struct fault_fs *self(void *ctx)
{
    return ctx;
}

static struct fault_fs_file *file_of(struct fault_fs *ff, int fd)
{
    if (fd < 0 || (unsigned)fd >= FAULT_FS_FDS_MAX || ff->fd_file[fd] < 0) {
        return NULL;
    }
    return &ff->files[ff->fd_file[fd]];
}

static int file_find(const struct fault_fs *ff, const char *path)
{
    for (unsigned i = 0; i < FAULT_FS_FILES_MAX; i++) {
        if (strcmp(ff->files[i].path, path) == 0) {
            return (int)i;
        }
    }
    return -1;
}

static int file_add(struct fault_fs *ff, const char *path)
{
    for (unsigned i = 0; i < FAULT_FS_FILES_MAX; i++) {
        if (ff->files[i].path[0] == '\0') {
            ff->files[i] = (struct fault_fs_file){0};
            snprintf(ff->files[i].path, FAULT_FS_PATH_SIZE, "%s", path);
            return (int)i;
        }
    }
    abort(); /* a test opened more files than the harness tracks */
}

static void file_forget(struct fault_fs *ff, int slot)
{
    if (slot >= 0) {
        uint64_t freed = ff->files[slot].allocated;
        if (ff->space_left != FAULT_FS_UNLIMITED) {
            ff->space_left += freed;
        }
        ff->files[slot].path[0] = '\0';
    }
}

static void space_take(struct fault_fs *ff, struct fault_fs_file *f, uint64_t end)
{
    if (end > f->allocated) {
        if (ff->space_left != FAULT_FS_UNLIMITED) {
            ff->space_left -= end - f->allocated;
        }
        f->allocated = end;
    }
}

static int ff_open(void *ctx, const char *path, int flags, uint32_t mode)
{
    struct fault_fs *ff = self(ctx);
    struct stat st;
    bool existed = stat(path, &st) == 0;
    int fd = ff->base->open(ff->base->ctx, path, flags, mode);
    if (fd < 0 || (unsigned)fd >= FAULT_FS_FDS_MAX) {
        return fd;
    }
    ff->fd_dir[fd] = (flags & O_DIRECTORY) != 0;
    ff->fd_file[fd] = -1;
    if (ff->fd_dir[fd]) {
        return fd;
    }
    int slot = file_find(ff, path);
    if (slot < 0) {
        slot = file_add(ff, path);
        uint64_t size = existed ? (uint64_t)st.st_size : 0;
        ff->files[slot].written = ff->files[slot].durable = ff->files[slot].allocated = size;
        ff->files[slot].created = !existed;
    }
    struct fault_fs_file *f = &ff->files[slot];
    if ((flags & O_TRUNC) != 0) {
        if (ff->space_left != FAULT_FS_UNLIMITED) {
            ff->space_left += f->allocated;
        }
        f->written = f->durable = f->allocated = 0;
    }
    ff->fd_file[fd] = slot;
    return fd;
}

static int ff_close(void *ctx, int fd)
{
    struct fault_fs *ff = self(ctx);
    if (fd >= 0 && (unsigned)fd < FAULT_FS_FDS_MAX) {
        ff->fd_file[fd] = -1;
        ff->fd_dir[fd] = false;
    }
    return ff->base->close(ff->base->ctx, fd);
}

static int64_t ff_pread(void *ctx, int fd, void *buf, size_t size, uint64_t offset)
{
    struct fault_fs *ff = self(ctx);
    return ff->base->pread(ff->base->ctx, fd, buf, size, offset);
}

static int64_t ff_pwrite(void *ctx, int fd, const void *buf, size_t size, uint64_t offset)
{
    struct fault_fs *ff = self(ctx);
    struct fault_fs_file *f = file_of(ff, fd);
    ff->writes++;
    if (ff->pending_errno != 0) {
        int e = ff->pending_errno;
        ff->pending_errno = 0;
        return -e;
    }
    if (ff->writes == ff->fail_write_at) {
        if (ff->short_write_bytes == 0 || ff->short_write_bytes >= size) {
            return -ff->fail_write_errno;
        }
        size = ff->short_write_bytes;
        ff->pending_errno = ff->fail_write_errno;
    }
    if (f != NULL && ff->space_left != FAULT_FS_UNLIMITED) {
        uint64_t fits = (f->allocated > offset ? f->allocated - offset : 0) + ff->space_left;
        if (fits == 0) {
            return -ENOSPC;
        }
        size = size < fits ? size : (size_t)fits;
    }
    int64_t n = ff->base->pwrite(ff->base->ctx, fd, buf, size, offset);
    if (n > 0 && f != NULL) {
        space_take(ff, f, offset + (uint64_t)n);
        if (offset + (uint64_t)n > f->written) {
            f->written = offset + (uint64_t)n;
        }
    }
    return n;
}

static int ff_sync(struct fault_fs *ff, int fd, bool data_only)
{
    ff->syncs++;
    if (ff->syncs == ff->fail_sync_at) {
        return -ff->fail_sync_errno;
    }
    if (ff->real_sync) {
        int rc = data_only ? ff->base->fdatasync(ff->base->ctx, fd)
                           : ff->base->fsync(ff->base->ctx, fd);
        if (rc != 0) {
            return rc;
        }
    }
    struct fault_fs_file *f = file_of(ff, fd);
    if (f != NULL) {
        f->durable = f->written;
    } else if (fd >= 0 && (unsigned)fd < FAULT_FS_FDS_MAX && ff->fd_dir[fd]) {
        for (unsigned i = 0; i < FAULT_FS_FILES_MAX; i++) {
            ff->files[i].created = false;
        }
    }
    return 0;
}

static int ff_fsync(void *ctx, int fd)
{
    return ff_sync(self(ctx), fd, false);
}

static int ff_fdatasync(void *ctx, int fd)
{
    return ff_sync(self(ctx), fd, true);
}

static int ff_ftruncate(void *ctx, int fd, uint64_t size)
{
    struct fault_fs *ff = self(ctx);
    int rc = ff->base->ftruncate(ff->base->ctx, fd, size);
    struct fault_fs_file *f = file_of(ff, fd);
    if (rc == 0 && f != NULL) {
        if (size < f->allocated) {
            if (ff->space_left != FAULT_FS_UNLIMITED) {
                ff->space_left += f->allocated - size;
            }
            f->allocated = size;
        }
        f->written = f->written < size ? f->written : size;
        f->durable = f->durable < size ? f->durable : size;
    }
    return rc;
}

static int ff_fallocate(void *ctx, int fd, uint64_t offset, uint64_t size)
{
    struct fault_fs *ff = self(ctx);
    if (ff->no_fallocate) {
        return -EOPNOTSUPP;
    }
    struct fault_fs_file *f = file_of(ff, fd);
    if (f != NULL && ff->space_left != FAULT_FS_UNLIMITED && offset + size > f->allocated &&
        offset + size - f->allocated > ff->space_left) {
        return -ENOSPC;
    }
    int rc = ff->base->fallocate(ff->base->ctx, fd, offset, size);
    if (rc == 0 && f != NULL) {
        space_take(ff, f, offset + size);
    }
    return rc;
}

static int ff_size(void *ctx, int fd, uint64_t *size)
{
    struct fault_fs *ff = self(ctx);
    return ff->base->size(ff->base->ctx, fd, size);
}

static int ff_rename(void *ctx, const char *from, const char *to)
{
    struct fault_fs *ff = self(ctx);
    int rc = ff->base->rename(ff->base->ctx, from, to);
    if (rc == 0) {
        file_forget(ff, file_find(ff, to));
        int slot = file_find(ff, from);
        if (slot >= 0) {
            snprintf(ff->files[slot].path, FAULT_FS_PATH_SIZE, "%s", to);
            ff->files[slot].created = true;
        }
    }
    return rc;
}

static int ff_unlink(void *ctx, const char *path)
{
    struct fault_fs *ff = self(ctx);
    int rc = ff->base->unlink(ff->base->ctx, path);
    if (rc == 0) {
        file_forget(ff, file_find(ff, path));
    }
    return rc;
}

static int ff_mkdir(void *ctx, const char *path, uint32_t mode)
{
    struct fault_fs *ff = self(ctx);
    return ff->base->mkdir(ff->base->ctx, path, mode);
}

static int ff_lock(void *ctx, int fd)
{
    struct fault_fs *ff = self(ctx);
    return ff->base->lock(ff->base->ctx, fd);
}

static int ff_list(void *ctx, const char *dir, wal_fs_list_fn each, void *arg)
{
    struct fault_fs *ff = self(ctx);
    return ff->base->list(ff->base->ctx, dir, each, arg);
}

void fault_fs_init(struct fault_fs *ff, const struct wal_fs *base)
{
    memset(ff, 0, sizeof(*ff));
    ff->base = base;
    ff->space_left = FAULT_FS_UNLIMITED;
    for (unsigned i = 0; i < FAULT_FS_FDS_MAX; i++) {
        ff->fd_file[i] = -1;
    }
    ff->fs = (struct wal_fs){
        .ctx = ff,
        .open = ff_open,
        .close = ff_close,
        .pread = ff_pread,
        .pwrite = ff_pwrite,
        .fsync = ff_fsync,
        .fdatasync = ff_fdatasync,
        .ftruncate = ff_ftruncate,
        .fallocate = ff_fallocate,
        .size = ff_size,
        .rename = ff_rename,
        .unlink = ff_unlink,
        .mkdir = ff_mkdir,
        .lock = ff_lock,
        .list = ff_list,
    };
}

/* ---- crash copies ---------------------------------------------------------------------- */

static int read_file(const char *path, uint8_t **data, uint64_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
        }
        return -e;
    }
    *size = (uint64_t)st.st_size;
    *data = calloc(1, *size > 0 ? *size : 1);
    uint64_t at = 0;
    while (*data != NULL && at < *size) {
        ssize_t n = pread(fd, *data + at, *size - at, (off_t)at);
        if (n <= 0) {
            break;
        }
        at += (uint64_t)n;
    }
    close(fd);
    return *data == NULL ? -ENOMEM : 0;
}

static int write_file(const char *path, const uint8_t *data, uint64_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        return -errno;
    }
    uint64_t at = 0;
    while (at < size) {
        ssize_t n = pwrite(fd, data + at, size - at, (off_t)at);
        if (n <= 0) {
            close(fd);
            return -EIO;
        }
        at += (uint64_t)n;
    }
    close(fd);
    return 0;
}

/* What a crash does to one file's unsynced bytes [durable, written). */
static void crash_bytes(uint8_t *data, uint64_t size, uint64_t durable, uint64_t written,
                        struct prng *rng, unsigned flags)
{
    written = written < size ? written : size;
    durable = durable < written ? durable : written;
    uint64_t cut = prng_range(rng, durable, written);
    memset(data + cut, 0, size - cut);
    if ((flags & FAULT_CRASH_TORN_SECTORS) == 0) {
        return;
    }
    uint64_t first = (durable + SECTOR_SIZE - 1) / SECTOR_SIZE * SECTOR_SIZE;
    for (uint64_t s = first; s + SECTOR_SIZE <= cut; s += SECTOR_SIZE) {
        if (prng_chance(rng, 200000)) {
            bool garbage = prng_chance(rng, 500000);
            for (uint32_t i = 0; i < SECTOR_SIZE; i++) {
                data[s + i] = garbage ? (uint8_t)prng_next(rng) : 0;
            }
        }
    }
}

int fault_fs_crash_copy(const struct fault_fs *ff, const char *src, const char *dst,
                        struct prng *rng, unsigned flags)
{
    DIR *d = opendir(src);
    if (d == NULL) {
        return -errno;
    }
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        char from[FAULT_FS_PATH_SIZE];
        char to[FAULT_FS_PATH_SIZE];
        snprintf(from, sizeof(from), "%s/%s", src, de->d_name);
        snprintf(to, sizeof(to), "%s/%s", dst, de->d_name);
        struct stat st;
        if (stat(from, &st) != 0 || !S_ISREG(st.st_mode)) {
            continue;
        }
        int slot = file_find(ff, from);
        const struct fault_fs_file *f = slot >= 0 ? &ff->files[slot] : NULL;
        if (f != NULL && f->created && (flags & FAULT_CRASH_LOSE_NEW_FILES) != 0 &&
            prng_chance(rng, 500000)) {
            continue; /* its directory entry never reached the disk */
        }
        uint8_t *data = NULL;
        uint64_t size = 0;
        rc = read_file(from, &data, &size);
        if (rc == 0 && f != NULL) {
            crash_bytes(data, size, f->durable, f->written, rng, flags);
        }
        if (rc == 0) {
            rc = write_file(to, data, size);
        }
        free(data);
    }
    closedir(d);
    return rc;
}
