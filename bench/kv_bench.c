/* kv_bench.c: the LMDB state machine's own cost (src/kv), on the real file system:
 *   apply   SET entries with 128-byte values and distinct keys, applied in batches of 1,
 *           64 and 1024 entries per LMDB transaction (commands encoded beforehand, outside
 *           the timed part, as the proposer encodes them), entries/s; with the default
 *           options and with write_map (MDB_WRITEMAP);
 *   rss     VmRSS (and its anonymous and file-backed parts) before and after loading
 *           100,000 such keys: LMDB's pages are a file mapping, so they count as RssFile;
 *   get     kv_get of random loaded keys (value copied out), gets/s;
 *   open    a store of 1,000,000 keys: kv_open plus the first kv_get, once with the data
 *           file evicted from the page cache (posix_fadvise DONTNEED) and once warm; and
 *           the compact snapshot of it (kv_snapshot_write), its size and time.
 *
 *     kv_bench [--quick] [--dir DIR]     (DIR: where stores go; default a new /tmp dir)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/prng.h"
#include "kv/kv_store.h"

#define BENCH_VALUE_SIZE 128u
#define BENCH_BATCH_MAX 1024u
#define BENCH_NOW_MS 1700000000000ull

struct bench_options {
    uint32_t apply_entries; /* per batch size */
    uint32_t rss_keys;
    uint32_t gets;
    uint32_t open_keys;
    char dir[256];
    bool own_dir; /* created here: removed at the end */
};

struct bench_store {
    struct kv_store *kv;
    char dir[320];
    uint64_t index; /* of the last entry applied */
};

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int rc, const char *detail)
{
    fprintf(stderr, "kv_bench: %s: %s (%s)\n", what, syn_strerror(rc), detail);
    exit(1);
}

