/* lin.c: lin_check(): validates a history, splits it by key (linearizability is local) and
 * runs the search of lin_search.c on each key, then says what it found in one sentence. */
#include "check/lin.h"

#include <stdlib.h>

#include "base/assert.h"
#include "base/err.h"
#include "check/lin_search.h"
#include "check/lin_text.h"

/* A scratch record for grouping ops by key. */
struct lin_slot {
    uint64_t key;
    uint64_t invoke_time;
    size_t index;
    bool unknown;
};

/* Key order; within a key completed ops before unknown ones (lin_search.h wants them so),
 * each by invoke time, then by index so that the order never depends on qsort. */
static int lin_slot_compare(const void *a, const void *b)
{
    const struct lin_slot *x = a;
    const struct lin_slot *y = b;
    int order = lin_compare_u64(x->key, y->key);
    order = order != 0 ? order : lin_compare_u64(x->unknown, y->unknown);
    order = order != 0 ? order : lin_compare_u64(x->invoke_time, y->invoke_time);
    return order != 0 ? order : lin_compare_u64(x->index, y->index);
}

/* Ops the search needs: LIN_FAIL ops had no effect and unknown reads constrain nothing. */
static bool lin_op_matters(const struct lin_op *op)
{
    if (op->outcome == LIN_FAIL) {
        return false;
    }
    return !(op->outcome == LIN_UNKNOWN && op->kind == LIN_READ);
}

/* Starts result as an error about ops[index] (or the whole history for LIN_OP_NONE). */
static struct lin_text lin_fail_text(struct lin_result *result, size_t index)
{
    struct lin_text text;
    lin_text_init(&text, result->message, sizeof(result->message));
    result->verdict = LIN_RESULT_UNKNOWN;
    result->op_index = index;
    if (index != LIN_OP_NONE) {
        lin_text_str(&text, "op ");
        lin_text_u64(&text, index);
        lin_text_str(&text, ": ");
    }
    return text;
}

/* 0 if 1 <= value <= max; else SYN_EINVAL, with "op I: <field> V is not a lin_<field>". */
static int lin_validate_enum(struct lin_result *result, size_t index, const char *field,
                             uint8_t value, uint8_t max)
{
    if (value >= 1 && value <= max) {
        return 0;
    }
    struct lin_text text = lin_fail_text(result, index);
    lin_text_str(&text, field);
    lin_text_str(&text, " ");
    lin_text_u64(&text, value);
    lin_text_str(&text, " is not a lin_");
    lin_text_str(&text, field);
    return SYN_EINVAL;
}

/* 0, or SYN_EINVAL with a sentence in result when ops[index] cannot be checked. */
static int lin_validate_op(const struct lin_op *op, size_t index, struct lin_result *result)
{
    int rc = lin_validate_enum(result, index, "kind", op->kind, LIN_CAS);
    if (rc == 0) {
        rc = lin_validate_enum(result, index, "outcome", op->outcome, LIN_UNKNOWN);
    }
    if (rc == 0 && op->outcome == LIN_OK && op->invoke_time >= op->complete_time) {
        struct lin_text text = lin_fail_text(result, index);
        lin_text_str(&text, "invoke_time ");
        lin_text_u64(&text, op->invoke_time);
        lin_text_str(&text, " is not before complete_time ");
        lin_text_u64(&text, op->complete_time);
        rc = SYN_EINVAL;
    }
    return rc;
}

/* Validates every op and collects the ones that matter, sorted by key, into *slots_out
 * (transferred to the caller, to free) and *count_out. 0, SYN_EINVAL or SYN_ENOMEM. */
