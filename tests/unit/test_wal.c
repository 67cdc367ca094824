/* test_wal.c: the write-ahead log. The record codec; persist, sync and recover round trips;
 * segments and compaction; snapshots saved, received in chunks and installed; and the WAL
 * broken on purpose (STYLE 15): torn tails, corruption in the middle, missing and misnamed
 * segments, short writes, a full disk, failed fsyncs, every write and sync failing in turn,
 * and crashes at random points. `test_wal --enospc DIR [--no-preallocate]` runs the real
 * full-disk check of tests/storage/wal_enospc.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/crc32c.h"
#include "base/err.h"
#include "base/prng.h"
#include "harness/wal_fault_fs.h"
#include "raft/raft.h"
#include "wal/wal.h"
#include "wal/wal_record.h"

/* ---- files ----------------------------------------------------------------------------- */

static char *dir_make(void)
{
    char tmpl[] = "/tmp/synod-wal-XXXXXX";
    char *dir = mkdtemp(tmpl);
    assert_non_null(dir);
    return strdup(dir);
}

static void dir_remove(char *dir)
{
    DIR *d = opendir(dir);
    if (d != NULL) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            char path[1024];
            int n = snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
            if (de->d_name[0] != '.' && n > 0 && (size_t)n < sizeof(path)) {
                unlink(path);
            }
        }
        closedir(d);
    }
    rmdir(dir);
    free(dir);
}

/* The nth (0-based, in sorted order) file in dir whose name ends with suffix; false when
 * there is none. */
static bool file_find(const char *dir, const char *suffix, unsigned nth, char *name, size_t size)
{
    struct dirent **list;
    int n = scandir(dir, &list, NULL, alphasort);
    assert_true(n >= 0);
    bool found = false;
    unsigned seen = 0;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(list[i]->d_name);
        size_t slen = strlen(suffix);
        if (!found && len >= slen && strcmp(list[i]->d_name + len - slen, suffix) == 0 &&
            seen++ == nth) {
            snprintf(name, size, "%s", list[i]->d_name);
            found = true;
        }
        free(list[i]);
    }
    free(list);
    return found;
}

static unsigned file_count(const char *dir, const char *suffix)
{
    char name[256];
    unsigned n = 0;
    while (file_find(dir, suffix, n, name, sizeof(name))) {
        n++;
    }
    return n;
}

static void path_of(const char *dir, const char *name, char *path)
{
    int n = snprintf(path, 1024, "%s/%s", dir, name);
    assert_true(n > 0 && n < 1024);
}

static uint64_t file_size(const char *dir, const char *name)
{
    char path[1024];
    path_of(dir, name, path);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (uint64_t)st.st_size;
}

static void file_poke(const char *dir, const char *name, uint64_t offset, const void *data,
                      size_t size)
{
    char path[1024];
    path_of(dir, name, path);
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, data, size, (off_t)offset), (ssize_t)size);
    close(fd);
}

static uint8_t file_peek(const char *dir, const char *name, uint64_t offset)
{
    char path[1024];
    path_of(dir, name, path);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    uint8_t b = 0;
    assert_int_equal(pread(fd, &b, 1, (off_t)offset), 1);
    close(fd);
    return b;
}

static void file_flip(const char *dir, const char *name, uint64_t offset)
{
    uint8_t b = file_peek(dir, name, offset) ^ 0x40;
    file_poke(dir, name, offset, &b, 1);
}

static void file_truncate(const char *dir, const char *name, uint64_t size)
{
    char path[1024];
    path_of(dir, name, path);
    assert_int_equal(truncate(path, (off_t)size), 0);
}

static uint32_t file_crc(const char *dir, const char *name)
{
    char path[1024];
    path_of(dir, name, path);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t buf[4096];
    uint32_t c = 0;
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
        c = crc32c(c, buf, n);
    }
    fclose(f);
    return c;
}

/* ---- entries, Readies and the model ---------------------------------------------------- */

#define ENTRY_DATA_MAX 64u
#define TR_ENTRIES_MAX 64u
#define MODEL_MAX 2048u

/* An entry's bytes follow from its index and term, so that any copy can be checked. */
static uint32_t entry_fill(uint64_t index, uint64_t term, uint8_t *buf)
{
    uint32_t size = (uint32_t)((index * 7 + term * 3) % (ENTRY_DATA_MAX + 1));
    for (uint32_t j = 0; j < size; j++) {
        buf[j] = (uint8_t)(index * 31 + term * 17 + j);
    }
    return size;
}

struct test_ready {
    struct raft_ready rd;
    struct raft_entry entries[TR_ENTRIES_MAX];
    uint8_t data[TR_ENTRIES_MAX][ENTRY_DATA_MAX];
};

static void tr_entries(struct test_ready *t, uint64_t first, uint32_t count, uint64_t term)
{
    assert_true(count <= TR_ENTRIES_MAX);
    for (uint32_t i = 0; i < count; i++) {
        uint64_t index = first + i;
        uint32_t size = entry_fill(index, term, t->data[i]);
        t->entries[i] = (struct raft_entry){.term = term,
                                            .index = index,
                                            .type = RAFT_ENTRY_NORMAL,
                                            .data_size = size,
                                            .data = size > 0 ? t->data[i] : NULL};
    }
    t->rd.entries = t->entries;
    t->rd.entry_count = count;
}

static void tr_hard_state(struct test_ready *t, uint64_t term, uint64_t vote, uint64_t commit)
{
    t->rd.hard_state_changed = true;
    t->rd.hard_state = (struct raft_hard_state){.term = term, .vote = vote, .commit = commit};
}

static struct raft_conf conf_one(void)
{
    struct raft_conf conf = {.member_count = 1};
    conf.members[0] = (struct raft_member){.id = 1, .role = RAFT_VOTER, .addr_size = 9};
    memcpy(conf.members[0].addr, "127.0.0.1", 9);
    return conf;
}

/* What a correct WAL holds after some Readies. */
struct model {
    struct raft_hard_state hs;
    uint64_t snap_index;
    uint64_t snap_term;
    uint64_t snap_size;
    uint64_t last;
    uint64_t terms[MODEL_MAX + 1];
};

static void model_apply(struct model *m, const struct raft_ready *rd)
{
    if (rd->snapshot_install) {
        m->snap_index = rd->snapshot.index;
        m->snap_term = rd->snapshot.term;
        m->snap_size = rd->snapshot.size;
        m->last = rd->snapshot.index;
    }
    for (uint32_t i = 0; i < rd->entry_count; i++) {
        const struct raft_entry *e = &rd->entries[i];
        assert_true(e->index <= m->last + 1 && e->index <= MODEL_MAX);
        m->terms[e->index] = e->term;
        m->last = e->index;
    }
    if (rd->hard_state_changed) {
        m->hs = rd->hard_state;
    }
}

static bool model_matches(const struct model *m, const struct wal_recovery *rec, char *why,
                          size_t size)
{
    const struct raft_hard_state *hs = &rec->hard_state;
    if (hs->term != m->hs.term || hs->vote != m->hs.vote || hs->commit != m->hs.commit) {
        snprintf(why, size, "hard state %llu/%llu/%llu, expected %llu/%llu/%llu",
                 (unsigned long long)hs->term, (unsigned long long)hs->vote,
                 (unsigned long long)hs->commit, (unsigned long long)m->hs.term,
                 (unsigned long long)m->hs.vote, (unsigned long long)m->hs.commit);
        return false;
    }
    if (rec->snapshot.index != m->snap_index || rec->snapshot.term != m->snap_term) {
        snprintf(why, size, "snapshot %llu, expected %llu", (unsigned long long)rec->snapshot.index,
                 (unsigned long long)m->snap_index);
        return false;
    }
    if (rec->entry_count != m->last - m->snap_index) {
        snprintf(why, size, "%u entries, expected %llu", rec->entry_count,
                 (unsigned long long)(m->last - m->snap_index));
        return false;
    }
    for (uint32_t i = 0; i < rec->entry_count; i++) {
        const struct raft_entry *e = &rec->entries[i];
        uint8_t buf[ENTRY_DATA_MAX];
        uint64_t index = m->snap_index + 1 + i;
        uint32_t n = entry_fill(index, m->terms[index], buf);
        if (e->index != index || e->term != m->terms[index] || e->data_size != n ||
            (n > 0 && memcmp(e->data, buf, n) != 0) || e->type != RAFT_ENTRY_NORMAL) {
            snprintf(why, size, "entry %llu differs (term %llu, expected %llu)",
                     (unsigned long long)index, (unsigned long long)e->term,
                     (unsigned long long)m->terms[index]);
            return false;
        }
    }
    return true;
}

