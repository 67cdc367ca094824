/* test_http_query.c: query parameters as C strings (api/http_query.h): lookup, flags, form
 * decoding ('+' and %XX), every refusal (bad escapes, %00, a value that does not fit), and
 * random byte strings encoded the way a client would, which must decode to themselves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "api/http_query.h"
#include "base/err.h"
#include "base/prng.h"

static struct http_slice q(const char *s)
{
    return (struct http_slice){(const uint8_t *)s, strlen(s)};
}

static void test_get(void **state)
{
    (void)state;
    char out[32];
    size_t len = 99;
    struct http_slice query = q("cas=5&recurse&peer-addr=10.0.0.1%3A7001&to=n%32&cas=6&e=");
    assert_int_equal(http_query_get(query, "cas", out, sizeof(out), &len), 0);
    assert_string_equal(out, "5"); /* the first of two wins */
    assert_int_equal(len, 1);
    assert_int_equal(http_query_get(query, "peer-addr", out, sizeof(out), &len), 0);
    assert_string_equal(out, "10.0.0.1:7001");
    assert_int_equal(len, 13);
    assert_int_equal(http_query_get(query, "to", out, sizeof(out), NULL), 0);
    assert_string_equal(out, "n2");
    assert_int_equal(http_query_get(query, "recurse", out, sizeof(out), &len), 0);
    assert_string_equal(out, "");
    assert_int_equal(len, 0);
    assert_int_equal(http_query_get(query, "e", out, sizeof(out), &len), 0);
    assert_int_equal(len, 0);
    /* names are whole and exact */
    assert_int_equal(http_query_get(query, "ca", out, sizeof(out), &len), SYN_ENOENT);
    assert_int_equal(http_query_get(query, "CAS", out, sizeof(out), &len), SYN_ENOENT);
    assert_int_equal(http_query_get(query, "peer", out, sizeof(out), &len), SYN_ENOENT);
    assert_string_equal(out, "");
    assert_int_equal(len, 0);
    assert_int_equal(http_query_get(q(""), "cas", out, sizeof(out), &len), SYN_ENOENT);
    /* '+' is a space in a query (form encoding), "%2B" a plus */
    assert_int_equal(http_query_get(q("v=a+b%2Bc%20d"), "v", out, sizeof(out), &len), 0);
    assert_string_equal(out, "a b+c d");
    /* empty pairs and a lone '&' are skipped */
    assert_int_equal(http_query_get(q("&&x=1&"), "x", out, sizeof(out), &len), 0);
    assert_string_equal(out, "1");
    /* '=' inside a value belongs to the value */
    assert_int_equal(http_query_get(q("x=a=b"), "x", out, sizeof(out), &len), 0);
    assert_string_equal(out, "a=b");
}

static void test_has(void **state)
{
    (void)state;
    struct http_slice query = q("learner&recurse=true&keys=");
    assert_true(http_query_has(query, "learner"));
    assert_true(http_query_has(query, "recurse"));
    assert_true(http_query_has(query, "keys"));
    assert_false(http_query_has(query, "learn"));
    assert_false(http_query_has(query, "raw"));
    assert_false(http_query_has(q(""), "raw"));
}

static void test_refusals(void **state)
{
    (void)state;
    char out[8];
    size_t len = 99;
    const char *bad[] = {"v=%", "v=%2", "v=%zz", "v=a%g0", "v=%00", "v=a%0"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memcpy(out, "junk", 5);
        assert_int_equal(http_query_get(q(bad[i]), "v", out, sizeof(out), &len), SYN_EBADMSG);
        assert_string_equal(out, "");
        assert_int_equal(len, 0);
    }
    /* 7 bytes and the terminator fit 8; 8 do not, encoded or not */
    assert_int_equal(http_query_get(q("v=1234567"), "v", out, sizeof(out), &len), 0);
    assert_int_equal(len, 7);
    assert_int_equal(http_query_get(q("v=%31%32%33%34%35%36%37"), "v", out, sizeof(out), &len), 0);
    assert_string_equal(out, "1234567");
    assert_int_equal(http_query_get(q("v=12345678"), "v", out, sizeof(out), &len), SYN_ETOOBIG);
    assert_string_equal(out, "");
    assert_int_equal(len, 0);
    assert_int_equal(http_query_get(q("v="), "v", out, 0, &len), SYN_ETOOBIG);
    assert_int_equal(http_query_get(q("v="), "v", out, 1, &len), 0);
    assert_string_equal(out, "");
}

/* Encodes bytes as a client would: unreserved bytes as they are, ' ' as '+', the rest %XX. */
static size_t form_encode(const uint8_t *in, size_t size, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (size_t i = 0; i < size; i++) {
        uint8_t c = in[i];
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '.' || c == '_' || c == '~';
        if (plain) {
            out[n++] = (char)c;
        } else if (c == ' ') {
            out[n++] = '+';
        } else {
            out[n++] = '%';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        }
    }
    return n;
}

static void test_round_trip(void **state)
{
    (void)state;
    struct prng prng;
    prng_init(&prng, 42);
    for (int round = 0; round < 2000; round++) {
        uint8_t value[40];
        size_t size = (size_t)prng_range(&prng, 0, sizeof(value));
        for (size_t i = 0; i < size; i++) {
            value[i] = (uint8_t)prng_range(&prng, 1, 255); /* no NUL */
        }
        char query[3 * sizeof(value) + 16];
        size_t n = (size_t)snprintf(query, sizeof(query), "a=1&v=");
        n += form_encode(value, size, query + n);
        memcpy(query + n, "&z", 3);
        char out[sizeof(value) + 1];
        size_t len = 0;
        assert_int_equal(http_query_get(q(query), "v", out, sizeof(out), &len), 0);
        assert_int_equal(len, size);
        assert_memory_equal(out, value, size);
        assert_int_equal(out[len], '\0');
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_has),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
