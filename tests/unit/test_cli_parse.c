/* test_cli_parse.c: what the CLI reads from nodes, pure: HTTP responses (complete, split at
 * every byte, 1xx before the answer, bodies until EOF, every refusal), URL encoding, the JSON
 * reader (every value kind, escapes and surrogates, every malformed text, the depth bound,
 * accessors) and base64 decoding (base/base64.h) of what its encoder wrote, and refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "base/err.h"
#include "base/prng.h"
#include "cli/cli_http.h"
#include "cli/cli_json.h"

static const uint8_t *u8(const char *s)
{
    return (const uint8_t *)s;
}

/* ---- HTTP responses ------------------------------------------------------------------ */

static int parse(const char *text, bool head_only, bool eof, struct cli_http_response *r)
{
    return cli_http_response_parse(u8(text), strlen(text), head_only, eof, 1000, r);
}

static void test_response_good(void **state)
{
    (void)state;
    struct cli_http_response r;
    const char *text = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                       "content-length:  5 \r\n\r\nhello";
    assert_int_equal(parse(text, false, false, &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_size, 5);
    assert_memory_equal(r.body, "hello", 5);
    assert_int_equal(r.total_size, strlen(text));
    /* bytes after the response are not its */
    text = "HTTP/1.0 404 Not Found\nContent-Length: 0\n\nX";
    assert_int_equal(parse(text, false, false, &r), 0);
    assert_int_equal(r.status, 404);
    assert_int_equal(r.total_size, strlen(text) - 1);
    /* HEAD: no body whatever Content-Length says; 204 has none either */
    assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", true, false, &r), 0);
    assert_int_equal(r.body_size, 0);
    assert_int_equal(parse("HTTP/1.1 204 No Content\r\n\r\n", false, false, &r), 0);
    /* no Content-Length: the body runs to EOF */
    assert_int_equal(parse("HTTP/1.1 200 OK\r\n\r\nabc", false, false, &r), CLI_HTTP_INCOMPLETE);
    assert_int_equal(parse("HTTP/1.1 200 OK\r\n\r\nabc", false, true, &r), 0);
    assert_int_equal(r.body_size, 3);
    /* 100 Continue before the answer */
    text = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 421 Misdirected Request\r\nContent-Length: 2\r\n"
           "\r\n{}";
    assert_int_equal(parse(text, false, false, &r), 0);
    assert_int_equal(r.status, 421);
    assert_int_equal(r.total_size, strlen(text));
    assert_memory_equal(r.body, "{}", 2);
}

static void test_response_split(void **state)
{
    (void)state;
    const char *text = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody";
    size_t n = strlen(text);
    struct cli_http_response r;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(cli_http_response_parse(u8(text), i, false, false, 1000, &r),
                         CLI_HTTP_INCOMPLETE);
        /* ended early */
        assert_int_equal(cli_http_response_parse(u8(text), i, false, true, 1000, &r), SYN_EBADMSG);
    }
    assert_int_equal(cli_http_response_parse(u8(text), n, false, false, 1000, &r), 0);
}

static void test_response_bad(void **state)
{
    (void)state;
    const char *bad[] = {
        "HTTP/2 200 OK\r\n\r\n",
        "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/1.1 2000 OK\r\n\r\n",
        "HTTP/1.1 099 Odd\r\n\r\n",
        "SSH-2.0-OpenSSH\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    };
    struct cli_http_response r;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = parse(bad[i], false, false, &r);
        if (rc != SYN_EBADMSG) {
            fail_msg("case %zu: %d", i, rc);
        }
    }
    assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 1001\r\n\r\n", false, false, &r),
                     SYN_ETOOBIG);
    size_t size = CLI_HTTP_HEAD_SIZE_MAX + 10;
    char *big = malloc(size + 1);
    assert_non_null(big);
    memset(big, 'a', size);
    memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
    big[size] = '\0';
    assert_int_equal(parse(big, false, false, &r), SYN_ETOOBIG);
    free(big);
}

