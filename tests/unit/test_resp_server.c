/* test_resp_server.c: the RESP server over real TCP on 127.0.0.1, on the single-store service
 * double (tests/harness/fake_service.h, which completes requests asynchronously): every
 * command and its errors, 1000 pipelined commands in one write answered in order, reads that
 * see the writes before them, backpressure on in-flight commands and on unread replies, a
 * client that disconnects with requests pending, protocol errors that close one connection
 * while another keeps working, oversized values and requests, the service's failure
 * statuses, the connection limit, and closing the server with everything in flight. Every
 * wait is bounded and every test ends with uv_loop_close() == 0 (STYLE 16). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/resp.h"
#include "api/resp_server.h"
#include "base/err.h"
#include "harness/api_fixture.h"
#include "harness/sock_client.h"

#define WAIT_MS 10000u

struct fx {
    struct api_fixture a; /* first (api_fixture_teardown); a.server == srv */
    struct resp_server *srv;
};

/* ---- RESP replies, as the client sees them ------------------------------------------- */

/* The end of the reply starting at at, or 0 while it is incomplete. */
static size_t reply_end(const uint8_t *d, size_t n, size_t at, int depth)
{
    if (at >= n || depth > 8) {
        return 0;
    }
    const uint8_t *lf = memchr(d + at, '\n', n - at);
    if (lf == NULL) {
        return 0;
    }
    size_t line_end = (size_t)(lf - d) + 1;
    long long v = strtoll((const char *)d + at + 1, NULL, 10);
    switch (d[at]) {
    case '$':
        if (v < 0) {
            return line_end;
        }
        return line_end + (size_t)v + 2 <= n ? line_end + (size_t)v + 2 : 0;
    case '*': {
        size_t p = line_end;
        for (long long i = 0; i < v && p != 0; i++) {
            p = reply_end(d, n, p, depth + 1);
        }
        return p;
    }
    default:
        return line_end;
    }
}

static size_t reply_frame(const uint8_t *data, size_t size)
{
    return reply_end(data, size, 0, 0);
}

/* ---- Fixture ------------------------------------------------------------------------- */

static void server_close_fn(void *server, void (*done)(void *ctx), void *ctx)
{
    resp_server_close(server, done, ctx);
}

