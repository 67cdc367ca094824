/* wal_bench.c: WAL throughput with a real fdatasync. For Readies of 1, 16 and 256 entries of
 * 128 bytes (plus a hard state), each persisted then synced (one sync per Ready: the group
 * commit of the daemon), it prints entries appended per second, syncs per second and the
 * latency of persist + sync.
 *
 *   wal_bench [DIR [SECONDS]]     DIR defaults to a new directory under /tmp
 *
 * fsync costs nothing on tmpfs: the file system of DIR is printed, with a warning there. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "wal/wal.h"

#define ENTRY_SIZE 128u
#define BATCH_MAX 256u
#define SAMPLES_MAX 1000000u

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *fs_name(long type)
{
    switch ((unsigned long)type) {
    case 0x01021994ul:
        return "tmpfs";
    case 0x858458f6ul:
        return "ramfs";
    case 0xef53ul:
        return "ext4";
    case 0x58465342ul:
        return "xfs";
    case 0x9123683eul:
        return "btrfs";
    case 0x2fc12fc1ul:
        return "zfs";
    case 0x794c7630ul:
        return "overlayfs";
    case 0x6a656a63ul:
        return "fakeowner";
    default:
        return "unknown";
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void remove_dir(const char *dir)
{
    char cmd[1200];
    int n = snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (n < 0 || (size_t)n >= sizeof(cmd) || system(cmd) != 0) {
        fprintf(stderr, "wal_bench: could not remove %s\n", dir);
    }
}

/* Persists and syncs Readies of `batch` entries for `seconds`; prints one line. */
static int bench_batch(const char *root, uint32_t batch, double seconds, double *latency)
{
    char dir[1100];
    int n = snprintf(dir, sizeof(dir), "%s/batch-%u", root, batch);
    if (n < 0 || (size_t)n >= sizeof(dir)) {
        return 1;
    }
    struct wal_recovery rec;
    struct wal *w = NULL;
    int rc = wal_open(dir, NULL, &w, &rec);
    if (rc != 0) {
        fprintf(stderr, "wal_bench: %s\n", rec.errmsg);
        return 1;
    }
    static uint8_t data[BATCH_MAX][ENTRY_SIZE];
    static struct raft_entry entries[BATCH_MAX];
    uint64_t index = 0;
    uint32_t samples = 0;
    double start = now_seconds();
    double end = start;
    while (rc == 0 && end - start < seconds && samples < SAMPLES_MAX) {
        for (uint32_t i = 0; i < batch; i++) {
            index++;
            memset(data[i], (int)index, ENTRY_SIZE);
            entries[i] = (struct raft_entry){.term = 1, .index = index, .type = RAFT_ENTRY_NORMAL,
                                             .data_size = ENTRY_SIZE, .data = data[i]};
        }
        struct raft_ready rd = {.entries = entries, .entry_count = batch,
                                .hard_state_changed = true,
                                .hard_state = {.term = 1, .vote = 1, .commit = index - batch}};
        double t0 = now_seconds();
        rc = wal_persist(w, &rd);
        rc = rc == 0 ? wal_sync(w) : rc;
        end = now_seconds();
        latency[samples++] = end - t0;
    }
    if (rc != 0) {
        fprintf(stderr, "wal_bench: %s: %s\n", syn_errname(rc), wal_errmsg(w));
    }
    struct wal_status st;
    wal_status(w, &st);
    wal_close(w);
    double elapsed = end - start;
    qsort(latency, samples, sizeof(*latency), cmp_double);
    printf("%5u  %12.0f  %9.0f  %8.1f  %8.1f  %8.1f  %8.1f  %8u\n", batch,
           (double)index / elapsed, (double)samples / elapsed,
           (double)st.bytes_written / elapsed / 1e6, latency[samples / 2] * 1e6,
           latency[samples * 99 / 100] * 1e6, latency[samples - 1] * 1e6, st.segment_count);
    remove_dir(dir);
    return rc != 0;
}

int main(int argc, char **argv)
{
    char root[1024];
    bool made = argc < 2;
    if (made) {
        snprintf(root, sizeof(root), "/tmp/synod-wal-bench-XXXXXX");
        if (mkdtemp(root) == NULL) {
            perror("wal_bench: mkdtemp");
            return 1;
        }
    } else {
        snprintf(root, sizeof(root), "%s", argv[1]);
        mkdir(root, 0700);
    }
    double seconds = argc >= 3 ? atof(argv[2]) : 3.0;
    struct statfs sfs;
    if (statfs(root, &sfs) != 0) {
        fprintf(stderr, "wal_bench: statfs %s: %s\n", root, strerror(errno));
        return 1;
    }
    const char *fs = fs_name((long)sfs.f_type);
    printf("wal_bench: %s on %s (f_type 0x%lx), %u-byte entries, persist + fdatasync per Ready, "
           "%.1f s per batch size\n",
           root, fs, (unsigned long)sfs.f_type, ENTRY_SIZE, seconds);
    if (strcmp(fs, "tmpfs") == 0 || strcmp(fs, "ramfs") == 0) {
        printf("wal_bench: WARNING: %s keeps files in memory and fsync is free: these figures "
               "say nothing about a disk. Give a directory on a real disk, e.g. "
               "wal_bench /var/tmp/wal-bench or /work/wal-bench\n",
               fs);
    }
    printf("batch  entries/s     syncs/s    MB/s   p50 us   p99 us   max us  segments\n");
    double *latency = malloc(SAMPLES_MAX * sizeof(*latency));
    int failed = latency == NULL;
    uint32_t batches[] = {1, 16, 256};
    for (size_t i = 0; i < sizeof(batches) / sizeof(batches[0]) && !failed; i++) {
        failed = bench_batch(root, batches[i], seconds, latency);
    }
    free(latency);
    if (made) {
        remove_dir(root);
    }
    return failed;
}
