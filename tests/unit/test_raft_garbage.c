/* test_raft_garbage.c: a live cluster keeps its invariants (no crash, no failed assertion, no
 * memory error under the sanitizers) while random and mutated messages are thrown at it.
 * Raft trusts its peers not to lie, so this checks robustness, not safety. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "base/err.h"
#include "base/prng.h"
#include "harness/cluster.h"

#define ROUNDS 3000

static uint64_t pick(struct prng *p, uint64_t around)
{
    switch (prng_range(p, 0, 5)) {
    case 0:
        return 0;
    case 1:
        return around;
    case 2:
        return around + 1;
    case 3:
        return around > 0 ? around - 1 : 0;
    case 4:
        return prng_range(p, 0, 2 * around + 3);
    default:
        return prng_next(p);
    }
}

static void random_message(struct prng *p, struct tc_cluster *c, struct raft_message *m,
                           struct raft_entry *entries, uint8_t *data)
{
    raft_id to = prng_range(p, 1, c->node_count);
    struct raft *r = tc_node(c, to)->raft;
    uint64_t term = raft_term(r);
    uint64_t last = raft_last_index(r);
    memset(m, 0, sizeof(*m));
    m->type = (uint32_t)prng_range(p, 0, RAFT_MSG_TYPE_MAX + 1);
    m->from = prng_range(p, 0, c->node_count + 1);
    m->to = prng_chance(p, 950000) ? to : prng_range(p, 0, 9);
    m->term = pick(p, term);
    m->index = pick(p, last);
    m->log_term = pick(p, term);
    m->commit = pick(p, last);
    m->hint = pick(p, last);
    m->hint_term = pick(p, term);
    m->context = pick(p, 3);
    m->flags = (uint32_t)prng_range(p, 0, 7);
    if (m->type == RAFT_MSG_APPEND && prng_chance(p, 700000)) {
        m->entry_count = (uint32_t)prng_range(p, 0, 4);
        m->entries = entries;
        for (uint32_t i = 0; i < m->entry_count; i++) {
            entries[i] = (struct raft_entry){
                .term = prng_chance(p, 800000) ? m->log_term + (i > 1) : pick(p, term),
                .index = prng_chance(p, 900000) ? m->index + 1 + i : pick(p, last),
                .type = (uint32_t)prng_range(p, 0, 4),
                .data_size = (uint32_t)prng_range(p, 0, 16),
                .data = data,
            };
        }
    }
    if (m->type == RAFT_MSG_SNAPSHOT) {
        m->snapshot.index = pick(p, last);
        m->snapshot.term = pick(p, term);
        m->snapshot.size = prng_range(p, 0, 64);
        m->snapshot.conf.member_count = (uint32_t)prng_range(p, 0, 4);
        for (uint32_t i = 0; i < m->snapshot.conf.member_count; i++) {
            m->snapshot.conf.members[i].id = prng_range(p, 0, 5);
            m->snapshot.conf.members[i].role = (uint8_t)prng_range(p, 0, 3);
        }
        m->offset = prng_range(p, 0, 64);
        m->data_size = (uint32_t)prng_range(p, 0, 64);
        m->data = data;
    }
}

static void test_garbage(void **state)
{
    (void)state;
    static uint8_t data[64];
    struct raft_entry entries[4];
    struct raft_config cfg;
    raft_config_default(&cfg, 1);
    for (uint64_t seed = 1; seed <= 64; seed++) {
        cfg.seed = seed;
        cfg.snapshot_chunk_size = 16;
        struct tc_cluster c;
        tc_init(&c, 3, &cfg);
        struct prng p;
        prng_init(&p, seed);
        uint64_t rejected = 0;
        for (int round = 0; round < ROUNDS; round++) {
            struct raft_message m;
            random_message(&p, &c, &m, entries, data);
            raft_id to = m.to >= 1 && m.to <= c.node_count ? m.to : 1;
            if (raft_step(tc_node(&c, to)->raft, &m) != 0) {
                rejected++;
            }
            tc_run(&c, to);
            if (round % 7 == 0) {
                tc_tick_all(&c);
            }
            tc_deliver(&c, 50);
            for (raft_id id = 1; id <= c.node_count; id++) {
                uint64_t i, t;
                struct raft *r = tc_node(&c, id)->raft;
                if (raft_role(r) == RAFT_LEADER && prng_chance(&p, 300000)) {
                    raft_propose(r, data, 8, &i, &t);
                    raft_read_index(r, (uint64_t)round);
                    tc_run(&c, id);
                }
            }
        }
        assert_true(rejected > ROUNDS / 4); /* most garbage is refused at the door */
        tc_free(&c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