static void start_server(struct fx *f, const struct resp_server_options *opts)
{
    char errmsg[RESP_SERVER_ERRMSG_SIZE];
    int rc = resp_server_start(&f->a.loop, "127.0.0.1:0", &f->a.svc.service, opts, &f->srv, errmsg);
    if (rc != 0) {
        fail_msg("resp_server_start: %s", errmsg);
    }
    f->a.port = resp_server_port(f->srv);
    f->a.server = f->srv;
    f->a.server_close = server_close_fn;
    assert_true(f->a.port != 0);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(api_fixture_init(&f->a), 0);
    struct resp_server_options opts = {.version = "test"};
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

/* Sends a command given as NULL-terminated strings, multibulk. */
static void send_cmd(struct sock_client *c, ...)
{
    struct resp_arg args[16];
    uint32_t n = 0;
    va_list ap;
    va_start(ap, c);
    for (const char *s = va_arg(ap, const char *); s != NULL; s = va_arg(ap, const char *)) {
        assert_true(n < 16);
        args[n++] = (struct resp_arg){.data = (const uint8_t *)s, .size = strlen(s)};
    }
    va_end(ap);
    struct syn_buf b;
    syn_buf_init(&b, 0);
    assert_int_equal(resp_append_command(&b, args, n), 0);
    assert_true(sock_send(c, b.data, b.len, WAIT_MS));
    syn_buf_free(&b);
}

/* The next reply, which must equal want. */
static void expect(struct sock_client *c, const char *want)
{
    char *why = sock_expect(c, reply_frame, want, WAIT_MS);
    if (why != NULL) {
        fail_msg("%s", why);
    }
}

/* The next reply, which must start with prefix. */
static void expect_prefix(struct sock_client *c, const char *prefix)
{
    assert_true(sock_wait_messages(c, reply_frame, 1, WAIT_MS));
    char *got = NULL;
    sock_take(c, reply_frame, &got);
    if (strncmp(got, prefix, strlen(prefix)) != 0) {
        fail_msg("got [%s], expected a reply starting [%s]", got, prefix);
    }
    free(got);
}

/* The next reply, which must contain part. */
static void expect_contains(struct sock_client *c, const char *part)
{
    assert_true(sock_wait_messages(c, reply_frame, 1, WAIT_MS));
    char *got = NULL;
    sock_take(c, reply_frame, &got);
    if (strstr(got, part) == NULL) {
        fail_msg("got [%s], expected it to contain [%s]", got, part);
    }
    free(got);
}

#define CMD(c, want, ...)                                                                          \
    do {                                                                                           \
        send_cmd((c), __VA_ARGS__, NULL);                                                          \
        expect((c), (want));                                                                       \
    } while (0)

/* ---- Commands ------------------------------------------------------------------------ */

static void test_ping_echo_select(void **state)
{
    struct fx *f = *state;
    struct sock_client c;
    client(f, &c);
    CMD(&c, "+PONG\r\n", "PING");
    CMD(&c, "$5\r\nhello\r\n", "ping", "hello");
    CMD(&c, "-ERR wrong number of arguments for 'ping' command\r\n", "PING", "a", "b");
    CMD(&c, "$3\r\nabc\r\n", "ECHO", "abc");
    CMD(&c, "+OK\r\n", "SELECT", "0");
    CMD(&c, "-ERR DB index is out of range\r\n", "SELECT", "1");
    CMD(&c, "-ERR value is not an integer or out of range\r\n", "SELECT", "x");
    /* inline (telnet-style) commands */
    assert_true(sock_send_str(&c, "PING\r\nECHO \"a b\"\r\n"));
    expect(&c, "+PONG\r\n");
    expect(&c, "$3\r\na b\r\n");
    sock_close(&c);
}

static void test_unknown_and_arity(void **state)
{
    struct fx *f = *state;
    struct sock_client c;
    client(f, &c);
    CMD(&c, "-ERR unknown command 'foo', with args beginning with: 'bar' 'baz' \r\n", "foo", "bar",
        "baz");
    CMD(&c, "-ERR unknown command 'LPUSH', with args beginning with: 'l' \r\n", "LPUSH", "l");
    CMD(&c, "-ERR wrong number of arguments for 'get' command\r\n", "GET");
    CMD(&c, "-ERR wrong number of arguments for 'get' command\r\n", "get", "a", "b");
    CMD(&c, "-ERR wrong number of arguments for 'mset' command\r\n", "MSET", "a", "1", "b");
    CMD(&c, "-ERR wrong number of arguments for 'incrby' command\r\n", "INCRBY", "a");
    sock_close(&c);
}

static void test_set_get(void **state)
{
    struct fx *f = *state;
    struct sock_client c;
    client(f, &c);
    CMD(&c, "$-1\r\n", "GET", "k");
    CMD(&c, "+OK\r\n", "SET", "k", "v1");
    CMD(&c, "$2\r\nv1\r\n", "GET", "k");
    CMD(&c, "$-1\r\n", "SET", "k", "v2", "NX");
    CMD(&c, "+OK\r\n", "SET", "k", "v2", "XX");
    CMD(&c, "$-1\r\n", "SET", "absent", "v", "XX");
    CMD(&c, "$2\r\nv2\r\n", "SET", "k", "v3", "GET");
    CMD(&c, "$-1\r\n", "SET", "new", "x", "NX", "GET");
    CMD(&c, "$1\r\nx\r\n", "GET", "new");
    /* IFEQ (Valkey 8.1): set only when the current value is the one given */
    CMD(&c, "$-1\r\n", "SET", "k", "v4", "IFEQ", "nope");
    CMD(&c, "$2\r\nv3\r\n", "GET", "k");
    CMD(&c, "+OK\r\n", "SET", "k", "v4", "IFEQ", "v3");
    CMD(&c, "$2\r\nv4\r\n", "SET", "k", "v5", "ifeq", "v4", "get");
    CMD(&c, "$-1\r\n", "SET", "missing", "v", "IFEQ", "v");
    CMD(&c, "$-1\r\n", "GET", "missing");
    /* binary-safe values, empty ones too */
    CMD(&c, "+OK\r\n", "SET", "e", "");
    CMD(&c, "$0\r\n\r\n", "GET", "e");
    sock_close(&c);
}

static void test_set_options_errors(void **state)
{
    struct fx *f = *state;
    struct sock_client c;
    client(f, &c);
    CMD(&c, "-ERR syntax error\r\n", "SET", "k", "v", "NX", "XX");
    CMD(&c, "-ERR syntax error\r\n", "SET", "k", "v", "IFEQ");
    CMD(&c, "-ERR syntax error\r\n", "SET", "k", "v", "EX", "1", "PX", "1");
    CMD(&c, "-ERR syntax error\r\n", "SET", "k", "v", "EX");
    CMD(&c, "-ERR syntax error\r\n", "SET", "k", "v", "bogus");
    CMD(&c, "-ERR value is not an integer or out of range\r\n", "SET", "k", "v", "EX", "x");
    CMD(&c, "-ERR invalid expire time in 'set' command\r\n", "SET", "k", "v", "EX", "0");
    CMD(&c, "-ERR invalid expire time in 'set' command\r\n", "SET", "k", "v", "PX", "-5");
    CMD(&c, "-ERR invalid expire time in 'set' command\r\n", "SET", "k", "v", "EX",
        "9223372036854775807");
    expect_prefix((send_cmd(&c, "SET", "k", "v", "KEEPTTL", NULL), &c),
                  "-ERR KEEPTTL is not supported");
    CMD(&c, "$-1\r\n", "GET", "k");
    sock_close(&c);
}

static void test_expiry(void **state)
{
    struct fx *f = *state;
    struct sock_client c;
    client(f, &c);
    CMD(&c, "+OK\r\n", "SET", "a", "1", "PX", "100");
    CMD(&c, "+OK\r\n", "SET", "b", "1", "EX", "10");
    char at[32];
    snprintf(at, sizeof(at), "%llu", (unsigned long long)(FAKE_SERVICE_T0 / 1000u + 20u));
    CMD(&c, "+OK\r\n", "SET", "c", "1", "EXAT", at);
    snprintf(at, sizeof(at), "%llu", (unsigned long long)(FAKE_SERVICE_T0 + 5000u));
    CMD(&c, "+OK\r\n", "SET", "d", "1", "PXAT", at);
    CMD(&c, ":4\r\n", "EXISTS", "a", "b", "c", "d");
    f->a.svc.now_ms += 101;
    CMD(&c, "$-1\r\n", "GET", "a");
    CMD(&c, ":3\r\n", "DBSIZE");
    f->a.svc.now_ms += 5000;
    CMD(&c, ":2\r\n", "EXISTS", "a", "b", "c", "d");
    f->a.svc.now_ms += 5000;
    CMD(&c, ":1\r\n", "EXISTS", "a", "b", "c", "d");
    f->a.svc.now_ms += 10000;
    CMD(&c, ":0\r\n", "DBSIZE");
    /* a SET without an expiry clears the TTL */
    CMD(&c, "+OK\r\n", "SET", "e", "1", "PX", "10");
    CMD(&c, "+OK\r\n", "SET", "e", "2");
    f->a.svc.now_ms += 20;
    CMD(&c, "$1\r\n2\r\n", "GET", "e");
    sock_close(&c);
}

static void test_counters_del_exists(void **state)
{
    struct fx *f = *state;
    struct sock_client c;
    client(f, &c);
    CMD(&c, ":1\r\n", "INCR", "n");
    CMD(&c, ":11\r\n", "INCRBY", "n", "10");
    CMD(&c, ":10\r\n", "DECR", "n");
    CMD(&c, ":-5\r\n", "DECRBY", "n", "15");
    CMD(&c, ":-5\r\n", "INCRBY", "n", "0");
    CMD(&c, "-ERR value is not an integer or out of range\r\n", "INCRBY", "n", "1.5");
    CMD(&c, "-ERR value is not an integer or out of range\r\n", "DECRBY", "n", "x");
    CMD(&c, "-ERR decrement would overflow\r\n", "DECRBY", "n", "-9223372036854775808");
    CMD(&c, "+OK\r\n", "SET", "s", "abc");
    CMD(&c, "-ERR value is not an integer or out of range\r\n", "INCR", "s");
    CMD(&c, "+OK\r\n", "SET", "big", "9223372036854775807");
    CMD(&c, "-ERR increment or decrement would overflow\r\n", "INCR", "big");
    CMD(&c, ":3\r\n", "EXISTS", "n", "s", "big", "none");
    CMD(&c, ":2\r\n", "EXISTS", "n", "n");
    CMD(&c, ":2\r\n", "DEL", "n", "s", "none");
    CMD(&c, ":0\r\n", "DEL", "n");
    CMD(&c, ":1\r\n", "EXISTS", "big");
    sock_close(&c);
}

static void test_mget_mset(void **state)
{
    struct fx *f = *state;
    struct sock_client c;
    client(f, &c);
    CMD(&c, "+OK\r\n", "MSET", "a", "1", "b", "22", "a", "333");
    CMD(&c, "*3\r\n$3\r\n333\r\n$2\r\n22\r\n$-1\r\n", "MGET", "a", "b", "c");
    CMD(&c, "*1\r\n$-1\r\n", "MGET", "zz");
    CMD(&c, ":2\r\n", "DBSIZE");
    sock_close(&c);
}

/* SCAN with every option, and a full iteration that returns every key exactly once. */
static void test_scan(void **state)
{
    struct fx *f = *state;
    struct sock_client c;
    client(f, &c);
    CMD(&c, "*2\r\n$1\r\n0\r\n*0\r\n", "SCAN", "0");
    char key[32];
    for (int i = 0; i < 50; i++) {
        snprintf(key, sizeof(key), "%s:%02d", i % 2 ? "odd" : "even", i);
        send_cmd(&c, "SET", key, "v", NULL);
    }
    assert_true(sock_wait_messages(&c, reply_frame, 50, WAIT_MS));
    syn_buf_reset(&c.in);
    bool seen[50] = {false};
    char cursor[32] = "0";
    int steps = 0;
    do {
        send_cmd(&c, "SCAN", cursor, "MATCH", "odd:*", "COUNT", "7", NULL);
        assert_true(sock_wait_messages(&c, reply_frame, 1, WAIT_MS));
        char *r = NULL;
        sock_take(&c, reply_frame, &r);
        /* *2 $n cursor *m ($5 odd:NN)... */
        char *p = strchr(r + 4, '\n') + 1;
        size_t cl = strcspn(p, "\r");
        memcpy(cursor, p, cl);
        cursor[cl] = '\0';
        for (char *k = strstr(p, "odd:"); k != NULL; k = strstr(k + 1, "odd:")) {
            int i = atoi(k + 4);
            assert_true(i % 2 == 1);
            assert_false(seen[i]);
            seen[i] = true;
        }
        free(r);
        steps++;
    } while (strcmp(cursor, "0") != 0 && steps < 100);
    for (int i = 1; i < 50; i += 2) {
        assert_true(seen[i]);
    }
    CMD(&c, "-ERR invalid cursor\r\n", "SCAN", "-1");
    CMD(&c, "-ERR syntax error\r\n", "SCAN", "0", "COUNT", "0");
    CMD(&c, "-ERR syntax error\r\n", "SCAN", "0", "MATCH");
    CMD(&c, "-ERR syntax error\r\n", "SCAN", "0", "BOGUS", "1");
    CMD(&c, "-ERR value is not an integer or out of range\r\n", "SCAN", "0", "COUNT", "x");
    send_cmd(&c, "SCAN", "0", "TYPE", "hash", "COUNT", "1000", NULL);
    expect_contains(&c, "*0\r\n");
    send_cmd(&c, "SCAN", "0", "TYPE", "string", "COUNT", "1000", NULL);
    expect_contains(&c, "*50\r\n");
    sock_close(&c);
}

static void test_info(void **state)
{
    struct fx *f = *state;
    struct sock_client c;
    client(f, &c);
    CMD(&c, "+OK\r\n", "SET", "a", "1");
    send_cmd(&c, "INFO", NULL);
    assert_true(sock_wait_messages(&c, reply_frame, 1, WAIT_MS));
    char *r = NULL;
    sock_take(&c, reply_frame, &r);
    const char *want[] = {"# Server\r\n",
                          "synod_version:test\r\n",
                          "redis_version:",
                          "tcp_port:",
                          "uptime_in_seconds:",
                          "# Clients\r\n",
                          "connected_clients:1\r\n",
                          "# Stats\r\n",
                          "# Raft\r\n",
                          "role:leader\r\n",
                          "term:1\r\n",
                          "leader:n1\r\n",
                          "leader_addr:127.0.0.1:7001\r\n",
                          "commit_index:1\r\n",
                          "applied_index:1\r\n",
                          "last_index:1\r\n",
                          "members:1\r\n",
                          "member0:name=n1,id=1,addr=127.0.0.1:7001,voter=1,leader=1,self=1",
                          "# Keyspace\r\n",
                          "db0:keys=1\r\n"};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        if (strstr(r, want[i]) == NULL) {
            fail_msg("INFO lacks [%s]:\n%s", want[i], r);
        }
    }
    free(r);
    send_cmd(&c, "INFO", "raft", NULL);
    assert_true(sock_wait_messages(&c, reply_frame, 1, WAIT_MS));
    sock_take(&c, reply_frame, &r);
    assert_non_null(strstr(r, "# Raft\r\n"));
    assert_null(strstr(r, "# Server"));
    free(r);
    CMD(&c, "$0\r\n\r\n", "INFO", "nosuchsection");
    sock_close(&c);
}

