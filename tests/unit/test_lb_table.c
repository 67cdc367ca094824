/* test_lb_table.c: synod lb's pure parts besides the policies: the backend table (merging
 * registry answers, draining, passive health, the usable set), the health endpoint's request
 * target, answer and X-Consul-Index (Consul's exact JSON shape, and every refusal), and the
 * stats documents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cli/cli_json.h"
#include "lb/lb_registry.h"
#include "lb/lb_stats.h"
#include "lb/lb_table.h"

static struct lb_instance inst(const char *id, uint16_t port, uint32_t weight)
{
    struct lb_instance i = {.port = port, .weight = weight};
    snprintf(i.id, sizeof(i.id), "%s", id);
    snprintf(i.node, sizeof(i.node), "n1");
    snprintf(i.host, sizeof(i.host), "127.0.0.1");
    return i;
}

static struct lb_table *table_new(void)
{
    struct lb_table *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    lb_table_init(t, 2, 1000);
    return t;
}

static void test_table_update(void **state)
{
    (void)state;
    struct lb_table *t = table_new();
    struct lb_instance list[3] = {inst("web-1", 9001, 1), inst("web-2", 9002, 1),
                                  inst("web-3", 9003, 1)};
    struct lb_update u;
    lb_table_update(t, list, 3, 0, &u);
    assert_int_equal(u.added, 3);
    assert_true(u.members_changed);
    assert_int_equal(t->count, 3);
    assert_string_equal(t->backends[1].addr, "127.0.0.1:9002");
    assert_int_equal(lb_table_up_count(t), 3);
    /* the same answer again changes nothing; a new weight is only a reweight */
    list[2].weight = 4;
    lb_table_update(t, list, 3, 0, &u);
    assert_int_equal(u.added + u.removed, 0);
    assert_int_equal(u.reweighted, 1);
    assert_false(u.members_changed);
    assert_int_equal(t->targets[2].weight, 4);
    /* web-2 has a connection and leaves: it drains; web-1 is idle and leaves: freed */
    lb_table_attempt(t, 1);
    lb_table_connect_ok(t, 1);
    lb_table_update(t, &list[2], 1, 500, &u);
    assert_int_equal(u.removed, 2);
    assert_int_equal(t->backends[0].state, LB_BACKEND_FREE);
    assert_int_equal(t->backends[1].state, LB_BACKEND_DRAINING);
    assert_int_equal(t->backends[1].draining_since_ms, 500);
    assert_false(t->targets[1].member);
    assert_string_equal(lb_table_state_name(t, 1, 600), "draining");
    assert_int_equal(lb_table_usable(t, 600, NULL, false), 1);
    assert_false(t->targets[1].usable);
    /* a new instance takes the free slot 0 */
    struct lb_instance next[2] = {list[2], inst("web-4", 9004, 1)};
    lb_table_update(t, next, 2, 700, &u);
    assert_int_equal(u.added, 1);
    assert_string_equal(t->backends[0].inst.id, "web-4");
    /* the draining one's last connection closes: its slot is freed */
    lb_table_closed(t, 1);
    assert_int_equal(t->backends[1].state, LB_BACKEND_FREE);
    assert_int_equal(t->count, 3);
    /* an instance listed twice is taken once */
    struct lb_instance twice[2] = {inst("web-9", 9009, 1), inst("web-9", 9009, 1)};
    lb_table_update(t, twice, 2, 800, &u);
    assert_int_equal(u.added, 1);
    assert_int_equal(u.skipped, 1);
    assert_int_equal(u.removed, 2);
    free(t);
}

static void test_table_come_back(void **state)
{
    (void)state;
    struct lb_table *t = table_new();
    struct lb_instance a = inst("web-1", 9001, 1);
    struct lb_update u;
    lb_table_update(t, &a, 1, 0, &u);
    lb_table_attempt(t, 0);
    lb_table_connect_ok(t, 0);
    lb_table_update(t, NULL, 0, 10, &u);
    assert_int_equal(t->backends[0].state, LB_BACKEND_DRAINING);
    /* listed again while it drains: up again, in the same slot, its connection still counted */
    lb_table_update(t, &a, 1, 20, &u);
    assert_int_equal(u.added, 1);
    assert_true(u.members_changed);
    assert_int_equal(t->backends[0].state, LB_BACKEND_UP);
    assert_int_equal(t->targets[0].active, 1);
    assert_int_equal(t->backends[0].c.conns_total, 1);
    /* the same id at another port is another backend */
    struct lb_instance moved = inst("web-1", 9011, 1);
    lb_table_update(t, &moved, 1, 30, &u);
    assert_int_equal(u.added, 1);
    assert_int_equal(u.removed, 1);
    assert_int_equal(t->backends[1].inst.port, 9011);
    assert_true(t->targets[0].key_hash == t->targets[1].key_hash); /* same ring place */
    free(t);
}

