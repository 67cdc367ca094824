/* test_kv.c: the LMDB state machine: every command and condition, expiry by the commands'
 * clock, SCAN's completeness under concurrent writes, the applied index across restarts,
 * snapshots, determinism across replicas, bad entries, and crash markers. Each test works
 * in its own directory under /tmp and removes it. `test_kv --enospc DIR` runs the real
 * full-disk check of tests/storage/kv_enospc.sh (write_map on a disk that fills up). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/err.h"
#include "base/prng.h"
#include "kv/kv_store.h"

#define T0 1700000000000ull /* a wall clock, ms */

struct fx {
    char dir[64];
    struct kv_store *kv;
    uint64_t index; /* of the last entry built */
    struct syn_buf cmd;
    struct kv_result res;
    struct syn_buf value;
};

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        return;
    }
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            unlink(path);
        }
    }
    closedir(d);
    rmdir(dir);
}

static struct kv_store *open_store(const char *dir)
{
    struct kv_store *kv = NULL;
    char errmsg[KV_ERRMSG_SIZE];
    int rc = kv_open(dir, NULL, &kv, errmsg);
    if (rc != 0) {
        fail_msg("kv_open %s: %s", dir, errmsg);
    }
    return kv;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/synod-kv-XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        return -1;
    }
    f->kv = open_store(f->dir);
    syn_buf_init(&f->cmd, 0);
    syn_buf_init(&f->value, 0);
    kv_result_init(&f->res);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    if (f->kv != NULL) {
        assert_int_equal(kv_close(f->kv), 0);
    }
    remove_dir(f->dir);
    syn_buf_free(&f->cmd);
    syn_buf_free(&f->value);
    kv_result_free(&f->res);
    free(f);
    return 0;
}

static struct kv_bytes str(const char *s)
{
    return (struct kv_bytes){.data = (const uint8_t *)s, .size = strlen(s)};
}

/* Applies f->cmd as the next entry, in a batch of its own. */
static struct kv_result *apply_cmd(struct fx *f)
{
    struct raft_entry e = {.term = 1,
                           .index = ++f->index,
                           .type = RAFT_ENTRY_NORMAL,
                           .data = f->cmd.data,
                           .data_size = (uint32_t)f->cmd.len};
    assert_int_equal(kv_apply_begin(f->kv), 0);
    assert_int_equal(kv_apply(f->kv, &e, &f->res), 0);
    assert_int_equal(kv_apply_commit(f->kv), 0);
    syn_buf_reset(&f->cmd);
    return &f->res;
}

static struct kv_result *set_full(struct fx *f, const char *key, const char *value, uint8_t cond,
                                  const char *expected, uint8_t flags, uint64_t expire_at,
                                  uint64_t now)
{
    struct kv_cmd c = {.now_ms = now,
                       .cond = cond,
                       .flags = flags,
                       .expire_at_ms = expire_at,
                       .key = str(key),
                       .value = str(value)};
    if (expected != NULL) {
        c.expected = str(expected);
    }
    assert_int_equal(kv_cmd_encode_set(&f->cmd, &c), 0);
    return apply_cmd(f);
}

static void set(struct fx *f, const char *key, const char *value)
{
    assert_int_equal(set_full(f, key, value, KV_COND_NONE, NULL, 0, 0, T0)->kind, KV_RESULT_OK);
}

static struct kv_result *items(struct fx *f, uint8_t op, uint64_t now, uint32_t n, ...)
{
    struct kv_bytes it[16];
    va_list ap;
    va_start(ap, n);
    for (uint32_t i = 0; i < n; i++) {
        it[i] = str(va_arg(ap, const char *));
    }
    va_end(ap);
    assert_int_equal(kv_cmd_encode_items(&f->cmd, op, now, it, n), 0);
    return apply_cmd(f);
}

static struct kv_result *incrby(struct fx *f, const char *key, int64_t delta)
{
    assert_int_equal(kv_cmd_encode_incrby(&f->cmd, T0, str(key), delta), 0);
    return apply_cmd(f);
}

