/* test_raft.c: the Raft core in a small in-memory cluster: election, replication, commit,
 * ReadIndex, leader failure, transfer, membership and message validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/err.h"
#include "harness/cluster.h"

static struct raft_config config(void)
{
    struct raft_config cfg;
    raft_config_default(&cfg, 1);
    cfg.seed = 7;
    return cfg;
}

static void propose_n(struct tc_cluster *c, raft_id leader, int n)
{
    for (int i = 0; i < n; i++) {
        uint8_t data[8] = {(uint8_t)i, 1, 2, 3, 4, 5, 6, 7};
        uint64_t index, term;
        assert_int_equal(raft_propose(tc_node(c, leader)->raft, data, sizeof(data), &index, &term), 0);
    }
    tc_run(c, leader);
    tc_deliver(c, 1000000);
}

static void test_elect_and_replicate(void **state)
{
    (void)state;
    struct raft_config cfg = config();
    struct tc_cluster c;
    tc_init(&c, 3, &cfg);
    raft_id leader = tc_elect(&c, 100);
    assert_true(leader != 0);
    propose_n(&c, leader, 100);
    tc_tick_all(&c);
    tc_deliver(&c, 1000000);
    uint64_t commit = raft_commit_index(tc_node(&c, leader)->raft);
    assert_int_equal(commit, 101); /* the leader's blank entry + 100 */
    for (raft_id id = 1; id <= 3; id++) {
        struct tc_node *n = tc_node(&c, id);
        assert_int_equal(n->last_applied_index, 101);
        assert_int_equal(n->applied_hash, tc_node(&c, leader)->applied_hash);
    }
    tc_free(&c);
}

static void test_leader_failure(void **state)
{
    (void)state;
    struct raft_config cfg = config();
    struct tc_cluster c;
    tc_init(&c, 5, &cfg);
    raft_id leader = tc_elect(&c, 100);
    assert_true(leader != 0);
    propose_n(&c, leader, 10);
    uint64_t term = raft_term(tc_node(&c, leader)->raft);
    tc_isolate(&c, leader, true);
    raft_id next = 0;
    for (int t = 0; t < 200 && (next == 0 || next == leader); t++) {
        tc_tick_all(&c);
        tc_deliver(&c, 100000);
        for (raft_id id = 1; id <= 5; id++) {
            if (id != leader && raft_role(tc_node(&c, id)->raft) == RAFT_LEADER) {
                next = id;
            }
        }
    }
    assert_true(next != 0 && next != leader);
    assert_true(raft_term(tc_node(&c, next)->raft) > term);
    /* check-quorum: the isolated leader steps down on its own within two checks */
    for (int t = 0; t < 2 * (int)cfg.election_ticks; t++) {
        tc_tick_all(&c);
        tc_deliver(&c, 100000);
    }
    assert_int_not_equal(raft_role(tc_node(&c, leader)->raft), RAFT_LEADER);
    propose_n(&c, next, 5);
    tc_isolate(&c, leader, false);
    for (int t = 0; t < 30; t++) {
        tc_tick_all(&c);
        tc_deliver(&c, 100000);
    }
    assert_int_equal(tc_node(&c, leader)->applied_hash, tc_node(&c, next)->applied_hash);
    tc_free(&c);
}

static void test_prevote_no_disruption(void **state)
{
    (void)state;
    struct raft_config cfg = config();
    struct tc_cluster c;
    tc_init(&c, 3, &cfg);
    raft_id leader = tc_elect(&c, 100);
    uint64_t term = raft_term(tc_node(&c, leader)->raft);
    raft_id other = leader == 1 ? 2 : 1;
    tc_isolate(&c, other, true);
    for (int t = 0; t < 100; t++) {
        tc_tick_all(&c);
        tc_deliver(&c, 100000);
    }
    /* Pre-vote keeps the isolated node's term from growing. */
    assert_int_equal(raft_term(tc_node(&c, other)->raft), term);
    tc_isolate(&c, other, false);
    for (int t = 0; t < 20; t++) {
        tc_tick_all(&c);
        tc_deliver(&c, 100000);
    }
    assert_int_equal(raft_role(tc_node(&c, leader)->raft), RAFT_LEADER);
    assert_int_equal(raft_term(tc_node(&c, leader)->raft), term);
    tc_free(&c);
}