static void test_table_full(void **state)
{
    (void)state;
    struct lb_table *t = table_new();
    static struct lb_instance list[SYN_LB_BACKENDS_MAX + 3];
    for (uint32_t i = 0; i < SYN_LB_BACKENDS_MAX + 3; i++) {
        char id[32];
        snprintf(id, sizeof(id), "web-%u", i);
        list[i] = inst(id, (uint16_t)(10000 + i), 1);
    }
    struct lb_update u;
    lb_table_update(t, list, SYN_LB_BACKENDS_MAX + 3, 0, &u);
    assert_int_equal(u.added, SYN_LB_BACKENDS_MAX);
    assert_int_equal(u.skipped, 3);
    assert_int_equal(t->count, SYN_LB_BACKENDS_MAX);
    free(t);
}

static void test_passive_health(void **state)
{
    (void)state;
    struct lb_table *t = table_new(); /* fall 2, down 1000 ms */
    struct lb_instance list[2] = {inst("web-1", 9001, 1), inst("web-2", 9002, 1)};
    struct lb_update u;
    lb_table_update(t, list, 2, 0, &u);
    lb_table_attempt(t, 0);
    assert_false(lb_table_connect_failed(t, 0, 100, "connection refused"));
    assert_string_equal(t->backends[0].last_error, "connect: connection refused");
    assert_int_equal(t->targets[0].active, 0);
    assert_string_equal(lb_table_state_name(t, 0, 100), "up");
    lb_table_attempt(t, 0);
    assert_true(lb_table_connect_failed(t, 0, 200, "connection refused"));
    assert_string_equal(lb_table_state_name(t, 0, 200), "down");
    assert_int_equal(t->backends[0].c.connect_failures, 2);
    assert_int_equal(lb_table_usable(t, 500, NULL, false), 1);
    assert_false(t->targets[0].usable);
    /* every up backend down: ignore_down lets them be tried rather than refuse the client */
    uint8_t tried[SYN_LB_BACKENDS_MAX / 8] = {0x02}; /* slot 1 tried */
    assert_int_equal(lb_table_usable(t, 500, tried, false), 0);
    assert_int_equal(lb_table_usable(t, 500, tried, true), 1);
    assert_true(t->targets[0].usable);
    /* its time is up: tried again; one more failure marks it down again at once */
    assert_int_equal(lb_table_usable(t, 1200, NULL, false), 2);
    lb_table_attempt(t, 0);
    assert_true(lb_table_connect_failed(t, 0, 1200, "timed out"));
    assert_string_equal(lb_table_state_name(t, 0, 1300), "down");
    /* a success forgets it all */
    lb_table_attempt(t, 0);
    lb_table_connect_ok(t, 0);
    assert_string_equal(lb_table_state_name(t, 0, 1300), "up");
    lb_table_closed(t, 0);
    lb_table_attempt(t, 0);
    assert_false(lb_table_connect_failed(t, 0, 1400, "refused"));
    free(t);
}

