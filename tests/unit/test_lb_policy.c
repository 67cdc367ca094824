/* test_lb_policy.c: the balancing policies (src/lb/lb_policy.h), pure: round-robin's exact
 * spread and its skips, least-conn against a naive minimum, nginx's smooth weighted sequence
 * and exact ratios for random weights, power-of-two against its definition, and the
 * consistent-hash ring: spread, lookups equal to a naive scan of the ring, and stability when
 * a backend leaves, joins or may not take a connection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/prng.h"
#include "lb/lb_policy.h"

#define N_MAX 32u

/* A policy and count targets, all usable members of weight 1 with distinct identities. */
struct fixture {
    struct lb_policy *p;
    struct lb_target t[SYN_LB_BACKENDS_MAX];
    uint32_t count;
};

static void fixture_init(struct fixture *f, uint8_t kind, uint32_t count)
{
    f->p = calloc(1, sizeof(*f->p));
    assert_non_null(f->p);
    lb_policy_init(f->p, kind);
    memset(f->t, 0, sizeof(f->t));
    f->count = count;
    for (uint32_t i = 0; i < count; i++) {
        char key[16] = "backend-";
        key[8] = (char)('a' + i % 26);
        key[9] = (char)('a' + i / 26);
        f->t[i] = (struct lb_target){.key_hash = lb_hash_bytes(key, 10), .weight = 1,
                                     .member = true, .usable = true};
    }
    lb_policy_rebuild(f->p, f->t, count);
}

static void fixture_free(struct fixture *f)
{
    free(f->p);
}

static int32_t pick(struct fixture *f, uint64_t client_hash, struct prng *rng)
{
    struct lb_pick_in in = {.client_hash = client_hash};
    if (rng != NULL) {
        in.random[0] = prng_next(rng);
        in.random[1] = prng_next(rng);
    }
    return lb_policy_pick(f->p, f->t, f->count, &in);
}

static void test_names(void **state)
{
    (void)state;
    const char *names[] = {"round-robin", "least-conn", "weighted", "power-of-two",
                           "consistent-hash"};
    for (size_t i = 0; i < 5; i++) {
        uint8_t kind = lb_policy_parse(names[i]);
        assert_int_not_equal(kind, 0);
        assert_string_equal(lb_policy_name(kind), names[i]);
    }
    assert_int_equal(lb_policy_parse("random"), 0);
    assert_int_equal(lb_policy_parse(""), 0);
    assert_string_equal(lb_policy_name(0), "?");
}

static void test_hash(void **state)
{
    (void)state;
    /* FNV-1a's offset basis is the hash of nothing; the finalizer maps 0 to 0 */
    assert_true(lb_hash_bytes("", 0) == lb_hash_mix(0xcbf29ce484222325ull));
    assert_true(lb_hash_mix(0) == 0);
    assert_true(lb_hash_bytes("a", 1) == lb_hash_mix(0xaf63dc4c8601ec8cull)); /* FNV-1a("a") */
    /* neighbouring IPv4 addresses land far apart: bit 63 is set for about half of them */
    uint32_t high = 0;
    for (uint32_t ip = 0; ip < 4096; ip++) {
        uint8_t a[4] = {127, 0, (uint8_t)(ip >> 8), (uint8_t)ip};
        high += (uint32_t)(lb_hash_bytes(a, 4) >> 63);
    }
    assert_in_range(high, 1848, 2248);
}

static void test_round_robin(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, LB_ROUND_ROBIN, 3);
    uint32_t hits[3] = {0};
    for (uint32_t i = 0; i < 300; i++) {
        int32_t t = pick(&f, 0, NULL);
        assert_int_equal(t, (int32_t)(i % 3)); /* in slot order, one each */
        hits[t]++;
    }
    assert_int_equal(hits[0], 100);
    assert_int_equal(hits[2], 100);
    /* an unusable target is skipped; the others keep alternating */
    f.t[1].usable = false;
    for (uint32_t i = 0; i < 10; i++) {
        assert_int_equal(pick(&f, 0, NULL), (int32_t)(i % 2 == 0 ? 0 : 2));
    }
    for (uint32_t i = 0; i < 3; i++) {
        f.t[i].usable = false;
    }
    assert_int_equal(pick(&f, 0, NULL), -1);
    assert_int_equal(lb_policy_pick(f.p, f.t, 0, &(struct lb_pick_in){0}), -1);
    fixture_free(&f);
}