static void test_encoding(void **state)
{
    (void)state;
    struct syn_buf b;
    syn_buf_init(&b, 0);
    const char *key = "a/b c%~_.-\xc3\xa9?&=+";
    assert_int_equal(cli_http_path_append(&b, u8(key), strlen(key)), 0);
    assert_int_equal(b.len, strlen("a/b%20c%25~_.-%C3%A9%3F%26%3D%2B"));
    assert_memory_equal(b.data, "a/b%20c%25~_.-%C3%A9%3F%26%3D%2B", b.len);
    syn_buf_reset(&b);
    assert_int_equal(cli_http_query_append(&b, u8("127.0.0.1:7001/x"), 16), 0);
    assert_memory_equal(b.data, "127.0.0.1%3A7001%2Fx", b.len);
    syn_buf_free(&b);
}

/* ---- JSON ---------------------------------------------------------------------------- */

static void test_json_values(void **state)
{
    (void)state;
    const char *text =
        " {\"a\": [1, -2.5e3, \"x\", true, false, null, {}, []], \"b\": {\"c\": \"d\"},"
        "\"n\": 18446744073709551615, \"s\": \"q\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9"
        "\\ud83d\\ude00\\udc00\"} ";
    struct cli_json j;
    assert_int_equal(cli_json_parse(&j, u8(text), strlen(text)), 0);
    assert_int_equal(cli_json_type(&j, 0), CLI_JSON_OBJECT);
    uint32_t a = cli_json_get(&j, 0, "a");
    assert_int_equal(cli_json_type(&j, a), CLI_JSON_ARRAY);
    static const uint8_t types[] = {CLI_JSON_NUMBER, CLI_JSON_NUMBER, CLI_JSON_STRING,
                                    CLI_JSON_TRUE,   CLI_JSON_FALSE,  CLI_JSON_NULL,
                                    CLI_JSON_OBJECT, CLI_JSON_ARRAY};
    size_t n = 0;
    for (uint32_t e = cli_json_first(&j, a); e != CLI_JSON_NONE; e = cli_json_next(&j, a, e)) {
        assert_true(n < 8);
        assert_int_equal(cli_json_type(&j, e), types[n++]);
    }
    assert_int_equal(n, 8);
    uint64_t v = 0;
    assert_true(cli_json_u64(&j, cli_json_first(&j, a), &v));
    assert_int_equal(v, 1);
    assert_false(cli_json_u64(&j, cli_json_next(&j, a, cli_json_first(&j, a)), &v));
    assert_true(cli_json_u64(&j, cli_json_get(&j, 0, "n"), &v));
    assert_true(v == UINT64_MAX);
    char out[8];
    assert_true(cli_json_cstring(&j, cli_json_get(&j, cli_json_get(&j, 0, "b"), "c"), out, 8));
    assert_string_equal(out, "d");
    assert_int_equal(cli_json_get(&j, 0, "c"), CLI_JSON_NONE); /* not at the top */
    assert_int_equal(cli_json_get(&j, a, "x"), CLI_JSON_NONE); /* not an object */
    struct syn_buf b;
    syn_buf_init(&b, 0);
    assert_int_equal(cli_json_string(&j, cli_json_get(&j, 0, "s"), &b), 0);
    const char *want = "q\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbd";
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    assert_int_equal(cli_json_string(&j, a, &b), SYN_EINVAL);
    syn_buf_free(&b);
    bool flag = false;
    assert_false(cli_json_bool(&j, a, &flag));
    cli_json_free(&j);
    /* a decimal string is a number to cli_json_u64 (ids); leading zeros are not */
    const char *ids = "[\"123\",\"0123\",\"\",0]";
    assert_int_equal(cli_json_parse(&j, u8(ids), strlen(ids)), 0);
    uint32_t e = cli_json_first(&j, 0);
    assert_true(cli_json_u64(&j, e, &v));
    assert_int_equal(v, 123);
    e = cli_json_next(&j, 0, e);
    assert_false(cli_json_u64(&j, e, &v));
    e = cli_json_next(&j, 0, e);
    assert_false(cli_json_u64(&j, e, &v));
    e = cli_json_next(&j, 0, e);
    assert_true(cli_json_u64(&j, e, &v));
    assert_int_equal(v, 0);
    assert_int_equal(cli_json_next(&j, 0, e), CLI_JSON_NONE);
    /* a string with a NUL is no C string */
    cli_json_free(&j);
    assert_int_equal(cli_json_parse(&j, u8("\"a\\u0000b\""), 10), 0);
    assert_false(cli_json_cstring(&j, 0, out, sizeof(out)));
    cli_json_free(&j);
}

