/* test_http_server.c: the HTTP request parser (pure: every rule, its status, resumption at
 * every byte, query and percent-decoding helpers) and the HTTP server over real TCP on
 * 127.0.0.1 with the service double: each endpoint, 404/405, HEAD, keep-alive and pipelining,
 * HTTP/1.0, malformed and oversized requests (answered, then closed), Expect: 100-continue,
 * the idle timeout, the connection limit and closing with clients connected. Bounded waits;
 * every test ends with uv_loop_close() == 0 (STYLE 16). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

#include "api/http_parse.h"
#include "api/http_server.h"
#include "api/json.h"
#include "base/err.h"
#include "base/prng.h"
#include "harness/api_fixture.h"
#include "harness/sock_client.h"

#define WAIT_MS 10000u

/* ---- The parser ---------------------------------------------------------------------- */

static int parse(const char *text, struct http_request *req)
{
    memset(req, 0, sizeof(*req));
    return http_parse_request((const uint8_t *)text, strlen(text), req);
}

static bool slice_eq(struct http_slice s, const char *want)
{
    return s.size == strlen(want) && memcmp(s.data, want, s.size) == 0;
}

static void test_parse_good(void **state)
{
    (void)state;
    struct http_request req;
    const char *text =
        "GET /v1/kv/a%2Fb?recurse&cas=5 HTTP/1.1\r\nHost: x\r\n"
        "Content-Length: 3\r\nX-Empty:\r\nConnection: Keep-Alive, Upgrade\r\n\r\nabc";
    assert_int_equal(parse(text, &req), 0);
    assert_int_equal(req.method, HTTP_GET);
    assert_true(slice_eq(req.path, "/v1/kv/a%2Fb"));
    assert_true(slice_eq(req.query, "recurse&cas=5"));
    assert_int_equal(req.version_minor, 1);
    assert_int_equal(req.header_count, 4);
    assert_true(req.has_content_length);
    assert_int_equal(req.content_length, 3);
    assert_true(req.keep_alive);
    assert_int_equal(req.head_size, strlen(text) - 3);
    const struct http_header *h = http_header_find(&req, "x-empty");
    assert_non_null(h);
    assert_int_equal(h->value.size, 0);
    assert_true(slice_eq(http_header_find(&req, "HOST")->value, "x"));
    struct http_slice v;
    assert_true(http_query_find(req.query, "recurse", &v));
    assert_int_equal(v.size, 0);
    assert_true(http_query_find(req.query, "cas", &v));
    assert_true(slice_eq(v, "5"));
    assert_false(http_query_find(req.query, "ca", &v));
    /* bare LF, leading blank lines, HTTP/1.0 defaults to close, absolute-form */
    assert_int_equal(parse("\r\n\nHEAD http://h:1/x?y HTTP/1.0\nA:  b \n\n", &req), 0);
    assert_int_equal(req.method, HTTP_HEAD);
    assert_true(slice_eq(req.path, "/x"));
    assert_true(slice_eq(req.query, "y"));
    assert_false(req.keep_alive);
    assert_true(slice_eq(http_header_find(&req, "a")->value, "b"));
    assert_int_equal(parse("GET http://h HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &req), 0);
    assert_true(slice_eq(req.path, "/"));
    assert_true(req.keep_alive);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", &req), 0);
    assert_false(req.keep_alive);
    assert_int_equal(parse("PATCH / HTTP/1.1\r\nHost: h\r\n\r\n", &req), 0);
    assert_int_equal(req.method, HTTP_OTHER);
    assert_int_equal(parse("OPTIONS * HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\n\r\n", &req),
                     0);
    assert_true(req.expect_continue);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: h\r\n", &req), HTTP_INCOMPLETE);
}

static void test_parse_bad(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int rc;
        uint16_t status;
    } cases[] = {
        {"GARBAGE\r\n\r\n", SYN_EPROTO, 400},
        {"GET  / HTTP/1.1\r\nHost: h\r\n\r\n", SYN_EPROTO, 400},
        {"GET / HTTP/1.1 \r\nHost: h\r\n\r\n", SYN_EPROTO, 400},
        {"G(T / HTTP/1.1\r\nHost: h\r\n\r\n", SYN_EPROTO, 400},
        {"GET x HTTP/1.1\r\nHost: h\r\n\r\n", SYN_EPROTO, 400},
        {"GET * HTTP/1.1\r\nHost: h\r\n\r\n", SYN_EPROTO, 400},
        {"GET / HTTP/2.0\r\nHost: h\r\n\r\n", SYN_EPROTO, 505},
        {"GET / HTTP/1.2\r\nHost: h\r\n\r\n", SYN_EPROTO, 505},
        {"GET / HTTQ/1.1\r\nHost: h\r\n\r\n", SYN_EPROTO, 400},
        {"GET / HTTP/1.1\r\n\r\n", SYN_EPROTO, 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", SYN_EPROTO, 400},
        {"GET / HTTP/1.1\r\nHost : h\r\n\r\n", SYN_EPROTO, 400},
        {"GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n", SYN_EPROTO, 400},
        {"GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", SYN_EPROTO, 400},
        {"GET / HTTP/1.1\r\nHost: h\rx\r\n\r\n", SYN_EPROTO, 400},
        {"GET / HTTP/1.1\r\nHost: h\r\nA: b\x01\r\n\r\n", SYN_EPROTO, 400},
        {"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1x\r\n\r\n", SYN_EPROTO, 400},
        {"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", SYN_EPROTO, 400},
        {"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", SYN_EPROTO,
         400},
        {"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 524289\r\n\r\n", SYN_ETOOBIG, 413},
        {"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n",
         SYN_ETOOBIG, 413},
        {"PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", SYN_EPROTO, 501},
        {"PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n",
         SYN_EPROTO, 400},
        {"PUT / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", SYN_EPROTO, 400},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct http_request req;
        int rc = parse(cases[i].text, &req);
        if (rc != cases[i].rc || req.status != cases[i].status) {
            fail_msg("case %zu: rc %d status %u (%s)", i, rc, req.status,
                     req.errmsg != NULL ? req.errmsg : "");
        }
        assert_non_null(req.errmsg);
    }
    /* Content-Length at the limit is fine; repeating the same value too */
    struct http_request req;
    assert_int_equal(parse("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 524288\r\n"
                           "content-length: 524288\r\n\r\n",
                           &req),
                     0);
}

static int append_str(struct syn_buf *b, const char *s)
{
    return syn_buf_append(b, s, strlen(s));
}

static void test_parse_limits(void **state)
{
    (void)state;
    size_t size = SYN_HTTP_HEAD_SIZE_MAX + 16;
    char *text = malloc(size + 1);
    assert_non_null(text);
    struct http_request req;
    /* a request line that never ends: 414 */
    memset(text, 'a', size);
    memcpy(text, "GET /", 5);
    text[size] = '\0';
    assert_int_equal(parse(text, &req), SYN_ETOOBIG);
    assert_int_equal(req.status, 414);
    /* fields that never end: 431 */
    int n = snprintf(text, size, "GET / HTTP/1.1\r\nHost: h\r\nX: ");
    memset(text + n, 'b', size - (size_t)n);
    assert_int_equal(parse(text, &req), SYN_ETOOBIG);
    assert_int_equal(req.status, 431);
    /* too many fields: 431 */
    struct syn_buf b;
    syn_buf_init(&b, 0);
    assert_int_equal(append_str(&b, "GET / HTTP/1.1\r\nHost: h\r\n"), 0);
    for (uint32_t i = 0; i < SYN_HTTP_HEADERS_MAX; i++) {
        assert_int_equal(append_str(&b, "X: y\r\n"), 0);
    }
    assert_int_equal(append_str(&b, "\r\n"), 0);
    memset(&req, 0, sizeof(req));
    assert_int_equal(http_parse_request(b.data, b.len, &req), SYN_ETOOBIG);
    assert_int_equal(req.status, 431);
    syn_buf_free(&b);
    free(text);
}

/* Fed one byte more at a time, the parser answers INCOMPLETE until the last byte, then the
 * same as all at once (the resume point must not skip a blank line split across reads). */
static void test_parse_resume(void **state)
{
    (void)state;
    const char *texts[] = {
        "GET /v1/health HTTP/1.1\r\nHost: h\r\nA: b\r\n\r\n",
        "GET / HTTP/1.1\nHost: h\n\n",
        "\r\n\r\nGET / HTTP/1.0\r\n\r\n",
    };
    for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
        struct http_request req;
        memset(&req, 0, sizeof(req));
        size_t n = strlen(texts[t]);
        for (size_t i = 1; i < n; i++) {
            assert_int_equal(http_parse_request((const uint8_t *)texts[t], i, &req),
                             HTTP_INCOMPLETE);
        }
        assert_int_equal(http_parse_request((const uint8_t *)texts[t], n, &req), 0);
        assert_int_equal(req.head_size, n);
    }
}

static void test_percent_json(void **state)
{
    (void)state;
    struct syn_buf b;
    syn_buf_init(&b, 0);
    const char *in = "a%2Fb%20c+d%7e";
    assert_int_equal(http_percent_decode((struct http_slice){(const uint8_t *)in, strlen(in)}, &b),
                     0);
    assert_int_equal(b.len, 8);
    assert_memory_equal(b.data, "a/b c+d~", 8);
    const char *bad[] = {"%", "%2", "%zz", "a%g0"};
    for (size_t i = 0; i < 4; i++) {
        syn_buf_reset(&b);
        assert_int_equal(
            http_percent_decode((struct http_slice){(const uint8_t *)bad[i], strlen(bad[i])}, &b),
            SYN_EPROTO);
        assert_int_equal(b.len, 0);
    }
    syn_buf_reset(&b);
    assert_int_equal(json_append_string(&b, "q\"\\\n\t\x01\x7f\xc3\xa9", 9), 0);
    const char *want = "\"q\\\"\\\\\\n\\t\\u0001\\u007f\xc3\xa9\"";
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    syn_buf_reset(&b);
    assert_int_equal(json_append_u64(&b, 18446744073709551615ull), 0);
    assert_memory_equal(b.data, "18446744073709551615", 20);
    syn_buf_reset(&b);
    assert_int_equal(json_append_u64(&b, 0), 0);
    assert_int_equal(b.len, 1);
    syn_buf_free(&b);
    assert_string_equal(http_status_reason(431), "Request Header Fields Too Large");
    assert_string_equal(http_status_reason(299), "Unknown");
}

/* The chunked scanner against random encodings: random chunk sizes, extensions, trailers and
 * line ends, the bytes arriving in random pieces (the scan resumes), then joined: the body
 * comes back whole. Then random mutations: a clean result or a refusal, never a read past
 * the bytes (ASan). */
static void test_chunked_random(void **state)
{
    (void)state;
    struct prng p;
    prng_init(&p, 7);
    uint8_t *wire = malloc(1u << 20);
    uint8_t *body = malloc(1u << 18);
    assert_non_null(wire);
    assert_non_null(body);
    for (int round = 0; round < 3000; round++) {
        size_t body_size = prng_range(&p, 0, round % 100 == 0 ? (1u << 18) - 1 : 3000);
        for (size_t i = 0; i < body_size; i++) {
            body[i] = (uint8_t)prng_next(&p);
        }
        size_t w = 0;
        bool lf = prng_range(&p, 0, 3) == 0;
        const char *eol = lf ? "\n" : "\r\n";
        for (size_t at = 0; at < body_size;) {
            size_t n = prng_range(&p, 1, body_size - at < 5000 ? body_size - at : 5000);
            w += (size_t)sprintf((char *)wire + w, prng_range(&p, 0, 1) ? "%zx%s%s" : "%zX%s%s",
                                 n, prng_range(&p, 0, 4) == 0 ? ";ext=\"v\"" : "", eol);
            memcpy(wire + w, body + at, n);
            w += n;
            w += (size_t)sprintf((char *)wire + w, "%s", eol);
            at += n;
        }
        w += (size_t)sprintf((char *)wire + w, "0%s%s%s", eol,
                             prng_range(&p, 0, 2) == 0 ? "X-Sum: 1\r\n" : "", eol);
        size_t tail = prng_range(&p, 0, 20); /* a pipelined request's bytes after it */
        memset(wire + w, 'G', tail);
        struct http_chunked st = {0};
        size_t got = 0;
        uint16_t status = 0;
        const char *why = NULL;
        int rc = HTTP_INCOMPLETE;
        for (size_t have = 0; rc == HTTP_INCOMPLETE;) {
            assert_true(have < w + tail);
            have += prng_range(&p, 1, 4000);
            if (have > w + tail) {
                have = w + tail;
            }
            rc = http_chunked_scan(wire, have, &st, &got, &status, &why);
        }
        if (rc != 0) {
            fail_msg("round %d: %d %u %s", round, rc, status, why);
        }
        assert_int_equal(got, w);
        assert_int_equal(st.decoded, body_size);
        assert_int_equal(http_chunked_join(wire, got), body_size);
        assert_memory_equal(wire, body, body_size);
    }
    for (int round = 0; round < 20000; round++) {
        size_t w = (size_t)sprintf((char *)wire, "4\r\nabcd\r\n3;x\r\nefg\r\n0\r\nT: 1\r\n\r\n");
        int changes = (int)prng_range(&p, 1, 3);
        for (int k = 0; k < changes; k++) {
            wire[prng_range(&p, 0, w - 1)] = (uint8_t)prng_next(&p);
        }
        size_t size = prng_range(&p, 0, w);
        uint8_t *copy = malloc(size + 1); /* exactly size bytes readable (+1 for malloc(0)) */
        memcpy(copy, wire, size);
        struct http_chunked st = {0};
        size_t got = 0;
        uint16_t status = 0;
        const char *why = NULL;
        int rc = http_chunked_scan(copy, size, &st, &got, &status, &why);
        assert_true(rc == 0 || rc == HTTP_INCOMPLETE || rc == SYN_EPROTO || rc == SYN_ETOOBIG);
        if (rc == 0) {
            assert_true(got <= size && st.decoded <= got);
            assert_int_equal(http_chunked_join(copy, got), st.decoded);
        } else if (rc < 0) {
            assert_true(status == 400 || status == 413);
        }
        free(copy);
    }
    free(wire);
    free(body);
}

/* ---- The server ---------------------------------------------------------------------- */

struct fx {
    struct api_fixture a; /* first (api_fixture_teardown); a.server == srv */
    struct http_server *srv;
};

/* The first occurrence of needle in d[0 .. n), or NULL. */
static const char *find(const uint8_t *d, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++) {
        if (memcmp(d + i, needle, k) == 0) {
            return (const char *)d + i;
        }
    }
    return NULL;
}