/* GET at now: the value as a string, or NULL. */
static const char *get_at(struct fx *f, const char *key, uint64_t now)
{
    int rc = kv_get(f->kv, str(key), now, &f->value);
    if (rc == SYN_ENOENT) {
        return NULL;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(syn_buf_append_u8(&f->value, 0), 0);
    return (const char *)f->value.data;
}

static const char *get(struct fx *f, const char *key)
{
    return get_at(f, key, T0);
}

static uint64_t dbsize(struct fx *f, uint64_t now)
{
    uint64_t n = 0;
    assert_int_equal(kv_dbsize(f->kv, now, &n), 0);
    return n;
}

static void expect_bulk(const struct kv_result *r, const char *value)
{
    assert_int_equal(r->kind, KV_RESULT_BULK);
    assert_int_equal(r->data.len, strlen(value));
    assert_memory_equal(r->data.data, value, r->data.len);
}

static void expect_error(const struct kv_result *r, const char *message)
{
    assert_int_equal(r->kind, KV_RESULT_ERROR);
    assert_int_equal(r->data.len, strlen(message));
    assert_memory_equal(r->data.data, message, r->data.len);
}

/* ---- Commands ------------------------------------------------------------------------ */

static void test_set_get(void **state)
{
    struct fx *f = *state;
    assert_null(get(f, "k"));
    set(f, "k", "v1");
    assert_string_equal(get(f, "k"), "v1");
    set(f, "k", "v2");
    assert_string_equal(get(f, "k"), "v2");
    set(f, "", "empty key");
    assert_string_equal(get(f, ""), "empty key");
    set(f, "e", "");
    assert_string_equal(get(f, "e"), "");
    assert_int_equal(dbsize(f, T0), 3);
    assert_int_equal(kv_applied_index(f->kv), 4);
}

static void test_set_conditions(void **state)
{
    struct fx *f = *state;
    /* NX: only when absent. */
    assert_int_equal(set_full(f, "k", "a", KV_COND_NX, NULL, 0, 0, T0)->kind, KV_RESULT_OK);
    assert_int_equal(set_full(f, "k", "b", KV_COND_NX, NULL, 0, 0, T0)->kind, KV_RESULT_NIL);
    assert_string_equal(get(f, "k"), "a");
    /* XX: only when present. */
    assert_int_equal(set_full(f, "x", "a", KV_COND_XX, NULL, 0, 0, T0)->kind, KV_RESULT_NIL);
    assert_null(get(f, "x"));
    assert_int_equal(set_full(f, "k", "c", KV_COND_XX, NULL, 0, 0, T0)->kind, KV_RESULT_OK);
    assert_string_equal(get(f, "k"), "c");
    /* IFEQ: only when present and equal; never creates. */
    assert_int_equal(set_full(f, "k", "d", KV_COND_IFEQ, "zz", 0, 0, T0)->kind, KV_RESULT_NIL);
    assert_string_equal(get(f, "k"), "c");
    assert_int_equal(set_full(f, "k", "d", KV_COND_IFEQ, "c", 0, 0, T0)->kind, KV_RESULT_OK);
    assert_string_equal(get(f, "k"), "d");
    assert_int_equal(set_full(f, "y", "d", KV_COND_IFEQ, "", 0, 0, T0)->kind, KV_RESULT_NIL);
    assert_null(get(f, "y"));
    /* GET: the old value whether or not the condition held; NIL when there was none. */
    expect_bulk(set_full(f, "k", "e", KV_COND_NONE, NULL, KV_SET_GET, 0, T0), "d");
    assert_int_equal(set_full(f, "g", "1", KV_COND_NONE, NULL, KV_SET_GET, 0, T0)->kind,
                     KV_RESULT_NIL);
    assert_string_equal(get(f, "g"), "1");
    expect_bulk(set_full(f, "k", "f", KV_COND_NX, NULL, KV_SET_GET, 0, T0), "e");
    assert_string_equal(get(f, "k"), "e");
    expect_bulk(set_full(f, "k", "f", KV_COND_IFEQ, "nope", KV_SET_GET, 0, T0), "e");
    assert_string_equal(get(f, "k"), "e");
    expect_bulk(set_full(f, "k", "f", KV_COND_IFEQ, "e", KV_SET_GET, 0, T0), "e");
    assert_string_equal(get(f, "k"), "f");
    assert_int_equal(set_full(f, "n", "1", KV_COND_XX, NULL, KV_SET_GET, 0, T0)->kind,
                     KV_RESULT_NIL);
    assert_null(get(f, "n"));
}

static void test_incrby(void **state)
{
    struct fx *f = *state;
    struct kv_result *r = incrby(f, "n", 5);
    assert_int_equal(r->kind, KV_RESULT_INTEGER);
    assert_int_equal(r->integer, 5);
    assert_int_equal(incrby(f, "n", -7)->integer, -2);
    assert_string_equal(get(f, "n"), "-2");
    const char *not_integers[] = {
        "abc", "01", "-0", " 1", "1 ", "+1", "", "-", "99999999999999999999", "9223372036854775808",
        "1.5"};
    for (size_t i = 0; i < sizeof(not_integers) / sizeof(not_integers[0]); i++) {
        set(f, "s", not_integers[i]);
        expect_error(incrby(f, "s", 1), KV_ERR_NOT_INTEGER);
        assert_string_equal(get(f, "s"), not_integers[i]); /* unchanged */
    }
    set(f, "max", "9223372036854775807");
    expect_error(incrby(f, "max", 1), KV_ERR_OVERFLOW);
    assert_true(incrby(f, "max", -1)->integer == INT64_MAX - 1);
    set(f, "min", "-9223372036854775808");
    expect_error(incrby(f, "min", -1), KV_ERR_OVERFLOW);
    assert_true(incrby(f, "min", 0)->integer == INT64_MIN);
    assert_true(incrby(f, "min", INT64_MAX)->integer == -1);
    set(f, "zero", "0");
    assert_true(incrby(f, "zero", INT64_MIN)->integer == INT64_MIN);
    assert_string_equal(get(f, "zero"), "-9223372036854775808");
}

struct mget_seen {
    uint32_t calls;
    bool found[8];
    char values[8][16];
};

static void mget_cb(void *ctx, uint32_t i, const uint8_t *value, size_t size)
{
    struct mget_seen *s = ctx;
    assert_int_equal(i, s->calls);
    s->calls++;
    s->found[i] = value != NULL;
    if (value != NULL) {
        assert_true(size < sizeof(s->values[i]));
        memcpy(s->values[i], value, size);
    }
}

static void test_mset_mget_del_exists(void **state)
{
    struct fx *f = *state;
    assert_int_equal(items(f, KV_OP_MSET, T0, 6, "a", "1", "b", "2", "a", "3")->kind, KV_RESULT_OK);
    assert_string_equal(get(f, "a"), "3"); /* the last pair wins */
    assert_string_equal(get(f, "b"), "2");
    struct kv_bytes keys[4] = {str("a"), str("missing"), str("b"), str("a")};
    uint32_t n = 0;
    assert_int_equal(kv_exists(f->kv, keys, 4, T0, &n), 0);
    assert_int_equal(n, 3); /* a key named twice counts twice */
    struct mget_seen seen = {0};
    assert_int_equal(kv_mget(f->kv, keys, 4, T0, mget_cb, &seen), 0);
    assert_int_equal(seen.calls, 4);
    assert_true(seen.found[0] && !seen.found[1] && seen.found[2] && seen.found[3]);
    assert_string_equal(seen.values[0], "3");
    assert_string_equal(seen.values[2], "2");
    /* DEL counts the keys it removed; a key named twice is removed once. */
    assert_int_equal(items(f, KV_OP_DEL, T0, 4, "a", "missing", "a", "b")->integer, 2);
    assert_null(get(f, "a"));
    assert_int_equal(dbsize(f, T0), 0);
    assert_int_equal(items(f, KV_OP_DEL, T0, 1, "a")->integer, 0);
}

/* ---- Expiry -------------------------------------------------------------------------- */

struct keys_seen {
    uint32_t count;
    char keys[16][32];
};

static void keys_cb(void *ctx, const uint8_t *key, size_t size)
{
    struct keys_seen *s = ctx;
    assert_true(s->count < 16);
    assert_true(size < 32);
    memcpy(s->keys[s->count], key, size);
    s->keys[s->count][size] = '\0';
    s->count++;
}

static struct keys_seen expired_keys(struct fx *f, uint64_t now)
{
    struct keys_seen seen = {0};
    assert_int_equal(kv_expired_keys(f->kv, now, 16, keys_cb, &seen), 0);
    return seen;
}

static void test_expiry(void **state)
{
    struct fx *f = *state;
    /* Expired means expire_at_ms <= now. */
    set_full(f, "t", "v", KV_COND_NONE, NULL, 0, T0 + 1000, T0);
    assert_string_equal(get_at(f, "t", T0 + 999), "v");
    assert_null(get_at(f, "t", T0 + 1000));
    assert_int_equal(dbsize(f, T0), 1);
    assert_int_equal(dbsize(f, T0 + 1000), 0);
    assert_int_equal(expired_keys(f, T0).count, 0);
    struct keys_seen seen = expired_keys(f, T0 + 1000);
    assert_int_equal(seen.count, 1);
    assert_string_equal(seen.keys[0], "t");
    /* EXPIRE removes only what is expired at its own clock. */
    assert_int_equal(items(f, KV_OP_EXPIRE, T0, 1, "t")->integer, 0);
    assert_string_equal(get_at(f, "t", T0), "v");
    /* INCRBY keeps the TTL; a SET without one clears it. */
    set_full(f, "c", "10", KV_COND_NONE, NULL, 0, T0 + 1000, T0);
    assert_int_equal(incrby(f, "c", 1)->integer, 11);
    assert_string_equal(get_at(f, "c", T0 + 999), "11");
    assert_null(get_at(f, "c", T0 + 1000));
    set_full(f, "u", "1", KV_COND_NONE, NULL, 0, T0 + 1000, T0);
    set(f, "u", "2");
    assert_string_equal(get_at(f, "u", T0 + 5000), "2");
    assert_int_equal(expired_keys(f, T0 + 5000).count, 2); /* t and c */
    /* DEL of an expired key removes it and does not count it. */
    assert_int_equal(items(f, KV_OP_DEL, T0 + 1000, 1, "t")->integer, 0);
    assert_int_equal(dbsize(f, T0 + 1000), 1); /* u; c is stored but expired */
    /* The store's clock never runs back: a reader or a command with an older clock still
     * sees c expired. */
    assert_null(get_at(f, "c", T0));
    assert_int_equal(items(f, KV_OP_EXPIRE, T0, 2, "c", "u")->integer, 1);
    assert_int_equal(dbsize(f, T0), 1);
    assert_int_equal(expired_keys(f, T0 + 5000).count, 0);
    /* A SET whose expiry has passed leaves no key. */
    set(f, "p", "x");
    assert_int_equal(set_full(f, "p", "y", KV_COND_NONE, NULL, 0, T0 + 1, T0 + 1000)->kind,
                     KV_RESULT_OK);
    assert_null(get(f, "p"));
    assert_int_equal(dbsize(f, T0), 1);
    /* An expired key is absent to NX, XX and GET, and is replaced. */
    set_full(f, "q", "1", KV_COND_NONE, NULL, 0, T0 + 2000, T0 + 1000);
    assert_int_equal(set_full(f, "q", "2", KV_COND_XX, NULL, KV_SET_GET, 0, T0 + 2000)->kind,
                     KV_RESULT_NIL);
    assert_int_equal(dbsize(f, T0 + 2000), 1); /* the XX removed the expired q */
    assert_int_equal(set_full(f, "q", "3", KV_COND_NX, NULL, 0, 0, T0 + 2000)->kind, KV_RESULT_OK);
    assert_string_equal(get_at(f, "q", T0 + 9999), "3");
    assert_int_equal(dbsize(f, T0 + 2000), 2);
}

/* ---- SCAN helpers --------------------------------------------------------------------- */

#define SEEN_MAX 4096u

struct scan_seen {
    uint32_t count;
    char *keys[SEEN_MAX];
    size_t sizes[SEEN_MAX];
};

static void scan_cb(void *ctx, const uint8_t *key, size_t size)
{
    struct scan_seen *s = ctx;
    assert_true(s->count < SEEN_MAX);
    s->keys[s->count] = malloc(size + 1);
    memcpy(s->keys[s->count], key, size);
    s->keys[s->count][size] = '\0';
    s->sizes[s->count] = size;
    s->count++;
}

static void seen_free(struct scan_seen *s)
{
    for (uint32_t i = 0; i < s->count; i++) {
        free(s->keys[i]);
    }
    s->count = 0;
}

static uint32_t seen_times(const struct scan_seen *s, const char *key)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->count; i++) {
        n += s->sizes[i] == strlen(key) && memcmp(s->keys[i], key, s->sizes[i]) == 0 ? 1 : 0;
    }
    return n;
}