static void test_client_config_command(void **state)
{
    struct fx *f = *state;
    struct sock_client c;
    client(f, &c);
    CMD(&c, "$-1\r\n", "CLIENT", "GETNAME");
    CMD(&c, "+OK\r\n", "CLIENT", "SETNAME", "worker-1");
    CMD(&c, "$8\r\nworker-1\r\n", "CLIENT", "GETNAME");
    expect_prefix((send_cmd(&c, "CLIENT", "SETNAME", "a b", NULL), &c),
                  "-ERR Client names cannot contain spaces");
    CMD(&c, "+OK\r\n", "CLIENT", "SETINFO", "LIB-NAME", "redis-py");
    CMD(&c, "+OK\r\n", "CLIENT", "SETINFO", "lib-ver", "4.3.4");
    CMD(&c, "-ERR Unrecognized option 'x'\r\n", "CLIENT", "SETINFO", "x", "y");
    expect_prefix((send_cmd(&c, "CLIENT", "ID", NULL), &c), ":");
    send_cmd(&c, "CLIENT", "INFO", NULL);
    expect_contains(&c, "name=worker-1 ");
    send_cmd(&c, "CLIENT", "LIST", NULL);
    expect_contains(&c, "lib-name=redis-py lib-ver=4.3.4");
    CMD(&c, "-ERR unknown subcommand 'nope'. Try CLIENT HELP.\r\n", "CLIENT", "nope");
    /* what redis-benchmark asks on connect */
    CMD(&c, "*2\r\n$4\r\nsave\r\n$0\r\n\r\n", "CONFIG", "GET", "save");
    CMD(&c, "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n", "CONFIG", "GET", "appendonly");
    CMD(&c, "*4\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n$16\r\nmaxmemory-policy\r\n$10\r\nnoeviction\r\n",
        "CONFIG", "GET", "MAXMEMORY*");
    CMD(&c, "*0\r\n", "CONFIG", "GET", "nothing-like-this");
    expect_prefix((send_cmd(&c, "CONFIG", "SET", "save", "", NULL), &c),
                  "-ERR CONFIG SET is not supported");
    /* what redis-cli asks on connect */
    CMD(&c, "*0\r\n", "COMMAND", "DOCS");
    CMD(&c, "*0\r\n", "COMMAND");
    expect_prefix((send_cmd(&c, "COMMAND", "COUNT", NULL), &c), ":");
    CMD(&c, "*2\r\n*-1\r\n*-1\r\n", "COMMAND", "INFO", "get", "set");
    send_cmd(&c, "COMMAND", "LIST", NULL);
    expect_contains(&c, "$4\r\nscan\r\n");
    sock_close(&c);
}

