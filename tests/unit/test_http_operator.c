/* test_http_operator.c: the operator's HTTP endpoints over real TCP on 127.0.0.1, against the
 * service double with membership calls of the test's own: /v1/synod/status on a leader and a
 * follower, Consul's raft configuration, /metrics, each membership change and transfer with
 * what reaches the service, every mapping of a service error to a status (421 with the
 * leader's name for "not the leader"), and bad names, addresses and methods. The responses
 * are read with the CLI's own response parser. Bounded waits (STYLE 16). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http_server.h"
#include "base/err.h"
#include "cli/cli_http.h"
#include "harness/api_fixture.h"
#include "harness/sock_client.h"

#define WAIT_MS 10000u

struct fx {
    struct api_fixture a; /* first (api_fixture_teardown) */
    struct http_server *srv;
    struct service_ops ops; /* the double's, with member_change and transfer_leader */
    /* What the last membership call got, and what the next one answers. */
    uint32_t calls;
    int op; /* enum raft_conf_op, or 0 for a transfer */
    char name[64];
    char addr[64];
    int rc;
};

static struct fx *fx_of(void *impl)
{
    /* the double is f->a.svc, and f->a is f's first member */
    return (struct fx *)(void *)((char *)impl - offsetof(struct api_fixture, svc));
}

static int stub_member_change(void *impl, enum raft_conf_op op, const char *name,
                              const char *peer_addr, char *msg, size_t msg_size)
{
    struct fx *f = fx_of(impl);
    f->calls++;
    f->op = (int)op;
    snprintf(f->name, sizeof(f->name), "%s", name);
    snprintf(f->addr, sizeof(f->addr), "%s", peer_addr != NULL ? peer_addr : "(null)");
    snprintf(msg, msg_size, "%s", f->rc == 0 ? "proposed at index 7 in term 2" : "refused");
    return f->rc;
}

static int stub_transfer(void *impl, const char *name, char *msg, size_t msg_size)
{
    return stub_member_change(impl, 0, name, NULL, msg, msg_size);
}

static void server_close_fn(void *server, void (*done)(void *ctx), void *ctx)
{
    http_server_close(server, done, ctx);
}

/* A leader n1 with voter n2 (match 8) and learner n3 (match 5); last index 10. */
static void info_set(struct service_info *info)
{
    info->member_count = 3;
    info->last_index = 10;
    info->commit_index = 9;
    info->applied_index = 9;
    info->members[0].match_index = 10;
    static const char *const names[] = {"n1", "n2", "n3"};
    for (uint32_t i = 1; i < 3; i++) {
        struct service_member *m = &info->members[i];
        *m = (struct service_member){.id = 100 + i, .voter = i == 1, .match_index = 11 - 3 * i};
        snprintf(m->name, sizeof(m->name), "%s", names[i]);
        snprintf(m->peer_addr, sizeof(m->peer_addr), "10.0.0.%u:7001", i + 1);
    }
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(api_fixture_init(&f->a), 0);
    f->ops = *f->a.svc.service.ops;
    f->ops.member_change = stub_member_change;
    f->ops.transfer_leader = stub_transfer;
    f->a.svc.service.ops = &f->ops;
    info_set(&f->a.svc.info);
    struct http_server_options opts = {.version = "test"};
    char errmsg[HTTP_SERVER_ERRMSG_SIZE];
    if (http_server_start(&f->a.loop, "127.0.0.1:0", &f->a.svc.service, &opts, &f->srv, errmsg) !=
        0) {
        fail_msg("http_server_start: %s", errmsg);
    }
    f->a.port = http_server_port(f->srv);
    f->a.server = f->srv;
    f->a.server_close = server_close_fn;
    *state = f;
    return 0;
}

static size_t response_frame(const uint8_t *d, size_t n)
{
    struct cli_http_response r;
    return cli_http_response_parse(d, n, false, false, 1u << 20, &r) == 0 ? r.total_size : 0;
}

struct answer {
    uint16_t status;
    char text[16384]; /* the whole response */
    const char *body;
};

/* Sends "METHOD TARGET" on a new connection and waits for the answer. */
static void call(struct fx *f, const char *method, const char *target, struct answer *out)
{
    struct sock_client c;
    assert_int_equal(api_fixture_connect(&f->a, &c), 0);
    char req[512];
    snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n", method,
             target);
    assert_true(sock_send_str(&c, req));
    assert_true(sock_wait_messages(&c, response_frame, 1, WAIT_MS));
    char *text = NULL;
    size_t n = sock_take(&c, response_frame, &text);
    assert_true(n > 0 && n < sizeof(out->text));
    memcpy(out->text, text, n + 1);
    free(text);
    struct cli_http_response r;
    assert_int_equal(cli_http_response_parse((const uint8_t *)out->text, n, false, false, n, &r),
                     0);
    out->status = r.status;
    out->body = out->text + r.head_size;
    sock_close(&c);
}