/* Runs a whole SCAN; returns the number of steps. */
static uint32_t scan_all(struct fx *f, const char *pattern, uint32_t count, uint64_t now,
                         struct scan_seen *seen)
{
    struct kv_bytes p = pattern != NULL ? str(pattern) : (struct kv_bytes){0};
    uint64_t cursor = 0;
    uint32_t steps = 0;
    do {
        assert_int_equal(kv_scan(f->kv, cursor, p, count, now, scan_cb, seen, &cursor), 0);
        steps++;
        assert_true(steps < 100000);
    } while (cursor != 0);
    return steps;
}

/* ---- Long keys (past LMDB's 511-byte key limit) -------------------------------------- */

static char *long_key(size_t size, char last)
{
    char *k = malloc(size + 1);
    memset(k, 'p', size);
    k[size - 1] = last;
    k[size] = '\0';
    return k;
}

static void test_long_keys(void **state)
{
    struct fx *f = *state;
    size_t sizes[] = {447, 448, 449, 1000, SYN_KEY_SIZE_MAX};
    char *keys[5][2];
    for (int i = 0; i < 5; i++) {
        for (int j = 0; j < 2; j++) {
            keys[i][j] = long_key(sizes[i], (char)('a' + j)); /* j's share a long prefix */
            char value[32];
            snprintf(value, sizeof(value), "v%d%d", i, j);
            set(f, keys[i][j], value);
        }
    }
    assert_int_equal(dbsize(f, T0), 10);
    for (int i = 0; i < 5; i++) {
        char value[32];
        snprintf(value, sizeof(value), "v%d1", i);
        assert_string_equal(get(f, keys[i][1]), value);
    }
    /* Delete one of a pair; the other stays; the key comes back. */
    struct kv_bytes one = str(keys[3][0]);
    assert_int_equal(kv_cmd_encode_items(&f->cmd, KV_OP_DEL, T0, &one, 1), 0);
    assert_int_equal(apply_cmd(f)->integer, 1);
    assert_null(get(f, keys[3][0]));
    assert_string_equal(get(f, keys[3][1]), "v31");
    set(f, keys[3][0], "back");
    assert_string_equal(get(f, keys[3][0]), "back");
    assert_int_equal(incrby(f, keys[4][1], 1)->kind, KV_RESULT_ERROR);
    /* A TTL on a long key: SCAN and the expiry sweep give the whole key. */
    struct scan_seen *seen = calloc(1, sizeof(*seen));
    scan_all(f, NULL, 3, T0, seen);
    assert_int_equal(seen->count, 10);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(seen_times(seen, keys[i][0]), 1);
        assert_int_equal(seen_times(seen, keys[i][1]), 1);
    }
    seen_free(seen);
    set_full(f, keys[4][0], "t", KV_COND_NONE, NULL, 0, T0 + 1, T0);
    scan_all(f, NULL, 3, T0 + 1, seen);
    assert_int_equal(seen->count, 9);
    seen_free(seen);
    assert_int_equal(kv_expired_keys(f->kv, T0 + 1, 16, scan_cb, seen), 0);
    assert_int_equal(seen->count, 1);
    assert_int_equal(seen_times(seen, keys[4][0]), 1);
    seen_free(seen);
    free(seen);
    for (int i = 0; i < 5; i++) {
        free(keys[i][0]);
        free(keys[i][1]);
    }
}

/* ---- SCAN ---------------------------------------------------------------------------- */

static void set_numbered(struct fx *f, const char *prefix, int from, int to)
{
    for (int i = from; i < to; i++) {
        char key[32];
        snprintf(key, sizeof(key), "%s%d", prefix, i);
        set(f, key, "x");
    }
}

static void test_scan(void **state)
{
    struct fx *f = *state;
    struct scan_seen *seen = calloc(1, sizeof(*seen));
    assert_int_equal(scan_all(f, NULL, 10, T0, seen), 1); /* an empty store: one step */
    assert_int_equal(seen->count, 0);
    set_numbered(f, "key:", 0, 1000);
    /* COUNT 7: every key exactly once, in about 1000 / 7 steps. */
    uint32_t steps = scan_all(f, NULL, 7, T0, seen);
    assert_int_equal(seen->count, 1000);
    assert_true(steps >= 1000 / 7 && steps <= 1000 / 7 + 2);
    for (int i = 0; i < 1000; i += 37) {
        char key[32];
        snprintf(key, sizeof(key), "key:%d", i);
        assert_int_equal(seen_times(seen, key), 1);
    }
    seen_free(seen);
    /* MATCH filters what COUNT visited; "*" and no pattern return all; COUNT 0 is 10. */
    scan_all(f, "key:1*", 50, T0, seen);
    assert_int_equal(seen->count, 1 + 10 + 100);
    seen_free(seen);
    scan_all(f, "*", 0, T0, seen);
    assert_int_equal(seen->count, 1000);
    seen_free(seen);
    scan_all(f, "nothing*", 5000, T0, seen); /* COUNT past the maximum is cut, still whole */
    assert_int_equal(seen->count, 0);
    /* An expired key is not returned. */
    set_full(f, "key:0", "x", KV_COND_NONE, NULL, 0, T0 + 1, T0);
    scan_all(f, NULL, 100, T0 + 1, seen);
    assert_int_equal(seen->count, 999);
    assert_int_equal(seen_times(seen, "key:0"), 0);
    seen_free(seen);
    free(seen);
}

/* Keys present for the whole scan come back exactly once, while other keys are deleted
 * and added between the steps. */
