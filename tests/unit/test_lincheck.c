/* test_lincheck.c: the history files of `synod lincheck`: every field of a line becomes the
 * right lin_op, names are interned consistently, every malformed line is refused with its
 * line number, and parsed histories get the checker's verdicts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cli/lincheck_history.h"

static int parse(const char *text, struct lincheck_history *h)
{
    return lincheck_history_parse((const uint8_t *)text, strlen(text), h);
}

/* The name with this id, formatted. */
static const char *name(const struct lincheck_names *names, uint64_t id)
{
    static char out[64];
    return lincheck_name_format(names, id, out, sizeof(out));
}

static void test_every_field(void **state)
{
    (void)state;
    struct lincheck_history h;
    const char *text = "# a history\n"
                       "\n"
                       "c1 x write v1 1000 2000 ok\r\n"
                       "  c2\tx read v1 1500 2500 ok   # a comment\n"
                       "c3 x cas v1 v2 2600 2900 ok swapped\n"
                       "c3 x cas v9 v3 3000 3100 ok kept\n"
                       "c1 y write v4 3000 - unknown\n"
                       "c2 y read - 10 20 ok\n"
                       "c2 y write - 30 40 fail\n"
                       "c1 y cas v1 v2 50 - unknown";
    assert_int_equal(parse(text, &h), 0);
    assert_int_equal(h.op_count, 8);
    assert_int_equal(h.clients.count, 3);
    assert_int_equal(h.keys.count, 2);
    assert_int_equal(h.unknown_count, 2);
    assert_int_equal(h.fail_count, 1);

    const struct lin_op *op = &h.ops[0];
    assert_int_equal(h.lines[0], 3);
    assert_int_equal(op->kind, LIN_WRITE);
    assert_int_equal(op->outcome, LIN_OK);
    assert_string_equal(name(&h.clients, op->client), "c1");
    assert_string_equal(name(&h.keys, op->key), "x");
    assert_string_equal(name(&h.values, op->value), "v1");
    assert_int_equal(op->invoke_time, 1000);
    assert_int_equal(op->complete_time, 2000);

    op = &h.ops[1];
    assert_int_equal(h.lines[1], 4);
    assert_int_equal(op->kind, LIN_READ);
    assert_int_equal(op->value, h.ops[0].value); /* the same string, the same id */
    assert_int_equal(op->key, h.ops[0].key);

    op = &h.ops[2];
    assert_int_equal(op->kind, LIN_CAS);
    assert_string_equal(name(&h.values, op->expected), "v1");
    assert_string_equal(name(&h.values, op->value), "v2");
    assert_true(op->cas_ok);
    assert_false(h.ops[3].cas_ok);

    op = &h.ops[4];
    assert_int_equal(op->outcome, LIN_UNKNOWN);
    assert_int_equal(op->complete_time, 0);
    assert_string_equal(name(&h.keys, op->key), "y");

    assert_int_equal(h.ops[5].value, LINCHECK_ABSENT); /* "-" reads absent */
    assert_string_equal(name(&h.values, h.ops[5].value), "-");
    assert_int_equal(h.ops[6].outcome, LIN_FAIL);
    assert_int_equal(h.ops[6].value, LINCHECK_ABSENT); /* writing "-" deletes */
    assert_int_equal(h.ops[7].kind, LIN_CAS);
    assert_int_equal(h.ops[7].outcome, LIN_UNKNOWN);
    assert_int_equal(h.lines[7], 10); /* the last line has no line ending */

    /* The offsets point at the lines' first bytes. */
    assert_memory_equal(text + h.line_offsets[0], "c1 x write", 10);
    assert_memory_equal(text + h.line_offsets[1], "  c2", 4);
    lincheck_history_free(&h);
}