static void remove_store(const char *dir)
{
    const char *names[] = {"data.mdb", "lock.mdb", "owner.lock", "unsynced", "snap"};
    char path[400];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

static void store_open(struct bench_store *s, const struct bench_options *o, const char *name,
                       bool write_map)
{
    snprintf(s->dir, sizeof(s->dir), "%s/%s", o->dir, name);
    char errmsg[KV_ERRMSG_SIZE];
    struct kv_options opts = {.write_map = write_map};
    int rc = kv_open(s->dir, &opts, &s->kv, errmsg);
    if (rc != 0) {
        die("open", rc, errmsg);
    }
    s->index = kv_applied_index(s->kv);
}

static void store_close(struct bench_store *s)
{
    int rc = kv_close(s->kv);
    if (rc != 0) {
        die("close", rc, s->dir);
    }
    s->kv = NULL;
}

static void key_of(uint32_t i, char key[32])
{
    snprintf(key, 32, "key:%010u", i);
}

/* Applies SETs of keys [first, first + count) in batches of batch entries; returns the
 * seconds spent in kv_apply_begin .. kv_apply_commit. */
static double load(struct bench_store *s, uint32_t first, uint32_t count, uint32_t batch)
{
    static struct raft_entry entries[BENCH_BATCH_MAX];
    static size_t offsets[BENCH_BATCH_MAX + 1];
    uint8_t value[BENCH_VALUE_SIZE];
    memset(value, 'v', sizeof(value));
    struct syn_buf arena;
    syn_buf_init(&arena, 0);
    double spent = 0;
    for (uint32_t done = 0; done < count;) {
        uint32_t n = count - done < batch ? count - done : batch;
        syn_buf_reset(&arena);
        for (uint32_t i = 0; i < n; i++) {
            char key[32];
            key_of(first + done + i, key);
            struct kv_cmd c = {.now_ms = BENCH_NOW_MS,
                               .key = {.data = (const uint8_t *)key, .size = strlen(key)},
                               .value = {.data = value, .size = sizeof(value)}};
            offsets[i] = arena.len;
            if (kv_cmd_encode_set(&arena, &c) != 0) {
                die("encode", SYN_ENOMEM, "SET");
            }
            offsets[i + 1] = arena.len;
        }
        for (uint32_t i = 0; i < n; i++) {
            entries[i] = (struct raft_entry){.term = 1,
                                             .index = ++s->index,
                                             .type = RAFT_ENTRY_NORMAL,
                                             .data = arena.data + offsets[i],
                                             .data_size = (uint32_t)(offsets[i + 1] - offsets[i])};
        }
        double start = now_sec();
        int rc = kv_apply_begin(s->kv);
        for (uint32_t i = 0; rc == 0 && i < n; i++) {
            rc = kv_apply(s->kv, &entries[i], NULL);
        }
        rc = rc == 0 ? kv_apply_commit(s->kv) : rc;
        spent += now_sec() - start;
        if (rc != 0) {
            die("apply", rc, kv_errmsg(s->kv));
        }
        done += n;
    }
    syn_buf_free(&arena);
    return spent;
}

/* VmRSS, RssAnon and RssFile from /proc/self/status, kB (0 when absent). */
static void rss_kb(uint64_t out[3])
{
    const char *names[3] = {"VmRSS:", "RssAnon:", "RssFile:"};
    out[0] = out[1] = out[2] = 0;
    FILE *in = fopen("/proc/self/status", "r");
    char line[256];
    while (in != NULL && fgets(line, sizeof(line), in) != NULL) {
        for (int i = 0; i < 3; i++) {
            if (strncmp(line, names[i], strlen(names[i])) == 0) {
                out[i] = strtoull(line + strlen(names[i]), NULL, 10);
            }
        }
    }
    if (in != NULL) {
        fclose(in);
    }
}

static void bench_apply(const struct bench_options *o)
{
    const uint32_t batches[3] = {1, 64, 1024};
    printf("apply: SET, %u-byte values, distinct keys, %u entries per run\n", BENCH_VALUE_SIZE,
           o->apply_entries);
    for (int write_map = 0; write_map < 2; write_map++) {
        for (int b = 0; b < 3; b++) {
            struct bench_store s;
            char name[32];
            snprintf(name, sizeof(name), "apply-%u", batches[b]);
            store_open(&s, o, name, write_map);
            double secs = load(&s, 0, o->apply_entries, batches[b]);
            printf("  %-9s batch %4u entries/txn: %10.0f entries/s  (%.2f us/entry)\n",
                   write_map ? "write_map" : "default", batches[b], o->apply_entries / secs,
                   secs * 1e6 / o->apply_entries);
            store_close(&s);
            remove_store(s.dir);
        }
    }
}

static void bench_rss_and_get(const struct bench_options *o)
{
    uint64_t before[3], after[3];
    rss_kb(before);
    struct bench_store s;
    store_open(&s, o, "rss", false);
    load(&s, 0, o->rss_keys, BENCH_BATCH_MAX);
    rss_kb(after);
    printf("rss: %u keys of %u bytes: VmRSS %llu kB -> %llu kB (anon %llu -> %llu kB, "
           "file-backed %llu -> %llu kB)\n",
           o->rss_keys, BENCH_VALUE_SIZE, (unsigned long long)before[0],
           (unsigned long long)after[0], (unsigned long long)before[1],
           (unsigned long long)after[1], (unsigned long long)before[2],
           (unsigned long long)after[2]);
    struct prng rng;
    prng_init(&rng, 1);
    struct syn_buf value;
    syn_buf_init(&value, 0);
    double start = now_sec();
    for (uint32_t i = 0; i < o->gets; i++) {
        char key[32];
        key_of((uint32_t)prng_range(&rng, 0, o->rss_keys - 1), key);
        struct kv_bytes k = {.data = (const uint8_t *)key, .size = strlen(key)};
        int rc = kv_get(s.kv, k, BENCH_NOW_MS, &value);
        if (rc != 0 || value.len != BENCH_VALUE_SIZE) {
            die("get", rc, key);
        }
    }
    double secs = now_sec() - start;
    printf("get: %u random hits over %u keys: %10.0f gets/s  (%.2f us/get)\n", o->gets, o->rss_keys,
           o->gets / secs, secs * 1e6 / o->gets);
    syn_buf_free(&value);
    store_close(&s);
    remove_store(s.dir);
}

/* Evicts the data file from the page cache, so the next open reads the disk. */
static void evict(const char *dir)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    int fd = open(path, O_RDONLY);
    if (fd >= 0) {
        fdatasync(fd);
        posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        close(fd);
    }
}