static void test_scan_stable_under_writes(void **state)
{
    struct fx *f = *state;
    set_numbered(f, "stable:", 0, 500);
    set_numbered(f, "churn:", 0, 500);
    struct scan_seen *seen = calloc(1, sizeof(*seen));
    uint64_t cursor = 0;
    int step = 0;
    do {
        assert_int_equal(kv_scan(f->kv, cursor, str("stable:*"), 5, T0, scan_cb, seen, &cursor), 0);
        char key[32];
        snprintf(key, sizeof(key), "churn:%d", step % 500);
        struct kv_bytes k = str(key);
        assert_int_equal(kv_cmd_encode_items(&f->cmd, KV_OP_DEL, T0, &k, 1), 0);
        apply_cmd(f);
        set_numbered(f, "new:", step * 3, step * 3 + 3);
        step++;
    } while (cursor != 0);
    assert_int_equal(seen->count, 500);
    for (int i = 0; i < 500; i++) {
        char key[32];
        snprintf(key, sizeof(key), "stable:%d", i);
        assert_int_equal(seen_times(seen, key), 1);
    }
    seen_free(seen);
    free(seen);
}

/* ---- The applied index --------------------------------------------------------------- */

static struct raft_entry entry(uint64_t index, uint32_t type, const void *data, size_t size)
{
    return (struct raft_entry){
        .term = 3, .index = index, .type = type, .data = data, .data_size = (uint32_t)size};
}

static void test_applied_index_persists(void **state)
{
    struct fx *f = *state;
    assert_int_equal(kv_applied_index(f->kv), 0);
    assert_int_equal(kv_conf(f->kv, &f->value), SYN_ENOENT);
    struct kv_cmd c = {.now_ms = T0, .key = str("k"), .value = str("v")};
    assert_int_equal(kv_cmd_encode_set(&f->cmd, &c), 0);
    struct raft_entry batch[3] = {entry(1, RAFT_ENTRY_CONF, "conf-bytes", 10),
                                  entry(2, RAFT_ENTRY_NOOP, NULL, 0),
                                  entry(3, RAFT_ENTRY_NORMAL, f->cmd.data, f->cmd.len)};
    assert_int_equal(kv_apply_begin(f->kv), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(kv_apply(f->kv, &batch[i], NULL), 0);
    }
    /* Reads during a batch see it. */
    assert_int_equal(kv_applied_index(f->kv), 3);
    assert_string_equal(get(f, "k"), "v");
    assert_int_equal(kv_apply_commit(f->kv), 0);
    /* An aborted batch leaves nothing. */
    syn_buf_reset(&f->cmd);
    c.key = str("gone");
    assert_int_equal(kv_cmd_encode_set(&f->cmd, &c), 0);
    struct raft_entry e4 = entry(4, RAFT_ENTRY_NORMAL, f->cmd.data, f->cmd.len);
    assert_int_equal(kv_apply_begin(f->kv), 0);
    assert_int_equal(kv_apply(f->kv, &e4, NULL), 0);
    assert_string_equal(get(f, "gone"), "v");
    kv_apply_abort(f->kv);
    assert_null(get(f, "gone"));
    assert_int_equal(kv_applied_index(f->kv), 3);
    /* Restart: the index, term, conf and data are all there. */
    assert_int_equal(kv_close(f->kv), 0);
    f->kv = open_store(f->dir);
    assert_int_equal(kv_applied_index(f->kv), 3);
    assert_int_equal(kv_applied_term(f->kv), 3);
    assert_int_equal(kv_conf(f->kv, &f->value), 0);
    assert_int_equal(f->value.len, 10);
    assert_memory_equal(f->value.data, "conf-bytes", 10);
    assert_string_equal(get(f, "k"), "v");
    assert_null(get(f, "gone"));
    /* A batch left open at close is dropped. */
    assert_int_equal(kv_apply_begin(f->kv), 0);
    assert_int_equal(kv_apply(f->kv, &e4, NULL), 0);
    assert_int_equal(kv_close(f->kv), 0);
    f->kv = open_store(f->dir);
    assert_int_equal(kv_applied_index(f->kv), 3);
}

/* Applying an entry at or below the applied index is a broken invariant: the process
 * aborts rather than apply it twice, also after a restart. */
static void test_no_double_apply(void **state)
{
    struct fx *f = *state;
    struct raft_entry batch[2] = {entry(1, RAFT_ENTRY_NOOP, NULL, 0),
                                  entry(2, RAFT_ENTRY_NOOP, NULL, 0)};
    assert_int_equal(kv_apply_begin(f->kv), 0);
    assert_int_equal(kv_apply(f->kv, &batch[0], NULL), 0);
    assert_int_equal(kv_apply(f->kv, &batch[1], NULL), 0);
    assert_int_equal(kv_apply_commit(f->kv), 0);
    assert_int_equal(kv_close(f->kv), 0);
    f->kv = NULL;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGABRT, SIG_DFL);
        if (freopen("/dev/null", "w", stderr) == NULL) {
            _exit(2);
        }
        struct kv_store *kv = NULL;
        if (kv_open(f->dir, NULL, &kv, NULL) != 0 || kv_apply_begin(kv) != 0) {
            _exit(3);
        }
        kv_apply(kv, &batch[1], NULL);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    f->kv = open_store(f->dir);
    assert_int_equal(kv_applied_index(f->kv), 2);
}