static void test_table_merge(void **state)
{
    (void)state;
    struct lb_table *a = table_new();
    struct lb_table *b = table_new();
    struct lb_table *m = table_new();
    struct lb_instance list[3] = {inst("web-1", 9001, 2), inst("web-2", 9002, 1),
                                  inst("web-3", 9003, 1)};
    struct lb_update u;
    lb_table_update(a, list, 3, 0, &u);
    lb_table_update(b, &list[1], 2, 0, &u); /* another thread: other slots for the same */
    lb_table_attempt(a, 1);
    lb_table_connect_ok(a, 1);
    a->backends[1].c.bytes_in = 10;
    lb_table_attempt(b, 0); /* web-2 in b's slot 0 */
    lb_table_connect_ok(b, 0);
    b->backends[0].c.bytes_in = 5;
    lb_table_attempt(b, 1); /* web-3 refuses twice in b: down there */
    lb_table_connect_failed(b, 1, 100, "connection refused");
    lb_table_attempt(b, 1);
    lb_table_connect_failed(b, 1, 100, "connection refused");
    lb_table_update(a, &list[1], 2, 200, &u); /* web-1 drains in a, with nothing open: freed */
    lb_table_merge(m, a);
    lb_table_merge(m, b);
    assert_int_equal(m->count, 2);
    assert_string_equal(m->backends[0].inst.id, "web-2");
    assert_int_equal(m->targets[0].active, 2);
    assert_true(m->backends[0].c.conns_total == 2);
    assert_true(m->backends[0].c.bytes_in == 15);
    assert_string_equal(lb_table_state_name(m, 0, 150), "up");
    assert_string_equal(lb_table_state_name(m, 1, 150), "down"); /* down in one thread */
    assert_string_equal(m->backends[1].last_error, "connect: connection refused");
    assert_true(m->backends[1].c.connect_failures == 2);
    /* draining in one, up in the other: up */
    lb_table_update(b, &list[2], 1, 300, &u); /* web-2 drains in b, its connection open */
    struct lb_table *m2 = table_new();
    lb_table_merge(m2, b);
    assert_string_equal(lb_table_state_name(m2, 0, 300), "draining");
    lb_table_merge(m2, a);
    assert_string_equal(lb_table_state_name(m2, 0, 300), "up");
    free(a);
    free(b);
    free(m);
    free(m2);
}

/* ---- The registry's answer ----------------------------------------------------------- */

static const char consul_answer[] =
    "[{\"Node\":{\"ID\":\"40e4a748\",\"Node\":\"n1\",\"Address\":\"10.0.0.1\",\"Datacenter\":"
    "\"dc1\",\"TaggedAddresses\":{\"lan\":\"10.0.0.1\"},\"Meta\":{},\"CreateIndex\":5,"
    "\"ModifyIndex\":5},\"Service\":{\"ID\":\"web-1\",\"Service\":\"web\",\"Tags\":[\"v1\"],"
    "\"Address\":\"127.0.0.1\",\"Meta\":{\"a\":\"b\"},\"Port\":9001,\"Weights\":{\"Passing\":3,"
    "\"Warning\":1},\"EnableTagOverride\":false,\"CreateIndex\":7,\"ModifyIndex\":7},"
    "\"Checks\":[{\"Node\":\"n1\",\"CheckID\":\"serfHealth\",\"Status\":\"passing\"},"
    "{\"CheckID\":\"service:web-1\",\"Status\":\"passing\",\"Output\":\"ok\"}]},"
    /* no Service.Address: the node's; no Weights: 1 */
    "{\"Node\":{\"Node\":\"n2\",\"Address\":\"10.0.0.2\"},\"Service\":{\"ID\":\"web-2\","
    "\"Service\":\"web\",\"Address\":\"\",\"Port\":9002},\"Checks\":[]},"
    /* a failing check: left out even though ?passing should have */
    "{\"Node\":{\"Node\":\"n3\",\"Address\":\"10.0.0.3\"},\"Service\":{\"ID\":\"web-3\","
    "\"Service\":\"web\",\"Port\":9003},\"Checks\":[{\"Status\":\"critical\"}]},"
    /* no port */
    "{\"Node\":{\"Node\":\"n4\",\"Address\":\"10.0.0.4\"},\"Service\":{\"ID\":\"web-4\"}},"
    /* no ID: the service's name */
    "{\"Node\":{\"Node\":\"n5\",\"Address\":\"::1\"},\"Service\":{\"Service\":\"web\","
    "\"Port\":9005,\"Weights\":{\"Passing\":0}}}]";

static int parse(const char *body, struct lb_instance *out, uint32_t max, uint32_t *count,
                 uint32_t *skipped)
{
    return lb_registry_parse((const uint8_t *)body, strlen(body), out, max, count, skipped);
}