static void test_percent_escapes_and_names(void **state)
{
    (void)state;
    struct lincheck_history h;
    /* "%2D" is the string "-", not absent; "%61" is "a", the same name as "a". */
    const char *text = "c%201 k%23 write %2D 1 2 ok\n"
                       "c2 k%23 read %2d 3 4 ok\n"
                       "c2 a write %61 5 6 ok\n"
                       "c2 %61 read a 7 8 ok\n";
    assert_int_equal(parse(text, &h), 0);
    assert_int_equal(h.op_count, 4);
    assert_int_not_equal(h.ops[0].value, LINCHECK_ABSENT);
    assert_int_equal(h.ops[0].value, h.ops[1].value);
    assert_string_equal(name(&h.values, h.ops[0].value), "%2D");
    assert_string_equal(name(&h.clients, h.ops[0].client), "c%201");
    assert_string_equal(name(&h.keys, h.ops[0].key), "k%23");
    assert_int_equal(h.ops[2].key, h.ops[3].key);
    assert_int_equal(h.ops[2].value, h.ops[3].value);
    assert_int_equal(h.keys.count, 2);
    assert_int_equal(h.values.count, 2);
    lincheck_history_free(&h);
}

static void test_long_name_is_cut(void **state)
{
    (void)state;
    struct lincheck_history h;
    char text[512];
    char value[201];
    memset(value, 'v', 200);
    value[200] = '\0';
    snprintf(text, sizeof(text), "c k write %s 1 2 ok\n", value);
    assert_int_equal(parse(text, &h), 0);
    char out[16];
    lincheck_name_format(&h.values, h.ops[0].value, out, sizeof(out));
    assert_string_equal(out, "vvvvvvvvvvvv...");
    lincheck_history_free(&h);
}

static void test_many_names(void **state)
{
    (void)state;
    size_t count = 5000;
    char *text = malloc(count * 64);
    assert_non_null(text);
    size_t len = 0;
    for (size_t i = 0; i < count; i++) {
        len += (size_t)sprintf(text + len, "c%zu k%zu write v%zu %zu %zu ok\n", i % 7, i % 13, i,
                               2 * i + 1, 2 * i + 2);
    }
    struct lincheck_history h;
    assert_int_equal(lincheck_history_parse((const uint8_t *)text, len, &h), 0);
    assert_int_equal(h.op_count, count);
    assert_int_equal(h.clients.count, 7);
    assert_int_equal(h.keys.count, 13);
    assert_int_equal(h.values.count, count);
    for (size_t i = 0; i < count; i++) {
        char want[32];
        snprintf(want, sizeof(want), "v%zu", i);
        assert_string_equal(name(&h.values, h.ops[i].value), want);
        assert_int_equal(h.ops[i].value, i + 1); /* ids in order of first appearance */
    }
    lincheck_history_free(&h);
    free(text);
}

/* Each bad line is refused with its line number. */
static void test_bad_lines(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        const char *why;
    } cases[] = {
        {"c1 x", "expected CLIENT KEY KIND"},
        {"c1 x wrte v 1 2 ok", "KIND must be"},
        {"c1 x write v 1 2 done", "OUTCOME must be"},
        {"c1 x write v 1 2", "expected INVOKE COMPLETE OUTCOME"},
        {"c1 x write v 1 2 ok extra", "unexpected text after OUTCOME"},
        {"c1 x write v 2 2 ok", "COMPLETE > INVOKE"},
        {"c1 x write v 3 2 ok", "COMPLETE > INVOKE"},
        {"c1 x write v 1 - ok", "COMPLETE must be a decimal time"},
        {"c1 x write v x 2 ok", "INVOKE must be"},
        {"c1 x write v 1 2x unknown", "COMPLETE must be a decimal time or -"},
        {"c1 x write v 18446744073709551616 18446744073709551617 ok", "INVOKE must be"},
        {"c1 x write v -1 2 ok", "INVOKE must be"},
        {"c1 x cas v w 1 2 ok", "an ok cas ends with swapped or kept"},
        {"c1 x cas v w 1 2 ok maybe", "an ok cas ends with swapped or kept"},
        {"c1 x cas v w 1 2 unknown swapped", "unexpected text after OUTCOME"},
        {"c1 x cas v", "expected the cas's new value"},
        {"c1 x cas v w", "expected INVOKE COMPLETE OUTCOME"},
        {"c1 x write v%4 1 2 ok", "two hex digits"},
        {"c1 x write v%zz 1 2 ok", "two hex digits"},
        {"- x write v 1 2 ok", "cannot be '-'"},
        {"c1 - write v 1 2 ok", "cannot be '-'"},
        {"c1 x cas a b 1 2 ok kept x y z", "too many fields"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[256];
        snprintf(text, sizeof(text),
                 "c0 x write v0 1 2 ok\n# fine so far\n%s\nc0 x read v0 3 4 ok\n", cases[i].line);
        struct lincheck_history h;
        int rc = parse(text, &h);
        if (rc != SYN_EINVAL || h.error_line != 3 || strstr(h.errmsg, cases[i].why) == NULL) {
            fail_msg("'%s': rc %d, line %u, message '%s'; wanted line 3 and '%s'", cases[i].line,
                     rc, h.error_line, h.errmsg, cases[i].why);
        }
        lincheck_history_free(&h);
    }
}