/* One response (status line, headers, Content-Length body); 0 while incomplete. */
static size_t response_frame(const uint8_t *d, size_t n)
{
    const char *end = find(d, n, "\r\n\r\n");
    if (end == NULL) {
        return 0;
    }
    size_t head = (size_t)(end - (const char *)d) + 4;
    size_t body = 0;
    const char *cl = find(d, head, "Content-Length: ");
    if (cl != NULL) {
        body = (size_t)strtoul(cl + 16, NULL, 10);
    }
    return head + body <= n ? head + body : 0;
}

/* A response to HEAD: no body whatever Content-Length says. */
static size_t head_frame(const uint8_t *d, size_t n)
{
    const char *end = find(d, n, "\r\n\r\n");
    return end != NULL ? (size_t)(end - (const char *)d) + 4 : 0;
}

static void server_close_fn(void *server, void (*done)(void *ctx), void *ctx)
{
    http_server_close(server, done, ctx);
}

static void start_server(struct fx *f, const struct http_server_options *opts)
{
    char errmsg[HTTP_SERVER_ERRMSG_SIZE];
    if (http_server_start(&f->a.loop, "127.0.0.1:0", &f->a.svc.service, opts, &f->srv, errmsg) !=
        0) {
        fail_msg("http_server_start: %s", errmsg);
    }
    f->a.port = http_server_port(f->srv);
    f->a.server = f->srv;
    f->a.server_close = server_close_fn;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(api_fixture_init(&f->a), 0);
    struct http_server_options opts = {.version = "test"};
    start_server(f, &opts);
    *state = f;
    return 0;
}