static void test_registry_parse(void **state)
{
    (void)state;
    struct lb_instance out[8];
    uint32_t count;
    uint32_t skipped;
    assert_int_equal(parse(consul_answer, out, 8, &count, &skipped), 0);
    assert_int_equal(count, 3);
    assert_int_equal(skipped, 2);
    assert_string_equal(out[0].id, "web-1");
    assert_string_equal(out[0].node, "n1");
    assert_string_equal(out[0].host, "127.0.0.1");
    assert_int_equal(out[0].port, 9001);
    assert_int_equal(out[0].weight, 3);
    assert_string_equal(out[1].host, "10.0.0.2");
    assert_int_equal(out[1].weight, 1);
    assert_string_equal(out[2].id, "web");
    assert_string_equal(out[2].host, "::1");
    assert_int_equal(out[2].weight, 1); /* 0 is no weight: 1 */
    /* more than max: the rest are skipped */
    assert_int_equal(parse(consul_answer, out, 1, &count, &skipped), 0);
    assert_int_equal(count, 1);
    assert_int_equal(skipped, 4);
    assert_int_equal(parse("[]", out, 8, &count, &skipped), 0);
    assert_int_equal(count, 0);
    assert_int_equal(parse(" [ ] \n", out, 8, &count, &skipped), 0);
    const char *bad[] = {"", "{}", "[1]", "[{}", "null", "[{\"Service\":{}},2]", "<html>"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(parse(bad[i], out, 8, &count, &skipped), SYN_EBADMSG);
        assert_int_equal(count, 0);
    }
    /* bad fields leave the entry out, not the answer */
    const char *odd = "[{\"Service\":{\"ID\":\"a\",\"Port\":70000,\"Address\":\"1.2.3.4\"}},"
                      "{\"Service\":{\"ID\":\"b\",\"Port\":-1,\"Address\":\"1.2.3.4\"}},"
                      "{\"Service\":{\"ID\":7,\"Port\":1,\"Address\":\"1.2.3.4\"}},"
                      "{\"Service\":{\"ID\":\"c\",\"Port\":1}},"
                      "{\"Service\":\"x\"},"
                      "{\"Service\":{\"ID\":\"d\",\"Port\":\"80\",\"Address\":\"1.2.3.4\"}}]";
    assert_int_equal(parse(odd, out, 8, &count, &skipped), 0);
    assert_int_equal(count, 1); /* "80" as a string: cli_json reads decimal strings too */
    assert_int_equal(skipped, 5);
    char long_id[300];
    memset(long_id, 'x', sizeof(long_id));
    long_id[sizeof(long_id) - 1] = '\0';
    char body[512];
    snprintf(body, sizeof(body), "[{\"Service\":{\"ID\":\"%s\",\"Port\":1,\"Address\":\"h\"}}]",
             long_id);
    assert_int_equal(parse(body, out, 8, &count, &skipped), 0);
    assert_int_equal(skipped, 1);
}

static void test_registry_index(void **state)
{
    (void)state;
    uint64_t index = 0;
    const char *head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                       "x-consul-INDEX:  1234\r\nContent-Length: 2\r\n\r\n";
    assert_true(lb_registry_index((const uint8_t *)head, strlen(head), &index));
    assert_true(index == 1234);
    head = "HTTP/1.1 200 OK\nX-Consul-Index: 7\n\n";
    assert_true(lb_registry_index((const uint8_t *)head, strlen(head), &index));
    assert_true(index == 7);
    head = "HTTP/1.1 200 OK\r\nX-Consul-Index: x\r\n\r\n";
    assert_false(lb_registry_index((const uint8_t *)head, strlen(head), &index));
    head = "HTTP/1.1 200 OK\r\nX-Consul-Indexes: 3\r\n\r\n";
    assert_false(lb_registry_index((const uint8_t *)head, strlen(head), &index));
    head = "HTTP/1.1 200 OK\r\n\r\n";
    assert_false(lb_registry_index((const uint8_t *)head, strlen(head), &index));
    /* Consul's rules for the next index */
    assert_true(lb_registry_next_index(0, true, 12) == 12);
    assert_true(lb_registry_next_index(12, true, 15) == 15);
    assert_true(lb_registry_next_index(15, true, 3) == 0); /* went backwards: start over */
    assert_true(lb_registry_next_index(0, true, 0) == 1);  /* 0 never blocks */
    assert_true(lb_registry_next_index(9, false, 0) == 0); /* no index: ask without one */
}