static void model_assert(const struct model *m, const struct wal_recovery *rec)
{
    char why[256];
    if (!model_matches(m, rec, why, sizeof(why))) {
        fail_msg("recovered state differs from the model: %s", why);
    }
}

/* A random Ready over model m: appends, a conflicting tail, or a hard state change. */
static void gen_ready(struct prng *rng, const struct model *m, struct test_ready *t)
{
    memset(&t->rd, 0, sizeof(t->rd));
    struct raft_hard_state hs = m->hs;
    if (hs.term == 0) {
        hs.term = 1;
    }
    uint64_t floor = hs.commit > m->snap_index ? hs.commit : m->snap_index;
    uint64_t kind = prng_range(rng, 0, 9);
    if (kind <= 6 || (kind <= 8 && m->last <= floor)) {
        tr_entries(t, m->last + 1, (uint32_t)prng_range(rng, 1, 8), hs.term);
    } else if (kind <= 8) {
        hs.term++;
        hs.vote = prng_range(rng, 1, 3);
        uint64_t from = prng_range(rng, floor + 1, m->last);
        tr_entries(t, from, (uint32_t)prng_range(rng, 1, 4), hs.term);
    }
    uint64_t last = t->rd.entry_count > 0 ? t->entries[t->rd.entry_count - 1].index : m->last;
    if (prng_chance(rng, 500000) && last > hs.commit) {
        hs.commit = prng_range(rng, hs.commit, last);
    }
    if (hs.term != m->hs.term || hs.vote != m->hs.vote || hs.commit != m->hs.commit) {
        tr_hard_state(t, hs.term, hs.vote, hs.commit);
    } else if (t->rd.entry_count == 0) {
        tr_hard_state(t, hs.term, hs.vote + 1, hs.commit);
    }
}

/* ---- opening --------------------------------------------------------------------------- */

#define SEGMENT_TINY SYN_WAL_SEGMENT_SIZE_MIN /* rolls every few Readies */
#define SEGMENT_SMALL (1u << 20) /* recovery reads the open segment whole: keep reopens cheap */

static struct wal *wal_must_open(const char *dir, const struct wal_options *opts,
                                 struct wal_recovery *rec)
{
    struct wal *w = NULL;
    int rc = wal_open(dir, opts, &w, rec);
    if (rc != 0) {
        fail_msg("wal_open: %s: %s", syn_errname(rc), rec->errmsg);
    }
    assert_non_null(w);
    return w;
}

static void must(struct wal *w, int rc)
{
    if (rc != 0) {
        fail_msg("%s: %s", syn_errname(rc), wal_errmsg(w));
    }
}

/* Persists t, applies it to m and, if sync, syncs. */
static void step(struct wal *w, struct test_ready *t, struct model *m, bool sync)
{
    must(w, wal_persist(w, &t->rd));
    model_apply(m, &t->rd);
    if (sync) {
        must(w, wal_sync(w));
    }
}

/* Reopens dir and checks it against m. */
static void reopen_check(const char *dir, const struct wal_options *opts, const struct model *m)
{
    struct wal_recovery rec;
    struct wal *w = wal_must_open(dir, opts, &rec);
    model_assert(m, &rec);
    wal_recovery_free(&rec);
    wal_close(w);
}

/* A test's WAL: a fresh directory, the WAL open on it, and the model of what it holds. */
struct fixture {
    char *dir;
    struct wal_options opts;
    struct wal *w;
    struct model *m;
};

static void fx_open(struct fixture *f, uint32_t segment_size)
{
    *f = (struct fixture){.dir = dir_make(), .opts = {.segment_size = segment_size}};
    struct wal_recovery rec;
    f->w = wal_must_open(f->dir, &f->opts, &rec);
    assert_true(rec.fresh);
    wal_recovery_free(&rec);
    f->m = calloc(1, sizeof(*f->m));
    assert_non_null(f->m);
}

/* Closes and reopens the WAL; returns the recovery (free it). */
static void fx_reopen(struct fixture *f, struct wal_recovery *rec)
{
    wal_close(f->w);
    f->w = wal_must_open(f->dir, &f->opts, rec);
}

/* Closes the WAL if open and removes everything. */
static void fx_free(struct fixture *f)
{
    wal_close(f->w);
    free(f->m);
    dir_remove(f->dir);
}

/* The usual end of a test: close, reopen and compare with the model, clean up. */
static void fx_done(struct fixture *f)
{
    wal_close(f->w);
    f->w = NULL;
    reopen_check(f->dir, &f->opts, f->m);
    fx_free(f);
}

/* Persists one Ready: count entries from first in term, and hs unless NULL. */
static void put(struct fixture *f, uint64_t first, uint32_t count, uint64_t term,
                const struct raft_hard_state *hs, bool sync)
{
    struct test_ready t;
    memset(&t, 0, sizeof(t));
    tr_entries(&t, first, count, term);
    if (hs != NULL) {
        tr_hard_state(&t, hs->term, hs->vote, hs->commit);
    }
    step(f->w, &t, f->m, sync);
}

#define HS(term, vote, commit) (&(struct raft_hard_state){(term), (vote), (commit)})

/* n synced Readies of 8 entries each in the current term, commit trailing by one Ready. */
static void fill(struct fixture *f, int n)
{
    for (int i = 0; i < n; i++) {
        uint64_t term = f->m->hs.term > 0 ? f->m->hs.term : 1;
        put(f, f->m->last + 1, 8, term, HS(term, 1, f->m->last), true);
    }
}

/* ---- the record codec ------------------------------------------------------------------ */

static void test_record_log_roundtrip(void **state)
{
    (void)state;
    struct test_ready t;
    memset(&t, 0, sizeof(t));
    tr_entries(&t, 41, 7, 3);
    struct raft_hard_state hs = {.term = 3, .vote = 2, .commit = 40};
    struct syn_buf b;
    syn_buf_init(&b, 0);
    size_t start, count_at;
    assert_int_equal(wal_record_begin(&b, &start), 0);
    assert_int_equal(wal_log_begin(&b, &hs, 41, &count_at), 0);
    for (uint32_t i = 0; i < 7; i++) {
        assert_int_equal(wal_log_append_entry(&b, &t.entries[i]), 0);
    }
    wal_log_set_count(&b, count_at, 7);
    assert_int_equal(wal_record_end(&b, start, WAL_RECORD_LOG, 4096), 0);
    assert_int_equal(b.len % WAL_RECORD_ALIGN, 0);

    struct wal_record rec;
    const char *why = NULL;
    assert_int_equal(wal_record_decode(b.data, b.len, &rec, &why), 0);
    assert_int_equal(rec.type, WAL_RECORD_LOG);
    assert_int_equal(rec.synced, 4096);
    assert_int_equal(rec.size, b.len);
    struct wal_log_record log;
    assert_int_equal(wal_log_decode(rec.payload, rec.payload_size, &log, &why), 0);
    assert_true(log.has_hard_state);
    assert_int_equal(log.hard_state.vote, 2);
    assert_int_equal(log.entry_count, 7);
    struct wal_log_iter it;
    wal_log_iter_init(&it, &log);
    struct raft_entry e;
    uint32_t n = 0;
    while (wal_log_iter_next(&it, &e)) {
        assert_int_equal(e.index, 41 + n);
        assert_int_equal(e.term, 3);
        assert_int_equal(e.data_size, t.entries[n].data_size);
        assert_memory_equal(e.data, t.entries[n].data, e.data_size);
        n++;
    }
    assert_int_equal(n, 7);

    /* Every single flipped bit is caught; every cut is caught. */
    for (size_t i = 0; i < b.len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            b.data[i] ^= (uint8_t)(1u << bit);
            assert_int_not_equal(wal_record_decode(b.data, b.len, &rec, &why), 0);
            b.data[i] ^= (uint8_t)(1u << bit);
        }
    }
    for (size_t cut = 0; cut < b.len; cut++) {
        assert_int_equal(wal_record_decode(b.data, cut, &rec, &why), SYN_ECORRUPT);
    }
    uint8_t zeros[64] = {0};
    assert_int_equal(wal_record_decode(zeros, sizeof(zeros), &rec, &why), SYN_ECORRUPT);
    assert_string_equal(why, "zeroed header (unwritten space)");
    syn_buf_free(&b);
}

