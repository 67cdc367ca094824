/* lb_policy.c: the balancing policies (lb_policy.h). Pure: state in, a target index out. */
#include "lb/lb_policy.h"

#include <stdlib.h>
#include <string.h>

#include "base/assert.h"

static const struct {
    uint8_t kind;
    const char *name;
} policy_names[] = {
    {LB_ROUND_ROBIN, "round-robin"},   {LB_LEAST_CONN, "least-conn"},
    {LB_WEIGHTED, "weighted"},         {LB_POWER_OF_TWO, "power-of-two"},
    {LB_CONSISTENT_HASH, "consistent-hash"},
};

uint8_t lb_policy_parse(const char *name)
{
    for (size_t i = 0; i < sizeof(policy_names) / sizeof(policy_names[0]); i++) {
        if (strcmp(name, policy_names[i].name) == 0) {
            return policy_names[i].kind;
        }
    }
    return 0;
}

const char *lb_policy_name(uint8_t kind)
{
    for (size_t i = 0; i < sizeof(policy_names) / sizeof(policy_names[0]); i++) {
        if (policy_names[i].kind == kind) {
            return policy_names[i].name;
        }
    }
    return "?";
}

uint64_t lb_hash_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

uint64_t lb_hash_bytes(const void *data, size_t size)
{
    const uint8_t *p = data;
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a 64: offset basis, then the prime */
    for (size_t i = 0; i < size; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return lb_hash_mix(h);
}

void lb_policy_init(struct lb_policy *p, uint8_t kind)
{
    ASSERT(kind >= LB_ROUND_ROBIN && kind <= LB_CONSISTENT_HASH);
    p->kind = kind;
    p->rr_next = 0;
    p->ring_size = 0;
}

/* ---- Consistent hash ----------------------------------------------------------------- */

static int point_cmp(const void *a, const void *b)
{
    const struct lb_ring_point *x = a;
    const struct lb_ring_point *y = b;
    if (x->hash != y->hash) {
        return x->hash < y->hash ? -1 : 1;
    }
    return x->target < y->target ? -1 : x->target > y->target ? 1 : 0;
}

void lb_policy_rebuild(struct lb_policy *p, const struct lb_target *targets, uint32_t count)
{
    ASSERT(count <= SYN_LB_BACKENDS_MAX);
    p->ring_size = 0;
    if (p->kind != LB_CONSISTENT_HASH) {
        return;
    }
    /* A backend's points depend only on its identity (key_hash), never on its slot or on
     * the other members: a join or a leave moves only the keys of the ring's arcs that the
     * backend gains or loses (Karger et al., 1997, "Consistent hashing", section 4). */
    for (uint32_t t = 0; t < count; t++) {
        if (!targets[t].member) {
            continue;
        }
        for (uint32_t v = 0; v < SYN_LB_RING_VNODES; v++) {
            uint64_t h = lb_hash_mix(targets[t].key_hash + (v + 1ull) * 0x9e3779b97f4a7c15ull);
            p->ring[p->ring_size++] = (struct lb_ring_point){.hash = h, .target = t};
        }
    }
    qsort(p->ring, p->ring_size, sizeof(p->ring[0]), point_cmp);
}

/* The first usable target clockwise from hash: the owner of the arc, or, when it may not
 * take this connection, the next one on the ring, so only that owner's keys move. */
static int32_t pick_ring(const struct lb_policy *p, const struct lb_target *targets,
                         uint32_t count, uint64_t hash)
{
    uint32_t lo = 0;
    uint32_t hi = p->ring_size;
    while (lo < hi) { /* the first point with a hash >= hash */
        uint32_t mid = lo + (hi - lo) / 2;
        if (p->ring[mid].hash < hash) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    for (uint32_t i = 0; i < p->ring_size; i++) {
        uint32_t t = p->ring[(lo + i) % p->ring_size].target;
        ASSERT(t < count); /* the caller rebuilds the ring when its targets change */
        if (targets[t].usable) {
            return (int32_t)t;
        }
    }
    return -1;
}

/* ---- The others ---------------------------------------------------------------------- */

/* Whether a carries less load than b: fewer connections per unit of weight. */
static bool lighter(const struct lb_target *a, const struct lb_target *b)
{
    return (uint64_t)a->active * b->weight < (uint64_t)b->active * a->weight;
}

static int32_t pick_round_robin(struct lb_policy *p, const struct lb_target *targets,
                                uint32_t count, bool least)
{
    int32_t best = -1;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t t = (p->rr_next + i) % count;
        if (!targets[t].usable) {
            continue;
        }
        if (best < 0 || (least && lighter(&targets[t], &targets[best]))) {
            best = (int32_t)t;
        }
        if (!least) {
            break;
        }
    }
    if (best >= 0) {
        p->rr_next = ((uint32_t)best + 1) % count; /* ties rotate too */
    }
    return best;
}

/* nginx's smooth weighted round-robin (ngx_http_upstream_round_robin.c,
 * ngx_http_upstream_get_peer): each usable target gains its weight, the largest wins and
 * gives back the total. Over any window of sum(weights) picks each target is chosen exactly
 * weight times, interleaved (5,1,1 gives a a b a c a a, not a a a a a b c). */
static int32_t pick_weighted(struct lb_target *targets, uint32_t count)
{
    int64_t total = 0;
    int32_t best = -1;
    for (uint32_t t = 0; t < count; t++) {
        if (!targets[t].usable) {
            continue;
        }
        targets[t].wrr_current += targets[t].weight;
        total += targets[t].weight;
        if (best < 0 || targets[t].wrr_current > targets[best].wrr_current) {
            best = (int32_t)t;
        }
    }
    if (best >= 0) {
        targets[best].wrr_current -= total;
    }
    return best;
}

/* Mitzenmacher's power of two choices ("The Power of Two Choices in Randomized Load
 * Balancing", 2001): two distinct usable targets at random, the lighter one wins (the first
 * on a tie). */
static int32_t pick_two(const struct lb_target *targets, uint32_t count, const uint64_t random[2])
{
    uint32_t usable[SYN_LB_BACKENDS_MAX];
    uint32_t n = 0;
    for (uint32_t t = 0; t < count; t++) {
        if (targets[t].usable) {
            usable[n++] = t;
        }
    }
    if (n <= 1) {
        return n == 1 ? (int32_t)usable[0] : -1;
    }
    uint32_t a = (uint32_t)(random[0] % n);
    uint32_t b = (uint32_t)(random[1] % (n - 1));
    b += b >= a ? 1u : 0u; /* distinct from a, uniform over the others */
    const struct lb_target *ta = &targets[usable[a]];
    const struct lb_target *tb = &targets[usable[b]];
    return (int32_t)(lighter(tb, ta) ? usable[b] : usable[a]);
}

int32_t lb_policy_pick(struct lb_policy *p, struct lb_target *targets, uint32_t count,
                       const struct lb_pick_in *in)
{
    ASSERT(count <= SYN_LB_BACKENDS_MAX);
    for (uint32_t t = 0; t < count; t++) {
        if (targets[t].usable) {
            ASSERT(targets[t].member);
        }
        if (targets[t].member) {
            ASSERT(targets[t].weight >= 1);
        }
    }
    if (count == 0) {
        return -1;
    }
    switch (p->kind) {
    case LB_ROUND_ROBIN:
        return pick_round_robin(p, targets, count, false);
    case LB_LEAST_CONN:
        return pick_round_robin(p, targets, count, true);
    case LB_WEIGHTED:
        return pick_weighted(targets, count);
    case LB_POWER_OF_TWO:
        return pick_two(targets, count, in->random);
    case LB_CONSISTENT_HASH:
        return pick_ring(p, targets, count, in->client_hash);
    default:
        UNREACHABLE();
    }
}