static int lin_collect(const struct lin_op *ops, size_t op_count, struct lin_result *result,
                       struct lin_slot **slots_out, size_t *count_out)
{
    *slots_out = NULL;
    *count_out = 0;
    size_t count = 0;
    for (size_t i = 0; i < op_count; i++) {
        int rc = lin_validate_op(&ops[i], i, result);
        if (rc != 0) {
            return rc;
        }
        count += lin_op_matters(&ops[i]) ? 1 : 0;
    }
    struct lin_slot *slots = malloc((count + 1) * sizeof(*slots));
    if (slots == NULL) {
        return SYN_ENOMEM;
    }
    size_t at = 0;
    for (size_t i = 0; i < op_count; i++) {
        if (lin_op_matters(&ops[i])) {
            slots[at++] = (struct lin_slot){.key = ops[i].key,
                                            .invoke_time = ops[i].invoke_time,
                                            .index = i,
                                            .unknown = ops[i].outcome == LIN_UNKNOWN};
        }
    }
    ASSERT(at == count);
    qsort(slots, count, sizeof(*slots), lin_slot_compare);
    *slots_out = slots;
    *count_out = count;
    return 0;
}

/* The bounds in force, defaults filled in. */
static struct lin_limits lin_limits_resolve(const struct lin_limits *limits)
{
    struct lin_limits resolved = limits != NULL ? *limits : (struct lin_limits){0};
    if (resolved.steps_per_key_max == 0) {
        resolved.steps_per_key_max = LIN_STEPS_PER_KEY_DEFAULT;
    }
    if (resolved.memo_bytes_max == 0) {
        resolved.memo_bytes_max = LIN_MEMO_BYTES_DEFAULT;
    }
    return resolved;
}

/* What the keys checked so far add up to. */
struct lin_tally {
    uint64_t steps;
    uint64_t key_count;
    uint64_t op_count;
    bool undecided; /* a key was given up on; the first one: */
    uint64_t undecided_key;
    uint64_t undecided_op_count;
    struct lin_search_result undecided_search;
};

static void lin_report_violation(const struct lin_op *ops, uint64_t key, uint64_t op_count,
                                 const struct lin_search_result *found, struct lin_result *result)
{
    struct lin_text text;
    lin_text_init(&text, result->message, sizeof(result->message));
    result->verdict = LIN_RESULT_VIOLATION;
    result->key = key;
    result->op_index = found->op_index;
    lin_text_str(&text, "key ");
    lin_text_u64(&text, key);
    lin_text_str(&text, " is not linearizable: ");
    lin_text_op(&text, &ops[found->op_index], found->op_index);
    lin_text_str(&text, " fits no order of the key's ops that respects real time (at best ");
    lin_text_u64(&text, found->placed_max);
    lin_text_str(&text, " of ");
    lin_text_u64(&text, op_count);
    lin_text_str(&text, " placed)");
}

static void lin_report_end(const struct lin_tally *tally, const struct lin_limits *limits,
                           struct lin_result *result)
{
    struct lin_text text;
    lin_text_init(&text, result->message, sizeof(result->message));
    result->op_index = LIN_OP_NONE;
    if (!tally->undecided) {
        result->verdict = LIN_RESULT_OK;
        lin_text_str(&text, "linearizable: ");
        lin_text_u64(&text, tally->op_count);
        lin_text_str(&text, tally->op_count == 1 ? " op on " : " ops on ");
        lin_text_u64(&text, tally->key_count);
        lin_text_str(&text, tally->key_count == 1 ? " key" : " keys");
        return;
    }
    const struct lin_search_result *found = &tally->undecided_search;
    result->verdict = LIN_RESULT_UNKNOWN;
    result->key = tally->undecided_key;
    lin_text_str(&text, "undecided: no violation found, but the search on key ");
    lin_text_u64(&text, tally->undecided_key);
    if (found->memo_full) {
        lin_text_str(&text, " filled its memo bound of ");
        lin_text_u64(&text, limits->memo_bytes_max);
        lin_text_str(&text, " bytes");
    } else {
        lin_text_str(&text, " hit its budget of ");
        lin_text_u64(&text, limits->steps_per_key_max);
        lin_text_str(&text, " steps");
    }
    lin_text_str(&text, " with at best ");
    lin_text_u64(&text, found->placed_max);
    lin_text_str(&text, " of ");
    lin_text_u64(&text, tally->undecided_op_count);
    lin_text_str(&text, " ops placed");
}

/* Counts the ops of the key that slots[start] holds, into *completed and *unknown. */
static size_t lin_key_end(const struct lin_slot *slots, size_t count, size_t start,
                          uint32_t *completed, uint32_t *unknown)
{
    size_t end = start;
    *completed = 0;
    *unknown = 0;
    for (; end < count && slots[end].key == slots[start].key; end++) {
        *(slots[end].unknown ? unknown : completed) += 1;
    }
    return end;
}