static void test_registry_target(void **state)
{
    (void)state;
    struct syn_buf b;
    syn_buf_init(&b, 0);
    assert_int_equal(lb_registry_target(&b, "web", 0, 30), 0);
    assert_string_equal((const char *)b.data, "/v1/health/service/web?passing");
    syn_buf_reset(&b);
    assert_int_equal(lb_registry_target(&b, "my web/x", 42, 30), 0);
    assert_string_equal((const char *)b.data,
                        "/v1/health/service/my%20web/x?passing&index=42&wait=30s");
    syn_buf_free(&b);
    syn_buf_init(&b, 10);
    assert_int_equal(lb_registry_target(&b, "web", 1, 1), SYN_ETOOBIG);
    assert_int_equal(b.len, 0);
    syn_buf_free(&b);
}

/* ---- Stats --------------------------------------------------------------------------- */

static void test_stats(void **state)
{
    (void)state;
    struct lb_table *t = table_new();
    struct lb_instance list[2] = {inst("web-1", 9001, 2), inst("we\"b\n2", 9002, 1)};
    struct lb_update u;
    lb_table_update(t, list, 2, 0, &u);
    lb_table_attempt(t, 0);
    lb_table_connect_ok(t, 0);
    t->backends[0].c.bytes_in = 100;
    t->backends[0].c.bytes_out = 2000;
    lb_table_attempt(t, 1);
    lb_table_connect_failed(t, 1, 5, "connection refused");
    struct lb_totals totals = {.accepted = 5, .active = 1, .registry_index = 9,
                               .registry_age_ms = UINT64_MAX};
    snprintf(totals.registry_addr, sizeof(totals.registry_addr), "127.0.0.1:8501");
    struct lb_stats_view v = {.service = "web", .policy = "round-robin", .listen = "x:1",
                              .table = t, .totals = &totals, .now_ms = 10};
    struct syn_buf b;
    syn_buf_init(&b, 0);
    assert_int_equal(lb_stats_json(&v, &b), 0);
    struct cli_json j;
    assert_int_equal(cli_json_parse(&j, b.data, b.len), 0);
    uint64_t n = 0;
    assert_true(cli_json_u64(&j, cli_json_get(&j, cli_json_get(&j, 0, "connections"), "accepted"),
                             &n));
    assert_true(n == 5);
    assert_int_equal(cli_json_type(&j, cli_json_get(&j, cli_json_get(&j, 0, "registry"), "age_ms")),
                     CLI_JSON_NULL);
    uint32_t backends = cli_json_get(&j, 0, "backends");
    uint32_t b0 = cli_json_first(&j, backends);
    uint32_t b1 = cli_json_next(&j, backends, b0);
    assert_true(cli_json_u64(&j, cli_json_get(&j, b0, "bytes_out"), &n));
    assert_true(n == 2000);
    assert_true(cli_json_u64(&j, cli_json_get(&j, b0, "active"), &n));
    assert_true(n == 1);
    char text[64];
    assert_true(cli_json_cstring(&j, cli_json_get(&j, b1, "id"), text, sizeof(text)));
    assert_string_equal(text, "we\"b\n2");
    assert_true(cli_json_cstring(&j, cli_json_get(&j, b1, "last_error"), text, sizeof(text)));
    assert_string_equal(text, "connect: connection refused");
    assert_true(cli_json_cstring(&j, cli_json_get(&j, b0, "state"), text, sizeof(text)));
    assert_string_equal(text, "up");
    cli_json_free(&j);
    syn_buf_reset(&b);
    assert_int_equal(lb_stats_prometheus(&v, &b), 0);
    assert_int_equal(syn_buf_append(&b, "", 1), 0);
    const char *p = (const char *)b.data;
    assert_non_null(strstr(p, "# TYPE synod_lb_connections_accepted_total counter\n"
                              "synod_lb_connections_accepted_total{service=\"web\"} 5\n"));
    assert_non_null(strstr(p, "synod_lb_backend_bytes_out_total{service=\"web\",backend=\"web-1\""
                              ",node=\"n1\",addr=\"127.0.0.1:9001\"} 2000\n"));
    assert_non_null(strstr(p, "backend=\"we\\\"b\\n2\"")); /* escaped label */
    assert_non_null(strstr(p, "synod_lb_backend_weight{service=\"web\",backend=\"web-1\""));
    syn_buf_free(&b);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_update),   cmocka_unit_test(test_table_come_back),
        cmocka_unit_test(test_table_full),     cmocka_unit_test(test_passive_health),
        cmocka_unit_test(test_table_merge),
        cmocka_unit_test(test_registry_parse), cmocka_unit_test(test_registry_index),
        cmocka_unit_test(test_registry_target), cmocka_unit_test(test_stats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