/* A record whose checksum is right but whose payload is not: the payload decoders refuse. */
static void test_record_payload_rejects(void **state)
{
    (void)state;
    const char *why = NULL;
    struct wal_log_record log;
    uint8_t p[64] = {0};
    assert_int_equal(wal_log_decode(p, 8, &log, &why), SYN_ECORRUPT);   /* too short */
    assert_int_equal(wal_log_decode(p, 16, &log, &why), SYN_ECORRUPT);  /* nothing in it */
    syn_put_u32le(p, 0x2);                                              /* unknown flag */
    assert_int_equal(wal_log_decode(p, 40, &log, &why), SYN_ECORRUPT);
    syn_put_u32le(p, 0);
    syn_put_u32le(p + 4, 1); /* one entry at index 5 of term 0 */
    syn_put_u64le(p + 8, 5);
    assert_int_equal(wal_log_decode(p, 32, &log, &why), SYN_ECORRUPT);
    syn_put_u64le(p + 16, 1); /* term 1, type 1, 9 data bytes but only 8 there */
    syn_put_u32le(p + 24, RAFT_ENTRY_NORMAL);
    syn_put_u32le(p + 28, 9);
    assert_int_equal(wal_log_decode(p, 40, &log, &why), SYN_ECORRUPT);
    syn_put_u32le(p + 28, 8);
    assert_int_equal(wal_log_decode(p, 40, &log, &why), 0);
    assert_int_equal(wal_log_decode(p, 41, &log, &why), SYN_ECORRUPT); /* trailing byte */

    struct wal_segment_header h = {.seq = 3, .first_index = 17, .prev_size = 4096,
                                   .hard_state = {5, 1, 16}};
    struct syn_buf b;
    syn_buf_init(&b, 0);
    assert_int_equal(wal_segment_header_encode(&b, &h), 0);
    assert_int_equal(b.len, WAL_SEGMENT_PAYLOAD_SIZE);
    struct wal_segment_header back;
    assert_int_equal(wal_segment_header_decode(b.data, b.len, &back, &why), 0);
    assert_memory_equal(&back, &h, sizeof(h));
    b.data[0] ^= 1; /* the magic */
    assert_int_equal(wal_segment_header_decode(b.data, b.len, &back, &why), SYN_ECORRUPT);
    syn_buf_reset(&b);

    struct wal_snapshot_file f = {
        .meta = {.index = 90, .term = 4, .size = 12345, .conf = conf_one()},
        .body_crc = 0xdeadbeef,
        .flags = WAL_SNAPSHOT_INSTALLED,
        .log_seq = 7,
        .hard_state = {4, 1, 90},
    };
    assert_int_equal(wal_snapshot_file_encode(&b, &f), 0);
    struct wal_snapshot_file g;
    assert_int_equal(wal_snapshot_file_decode(b.data, b.len, &g, &why), 0);
    assert_int_equal(g.meta.index, 90);
    assert_int_equal(g.meta.size, 12345);
    assert_int_equal(g.body_crc, 0xdeadbeef);
    assert_int_equal(g.log_seq, 7);
    assert_int_equal(g.flags, WAL_SNAPSHOT_INSTALLED);
    assert_int_equal(g.meta.conf.member_count, 1);
    assert_memory_equal(g.meta.conf.members[0].addr, "127.0.0.1", 9);
    assert_int_equal(wal_snapshot_file_decode(b.data, b.len - 1, &g, &why), SYN_ECORRUPT);
    syn_buf_free(&b);
}

/* ---- round trips ----------------------------------------------------------------------- */

static void test_fresh_directory(void **state)
{
    (void)state;
    char *dir = dir_make();
    char sub[1024];
    int n = snprintf(sub, sizeof(sub), "%s/wal", dir); /* created by wal_open */
    assert_true(n > 0 && (size_t)n < sizeof(sub));
    struct wal_recovery rec;
    struct wal *w = wal_must_open(sub, NULL, &rec);
    assert_true(rec.fresh);
    assert_int_equal(rec.entry_count, 0);
    assert_int_equal(rec.snapshot.index, 0);
    assert_int_equal(rec.hard_state.term, 0);
    assert_int_equal(file_count(sub, ".log"), 1);
    assert_null(wal_snapshot_path(w));
    wal_close(w);
    w = wal_must_open(sub, NULL, &rec);
    assert_false(rec.fresh);
    assert_false(rec.repaired);
    assert_string_equal(rec.note, "");
    wal_close(w);
    char path[1024];
    path_of(sub, "LOCK", path);
    unlink(path);
    char name[256];
    assert_true(file_find(sub, ".log", 0, name, sizeof(name)));
    path_of(sub, name, path);
    unlink(path);
    rmdir(sub);
    dir_remove(dir);
}

static void test_persist_recover(void **state)
{
    (void)state;
    struct fixture f;
    fx_open(&f, 0); /* the default 64 MiB segments */
    put(&f, 1, 0, 1, HS(1, 1, 0), true);
    for (uint32_t i = 0; i < 20; i++) {
        uint64_t last = f.m->last;
        /* several Readies share one sync */
        put(&f, last + 1, i % 5 + 1, 1, i % 3 == 0 ? HS(1, 1, last) : NULL, i % 4 == 3);
    }
    must(f.w, wal_sync(f.w));
    struct wal_status st;
    wal_status(f.w, &st);
    assert_int_equal(st.last_index, f.m->last);
    assert_int_equal(st.segment_synced, st.segment_offset);

    struct wal_recovery rec;
    fx_reopen(&f, &rec);
    model_assert(f.m, &rec);
    /* What wal_open recovers is what raft_create accepts. */
    struct raft_restore restore;
    wal_recovery_restore(&rec, &restore);
    struct raft_config config;
    raft_config_default(&config, 1);
    char msg[128];
    assert_int_equal(raft_validate(&config, &restore, msg, sizeof(msg)), 0);
    wal_recovery_free(&rec);
    put(&f, f.m->last + 1, 3, 1, NULL, true); /* writing goes on where the log ends */
    fx_done(&f);
}

/* Entries from an index at or below the last drop the stored ones from it on (thesis 3.5),
 * also when the dropped entries lie in earlier segments. */
static void test_conflicting_tail(void **state)
{
    (void)state;
    struct fixture f;
    fx_open(&f, SEGMENT_TINY);
    for (int i = 0; i < 30; i++) {
        put(&f, f.m->last + 1, 10, 1, HS(1, 1, 5), true);
    }
    assert_true(file_count(f.dir, ".log") > 2);
    put(&f, 30, 4, 2, HS(2, 3, 5), true); /* back into the first segment */
    assert_int_equal(f.m->last, 33);
    put(&f, 34, 2, 2, NULL, true);
    fx_done(&f);
}

/* One Ready is one write; a group of Readies shares one fdatasync. */
static void test_group_commit(void **state)
{
    (void)state;
    struct fixture f;
    fx_open(&f, 0);
    struct wal_status before, after;
    wal_status(f.w, &before);
    for (int i = 0; i < 16; i++) {
        put(&f, f.m->last + 1, 16, 1, HS(1, 1, f.m->last), false);
    }
    must(f.w, wal_sync(f.w));
    wal_status(f.w, &after);
    assert_int_equal(after.writes - before.writes, 16);
    assert_int_equal(after.syncs - before.syncs, 1);
    must(f.w, wal_sync(f.w)); /* nothing new: no system call */
    wal_status(f.w, &before);
    assert_int_equal(before.syncs, after.syncs);
    fx_done(&f);
}

/* A Ready larger than a record splits into several, hard state first. */
static void test_large_ready(void **state)
{
    (void)state;
    struct fixture f;
    fx_open(&f, SEGMENT_TINY);
    enum { COUNT = 10 };
    static uint8_t big[COUNT][SYN_ENTRY_SIZE_MAX];
    struct raft_entry entries[COUNT];
    for (uint32_t i = 0; i < COUNT; i++) {
        memset(big[i], (int)(i + 1), sizeof(big[i]));
        entries[i] = (struct raft_entry){.term = 1, .index = i + 1, .type = RAFT_ENTRY_NORMAL,
                                         .data_size = SYN_ENTRY_SIZE_MAX, .data = big[i]};
    }
    struct raft_ready rd = {.entries = entries, .entry_count = COUNT, .hard_state_changed = true,
                            .hard_state = {1, 1, 0}};
    must(f.w, wal_persist(f.w, &rd));
    must(f.w, wal_sync(f.w));
    struct wal_status st;
    wal_status(f.w, &st);
    assert_true(st.segment_count >= 2); /* split records let the segment roll in between */
    struct wal_recovery rec;
    fx_reopen(&f, &rec);
    assert_int_equal(rec.entry_count, COUNT);
    for (uint32_t i = 0; i < COUNT; i++) {
        assert_int_equal(rec.entries[i].data_size, SYN_ENTRY_SIZE_MAX);
        assert_memory_equal(rec.entries[i].data, big[i], SYN_ENTRY_SIZE_MAX);
    }
    wal_recovery_free(&rec);
    fx_free(&f);
}

