/* test_cli_registry.c: the pure parts of synod service, watch, monitor and log: service
 * definitions built from flags (and refused), the repeatable flags, the services listing,
 * health answers read and shown, a watch's changes and blocks, events and log entries read and
 * shown, response headers, and timestamps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "base/err.h"
#include "cli/cli_events.h"
#include "cli/cli_health.h"
#include "cli/cli_http.h"
#include "cli/cli_log.h"
#include "cli/cli_service.h"
#include "cli/cli_time.h"
#include "cli/cli_watch.h"

static const uint8_t *u8(const char *s)
{
    return (const uint8_t *)s;
}

static void assert_buf(const struct syn_buf *b, const char *want)
{
    if (b->len != strlen(want) || memcmp(b->data, want, b->len) != 0) {
        fail_msg("got:\n%.*s\nwant:\n%s", (int)b->len, (const char *)b->data, want);
    }
}

/* ---- synod service register -------------------------------------------------------- */

static void test_repeated_flags(void **state)
{
    (void)state;
    char *argv[] = {"register",  "--tag", "a",         "--name", "web", "--tag=b", "--meta", "k=v",
                    "--timeout", "1s",    "--timeout", "500",    "--",  "--tag",   "x"};
    int argc = (int)(sizeof(argv) / sizeof(argv[0]));
    struct cli_service_def d = {0};
    char *rest[16];
    int n = 0;
    char err[128];
    assert_int_equal(cli_service_take_repeated(argc, argv, &d, rest, &n, err, sizeof(err)), 0);
    assert_int_equal(d.tag_count, 2);
    assert_string_equal(d.tags[0], "a");
    assert_string_equal(d.tags[1], "b");
    assert_int_equal(d.meta_count, 1);
    assert_string_equal(d.meta[0], "k=v");
    assert_string_equal(d.timeout, "1s"); /* with a unit: the check's */
    const char *want[] = {"register", "--name", "web", "--timeout", "500", "--", "--tag", "x"};
    assert_int_equal(n, 8);
    for (int i = 0; i < n; i++) {
        assert_string_equal(rest[i], want[i]);
    }
    char *missing[] = {"--meta"};
    d = (struct cli_service_def){0};
    assert_int_equal(cli_service_take_repeated(1, missing, &d, rest, &n, err, sizeof(err)),
                     SYN_EINVAL);
    assert_string_equal(err, "--meta needs a value");
}

static int def_json(const struct cli_service_def *d, struct syn_buf *out, char *err)
{
    syn_buf_reset(out);
    return cli_service_def_json(d, out, err, 256);
}