/* A NORMAL entry that does not decode: an ERROR result, and the index moves on. */
static void test_bad_entries(void **state)
{
    struct fx *f = *state;
    const char prefix[] = "ERR bad command in the log: ";
    uint8_t garbage[] = {KV_CMD_VERSION, 0x7f, 1, 2, 3, 4, 5, 6, 7, 8};
    uint8_t truncated[] = {KV_CMD_VERSION, KV_OP_SET, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    struct raft_entry bad[3] = {entry(1, RAFT_ENTRY_NORMAL, garbage, sizeof(garbage)),
                                entry(2, RAFT_ENTRY_NORMAL, NULL, 0),
                                entry(3, RAFT_ENTRY_NORMAL, truncated, sizeof(truncated))};
    assert_int_equal(kv_apply_begin(f->kv), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(kv_apply(f->kv, &bad[i], &f->res), 0);
        assert_int_equal(f->res.kind, KV_RESULT_ERROR);
        assert_true(f->res.data.len > strlen(prefix));
        assert_memory_equal(f->res.data.data, prefix, strlen(prefix));
        assert_null(memchr(f->res.data.data, '\n', f->res.data.len));
    }
    assert_int_equal(kv_apply_commit(f->kv), 0);
    assert_int_equal(kv_applied_index(f->kv), 3);
    f->index = 3;
    set(f, "after", "ok");
    assert_string_equal(get(f, "after"), "ok");
    assert_int_equal(dbsize(f, T0), 1);
}

/* ---- Snapshots ----------------------------------------------------------------------- */

static void populate(struct fx *f, int keys)
{
    set_numbered(f, "snap:", 0, keys);
    set_full(f, "ttl", "t", KV_COND_NONE, NULL, 0, T0 + 60000, T0);
    char *big = long_key(2000, 'z');
    set(f, big, "long");
    free(big);
}

static void test_snapshot_round_trip(void **state)
{
    struct fx *f = *state;
    populate(f, 200);
    uint64_t digest = 0, size = 0;
    assert_int_equal(kv_digest(f->kv, &digest), 0);
    char snap[128], other[64], bad[128];
    snprintf(snap, sizeof(snap), "%s/snap.tmp", f->dir);
    snprintf(bad, sizeof(bad), "%s/bad.tmp", f->dir);
    assert_int_equal(kv_snapshot_write(f->kv, snap, &size), 0);
    assert_true(size > 0);
    uint64_t index = kv_applied_index(f->kv);
    /* Restore into a new directory, then over a store that moved on. */
    snprintf(other, sizeof(other), "/tmp/synod-kv-XXXXXX");
    assert_non_null(mkdtemp(other));
    char errmsg[KV_ERRMSG_SIZE];
    assert_int_equal(kv_snapshot_restore(other, snap, errmsg), 0);
    struct kv_store *kv2 = open_store(other);
    uint64_t digest2 = 0;
    assert_int_equal(kv_digest(kv2, &digest2), 0);
    assert_true(digest2 == digest);
    assert_int_equal(kv_applied_index(kv2), index);
    uint64_t n = 0;
    assert_int_equal(kv_dbsize(kv2, T0, &n), 0);
    assert_int_equal(n, 202);
    /* The snapshot file is left as it was; a store that is open refuses a restore. */
    assert_int_equal(kv_snapshot_restore(other, snap, errmsg), SYN_EBUSY);
    struct raft_entry noop = entry(index + 1, RAFT_ENTRY_NOOP, NULL, 0);
    assert_int_equal(kv_apply_begin(kv2), 0);
    assert_int_equal(kv_apply(kv2, &noop, NULL), 0);
    assert_int_equal(kv_apply_commit(kv2), 0);
    assert_int_equal(kv_close(kv2), 0);
    assert_int_equal(kv_snapshot_restore(other, snap, errmsg), 0);
    kv2 = open_store(other);
    assert_int_equal(kv_applied_index(kv2), index);
    assert_int_equal(kv_close(kv2), 0);
    /* A damaged snapshot is refused and the store is untouched: cut short, garbage. */
    FILE *in = fopen(snap, "rb");
    FILE *out = fopen(bad, "wb");
    uint8_t *buf = malloc(size);
    assert_int_equal(fread(buf, 1, size, in), size);
    assert_int_equal(fwrite(buf, 1, size / 2, out), size / 2);
    fclose(in);
    fclose(out);
    assert_int_equal(kv_snapshot_restore(other, bad, errmsg), SYN_ECORRUPT);
    out = fopen(bad, "wb");
    memset(buf, 0x5a, size);
    assert_int_equal(fwrite(buf, 1, size, out), size);
    fclose(out);
    assert_int_equal(kv_snapshot_restore(other, bad, errmsg), SYN_ECORRUPT);
    assert_int_equal(kv_snapshot_restore(other, "/nonexistent/snap", errmsg), SYN_EIO);
    free(buf);
    kv2 = open_store(other);
    assert_int_equal(kv_applied_index(kv2), index);
    assert_int_equal(kv_close(kv2), 0);
    remove_dir(other);
}

/* ---- Determinism --------------------------------------------------------------------- */

/* One random command over a small key space, with a clock that mostly moves on and at times
 * runs back (a new leader with a slower clock). */
static void random_command(struct prng *rng, uint64_t *now, struct syn_buf *out)
{
    char keys[4][8];
    struct kv_bytes k[4];
    for (int i = 0; i < 4; i++) {
        snprintf(keys[i], sizeof(keys[i]), "k%d", (int)prng_range(rng, 0, 40));
        k[i] = str(keys[i]);
    }
    *now = prng_chance(rng, 50000) ? *now - 500 : *now + prng_range(rng, 0, 30);
    uint64_t ttl = prng_chance(rng, 300000) ? *now + prng_range(rng, 1, 200) : 0;
    switch (prng_range(rng, 0, 6)) {
    case 5:
    case 6: { /* Consul's PUT and DELETE, with CAS on small indexes and prefix deletes */
        bool put = prng_chance(rng, 500000);
        bool recurse = !put && prng_chance(rng, 300000);
        struct kv_cmd c = {.op = put ? KV_OP_PUT : KV_OP_DELETE,
                           .now_ms = *now,
                           .cond = !recurse && prng_chance(rng, 500000) ? KV_COND_CAS
                                                                        : KV_COND_NONE,
                           .cas_index = prng_range(rng, 0, 50),
                           .user_flags = prng_range(rng, 0, 3),
                           .key = recurse ? str("k1") : k[0],
                           .value = put ? str("c") : (struct kv_bytes){0},
                           .recurse = recurse};
        assert_int_equal(kv_cmd_encode_consul(out, &c), 0);
        break;
    }
    case 0: {
        static const char *values[] = {"1", "2", "x", "-7"};
        uint8_t cond = (uint8_t)prng_range(rng, 0, KV_COND_IFEQ);
        struct kv_cmd c = {.now_ms = *now,
                           .cond = cond,
                           .expire_at_ms = ttl,
                           .key = k[0],
                           .value = str(values[prng_range(rng, 0, 3)]),
                           .flags = prng_chance(rng, 500000) ? KV_SET_GET : 0,
                           .expected = cond == KV_COND_IFEQ ? str(values[prng_range(rng, 0, 3)])
                                                            : (struct kv_bytes){0}};
        assert_int_equal(kv_cmd_encode_set(out, &c), 0);
        break;
    }
    case 1:
        assert_int_equal(kv_cmd_encode_incrby(out, *now, k[0], (int64_t)prng_range(rng, 0, 9) - 4),
                         0);
        break;
    case 2:
        assert_int_equal(kv_cmd_encode_items(out, KV_OP_DEL, *now, k, 2), 0);
        break;
    case 3:
        assert_int_equal(kv_cmd_encode_items(out, KV_OP_MSET, *now, k, 4), 0);
        break;
    default:
        assert_int_equal(kv_cmd_encode_items(out, KV_OP_EXPIRE, *now, k, 3), 0);
        break;
    }
}

/* Applies the entries to kv in batches of 1 .. batch_max (drawn from batching). */
static void apply_all(struct kv_store *kv, struct raft_entry *entries, uint32_t count,
                      struct prng *batching, uint32_t batch_max, struct kv_result *results)
{
    uint32_t i = 0;
    while (i < count) {
        uint32_t n = (uint32_t)prng_range(batching, 1, batch_max);
        assert_int_equal(kv_apply_begin(kv), 0);
        for (uint32_t j = 0; j < n && i < count; j++, i++) {
            assert_int_equal(kv_apply(kv, &entries[i], &results[i]), 0);
        }
        assert_int_equal(kv_apply_commit(kv), 0);
    }
}

/* Writes a snapshot of each store (into dirs[0], dirs[1]) and compares the bytes. */
/* Snapshots of a and b hold the same store: restored, they digest alike. (Not the same
 * bytes: a compact LMDB copy keeps each page's unused middle as it was, and what was there
 * depends on the map mode's page reuse.) */
static void expect_same_snapshots(struct kv_store *a, struct kv_store *b, char dirs[2][64])
{
    struct kv_store *kvs[2] = {a, b};
    uint64_t digests[2];
    for (int s = 0; s < 2; s++) {
        char path[160];
        char restored[160];
        uint64_t size = 0;
        snprintf(path, sizeof(path), "%s/snap", dirs[s]);
        snprintf(restored, sizeof(restored), "%s/restored", dirs[s]);
        assert_int_equal(kv_snapshot_write(kvs[s], path, &size), 0);
        assert_int_equal(mkdir(restored, 0700), 0);
        char errmsg[KV_ERRMSG_SIZE];
        assert_int_equal(kv_snapshot_restore(restored, path, errmsg), 0);
        struct kv_store *copy = open_store(restored);
        assert_int_equal(kv_digest(copy, &digests[s]), 0);
        assert_int_equal(kv_close(copy), 0);
        remove_dir(restored);
        unlink(path);
    }
    assert_true(digests[0] == digests[1]);
}

static void test_determinism(void **state)
{
    struct fx *f = *state;
    enum { COUNT = 3000 };
    struct prng rng;
    prng_init(&rng, 2024);
    struct syn_buf *cmds = calloc(COUNT, sizeof(*cmds));
    struct raft_entry *entries = calloc(COUNT, sizeof(*entries));
    struct kv_result *ra = calloc(COUNT, sizeof(*ra));
    struct kv_result *rb = calloc(COUNT, sizeof(*rb));
    uint64_t now = T0;
    for (uint32_t i = 0; i < COUNT; i++) {
        syn_buf_init(&cmds[i], 0);
        random_command(&rng, &now, &cmds[i]);
        entries[i] = entry(i + 1, RAFT_ENTRY_NORMAL, cmds[i].data, cmds[i].len);
        kv_result_init(&ra[i]);
        kv_result_init(&rb[i]);
    }
    char dirs[2][64];
    struct kv_store *kvs[2];
    for (int s = 0; s < 2; s++) {
        snprintf(dirs[s], sizeof(dirs[s]), "/tmp/synod-kv-XXXXXX");
        assert_non_null(mkdtemp(dirs[s]));
        struct kv_options opts = {.write_map = s == 1}; /* the mode does not show in the data */
        char errmsg[KV_ERRMSG_SIZE];
        assert_int_equal(kv_open(dirs[s], &opts, &kvs[s], errmsg), 0);
    }
    /* f->kv in batches of up to 64, kvs[0] one entry per batch, kvs[1] like f->kv but with
     * MDB_WRITEMAP. */
    struct prng batching;
    prng_init(&batching, 1);
    apply_all(f->kv, entries, COUNT, &batching, 64, ra);
    prng_init(&batching, 2);
    apply_all(kvs[0], entries, COUNT, &batching, 1, rb);
    uint64_t da = 0, db = 0;
    assert_int_equal(kv_digest(f->kv, &da), 0);
    assert_int_equal(kv_digest(kvs[0], &db), 0);
    assert_true(da == db);
    uint32_t kinds[KV_RESULT_KIND_MAX + 1] = {0};
    for (uint32_t i = 0; i < COUNT; i++) {
        assert_int_equal(ra[i].kind, rb[i].kind);
        assert_true(ra[i].integer == rb[i].integer);
        assert_int_equal(ra[i].data.len, rb[i].data.len);
        if (ra[i].data.len > 0) {
            assert_memory_equal(ra[i].data.data, rb[i].data.data, ra[i].data.len);
        }
        kinds[ra[i].kind]++;
    }
    for (uint32_t k = KV_RESULT_OK; k <= KV_RESULT_KIND_MAX; k++) {
        assert_true(kinds[k] > 0); /* the workload reached every kind of result */
    }
    /* The same batches give byte-identical compact snapshots, whatever the map mode. */
    prng_init(&batching, 1);
    apply_all(kvs[1], entries, COUNT, &batching, 64, rb);
    expect_same_snapshots(f->kv, kvs[1], dirs);
    for (int s = 0; s < 2; s++) {
        assert_int_equal(kv_close(kvs[s]), 0);
        remove_dir(dirs[s]);
    }
    for (uint32_t i = 0; i < COUNT; i++) {
        syn_buf_free(&cmds[i]);
        kv_result_free(&ra[i]);
        kv_result_free(&rb[i]);
    }
    free(cmds);
    free(entries);
    free(ra);
    free(rb);
}

/* ---- Crashes, ownership, the map ----------------------------------------------------- */

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *out = fopen(path, "w");
    assert_non_null(out);
    fputs(text, out);
    fclose(out);
}

