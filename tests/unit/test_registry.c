/* test_registry.c: the registry's pure core (src/registry): instance and node records and
 * the state machine's commands round-trip byte for byte; every truncation and 20,000 random
 * mutations of them decode to a clean SYN_EBADMSG or to something that passes the checks;
 * the status and discovery rules; the node table; rise/fall thresholds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/prng.h"
#include "registry/reg_health.h"
#include "registry/reg_record.h"

static struct reg_instance *instance_new(void)
{
    struct reg_instance *in = calloc(1, sizeof(*in));
    assert_non_null(in);
    snprintf(in->node, sizeof(in->node), "n1");
    snprintf(in->id, sizeof(in->id), "web-1");
    snprintf(in->name, sizeof(in->name), "web");
    snprintf(in->address, sizeof(in->address), "10.0.0.7");
    in->port = 8080;
    in->tag_count = 2;
    snprintf(in->tags[0], sizeof(in->tags[0]), "v1");
    snprintf(in->tags[1], sizeof(in->tags[1]), "primary");
    in->meta_count = 1;
    snprintf(in->meta[0].key, sizeof(in->meta[0].key), "zone");
    snprintf(in->meta[0].value, sizeof(in->meta[0].value), "eu-1");
    in->weight_passing = 3;
    in->weight_warning = 1;
    in->refreshed_ms = 1700000000000ull;
    in->create_index = 5;
    in->modify_index = 9;
    in->check_count = 2;
    struct reg_check *c = &in->checks[0];
    snprintf(c->id, sizeof(c->id), "web-1:http");
    c->type = REG_CHECK_HTTP;
    snprintf(c->target, sizeof(c->target), "http://10.0.0.7:8080/health");
    c->interval_ms = 1000;
    c->timeout_ms = 500;
    c->rise = 2;
    c->fall = 3;
    c->status = REG_PASSING;
    snprintf(c->output, sizeof(c->output), "HTTP GET: 200 OK");
    c = &in->checks[1];
    snprintf(c->id, sizeof(c->id), "web-1:ttl");
    c->type = REG_CHECK_TTL;
    c->ttl_ms = 10000;
    c->rise = 1;
    c->fall = 1;
    c->status = REG_PASSING;
    c->deregister_after_ms = 60000;
    return in;
}

static void test_instance_round_trip(void **state)
{
    (void)state;
    struct reg_instance *in = instance_new();
    const char *why = NULL;
    assert_int_equal(reg_instance_check(in, &why), 0);
    struct syn_buf b, again;
    syn_buf_init(&b, 0);
    syn_buf_init(&again, 0);
    assert_int_equal(reg_instance_encode(&b, in), 0);
    struct reg_instance *out = calloc(1, sizeof(*out));
    assert_int_equal(reg_instance_decode(b.data, b.len, out), 0);
    assert_string_equal(out->id, "web-1");
    assert_string_equal(out->tags[1], "primary");
    assert_string_equal(out->meta[0].value, "eu-1");
    assert_int_equal(out->port, 8080);
    assert_int_equal(out->weight_passing, 3);
    assert_int_equal(out->check_count, 2);
    assert_string_equal(out->checks[0].target, "http://10.0.0.7:8080/health");
    assert_int_equal(out->checks[1].deregister_after_ms, 60000);
    /* what decodes encodes to the same bytes */
    assert_int_equal(reg_instance_encode(&again, out), 0);
    assert_int_equal(again.len, b.len);
    assert_memory_equal(again.data, b.data, b.len);
    syn_buf_free(&b);
    syn_buf_free(&again);
    free(in);
    free(out);
}

static void test_instance_checks(void **state)
{
    (void)state;
    struct reg_instance *in = instance_new();
    const char *why = NULL;
    in->name[0] = '\0';
    assert_int_equal(reg_instance_check(in, &why), SYN_EINVAL);
    assert_non_null(why);
    free(in);
    in = instance_new();
    snprintf(in->checks[1].id, sizeof(in->checks[1].id), "web-1:http"); /* the same ID twice */
    assert_int_equal(reg_instance_check(in, &why), SYN_EINVAL);
    free(in);
    in = instance_new();
    in->checks[0].interval_ms = 0; /* an http check needs an interval */
    assert_int_equal(reg_instance_check(in, &why), SYN_EINVAL);
    free(in);
    in = instance_new();
    in->checks[1].ttl_ms = 0;
    assert_int_equal(reg_instance_check(in, &why), SYN_EINVAL);
    free(in);
    in = instance_new();
    in->checks[0].fall = 0;
    assert_int_equal(reg_instance_check(in, &why), SYN_EINVAL);
    free(in);
}