static void server_close(struct fx *f)
{
    assert_true(api_fixture_close_server(&f->a));
    f->srv = NULL;
}

static void client(struct fx *f, struct sock_client *c)
{
    assert_int_equal(api_fixture_connect(&f->a, c), 0);
}

/* The next response, which must be exactly want. */
static void expect_frame(struct sock_client *c, sock_framer frame, const char *want)
{
    char *why = sock_expect(c, frame, want, WAIT_MS);
    if (why != NULL) {
        fail_msg("%s", why);
    }
}

static void expect(struct sock_client *c, const char *want)
{
    expect_frame(c, response_frame, want);
}

#define JSON_HEAD(status, length)                                                                  \
    "HTTP/1.1 " status "\r\nContent-Type: application/json\r\nContent-Length: " length "\r\n"

static const char *get(const char *path)
{
    static char text[256];
    snprintf(text, sizeof(text), "GET %s HTTP/1.1\r\nHost: test\r\n\r\n", path);
    return text;
}

static void test_health(void **state)
{
    struct fx *f = *state;
    struct sock_client c;
    client(f, &c);
    assert_true(sock_send_str(&c, get("/v1/health")));
    expect(&c, JSON_HEAD("200 OK", "134") "\r\n"
                                          "{\"status\":\"ok\",\"node\":\"n1\",\"role\":\"leader\","
                                          "\"leader\":\"n1\",\"term\":1,"
                                          "\"commit_index\":0,\"applied_index\":0,\"serving\":true,"
                                          "\"version\":\"test\"}\n");
    f->a.svc.info.leader_name[0] = '\0';
    f->a.svc.info.role = "follower";
    assert_true(sock_send_str(&c, get("/v1/health")));
    expect(
        &c,
        JSON_HEAD(
            "503 Service Unavailable",
            "173") "\r\n"
                   "{\"status\":\"unavailable\",\"reason\":\"no leader is known\",\"node\":\"n1\","
                   "\"role\":\"follower\",\"leader\":\"\",\"term\":1,\"commit_index\":0,"
                   "\"applied_index\":0,\"serving\":true,\"version\":\"test\"}\n");
    f->a.svc.info.serving = false;
    assert_true(sock_send_str(&c, get("/v1/health")));
    assert_true(sock_wait_messages(&c, response_frame, 1, WAIT_MS));
    char *r = NULL;
    sock_take(&c, response_frame, &r);
    assert_non_null(strstr(r, "503 Service Unavailable"));
    assert_non_null(strstr(r, "\"reason\":\"this node cannot write to its disk\""));
    free(r);
    sock_close(&c);
}

