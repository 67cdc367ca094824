/* lin_bits.c: the linearized-ops set of one key: two windowed bitsets and a running hash. */
#include "check/lin_bits.h"

#include <stdlib.h>

#include "base/assert.h"
#include "base/err.h"

/* The splitmix64 finalizer; the offset keeps mix(0) nonzero. */
uint64_t lin_bits_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* The value of words[w] when every op it holds is a member. */
static uint64_t region_full_word(const struct lin_region *region, uint32_t w)
{
    uint32_t tail = region->bit_count % 64;
    if (w + 1 == region->word_count && tail != 0) {
        return (UINT64_C(1) << tail) - 1;
    }
    return UINT64_MAX;
}

int lin_bits_init(struct lin_bits *bits, uint32_t completed_count, uint32_t unknown_count)
{
    uint32_t counts[LIN_REGION_COUNT] = {completed_count, unknown_count};
    size_t total = (size_t)completed_count / 64 + (size_t)unknown_count / 64 + 2;
    *bits = (struct lin_bits){.completed_count = completed_count};
    bits->storage = calloc(total, sizeof(uint64_t));
    if (bits->storage == NULL) {
        return SYN_ENOMEM;
    }
    uint64_t *next = bits->storage;
    for (uint32_t r = 0; r < LIN_REGION_COUNT; r++) {
        struct lin_region *region = &bits->regions[r];
        region->words = next;
        region->bit_count = counts[r];
        region->word_count = (counts[r] + 63) / 64;
        next += region->word_count;
    }
    ASSERT(next <= bits->storage + total);
    return 0;
}

void lin_bits_free(struct lin_bits *bits)
{
    free(bits->storage);
    bits->storage = NULL;
}

/* The region holding op, and op's bit number inside it. */
static struct lin_region *bits_locate(struct lin_bits *bits, uint32_t op, uint32_t *bit)
{
    uint32_t r = op < bits->completed_count ? 0 : 1;
    *bit = r == 0 ? op : op - bits->completed_count;
    ASSERT(*bit < bits->regions[r].bit_count);
    return &bits->regions[r];
}

void lin_bits_add(struct lin_bits *bits, uint32_t op)
{
    uint32_t bit;
    struct lin_region *region = bits_locate(bits, op, &bit);
    uint32_t w = bit / 64;
    uint64_t mask = UINT64_C(1) << (bit % 64);
    ASSERT((region->words[w] & mask) == 0);
    region->words[w] |= mask;
    bits->hash ^= lin_bits_mix(op);
    if (w >= region->hi) {
        region->hi = w + 1;
    }
    while (region->lo < region->word_count &&
           region->words[region->lo] == region_full_word(region, region->lo)) {
        region->lo++;
    }
    ASSERT(region->lo <= region->hi);
}

void lin_bits_remove(struct lin_bits *bits, uint32_t op)
{
    uint32_t bit;
    struct lin_region *region = bits_locate(bits, op, &bit);
    uint32_t w = bit / 64;
    uint64_t mask = UINT64_C(1) << (bit % 64);
    ASSERT((region->words[w] & mask) != 0);
    region->words[w] &= ~mask;
    bits->hash ^= lin_bits_mix(op);
    if (w < region->lo) {
        region->lo = w;
    }
    while (region->hi > 0 && region->words[region->hi - 1] == 0) {
        region->hi--;
    }
    ASSERT(region->lo <= region->hi);
}