static void test_token_too_long(void **state)
{
    (void)state;
    size_t size = LINCHECK_TOKEN_SIZE_MAX + 64;
    char *text = malloc(size);
    assert_non_null(text);
    memcpy(text, "c x write ", 10);
    memset(text + 10, 'v', size - 10);
    struct lincheck_history h;
    assert_int_equal(lincheck_history_parse((const uint8_t *)text, size, &h), SYN_ETOOBIG);
    assert_int_equal(h.error_line, 1);
    lincheck_history_free(&h);
    free(text);
}

static void test_empty_history_is_valid(void **state)
{
    (void)state;
    struct lincheck_history h;
    assert_int_equal(parse("", &h), 0);
    assert_int_equal(h.op_count, 0);
    lincheck_history_free(&h);
    assert_int_equal(parse("# nothing\n\n   \n", &h), 0);
    assert_int_equal(h.op_count, 0);
    struct lin_result r;
    assert_int_equal(lin_check(h.ops, h.op_count, 0, &r), 0);
    assert_int_equal(r.verdict, LIN_RESULT_OK);
    lincheck_history_free(&h);
}

/* Parsed histories get the checker's verdicts: a stale read is found, on its line. */
static void test_verdicts(void **state)
{
    (void)state;
    struct lincheck_history h;
    struct lin_result r;
    const char *good = "a x write 1 0 10 ok\n"
                       "b x cas 1 2 5 20 ok swapped\n"
                       "c x read 2 21 30 ok\n"
                       "a x write 3 31 - unknown\n"
                       "c x read 3 100 110 ok\n"
                       "b y read - 0 5 ok\n";
    assert_int_equal(parse(good, &h), 0);
    assert_int_equal(lin_check(h.ops, h.op_count, 0, &r), 0);
    assert_int_equal(r.verdict, LIN_RESULT_OK);
    lincheck_history_free(&h);

    const char *stale = "a x write 1 0 10 ok\n"
                        "b x write 2 20 30 ok\n"
                        "b y write 7 20 30 ok\n"
                        "c x read 1 40 50 ok\n";
    assert_int_equal(parse(stale, &h), 0);
    assert_int_equal(lin_check(h.ops, h.op_count, 0, &r), 0);
    assert_int_equal(r.verdict, LIN_RESULT_VIOLATION);
    assert_string_equal(name(&h.keys, r.key), "x");
    assert_int_equal(h.lines[r.op_index], 4);
    lincheck_history_free(&h);

    /* A value that appears from nowhere: a failed write cannot explain it. */
    const char *ghost = "a x write 1 0 10 fail\n"
                        "c x read 1 40 50 ok\n";
    assert_int_equal(parse(ghost, &h), 0);
    assert_int_equal(lin_check(h.ops, h.op_count, 0, &r), 0);
    assert_int_equal(r.verdict, LIN_RESULT_VIOLATION);
    lincheck_history_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_field),
        cmocka_unit_test(test_percent_escapes_and_names),
        cmocka_unit_test(test_long_name_is_cut),
        cmocka_unit_test(test_many_names),
        cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_token_too_long),
        cmocka_unit_test(test_empty_history_is_valid),
        cmocka_unit_test(test_verdicts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