static void test_read_index(void **state)
{
    (void)state;
    struct raft_config cfg = config();
    struct tc_cluster c;
    tc_init(&c, 3, &cfg);
    raft_id leader = tc_elect(&c, 100);
    propose_n(&c, leader, 3);
    raft_id follower = leader == 1 ? 2 : 1;
    assert_int_equal(raft_read_index(tc_node(&c, leader)->raft, 42), 0);
    assert_int_equal(raft_read_index(tc_node(&c, follower)->raft, 43), 0);
    tc_run(&c, leader);
    tc_run(&c, follower);
    tc_deliver(&c, 100000);
    assert_int_equal(tc_node(&c, leader)->last_read_id, 42);
    assert_int_equal(tc_node(&c, follower)->last_read_id, 43);
    tc_free(&c);
}

static void test_transfer(void **state)
{
    (void)state;
    struct raft_config cfg = config();
    struct tc_cluster c;
    tc_init(&c, 3, &cfg);
    raft_id leader = tc_elect(&c, 100);
    raft_id target = leader == 3 ? 1 : 3;
    assert_int_equal(raft_transfer_leader(tc_node(&c, leader)->raft, target), 0);
    tc_run(&c, leader);
    tc_deliver(&c, 100000);
    assert_int_equal(raft_role(tc_node(&c, target)->raft), RAFT_LEADER);
    assert_int_not_equal(raft_role(tc_node(&c, leader)->raft), RAFT_LEADER);
    tc_free(&c);
}

static void test_bad_messages(void **state)
{
    (void)state;
    struct raft_config cfg = config();
    struct tc_cluster c;
    tc_init(&c, 3, &cfg);
    struct raft *r = tc_node(&c, 1)->raft;
    struct raft_message m = {.type = 99, .from = 2, .to = 1, .term = 1};
    assert_int_equal(raft_step(r, &m), SYN_EBADMSG);
    m.type = RAFT_MSG_APPEND;
    m.from = 1;
    assert_int_equal(raft_step(r, &m), SYN_EBADMSG);
    m.from = 2;
    m.term = 0;
    assert_int_equal(raft_step(r, &m), SYN_EBADMSG);
    struct raft_entry e = {.term = 5, .index = 9, .type = RAFT_ENTRY_NORMAL};
    m = (struct raft_message){.type = RAFT_MSG_APPEND, .from = 2, .to = 1, .term = 3,
                              .entry_count = 1, .entries = &e};
    assert_int_equal(raft_step(r, &m), SYN_EBADMSG); /* entry term beyond message term */
    m = (struct raft_message){.type = RAFT_MSG_SNAPSHOT, .from = 2, .to = 1, .term = 3};
    m.snapshot.index = 5;
    m.snapshot.term = 2;
    m.snapshot.size = 10;
    m.offset = 8;
    m.data_size = 5;
    assert_int_equal(raft_step(r, &m), SYN_EBADMSG); /* chunk past the end */
    tc_free(&c);
}

static void test_membership(void **state)
{
    (void)state;
    struct raft_config cfg = config();
    struct tc_cluster c;
    tc_init(&c, 3, &cfg);
    raft_id leader = tc_elect(&c, 100);
    propose_n(&c, leader, 2);
    raft_id victim = leader == 3 ? 2 : 3;
    uint64_t index, term;
    struct raft *lr = tc_node(&c, leader)->raft;
    assert_int_equal(raft_propose_conf(lr, RAFT_CONF_REMOVE, victim, NULL, &index, &term), 0);
    assert_int_equal(raft_propose_conf(lr, RAFT_CONF_REMOVE, 1, NULL, &index, &term),
                     SYN_ECONFCHANGE);
    tc_run(&c, leader);
    tc_deliver(&c, 100000);
    tc_tick_all(&c);
    tc_deliver(&c, 100000);
    struct raft_status st;
    raft_status(lr, &st);
    assert_int_equal(st.conf.member_count, 2);
    assert_true(st.commit_index >= index);
    assert_int_equal(raft_propose_conf(lr, RAFT_CONF_ADD_LEARNER, victim, "n", &index, &term), 0);
    tc_run(&c, leader);
    tc_deliver(&c, 100000);
    for (int t = 0; t < 5; t++) {
        tc_tick_all(&c);
        tc_deliver(&c, 100000);
    }
    assert_int_equal(raft_propose_conf(lr, RAFT_CONF_PROMOTE, victim, NULL, &index, &term), 0);
    tc_run(&c, leader);
    tc_deliver(&c, 100000);
    tc_tick_all(&c);
    tc_deliver(&c, 100000);
    raft_status(lr, &st);
    assert_int_equal(raft_conf_voter_count(&st.conf), 3);
    tc_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_elect_and_replicate),
        cmocka_unit_test(test_leader_failure),
        cmocka_unit_test(test_prevote_no_disruption),
        cmocka_unit_test(test_read_index),
        cmocka_unit_test(test_transfer),
        cmocka_unit_test(test_bad_messages),
        cmocka_unit_test(test_membership),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