/* Searches each key in turn, stopping at the first violation, and fills result. indices:
 * scratch with one slot per entry of slots. 0 or SYN_ENOMEM. */
static int lin_check_keys(const struct lin_op *ops, const struct lin_slot *slots, size_t count,
                          size_t *indices, const struct lin_limits *limits,
                          struct lin_result *result)
{
    struct lin_tally tally = {0};
    for (size_t i = 0; i < count; i++) {
        indices[i] = slots[i].index;
    }
    for (size_t start = 0; start < count;) {
        struct lin_key_ops key = {.ops = ops, .indices = indices + start};
        size_t end = lin_key_end(slots, count, start, &key.completed_count, &key.unknown_count);
        uint64_t key_id = slots[start].key;
        struct lin_search_result found;
        int rc = lin_search_key(&key, limits->steps_per_key_max, limits->memo_bytes_max, &found);
        tally.steps += found.steps;
        result->steps = tally.steps;
        if (rc != 0) {
            struct lin_text text = lin_fail_text(result, LIN_OP_NONE);
            lin_text_str(&text, "out of memory while checking key ");
            lin_text_u64(&text, key_id);
            result->key = key_id;
            return rc;
        }
        tally.key_count++;
        tally.op_count += end - start;
        if (found.verdict == LIN_RESULT_VIOLATION) {
            lin_report_violation(ops, key_id, end - start, &found, result);
            return 0;
        }
        if (found.verdict == LIN_RESULT_UNKNOWN && !tally.undecided) {
            tally.undecided = true;
            tally.undecided_key = key_id;
            tally.undecided_op_count = end - start;
            tally.undecided_search = found;
        }
        start = end;
    }
    lin_report_end(&tally, limits, result);
    return 0;
}

int lin_check_with_limits(const struct lin_op *ops, size_t op_count,
                          const struct lin_limits *limits, struct lin_result *result)
{
    if (result == NULL) {
        return SYN_EINVAL;
    }
    *result = (struct lin_result){.verdict = LIN_RESULT_UNKNOWN, .op_index = LIN_OP_NONE};
    if (ops == NULL && op_count > 0) {
        struct lin_text text = lin_fail_text(result, LIN_OP_NONE);
        lin_text_str(&text, "no ops array for a history of ");
        lin_text_u64(&text, op_count);
        lin_text_str(&text, " ops");
        return SYN_EINVAL;
    }
    if (op_count > LIN_OPS_MAX) {
        struct lin_text text = lin_fail_text(result, LIN_OP_NONE);
        lin_text_u64(&text, op_count);
        lin_text_str(&text, " ops exceed LIN_OPS_MAX");
        return SYN_ETOOBIG;
    }
    struct lin_limits resolved = lin_limits_resolve(limits);
    struct lin_slot *slots;
    size_t count;
    int rc = lin_collect(ops, op_count, result, &slots, &count);
    if (rc != 0) {
        return rc; /* lin_collect() wrote the sentence */
    }
    size_t *indices = malloc((count + 1) * sizeof(*indices));
    if (indices == NULL) {
        free(slots);
        struct lin_text text = lin_fail_text(result, LIN_OP_NONE);
        lin_text_str(&text, "out of memory");
        return SYN_ENOMEM;
    }
    rc = lin_check_keys(ops, slots, count, indices, &resolved, result);
    free(indices);
    free(slots);
    return rc;
}

int lin_check(const struct lin_op *ops, size_t op_count, uint64_t step_budget,
              struct lin_result *result)
{
    struct lin_limits limits = {.steps_per_key_max = step_budget};
    return lin_check_with_limits(ops, op_count, &limits, result);
}

const char *lin_verdict_name(int verdict)
{
    switch (verdict) {
    case LIN_RESULT_OK:
        return "ok";
    case LIN_RESULT_VIOLATION:
        return "violation";
    case LIN_RESULT_UNKNOWN:
        return "unknown";
    default:
        return "invalid";
    }
}