static void test_json_bad(void **state)
{
    (void)state;
    const char *bad[] = {
        "",         " ",     "{",     "[1,]",        "{\"a\" 1}",  "{\"a\":}",
        "{a:1}",    "[1 2]", "01",    "-",           "1.",         "1e",
        "+1",       "tru",   "nul",   "\"abc",       "\"\\x\"",    "\"\\u12g4\"",
        "\"a\tb\"", "[]]",   "{} {}", "[\"\\u12\"]", "{\"a\":1,}", ".5",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct cli_json j;
        int rc = cli_json_parse(&j, u8(bad[i]), strlen(bad[i]));
        cli_json_free(&j);
        if (rc != SYN_EBADMSG) {
            fail_msg("case %zu '%s': %d", i, bad[i], rc);
        }
    }
    /* depth: CLI_JSON_DEPTH_MAX nested arrays are fine, one more is refused */
    char deep[2 * CLI_JSON_DEPTH_MAX + 3];
    for (uint32_t extra = 0; extra < 2; extra++) {
        uint32_t d = CLI_JSON_DEPTH_MAX + extra;
        memset(deep, '[', d);
        memset(deep + d, ']', d);
        struct cli_json j;
        assert_int_equal(cli_json_parse(&j, u8(deep), 2 * d), extra == 0 ? 0 : SYN_ETOOBIG);
        cli_json_free(&j);
    }
}

/* ---- Base64 -------------------------------------------------------------------------- */

static void test_base64(void **state)
{
    (void)state;
    struct syn_buf b, text;
    syn_buf_init(&b, 0);
    syn_buf_init(&text, 0);
    struct prng p;
    prng_init(&p, 7);
    for (int round = 0; round < 1000; round++) {
        uint8_t in[64];
        size_t n = (size_t)prng_range(&p, 0, sizeof(in));
        for (size_t i = 0; i < n; i++) {
            in[i] = (uint8_t)prng_next(&p);
        }
        syn_buf_reset(&text);
        assert_int_equal(syn_base64_append(&text, in, n), 0);
        syn_buf_reset(&b);
        assert_int_equal(syn_base64_decode(&b, text.data, text.len), 0);
        assert_int_equal(b.len, n);
        if (n > 0) {
            assert_memory_equal(b.data, in, n);
        }
    }
    const char *bad[] = {"a", "abc", "ab=c", "a===", "====", "ab==cd==", "a!cd", "YR==", "YWJ="};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        syn_buf_reset(&b);
        if (syn_base64_decode(&b, u8(bad[i]), strlen(bad[i])) != SYN_EBADMSG) {
            fail_msg("case %zu '%s' decoded", i, bad[i]);
        }
        assert_int_equal(b.len, 0);
    }
    syn_buf_free(&b);
    syn_buf_free(&text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_response_good), cmocka_unit_test(test_response_split),
        cmocka_unit_test(test_response_bad),  cmocka_unit_test(test_encoding),
        cmocka_unit_test(test_json_values),   cmocka_unit_test(test_json_bad),
        cmocka_unit_test(test_base64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
