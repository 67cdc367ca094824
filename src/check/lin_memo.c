/* lin_memo.c: a bounded open-addressing hash set of encoded (linearized set, value) states.
 *
 * An entry in the arena is: the value; per region one word (lo | hi << 32); then the words
 * [lo, hi) of each region. Given the window invariant of lin_bits.h this encoding is
 * canonical, so two states are equal exactly when their encodings are.
 */
#include "check/lin_memo.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/err.h"

#define MEMO_SLOTS_INITIAL 64u
#define MEMO_ARENA_WORDS_INITIAL 1024u

void lin_memo_init(struct lin_memo *memo, size_t bytes_max)
{
    *memo = (struct lin_memo){.bytes_max = bytes_max};
}

void lin_memo_free(struct lin_memo *memo)
{
    free(memo->slots);
    free(memo->arena);
    memo->slots = NULL;
    memo->arena = NULL;
}

static size_t memo_bytes(size_t slot_count, size_t arena_cap)
{
    return slot_count * sizeof(struct lin_memo_slot) + arena_cap * sizeof(uint64_t);
}

static size_t memo_encoded_words(const struct lin_bits *bits)
{
    size_t words = 1 + LIN_REGION_COUNT;
    for (uint32_t r = 0; r < LIN_REGION_COUNT; r++) {
        words += bits->regions[r].hi - bits->regions[r].lo;
    }
    return words;
}

static uint64_t memo_hash(const struct lin_bits *bits, uint64_t value)
{
    return bits->hash ^ lin_bits_mix(value ^ 0x5bd1e9955bd1e995ULL);
}

static bool memo_equal(const uint64_t *entry, const struct lin_bits *bits, uint64_t value)
{
    if (entry[0] != value) {
        return false;
    }
    const uint64_t *window = entry + 1 + LIN_REGION_COUNT;
    for (uint32_t r = 0; r < LIN_REGION_COUNT; r++) {
        const struct lin_region *region = &bits->regions[r];
        if (entry[1 + r] != ((uint64_t)region->lo | (uint64_t)region->hi << 32)) {
            return false;
        }
        size_t count = region->hi - region->lo;
        if (memcmp(window, region->words + region->lo, count * sizeof(uint64_t)) != 0) {
            return false;
        }
        window += count;
    }
    return true;
}

static void memo_encode(uint64_t *entry, const struct lin_bits *bits, uint64_t value)
{
    entry[0] = value;
    uint64_t *window = entry + 1 + LIN_REGION_COUNT;
    for (uint32_t r = 0; r < LIN_REGION_COUNT; r++) {
        const struct lin_region *region = &bits->regions[r];
        entry[1 + r] = (uint64_t)region->lo | (uint64_t)region->hi << 32;
        size_t count = region->hi - region->lo;
        memcpy(window, region->words + region->lo, count * sizeof(uint64_t));
        window += count;
    }
}

/* Doubles the slot table (rehashing from the stored hashes). An enum lin_memo_status or
 * SYN_ENOMEM. */
static int memo_grow_slots(struct lin_memo *memo)
{
    size_t count = memo->slot_count == 0 ? MEMO_SLOTS_INITIAL : memo->slot_count * 2;
    /* The old table lives on until the new one is filled. */
    if (memo_bytes(count + memo->slot_count, memo->arena_cap) > memo->bytes_max) {
        return LIN_MEMO_FULL;
    }
    struct lin_memo_slot *slots = calloc(count, sizeof(*slots));
    if (slots == NULL) {
        return SYN_ENOMEM;
    }
    for (size_t i = 0; i < memo->slot_count; i++) {
        struct lin_memo_slot slot = memo->slots[i];
        if (slot.where == 0) {
            continue;
        }
        size_t at = (size_t)slot.hash & (count - 1);
        while (slots[at].where != 0) {
            at = (at + 1) & (count - 1);
        }
        slots[at] = slot;
    }
    free(memo->slots);
    memo->slots = slots;
    memo->slot_count = count;
    return LIN_MEMO_ADDED;
}

/* Makes room for need more words in the arena, within bytes_max. An enum lin_memo_status
 * or SYN_ENOMEM. */
static int memo_reserve(struct lin_memo *memo, size_t need)
{
    if (memo->arena_cap - memo->arena_used >= need) {
        return LIN_MEMO_ADDED;
    }
    size_t cap = memo->arena_cap == 0 ? MEMO_ARENA_WORDS_INITIAL : memo->arena_cap * 2;
    /* realloc() may hold the old arena and the new one at once. */
    size_t room = memo_bytes(memo->slot_count, memo->arena_cap);
    size_t cap_max = memo->bytes_max > room ? (memo->bytes_max - room) / sizeof(uint64_t) : 0;
    if (cap < memo->arena_used + need) {
        cap = memo->arena_used + need;
    }
    if (cap > cap_max) {
        cap = cap_max;
    }
    if (cap < memo->arena_used + need) {
        return LIN_MEMO_FULL;
    }
    uint64_t *arena = realloc(memo->arena, cap * sizeof(uint64_t));
    if (arena == NULL) {
        return SYN_ENOMEM;
    }
    memo->arena = arena;
    memo->arena_cap = cap;
    return LIN_MEMO_ADDED;
}

/* Looks for (bits, value) under hash. True if present; else *at is the empty slot where it
 * belongs. Requires a table with at least one empty slot. */
static bool memo_find(const struct lin_memo *memo, uint64_t hash, const struct lin_bits *bits,
                      uint64_t value, size_t *at)
{
    size_t mask = memo->slot_count - 1;
    for (*at = (size_t)hash & mask; memo->slots[*at].where != 0; *at = (*at + 1) & mask) {
        const struct lin_memo_slot *slot = &memo->slots[*at];
        if (slot->hash == hash && memo_equal(memo->arena + slot->where - 1, bits, value)) {
            return true;
        }
    }
    return false;
}

int lin_memo_insert(struct lin_memo *memo, const struct lin_bits *bits, uint64_t value)
{
    uint64_t hash = memo_hash(bits, value);
    size_t at = 0;
    if (memo->slot_count != 0 && memo_find(memo, hash, bits, value, &at)) {
        return LIN_MEMO_SEEN;
    }
    int rc = LIN_MEMO_ADDED;
    if (2 * (memo->entry_count + 1) > memo->slot_count) {
        rc = memo_grow_slots(memo);
        if (rc == LIN_MEMO_ADDED) {
            bool found = memo_find(memo, hash, bits, value, &at);
            ASSERT(!found);
        }
    }
    size_t need = memo_encoded_words(bits);
    if (rc == LIN_MEMO_ADDED) {
        rc = memo_reserve(memo, need);
    }
    if (rc != LIN_MEMO_ADDED) {
        return rc;
    }
    memo_encode(memo->arena + memo->arena_used, bits, value);
    memo->slots[at] = (struct lin_memo_slot){.hash = hash, .where = memo->arena_used + 1};
    memo->arena_used += need;
    memo->entry_count++;
    return LIN_MEMO_ADDED;
}