/* The lightest usable target by a naive scan, the first on a tie: a reference. */
static int32_t lightest(const struct lb_target *t, uint32_t count, uint32_t from)
{
    int32_t best = -1;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t k = (from + i) % count;
        if (!t[k].usable) {
            continue;
        }
        double load = (double)t[k].active / t[k].weight;
        if (best < 0 || load < (double)t[best].active / t[best].weight) {
            best = (int32_t)k;
        }
    }
    return best;
}

static void test_least_conn(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, LB_LEAST_CONN, 8);
    struct prng rng;
    prng_init(&rng, 7);
    /* connections open and close at random; each pick is the lightest target */
    for (uint32_t step = 0; step < 20000; step++) {
        uint32_t k = (uint32_t)prng_range(&rng, 0, f.count - 1);
        if (prng_chance(&rng, 400000) && f.t[k].active > 0) {
            f.t[k].active--;
            continue;
        }
        f.t[k].weight = (uint32_t)prng_range(&rng, 1, 4);
        f.t[k].usable = !prng_chance(&rng, 100000);
        uint32_t from = f.p->rr_next;
        int32_t want = lightest(f.t, f.count, from);
        int32_t got = pick(&f, 0, NULL);
        assert_int_equal(got, want);
        if (got >= 0) {
            f.t[got].active++;
        }
        f.t[k].usable = true;
    }
    fixture_free(&f);
    /* equal loads rotate instead of piling on the first */
    fixture_init(&f, LB_LEAST_CONN, 3);
    for (uint32_t i = 0; i < 9; i++) {
        assert_int_equal(pick(&f, 0, NULL), (int32_t)(i % 3));
    }
    fixture_free(&f);
}

static void test_weighted_sequence(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, LB_WEIGHTED, 3);
    f.t[0].weight = 5;
    /* nginx's example for weights {5, 1, 1}: a a b a c a a, then again */
    const int32_t want[7] = {0, 0, 1, 0, 2, 0, 0};
    for (uint32_t i = 0; i < 70; i++) {
        assert_int_equal(pick(&f, 0, NULL), want[i % 7]);
    }
    fixture_free(&f);
}

static void test_weighted_ratios(void **state)
{
    (void)state;
    struct prng rng;
    prng_init(&rng, 42);
    for (uint32_t round = 0; round < 50; round++) {
        struct fixture f;
        uint32_t n = (uint32_t)prng_range(&rng, 1, 12);
        fixture_init(&f, LB_WEIGHTED, n);
        uint32_t sum = 0;
        for (uint32_t i = 0; i < n; i++) {
            f.t[i].weight = (uint32_t)prng_range(&rng, 1, 20);
            sum += f.t[i].weight;
        }
        /* over any whole number of cycles of sum picks, each gets exactly its weight */
        uint32_t hits[N_MAX] = {0};
        uint32_t cycles = (uint32_t)prng_range(&rng, 1, 5);
        for (uint32_t i = 0; i < cycles * sum; i++) {
            int32_t t = pick(&f, 0, NULL);
            assert_true(t >= 0 && (uint32_t)t < n);
            hits[t]++;
        }
        for (uint32_t i = 0; i < n; i++) {
            assert_int_equal(hits[i], cycles * f.t[i].weight);
        }
        fixture_free(&f);
    }
}

static void test_weighted_skips(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, LB_WEIGHTED, 3);
    f.t[0].weight = 3;
    f.t[1].weight = 2;
    f.t[2].weight = 1;
    f.t[1].usable = false; /* the others share its picks by their weights: 3 to 1 */
    uint32_t hits[3] = {0};
    for (uint32_t i = 0; i < 400; i++) {
        hits[pick(&f, 0, NULL)]++;
    }
    assert_int_equal(hits[1], 0);
    assert_int_equal(hits[0], 300);
    assert_int_equal(hits[2], 100);
    fixture_free(&f);
}