static void test_hello_auth_misc(void **state)
{
    struct fx *f = *state;
    struct sock_client c;
    client(f, &c);
    CMD(&c, "-NOPROTO sorry, this protocol version is not supported\r\n", "HELLO", "3");
    CMD(&c, "-ERR Protocol version is not an integer or out of range\r\n", "HELLO", "x");
    send_cmd(&c, "HELLO", "2", "SETNAME", "h", NULL);
    expect_contains(&c, "$5\r\nproto\r\n:2\r\n");
    CMD(&c, "$1\r\nh\r\n", "CLIENT", "GETNAME");
    send_cmd(&c, "HELLO", NULL);
    expect_prefix(&c, "*14\r\n$6\r\nserver\r\n$5\r\nsynod\r\n");
    send_cmd(&c, "HELLO", "2", "AUTH", "default", "pw", NULL);
    expect_prefix(&c, "*14\r\n");
    expect_prefix((send_cmd(&c, "AUTH", "pw", NULL), &c), "-ERR AUTH <password> called without");
    expect_prefix((send_cmd(&c, "AUTH", "bob", "pw", NULL), &c), "-WRONGPASS ");
    CMD(&c, "+OK\r\n", "AUTH", "default", "pw");
    expect_prefix((send_cmd(&c, "FLUSHALL", NULL), &c), "-ERR FLUSHALL is not supported");
    expect_prefix((send_cmd(&c, "FLUSHDB", NULL), &c), "-ERR FLUSHDB is not supported");
    expect_prefix((send_cmd(&c, "MULTI", NULL), &c), "-ERR MULTI/EXEC transactions are not");
    CMD(&c, ":0\r\n", "WAIT", "1", "100");
    CMD(&c, "-ERR timeout is negative\r\n", "WAIT", "1", "-1");
    f->a.svc.info.member_count = 3;
    f->a.svc.info.members[1].voter = true;
    f->a.svc.info.members[2].voter = true;
    CMD(&c, ":1\r\n", "WAIT", "1", "0");
    CMD(&c, "*2\r\n$10\r\n1700000000\r\n$1\r\n0\r\n", "TIME");
    CMD(&c, "+OK\r\n", "QUIT");
    assert_true(sock_wait_eof(&c, WAIT_MS));
    sock_close(&c);
}

