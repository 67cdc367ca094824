/* lb_table.c: the backend table (lb_table.h). */
#include "lb/lb_table.h"

#include <string.h>

#include "base/assert.h"
#include "base/num.h"

void lb_table_init(struct lb_table *t, uint32_t fall, uint32_t down_ms)
{
    ASSERT(fall >= 1 && fall <= LB_FALL_MAX);
    memset(t, 0, sizeof(*t));
    t->fall = fall;
    t->down_ms = down_ms;
}

/* Appends the C string s to out[*len ..] within size, cutting what does not fit; keeps out
 * NUL-terminated. */
static void text_add(char *out, size_t size, size_t *len, const char *s)
{
    size_t n = strlen(s);
    n = n < size - 1 - *len ? n : size - 1 - *len;
    memcpy(out + *len, s, n);
    *len += n;
    out[*len] = '\0';
}

static void error_set(struct lb_backend *b, const char *what, const char *why)
{
    size_t n = 0;
    text_add(b->last_error, sizeof(b->last_error), &n, what);
    text_add(b->last_error, sizeof(b->last_error), &n, why);
}

static bool same_instance(const struct lb_instance *a, const struct lb_instance *b)
{
    return a->port == b->port && strcmp(a->id, b->id) == 0 && strcmp(a->node, b->node) == 0 &&
           strcmp(a->host, b->host) == 0;
}

static int32_t slot_find(const struct lb_table *t, const struct lb_instance *inst)
{
    for (uint32_t s = 0; s < t->count; s++) {
        if (t->backends[s].state != LB_BACKEND_FREE && same_instance(&t->backends[s].inst, inst)) {
            return (int32_t)s;
        }
    }
    return -1;
}

/* The ring position of an instance: its node and id, so a backend that comes back lands
 * where it was. */
static uint64_t instance_key_hash(const struct lb_instance *inst)
{
    char key[2 * LB_ID_SIZE];
    size_t n = 0;
    text_add(key, sizeof(key), &n, inst->node);
    text_add(key, sizeof(key), &n, "/");
    text_add(key, sizeof(key), &n, inst->id);
    return lb_hash_bytes(key, n);
}

static void slot_free(struct lb_table *t, uint32_t s)
{
    ASSERT(t->targets[s].active == 0);
    ASSERT(!t->targets[s].member);
    memset(&t->backends[s], 0, sizeof(t->backends[s]));
    memset(&t->targets[s], 0, sizeof(t->targets[s]));
    while (t->count > 0 && t->backends[t->count - 1].state == LB_BACKEND_FREE) {
        t->count--;
    }
}

static int32_t slot_take(struct lb_table *t, const struct lb_instance *inst)
{
    uint32_t s = 0;
    while (s < t->count && t->backends[s].state != LB_BACKEND_FREE) {
        s++;
    }
    if (s == SYN_LB_BACKENDS_MAX) {
        return -1;
    }
    t->count = s == t->count ? t->count + 1 : t->count;
    struct lb_backend *b = &t->backends[s];
    memset(b, 0, sizeof(*b));
    b->state = LB_BACKEND_UP;
    b->inst = *inst;
    bool v6 = strchr(inst->host, ':') != NULL;
    char port[SYN_I64_TEXT_SIZE_MAX + 1];
    port[syn_i64_format(inst->port, port)] = '\0';
    size_t n = 0;
    text_add(b->addr, sizeof(b->addr), &n, v6 ? "[" : "");
    text_add(b->addr, sizeof(b->addr), &n, inst->host);
    text_add(b->addr, sizeof(b->addr), &n, v6 ? "]:" : ":");
    text_add(b->addr, sizeof(b->addr), &n, port);
    t->targets[s] = (struct lb_target){.key_hash = instance_key_hash(inst), .member = true};
    return (int32_t)s;
}

/* Marks every slot listed in list; returns in listed[] (a slot bitmap) which ones were. */
static void update_listed(struct lb_table *t, const struct lb_instance *list, uint32_t n,
                          uint8_t *listed, struct lb_update *out)
{
    for (uint32_t i = 0; i < n; i++) {
        int32_t s = slot_find(t, &list[i]);
        if (s >= 0 && (listed[s / 8] & (1u << (s % 8))) != 0) {
            out->skipped++; /* listed twice */
            continue;
        }
        if (s < 0) {
            s = slot_take(t, &list[i]);
            if (s < 0) {
                out->skipped++;
                continue;
            }
            out->added++;
            out->members_changed = true;
        } else if (t->backends[s].state == LB_BACKEND_DRAINING) {
            t->backends[s].state = LB_BACKEND_UP; /* back: its open connections stay */
            t->targets[s].member = true;
            out->added++;
            out->members_changed = true;
        }
        uint32_t w = list[i].weight < 1 ? 1 : list[i].weight;
        w = w > LB_WEIGHT_MAX ? LB_WEIGHT_MAX : w;
        if (t->targets[s].weight != 0 && t->targets[s].weight != w) {
            out->reweighted++;
        }
        t->targets[s].weight = w;
        t->backends[s].inst.weight = w;
        listed[s / 8] |= (uint8_t)(1u << (s % 8));
    }
}