/* Every prefix, then random byte changes: SYN_EBADMSG or a record that passes the checks. */
static void garbage(const struct syn_buf *b, int (*decode)(const uint8_t *, size_t, void *),
                    void *scratch, int (*valid)(void *))
{
    for (size_t n = 0; n < b->len; n++) {
        assert_int_equal(decode(b->data, n, scratch), SYN_EBADMSG);
    }
    struct prng p;
    prng_init(&p, 42);
    uint8_t *m = malloc(b->len + 16);
    int decoded = 0;
    for (int i = 0; i < 20000; i++) {
        memcpy(m, b->data, b->len);
        size_t size = b->len;
        int changes = (int)prng_range(&p, 1, 4);
        for (int k = 0; k < changes; k++) {
            m[prng_range(&p, 0, size - 1)] = (uint8_t)prng_next(&p);
        }
        if (prng_range(&p, 0, 9) == 0) {
            size += prng_range(&p, 1, 16); /* trailing bytes */
            memset(m + b->len, 0xab, size - b->len);
        }
        int rc = decode(m, size, scratch);
        assert_true(rc == 0 || rc == SYN_EBADMSG);
        if (rc == 0) {
            assert_int_equal(valid(scratch), 0);
            decoded++;
        }
    }
    free(m);
    (void)decoded; /* strings changed in place still decode: that is fine */
}

static int decode_instance(const uint8_t *d, size_t n, void *out)
{
    return reg_instance_decode(d, n, out);
}

static int valid_instance(void *p)
{
    const char *why;
    return reg_instance_check(p, &why);
}

static int decode_cmd(const uint8_t *d, size_t n, void *out)
{
    return reg_cmd_decode(d, n, out);
}

static int valid_cmd(void *p)
{
    const struct reg_cmd *c = p;
    if (c->op < REG_OP_FIRST || c->op > REG_OP_LAST) {
        return SYN_EINVAL;
    }
    return c->op == REG_OP_REGISTER ? valid_instance(c->instance) : 0;
}

static void test_decode_garbage(void **state)
{
    (void)state;
    struct reg_instance *in = instance_new();
    struct syn_buf b;
    syn_buf_init(&b, 0);
    assert_int_equal(reg_instance_encode(&b, in), 0);
    struct reg_instance *scratch = calloc(1, sizeof(*scratch));
    garbage(&b, decode_instance, scratch, valid_instance);
    /* the REGISTER command around it */
    syn_buf_reset(&b);
    assert_int_equal(reg_cmd_encode_register(&b, 1700000000000ull, in), 0);
    struct reg_cmd *cmd = calloc(1, sizeof(*cmd));
    cmd->instance = scratch;
    garbage(&b, decode_cmd, cmd, valid_cmd);
    syn_buf_free(&b);
    free(cmd);
    free(scratch);
    free(in);
}

static void test_commands(void **state)
{
    (void)state;
    struct syn_buf b;
    syn_buf_init(&b, 0);
    struct reg_instance *storage = calloc(1, sizeof(*storage));
    struct reg_cmd *c = calloc(1, sizeof(*c));
    c->instance = storage;

    assert_int_equal(reg_cmd_encode_deregister(&b, 7, "n2", "db-1"), 0);
    assert_true(reg_cmd_is_registry(b.data, b.len));
    assert_int_equal(reg_cmd_decode(b.data, b.len, c), 0);
    assert_int_equal(c->op, REG_OP_DEREGISTER);
    assert_int_equal(c->now_ms, 7);
    assert_string_equal(c->key.node, "n2");
    assert_string_equal(c->key.id, "db-1");
    garbage(&b, decode_cmd, c, valid_cmd);

    syn_buf_reset(&b);
    assert_int_equal(reg_cmd_encode_check(&b, 8, "n2", "db-1", "db-1:tcp", REG_CRITICAL,
                                          "dial tcp: connection refused"),
                     0);
    assert_int_equal(reg_cmd_decode(b.data, b.len, c), 0);
    assert_int_equal(c->op, REG_OP_CHECK);
    assert_string_equal(c->check_id, "db-1:tcp");
    assert_int_equal(c->status, REG_CRITICAL);
    assert_string_equal(c->output, "dial tcp: connection refused");
    garbage(&b, decode_cmd, c, valid_cmd);

    syn_buf_reset(&b);
    struct reg_node node = {.health = REG_NODE_FAILED};
    snprintf(node.name, sizeof(node.name), "n3");
    snprintf(node.address, sizeof(node.address), "10.0.0.3");
    assert_int_equal(reg_cmd_encode_node(&b, 9, &node), 0);
    assert_int_equal(reg_cmd_decode(b.data, b.len, c), 0);
    assert_int_equal(c->op, REG_OP_NODE);
    assert_string_equal(c->node.name, "n3");
    assert_int_equal(c->node.health, REG_NODE_FAILED);
    garbage(&b, decode_cmd, c, valid_cmd);

    syn_buf_reset(&b);
    struct reg_key keys[3];
    for (int i = 0; i < 3; i++) {
        snprintf(keys[i].node, sizeof(keys[i].node), "n%d", i + 1);
        snprintf(keys[i].id, sizeof(keys[i].id), "tmp-%d", i);
    }
    assert_int_equal(reg_cmd_encode_reap(&b, 10, keys, 3), 0);
    assert_int_equal(reg_cmd_decode(b.data, b.len, c), 0);
    assert_int_equal(c->op, REG_OP_REAP);
    assert_int_equal(c->reap_count, 3);
    assert_string_equal(c->reap[2].id, "tmp-2");
    garbage(&b, decode_cmd, c, valid_cmd);

    /* a KV command is not the registry's */
    const uint8_t kv[] = {1, 1, 0, 0, 0, 0, 0, 0, 0, 0};
    assert_false(reg_cmd_is_registry(kv, sizeof(kv)));
    assert_false(reg_cmd_is_registry(kv, 1));
    syn_buf_free(&b);
    free(c);
    free(storage);
}