/* ---- Ordering and pipelining ------------------------------------------------------- */

/* 1000 commands in one write, mixing writes, reads and immediate replies: the replies come
 * back in request order, and every read sees the writes before it. */
static void test_pipeline_1000(void **state)
{
    struct fx *f = *state;
    struct sock_client c;
    client(f, &c);
    struct syn_buf req;
    struct syn_buf want;
    syn_buf_init(&req, 0);
    syn_buf_init(&want, 0);
    char key[16];
    char val[16];
    char line[64];
    for (int i = 0; i < 250; i++) {
        snprintf(key, sizeof(key), "k%d", i % 17);
        snprintf(val, sizeof(val), "v%d", i);
        struct resp_arg set[3] = {{(const uint8_t *)"SET", 3},
                                  {(const uint8_t *)key, strlen(key)},
                                  {(const uint8_t *)val, strlen(val)}};
        struct resp_arg get[2] = {{(const uint8_t *)"GET", 3}, {(const uint8_t *)key, strlen(key)}};
        struct resp_arg ping[1] = {{(const uint8_t *)"PING", 4}};
        struct resp_arg incr[2] = {{(const uint8_t *)"INCR", 4}, {(const uint8_t *)"ctr", 3}};
        assert_int_equal(resp_append_command(&req, set, 3), 0);
        assert_int_equal(resp_append_command(&req, get, 2), 0);
        assert_int_equal(resp_append_command(&req, ping, 1), 0);
        assert_int_equal(resp_append_command(&req, incr, 2), 0);
        snprintf(line, sizeof(line), "+OK\r\n$%zu\r\n%s\r\n+PONG\r\n:%d\r\n", strlen(val), val,
                 i + 1);
        assert_int_equal(syn_buf_append(&want, line, strlen(line)), 0);
    }
    assert_true(sock_send(&c, req.data, req.len, WAIT_MS));
    assert_true(sock_wait_messages(&c, reply_frame, 1000, WAIT_MS));
    assert_int_equal(c.in.len, want.len);
    assert_memory_equal(c.in.data, want.data, want.len);
    struct resp_server_stats st;
    resp_server_stats(f->srv, &st);
    assert_true(st.commands >= 1000);
    syn_buf_free(&req);
    syn_buf_free(&want);
    sock_close(&c);
}