static void test_status(void **state)
{
    struct fx *f = *state;
    struct sock_client c;
    client(f, &c);
    assert_true(sock_send_str(&c, get("/v1/status/leader")));
    expect(&c, JSON_HEAD("200 OK", "17") "\r\n\"127.0.0.1:7001\"\n");
    struct service_info *info = &f->a.svc.info;
    info->member_count = 3;
    snprintf(info->members[1].peer_addr, sizeof(info->members[1].peer_addr), "10.0.0.2:7001");
    info->members[1].voter = true;
    snprintf(info->members[2].peer_addr, sizeof(info->members[2].peer_addr), "10.0.0.3:7001");
    info->members[2].voter = false; /* a learner is not a peer */
    assert_true(sock_send_str(&c, get("/v1/status/peers")));
    expect(&c, JSON_HEAD("200 OK", "35") "\r\n[\"127.0.0.1:7001\",\"10.0.0.2:7001\"]\n");
    info->leader_name[0] = '\0';
    assert_true(sock_send_str(&c, get("/v1/status/leader")));
    expect(&c, JSON_HEAD("200 OK", "3") "\r\n\"\"\n");
    info->member_count = 0;
    assert_true(sock_send_str(&c, get("/v1/status/peers")));
    expect(&c, JSON_HEAD("200 OK", "3") "\r\n[]\n");
    sock_close(&c);
}