static void expect(struct fx *f, const char *method, const char *target, uint16_t status,
                   const char *body)
{
    struct answer a;
    call(f, method, target, &a);
    if (a.status != status || (body != NULL && strcmp(a.body, body) != 0)) {
        fail_msg("%s %s: got %u %s\nwant %u %s", method, target, a.status, a.body, status,
                 body != NULL ? body : "");
    }
}

static void test_status(void **state)
{
    struct fx *f = *state;
    expect(f, "GET", "/v1/synod/status", 200,
           "{\"node\":\"n1\",\"id\":\"1\",\"role\":\"leader\",\"term\":1,\"leader\":\"n1\","
           "\"commit_index\":9,\"applied_index\":9,\"last_index\":10,\"snapshot_index\":0,"
           "\"serving\":true,\"members\":["
           "{\"name\":\"n1\",\"id\":\"1\",\"peer_addr\":\"127.0.0.1:7001\",\"voter\":true,"
           "\"leader\":true,\"self\":true,\"health\":\"unknown\",\"last_heard_ms\":0,"
           "\"match_index\":10,\"lag\":0},"
           "{\"name\":\"n2\",\"id\":\"101\",\"peer_addr\":\"10.0.0.2:7001\",\"voter\":true,"
           "\"leader\":false,\"self\":false,\"health\":\"unknown\",\"last_heard_ms\":0,"
           "\"match_index\":8,\"lag\":2},"
           "{\"name\":\"n3\",\"id\":\"102\",\"peer_addr\":\"10.0.0.3:7001\",\"voter\":false,"
           "\"leader\":false,\"self\":false,\"health\":\"unknown\",\"last_heard_ms\":0,"
           "\"match_index\":5,\"lag\":5}]}\n");
    /* a follower knows no match indexes: null, not 0 */
    f->a.svc.info.role = "follower";
    struct answer a;
    call(f, "GET", "/v1/synod/status", &a);
    assert_int_equal(a.status, 200);
    assert_non_null(strstr(a.body, "\"role\":\"follower\""));
    assert_non_null(strstr(a.body, "\"self\":false,\"health\":\"unknown\",\"last_heard_ms\":0,"
                                   "\"match_index\":null,\"lag\":null}]}"));
    assert_null(strstr(a.body, "\"lag\":0"));
    expect(f, "GET", "/v1/operator/raft/configuration", 200,
           "{\"Servers\":["
           "{\"ID\":\"1\",\"Node\":\"n1\",\"Address\":\"127.0.0.1:7001\",\"Leader\":true,"
           "\"Voter\":true,\"ProtocolVersion\":\"3\"},"
           "{\"ID\":\"101\",\"Node\":\"n2\",\"Address\":\"10.0.0.2:7001\",\"Leader\":false,"
           "\"Voter\":true,\"ProtocolVersion\":\"3\"},"
           "{\"ID\":\"102\",\"Node\":\"n3\",\"Address\":\"10.0.0.3:7001\",\"Leader\":false,"
           "\"Voter\":false,\"ProtocolVersion\":\"3\"}],\"Index\":9}\n");
    expect(f, "POST", "/v1/synod/status", 405, NULL);
}