/* Bad input from the shell is refused before anything is written, and the WAL goes on. */
static void test_bad_ready(void **state)
{
    (void)state;
    struct fixture f;
    fx_open(&f, SEGMENT_SMALL);
    put(&f, 1, 5, 2, HS(2, 1, 0), true);
    struct test_ready t;
    memset(&t, 0, sizeof(t));
    tr_entries(&t, 8, 1, 2); /* a gap */
    assert_int_equal(wal_persist(f.w, &t.rd), SYN_EINVAL);
    assert_non_null(strstr(wal_errmsg(f.w), "entries start at 8 but the log ends at 5"));
    memset(&t, 0, sizeof(t));
    tr_hard_state(&t, 1, 1, 0); /* the term goes back */
    assert_int_equal(wal_persist(f.w, &t.rd), SYN_EINVAL);
    memset(&t, 0, sizeof(t));
    tr_entries(&t, 6, 2, 2);
    t.entries[1].index = 9; /* not consecutive */
    assert_int_equal(wal_persist(f.w, &t.rd), SYN_EINVAL);
    memset(&t, 0, sizeof(t));
    t.rd.snapshot_chunk = true; /* a hole in the partial snapshot */
    t.rd.snapshot_offset = 100;
    assert_int_equal(wal_persist(f.w, &t.rd), SYN_EINVAL);
    assert_int_equal(wal_compact(f.w, 3), SYN_EINVAL); /* past the snapshot (none) */
    put(&f, 6, 2, 2, NULL, true);
    fx_done(&f);
}

static void test_options_and_lock(void **state)
{
    (void)state;
    char *dir = dir_make();
    struct wal_recovery rec;
    struct wal *w = NULL;
    struct wal_options opts = {.segment_size = 100};
    assert_int_equal(wal_open(dir, &opts, &w, &rec), SYN_EINVAL);
    assert_null(w);
    assert_non_null(strstr(rec.errmsg, "segment size 100"));
    opts.segment_size = SEGMENT_SMALL;
    w = wal_must_open(dir, &opts, &rec);
    struct wal *other = NULL;
    assert_int_equal(wal_open(dir, &opts, &other, &rec), SYN_EBUSY);
    assert_null(other);
    assert_non_null(strstr(rec.errmsg, "in use by another process"));
    wal_close(w);
    other = wal_must_open(dir, &opts, &rec); /* the lock went with the close */
    wal_close(other);
    dir_remove(dir);
}

/* ---- segments, snapshots, compaction --------------------------------------------------- */

static void save_snapshot(struct fixture *f, uint64_t index, uint64_t size)
{
    uint8_t *data = malloc(size > 0 ? size : 1);
    for (uint64_t i = 0; i < size; i++) {
        data[i] = (uint8_t)(i * 7 + index);
    }
    struct raft_snapshot_meta meta = {
        .index = index, .term = f->m->terms[index], .conf = conf_one()};
    must(f->w, wal_snapshot_save(f->w, &meta, data, size));
    assert_int_equal(meta.size, size);
    free(data);
    f->m->snap_index = index;
    f->m->snap_term = meta.term;
    f->m->snap_size = size;
}

static void test_segments_and_compaction(void **state)
{
    (void)state;
    struct fixture f;
    fx_open(&f, SEGMENT_TINY);
    fill(&f, 80);
    unsigned segments = file_count(f.dir, ".log");
    assert_true(segments >= 8);
    /* Closed segments are cut to their size; the open one is preallocated. */
    char name[256];
    assert_true(file_find(f.dir, ".log", 0, name, sizeof(name)));
    assert_true(file_size(f.dir, name) >= SYN_WAL_SEGMENT_SIZE_MIN);
    assert_true(file_find(f.dir, ".log", segments - 1, name, sizeof(name)));
    assert_true(file_size(f.dir, name) >= SYN_WAL_SEGMENT_SIZE_MIN);

    save_snapshot(&f, 200, 5000);
    assert_int_equal(file_count(f.dir, ".meta"), 1);
    assert_int_equal(file_count(f.dir, ".data"), 1);
    must(f.w, wal_compact(f.w, 150)); /* keep a trailing 50 entries */
    unsigned after = file_count(f.dir, ".log");
    assert_true(after < segments);
    assert_true(after > 1);
    must(f.w, wal_sync(f.w));
    struct wal_recovery rec;
    fx_reopen(&f, &rec);
    model_assert(f.m, &rec);
    wal_recovery_free(&rec);
    fill(&f, 10);
    save_snapshot(&f, f.m->last - 3, 100); /* replaces the first snapshot */
    must(f.w, wal_compact(f.w, f.m->snap_index));
    assert_int_equal(file_count(f.dir, ".meta"), 1);
    assert_true(file_count(f.dir, ".log") <= 2);
    fx_done(&f);
}

struct chunked_source {
    uint64_t size;
    uint64_t at;
    int fail_at_call; /* 0: never */
    int calls;
};

static int chunked_read(void *arg, uint8_t *buf, uint32_t size, uint32_t *filled)
{
    struct chunked_source *s = arg;
    if (++s->calls == s->fail_at_call) {
        return SYN_EIO;
    }
    uint64_t left = s->size - s->at;
    uint32_t n = left < 777 ? (uint32_t)left : 777; /* odd-sized pieces */
    n = n < size ? n : size;
    for (uint32_t i = 0; i < n; i++) {
        buf[i] = (uint8_t)((s->at + i) % 251);
    }
    s->at += n;
    *filled = n;
    return 0;
}

static void test_snapshot_save_read(void **state)
{
    (void)state;
    struct fixture f;
    fx_open(&f, SEGMENT_SMALL);
    fill(&f, 5);
    struct raft_snapshot_meta meta = {.index = 20, .term = 1, .conf = conf_one()};
    /* A failing source stores nothing and leaves the WAL usable. */
    struct chunked_source src = {.size = 100000, .fail_at_call = 5};
    assert_int_equal(wal_snapshot_save_stream(f.w, &meta, chunked_read, &src), SYN_EIO);
    assert_non_null(strstr(wal_errmsg(f.w), "snapshot source failed"));
    assert_int_equal(file_count(f.dir, ".tmp"), 0);
    assert_null(wal_snapshot_path(f.w));
    fill(&f, 1);

    src = (struct chunked_source){.size = 100000};
    must(f.w, wal_snapshot_save_stream(f.w, &meta, chunked_read, &src));
    assert_int_equal(meta.size, 100000);
    assert_non_null(wal_snapshot_path(f.w));
    must(f.w, wal_snapshot_verify(f.w));
    uint8_t buf[4096];
    for (uint64_t off = 0; off < 100000; off += 9999) {
        uint32_t n = 100000 - off < sizeof(buf) ? (uint32_t)(100000 - off) : sizeof(buf);
        must(f.w, wal_snapshot_read(f.w, 20, off, buf, n));
        for (uint32_t i = 0; i < n; i++) {
            assert_int_equal(buf[i], (uint8_t)((off + i) % 251));
        }
    }
    assert_int_equal(wal_snapshot_read(f.w, 19, 0, buf, 10), SYN_ENOENT);
    assert_int_equal(wal_snapshot_read(f.w, 20, 99995, buf, 10), SYN_EINVAL);
    meta.index = 20; /* not newer */
    assert_int_equal(wal_snapshot_save(f.w, &meta, buf, 10), SYN_EINVAL);
    meta.index = 1000; /* past the log */
    assert_int_equal(wal_snapshot_save(f.w, &meta, buf, 10), SYN_EINVAL);
    wal_close(f.w);
    f.w = NULL;

    /* The body is checked at open when asked to. */
    char name[256];
    assert_true(file_find(f.dir, ".data", 0, name, sizeof(name)));
    file_flip(f.dir, name, 5000);
    struct wal_options verify = f.opts;
    verify.verify_snapshot = true;
    struct wal_recovery rec;
    assert_int_equal(wal_open(f.dir, &verify, &f.w, &rec), SYN_ECORRUPT);
    assert_non_null(strstr(rec.errmsg, "checksum"));
    f.w = wal_must_open(f.dir, &f.opts, &rec);
    assert_int_equal(rec.snapshot.index, 20);
    assert_int_equal(rec.snapshot.size, 100000);
    assert_int_equal(rec.snapshot.conf.member_count, 1);
    assert_int_equal(wal_snapshot_verify(f.w), SYN_ECORRUPT);
    wal_recovery_free(&rec);
    fx_free(&f);
}

