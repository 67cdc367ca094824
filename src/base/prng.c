/* prng.c: xoshiro256** seeded through splitmix64. */
#include "base/prng.h"

#include "base/assert.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void prng_init(struct prng *p, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) {
        p->s[i] = splitmix64(&x);
    }
}

uint64_t prng_next(struct prng *p)
{
    uint64_t *s = p->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t prng_range(struct prng *p, uint64_t lo, uint64_t hi)
{
    ASSERT(lo <= hi);
    uint64_t span = hi - lo + 1;
    if (span == 0) {
        return prng_next(p); /* the full 64-bit range */
    }
    /* Rejection sampling keeps the distribution uniform. */
    uint64_t limit = UINT64_MAX - (UINT64_MAX % span);
    uint64_t v;
    do {
        v = prng_next(p);
    } while (v >= limit);
    return lo + v % span;
}

bool prng_chance(struct prng *p, uint32_t per_million)
{
    return prng_range(p, 0, 999999) < per_million;
}
