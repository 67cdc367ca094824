/* sim_logmap.c: the global (index, term) -> (content hash, previous term) map behind the Log
 * Matching check: open addressing with linear probing, doubled at half load. */
#include <stdlib.h>

#include "base/assert.h"
#include "sim/sim_check.h"
#include "sim/sim_limits.h"

static uint64_t logmap_hash(uint64_t index, uint64_t term)
{
    uint64_t h = index * 0x9e3779b97f4a7c15ull ^ term * 0xc2b2ae3d27d4eb4full;
    return h ^ (h >> 29);
}

static struct sim_logmap_slot *logmap_find(struct sim_logmap_slot *slots, uint64_t capacity,
                                           uint64_t index, uint64_t term)
{
    uint64_t mask = capacity - 1;
    for (uint64_t i = logmap_hash(index, term) & mask;; i = (i + 1) & mask) {
        if (slots[i].index == 0 || (slots[i].index == index && slots[i].term == term)) {
            return &slots[i];
        }
    }
}

static void logmap_double(struct sim_check *c)
{
    uint64_t capacity = c->slot_capacity * 2;
    struct sim_logmap_slot *slots = calloc(capacity, sizeof(*slots));
    ASSERT(slots != NULL);
    for (uint64_t i = 0; i < c->slot_capacity; i++) {
        if (c->slots[i].index != 0) {
            *logmap_find(slots, capacity, c->slots[i].index, c->slots[i].term) = c->slots[i];
        }
    }
    free(c->slots);
    c->slots = slots;
    c->slot_capacity = capacity;
}

const struct sim_logmap_slot *sim_logmap_put(struct sim_check *c,
                                             const struct sim_logmap_slot *slot)
{
    ASSERT(slot->index != 0);
    struct sim_logmap_slot *found =
        logmap_find(c->slots, c->slot_capacity, slot->index, slot->term);
    if (found->index != 0) {
        return found;
    }
    if (c->slot_count >= SIM_LOG_INDEX_MAX) {
        return NULL;
    }
    if (2 * (c->slot_count + 1) > c->slot_capacity) {
        logmap_double(c);
        found = logmap_find(c->slots, c->slot_capacity, slot->index, slot->term);
    }
    *found = *slot;
    c->slot_count++;
    return found;
}