/* One Ready with a snapshot chunk (and the install, and entries after it, when install). */
static void put_chunk(struct fixture *f, const struct raft_snapshot_meta *meta,
                      const uint8_t *body, uint64_t offset, uint32_t size, bool install)
{
    struct test_ready t;
    memset(&t, 0, sizeof(t));
    t.rd.snapshot_chunk = true;
    t.rd.snapshot_offset = offset;
    t.rd.snapshot_data_size = size;
    t.rd.snapshot_data = body + offset;
    t.rd.snapshot = *meta;
    if (install) {
        t.rd.snapshot_install = true;
        tr_hard_state(&t, meta->term, 0, meta->index);
        tr_entries(&t, meta->index + 1, 4, meta->term);
    }
    step(f->w, &t, f->m, true);
}

/* A snapshot arrives in chunks (one resent), is installed, and replaces the whole log. */
static void test_snapshot_install(void **state)
{
    (void)state;
    struct fixture f;
    fx_open(&f, SEGMENT_TINY);
    fill(&f, 40);
    assert_true(file_count(f.dir, ".log") > 2);
    static uint8_t body[30000];
    for (size_t i = 0; i < sizeof(body); i++) {
        body[i] = (uint8_t)(i * 13);
    }
    struct raft_snapshot_meta meta = {.index = 500, .term = 3, .size = sizeof(body),
                                      .conf = conf_one()};
    put(&f, 1, 0, 1, HS(3, 0, f.m->hs.commit), true); /* the leader's term */
    put_chunk(&f, &meta, body, 0, 10000, false);
    put_chunk(&f, &meta, body, 10000, 10000, false);
    /* An install whose bytes did not all arrive is refused, nothing written. */
    struct test_ready t;
    memset(&t, 0, sizeof(t));
    t.rd.snapshot_install = true;
    t.rd.snapshot = meta;
    assert_int_equal(wal_persist(f.w, &t.rd), SYN_EINVAL);
    put_chunk(&f, &meta, body, 10000, 10000, false); /* resent: cut and written again */
    put_chunk(&f, &meta, body, 20000, 10000, true);
    assert_int_equal(file_count(f.dir, ".log"), 1);
    assert_int_equal(file_count(f.dir, ".partial"), 0);
    uint8_t buf[1000];
    must(f.w, wal_snapshot_read(f.w, 500, 15000, buf, sizeof(buf)));
    assert_memory_equal(buf, body + 15000, sizeof(buf));

    struct wal_recovery rec;
    fx_reopen(&f, &rec);
    model_assert(f.m, &rec);
    assert_int_equal(rec.snapshot.size, sizeof(body));
    must(f.w, wal_snapshot_verify(f.w));
    wal_recovery_free(&rec);
    fill(&f, 3);
    fx_done(&f);
}

static void copy_file(const char *from_dir, const char *to_dir, const char *name)
{
    char a[1024], b[1024];
    path_of(from_dir, name, a);
    path_of(to_dir, name, b);
    FILE *in = fopen(a, "rb");
    FILE *out = fopen(b, "wb");
    assert_non_null(in);
    assert_non_null(out);
    uint8_t buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
        assert_int_equal(fwrite(buf, 1, n, out), n);
    }
    fclose(in);
    fclose(out);
}

/* A crash during an install: the replaced segments come back (their removal was not yet
 * durable), or the new segment never made it. Recovery uses neither the old log nor loses
 * the hard state. */
static void test_install_crash_leftovers(void **state)
{
    (void)state;
    struct fixture f;
    fx_open(&f, SEGMENT_SMALL);
    char *attic = dir_make();
    fill(&f, 4); /* entries 1..32 in term 1 */
    char old[256];
    assert_true(file_find(f.dir, ".log", 0, old, sizeof(old)));
    copy_file(f.dir, attic, old);
    uint8_t body[10] = "0123456789";
    struct raft_snapshot_meta meta = {.index = 20, .term = 2, .size = sizeof(body),
                                      .conf = conf_one()};
    put_chunk(&f, &meta, body, 0, sizeof(body), true);
    wal_close(f.w);
    f.w = NULL;

    copy_file(attic, f.dir, old); /* the old log is back */
    struct wal_recovery rec;
    f.w = wal_must_open(f.dir, &f.opts, &rec);
    model_assert(f.m, &rec);
    assert_non_null(strstr(rec.note, "removed 1 leftover"));
    wal_recovery_free(&rec);
    wal_close(f.w);

    char fresh[256];
    assert_true(file_find(f.dir, ".log", 0, fresh, sizeof(fresh)));
    char path[1024];
    path_of(f.dir, fresh, path);
    unlink(path); /* the segment started after the install never reached the disk */
    copy_file(attic, f.dir, old);
    f.w = wal_must_open(f.dir, &f.opts, &rec);
    f.m->last = 20; /* its entries are gone; the hard state comes from the snapshot's meta */
    model_assert(f.m, &rec);
    wal_recovery_free(&rec);
    fill(&f, 2);
    dir_remove(attic);
    fx_done(&f);
}

/* ---- torn tails and corruption --------------------------------------------------------- */

/* A WAL of `readies` synced Readies of 3 entries in one segment; offsets[i] is where Ready
 * i's record starts, offsets[readies] where the records end. */
static void torn_setup(struct fixture *f, int readies, uint64_t *offsets, char *name)
{
    fx_open(f, SEGMENT_SMALL);
    for (int i = 0; i < readies; i++) {
        struct wal_status st;
        wal_status(f->w, &st);
        offsets[i] = st.segment_offset;
        put(f, f->m->last + 1, 3, 1, HS(1, 1, f->m->last), true);
    }
    struct wal_status st;
    wal_status(f->w, &st);
    offsets[readies] = st.segment_offset;
    wal_close(f->w);
    f->w = NULL;
    assert_true(file_find(f->dir, ".log", 0, name, 256));
}

/* The last record cut short, garbled, or followed by garbage: a crash while writing it. It is
 * cut off, everything before it stays, and writing goes on after it. */
static void test_torn_tail(void **state)
{
    (void)state;
    for (int variant = 0; variant < 4; variant++) {
        struct fixture f;
        uint64_t off[7];
        char name[256];
        torn_setup(&f, 6, off, name);
        uint64_t last_rec = off[5];
        uint8_t junk[200];
        for (size_t i = 0; i < sizeof(junk); i++) {
            junk[i] = (uint8_t)(i * 37 + 1);
        }
        uint8_t zeros[1024] = {0};
        if (variant == 0) { /* the last record half written: its second half reads as zeros */
            uint64_t half = (off[6] - last_rec) / 2;
            file_poke(f.dir, name, last_rec + half, zeros, off[6] - last_rec - half);
        } else if (variant == 1) { /* a corrupted last record */
            file_flip(f.dir, name, last_rec + 20);
        } else if (variant == 2) { /* garbage where the next record would be */
            file_poke(f.dir, name, off[6], junk, sizeof(junk));
        } else { /* the last record's header only */
            file_poke(f.dir, name, last_rec + WAL_RECORD_HEADER_SIZE, zeros,
                      off[6] - last_rec - WAL_RECORD_HEADER_SIZE);
        }
        struct wal_recovery rec;
        f.w = wal_must_open(f.dir, &f.opts, &rec);
        if (variant != 2) { /* the last Ready is gone */
            f.m->last = 15;
            f.m->hs.commit = 12;
        }
        model_assert(f.m, &rec);
        assert_true(rec.repaired);
        assert_non_null(strstr(rec.note, "cut a torn tail"));
        assert_non_null(strstr(rec.note, name));
        wal_recovery_free(&rec);
        uint64_t end = variant == 2 ? off[6] : last_rec;
        for (uint64_t i = end; i < end + 200; i++) {
            assert_int_equal(file_peek(f.dir, name, i), 0); /* really cut */
        }
        fill(&f, 2);
        fx_done(&f);
    }
}