static double open_and_read(struct bench_store *s, const struct bench_options *o)
{
    struct syn_buf value;
    syn_buf_init(&value, 0);
    char key[32];
    key_of(o->open_keys / 2, key);
    double start = now_sec();
    store_open(s, o, "open", false);
    int rc = kv_get(s->kv, (struct kv_bytes){.data = (const uint8_t *)key, .size = strlen(key)},
                    BENCH_NOW_MS, &value);
    double secs = now_sec() - start;
    if (rc != 0) {
        die("first get", rc, key);
    }
    syn_buf_free(&value);
    return secs;
}

static void bench_open(const struct bench_options *o)
{
    struct bench_store s;
    store_open(&s, o, "open", false);
    double load_secs = load(&s, 0, o->open_keys, BENCH_BATCH_MAX);
    store_close(&s);
    char path[400];
    struct stat st;
    snprintf(path, sizeof(path), "%s/data.mdb", s.dir);
    stat(path, &st);
    printf("open: %u keys loaded in %.2f s (batches of %u); data.mdb %.1f MiB on disk\n",
           o->open_keys, load_secs, BENCH_BATCH_MAX, (double)st.st_blocks * 512 / (1 << 20));
    evict(s.dir);
    double cold = open_and_read(&s, o);
    store_close(&s);
    double warm = open_and_read(&s, o);
    printf("  kv_open + first kv_get: %.2f ms with the file evicted, %.2f ms warm\n", cold * 1e3,
           warm * 1e3);
    snprintf(path, sizeof(path), "%s/snap", s.dir);
    uint64_t size = 0;
    double start = now_sec();
    int rc = kv_snapshot_write(s.kv, path, &size);
    if (rc != 0) {
        die("snapshot", rc, kv_errmsg(s.kv));
    }
    printf("  kv_snapshot_write (compact copy + fsync): %.1f MiB in %.2f s\n",
           (double)size / (1 << 20), now_sec() - start);
    store_close(&s);
    remove_store(s.dir);
}

static int parse_options(int argc, char **argv, struct bench_options *o)
{
    *o = (struct bench_options){
        .apply_entries = 200000, .rss_keys = 100000, .gets = 1000000, .open_keys = 1000000};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            o->apply_entries = 2000;
            o->rss_keys = 2000;
            o->gets = 10000;
            o->open_keys = 10000;
        } else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
            snprintf(o->dir, sizeof(o->dir), "%s", argv[++i]);
        } else {
            fprintf(stderr, "usage: kv_bench [--quick] [--dir DIR]\n");
            return -1;
        }
    }
    if (o->dir[0] == '\0') {
        snprintf(o->dir, sizeof(o->dir), "/tmp/synod-kv-bench-XXXXXX");
        if (mkdtemp(o->dir) == NULL) {
            perror("kv_bench: mkdtemp");
            return -1;
        }
        o->own_dir = true;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct bench_options o;
    if (parse_options(argc, argv, &o) != 0) {
        return 2;
    }
    bench_rss_and_get(&o); /* first, so that the RSS baseline is the bare process */
    bench_apply(&o);
    bench_open(&o);
    if (o.own_dir) {
        rmdir(o.dir);
    }
    return 0;
}
