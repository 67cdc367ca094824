/* test_base.c: the base vocabulary: CRC-32C against known vectors and a bitwise reference,
 * the PRNG's determinism and range, and the error table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "base/crc32c.h"
#include "base/err.h"
#include "base/num.h"
#include "base/prng.h"

static uint32_t crc32c_bitwise(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
        }
    }
    return ~c;
}

static void test_crc32c(void **state)
{
    (void)state;
    assert_int_equal(crc32c(0, "123456789", 9), 0xe3069283u); /* the standard check value */
    assert_int_equal(crc32c(0, "", 0), 0);
    uint8_t zeros[32] = {0};
    assert_int_equal(crc32c(0, zeros, 32), 0x8a9136aau); /* RFC 3720 B.4 */
    struct prng p;
    prng_init(&p, 1);
    uint8_t buf[1000];
    for (size_t i = 0; i < sizeof(buf); i++) {
        buf[i] = (uint8_t)prng_next(&p);
    }
    for (size_t n = 0; n < sizeof(buf); n += 37) {
        assert_int_equal(crc32c(0, buf, n), crc32c_bitwise(buf, n));
        size_t half = n / 3;
        assert_int_equal(crc32c(crc32c(0, buf, half), buf + half, n - half), crc32c(0, buf, n));
    }
}

static void test_prng(void **state)
{
    (void)state;
    struct prng a, b;
    prng_init(&a, 42);
    prng_init(&b, 42);
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(prng_next(&a), prng_next(&b));
    }
    int seen[10] = {0};
    for (int i = 0; i < 10000; i++) {
        uint64_t v = prng_range(&a, 5, 14);
        assert_true(v >= 5 && v <= 14);
        seen[v - 5]++;
    }
    for (int i = 0; i < 10; i++) {
        assert_true(seen[i] > 800 && seen[i] < 1200);
    }
}

static void test_err(void **state)
{
    (void)state;
    assert_string_equal(syn_errname(SYN_ENOTLEADER), "SYN_ENOTLEADER");
    assert_string_equal(syn_strerror(SYN_ENOSPC), "no space left on device");
    assert_string_equal(syn_strerror(-9999), "unknown error");
}

static void test_i64_text(void **state)
{
    (void)state;
    const char *good[] = {"0", "7", "-7", "9223372036854775807", "-9223372036854775808"};
    int64_t want[] = {0, 7, -7, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < 5; i++) {
        int64_t v = 1;
        assert_true(syn_i64_parse((const uint8_t *)good[i], strlen(good[i]), &v));
        assert_true(v == want[i]);
        char text[SYN_I64_TEXT_SIZE_MAX];
        size_t n = syn_i64_format(v, text);
        assert_int_equal(n, strlen(good[i]));
        assert_memory_equal(text, good[i], n);
    }
    const char *bad[] = {"", "-", "-0", "01", "+1", " 1", "1 ", "1x", "9223372036854775808",
                         "-9223372036854775809", "99999999999999999999", "123456789012345678901"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t v = 5;
        assert_false(syn_i64_parse((const uint8_t *)bad[i], strlen(bad[i]), &v));
        assert_true(v == 5);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c),
        cmocka_unit_test(test_prng),
        cmocka_unit_test(test_err),
        cmocka_unit_test(test_i64_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