/* A bad record with records after it that were written once it had been synced: the disk
 * damaged synced data. Refuse to start, say where, and change nothing. */
static void test_corruption_in_the_middle(void **state)
{
    (void)state;
    struct fixture f;
    uint64_t off[7];
    char name[256];
    torn_setup(&f, 6, off, name);
    file_flip(f.dir, name, off[2] + 30);
    uint32_t before = file_crc(f.dir, name);
    struct wal_recovery rec;
    assert_int_equal(wal_open(f.dir, &f.opts, &f.w, &rec), SYN_ECORRUPT);
    assert_null(f.w);
    char expect[512];
    snprintf(expect, sizeof(expect),
             "wal: segment %s: bad checksum at offset %llu with valid records after it", name,
             (unsigned long long)off[2]);
    assert_non_null(strstr(rec.errmsg, expect));
    assert_non_null(strstr(rec.errmsg, "refusing to start"));
    assert_int_equal(file_crc(f.dir, name), before);
    fx_free(&f);

    /* The same in a closed segment: anything wrong there is corruption. */
    fx_open(&f, SEGMENT_TINY);
    fill(&f, 60);
    wal_close(f.w);
    assert_true(file_find(f.dir, ".log", 1, name, sizeof(name)));
    file_flip(f.dir, name, file_size(f.dir, name) - 30); /* its very last record */
    assert_int_equal(wal_open(f.dir, &f.opts, &f.w, &rec), SYN_ECORRUPT);
    assert_non_null(strstr(rec.errmsg, name));
    assert_non_null(strstr(rec.errmsg, "a later segment follows it"));
    fx_free(&f);
}

static void test_missing_and_misnamed_segments(void **state)
{
    (void)state;
    for (int variant = 0; variant < 4; variant++) {
        struct fixture f;
        fx_open(&f, SEGMENT_TINY);
        fill(&f, 60);
        wal_close(f.w);
        f.w = NULL;
        char name[256], other[256], path[1024], path2[1024];
        assert_true(file_find(f.dir, ".log", 2, name, sizeof(name)));
        assert_true(file_find(f.dir, ".log", 3, other, sizeof(other)));
        path_of(f.dir, name, path);
        const char *expect = NULL;
        if (variant == 0) { /* a segment in the middle is gone */
            unlink(path);
            expect = "is missing";
        } else if (variant == 1) { /* renamed: its name says another first index */
            int len = snprintf(path2, sizeof(path2), "%s/%.16s-00000000000000ff.log", f.dir, name);
            assert_true(len > 0 && (size_t)len < sizeof(path2));
            rename(path, path2);
            expect = "misnamed";
        } else if (variant == 2) { /* another segment's bytes under its name */
            path_of(f.dir, other, path2);
            unlink(path);
            assert_int_equal(link(path2, path), 0);
            expect = "misnamed";
        } else { /* the first segment, which the log still needs, is gone */
            assert_true(file_find(f.dir, ".log", 0, name, sizeof(name)));
            path_of(f.dir, name, path);
            unlink(path);
            expect = "entries are missing";
        }
        struct wal_recovery rec;
        assert_int_equal(wal_open(f.dir, &f.opts, &f.w, &rec), SYN_ECORRUPT);
        if (strstr(rec.errmsg, expect) == NULL) {
            fail_msg("variant %d: %s", variant, rec.errmsg);
        }
        fx_free(&f);
    }
}

static void test_corrupt_snapshot_files(void **state)
{
    (void)state;
    for (int variant = 0; variant < 4; variant++) {
        struct fixture f;
        fx_open(&f, SEGMENT_SMALL);
        fill(&f, 4);
        save_snapshot(&f, 20, 3000);
        wal_close(f.w);
        f.w = NULL;
        char meta[256], data[256], path[1024];
        assert_true(file_find(f.dir, ".meta", 0, meta, sizeof(meta)));
        assert_true(file_find(f.dir, ".data", 0, data, sizeof(data)));
        if (variant == 0) {
            file_flip(f.dir, meta, 40);
        } else if (variant == 1) {
            file_truncate(f.dir, data, 2999);
        } else if (variant == 2) {
            path_of(f.dir, data, path);
            unlink(path);
        } else { /* every segment is gone: so is the hard state */
            char name[256];
            while (file_find(f.dir, ".log", 0, name, sizeof(name))) {
                path_of(f.dir, name, path);
                unlink(path);
            }
        }
        struct wal_recovery rec;
        assert_int_equal(wal_open(f.dir, &f.opts, &f.w, &rec), SYN_ECORRUPT);
        assert_non_null(strstr(rec.errmsg, "snap"));
        fx_free(&f);
    }
}

/* The newest segment was created just before a crash and its header never made it: it goes,
 * and the segment before it (closed, synced) is the open one again. */
static void test_torn_newest_segment(void **state)
{
    (void)state;
    struct fixture f;
    fx_open(&f, SEGMENT_TINY);
    fill(&f, 20);
    wal_close(f.w);
    f.w = NULL;
    unsigned n = file_count(f.dir, ".log");
    char newest[256];
    assert_true(file_find(f.dir, ".log", n - 1, newest, sizeof(newest)));
    /* Keep the newest's records but zero its header: the records in it were written after
     * a sync, so this is corruption, not a torn creation. */
    uint8_t zeros[WAL_RECORD_HEADER_SIZE] = {0};
    file_poke(f.dir, newest, 0, zeros, sizeof(zeros));
    struct wal_recovery rec;
    assert_int_equal(wal_open(f.dir, &f.opts, &f.w, &rec), SYN_ECORRUPT);
    assert_non_null(strstr(rec.errmsg, "bad header at offset 0 with valid records after it"));
    /* Now as a crash leaves it: nothing of the new segment reached the disk. */
    file_truncate(f.dir, newest, 0);
    file_truncate(f.dir, newest, SYN_WAL_SEGMENT_SIZE_MIN);
    f.w = wal_must_open(f.dir, &f.opts, &rec);
    assert_true(rec.repaired);
    assert_non_null(strstr(rec.note, newest));
    assert_int_equal(file_count(f.dir, ".log"), n - 1);
    assert_true(rec.entry_count > 0);
    f.m->last = rec.entries[rec.entry_count - 1].index; /* the newest held the last Readies */
    f.m->hs = rec.hard_state;
    model_assert(f.m, &rec);
    wal_recovery_free(&rec);
    fill(&f, 3);
    fx_done(&f);
}

/* ---- broken I/O: scripted runs --------------------------------------------------------- */

#define HISTORY_MAX 600u

/* A scripted run: Readies, syncs, snapshot saves and installs, until the first error.
 * history[] holds every state a correct WAL may recover to afterwards: at least
 * history[synced] (all that was acknowledged), at most the last. */
struct run {
    struct model *history;
    uint32_t n;
    uint32_t synced;
    int error; /* the first error that stopped writes; 0 when none did */
    uint32_t failed_saves;
    bool log_only; /* no snapshots: nothing ever frees space */
};

static void run_init(struct run *r)
{
    *r = (struct run){.history = calloc(HISTORY_MAX, sizeof(struct model))};
    assert_non_null(r->history);
    r->n = 1; /* the empty state */
}

static void run_free(struct run *r)
{
    free(r->history);
}

static struct model *run_push(struct run *r)
{
    assert_true(r->n < HISTORY_MAX);
    r->history[r->n] = r->history[r->n - 1];
    return &r->history[r->n++];
}

static bool run_ready(struct wal *w, struct run *r, const struct raft_ready *rd)
{
    model_apply(run_push(r), rd); /* may come back even if persist fails */
    int rc = wal_persist(w, rd);
    if (rc == SYN_EINVAL) {
        fail_msg("the script broke a storage rule: %s", wal_errmsg(w));
    }
    if (rc != 0) {
        assert_int_equal(r->error, 0);
        r->error = rc;
    }
    return rc == 0;
}

static bool run_sync(struct wal *w, struct run *r)
{
    int rc = wal_sync(w);
    if (rc != 0) {
        r->error = rc;
        return false;
    }
    r->synced = r->n - 1;
    return true;
}

