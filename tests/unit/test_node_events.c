/* test_node_events.c: the node's ring of recent events (src/node/node_events.h), pure: numbers
 * in order, reading after a number, the oldest replaced once the ring is full (a reader that
 * comes back late sees the gap), a number from before a restart reading everything, sentences
 * cut to fit, and the kinds' names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/node_events.h"

static void test_add_and_read(void **state)
{
    (void)state;
    struct node_events *ev = calloc(1, sizeof(*ev));
    const struct node_event_rec *out[8];
    assert_int_equal(node_events_after(ev, 0, out, 8), 0); /* empty */
    assert_int_equal(node_events_add(ev, 100, NODE_EVENT_LEADER, "n1 is the leader"), 1);
    assert_int_equal(node_events_add(ev, 200, NODE_EVENT_SUSPECT, "n3 (phi 6.1)"), 2);
    assert_int_equal(node_events_add(ev, 300, NODE_EVENT_FAILED, "n3 (phi 9.0)"), 3);
    assert_int_equal(node_events_after(ev, 0, out, 8), 3);
    assert_int_equal(out[0]->seq, 1);
    assert_int_equal(out[0]->time_ms, 100);
    assert_int_equal(out[0]->kind, NODE_EVENT_LEADER);
    assert_string_equal(out[0]->text, "n1 is the leader");
    assert_string_equal(out[2]->text, "n3 (phi 9.0)");
    assert_int_equal(node_events_after(ev, 1, out, 8), 2);
    assert_int_equal(out[0]->seq, 2);
    assert_int_equal(node_events_after(ev, 3, out, 8), 0); /* nothing new: a reader waits */
    assert_int_equal(node_events_after(ev, 0, out, 2), 2); /* max holds */
    assert_int_equal(out[1]->seq, 2);
    /* A number past the newest comes from before a restart: everything held. */
    assert_int_equal(node_events_after(ev, 40, out, 8), 3);
    assert_int_equal(out[0]->seq, 1);
    free(ev);
}

static void test_ring_wraps(void **state)
{
    (void)state;
    struct node_events *ev = calloc(1, sizeof(*ev));
    const struct node_event_rec **out = calloc(SYN_NODE_EVENTS_MAX, sizeof(*out));
    uint64_t total = 3u * SYN_NODE_EVENTS_MAX + 7u;
    for (uint64_t i = 1; i <= total; i++) {
        char text[32];
        snprintf(text, sizeof(text), "event %llu", (unsigned long long)i);
        assert_int_equal(node_events_add(ev, i, NODE_EVENT_REGISTRY, text), i);
    }
    /* Only the newest SYN_NODE_EVENTS_MAX are held, oldest first. */
    uint64_t oldest = total - SYN_NODE_EVENTS_MAX + 1;
    assert_int_equal(node_events_after(ev, 0, out, SYN_NODE_EVENTS_MAX), SYN_NODE_EVENTS_MAX);
    for (uint32_t i = 0; i < SYN_NODE_EVENTS_MAX; i++) {
        assert_int_equal(out[i]->seq, oldest + i);
        char want[32];
        snprintf(want, sizeof(want), "event %llu", (unsigned long long)(oldest + i));
        assert_string_equal(out[i]->text, want);
    }
    /* A late reader gets the oldest held: the gap shows in the numbers. */
    assert_int_equal(node_events_after(ev, 5, out, 2), 2);
    assert_int_equal(out[0]->seq, oldest);
    assert_int_equal(node_events_after(ev, total - 2, out, SYN_NODE_EVENTS_MAX), 2);
    assert_int_equal(out[1]->seq, total);
    free(out);
    free(ev);
}

static void test_text_and_kinds(void **state)
{
    (void)state;
    struct node_events *ev = calloc(1, sizeof(*ev));
    char *big = malloc(2 * SYN_NODE_EVENT_TEXT_SIZE_MAX);
    memset(big, 'x', 2 * SYN_NODE_EVENT_TEXT_SIZE_MAX - 1);
    big[2 * SYN_NODE_EVENT_TEXT_SIZE_MAX - 1] = '\0';
    node_events_add(ev, 1, NODE_EVENT_CHECK, big);
    const struct node_event_rec *out[1];
    assert_int_equal(node_events_after(ev, 0, out, 1), 1);
    assert_int_equal(strlen(out[0]->text), SYN_NODE_EVENT_TEXT_SIZE_MAX - 1);
    assert_string_equal(node_event_kind_name(NODE_EVENT_SUSPECT), "suspect");
    assert_string_equal(node_event_kind_name(NODE_EVENT_ALIVE), "alive");
    assert_string_equal(node_event_kind_name(NODE_EVENT_LOG), "log");
    assert_string_equal(node_event_kind_name(0), "unknown");
    assert_string_equal(node_event_kind_name(NODE_EVENT_KIND_MAX + 1), "unknown");
    for (uint8_t k = 1; k <= NODE_EVENT_KIND_MAX; k++) {
        assert_string_not_equal(node_event_kind_name(k), "unknown");
    }
    free(big);
    free(ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_and_read),
        cmocka_unit_test(test_ring_wraps),
        cmocka_unit_test(test_text_and_kinds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