static void test_status_and_discovery(void **state)
{
    (void)state;
    struct reg_instance *in = instance_new();
    assert_int_equal(reg_instance_status(in), REG_PASSING);
    assert_true(reg_instance_healthy(in, REG_NODE_ALIVE));
    assert_true(reg_instance_healthy(in, REG_NODE_SUSPECT)); /* suspicion is not failure */
    assert_false(reg_instance_healthy(in, REG_NODE_FAILED));
    in->checks[1].status = REG_WARNING;
    assert_int_equal(reg_instance_status(in), REG_WARNING);
    assert_false(reg_instance_healthy(in, REG_NODE_ALIVE)); /* discovery wants passing */
    in->checks[0].status = REG_CRITICAL;
    assert_int_equal(reg_instance_status(in), REG_CRITICAL);
    in->check_count = 0;
    assert_int_equal(reg_instance_status(in), REG_PASSING); /* no checks: passing */
    free(in);
    uint8_t s = 0;
    assert_int_equal(reg_status_parse("warning", &s), 0);
    assert_int_equal(s, REG_WARNING);
    assert_int_equal(reg_status_parse("sick", &s), SYN_EINVAL);
    assert_string_equal(reg_status_name(REG_CRITICAL), "critical");
    assert_string_equal(reg_health_name(REG_NODE_SUSPECT), "suspect");
    assert_string_equal(reg_check_type_name(REG_CHECK_EXEC), "exec");
}

static void test_node_table(void **state)
{
    (void)state;
    struct reg_node_table *t = calloc(1, sizeof(*t));
    struct reg_node n = {.health = REG_NODE_FAILED};
    snprintf(n.name, sizeof(n.name), "n2");
    snprintf(n.address, sizeof(n.address), "10.0.0.2");
    assert_int_equal(reg_node_table_add(t, &n), 0);
    assert_int_equal(reg_node_table_health(t, "n2"), REG_NODE_FAILED);
    assert_string_equal(reg_node_table_find(t, "n2")->address, "10.0.0.2");
    /* a node nobody reported on: absent, and alive */
    assert_null(reg_node_table_find(t, "n9"));
    assert_int_equal(reg_node_table_health(t, "n9"), REG_NODE_ALIVE);
    /* full: the rest are left out, nothing overflows */
    for (uint32_t i = 0; i < REG_NODE_TABLE_MAX + 10; i++) {
        snprintf(n.name, sizeof(n.name), "x%u", i);
        n.health = REG_NODE_ALIVE;
        assert_int_equal(reg_node_table_add(t, &n), 0);
    }
    assert_int_equal(t->count, REG_NODE_TABLE_MAX);
    assert_int_equal(reg_node_table_health(t, "n2"), REG_NODE_FAILED);
    free(t);
}

static void test_rise_fall(void **state)
{
    (void)state;
    struct reg_health_counter c = {0};
    uint8_t s = REG_PASSING;
    /* fall 3: two failures keep it passing, the third flips it */
    s = reg_health_next(&c, s, REG_CRITICAL, 2, 3);
    s = reg_health_next(&c, s, REG_CRITICAL, 2, 3);
    assert_int_equal(s, REG_PASSING);
    s = reg_health_next(&c, s, REG_CRITICAL, 2, 3);
    assert_int_equal(s, REG_CRITICAL);
    /* rise 2: one success is not enough; a failure in between starts over */
    s = reg_health_next(&c, s, REG_PASSING, 2, 3);
    assert_int_equal(s, REG_CRITICAL);
    s = reg_health_next(&c, s, REG_CRITICAL, 2, 3);
    s = reg_health_next(&c, s, REG_PASSING, 2, 3);
    assert_int_equal(s, REG_CRITICAL);
    s = reg_health_next(&c, s, REG_PASSING, 2, 3);
    assert_int_equal(s, REG_PASSING);
    /* one slow answer among good ones never flaps it */
    for (int i = 0; i < 100; i++) {
        s = reg_health_next(&c, s, i % 10 == 0 ? REG_CRITICAL : REG_PASSING, 2, 3);
        assert_int_equal(s, REG_PASSING);
    }
    /* rise = fall = 1: every result is the status */
    s = reg_health_next(&c, s, REG_WARNING, 1, 1);
    assert_int_equal(s, REG_WARNING);
    s = reg_health_next(&c, s, REG_PASSING, 1, 1);
    assert_int_equal(s, REG_PASSING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_instance_round_trip),
        cmocka_unit_test(test_instance_checks),
        cmocka_unit_test(test_decode_garbage),
        cmocka_unit_test(test_commands),
        cmocka_unit_test(test_status_and_discovery),
        cmocka_unit_test(test_node_table),
        cmocka_unit_test(test_rise_fall),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