static void test_not_found_methods_head(void **state)
{
    struct fx *f = *state;
    struct sock_client c;
    client(f, &c);
    assert_true(sock_send_str(&c, get("/v1/nope")));
    expect(&c, JSON_HEAD("404 Not Found", "29") "\r\n{\"error\":\"no such endpoint\"}\n");
    assert_true(sock_send_str(&c, get("/v1/health/extra")));
    expect(&c, JSON_HEAD("404 Not Found", "29") "\r\n{\"error\":\"no such endpoint\"}\n");
    assert_true(sock_send_str(&c, "DELETE /v1/health HTTP/1.1\r\nHost: t\r\n\r\n"));
    expect(&c, JSON_HEAD("405 Method Not Allowed", "31") "Allow: GET, HEAD\r\n\r\n"
                                                         "{\"error\":\"method not allowed\"}\n");
    assert_true(sock_send_str(&c, "BREW /v1/status/peers HTTP/1.1\r\nHost: t\r\n\r\n"));
    expect(&c, JSON_HEAD("405 Method Not Allowed", "31") "Allow: GET, HEAD\r\n\r\n"
                                                         "{\"error\":\"method not allowed\"}\n");
    assert_true(sock_send_str(&c, "HEAD /v1/status/leader HTTP/1.1\r\nHost: t\r\n\r\n"));
    expect_frame(&c, head_frame, JSON_HEAD("200 OK", "17") "\r\n");
    /* the connection is still in step: no body followed the HEAD response */
    assert_true(sock_send_str(&c, get("/v1/status/leader")));
    expect(&c, JSON_HEAD("200 OK", "17") "\r\n\"127.0.0.1:7001\"\n");
    struct http_server_stats st;
    http_server_stats(f->srv, &st);
    assert_int_equal(st.requests, 6);
    assert_int_equal(st.errors, 4);
    sock_close(&c);
}