static void test_power_of_two(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, LB_POWER_OF_TWO, 5);
    struct prng rng;
    prng_init(&rng, 3);
    /* by its definition: the lighter of the two candidates the random numbers name */
    for (uint32_t step = 0; step < 20000; step++) {
        uint32_t k = (uint32_t)prng_range(&rng, 0, f.count - 1);
        f.t[k].active = (uint32_t)prng_range(&rng, 0, 6);
        f.t[k].usable = !prng_chance(&rng, 200000);
        uint32_t usable[8];
        uint32_t n = 0;
        for (uint32_t i = 0; i < f.count; i++) {
            if (f.t[i].usable) {
                usable[n++] = i;
            }
        }
        struct lb_pick_in in = {.random = {prng_next(&rng), prng_next(&rng)}};
        int32_t got = lb_policy_pick(f.p, f.t, f.count, &in);
        if (n == 0) {
            assert_int_equal(got, -1);
        } else if (n == 1) {
            assert_int_equal(got, (int32_t)usable[0]);
        } else {
            uint32_t a = (uint32_t)(in.random[0] % n);
            uint32_t b = (uint32_t)(in.random[1] % (n - 1));
            b += b >= a ? 1 : 0;
            assert_int_not_equal(a, b);
            uint32_t ta = usable[a];
            uint32_t tb = usable[b];
            int32_t want = (int32_t)(f.t[tb].active < f.t[ta].active ? tb : ta);
            assert_int_equal(got, want);
        }
        f.t[k].usable = true;
    }
    /* equal loads: the first candidate is uniform, so the spread is even */
    uint32_t hits[5] = {0};
    for (uint32_t i = 0; i < 5; i++) {
        f.t[i].active = 0;
    }
    for (uint32_t i = 0; i < 50000; i++) {
        hits[pick(&f, 0, &rng)]++;
    }
    for (uint32_t i = 0; i < 5; i++) {
        assert_in_range(hits[i], 9000, 11000);
    }
    /* and the most loaded of five is never chosen while another is usable */
    f.t[2].active = 100;
    for (uint32_t i = 0; i < 1000; i++) {
        assert_int_not_equal(pick(&f, 0, &rng), 2);
    }
    fixture_free(&f);
}

/* The owner of hash by a linear scan of the ring: the reference for the binary search. */
static int32_t ring_naive(const struct lb_policy *p, const struct lb_target *t, uint64_t hash)
{
    uint32_t start = 0;
    while (start < p->ring_size && p->ring[start].hash < hash) {
        start++;
    }
    for (uint32_t i = 0; i < p->ring_size; i++) {
        uint32_t k = p->ring[(start + i) % p->ring_size].target;
        if (t[k].usable) {
            return (int32_t)k;
        }
    }
    return -1;
}

static void test_ring_lookup(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, LB_CONSISTENT_HASH, 7);
    assert_int_equal(f.p->ring_size, 7 * SYN_LB_RING_VNODES);
    for (uint32_t i = 1; i < f.p->ring_size; i++) {
        assert_true(f.p->ring[i - 1].hash <= f.p->ring[i].hash);
    }
    struct prng rng;
    prng_init(&rng, 11);
    for (uint32_t i = 0; i < 20000; i++) {
        uint64_t h = prng_next(&rng);
        f.t[i % 7].usable = (i % 5) != 0;
        assert_int_equal(pick(&f, h, NULL), ring_naive(f.p, f.t, h));
        f.t[i % 7].usable = true;
    }
    /* the ends of the ring: past the last point wraps to the first */
    assert_int_equal(pick(&f, UINT64_MAX, NULL), (int32_t)f.p->ring[0].target);
    assert_int_equal(pick(&f, 0, NULL), (int32_t)f.p->ring[0].target);
    fixture_free(&f);
}

