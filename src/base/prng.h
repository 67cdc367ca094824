/* prng.h: a small seeded pseudo-random generator (xoshiro256**), deterministic across
 * platforms. Cores receive a seed; they never read a random source of their own. */
#ifndef SYN_BASE_PRNG_H
#define SYN_BASE_PRNG_H

#include <stdbool.h>
#include <stdint.h>

struct prng {
    uint64_t s[4];
};

void prng_init(struct prng *p, uint64_t seed);
uint64_t prng_next(struct prng *p);
/* Uniform in [lo, hi], inclusive. Requires lo <= hi. */
uint64_t prng_range(struct prng *p, uint64_t lo, uint64_t hi);
/* True with probability per_million / 1,000,000. */
bool prng_chance(struct prng *p, uint32_t per_million);

#endif