/* Pipelined requests in one write, a GET with a body, HTTP/1.0 and Connection: close. */
static void test_keepalive_pipelining(void **state)
{
    struct fx *f = *state;
    struct sock_client c;
    client(f, &c);
    assert_true(sock_send_str(&c,
                              "GET /v1/status/leader HTTP/1.1\r\nHost: t\r\n\r\n"
                              "GET /v1/nope HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"
                              "GET /v1/status/peers HTTP/1.1\r\nHost: t\r\n\r\n"));
    expect(&c, JSON_HEAD("200 OK", "17") "\r\n\"127.0.0.1:7001\"\n");
    expect(&c, JSON_HEAD("404 Not Found", "29") "\r\n{\"error\":\"no such endpoint\"}\n");
    expect(&c, JSON_HEAD("200 OK", "19") "\r\n[\"127.0.0.1:7001\"]\n");
    /* sent a byte at a time */
    const char *slow = get("/v1/status/leader");
    for (size_t i = 0; slow[i] != '\0'; i++) {
        assert_true(sock_send(&c, slow + i, 1, WAIT_MS));
        sock_pump(&f->a.loop, 1);
    }
    expect(&c, JSON_HEAD("200 OK", "17") "\r\n\"127.0.0.1:7001\"\n");
    assert_true(sock_send_str(&c, "GET /v1/status/leader HTTP/1.1\r\nHost: t\r\n"
                                  "Connection: close\r\n\r\n"));
    expect(&c, JSON_HEAD("200 OK", "17") "Connection: close\r\n\r\n\"127.0.0.1:7001\"\n");
    assert_true(sock_wait_eof(&c, WAIT_MS));
    sock_close(&c);
    /* HTTP/1.0: closes unless asked to keep alive */
    client(f, &c);
    assert_true(
        sock_send_str(&c, "GET /v1/status/leader HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    expect(&c, JSON_HEAD("200 OK", "17") "Connection: keep-alive\r\n\r\n\"127.0.0.1:7001\"\n");
    assert_true(sock_send_str(&c, "GET /v1/status/leader HTTP/1.0\r\n\r\n"));
    expect(&c, JSON_HEAD("200 OK", "17") "Connection: close\r\n\r\n\"127.0.0.1:7001\"\n");
    assert_true(sock_wait_eof(&c, WAIT_MS));
    sock_close(&c);
}

/* A request waiting on the service (the connection paused): a pipelined request behind it
 * is read meanwhile and answered after it, in order; a client that half-closes after its
 * requests still gets every answer, then the connection closes. */
static void test_paused_pipeline_half_close(void **state)
{
    struct fx *f = *state;
    struct sock_client c;
    client(f, &c);
    f->a.svc.hold = true;
    assert_true(sock_send_str(&c, "PUT /v1/kv/a HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\nx"
                                  "GET /v1/status/leader HTTP/1.1\r\nHost: t\r\n\r\n"));
    sock_pump(&f->a.loop, 50);
    assert_int_equal(f->a.svc.pending, 1);
    assert_int_equal(shutdown(c.fd, SHUT_WR), 0);
    sock_pump(&f->a.loop, 50); /* the server sees the end of input while the PUT waits */
    fake_service_release(&f->a.svc);
    expect(&c, JSON_HEAD("200 OK", "4") "\r\ntrue");
    expect(&c, JSON_HEAD("200 OK", "17") "\r\n\"127.0.0.1:7001\"\n");
    assert_true(sock_wait_eof(&c, WAIT_MS));
    sock_close(&c);
}

/* Chunked request bodies (RFC 9112 7.1): sizes in hex, extensions and trailers ignored, bare
 * LF accepted, a pipelined request after the body, and one byte at a time; malformed or
 * ambiguous framing is refused and the connection closed. */
static void test_chunked_bodies(void **state)
{
    struct fx *f = *state;
    struct sock_client c;
    client(f, &c);
    assert_true(sock_send_str(&c, "PUT /v1/kv/a HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  "5;ext=1\r\nhello\r\nA\r\n, chunked!\r\n0\r\nX-Trailer: y\r\n\r\n"
                                  "GET /v1/kv/a?raw HTTP/1.1\r\nHost: t\r\n\r\n"));
    expect(&c, JSON_HEAD("200 OK", "4") "\r\ntrue");
    assert_true(sock_wait_messages(&c, response_frame, 1, WAIT_MS));
    char *r = NULL;
    sock_take(&c, response_frame, &r);
    assert_non_null(strstr(r, "\r\n\r\nhello, chunked!"));
    free(r);
    /* bare LF line ends, one byte at a time */
    const char *slow = "PUT /v1/kv/b HTTP/1.1\nHost: t\nTransfer-Encoding: chunked\n\n"
                       "3\nabc\n0\n\n";
    for (size_t i = 0; slow[i] != '\0'; i++) {
        assert_true(sock_send(&c, slow + i, 1, WAIT_MS));
        sock_pump(&f->a.loop, 1);
    }
    expect(&c, JSON_HEAD("200 OK", "4") "\r\ntrue");
    sock_close(&c);
    static const char *const bad[] = {
        "5\r\nhello\r\nzz\r\n",                /* not hex */
        "3\r\nhello\r\n0\r\n\r\n",          /* data longer than its size */
        "123456789\r\n",                        /* nine hex digits */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        client(f, &c);
        char req[256];
        snprintf(req, sizeof(req),
                 "PUT /v1/kv/c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n%s",
                 bad[i]);
        assert_true(sock_send_str(&c, req));
        assert_true(sock_wait_messages(&c, response_frame, 1, WAIT_MS));
        sock_take(&c, response_frame, &r);
        if (strstr(r, "400 Bad Request") == NULL && strstr(r, "413 ") == NULL) {
            fail_msg("bad chunked body %zu: %s", i, r);
        }
        free(r);
        assert_true(sock_wait_eof(&c, WAIT_MS));
        sock_close(&c);
    }
    client(f, &c); /* both framings: refused (request smuggling) */
    assert_true(sock_send_str(&c, "PUT /v1/kv/c HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n"
                                  "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"));
    assert_true(sock_wait_messages(&c, response_frame, 1, WAIT_MS));
    sock_take(&c, response_frame, &r);
    assert_non_null(strstr(r, "400 Bad Request"));
    free(r);
    sock_close(&c);
    client(f, &c);
    assert_true(sock_send_str(&c, "PUT /v1/kv/c HTTP/1.1\r\nHost: t\r\n"
                                  "Transfer-Encoding: gzip, chunked\r\n\r\n"));
    assert_true(sock_wait_messages(&c, response_frame, 1, WAIT_MS));
    sock_take(&c, response_frame, &r);
    assert_non_null(strstr(r, "501 Not Implemented"));
    free(r);
    sock_close(&c);
}

/* A malformed or oversized request is answered with its status and the connection closes;
 * other connections go on. */
static void test_malformed(void **state)
{
    struct fx *f = *state;
    struct sock_client good;
    client(f, &good);
    static const struct {
        const char *request;
        const char *status;
    } cases[] = {
        {"GARBAGE\r\n\r\n", "400 Bad Request"},
        {"GET / HTTP/2.0\r\nHost: t\r\n\r\n", "505 HTTP Version Not Supported"},
        {"GET /v1/health HTTP/1.1\r\n\r\n", "400 Bad Request"},
        {"GET /v1/health HTTP/1.1\r\nHost : t\r\n\r\n", "400 Bad Request"},
        {"PUT /v1/kv/a HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n",
         "501 Not Implemented"},
        {"PUT /v1/kv/a HTTP/1.1\r\nHost: t\r\nContent-Length: 9999999\r\n\r\n",
         "413 Content Too Large"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sock_client c;
        client(f, &c);
        assert_true(sock_send_str(&c, cases[i].request));
        assert_true(sock_wait_messages(&c, response_frame, 1, WAIT_MS));
        char *r = NULL;
        sock_take(&c, response_frame, &r);
        if (strncmp(r + 9, cases[i].status, strlen(cases[i].status)) != 0 ||
            strstr(r, "Connection: close\r\n") == NULL || strstr(r, "{\"error\":\"") == NULL) {
            fail_msg("case %zu: got [%s]", i, r);
        }
        free(r);
        assert_true(sock_wait_eof(&c, WAIT_MS));
        sock_close(&c);
    }
    /* a head over the limit */
    struct sock_client c;
    client(f, &c);
    size_t size = SYN_HTTP_HEAD_SIZE_MAX + 100;
    char *big = malloc(size);
    assert_non_null(big);
    int n = snprintf(big, size, "GET /v1/health HTTP/1.1\r\nHost: t\r\nX: ");
    memset(big + n, 'x', size - (size_t)n);
    assert_true(sock_send(&c, big, size, WAIT_MS));
    assert_true(sock_wait_messages(&c, response_frame, 1, WAIT_MS));
    char *r = NULL;
    sock_take(&c, response_frame, &r);
    assert_non_null(strstr(r, "431 Request Header Fields Too Large"));
    free(r);
    assert_true(sock_wait_eof(&c, WAIT_MS));
    sock_close(&c);
    free(big);
    assert_true(sock_send_str(&good, get("/v1/status/leader")));
    expect(&good, JSON_HEAD("200 OK", "17") "\r\n\"127.0.0.1:7001\"\n");
    sock_close(&good);
}

static void test_expect_continue(void **state)
{
    struct fx *f = *state;
    struct sock_client c;
    client(f, &c);
    assert_true(sock_send_str(&c, "POST /v1/nope HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n"
                                  "Expect: 100-continue\r\n\r\n"));
    expect(&c, "HTTP/1.1 100 Continue\r\n\r\n");
    assert_true(sock_send_str(&c, "body"));
    expect(&c, JSON_HEAD("404 Not Found", "29") "\r\n{\"error\":\"no such endpoint\"}\n");
    sock_close(&c);
}

static void test_idle_timeout_and_limit(void **state)
{
    struct fx *f = *state;
    server_close(f);
    struct http_server_options opts = {.connections_max = 2, .idle_timeout_ms = 100};
    start_server(f, &opts);
    struct sock_client c[3];
    for (int i = 0; i < 3; i++) {
        client(f, &c[i]);
        sock_pump(&f->a.loop, 5);
    }
    expect(&c[2], "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                  "Content-Length: 33\r\nConnection: close\r\n\r\n"
                  "{\"error\":\"too many connections\"}\n");
    assert_true(sock_wait_eof(&c[2], WAIT_MS));
    sock_close(&c[2]);
    /* c[0] sends half a request and goes quiet, c[1] nothing: both time out */
    assert_true(sock_send_str(&c[0], "GET /v1/health HTTP/1.1\r\n"));
    assert_true(sock_wait_eof(&c[0], WAIT_MS));
    assert_true(sock_wait_eof(&c[1], WAIT_MS));
    struct http_server_stats st;
    http_server_stats(f->srv, &st);
    assert_int_equal(st.connections_timed_out, 2);
    assert_int_equal(st.connections_refused, 1);
    assert_int_equal(st.connections_open, 0);
    sock_close(&c[0]);
    sock_close(&c[1]);
}

static void test_close_with_clients(void **state)
{
    struct fx *f = *state;
    struct sock_client c[2];
    for (int i = 0; i < 2; i++) {
        client(f, &c[i]);
    }
    assert_true(sock_send_str(&c[0], "GET /v1/health HTTP/1.1\r\n")); /* half a request */
    sock_pump(&f->a.loop, 10);
    server_close(f);
    for (int i = 0; i < 2; i++) {
        assert_true(sock_wait_eof(&c[i], WAIT_MS));
        sock_close(&c[i]);
    }
}

static void test_bad_address(void **state)
{
    struct fx *f = *state;
    struct http_server *s = NULL;
    char errmsg[HTTP_SERVER_ERRMSG_SIZE];
    assert_int_equal(http_server_start(&f->a.loop, "[::1", &f->a.svc.service, NULL, &s, errmsg),
                     SYN_EINVAL);
    struct http_server_options opts = {.connections_max = SYN_HTTP_CONNECTIONS_MAX + 1};
    assert_int_equal(
        http_server_start(&f->a.loop, "127.0.0.1:0", &f->a.svc.service, &opts, &s, errmsg),
        SYN_EINVAL);
    /* IPv6 and host names work */
    assert_int_equal(
        http_server_start(&f->a.loop, "localhost:0", &f->a.svc.service, NULL, &s, errmsg), 0);
    http_server_close(s, NULL, NULL);
    uv_run(&f->a.loop, UV_RUN_NOWAIT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_parse_limits),
        cmocka_unit_test(test_parse_resume),
        cmocka_unit_test(test_percent_json),
        cmocka_unit_test(test_chunked_random),
        cmocka_unit_test_setup_teardown(test_health, setup, api_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_status, setup, api_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_not_found_methods_head, setup, api_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_keepalive_pipelining, setup, api_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_paused_pipeline_half_close, setup,
                                        api_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_chunked_bodies, setup, api_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, api_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_expect_continue, setup, api_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_idle_timeout_and_limit, setup, api_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_close_with_clients, setup, api_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_bad_address, setup, api_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