static uint64_t client(uint32_t i)
{
    uint8_t ip[4] = {10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
    return lb_hash_bytes(ip, 4);
}

#define CLIENTS 100000u

static void test_ring_spread(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, LB_CONSISTENT_HASH, 10);
    uint32_t hits[10] = {0};
    for (uint32_t i = 0; i < CLIENTS; i++) {
        int32_t t = pick(&f, client(i), NULL);
        hits[t]++;
        assert_int_equal(pick(&f, client(i), NULL), t); /* the same client, the same backend */
    }
    /* 160 points each: every share within 30% of a tenth */
    for (uint32_t i = 0; i < 10; i++) {
        assert_in_range(hits[i], CLIENTS / 10 * 7 / 10, CLIENTS / 10 * 13 / 10);
    }
    fixture_free(&f);
}

static void test_ring_stability(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, LB_CONSISTENT_HASH, 11);
    static int32_t before[CLIENTS];
    /* backend 10 is not a member yet */
    f.t[10].member = false;
    f.t[10].usable = false;
    lb_policy_rebuild(f.p, f.t, 11);
    for (uint32_t i = 0; i < CLIENTS; i++) {
        before[i] = pick(&f, client(i), NULL);
        assert_int_not_equal(before[i], 10);
    }
    /* backend 3 leaves: only its clients move */
    f.t[3].member = false;
    f.t[3].usable = false;
    lb_policy_rebuild(f.p, f.t, 11);
    uint32_t moved = 0;
    for (uint32_t i = 0; i < CLIENTS; i++) {
        int32_t now = pick(&f, client(i), NULL);
        assert_int_not_equal(now, 3);
        if (before[i] != 3) {
            assert_int_equal(now, before[i]);
        } else {
            moved++;
        }
    }
    assert_in_range(moved, CLIENTS / 10 * 7 / 10, CLIENTS / 10 * 13 / 10);
    /* backend 3 comes back and 10 joins: the clients that move go to them only, about 2/11 */
    f.t[3].member = f.t[3].usable = true;
    f.t[10].member = f.t[10].usable = true;
    lb_policy_rebuild(f.p, f.t, 11);
    moved = 0;
    for (uint32_t i = 0; i < CLIENTS; i++) {
        int32_t now = pick(&f, client(i), NULL);
        if (now != before[i]) {
            assert_int_equal(now, 10);
            moved++;
        }
        if (before[i] == 3 && now != 10) {
            assert_int_equal(now, 3); /* back where they were: points follow identity */
        }
    }
    assert_in_range(moved, CLIENTS / 11 * 7 / 10, CLIENTS / 11 * 13 / 10);
    /* a backend that may not take this connection (down, tried) hands its clients to the
     * next point on the ring; nobody else moves */
    for (uint32_t i = 0; i < CLIENTS; i++) {
        before[i] = pick(&f, client(i), NULL);
    }
    f.t[5].usable = false;
    for (uint32_t i = 0; i < CLIENTS; i++) {
        int32_t now = pick(&f, client(i), NULL);
        if (before[i] != 5) {
            assert_int_equal(now, before[i]);
        } else {
            assert_int_not_equal(now, 5);
        }
    }
    fixture_free(&f);
}

static void test_ring_slot_independent(void **state)
{
    (void)state;
    /* the same identities in other slots own the same clients */
    struct fixture a;
    struct fixture b;
    fixture_init(&a, LB_CONSISTENT_HASH, 4);
    fixture_init(&b, LB_CONSISTENT_HASH, 4);
    struct lb_target swapped[4] = {a.t[3], a.t[2], a.t[1], a.t[0]};
    memcpy(b.t, swapped, sizeof(swapped));
    lb_policy_rebuild(b.p, b.t, 4);
    for (uint32_t i = 0; i < 10000; i++) {
        int32_t ta = pick(&a, client(i), NULL);
        int32_t tb = pick(&b, client(i), NULL);
        assert_true(a.t[ta].key_hash == b.t[tb].key_hash);
    }
    fixture_free(&a);
    fixture_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_round_robin),
        cmocka_unit_test(test_least_conn),
        cmocka_unit_test(test_weighted_sequence),
        cmocka_unit_test(test_weighted_ratios),
        cmocka_unit_test(test_weighted_skips),
        cmocka_unit_test(test_power_of_two),
        cmocka_unit_test(test_ring_lookup),
        cmocka_unit_test(test_ring_spread),
        cmocka_unit_test(test_ring_stability),
        cmocka_unit_test(test_ring_slot_independent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