static void test_metrics(void **state)
{
    struct fx *f = *state;
    struct answer a;
    /* 3 syncs of 0.3, 0.8 and 5 ms; one store commit of 7 s (past every bound) */
    syn_histo_add(&f->a.svc.info.wal_sync, 300000);
    syn_histo_add(&f->a.svc.info.wal_sync, 800000);
    syn_histo_add(&f->a.svc.info.wal_sync, 5000000);
    syn_histo_add(&f->a.svc.info.store_commit, 7000000000ull);
    call(f, "GET", "/metrics", &a);
    assert_int_equal(a.status, 200);
    assert_non_null(
        strstr(a.text, "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
    static const char *const lines[] = {
        ("# HELP synod_raft_term The current Raft term.\n# TYPE synod_raft_term gauge\n"
         "synod_raft_term 1\n"),
        "\nsynod_info{node=\"n1\",version=\"test\"} 1\n",
        "\nsynod_raft_commit_index 9\n",
        "\nsynod_raft_applied_index 9\n",
        "\nsynod_raft_last_index 10\n",
        "\nsynod_raft_snapshot_index 0\n",
        "\nsynod_raft_is_leader 1\n",
        "\nsynod_serving 1\n",
        ("\nsynod_raft_members{role=\"voter\"} 2\nsynod_raft_members{role=\"learner\"} 1\n"),
        "\nsynod_raft_member_lag{member=\"n3\"} 5\n",
        "\nsynod_raft_member_match_index{member=\"n2\"} 8\n",
        ("# TYPE synod_http_requests_total counter\nsynod_http_requests_total 0\n"),
        ("# TYPE synod_http_errors_total counter\nsynod_http_errors_total 0\n"),
        "\nsynod_http_connections_open 1\n",
        ("# TYPE synod_wal_fsync_duration_seconds histogram\n"
         "synod_wal_fsync_duration_seconds_bucket{le=\"0.000100\"} 0\n"
         "synod_wal_fsync_duration_seconds_bucket{le=\"0.000250\"} 0\n"
         "synod_wal_fsync_duration_seconds_bucket{le=\"0.000500\"} 1\n"
         "synod_wal_fsync_duration_seconds_bucket{le=\"0.001000\"} 2\n"),
        ("synod_wal_fsync_duration_seconds_bucket{le=\"0.004000\"} 2\n"
         "synod_wal_fsync_duration_seconds_bucket{le=\"0.008000\"} 3\n"),
        ("synod_wal_fsync_duration_seconds_bucket{le=\"4.096000\"} 3\n"
         "synod_wal_fsync_duration_seconds_bucket{le=\"+Inf\"} 3\n"
         "synod_wal_fsync_duration_seconds_sum 0.006100000\n"
         "synod_wal_fsync_duration_seconds_count 3\n"),
        ("synod_store_commit_duration_seconds_bucket{le=\"4.096000\"} 0\n"
         "synod_store_commit_duration_seconds_bucket{le=\"+Inf\"} 1\n"
         "synod_store_commit_duration_seconds_sum 7.000000000\n"
         "synod_store_commit_duration_seconds_count 1\n"),
    };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        if (strstr(a.body, lines[i]) == NULL) {
            fail_msg("no '%s' in:\n%s", lines[i], a.body);
        }
    }
    /* every sample line follows its family's HELP and TYPE; the text ends with a newline */
    assert_int_equal(a.body[strlen(a.body) - 1], '\n');
    expect(f, "GET", "/nope", 404, NULL);
    call(f, "GET", "/metrics", &a);
    assert_non_null(strstr(a.body, "\nsynod_http_requests_total 2\n"));
    assert_non_null(strstr(a.body, "\nsynod_http_errors_total 1\n"));
    /* followers export no per-member lag */
    f->a.svc.info.role = "follower";
    call(f, "GET", "/metrics", &a);
    assert_null(strstr(a.body, "synod_raft_member_lag"));
    assert_non_null(strstr(a.body, "\nsynod_raft_is_leader 0\n"));
}

static void expect_call(struct fx *f, int op, const char *name, const char *addr)
{
    assert_int_equal(f->calls, 1);
    assert_int_equal(f->op, op);
    assert_string_equal(f->name, name);
    assert_string_equal(f->addr, addr);
    f->calls = 0;
}

static void test_members(void **state)
{
    struct fx *f = *state;
    const char *ok =
        "{\"ok\":true,\"message\":\"proposed at index 7 in term 2\",\"leader\":\"n1\"}\n";
    expect(f, "PUT", "/v1/synod/members/n4?peer-addr=10.0.0.4%3A7001&learner", 200, ok);
    expect_call(f, RAFT_CONF_ADD_LEARNER, "n4", "10.0.0.4:7001");
    expect(f, "PUT", "/v1/synod/members/%6E5?peer-addr=h:1", 200, ok);
    expect_call(f, RAFT_CONF_ADD_VOTER, "n5", "h:1");
    expect(f, "POST", "/v1/synod/members/n4/promote", 200, ok);
    expect_call(f, RAFT_CONF_PROMOTE, "n4", "(null)");
    expect(f, "DELETE", "/v1/synod/members/n2", 200, ok);
    expect_call(f, RAFT_CONF_REMOVE, "n2", "(null)");
    /* refused before the service is asked */
    expect(f, "PUT", "/v1/synod/members/n4", 400,
           "{\"error\":\"query parameter 'peer-addr' is missing\"}\n");
    expect(f, "PUT", "/v1/synod/members/n4?peer-addr=%zz", 400,
           "{\"error\":\"query parameter 'peer-addr' is malformed\"}\n");
    const char *bad_name = "{\"error\":\"a member name is 1 to 31 letters, digits, '-', '_' or "
                           "'.'\",\"code\":\"SYN_EINVAL\",\"leader\":\"n1\"}\n";
    expect(f, "PUT", "/v1/synod/members/n%404?peer-addr=h:1", 400, bad_name);
    expect(f, "DELETE", "/v1/synod/members/", 400, bad_name);
    expect(f, "DELETE", "/v1/synod/members/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 400, bad_name);
    expect(f, "PUT", "/v1/synod/members/n4?peer-addr=a%20b", 400, NULL);
    expect(f, "POST", "/v1/synod/members/n4", 405, "{\"error\":\"method not allowed\"}\n");
    expect(f, "DELETE", "/v1/synod/members/n4/promote", 405, NULL);
    expect(f, "GET", "/v1/synod/members/n4", 405, NULL);
    expect(f, "POST", "/v1/synod/members/n4/demote", 404, NULL);
    assert_int_equal(f->calls, 0);
    struct answer a;
    call(f, "POST", "/v1/synod/members/n4", &a);
    assert_non_null(strstr(a.text, "\r\nAllow: PUT, DELETE\r\n"));
    /* the service's refusals */
    static const struct {
        int rc;
        uint16_t status;
    } errors[] = {
        {SYN_EEXIST, 409},    {SYN_ECONFCHANGE, 409}, {SYN_ETRANSFER, 409},
        {SYN_EFULL, 409},     {SYN_EINVAL, 400},      {SYN_EUNKNOWNNODE, 404},
        {SYN_ESHUTDOWN, 503}, {SYN_EIO, 503},         {SYN_ECORRUPT, 500},
    };
    for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
        f->rc = errors[i].rc;
        call(f, "DELETE", "/v1/synod/members/n3", &a);
        assert_int_equal(a.status, errors[i].status);
        char code[64];
        snprintf(code, sizeof(code), "\"code\":\"%s\"", syn_errname(errors[i].rc));
        assert_non_null(strstr(a.body, code));
    }
    /* not the leader: 421, and who is */
    f->rc = SYN_ENOTLEADER;
    snprintf(f->a.svc.info.leader_name, sizeof(f->a.svc.info.leader_name), "n2");
    expect(f, "DELETE", "/v1/synod/members/n3", 421,
           "{\"error\":\"refused\",\"code\":\"SYN_ENOTLEADER\",\"leader\":\"n2\"}\n");
    call(f, "DELETE", "/v1/synod/members/n3", &a);
    assert_non_null(strstr(a.text, "HTTP/1.1 421 Misdirected Request\r\n"));
}

static void test_transfer(void **state)
{
    struct fx *f = *state;
    expect(f, "POST", "/v1/synod/leader/transfer?to=n2", 200,
           "{\"ok\":true,\"message\":\"proposed at index 7 in term 2\",\"leader\":\"n1\"}\n");
    expect_call(f, 0, "n2", "(null)");
    /* Consul's: the ID the configuration shows, or a name */
    expect(f, "POST", "/v1/operator/raft/transfer-leader?id=101", 200,
           "{\"Success\":true,\"leader\":\"n1\"}\n");
    expect_call(f, 0, "n2", "(null)");
    expect(f, "POST", "/v1/operator/raft/transfer-leader?id=n3", 200, NULL);
    expect_call(f, 0, "n3", "(null)");
    /* no target: the voter with the longest log (n3 is a learner) */
    f->a.svc.info.members[2].match_index = 10;
    expect(f, "POST", "/v1/synod/leader/transfer", 200, NULL);
    expect_call(f, 0, "n2", "(null)");
    expect(f, "GET", "/v1/synod/leader/transfer", 405, NULL);
    expect(f, "POST", "/v1/synod/leader/transfer?to=%", 400,
           "{\"error\":\"query parameter 'to' is malformed\"}\n");
    /* ... and none at all */
    f->a.svc.info.members[1].voter = false;
    expect(f, "POST", "/v1/synod/leader/transfer", 400, NULL);
    assert_int_equal(f->calls, 0);
    /* a follower asked to pick one says who leads */
    f->a.svc.info.role = "follower";
    snprintf(f->a.svc.info.leader_name, sizeof(f->a.svc.info.leader_name), "n2");
    expect(f, "POST", "/v1/synod/leader/transfer", 421,
           "{\"error\":\"this node is not the leader\",\"code\":\"SYN_ENOTLEADER\","
           "\"leader\":\"n2\"}\n");
    assert_int_equal(f->calls, 0);
}

static void test_unsupported(void **state)
{
    struct fx *f = *state;
    f->ops.member_change = NULL;
    expect(f, "DELETE", "/v1/synod/members/n2", 400,
           "{\"error\":\"membership changes are not supported here\",\"code\":\"SYN_EINVAL\","
           "\"leader\":\"n1\"}\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_status, setup, api_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_metrics, setup, api_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_members, setup, api_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_transfer, setup, api_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_unsupported, setup, api_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