static void run_save(struct wal *w, struct prng *rng, struct run *r)
{
    const struct model *m = &r->history[r->n - 1];
    uint64_t top = m->hs.commit < m->last ? m->hs.commit : m->last;
    if (top <= m->snap_index || !run_sync(w, r)) {
        return;
    }
    uint64_t index = prng_range(rng, m->snap_index + 1, top);
    uint64_t size = prng_range(rng, 0, 3000);
    uint8_t *data = malloc(size + 1);
    memset(data, (int)index, size + 1);
    struct raft_snapshot_meta meta = {.index = index, .term = m->terms[index], .conf = conf_one()};
    struct model *next = run_push(r);
    next->snap_index = index;
    next->snap_term = meta.term;
    next->snap_size = size;
    int rc = wal_snapshot_save(w, &meta, data, size);
    free(data);
    struct wal_status st;
    wal_status(w, &st);
    if (rc != 0 && st.failed == 0) {
        r->n--; /* failed before its commit point: nothing changed */
        r->failed_saves++;
        return;
    }
    if (rc != 0) {
        r->error = rc;
        return;
    }
    r->synced = r->n - 1;
    uint64_t trailing = prng_range(rng, 0, 20);
    rc = wal_compact(w, index > trailing ? index - trailing : 0);
    r->error = rc;
}

/* A snapshot received in one to three chunks, then installed with a few entries after it. */
static void run_install(struct wal *w, struct prng *rng, struct run *r)
{
    const struct model *m = &r->history[r->n - 1];
    uint64_t floor = m->hs.commit > m->snap_index ? m->hs.commit : m->snap_index;
    uint64_t term = (m->hs.term > 0 ? m->hs.term : 1) + prng_range(rng, 0, 1);
    struct raft_snapshot_meta meta = {.index = prng_range(rng, floor + 1, m->last + 5),
                                      .term = term,
                                      .size = prng_range(rng, 1, 5000),
                                      .conf = conf_one()};
    static uint8_t body[5000];
    memset(body, (int)meta.index, sizeof(body));
    uint64_t chunk = meta.size / prng_range(rng, 1, 3) + 1;
    for (uint64_t at = 0; at < meta.size && r->error == 0;) {
        struct test_ready t;
        memset(&t, 0, sizeof(t));
        t.rd.snapshot_chunk = true;
        t.rd.snapshot_offset = at;
        t.rd.snapshot_data_size = (uint32_t)(meta.size - at < chunk ? meta.size - at : chunk);
        t.rd.snapshot_data = body + at;
        t.rd.snapshot = meta;
        at += t.rd.snapshot_data_size;
        if (at == meta.size) {
            t.rd.snapshot_install = true;
            tr_hard_state(&t, term, m->hs.vote, meta.index);
            struct model *installed = run_push(r); /* the install without its entries */
            model_apply(installed, &t.rd);
            if (prng_chance(rng, 600000)) {
                tr_entries(&t, meta.index + 1, (uint32_t)prng_range(rng, 1, 5), term);
            }
        }
        run_ready(w, r, &t.rd);
    }
}

static void run_ops(struct wal *w, uint64_t seed, int ops, struct run *r)
{
    struct prng rng;
    prng_init(&rng, seed);
    for (int i = 0; i < ops && r->error == 0; i++) {
        uint64_t roll = prng_range(&rng, 0, 99);
        if (roll < 65) {
            struct test_ready t;
            gen_ready(&rng, &r->history[r->n - 1], &t);
            run_ready(w, r, &t.rd);
        } else if (roll < 85 || r->log_only) {
            run_sync(w, r);
        } else if (roll < 94) {
            run_save(w, &rng, r);
        } else {
            run_install(w, &rng, r);
        }
    }
}

/* After a failure, every write is refused with the same error. */
static void assert_refusing(struct wal *w, int error)
{
    struct test_ready t;
    memset(&t, 0, sizeof(t));
    tr_hard_state(&t, 1000, 1, 0);
    assert_int_equal(wal_persist(w, &t.rd), error);
    assert_non_null(strstr(wal_errmsg(w), "refusing writes after an earlier failure"));
    assert_int_equal(wal_sync(w), error);
    assert_int_equal(wal_compact(w, 0), error);
}

/* Recovers dir with the real file system: the state must be one the run allows. */
static void recover_check(const char *dir, const struct wal_options *opts, const struct run *r)
{
    struct wal_options real = *opts;
    real.fs = NULL;
    struct wal_recovery rec;
    struct wal *w = wal_must_open(dir, &real, &rec);
    char why[256] = "";
    bool found = false;
    for (uint32_t k = r->n; k-- > r->synced && !found;) {
        found = model_matches(&r->history[k], &rec, why, sizeof(why));
    }
    if (!found) {
        model_matches(&r->history[r->synced], &rec, why, sizeof(why));
        fail_msg("recovered none of states %u..%u (vs the synced one: %s)", r->synced, r->n - 1,
                 why);
    }
    wal_recovery_free(&rec);
    wal_close(w);
}

static struct fault_fs *fault_fs_new(void)
{
    struct fault_fs *ff = malloc(sizeof(*ff));
    assert_non_null(ff);
    fault_fs_init(ff, wal_fs_posix());
    return ff;
}

/* One scripted run through a fault_fs the caller armed. */
struct faulty {
    uint64_t seed;
    int ops;
    uint32_t segment_size; /* 0: SYN_WAL_SEGMENT_SIZE_MIN */
    bool no_preallocate;
    bool log_only;
    bool final_sync;     /* sync at the end when nothing failed */
    unsigned crash;      /* recover a crash copy (FAULT_CRASH_* flags, plus this bit) */
    /* results */
    int error;           /* the error that stopped writes, 0 when none did */
    char errmsg[WAL_ERRMSG_SIZE];
    uint32_t failed_saves;
    bool all_synced;     /* the last state of the run was synced */
};

#define CRASH_COPY 0x100u

/* Opens a fresh directory through ff, runs the script to its end or first error, checks that
 * writes are then refused with that error, and recovers (the directory, or a crash copy of
 * it) with the real file system: the state must be one the run allows. */
static void faulty_run(struct fault_fs *ff, struct faulty *spec)
{
    char *dir = dir_make();
    struct wal_options opts = {
        .fs = &ff->fs,
        .segment_size = spec->segment_size != 0 ? spec->segment_size : SYN_WAL_SEGMENT_SIZE_MIN,
        .no_preallocate = spec->no_preallocate};
    struct run r;
    run_init(&r);
    r.log_only = spec->log_only;
    struct wal_recovery rec;
    struct wal *w = NULL;
    r.error = wal_open(dir, &opts, &w, &rec);
    snprintf(spec->errmsg, sizeof(spec->errmsg), "%s", rec.errmsg);
    wal_recovery_free(&rec);
    if (w != NULL) {
        run_ops(w, spec->seed, spec->ops, &r);
        if (r.error == 0 && spec->final_sync) {
            run_sync(w, &r);
        }
        snprintf(spec->errmsg, sizeof(spec->errmsg), "%s", wal_errmsg(w));
    }
    if (w != NULL && r.error != 0) {
        assert_refusing(w, r.error);
    }
    char *copy = NULL;
    if ((spec->crash & CRASH_COPY) != 0) {
        struct prng rng;
        prng_init(&rng, spec->seed * 7919);
        copy = dir_make();
        assert_int_equal(fault_fs_crash_copy(ff, dir, copy, &rng, spec->crash & 0xffu), 0);
    }
    wal_close(w);
    recover_check(copy != NULL ? copy : dir, &opts, &r);
    spec->error = r.error;
    spec->failed_saves = r.failed_saves;
    spec->all_synced = r.synced == r.n - 1;
    run_free(&r);
    if (copy != NULL) {
        dir_remove(copy);
    }
    dir_remove(dir);
}

/* A short write is legal POSIX: the WAL writes the rest and nothing is lost. */
static void test_short_write_retried(void **state)
{
    (void)state;
    struct fault_fs *ff = fault_fs_new();
    for (uint64_t at = 2; at < 40; at += 7) {
        fault_fs_init(ff, wal_fs_posix());
        ff->fail_write_at = at;
        ff->short_write_bytes = 5;
        struct faulty spec = {.seed = 7, .ops = 40, .final_sync = true};
        faulty_run(ff, &spec);
        assert_int_equal(spec.error, 0);
        assert_true(ff->writes > at);
        assert_true(spec.all_synced);
    }
    free(ff);
}

/* A short write, then the disk is full: SYN_ENOSPC, nothing acknowledged, writes refused,
 * and a restart recovers everything that was synced. */