static void test_definition_json(void **state)
{
    (void)state;
    struct syn_buf b;
    syn_buf_init(&b, 0);
    char err[256];
    struct cli_service_def d = {.name = "web",
                                .id = "web-1",
                                .port = "8080",
                                .address = "10.0.0.5",
                                .tags = {"v1", "b\"lue"},
                                .tag_count = 2,
                                .meta = {"zone=a", "empty="},
                                .meta_count = 2,
                                .check_http = "http://127.0.0.1:8080/health",
                                .interval = "1s",
                                .timeout = "500ms",
                                .deregister_after = "30s"};
    assert_int_equal(def_json(&d, &b, err), 0);
    assert_buf(&b, "{\"Name\":\"web\",\"ID\":\"web-1\",\"Address\":\"10.0.0.5\",\"Port\":8080,"
                   "\"Tags\":[\"v1\",\"b\\\"lue\"],\"Meta\":{\"zone\":\"a\",\"empty\":\"\"},"
                   "\"Check\":{\"HTTP\":\"http://127.0.0.1:8080/health\",\"Interval\":\"1s\","
                   "\"Timeout\":\"500ms\",\"DeregisterCriticalServiceAfter\":\"30s\"}}\n");
    d = (struct cli_service_def){.name = "job", .check_pid = "4242"};
    assert_int_equal(def_json(&d, &b, err), 0);
    assert_buf(&b, "{\"Name\":\"job\",\"Check\":{\"PID\":4242}}\n");
    d = (struct cli_service_def){.name = "t", .check_ttl = "10s", .deregister_after = "1m"};
    assert_int_equal(def_json(&d, &b, err), 0);
    assert_buf(&b, "{\"Name\":\"t\",\"Check\":{\"TTL\":\"10s\","
                   "\"DeregisterCriticalServiceAfter\":\"1m\"}}\n");
    d = (struct cli_service_def){.name = "x", .check_exec = "test -f /tmp/up"};
    assert_int_equal(def_json(&d, &b, err), 0);
    assert_buf(&b, "{\"Name\":\"x\",\"Check\":{\"Script\":\"test -f /tmp/up\"}}\n");
    /* refused, with a sentence, the buffer as it was */
    struct {
        struct cli_service_def d;
        const char *says;
    } bad[] = {
        {{.id = "x"}, "--name is required"},
        {{.name = "x", .port = "65536"}, "--port"},
        {{.name = "x", .port = "8o"}, "--port"},
        {{.name = "x", .check_http = "http://a/", .check_tcp = "a:1"}, "one --check-*"},
        {{.name = "x", .interval = "1s"}, "need a check"},
        {{.name = "x", .check_ttl = "5s", .interval = "1s"}, "TTL check"},
        {{.name = "x", .check_pid = "0"}, "--check-pid"},
        {{.name = "x", .meta = {"novalue"}, .meta_count = 1}, "KEY=VALUE"},
        {{.name = "x", .meta = {"=v"}, .meta_count = 1}, "KEY=VALUE"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        syn_buf_reset(&b);
        assert_int_equal(syn_buf_append(&b, "kept", 4), 0);
        assert_int_equal(cli_service_def_json(&bad[i].d, &b, err, sizeof(err)), SYN_EINVAL);
        assert_non_null(strstr(err, bad[i].says));
        assert_buf(&b, "kept");
    }
    syn_buf_free(&b);
}

static void test_services_listing(void **state)
{
    (void)state;
    const char *body = "{\"api\":[],\"web\":[\"v1\",\"b\\nlue\"]}\n";
    struct cli_service_list l;
    assert_int_equal(cli_service_list_parse(u8(body), strlen(body), &l), 0);
    assert_int_equal(l.count, 2);
    assert_string_equal(l.rows[1].name, "web");
    l.rows[1].instances = 3;
    l.rows[1].passing = 2;
    struct syn_buf b;
    syn_buf_init(&b, 0);
    assert_int_equal(cli_service_list_text(&l, &b), 0);
    assert_buf(&b, "SERVICE  TAGS       INSTANCES  PASSING\n"
                   "api                 0          0\n"
                   "web      v1,b\\nlue  3          2\n");
    syn_buf_reset(&b);
    assert_int_equal(cli_service_list_json(&l, &b), 0);
    assert_buf(&b, "[{\"name\":\"api\",\"tags\":[],\"instances\":0,\"passing\":0},"
                   "{\"name\":\"web\",\"tags\":[\"v1\",\"b\\nlue\"],\"instances\":3,"
                   "\"passing\":2}]\n");
    cli_service_list_free(&l);
    const char *bad[] = {"[]", "{\"web\":\"v1\"}", "{\"web\":[1]}", "{"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(cli_service_list_parse(u8(bad[i]), strlen(bad[i]), &l), SYN_EBADMSG);
        cli_service_list_free(&l);
    }
    syn_buf_free(&b);
}

/* ---- health answers and synod watch ------------------------------------------------- */

/* An instance of web in /v1/health/service's shape. */
#define INSTANCE(node, id, port, serf, status, output)                                             \
    "{\"Node\":{\"Node\":\"" node "\",\"Address\":\"10.0.0.9\"},"                                  \
    "\"Service\":{\"ID\":\"" id "\",\"Service\":\"web\",\"Tags\":[],\"Address\":\"127.0.0.1\","    \
    "\"Port\":" port "},"                                                                          \
    "\"Checks\":[{\"CheckID\":\"serfHealth\",\"Status\":\"" serf "\",\"Output\":\"node is "        \
    "alive\"},{\"CheckID\":\"service:" id "\",\"Status\":\"" status "\",\"Output\":\"" output      \
    "\"}]}"

/* clang-format off */
static const char health_before[] =
    "[" INSTANCE("n1", "web-1", "8081", "passing", "passing", "HTTP GET /: 200 OK") ","
    INSTANCE("n2", "web-2", "8082", "passing", "passing", "TCP connect 127.0.0.1:8082: Success") ","
    INSTANCE("n3", "web-3", "8083", "passing", "warning", "slow\\nsecond line") "]";
static const char health_after[] =
    "[" INSTANCE("n1", "web-1", "8081", "passing", "passing", "HTTP GET /: 200 OK") ","
    INSTANCE("n2", "web-2", "8082", "passing", "critical",
             "TCP connect 127.0.0.1:8082: connection refused") ","
    INSTANCE("n4", "web-4", "8084", "critical", "passing", "ok") "]";
/* clang-format on */

static void health_read(const char *body, struct cli_health *h)
{
    assert_int_equal(cli_health_parse(u8(body), strlen(body), h), 0);
}

static void test_health_answers(void **state)
{
    (void)state;
    struct cli_health h;
    health_read(health_before, &h);
    assert_int_equal(h.count, 3);
    assert_string_equal(h.items[0].node, "n1");
    assert_string_equal(h.items[0].address, "127.0.0.1");
    assert_int_equal(h.items[0].port, 8081);
    assert_string_equal(h.items[2].status, "warning");
    assert_int_equal(cli_health_passing(&h), 2);
    assert_string_equal(cli_health_reason(&h.items[0])->id, "service:web-1");
    assert_string_equal(cli_health_reason(&h.items[2])->output, "slow\nsecond line");
    assert_ptr_equal(cli_health_find(&h, "n2", "web-2"), &h.items[1]);
    assert_null(cli_health_find(&h, "n1", "web-2"));
    struct syn_buf b;
    syn_buf_init(&b, 0);
    assert_int_equal(cli_health_show_text(&h, "web", &b), 0);
    assert_buf(
        &b,
        "web: 3 instances, 2 passing\n"
        "\n"
        "NODE  ID     ADDRESS         STATUS   CHECK          CHECK STATUS  OUTPUT\n"
        "n1    web-1  127.0.0.1:8081  passing  serfHealth     passing       node is alive\n"
        "                                      service:web-1  passing       HTTP GET /: 200 OK\n"
        "n2    web-2  127.0.0.1:8082  passing  serfHealth     passing       node is alive\n"
        "                                      service:web-2  passing       TCP connect "
        "127.0.0.1:8082: Success\n"
        "n3    web-3  127.0.0.1:8083  warning  serfHealth     passing       node is alive\n"
        "                                      service:web-3  warning       slow...\n");
    cli_health_free(&h);
    /* A failed node's instance: serfHealth explains it. */
    health_read(health_after, &h);
    assert_string_equal(h.items[2].status, "critical");
    assert_string_equal(cli_health_reason(&h.items[2])->id, "serfHealth");
    cli_health_free(&h);
    const char *bad[] = {"{}", "[{\"Service\":1}]", "[{\"Service\":{\"Port\":-1}}]",
                         "[{\"Service\":{},\"Checks\":{}}]"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(cli_health_parse(u8(bad[i]), strlen(bad[i]), &h), SYN_EBADMSG);
        cli_health_free(&h);
    }
    char line[64];
    cli_health_output_line("abcdefghij", 4, line, sizeof(line));
    assert_string_equal(line, "abcd...");
    cli_health_output_line("tab\there", 40, line, sizeof(line));
    assert_string_equal(line, "tab\\there");
    cli_health_output_line("\xc3\xa9\xc3\xa9", 3, line, sizeof(line)); /* not inside a letter */
    assert_string_equal(line, "\xc3\xa9...");
    syn_buf_free(&b);
}

static void test_watch_blocks(void **state)
{
    (void)state;
    struct cli_health before, after, none = {0};
    health_read(health_before, &before);
    health_read(health_after, &after);
    struct cli_watch_change ch[8];
    uint32_t n = cli_watch_diff(&before, &after, ch, 8);
    assert_int_equal(n, 3); /* web-2 changed, web-4 came, web-3 left; web-1 did not change */
    assert_string_equal(ch[0].after->id, "web-2");
    assert_null(ch[1].before);
    assert_null(ch[2].after);
    assert_int_equal(cli_watch_diff(&after, &after, ch, 8), 0);
    assert_int_equal(cli_watch_diff(&none, &after, ch, 2), 2); /* max holds */
    struct cli_watch_block blk = {.service = "web",
                                  .time_ms = 1795745400123u,
                                  .index = 57,
                                  .now = &after,
                                  .changes = ch,
                                  .change_count = cli_watch_diff(&before, &after, ch, 8)};
    struct syn_buf b;
    syn_buf_init(&b, 0);
    assert_int_equal(cli_watch_text(&blk, &b), 0);
    assert_buf(&b, "2026-11-27T02:10:00.123Z web at index 57: 1 of 3 instances healthy (web-1)\n"
                   "  web-2 passing -> critical (TCP connect 127.0.0.1:8082: connection refused)\n"
                   "  web-4 registered on n4 at 127.0.0.1:8084: critical (node is alive)\n"
                   "  web-3 deregistered (was warning)\n");
    syn_buf_reset(&b);
    blk.passing = true;
    blk.change_count = 1;
    ch[0] = (struct cli_watch_change){.after = &after.items[0]};
    assert_int_equal(cli_watch_text(&blk, &b), 0);
    assert_non_null(strstr((const char *)b.data, "  web-1 is passing (on n1 at 127.0.0.1:8081)\n"));
    syn_buf_reset(&b);
    blk = (struct cli_watch_block){
        .service = "web", .time_ms = 0, .index = 3, .first = true, .now = &before};
    assert_int_equal(cli_watch_text(&blk, &b), 0);
    assert_buf(&b,
               "1970-01-01T00:00:00.000Z web at index 3: 2 of 3 instances healthy (web-1, "
               "web-2)\n"
               "  web-1 on n1 at 127.0.0.1:8081: passing (HTTP GET /: 200 OK)\n"
               "  web-2 on n2 at 127.0.0.1:8082: passing (TCP connect 127.0.0.1:8082: Success)\n"
               "  web-3 on n3 at 127.0.0.1:8083: warning (slow...)\n");
    syn_buf_reset(&b);
    struct cli_watch_change one = {.before = &before.items[1], .after = &after.items[1]};
    blk = (struct cli_watch_block){.service = "web",
                                   .time_ms = 1000,
                                   .index = 9,
                                   .now = &none,
                                   .changes = &one,
                                   .change_count = 1};
    assert_int_equal(cli_watch_json(&blk, &b), 0);
    assert_buf(&b, "{\"time\":\"1970-01-01T00:00:01.000Z\",\"time_ms\":1000,\"service\":\"web\","
                   "\"index\":9,\"start\":false,\"healthy\":0,\"instances\":[],\"changes\":"
                   "[{\"node\":\"n2\",\"id\":\"web-2\",\"from\":\"passing\",\"to\":\"critical\","
                   "\"output\":\"TCP connect 127.0.0.1:8082: connection refused\"}]}\n");
    cli_health_free(&before);
    cli_health_free(&after);
    syn_buf_free(&b);
}

/* ---- synod monitor and synod log ---------------------------------------------------- */

static void test_events(void **state)
{
    (void)state;
    const char *body = "[{\"seq\":7,\"time_ms\":1795745400123,\"node\":\"n2\",\"kind\":\"suspect\","
                       "\"text\":\"n3 (phi 6.1, last heard 900 ms ago)\"},"
                       "{\"seq\":8,\"time_ms\":1795745400200,\"node\":\"n2\",\"kind\":\"check\","
                       "\"text\":\"a\\nb \\\"q\\\"\"}]\n";
    struct cli_events ev;
    assert_int_equal(cli_events_parse(u8(body), strlen(body), &ev), 0);
    assert_int_equal(ev.count, 2);
    struct syn_buf b;
    syn_buf_init(&b, 0);
    assert_int_equal(cli_event_text(&ev.items[0], &b), 0);
    assert_int_equal(cli_event_text(&ev.items[1], &b), 0);
    assert_buf(&b, "2026-11-27T02:10:00.123Z n2 suspect: n3 (phi 6.1, last heard 900 ms ago)\n"
                   "2026-11-27T02:10:00.200Z n2 check: a\\nb \"q\"\n");
    syn_buf_reset(&b);
    assert_int_equal(cli_event_json(&ev.items[1], &b), 0);
    assert_buf(&b, "{\"time\":\"2026-11-27T02:10:00.200Z\",\"time_ms\":1795745400200,\"node\":"
                   "\"n2\",\"seq\":8,\"kind\":\"check\",\"text\":\"a\\nb \\\"q\\\"\"}\n");
    cli_events_free(&ev);
    const char *bad[] = {"{}", "[{\"seq\":\"x\",\"time_ms\":1}]", "[{\"time_ms\":1}]", "[1]"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(cli_events_parse(u8(bad[i]), strlen(bad[i]), &ev), SYN_EBADMSG);
        cli_events_free(&ev);
    }
    syn_buf_free(&b);
}

static void test_log_entries(void **state)
{
    (void)state;
    /* "hello", an empty value (null), a key that is not the log's, "a\nb" */
    const char *body =
        "[{\"Key\":\"synod/log/00000000000000000012\",\"Flags\":1795745400123,"
        "\"Value\":\"aGVsbG8=\",\"ModifyIndex\":12},"
        "{\"Key\":\"synod/log/00000000000000000015\",\"Flags\":0,\"Value\":null},"
        "{\"Key\":\"synod/log/notes\",\"Flags\":0,\"Value\":\"eA==\"},"
        "{\"Key\":\"synod/log/00000000000000000109\",\"Flags\":1000,\"Value\":\"YQpi\"}]";
    struct cli_log log;
    assert_int_equal(cli_log_parse(u8(body), strlen(body), &log), 0);
    assert_int_equal(log.count, 3);
    assert_int_equal(log.items[0].index, 12);
    assert_int_equal(log.items[1].index, 15);
    assert_int_equal(log.items[2].index, 109);
    struct syn_buf b;
    syn_buf_init(&b, 0);
    for (uint32_t i = 0; i < log.count; i++) {
        assert_int_equal(cli_log_entry_text(&log.items[i], &b), 0);
    }
    assert_buf(&b, "12      2026-11-27T02:10:00.123Z  hello\n"
                   "15      1970-01-01T00:00:00.000Z  \n"
                   "109     1970-01-01T00:00:01.000Z  a\\nb\n");
    syn_buf_reset(&b);
    assert_int_equal(cli_log_entry_json(&log.items[2], &b), 0);
    assert_buf(&b, "{\"index\":109,\"time\":\"1970-01-01T00:00:01.000Z\",\"time_ms\":1000,"
                   "\"text\":\"a\\nb\"}\n");
    cli_log_free(&log);
    const char *bad[] = {"{}", "[{\"Key\":\"synod/log/00000000000000000001\",\"Value\":\"!!\"}]",
                         "[{\"Key\":\"synod/log/00000000000000000001\",\"Flags\":-1}]"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(cli_log_parse(u8(bad[i]), strlen(bad[i]), &log), SYN_EBADMSG);
        cli_log_free(&log);
    }
    syn_buf_free(&b);
}

/* ---- headers and times -------------------------------------------------------------- */

static void test_headers_and_times(void **state)
{
    (void)state;
    const char *raw = "HTTP/1.1 100 Continue\r\n\r\n"
                      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nx-CONSUL-index:  57 \r\n"
                      "X-Other: a\r\n\r\nok";
    struct cli_http_response resp;
    assert_int_equal(cli_http_response_parse(u8(raw), strlen(raw), false, false, 100, &resp), 0);
    uint64_t index = 0;
    assert_true(cli_http_header_u64(u8(raw), &resp, "x-consul-index", &index));
    assert_int_equal(index, 57);
    const uint8_t *v;
    size_t n;
    assert_true(cli_http_header(u8(raw), &resp, "x-other", &v, &n));
    assert_int_equal(n, 1);
    assert_memory_equal(v, "a", 1);
    assert_false(cli_http_header(u8(raw), &resp, "x-absent", &v, &n));
    assert_false(cli_http_header_u64(u8(raw), &resp, "x-other", &index));
    char t[CLI_TIME_SIZE];
    cli_time_format(0, t);
    assert_string_equal(t, "1970-01-01T00:00:00.000Z");
    cli_time_format(1795745400123u, t);
    assert_string_equal(t, "2026-11-27T02:10:00.123Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repeated_flags),   cmocka_unit_test(test_definition_json),
        cmocka_unit_test(test_services_listing), cmocka_unit_test(test_health_answers),
        cmocka_unit_test(test_watch_blocks),     cmocka_unit_test(test_events),
        cmocka_unit_test(test_log_entries),      cmocka_unit_test(test_headers_and_times),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
