/* test_lin.c: the linearizability checker accepts what is linearizable and rejects what is
 * not: hand-made classics, random histories taken from real sequential executions (and their
 * mutants), a brute-force oracle on small histories, and the bounds on work and memory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/prng.h"
#include "check/lin.h"

/* ---- Building histories ------------------------------------------------------------- */

/* A completed read or write. */
static struct lin_op op_make(uint8_t kind, uint64_t client, uint64_t key, uint64_t value,
                             uint64_t invoke, uint64_t complete)
{
    return (struct lin_op){.client = client,
                           .key = key,
                           .kind = kind,
                           .outcome = LIN_OK,
                           .value = value,
                           .invoke_time = invoke,
                           .complete_time = complete};
}

static struct lin_op op_read(uint64_t client, uint64_t key, uint64_t value, uint64_t invoke,
                             uint64_t complete)
{
    return op_make(LIN_READ, client, key, value, invoke, complete);
}

static struct lin_op op_write(uint64_t client, uint64_t key, uint64_t value, uint64_t invoke,
                              uint64_t complete)
{
    return op_make(LIN_WRITE, client, key, value, invoke, complete);
}

static struct lin_op op_cas(uint64_t client, uint64_t key, uint64_t expected, uint64_t value,
                            bool ok, uint64_t invoke, uint64_t complete)
{
    struct lin_op op = op_make(LIN_CAS, client, key, value, invoke, complete);
    op.expected = expected;
    op.cas_ok = ok;
    return op;
}

/* The same op, but it timed out: its outcome and completion are unknown. */
static struct lin_op op_unknown(struct lin_op op)
{
    op.outcome = LIN_UNKNOWN;
    op.complete_time = 0;
    op.cas_ok = false;
    return op;
}