static bool file_exists(const char *dir, const char *name)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

static void test_unsynced_marker(void **state)
{
    struct fx *f = *state;
    set(f, "k", "v");
    assert_true(file_exists(f->dir, "unsynced")); /* commits since the last sync */
    assert_int_equal(kv_sync(f->kv), 0);
    assert_false(file_exists(f->dir, "unsynced"));
    set(f, "k", "w");
    assert_true(file_exists(f->dir, "unsynced"));
    char snap[128];
    uint64_t size;
    snprintf(snap, sizeof(snap), "%s/snap", f->dir);
    assert_int_equal(kv_snapshot_write(f->kv, snap, &size), 0);
    assert_int_equal(kv_close(f->kv), 0);
    f->kv = NULL;
    assert_false(file_exists(f->dir, "unsynced")); /* a clean close syncs */
    /* A marker from this boot: a process crash, the page cache kept every commit. */
    FILE *in = fopen("/proc/sys/kernel/random/boot_id", "r");
    char boot[64] = "";
    if (in != NULL) {
        assert_non_null(fgets(boot, sizeof(boot), in));
        fclose(in);
        write_file(f->dir, "unsynced", boot);
        f->kv = open_store(f->dir);
        assert_int_equal(kv_close(f->kv), 0);
        f->kv = NULL;
    }
    /* A marker from another boot: LMDB may be torn; the snapshot is the way back. */
    write_file(f->dir, "unsynced", "another-boot");
    struct kv_store *kv = NULL;
    char errmsg[KV_ERRMSG_SIZE];
    assert_int_equal(kv_open(f->dir, NULL, &kv, errmsg), SYN_ECORRUPT);
    assert_null(kv);
    assert_non_null(strstr(errmsg, "snapshot"));
    assert_int_equal(kv_snapshot_restore(f->dir, snap, errmsg), 0);
    f->kv = open_store(f->dir);
    assert_string_equal(get(f, "k"), "w");
}

static void test_one_owner(void **state)
{
    struct fx *f = *state;
    struct kv_store *kv = NULL;
    char errmsg[KV_ERRMSG_SIZE];
    assert_int_equal(kv_open(f->dir, NULL, &kv, errmsg), SYN_EBUSY);
    assert_null(kv);
    struct kv_options bad = {.map_size = 1000};
    assert_int_equal(kv_open(f->dir, &bad, &kv, errmsg), SYN_EINVAL);
}

static void test_map_grows_then_fills(void **state)
{
    struct fx *f = *state;
    assert_int_equal(kv_close(f->kv), 0);
    struct kv_options small = {.map_size = KV_MAP_SIZE_MIN, .map_size_max = 16 * KV_MAP_SIZE_MIN};
    char errmsg[KV_ERRMSG_SIZE];
    assert_int_equal(kv_open(f->dir, &small, &f->kv, errmsg), 0);
    char *value = malloc(64 << 10);
    memset(value, 'v', 64 << 10);
    value[(64 << 10) - 1] = '\0';
    /* 4 MiB of values in a map that starts at 1 MiB. */
    set_numbered(f, "warm:", 0, 1);
    for (int i = 0; i < 64; i++) {
        char key[16];
        snprintf(key, sizeof(key), "big:%d", i);
        set(f, key, value);
    }
    /* Past map_size_max: the batch fails with SYN_ENOSPC and the store stays usable. */
    int rc = 0;
    uint64_t applied = kv_applied_index(f->kv);
    for (int i = 64; i < 1000 && rc == 0; i++) {
        char key[16];
        snprintf(key, sizeof(key), "big:%d", i);
        struct kv_cmd c = {.now_ms = T0, .key = str(key), .value = str(value)};
        assert_int_equal(kv_cmd_encode_set(&f->cmd, &c), 0);
        struct raft_entry e = entry(++f->index, RAFT_ENTRY_NORMAL, f->cmd.data, f->cmd.len);
        assert_int_equal(kv_apply_begin(f->kv), 0);
        rc = kv_apply(f->kv, &e, NULL);
        if (rc == 0) {
            rc = kv_apply_commit(f->kv);
            applied = e.index;
        } else {
            assert_int_equal(kv_apply_commit(f->kv), rc);
        }
        syn_buf_reset(&f->cmd);
    }
    assert_int_equal(rc, SYN_ENOSPC);
    assert_int_equal(kv_applied_index(f->kv), applied);
    assert_string_equal(get(f, "big:3"), value);
    free(value);
}

