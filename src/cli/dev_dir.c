/* dev_dir.c: preparing `synod dev`'s data directory: mkdir -p, --fresh, and the stamp that
 * tells which cluster the data belongs to. */
#include "cli/dev_dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"

/* A node's data directory is a few levels deep (WAL, store, snapshots); deeper means it is
 * not ours, and the walk stops rather than recurse without bound. */
#define DEV_DIR_DEPTH_MAX 8u

/* mkdir -p, parents first (each call is on a shorter path, so the recursion ends): 0 or
 * -errno. */
static int dir_make(const char *path)
{
    if (mkdir(path, 0755) == 0 || errno == EEXIST) {
        return 0;
    }
    char parent[DEV_PLAN_DIR_SIZE_MAX];
    const char *slash = strrchr(path, '/');
    if (errno != ENOENT || slash == NULL || slash == path) {
        return -errno;
    }
    snprintf(parent, sizeof(parent), "%.*s", (int)(slash - path), path);
    int rc = dir_make(parent);
    if (rc != 0) {
        return rc;
    }
    return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -errno;
}

/* rm -r name under the directory parent_fd, never following a symbolic link out of it.
 * 0 or -errno. */
static int dir_remove_tree(int parent_fd, const char *name, uint32_t depth)
{
    if (unlinkat(parent_fd, name, 0) == 0 || errno == ENOENT) {
        return 0;
    }
    if (errno != EISDIR && errno != EPERM) { /* Linux says EISDIR, POSIX EPERM */
        return -errno;
    }
    if (depth == DEV_DIR_DEPTH_MAX) {
        return -ELOOP;
    }
    int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *dir = fd < 0 ? NULL : fdopendir(fd);
    if (dir == NULL) {
        int rc = -errno;
        if (fd >= 0) {
            close(fd);
        }
        return rc;
    }
    int rc = 0;
    for (struct dirent *e = readdir(dir); e != NULL && rc == 0; e = readdir(dir)) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            rc = dir_remove_tree(dirfd(dir), e->d_name, depth + 1);
        }
    }
    closedir(dir);
    if (rc == 0 && unlinkat(parent_fd, name, AT_REMOVEDIR) != 0) {
        rc = -errno;
    }
    return rc;
}

/* --fresh: deletes what synod dev makes in DIR, for every node count. */
static int dir_fresh(const char *dir, char *err, size_t err_size)
{
    int dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) {
        snprintf(err, err_size, "cannot open %s: %s", dir, strerror(errno));
        return SYN_EIO;
    }
    int rc = dir_remove_tree(dir_fd, DEV_DIR_STAMP_NAME, 0);
    for (uint32_t i = 1; i <= DEV_PLAN_NODES_MAX && rc == 0; i++) {
        char name[DEV_PLAN_NAME_SIZE_MAX + 8];
        snprintf(name, sizeof(name), "n%u", i);
        rc = dir_remove_tree(dir_fd, name, 0);
        snprintf(name, sizeof(name), "n%u.log", i);
        rc = rc != 0 ? rc : dir_remove_tree(dir_fd, name, 0);
    }
    close(dir_fd);
    if (rc != 0) {
        snprintf(err, err_size, "--fresh: cannot empty %s: %s", dir, strerror(-rc));
        return SYN_EIO;
    }
    return 0;
}

/* Writes the stamp into a directory that has none; refuses one that holds another cluster. */
static int dir_check_stamp(const struct dev_plan *plan, char *err, size_t err_size)
{
    char path[DEV_PLAN_PATH_SIZE_MAX + sizeof(DEV_DIR_STAMP_NAME)];
    char want[DEV_PLAN_STAMP_SIZE_MAX];
    char have[DEV_PLAN_STAMP_SIZE_MAX] = "";
    snprintf(path, sizeof(path), "%s/%s", plan->data_dir, DEV_DIR_STAMP_NAME);
    dev_plan_stamp(plan, want);
    FILE *f = fopen(path, "r");
    if (f != NULL) {
        bool read = fgets(have, sizeof(have), f) != NULL;
        fclose(f);
        if (read && strcmp(have, want) == 0) {
            return 0;
        }
        have[strcspn(have, "\n")] = '\0';
        snprintf(err, err_size,
                 "%s holds another cluster (%s): add --fresh to delete it, or use another "
                 "--data-dir",
                 plan->data_dir, have);
        return SYN_EEXIST;
    }
    f = fopen(path, "w");
    if (f == NULL || fputs(want, f) < 0 || fclose(f) != 0) {
        snprintf(err, err_size, "cannot write %s: %s", path, strerror(errno));
        return SYN_EIO;
    }
    return 0;
}

int dev_dir_prepare(struct dev_plan *plan, char *err, size_t err_size)
{
    int rc = dir_make(plan->data_dir);
    if (rc != 0) {
        snprintf(err, err_size, "cannot make %s: %s", plan->data_dir, strerror(-rc));
        return SYN_EIO;
    }
    char *absolute = realpath(plan->data_dir, NULL);
    if (absolute == NULL) {
        snprintf(err, err_size, "%s: %s", plan->data_dir, strerror(errno));
        return SYN_EIO;
    }
    rc = dev_plan_layout(plan, absolute);
    free(absolute);
    if (rc != 0) {
        snprintf(err, err_size, "--data-dir: longer than %u bytes in full",
                 DEV_PLAN_DIR_SIZE_MAX - 1);
        return SYN_EINVAL;
    }
    if (plan->fresh) {
        rc = dir_fresh(plan->data_dir, err, err_size);
    }
    return rc != 0 ? rc : dir_check_stamp(plan, err, err_size);
}