static void test_short_write_then_enospc(void **state)
{
    (void)state;
    struct fault_fs *ff = fault_fs_new();
    ff->fail_write_at = 12;
    ff->short_write_bytes = 9;
    ff->fail_write_errno = ENOSPC;
    struct faulty spec = {.seed = 11, .ops = 100};
    faulty_run(ff, &spec);
    assert_int_equal(spec.error, SYN_ENOSPC);
    assert_non_null(strstr(spec.errmsg, "No space left on device"));
    free(ff);
}

/* The disk fills up (in the fault model): at a segment's preallocation or in the middle of a
 * write, with and without preallocation. */
static void test_disk_full(void **state)
{
    (void)state;
    struct fault_fs *ff = fault_fs_new();
    int full = 0;
    int runs = 0;
    for (int prealloc = 0; prealloc < 2; prealloc++) {
        for (uint64_t budget = 5000; budget < 40000; budget += 3333) {
            fault_fs_init(ff, wal_fs_posix());
            ff->space_left = budget;
            struct faulty spec = {.seed = budget,
                                  .ops = 400,
                                  .no_preallocate = prealloc == 0,
                                  .log_only = budget % 2 == 0};
            faulty_run(ff, &spec);
            assert_true(spec.error == 0 || spec.error == SYN_ENOSPC);
            full += spec.error == SYN_ENOSPC;
            runs++;
        }
    }
    assert_true(full * 2 > runs); /* compaction frees space, yet most runs fill the disk */
    free(ff);
}

/* fsync fails: SYN_EIO, and no retry ever acknowledges what may be lost ("fsyncgate"). */
static void test_fsync_eio(void **state)
{
    (void)state;
    struct fault_fs *ff = fault_fs_new();
    ff->fail_sync_at = 6;
    ff->fail_sync_errno = EIO;
    ff->real_sync = true; /* the real fdatasync runs up to the failing one */
    struct faulty spec = {.seed = 5, .ops = 100};
    faulty_run(ff, &spec);
    assert_int_equal(spec.error, SYN_EIO);
    assert_non_null(strstr(spec.errmsg, "Input/output error"));
    assert_non_null(strstr(spec.errmsg, "sync"));
    free(ff);
}

/* Every write, then every sync of a scripted run fails in turn (SQLite's anomaly tests):
 * each time the error comes back, writes stop, and a restart recovers what was synced. */
static void test_every_write_and_sync_fails(void **state)
{
    (void)state;
    struct fault_fs *ff = fault_fs_new();
    struct faulty spec = {.seed = 99, .ops = 50};
    faulty_run(ff, &spec);
    assert_int_equal(spec.error, 0);
    uint64_t writes = ff->writes;
    uint64_t syncs = ff->syncs;
    assert_true(writes > 20);
    int errnos[] = {EIO, ENOSPC, EIO};
    for (uint64_t n = 1; n <= writes + syncs; n++) {
        fault_fs_init(ff, wal_fs_posix());
        if (n <= writes) {
            ff->fail_write_at = n;
            ff->fail_write_errno = errnos[n % 3];
            ff->short_write_bytes = n % 3 == 2 ? 3 : 0;
        } else {
            ff->fail_sync_at = n - writes;
            ff->fail_sync_errno = EIO;
        }
        spec = (struct faulty){.seed = 99, .ops = 50};
        faulty_run(ff, &spec);
        assert_true(spec.error != 0 || spec.failed_saves > 0);
    }
    free(ff);
}

/* Crashes at random points: the directory as a power loss may leave it (unsynced bytes cut
 * at random offsets, unsynced sectors lost or garbled, new files gone) always recovers to a
 * state that holds everything synced and nothing past a damaged point. */
static void test_crash_at_random_points(void **state)
{
    (void)state;
    struct fault_fs *ff = fault_fs_new();
    for (uint64_t seed = 1; seed <= 150; seed++) {
        struct prng rng;
        prng_init(&rng, seed);
        fault_fs_init(ff, wal_fs_posix());
        struct faulty spec = {
            .seed = seed,
            .ops = (int)prng_range(&rng, 1, 60),
            .segment_size = prng_chance(&rng, 500000) ? SYN_WAL_SEGMENT_SIZE_MIN : 16384,
            .no_preallocate = prng_chance(&rng, 300000),
            .crash = CRASH_COPY | (unsigned)prng_range(&rng, 0, 3),
        };
        faulty_run(ff, &spec);
        assert_int_equal(spec.error, 0);
    }
    free(ff);
}

/* ---- the real full disk (tests/storage/wal_enospc.sh) ---------------------------------- */

/* The recovered log must be entries 1..last in term 1, last being what was synced or what
 * was written. */
static bool enospc_recovered(const struct wal_recovery *rec, uint64_t synced, uint64_t written)
{
    if (rec->entry_count != synced && rec->entry_count != written) {
        return false;
    }
    for (uint32_t i = 0; i < rec->entry_count; i++) {
        uint8_t buf[ENTRY_DATA_MAX];
        uint32_t n = entry_fill(i + 1, 1, buf);
        const struct raft_entry *e = &rec->entries[i];
        if (e->index != i + 1 || e->term != 1 || e->data_size != n ||
            (n > 0 && memcmp(e->data, buf, n) != 0)) {
            return false;
        }
    }
    return true;
}

static int enospc_main(const char *dir, bool prealloc)
{
    struct wal_options opts = {.segment_size = 64u << 10, .no_preallocate = !prealloc};
    struct wal_recovery rec;
    struct wal *w = NULL;
    int rc = wal_open(dir, &opts, &w, &rec);
    if (rc != 0) {
        printf("FAIL: open: %s\n", rec.errmsg);
        return 1;
    }
    uint64_t synced = 0;
    uint64_t written = 0;
    struct test_ready t;
    for (int i = 0; i < 100000 && rc == 0; i++) { /* 1 MiB fills long before */
        memset(&t, 0, sizeof(t));
        tr_entries(&t, written + 1, 16, 1);
        tr_hard_state(&t, 1, 1, written);
        rc = wal_persist(w, &t.rd);
        written += 16;
        rc = rc == 0 ? wal_sync(w) : rc;
        synced = rc == 0 ? written : synced;
    }
    printf("stopped after %llu synced entries: %s: %s\n", (unsigned long long)synced,
           syn_errname(rc), wal_errmsg(w));
    int again = wal_persist(w, &t.rd);
    wal_close(w);
    if (rc != SYN_ENOSPC || again != SYN_ENOSPC) {
        printf("FAIL: expected SYN_ENOSPC twice, got %s then %s\n", syn_errname(rc),
               syn_errname(again));
        return 1;
    }
    rc = wal_open(dir, &opts, &w, &rec); /* the disk is still full */
    if (rc != 0) {
        printf("FAIL: reopen on the full disk: %s\n", rec.errmsg);
        return 1;
    }
    bool ok = enospc_recovered(&rec, synced, written);
    printf("reopened on the full disk: recovered %u entries%s%s\n", rec.entry_count,
           rec.note[0] != '\0' ? "; " : "", rec.note);
    wal_recovery_free(&rec);
    wal_close(w);
    if (!ok) {
        printf("FAIL: the recovered log is not the synced one\n");
        return 1;
    }
    printf("ok\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "--enospc") == 0) {
        bool prealloc = !(argc >= 4 && strcmp(argv[3], "--no-preallocate") == 0);
        return enospc_main(argv[2], prealloc);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_log_roundtrip),
        cmocka_unit_test(test_record_payload_rejects),
        cmocka_unit_test(test_fresh_directory),
        cmocka_unit_test(test_persist_recover),
        cmocka_unit_test(test_conflicting_tail),
        cmocka_unit_test(test_group_commit),
        cmocka_unit_test(test_large_ready),
        cmocka_unit_test(test_bad_ready),
        cmocka_unit_test(test_options_and_lock),
        cmocka_unit_test(test_segments_and_compaction),
        cmocka_unit_test(test_snapshot_save_read),
        cmocka_unit_test(test_snapshot_install),
        cmocka_unit_test(test_install_crash_leftovers),
        cmocka_unit_test(test_torn_tail),
        cmocka_unit_test(test_corruption_in_the_middle),
        cmocka_unit_test(test_missing_and_misnamed_segments),
        cmocka_unit_test(test_corrupt_snapshot_files),
        cmocka_unit_test(test_torn_newest_segment),
        cmocka_unit_test(test_short_write_retried),
        cmocka_unit_test(test_short_write_then_enospc),
        cmocka_unit_test(test_disk_full),
        cmocka_unit_test(test_fsync_eio),
        cmocka_unit_test(test_every_write_and_sync_fails),
        cmocka_unit_test(test_crash_at_random_points),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