/* ---- Consul's KV: PUT, DELETE, CAS, meta, ordered listings ---------------------------- */

static struct kv_result *consul(struct fx *f, uint8_t op, const char *key, const char *value,
                                bool cas, uint64_t cas_index, uint64_t flags, bool recurse)
{
    struct kv_cmd c = {.op = op,
                       .now_ms = T0,
                       .cond = cas ? KV_COND_CAS : KV_COND_NONE,
                       .key = str(key),
                       .value = value != NULL ? str(value) : (struct kv_bytes){0},
                       .user_flags = flags,
                       .cas_index = cas_index,
                       .recurse = recurse};
    assert_int_equal(kv_cmd_encode_consul(&f->cmd, &c), 0);
    return apply_cmd(f);
}

static struct kv_meta_entry meta_of(struct fx *f, const char *key)
{
    struct kv_meta_entry m = {0};
    assert_int_equal(kv_get_entry(f->kv, str(key), T0, &f->value, &m), 0);
    return m;
}

struct listing {
    char keys[64][600];
    uint32_t count;
};

static int listing_cb(void *ctx, struct kv_bytes key, const uint8_t *value, size_t value_size,
                      const struct kv_meta_entry *meta)
{
    (void)value;
    (void)value_size;
    (void)meta;
    struct listing *l = ctx;
    assert_true(l->count < 64);
    size_t n = key.size < 599 ? key.size : 599;
    memcpy(l->keys[l->count], key.data, n);
    l->keys[l->count][n] = '\0';
    l->count++;
    return 0;
}

static uint64_t list(struct fx *f, const char *prefix, struct listing *l)
{
    uint64_t index = 0;
    memset(l, 0, sizeof(*l));
    assert_int_equal(kv_list(f->kv, str(prefix), true, T0, listing_cb, l, &index), 0);
    return index;
}

static void test_consul_put_cas_meta(void **state)
{
    struct fx *f = *state;
    assert_int_equal(consul(f, KV_OP_PUT, "web/a", "1", false, 0, 42, false)->integer, 1);
    uint64_t created = f->index;
    struct kv_meta_entry m = meta_of(f, "web/a");
    assert_int_equal(m.create_index, created);
    assert_int_equal(m.modify_index, created);
    assert_int_equal(m.user_flags, 42);
    /* cas=0 only creates; a stale index fails; the current one succeeds. */
    assert_int_equal(consul(f, KV_OP_PUT, "web/a", "2", true, 0, 0, false)->integer, 0);
    assert_int_equal(consul(f, KV_OP_PUT, "web/a", "2", true, created + 5, 0, false)->integer, 0);
    assert_int_equal(consul(f, KV_OP_PUT, "web/a", "2", true, created, 7, false)->integer, 1);
    m = meta_of(f, "web/a");
    assert_int_equal(m.create_index, created);
    assert_int_equal(m.modify_index, f->index);
    assert_int_equal(m.user_flags, 7);
    assert_string_equal(get(f, "web/a"), "2");
    /* A RESP SET keeps the create index, moves the modify index, clears the flags. */
    set(f, "web/a", "3");
    m = meta_of(f, "web/a");
    assert_int_equal(m.create_index, created);
    assert_int_equal(m.modify_index, f->index);
    assert_int_equal(m.user_flags, 0);
    /* DELETE with a wrong cas keeps it; with the right one removes it. */
    assert_int_equal(consul(f, KV_OP_DELETE, "web/a", NULL, true, 1, 0, false)->integer, 0);
    assert_string_equal(get(f, "web/a"), "3");
    assert_int_equal(consul(f, KV_OP_DELETE, "web/a", NULL, true, m.modify_index, 0, false)
                         ->integer,
                     1);
    assert_null(get(f, "web/a"));
    assert_int_equal(kv_absent_index(f->kv), f->index);
    /* Created again: a new create index. */
    assert_int_equal(consul(f, KV_OP_PUT, "web/a", "", true, 0, 0, false)->integer, 1);
    assert_int_equal(meta_of(f, "web/a").create_index, f->index);
}

/* synod log's APPEND: the key is the prefix and the entry's own index in 20 digits, so the
 * listing is in log order; Flags is the command's clock; the result is the index. */
static void test_append_log(void **state)
{
    struct fx *f = *state;
    const char *texts[] = {"first", "second", ""};
    uint64_t indexes[3];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(
            kv_cmd_encode_append(&f->cmd, T0 + (uint64_t)i, str("synod/log/"), str(texts[i])), 0);
        const struct kv_result *r = apply_cmd(f);
        assert_int_equal(r->kind, KV_RESULT_INTEGER);
        assert_int_equal(r->integer, f->index);
        indexes[i] = f->index;
        if (i == 0) {
            set(f, "synod/lof", "not in the log"); /* another entry between two appends */
        }
    }
    struct listing l;
    assert_int_equal(list(f, "synod/log/", &l), indexes[2]);
    assert_int_equal(l.count, 3);
    for (int i = 0; i < 3; i++) {
        char want[64];
        snprintf(want, sizeof(want), "synod/log/%020llu", (unsigned long long)indexes[i]);
        assert_string_equal(l.keys[i], want);
        struct kv_meta_entry m = meta_of(f, want);
        assert_int_equal(m.modify_index, indexes[i]);
        assert_int_equal(m.user_flags, T0 + (uint64_t)i);
        if (texts[i][0] != '\0') {
            assert_string_equal(get(f, want), texts[i]);
        }
    }
    assert_int_equal(indexes[1], indexes[0] + 2);
}

static void test_consul_listing(void **state)
{
    struct fx *f = *state;
    const char *keys[] = {"web/b", "web/a/2", "webx", "web/a/1", "api", "web/", ""};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        set(f, keys[i], "v");
    }
    struct listing l;
    uint64_t index = list(f, "web/", &l);
    assert_int_equal(l.count, 4);
    assert_string_equal(l.keys[0], "web/");
    assert_string_equal(l.keys[1], "web/a/1");
    assert_string_equal(l.keys[2], "web/a/2");
    assert_string_equal(l.keys[3], "web/b");
    assert_int_equal(index, 6); /* web/ was written last of them, at entry 6 */
    list(f, "", &l);
    assert_int_equal(l.count, 7);
    assert_string_equal(l.keys[0], "");
    assert_string_equal(l.keys[1], "api");
    /* An expired key is not listed. */
    set_full(f, "web/c", "t", KV_COND_NONE, NULL, 0, T0 - 1 + 2, T0);
    list(f, "web/", &l);
    assert_int_equal(l.count, 5);
    /* DELETE ?recurse removes the prefix and nothing else; the index moves past it. */
    assert_int_equal(consul(f, KV_OP_DELETE, "web/a/", NULL, false, 0, 0, true)->integer, 1);
    index = list(f, "web/", &l);
    assert_int_equal(l.count, 3);
    assert_int_equal(index, f->index);
    assert_int_equal(consul(f, KV_OP_DELETE, "web", NULL, false, 0, 0, true)->integer, 1);
    list(f, "", &l);
    assert_int_equal(l.count, 2);
    assert_string_equal(l.keys[0], "");
    assert_string_equal(l.keys[1], "api");
    assert_int_equal(dbsize(f, T0), 2);
}