/* More commands than may be in flight: reading pauses and resumes, nothing is lost. */
static void test_inflight_backpressure(void **state)
{
    struct fx *f = *state;
    server_close(f);
    struct resp_server_options opts = {.inflight_max = 4};
    start_server(f, &opts);
    struct sock_client c;
    client(f, &c);
    struct syn_buf req;
    syn_buf_init(&req, 0);
    for (int i = 0; i < 3000; i++) {
        struct resp_arg a[2] = {{(const uint8_t *)(i % 3 ? "GET" : "INCR"), i % 3 ? 3u : 4u},
                                {(const uint8_t *)"x", 1}};
        assert_int_equal(resp_append_command(&req, a, 2), 0);
    }
    assert_true(sock_send(&c, req.data, req.len, WAIT_MS));
    assert_true(sock_wait_messages(&c, reply_frame, 3000, WAIT_MS));
    /* INCR i/3+1 at every third command; GETs see the last INCR */
    size_t at = 0;
    for (int i = 0; i < 3000; i++) {
        char want[32];
        char text[16];
        int len = snprintf(text, sizeof(text), "%d", i / 3 + 1);
        if (i % 3 == 0) {
            snprintf(want, sizeof(want), ":%s\r\n", text);
        } else {
            snprintf(want, sizeof(want), "$%d\r\n%s\r\n", len, text);
        }
        size_t n = strlen(want);
        assert_true(at + n <= c.in.len);
        if (memcmp(c.in.data + at, want, n) != 0) {
            fail_msg("reply %d: expected %s", i, want);
        }
        at += n;
    }
    assert_int_equal(at, c.in.len);
    syn_buf_free(&req);
    sock_close(&c);
}

/* A client that pipelines large replies and does not read: the server stops reading it
 * instead of queueing every reply; once it reads, everything arrives. */
static void test_output_backpressure(void **state)
{
    struct fx *f = *state;
    struct sock_client c;
    client(f, &c);
    size_t size = 256u << 10;
    char *value = malloc(size + 1);
    assert_non_null(value);
    memset(value, 'v', size);
    value[size] = '\0';
    send_cmd(&c, "SET", "big", value, NULL);
    expect(&c, "+OK\r\n");
    struct syn_buf req;
    syn_buf_init(&req, 0);
    uint32_t n = 200; /* 50 MiB of replies */
    for (uint32_t i = 0; i < n; i++) {
        struct resp_arg a[2] = {{(const uint8_t *)"GET", 3}, {(const uint8_t *)"big", 3}};
        assert_int_equal(resp_append_command(&req, a, 2), 0);
    }
    uint64_t reads_before = f->a.svc.reads;
    assert_true(sock_send(&c, req.data, req.len, WAIT_MS));
    sock_pump(&f->a.loop, 200);
    /* paused after SYN_RESP_OUTPUT_PAUSE_SIZE bytes (plus the socket buffers) */
    assert_true(f->a.svc.reads - reads_before < n);
    assert_true(sock_wait_messages(&c, reply_frame, n, WAIT_MS));
    char *r = NULL;
    for (uint32_t i = 0; i < n; i++) {
        assert_int_equal(sock_take(&c, reply_frame, &r), 9 + size + 2); /* "$262144\r\n" */
        assert_memory_equal(r + 9, value, size);
        free(r);
    }
    syn_buf_free(&req);
    free(value);
    sock_close(&c);
}

/* ---- Failures ------------------------------------------------------------------------ */

static void test_service_statuses(void **state)
{
    struct fx *f = *state;
    struct sock_client c;
    client(f, &c);
    f->a.svc.write_status = SYN_ETIMEDOUT;
    CMD(&c,
        "-TIMEOUT the cluster did not commit the request in time; it may or may not have "
        "been applied\r\n",
        "SET", "a", "1");
    f->a.svc.write_status = SYN_ENOQUORUM;
    CMD(&c, "-NOQUORUM no leader is reachable; the request may or may not have been applied\r\n",
        "INCR", "a");
    f->a.svc.write_status = SYN_ENOTLEADER;
    expect_prefix((send_cmd(&c, "DEL", "a", NULL), &c), "-TRYAGAIN ");
    f->a.svc.write_status = SYN_ESTALE;
    expect_prefix((send_cmd(&c, "DEL", "a", NULL), &c), "-TRYAGAIN ");
    f->a.svc.write_status = SYN_EIO;
    expect_prefix((send_cmd(&c, "SET", "a", "1", NULL), &c), "-ERR this node cannot write");
    f->a.svc.write_status = 0;
    f->a.svc.write_refuse = SYN_EBUSY;
    expect_prefix((send_cmd(&c, "SET", "a", "1", NULL), &c), "-BUSY ");
    f->a.svc.write_refuse = SYN_ESHUTDOWN;
    CMD(&c, "-ERR the node is shutting down\r\n", "SET", "a", "1");
    f->a.svc.write_refuse = 0;
    f->a.svc.read_status = SYN_ETIMEDOUT;
    expect_prefix((send_cmd(&c, "GET", "a", NULL), &c), "-TIMEOUT ");
    f->a.svc.read_status = SYN_ENOQUORUM;
    expect_prefix((send_cmd(&c, "MGET", "a", "b", NULL), &c), "-NOQUORUM ");
    f->a.svc.read_status = 0;
    f->a.svc.read_refuse = SYN_EBUSY;
    expect_prefix((send_cmd(&c, "DBSIZE", NULL), &c), "-BUSY ");
    f->a.svc.read_refuse = 0;
    /* nothing was applied */
    CMD(&c, "$-1\r\n", "GET", "a");
    struct resp_server_stats st;
    resp_server_stats(f->srv, &st);
    assert_true(st.errors >= 10);
    sock_close(&c);
}