void lb_table_update(struct lb_table *t, const struct lb_instance *list, uint32_t n,
                     uint64_t now_ms, struct lb_update *out)
{
    *out = (struct lb_update){0};
    uint8_t listed[SYN_LB_BACKENDS_MAX / 8] = {0};
    update_listed(t, list, n, listed, out);
    for (uint32_t s = 0; s < t->count; s++) {
        struct lb_backend *b = &t->backends[s];
        if (b->state != LB_BACKEND_UP || (listed[s / 8] & (1u << (s % 8))) != 0) {
            continue;
        }
        out->removed++;
        out->members_changed = true;
        t->targets[s].member = false;
        t->targets[s].usable = false;
        t->targets[s].wrr_current = 0;
        b->state = LB_BACKEND_DRAINING;
        b->draining_since_ms = now_ms;
        if (t->targets[s].active == 0) {
            slot_free(t, s); /* may lower count: the loop then ends sooner, rightly */
        }
    }
}

uint32_t lb_table_usable(struct lb_table *t, uint64_t now_ms, const uint8_t *tried,
                         bool ignore_down)
{
    uint32_t n = 0;
    for (uint32_t s = 0; s < t->count; s++) {
        const struct lb_backend *b = &t->backends[s];
        bool ok = b->state == LB_BACKEND_UP && (ignore_down || now_ms >= b->down_until_ms) &&
                  (tried == NULL || (tried[s / 8] & (1u << (s % 8))) == 0);
        t->targets[s].usable = ok;
        n += ok ? 1u : 0u;
    }
    return n;
}

void lb_table_attempt(struct lb_table *t, uint32_t slot)
{
    ASSERT(slot < t->count);
    ASSERT(t->backends[slot].state == LB_BACKEND_UP);
    t->targets[slot].active++;
}

void lb_table_connect_ok(struct lb_table *t, uint32_t slot)
{
    ASSERT(slot < t->count);
    ASSERT(t->targets[slot].active > 0);
    struct lb_backend *b = &t->backends[slot];
    b->c.conns_total++;
    b->fails_in_row = 0;
    b->down_until_ms = 0;
}

static void release(struct lb_table *t, uint32_t slot)
{
    ASSERT(slot < t->count);
    ASSERT(t->targets[slot].active > 0);
    t->targets[slot].active--;
    if (t->targets[slot].active == 0 && t->backends[slot].state == LB_BACKEND_DRAINING) {
        slot_free(t, slot);
    }
}

bool lb_table_connect_failed(struct lb_table *t, uint32_t slot, uint64_t now_ms, const char *why)
{
    ASSERT(slot < t->count);
    struct lb_backend *b = &t->backends[slot];
    b->c.connect_failures++;
    error_set(b, "connect: ", why);
    b->fails_in_row += b->fails_in_row < LB_FALL_MAX ? 1u : 0u;
    bool down = b->fails_in_row >= t->fall;
    if (down) {
        /* Tried again after down_ms; while the failures go on, one more marks it down
         * again (fails_in_row stays past fall until a connect succeeds). */
        b->down_until_ms = now_ms + t->down_ms;
    }
    release(t, slot);
    return down;
}

void lb_table_replayed(struct lb_table *t, uint32_t slot, const char *why)
{
    ASSERT(slot < t->count);
    struct lb_backend *b = &t->backends[slot];
    b->c.replays++;
    error_set(b, "failed before answering: ", why);
    release(t, slot);
}

void lb_table_closed(struct lb_table *t, uint32_t slot)
{
    release(t, slot);
}

static void counters_add(struct lb_backend_counters *into, const struct lb_backend_counters *c)
{
    into->conns_total += c->conns_total;
    into->bytes_in += c->bytes_in;
    into->bytes_out += c->bytes_out;
    into->connect_failures += c->connect_failures;
    into->replays += c->replays;
}

void lb_table_merge(struct lb_table *into, const struct lb_table *from)
{
    for (uint32_t s = 0; s < from->count; s++) {
        const struct lb_backend *b = &from->backends[s];
        if (b->state == LB_BACKEND_FREE) {
            continue;
        }
        int32_t m = slot_find(into, &b->inst);
        if (m < 0 && (m = slot_take(into, &b->inst)) < 0) {
            continue;
        }
        struct lb_backend *a = &into->backends[m];
        struct lb_target *t = &into->targets[m];
        bool fresh = t->weight == 0;
        a->state = fresh || b->state == LB_BACKEND_UP ? b->state : a->state;
        t->member = a->state == LB_BACKEND_UP;
        t->weight = from->targets[s].weight;
        t->active += from->targets[s].active;
        counters_add(&a->c, &b->c);
        a->fails_in_row = b->fails_in_row > a->fails_in_row ? b->fails_in_row : a->fails_in_row;
        a->down_until_ms = b->down_until_ms > a->down_until_ms ? b->down_until_ms : a->down_until_ms;
        a->draining_since_ms = b->draining_since_ms;
        if (a->last_error[0] == '\0') {
            memcpy(a->last_error, b->last_error, sizeof(a->last_error));
        }
    }
}

const char *lb_table_state_name(const struct lb_table *t, uint32_t slot, uint64_t now_ms)
{
    ASSERT(slot < t->count);
    const struct lb_backend *b = &t->backends[slot];
    switch (b->state) {
    case LB_BACKEND_UP:
        return now_ms < b->down_until_ms ? "down" : "up";
    case LB_BACKEND_DRAINING:
        return "draining";
    default:
        return "free";
    }
}

uint32_t lb_table_up_count(const struct lb_table *t)
{
    uint32_t n = 0;
    for (uint32_t s = 0; s < t->count; s++) {
        n += t->backends[s].state == LB_BACKEND_UP ? 1u : 0u;
    }
    return n;
}