static void test_consul_long_prefixes(void **state)
{
    struct fx *f = *state;
    /* Keys past the ordered index's 498 bytes: listed under long prefixes, removed by them. */
    char *a = long_key(600, 'a');
    char *b = long_key(600, 'b');
    char *c = long_key(460, 'c');
    set(f, a, "1");
    set(f, b, "2");
    set(f, c, "3");
    struct listing l;
    list(f, "ppp", &l);
    assert_int_equal(l.count, 3);
    char prefix[600];
    memcpy(prefix, a, 599);
    prefix[599] = '\0'; /* 599 p's: a and b, not c */
    list(f, prefix, &l);
    assert_int_equal(l.count, 2);
    memcpy(prefix, a, 600);
    prefix[600 - 1] = 'b';
    prefix[599] = '\0';
    char whole_b[601];
    memcpy(whole_b, b, 601);
    list(f, whole_b, &l);
    assert_int_equal(l.count, 1);
    assert_int_equal(consul(f, KV_OP_DELETE, whole_b, NULL, false, 0, 0, true)->integer, 1);
    list(f, "ppp", &l);
    assert_int_equal(l.count, 2);
    assert_string_equal(get(f, a), "1");
    assert_null(get(f, b));
    free(a);
    free(b);
    free(c);
}

struct changes {
    uint32_t count;
    uint32_t removed;
    uint64_t last_index;
};

static void change_cb(void *ctx, enum kv_change what, struct kv_bytes key, uint64_t index)
{
    (void)key;
    struct changes *c = ctx;
    c->count++;
    c->removed += what == KV_CHANGE_REMOVE ? 1 : 0;
    c->last_index = index;
}

static void test_change_observer(void **state)
{
    struct fx *f = *state;
    struct changes ch = {0};
    kv_set_change_cb(f->kv, change_cb, &ch);
    set(f, "a", "1");
    set(f, "b", "1");
    assert_int_equal(consul(f, KV_OP_DELETE, "", NULL, false, 0, 0, true)->integer, 1);
    assert_int_equal(ch.count, 4);
    assert_int_equal(ch.removed, 2);
    assert_int_equal(ch.last_index, f->index);
    kv_set_change_cb(f->kv, NULL, NULL);
    set(f, "c", "1");
    assert_int_equal(ch.count, 4);
}

/* ---- the real full disk (tests/storage/kv_enospc.sh) ---------------------------------- */

/* Applies count SETs of 4 KiB values as one batch: 0 or the batch's error. */
static int enospc_batch(struct kv_store *kv, uint64_t *index, struct syn_buf *cmd, int count)
{
    static char value[4096];
    memset(value, 'e', sizeof(value) - 1);
    int rc = kv_apply_begin(kv);
    if (rc != 0) {
        return rc;
    }
    for (int i = 0; i < count && rc == 0; i++) {
        char key[32];
        snprintf(key, sizeof(key), "fill:%08llu", (unsigned long long)(*index + 1));
        struct kv_cmd c = {.now_ms = T0, .key = str(key), .value = str(value)};
        syn_buf_reset(cmd);
        if (kv_cmd_encode_set(cmd, &c) != 0) {
            return SYN_ENOMEM;
        }
        struct raft_entry e = entry(*index + 1, RAFT_ENTRY_NORMAL, cmd->data, cmd->len);
        rc = kv_apply(kv, &e, NULL);
        if (rc == 0) {
            ++*index;
        }
    }
    int crc = kv_apply_commit(kv);
    return rc != 0 ? rc : crc;
}

/* Fills the file system that holds path with one file; its size in bytes. */
static uint64_t enospc_fill(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        return 0;
    }
    static char block[1 << 16];
    uint64_t total = 0;
    ssize_t n;
    while ((n = write(fd, block, sizeof(block))) > 0) {
        total += (uint64_t)n;
    }
    while ((n = write(fd, block, 512)) > 0) {
        total += (uint64_t)n;
    }
    close(fd);
    return total;
}

/* The store with write_map on a disk that really fills: the batch that cannot reserve its
 * blocks fails with SYN_ENOSPC (never SIGBUS), the store keeps every committed batch, and
 * it writes again once there is room. */
static int enospc_main(const char *dir)
{
    char store[512], filler[512];
    snprintf(store, sizeof(store), "%s/kv", dir);
    snprintf(filler, sizeof(filler), "%s/filler", dir);
    struct kv_options opts = {.write_map = true};
    struct kv_store *kv = NULL;
    char errmsg[KV_ERRMSG_SIZE];
    if (kv_open(store, &opts, &kv, errmsg) != 0) {
        fprintf(stderr, "FAIL: open: %s\n", errmsg);
        return 1;
    }
    struct syn_buf cmd;
    syn_buf_init(&cmd, 0);
    uint64_t index = 0;
    int rc = enospc_batch(kv, &index, &cmd, 16); /* reserves the store's first blocks */
    uint64_t filled = enospc_fill(filler);
    printf("store reserved its blocks; filler took %llu KiB: the disk is full\n",
           (unsigned long long)(filled >> 10));
    uint64_t committed = index;
    int batches = 0;
    while (rc == 0 && batches < 100000) {
        rc = enospc_batch(kv, &index, &cmd, 16);
        if (rc == 0) {
            committed = index;
            batches++;
        }
    }
    int status = 0;
    if (rc != SYN_ENOSPC) {
        fprintf(stderr, "FAIL: expected SYN_ENOSPC, got %d (%s)\n", rc, kv_errmsg(kv));
        status = 1;
    }
    printf("after %d more batches: %s (%s); %llu entries committed\n", batches,
           syn_strerror(rc), kv_errmsg(kv), (unsigned long long)committed);
    if (kv_applied_index(kv) != committed) {
        fprintf(stderr, "FAIL: applied %llu, committed %llu\n",
                (unsigned long long)kv_applied_index(kv), (unsigned long long)committed);
        status = 1;
    }
    kv_close(kv);
    /* Reopened on the full disk (write_map cannot reserve there: it opens without), then
     * with room again: every committed entry is there and writes go on. */
    for (int round = 0; round < 2 && status == 0; round++) {
        if (round == 1) {
            unlink(filler);
        }
        kv = NULL;
        if (kv_open(store, &opts, &kv, errmsg) != 0) {
            fprintf(stderr, "FAIL: reopen: %s\n", errmsg);
            status = 1;
            break;
        }
        char key[32];
        snprintf(key, sizeof(key), "fill:%08llu", (unsigned long long)committed);
        struct syn_buf got;
        syn_buf_init(&got, 0);
        if (kv_applied_index(kv) != committed || kv_get(kv, str(key), T0, &got) != 0 ||
            got.len != 4095) {
            fprintf(stderr, "FAIL: reopened store lost entry %llu (applied %llu)\n",
                    (unsigned long long)committed, (unsigned long long)kv_applied_index(kv));
            status = 1;
        }
        syn_buf_free(&got);
        if (round == 1 && status == 0 && (rc = enospc_batch(kv, &index, &cmd, 16)) != 0) {
            fprintf(stderr, "FAIL: no write with room again: %s\n", kv_errmsg(kv));
            status = 1;
        }
        kv_close(kv);
    }
    if (status == 0) {
        printf("reopened on the full disk and after: every committed entry there, writes go on\n");
    }
    syn_buf_free(&cmd);
    return status;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "--enospc") == 0) {
        return enospc_main(argv[2]);
    }
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_set_get),
        T(test_set_conditions),
        T(test_incrby),
        T(test_mset_mget_del_exists),
        T(test_expiry),
        T(test_long_keys),
        T(test_scan),
        T(test_scan_stable_under_writes),
        T(test_applied_index_persists),
        T(test_no_double_apply),
        T(test_bad_entries),
        T(test_snapshot_round_trip),
        T(test_determinism),
        T(test_unsynced_marker),
        T(test_one_owner),
        T(test_map_grows_then_fills),
        T(test_consul_put_cas_meta),
        T(test_consul_listing),
        T(test_append_log),
        T(test_consul_long_prefixes),
        T(test_change_observer),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
