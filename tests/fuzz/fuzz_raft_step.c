/* fuzz_raft_step.c: libFuzzer target. The input is a script of inputs to a 3-node in-memory
 * cluster: forged messages, ticks, proposals, reads, transfers and membership changes. Any
 * crash, failed assertion or sanitizer report is a bug. `make fuzz` runs it. */
#include <stdint.h>
#include <string.h>

#include "fuzz/fuzz_input.h"
#include "harness/cluster.h"

static void forge(struct fuzz_reader *rd, struct tc_cluster *c, raft_id to)
{
    static uint8_t payload[32];
    struct raft_entry entries[3];
    struct raft *r = tc_node(c, to)->raft;
    uint64_t term = raft_term(r) + fuzz_take(rd, 1) % 3;
    uint64_t last = raft_last_index(r);
    struct raft_message m = {
        .type = (uint32_t)fuzz_take(rd, 1) % (RAFT_MSG_TYPE_MAX + 2),
        .flags = (uint32_t)fuzz_take(rd, 1) % 8,
        .from = fuzz_take(rd, 1) % 5,
        .to = to,
        .term = term > 0 ? term - 1 + fuzz_take(rd, 1) % 2 : 0,
        .index = last + fuzz_take(rd, 1) % 5 - 2,
        .log_term = term - fuzz_take(rd, 1) % 2,
        .commit = fuzz_take(rd, 2),
        .hint = fuzz_take(rd, 2),
        .hint_term = fuzz_take(rd, 1),
        .context = fuzz_take(rd, 1),
    };
    if (m.type == RAFT_MSG_APPEND) {
        m.entry_count = (uint32_t)fuzz_take(rd, 1) % 4;
        m.entries = entries;
        for (uint32_t i = 0; i < m.entry_count; i++) {
            entries[i] = (struct raft_entry){.term = m.log_term + fuzz_take(rd, 1) % 2,
                                             .index = m.index + 1 + i,
                                             .type = (uint32_t)fuzz_take(rd, 1) % 4,
                                             .data_size = (uint32_t)fuzz_take(rd, 1) % 32,
                                             .data = payload};
        }
    }
    if (m.type == RAFT_MSG_SNAPSHOT) {
        m.snapshot.index = fuzz_take(rd, 2);
        m.snapshot.term = fuzz_take(rd, 1);
        m.snapshot.size = fuzz_take(rd, 1);
        m.snapshot.conf.member_count = (uint32_t)fuzz_take(rd, 1) % 4;
        for (uint32_t i = 0; i < m.snapshot.conf.member_count; i++) {
            m.snapshot.conf.members[i].id = i + 1;
            m.snapshot.conf.members[i].role = RAFT_VOTER;
        }
        m.offset = fuzz_take(rd, 1);
        m.data_size = (uint32_t)fuzz_take(rd, 1) % 32;
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
    struct fuzz_reader rd = {data, size, 0};
    while (rd.at < rd.size) {
        raft_id id = 1 + fuzz_take(&rd, 1) % 3;
        struct raft *r = tc_node(&c, id)->raft;
        uint64_t index, term;
        switch (fuzz_take(&rd, 1) % 8) {
        case 0:
            tc_tick_all(&c);
            break;
        case 1:
            raft_propose(r, data, (uint32_t)(size < 16 ? size : 16), &index, &term);
            break;
        case 2:
            raft_read_index(r, fuzz_take(&rd, 1));
            break;
        case 3:
            raft_transfer_leader(r, fuzz_take(&rd, 1) % 4);
            break;
        case 4:
            raft_propose_conf(r, (enum raft_conf_op)(fuzz_take(&rd, 1) % 5), fuzz_take(&rd, 1) % 5,
                              "x", &index, &term);
            break;
        case 5:
            tc_isolate(&c, id, fuzz_take(&rd, 1) % 2);
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