/* The same op, rejected before it could take effect. */
static struct lin_op op_rejected(struct lin_op op)
{
    op.outcome = LIN_FAIL;
    return op;
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define NEVER_WRITTEN UINT64_C(0xdead00000000) /* above every value the tests write */
#define RANDOM_KEYS_MAX 3u
#define RANDOM_OPS_MAX 160u

/* Checks ops with the default budget; asserts the call itself worked; returns the verdict. */
static int verdict_of(const struct lin_op *ops, size_t count, struct lin_result *result)
{
    int rc = lin_check(ops, count, 0, result);
    assert_int_equal(rc, 0);
    assert_true(result->message[0] != '\0');
    assert_true(strlen(result->message) < sizeof(result->message));
    return result->verdict;
}

static void assert_linearizable(const struct lin_op *ops, size_t count)
{
    struct lin_result result;
    int verdict = verdict_of(ops, count, &result);
    if (verdict != LIN_RESULT_OK) {
        fail_msg("expected linearizable, got %s: %s", lin_verdict_name(verdict), result.message);
    }
    assert_int_equal(result.op_index, LIN_OP_NONE);
}

/* Asserts a violation on key, blamed on op index blamed (LIN_OP_NONE: any op of key). */
static void assert_violation(const struct lin_op *ops, size_t count, uint64_t key, size_t blamed)
{
    struct lin_result result;
    int verdict = verdict_of(ops, count, &result);
    if (verdict != LIN_RESULT_VIOLATION) {
        fail_msg("expected a violation, got %s: %s", lin_verdict_name(verdict), result.message);
    }
    assert_int_equal(result.key, key);
    assert_true(result.op_index < count);
    assert_int_equal(ops[result.op_index].key, key);
    if (blamed != LIN_OP_NONE) {
        assert_int_equal(result.op_index, blamed);
    }
    assert_non_null(strstr(result.message, "not linearizable"));
}

/* ---- Hand-made histories ------------------------------------------------------------ */

static void test_empty_history_is_linearizable(void **state)
{
    struct lin_result result;
    assert_int_equal(lin_check(NULL, 0, 0, &result), 0);
    assert_int_equal(result.verdict, LIN_RESULT_OK);
    assert_int_equal(result.steps, 0);
    assert_string_equal(result.message, "linearizable: 0 ops on 0 keys");
}

static void test_sequential_histories_pass(void **state)
{
    const struct lin_op ops[] = {
        op_read(1, 5, 0, 0, 1), /* absent at first */
        op_write(1, 5, 10, 2, 3),
        op_read(2, 5, 10, 4, 5),
        op_cas(2, 5, 10, 11, true, 6, 7),
        op_cas(1, 5, 10, 12, false, 8, 9), /* 11 is current: fails */
        op_read(1, 5, 11, 10, 11),
        op_write(3, 5, 0, 12, 13), /* a delete */
        op_read(3, 5, 0, 14, 15),
        op_cas(3, 5, 0, 20, true, 16, 17), /* create if absent */
        op_read(2, 5, 20, 18, 19),
    };
    assert_linearizable(ops, COUNT(ops));
    struct lin_result result;
    assert_int_equal(verdict_of(ops, COUNT(ops), &result), LIN_RESULT_OK);
    assert_string_equal(result.message, "linearizable: 10 ops on 1 key");
    assert_true(result.steps >= COUNT(ops));
}

static void test_concurrent_overlapping_histories_pass(void **state)
{
    /* Reads during a write may see either value, each in its own interval. */
    const struct lin_op during_write[] = {
        op_write(1, 1, 1, 0, 10),
        op_read(2, 1, 0, 1, 3),
        op_read(3, 1, 1, 4, 6),
    };
    assert_linearizable(during_write, COUNT(during_write));

    /* Two overlapping reads may see new then old if both overlap the write. */
    const struct lin_op crossing_reads[] = {
        op_write(1, 1, 1, 0, 10),
        op_read(2, 1, 1, 1, 5),
        op_read(3, 1, 0, 2, 6),
    };
    assert_linearizable(crossing_reads, COUNT(crossing_reads));

    /* Concurrent writes: later reads agree on whichever came last. */
    for (uint64_t last = 1; last <= 2; last++) {
        const struct lin_op racing_writes[] = {
            op_write(1, 1, 1, 0, 10),
            op_write(2, 1, 2, 0, 10),
            op_read(3, 1, last, 11, 12),
            op_read(1, 1, last, 13, 14),
        };
        assert_linearizable(racing_writes, COUNT(racing_writes));
    }

    /* Intervals that only touch are concurrent, so the read may precede the write. */
    const struct lin_op touching[] = {
        op_write(1, 1, 7, 0, 5),
        op_read(2, 1, 0, 5, 6),
    };
    assert_linearizable(touching, COUNT(touching));

    /* Concurrent cas from absent: exactly one wins. */
    const struct lin_op one_winner[] = {
        op_cas(1, 1, 0, 1, true, 0, 10),
        op_cas(2, 1, 0, 2, false, 0, 10),
        op_read(3, 1, 1, 11, 12),
    };
    assert_linearizable(one_winner, COUNT(one_winner));
}

/* The checker rejects a non-linearizable history. */
static void test_stale_read_after_completed_write_is_rejected(void **state)
{
    const struct lin_op ops[] = {
        op_write(1, 7, 1, 0, 10),
        op_read(2, 7, 0, 11, 20),
    };
    assert_violation(ops, COUNT(ops), 7, 1);
    struct lin_result result;
    verdict_of(ops, COUNT(ops), &result);
    assert_string_equal(result.message,
                        "key 7 is not linearizable: op 1 (client 2: read -> absent, [11, 20]) "
                        "fits no order of the key's ops that respects real time (at best 1 of "
                        "2 placed)");

    const struct lin_op older_value[] = {
        op_write(1, 7, 1, 0, 1),
        op_write(1, 7, 2, 2, 3),
        op_read(2, 7, 1, 4, 5),
    };
    assert_violation(older_value, COUNT(older_value), 7, 2);
}

static void test_new_then_old_read_is_rejected(void **state)
{
    /* Both reads overlap the write, but not each other: once seen, 1 cannot vanish. */
    const struct lin_op ops[] = {
        op_write(1, 3, 1, 0, 100),
        op_read(2, 3, 1, 10, 20),
        op_read(3, 3, 0, 30, 40),
    };
    assert_violation(ops, COUNT(ops), 3, LIN_OP_NONE);
}

static void test_cas_semantics(void **state)
{
    const struct lin_op expected_never_current[] = {
        op_write(1, 2, 1, 0, 1),
        op_cas(2, 2, 5, 6, true, 2, 3),
    };
    assert_violation(expected_never_current, COUNT(expected_never_current), 2, 1);

    const struct lin_op failed_but_equal[] = {
        op_write(1, 2, 1, 0, 1),
        op_cas(2, 2, 1, 2, false, 2, 3),
    };
    assert_violation(failed_but_equal, COUNT(failed_but_equal), 2, 1);

    const struct lin_op two_winners[] = {
        op_cas(1, 2, 0, 1, true, 0, 10),
        op_cas(2, 2, 0, 2, true, 0, 10),
    };
    assert_violation(two_winners, COUNT(two_winners), 2, LIN_OP_NONE);

    const struct lin_op read_ignores_swap[] = {
        op_write(1, 2, 1, 0, 1),
        op_cas(2, 2, 1, 2, true, 2, 3),
        op_read(3, 2, 1, 4, 5),
    };
    assert_violation(read_ignores_swap, COUNT(read_ignores_swap), 2, 2);

    const struct lin_op failed_then_swapped[] = {
        op_write(1, 2, 1, 0, 1),
        op_cas(2, 2, 3, 4, false, 2, 3),
        op_cas(3, 2, 1, 4, true, 4, 5),
        op_read(1, 2, 4, 6, 7),
    };
    assert_linearizable(failed_then_swapped, COUNT(failed_then_swapped));
}

static void test_unknown_writes_may_or_may_not_happen(void **state)
{
    struct lin_op ops[] = {
        op_write(1, 9, 1, 0, 1),
        op_unknown(op_write(2, 9, 2, 2, 0)),
        op_read(3, 9, 2, 5, 6),
        op_read(4, 9, 2, 7, 8),
    };
    assert_linearizable(ops, COUNT(ops)); /* it happened */
    ops[2].value = 1;
    ops[3].value = 1;
    assert_linearizable(ops, COUNT(ops)); /* it never did */
    ops[3].value = 2;
    assert_linearizable(ops, COUNT(ops)); /* it happened between the reads */
    ops[2].value = 2;
    ops[3].value = 1;
    assert_violation(ops, COUNT(ops), 9, 3); /* it appeared, then disappeared */

    /* An unknown write takes effect after its invocation, never before. */
    const struct lin_op too_early[] = {
        op_read(1, 9, 2, 0, 1),
        op_unknown(op_write(2, 9, 2, 2, 0)),
    };
    assert_violation(too_early, COUNT(too_early), 9, 0);

    /* An unknown cas counts only if it could have succeeded. */
    struct lin_op cas[] = {
        op_write(1, 9, 1, 0, 1),
        op_unknown(op_cas(2, 9, 1, 3, false, 2, 0)),
        op_read(3, 9, 3, 5, 6),
    };
    assert_linearizable(cas, COUNT(cas));
    cas[1].expected = 8;
    assert_violation(cas, COUNT(cas), 9, 2);
}

static void test_rejected_ops_and_unknown_reads_are_ignored(void **state)
{
    const struct lin_op rejected_write[] = {
        op_rejected(op_write(1, 4, 9, 0, 1)),
        op_read(2, 4, 9, 2, 3),
    };
    assert_violation(rejected_write, COUNT(rejected_write), 4, 1);

    const struct lin_op unknown_read[] = {
        op_write(1, 4, 1, 0, 1),
        op_unknown(op_read(2, 4, 77, 2, 0)),
        op_rejected(op_cas(3, 4, 5, 6, true, 2, 3)),
    };
    assert_linearizable(unknown_read, COUNT(unknown_read));
}

static void test_only_the_broken_key_is_named(void **state)
{
    struct lin_op ops[32];
    size_t count = 0;
    for (uint64_t key = 1; key <= 6; key++) {
        uint64_t t = key; /* the keys' ops interleave in time */
        ops[count++] = op_write(key, key, 100 + key, t, t + 10);
        ops[count++] = op_read(key + 1, key, 100 + key, t + 20, t + 30);
        ops[count++] = op_write(key + 2, key, 200 + key, t + 40, t + 50);
    }
    assert_linearizable(ops, count);
    size_t stale = count;
    ops[count++] = op_read(9, 4, 104, 70, 80); /* key 4 already holds 204 */
    assert_violation(ops, count, 4, stale);
}

static void test_bad_input_is_refused(void **state)
{
    struct lin_result result;
    struct lin_op ops[] = {
        op_write(1, 1, 1, 0, 1),
        op_read(1, 1, 1, 5, 5),
    };
    assert_int_equal(lin_check(ops, COUNT(ops), 0, &result), SYN_EINVAL);
    assert_int_equal(result.verdict, LIN_RESULT_UNKNOWN);
    assert_int_equal(result.op_index, 1);
    assert_string_equal(result.message, "op 1: invoke_time 5 is not before complete_time 5");

    ops[1] = op_unknown(ops[1]); /* an unknown op has no completion to check */
    assert_int_equal(lin_check(ops, COUNT(ops), 0, &result), 0);
    ops[1].kind = 9;
    assert_int_equal(lin_check(ops, COUNT(ops), 0, &result), SYN_EINVAL);
    assert_string_equal(result.message, "op 1: kind 9 is not a lin_kind");
    ops[1].kind = LIN_READ;
    ops[1].outcome = 0;
    assert_int_equal(lin_check(ops, COUNT(ops), 0, &result), SYN_EINVAL);
    assert_string_equal(result.message, "op 1: outcome 0 is not a lin_outcome");

    assert_int_equal(lin_check(ops, COUNT(ops), 0, NULL), SYN_EINVAL);
    assert_int_equal(lin_check(NULL, 3, 0, &result), SYN_EINVAL);
    assert_int_equal(result.verdict, LIN_RESULT_UNKNOWN);
    /* Refused before any op is read. */
    assert_int_equal(lin_check(ops, (size_t)LIN_OPS_MAX + 1, 0, &result), SYN_ETOOBIG);
    assert_int_equal(result.verdict, LIN_RESULT_UNKNOWN);
}

static void test_verdict_names(void **state)
{
    assert_string_equal(lin_verdict_name(LIN_RESULT_OK), "ok");
    assert_string_equal(lin_verdict_name(LIN_RESULT_VIOLATION), "violation");
    assert_string_equal(lin_verdict_name(LIN_RESULT_UNKNOWN), "unknown");
    assert_string_equal(lin_verdict_name(0), "invalid");
}

/* ---- Bounds ------------------------------------------------------------------------- */

/* width writes of distinct values, all concurrent, then a read of a value none wrote: the
 * search must try every subset and order of the writes before it can say no. */
static size_t hard_history(struct lin_op *ops, uint64_t key, size_t width)
{
    for (size_t i = 0; i < width; i++) {
        ops[i] = op_write(i, key, 1 + i, 0, 100);
    }
    ops[width] = op_read(99, key, 1000, 200, 201);
    return width + 1;
}

static void test_tiny_budget_gives_unknown(void **state)
{
    struct lin_op ops[32];
    size_t count = hard_history(ops, 1, 16);
    struct lin_result result;
    assert_int_equal(lin_check(ops, count, 100, &result), 0);
    assert_int_equal(result.verdict, LIN_RESULT_UNKNOWN);
    assert_int_equal(result.key, 1);
    assert_int_equal(result.steps, 100);
    assert_int_equal(result.op_index, LIN_OP_NONE);
    assert_non_null(strstr(result.message, "budget of 100 steps"));

    /* A violation on another key still wins over an undecided key. */
    ops[count++] = op_write(1, 2, 5, 0, 1);
    ops[count++] = op_read(2, 2, 0, 2, 3);
    assert_int_equal(lin_check(ops, count, 100, &result), 0);
    assert_int_equal(result.verdict, LIN_RESULT_VIOLATION);
    assert_int_equal(result.key, 2);
    assert_int_equal(result.op_index, count - 1);

    /* With room to search, a smaller hard history is decided: the memo folds the 12!
     * orders of the writes into 2^12 sets, each with 13 values at most. */
    count = hard_history(ops, 1, 12);
    assert_violation(ops, count, 1, 12);
    assert_int_equal(lin_check(ops, count, 0, &result), 0);
    assert_true(result.steps < 1000000);
}

static void test_memo_bound_gives_unknown(void **state)
{
    struct lin_op ops[32];
    size_t count = hard_history(ops, 3, 16);
    struct lin_limits limits = {.memo_bytes_max = 16 * 1024};
    struct lin_result result;
    assert_int_equal(lin_check_with_limits(ops, count, &limits, &result), 0);
    assert_int_equal(result.verdict, LIN_RESULT_UNKNOWN);
    assert_int_equal(result.key, 3);
    assert_non_null(strstr(result.message, "memo bound of 16384 bytes"));
}

/* A long cas chain with low concurrency, and a timed-out write that never happened every 20
 * ops. The memo stores only the window of the linearized set that moves with the search, so
 * its memory grows with the history, not its square (whole bitsets would need over a
 * gigabyte here). And the search tries timed-out ops only when the completed ones are stuck,
 * so the thousands that pile up cost nothing. */
static void test_long_history_stays_within_bounds(void **state)
{
    enum { LONG_OPS = 100000 };
    struct lin_op *ops = calloc(LONG_OPS, sizeof(*ops));
    assert_non_null(ops);
    uint64_t value = 0;
    for (uint64_t i = 0; i < LONG_OPS; i++) {
        uint64_t t = 10 * i;
        if (i % 20 == 7) {
            ops[i] = op_unknown(op_write(i % 5, 1, NEVER_WRITTEN + i, t, 0));
        } else if (i % 2 == 0) {
            ops[i] = op_cas(i % 5, 1, value, value + 1, true, t, t + 15);
            value++;
        } else {
            ops[i] = op_read(i % 5, 1, value, t, t + 15);
        }
    }
    struct lin_limits limits = {.memo_bytes_max = 64u << 20};
    struct lin_result result;
    assert_int_equal(lin_check_with_limits(ops, LONG_OPS, &limits, &result), 0);
    if (result.verdict != LIN_RESULT_OK) {
        fail_msg("%s", result.message);
    }
    assert_true(result.steps < 2 * (uint64_t)LONG_OPS);
    free(ops);
}

/* Timed-out writes are optional, but trying every subset and order of them would take 2^n
 * steps: a state with more of them used up is never better, so the search prunes it. */
static void test_timed_out_ops_do_not_blow_up(void **state)
{
    enum { PENDING = 24 };
    struct lin_op ops[PENDING + 2];
    for (uint64_t i = 0; i < PENDING; i++) {
        ops[i] = op_unknown(op_write(i, 6, 100 + i, i, 0));
    }
    ops[PENDING] = op_read(50, 6, 113, 100, 101);
    ops[PENDING + 1] = op_read(51, 6, 105, 102, 103);
    struct lin_result result;
    assert_int_equal(verdict_of(ops, PENDING + 2, &result), LIN_RESULT_OK);
    assert_true(result.steps < 1000);
    ops[PENDING + 1].value = 113; /* nothing need have overwritten it */
    assert_int_equal(verdict_of(ops, PENDING + 2, &result), LIN_RESULT_OK);
    ops[PENDING + 1].value = NEVER_WRITTEN; /* every order of the writes fails */
    assert_int_equal(verdict_of(ops, PENDING + 2, &result), LIN_RESULT_VIOLATION);
    assert_true(result.steps < 10000);
    assert_violation(ops, PENDING + 2, 6, PENDING + 1);

    /* Timed-out cas that would leave the register as it was change nothing if they
     * happened: no subset of them is worth a try. */
    for (uint64_t i = 0; i < PENDING; i++) {
        ops[i] = op_unknown(op_cas(i, 6, 0, 0, false, i, 0));
    }
    ops[PENDING] = op_read(50, 6, 0, 100, 101);
    ops[PENDING + 1] = op_read(51, 6, 5, 102, 103);
    assert_int_equal(verdict_of(ops, PENDING + 2, &result), LIN_RESULT_VIOLATION);
    assert_true(result.steps < 10000);
}

/* ---- Random histories from real executions ------------------------------------------ */

/* One op of a sequential execution at time point, applied to *current. */
static struct lin_op random_op(struct prng *rng, uint64_t key, uint64_t *current, uint64_t *fresh)
{
    uint64_t roll = prng_range(rng, 0, 99);
    struct lin_op op = {.client = prng_range(rng, 1, 5), .key = key, .outcome = LIN_OK};
    if (roll < 40) {
        op.kind = LIN_READ;
        op.value = *current;
    } else if (roll < 75) {
        op.kind = LIN_WRITE;
        op.value = prng_chance(rng, 100000) ? 0 : (*fresh)++;
        *current = op.value;
    } else {
        op.kind = LIN_CAS;
        op.expected = prng_chance(rng, 600000) ? *current : prng_range(rng, 0, *fresh);
        op.value = (*fresh)++;
        op.cas_ok = op.expected == *current;
        *current = op.cas_ok ? op.value : *current;
    }
    return op;
}

/* Makes some ops' outcomes uncertain: a timeout after the op took effect, a timeout before
 * it did, or a rejection. Ops that did not take effect are undone in the execution. */
static void random_outcome(struct prng *rng, struct lin_op *op, uint64_t *current, uint64_t before)
{
    uint64_t roll = prng_range(rng, 0, 99);
    if (roll >= 15) {
        return;
    }
    op->outcome = roll < 12 ? LIN_UNKNOWN : LIN_FAIL;
    if (op->kind == LIN_READ) {
        op->value = NEVER_WRITTEN - 1; /* what it read is lost, so it means nothing */
    } else if (roll >= 7) {
        *current = before; /* it never took effect */
    }
}

/* A sequential execution over key_count registers, one op per 10 ticks, each op then given
 * a random interval around its moment of effect: real time is respected by construction. */
static void random_history(struct prng *rng, struct lin_op *ops, size_t count, uint64_t key_count,
                           uint64_t window)
{
    uint64_t current[RANDOM_KEYS_MAX + 1] = {0};
    uint64_t fresh = 1;
    assert_true(key_count <= RANDOM_KEYS_MAX);
    for (size_t i = 0; i < count; i++) {
        uint64_t point = 1000 + 10 * i;
        uint64_t key = prng_range(rng, 1, key_count);
        uint64_t before = current[key];
        ops[i] = random_op(rng, key, &current[key], &fresh);
        random_outcome(rng, &ops[i], &current[key], before);
        ops[i].invoke_time = point - prng_range(rng, 0, window);
        ops[i].complete_time = point + prng_range(rng, 1, window);
    }
}

/* A random completed read, or LIN_OP_NONE. */
static size_t random_completed_read(struct prng *rng, const struct lin_op *ops, size_t count)
{
    size_t start = prng_range(rng, 0, count - 1);
    for (size_t k = 0; k < count; k++) {
        size_t i = (start + k) % count;
        if (ops[i].kind == LIN_READ && ops[i].outcome == LIN_OK) {
            return i;
        }
    }
    return LIN_OP_NONE;
}

static void test_random_executions_pass_and_mutants_fail(void **state)
{
    struct prng rng;
    prng_init(&rng, 20240917);
    struct lin_op ops[RANDOM_OPS_MAX];
    uint32_t mutants = 0;
    for (uint32_t round = 0; round < 400; round++) {
        size_t count = prng_range(&rng, 1, RANDOM_OPS_MAX);
        uint64_t key_count = prng_range(&rng, 1, RANDOM_KEYS_MAX);
        random_history(&rng, ops, count, key_count, prng_range(&rng, 1, 40));
        struct lin_result result;
        if (verdict_of(ops, count, &result) != LIN_RESULT_OK) {
            fail_msg("round %u: %s", round, result.message);
        }
        size_t read = random_completed_read(&rng, ops, count);
        if (read == LIN_OP_NONE) {
            continue;
        }
        ops[read].value = NEVER_WRITTEN + round; /* a value no one ever wrote */
        assert_violation(ops, count, ops[read].key, LIN_OP_NONE);
        mutants++;
    }
    assert_true(mutants >= 300);
}

/* ---- A brute-force oracle on small histories ---------------------------------------- */

#define ORACLE_OPS_MAX 8u

/* May op i come next, given the set placed? Only if it is real and no other op still to
 * place completed before it was invoked. */
static bool oracle_may_go_next(const struct lin_op *ops, size_t count, uint32_t placed, size_t i)
{
    if (ops[i].outcome == LIN_FAIL || (ops[i].outcome == LIN_UNKNOWN && ops[i].kind == LIN_READ)) {
        return false;
    }
    for (size_t j = 0; j < count; j++) {
        bool pending = j != i && (placed & (1u << j)) == 0 && ops[j].outcome == LIN_OK;
        if (pending && ops[j].complete_time < ops[i].invoke_time) {
            return false;
        }
    }
    return true;
}

/* The values the register may hold after op from value: 0 or 1 of them, in *after. */
static bool oracle_effect(const struct lin_op *op, uint64_t value, uint64_t *after)
{
    bool matches = value == op->expected;
    *after = value;
    switch (op->kind) {
    case LIN_READ:
        return op->value == value;
    case LIN_WRITE:
        *after = op->value;
        return true;
    default:
        if (op->outcome == LIN_UNKNOWN || op->cas_ok == matches) {
            *after = matches ? op->value : value;
            return true;
        }
        return false;
    }
}

/* Is there an order of the ops not in placed, starting from value, that works? */
static bool oracle_search(const struct lin_op *ops, size_t count, uint32_t placed, uint64_t value)
{
    bool done = true;
    for (size_t i = 0; i < count; i++) {
        done = done && (ops[i].outcome != LIN_OK || (placed & (1u << i)) != 0);
    }
    if (done) {
        return true;
    }
    for (size_t i = 0; i < count; i++) {
        uint64_t after;
        if ((placed & (1u << i)) != 0 || !oracle_may_go_next(ops, count, placed, i) ||
            !oracle_effect(&ops[i], value, &after)) {
            continue;
        }
        if (oracle_search(ops, count, placed | (1u << i), after)) {
            return true;
        }
    }
    return false;
}

/* Any small history at all, over few values so that reads often match; known_per_100 of
 * the ops complete, most of the others time out. */
static void arbitrary_history(struct prng *rng, struct lin_op *ops, size_t count,
                              uint64_t known_per_100)
{
    for (size_t i = 0; i < count; i++) {
        uint64_t roll = prng_range(rng, 0, 99);
        uint64_t invoke = prng_range(rng, 0, 12);
        ops[i] = (struct lin_op){
            .client = i,
            .key = 1,
            .kind = (uint8_t)prng_range(rng, LIN_READ, LIN_CAS),
            .outcome = roll < known_per_100 ? LIN_OK : (roll < 92 ? LIN_UNKNOWN : LIN_FAIL),
            .value = prng_range(rng, 0, 2),
            .expected = prng_range(rng, 0, 2),
            .cas_ok = prng_chance(rng, 500000),
            .invoke_time = invoke,
            .complete_time = invoke + prng_range(rng, 1, 6),
        };
    }
}

static void test_agrees_with_brute_force_on_small_histories(void **state)
{
    struct prng rng;
    prng_init(&rng, 77);
    struct lin_op ops[ORACLE_OPS_MAX];
    uint32_t verdicts[4] = {0};
    for (uint32_t round = 0; round < 6000; round++) {
        size_t count = prng_range(&rng, 1, ORACLE_OPS_MAX);
        arbitrary_history(&rng, ops, count, round % 2 == 0 ? 75 : 40);
        struct lin_result result;
        struct lin_result again;
        int verdict = verdict_of(ops, count, &result);
        int expected = oracle_search(ops, count, 0, 0) ? LIN_RESULT_OK : LIN_RESULT_VIOLATION;
        if (verdict != expected) {
            fail_msg("round %u: oracle says %s, checker: %s", round, lin_verdict_name(expected),
                     result.message);
        }
        verdicts[verdict]++;
        verdict_of(ops, count, &again); /* deterministic, to the step */
        assert_int_equal(again.steps, result.steps);
        assert_string_equal(again.message, result.message);
    }
    /* Both answers are common, so the agreement means something. */
    assert_true(verdicts[LIN_RESULT_OK] >= 1500);
    assert_true(verdicts[LIN_RESULT_VIOLATION] >= 1500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_history_is_linearizable),
        cmocka_unit_test(test_sequential_histories_pass),
        cmocka_unit_test(test_concurrent_overlapping_histories_pass),
        cmocka_unit_test(test_stale_read_after_completed_write_is_rejected),
        cmocka_unit_test(test_new_then_old_read_is_rejected),
        cmocka_unit_test(test_cas_semantics),
        cmocka_unit_test(test_unknown_writes_may_or_may_not_happen),
        cmocka_unit_test(test_rejected_ops_and_unknown_reads_are_ignored),
        cmocka_unit_test(test_only_the_broken_key_is_named),
        cmocka_unit_test(test_bad_input_is_refused),
        cmocka_unit_test(test_verdict_names),
        cmocka_unit_test(test_tiny_budget_gives_unknown),
        cmocka_unit_test(test_memo_bound_gives_unknown),
        cmocka_unit_test(test_long_history_stays_within_bounds),
        cmocka_unit_test(test_timed_out_ops_do_not_blow_up),
        cmocka_unit_test(test_random_executions_pass_and_mutants_fail),
        cmocka_unit_test(test_agrees_with_brute_force_on_small_histories),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
