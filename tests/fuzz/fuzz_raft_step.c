/* fuzz_raft_step.c: libFuzzer target. The input is a script of inputs to a 3-node in-memory
 * cluster: forged messages, ticks, proposals, reads, transfers and membership changes. Any
 * crash, failed assertion or sanitizer report is a bug. `make fuzz` runs it. */
#include <stdint.h>
#include <string.h>

#include "harness/cluster.h"

struct reader {
    const uint8_t *data;
    size_t size;
    size_t at;
};

static uint64_t take(struct reader *rd, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes && rd->at < rd->size; i++) {
        v |= (uint64_t)rd->data[rd->at++] << (8 * i);
    }
    return v;
}

static void forge(struct reader *rd, struct tc_cluster *c, raft_id to)
{
    static uint8_t payload[32];
    struct raft_entry entries[3];
    struct raft *r = tc_node(c, to)->raft;
    uint64_t term = raft_term(r) + take(rd, 1) % 3;
    uint64_t last = raft_last_index(r);
    struct raft_message m = {
        .type = (uint32_t)take(rd, 1) % (RAFT_MSG_TYPE_MAX + 2),
        .flags = (uint32_t)take(rd, 1) % 8,
        .from = take(rd, 1) % 5,
        .to = to,
        .term = term > 0 ? term - 1 + take(rd, 1) % 2 : 0,
        .index = last + take(rd, 1) % 5 - 2,
        .log_term = term - take(rd, 1) % 2,
        .commit = take(rd, 2),
        .hint = take(rd, 2),
        .hint_term = take(rd, 1),
        .context = take(rd, 1),
    };
    if (m.type == RAFT_MSG_APPEND) {
        m.entry_count = (uint32_t)take(rd, 1) % 4;
        m.entries = entries;
        for (uint32_t i = 0; i < m.entry_count; i++) {
            entries[i] = (struct raft_entry){.term = m.log_term + take(rd, 1) % 2,
                                             .index = m.index + 1 + i,
                                             .type = (uint32_t)take(rd, 1) % 4,
                                             .data_size = (uint32_t)take(rd, 1) % 32,
                                             .data = payload};
        }
    }
    if (m.type == RAFT_MSG_SNAPSHOT) {
        m.snapshot.index = take(rd, 2);
        m.snapshot.term = take(rd, 1);
        m.snapshot.size = take(rd, 1);
        m.snapshot.conf.member_count = (uint32_t)take(rd, 1) % 4;
        for (uint32_t i = 0; i < m.snapshot.conf.member_count; i++) {
            m.snapshot.conf.members[i].id = i + 1;
            m.snapshot.conf.members[i].role = RAFT_VOTER;
        }
        m.offset = take(rd, 1);
        m.data_size = (uint32_t)take(rd, 1) % 32;
        m.data = payload;
    }
    raft_step(r, &m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct raft_config cfg;
    raft_config_default(&cfg, 1);
    cfg.snapshot_chunk_size = 8;
    struct tc_cluster c;
    tc_init(&c, 3, &cfg);
    tc_elect(&c, 60);
    struct reader rd = {data, size, 0};
    while (rd.at < rd.size) {
        raft_id id = 1 + take(&rd, 1) % 3;
        struct raft *r = tc_node(&c, id)->raft;
        uint64_t index, term;
        switch (take(&rd, 1) % 8) {
        case 0:
            tc_tick_all(&c);
            break;
        case 1:
            raft_propose(r, data, (uint32_t)(size < 16 ? size : 16), &index, &term);
            break;
        case 2:
            raft_read_index(r, take(&rd, 1));
            break;
        case 3:
            raft_transfer_leader(r, take(&rd, 1) % 4);
            break;
        case 4:
            raft_propose_conf(r, (enum raft_conf_op)(take(&rd, 1) % 5), take(&rd, 1) % 5, "x",
                              &index, &term);
            break;
        case 5:
            tc_isolate(&c, id, take(&rd, 1) % 2);
            break;
        default:
            forge(&rd, &c, id);
            break;
        }
        tc_run(&c, id);
        tc_deliver(&c, 64);
    }
    tc_free(&c);
    return 0;
}