/* Protocol errors close the connection after the replies before them, like Redis; another
 * connection keeps working. */
static void test_protocol_error(void **state)
{
    struct fx *f = *state;
    struct sock_client good;
    struct sock_client bad;
    client(f, &good);
    client(f, &bad);
    f->a.svc.hold = true; /* the GET stays pending while the garbage arrives */
    assert_true(sock_send_str(&bad, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$x\r\nPING\r\n"));
    sock_pump(&f->a.loop, 20);
    CMD(&good, "+PONG\r\n", "PING");
    fake_service_release(&f->a.svc);
    expect(&bad, "$-1\r\n");
    expect(&bad, "-ERR Protocol error: invalid bulk length\r\n");
    assert_true(sock_wait_eof(&bad, WAIT_MS));
    assert_int_equal(bad.in.len, 0); /* the PING after the error was not executed */
    sock_close(&bad);
    client(f, &bad);
    assert_true(sock_send_str(&bad, "*1\r\nPING\r\n"));
    expect(&bad, "-ERR Protocol error: expected '$', got 'P'\r\n");
    assert_true(sock_wait_eof(&bad, WAIT_MS));
    sock_close(&bad);
    client(f, &bad);
    assert_true(sock_send_str(&bad, "SET \"a b\r\n"));
    expect(&bad, "-ERR Protocol error: unbalanced quotes in request\r\n");
    assert_true(sock_wait_eof(&bad, WAIT_MS));
    sock_close(&bad);
    CMD(&good, "+OK\r\n", "SET", "still", "here");
    struct resp_server_stats st;
    resp_server_stats(f->srv, &st);
    assert_int_equal(st.protocol_errors, 3);
    sock_close(&good);
}

/* Values over SYN_VALUE_SIZE_MAX get an error and the connection goes on; a request over
 * SYN_RESP_REQUEST_SIZE_MAX is a protocol error. */
static void test_oversized(void **state)
{
    struct fx *f = *state;
    struct sock_client c;
    client(f, &c);
    size_t size = SYN_VALUE_SIZE_MAX + 1;
    char *value = malloc(SYN_RESP_REQUEST_SIZE_MAX + 1);
    assert_non_null(value);
    memset(value, 'x', SYN_RESP_REQUEST_SIZE_MAX);
    value[size] = '\0';
    send_cmd(&c, "SET", "k", value, NULL);
    expect(&c, "-ERR value is too large: 524289 bytes, the limit is 524288\r\n");
    value[SYN_VALUE_SIZE_MAX] = '\0';
    send_cmd(&c, "SET", "k", value, NULL);
    expect(&c, "+OK\r\n");
    send_cmd(&c, "MSET", "a", "1", "b", value + 1, NULL); /* a value just under the limit */
    expect(&c, "+OK\r\n");
    send_cmd(&c, "MSET", "a", value, "b", value, NULL); /* two of them: over one entry */
    expect_prefix(&c, "-ERR the command is too large for one log entry");
    value[SYN_KEY_SIZE_MAX + 1] = '\0';
    send_cmd(&c, "GET", value, NULL);
    expect(&c, "-ERR key is too large: 16385 bytes, the limit is 16384\r\n");
    send_cmd(&c, "SET", value, "v", NULL);
    expect(&c, "-ERR key is too large: 16385 bytes, the limit is 16384\r\n");
    CMD(&c, "+PONG\r\n", "PING");
    /* a whole request over the limit */
    memset(value, 'x', SYN_RESP_REQUEST_SIZE_MAX);
    value[SYN_RESP_REQUEST_SIZE_MAX] = '\0';
    send_cmd(&c, "SET", "k", value, NULL);
    expect(&c, "-ERR Protocol error: too big multibulk request\r\n");
    assert_true(sock_wait_eof(&c, WAIT_MS));
    free(value);
    sock_close(&c);
    client(f, &c); /* refused as soon as the length is read */
    assert_true(sock_send_str(&c, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$99999999\r\n"));
    expect(&c, "-ERR Protocol error: invalid bulk length\r\n");
    assert_true(sock_wait_eof(&c, WAIT_MS));
    sock_close(&c);
    client(f, &c);
    CMD(&c, "$1\r\n1\r\n", "GET", "a"); /* the MSET too large was not applied */
    sock_close(&c);
}

/* A client that disconnects with commands pending: the connection stays allocated until the
 * service calls back (ASan checks the rest). */
static void test_disconnect_pending(void **state)
{
    struct fx *f = *state;
    struct sock_client c;
    client(f, &c);
    f->a.svc.hold = true;
    for (int i = 0; i < 20; i++) {
        send_cmd(&c, i < 10 ? "INCR" : "GET", "n", NULL);
    }
    sock_pump(&f->a.loop, 20);
    assert_int_equal(f->a.svc.pending, 10); /* the GETs wait for the INCRs before them */
    sock_close(&c);
    sock_pump(&f->a.loop, 20);
    struct resp_server_stats st;
    resp_server_stats(f->srv, &st);
    assert_int_equal(st.connections_open, 0);
    fake_service_release(&f->a.svc);
    sock_pump(&f->a.loop, 20);
    assert_int_equal(f->a.svc.pending, 0);
    /* the writes submitted were applied all the same; the reads never ran */
    client(f, &c);
    CMD(&c, "$2\r\n10\r\n", "GET", "n");
    sock_close(&c);
}

/* Closing the server with clients connected and requests pending: done runs after the
 * service's callbacks. */
static void test_close_with_pending(void **state)
{
    struct fx *f = *state;
    struct sock_client c[3];
    for (int i = 0; i < 3; i++) {
        client(f, &c[i]);
    }
    f->a.svc.hold = true;
    for (int i = 0; i < 3; i++) {
        send_cmd(&c[i], "SET", "a", "1", NULL);
        send_cmd(&c[i], "GET", "a", NULL);
    }
    sock_pump(&f->a.loop, 20);
    resp_server_close(f->srv, api_fixture_on_closed, &f->a);
    f->srv = NULL;
    f->a.server = NULL;
    sock_pump(&f->a.loop, 20);
    assert_false(f->a.server_closed); /* callbacks pending */
    fake_service_release(&f->a.svc);
    assert_true(api_fixture_wait_closed(&f->a));
    for (int i = 0; i < 3; i++) {
        assert_true(sock_wait_eof(&c[i], WAIT_MS));
        sock_close(&c[i]);
    }
}

static void test_connection_limit(void **state)
{
    struct fx *f = *state;
    server_close(f);
    struct resp_server_options opts = {.connections_max = 2};
    start_server(f, &opts);
    struct sock_client c[3];
    for (int i = 0; i < 3; i++) {
        client(f, &c[i]);
        sock_pump(&f->a.loop, 5);
    }
    expect(&c[2], "-ERR max number of clients reached\r\n");
    assert_true(sock_wait_eof(&c[2], WAIT_MS));
    CMD(&c[0], "+PONG\r\n", "PING");
    CMD(&c[1], "+PONG\r\n", "PING");
    sock_close(&c[2]);
    sock_close(&c[1]);
    sock_pump(&f->a.loop, 20);
    client(f, &c[2]);
    CMD(&c[2], "+PONG\r\n", "PING");
    struct resp_server_stats st;
    resp_server_stats(f->srv, &st);
    assert_int_equal(st.connections_refused, 1);
    assert_int_equal(st.connections_open, 2);
    sock_close(&c[0]);
    sock_close(&c[2]);
}

static void test_bad_options(void **state)
{
    struct fx *f = *state;
    struct resp_server *s = NULL;
    char errmsg[RESP_SERVER_ERRMSG_SIZE];
    struct resp_server_options opts = {.inflight_max = SYN_RESP_INFLIGHT_MAX + 1};
    assert_int_equal(
        resp_server_start(&f->a.loop, "127.0.0.1:0", &f->a.svc.service, &opts, &s, errmsg),
        SYN_EINVAL);
    assert_null(s);
    assert_int_equal(resp_server_start(&f->a.loop, "nonsense", &f->a.svc.service, NULL, &s, errmsg),
                     SYN_EINVAL);
    assert_non_null(strstr(errmsg, "is not HOST:PORT"));
    char addr[32];
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", f->a.port);
    assert_int_equal(resp_server_start(&f->a.loop, addr, &f->a.svc.service, NULL, &s, errmsg),
                     SYN_EIO);
    assert_non_null(strstr(errmsg, "address already in use"));
    assert_null(s);
    uv_run(&f->a.loop, UV_RUN_NOWAIT); /* the failed servers' handles close */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ping_echo_select, setup, api_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_and_arity, setup, api_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_set_get, setup, api_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_set_options_errors, setup, api_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_expiry, setup, api_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_counters_del_exists, setup, api_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_mget_mset, setup, api_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_scan, setup, api_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_info, setup, api_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_client_config_command, setup, api_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_hello_auth_misc, setup, api_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_pipeline_1000, setup, api_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_inflight_backpressure, setup, api_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_output_backpressure, setup, api_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_service_statuses, setup, api_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_protocol_error, setup, api_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_oversized, setup, api_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_disconnect_pending, setup, api_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_close_with_pending, setup, api_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_connection_limit, setup, api_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_bad_options, setup, api_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
