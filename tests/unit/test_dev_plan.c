/* test_dev_plan.c: `synod dev`'s plan: options and their errors, each node's ports, paths and
 * agent command line, and reading the leader out of an agent's /v1/status/leader answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "cli/dev_plan.h"

#define ARGS_MAX 16

static int parse(struct dev_plan *plan, char *err, const char *line)
{
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", line);
    char *argv[ARGS_MAX];
    int argc = 0;
    for (char *t = strtok(buf, " "); t != NULL && argc < ARGS_MAX; t = strtok(NULL, " ")) {
        argv[argc++] = t;
    }
    return dev_plan_parse(plan, argc, argv, err, 256);
}

/* The plan of a command line that must parse. */
static void plan_of(struct dev_plan *plan, const char *line)
{
    char err[256] = "";
    int rc = parse(plan, err, line);
    if (rc != 0) {
        fail_msg("'%s': %d, %s", line, rc, err);
    }
}

static void test_defaults(void **state)
{
    (void)state;
    struct dev_plan plan;
    plan_of(&plan, "");
    assert_int_equal(plan.node_count, 3);
    assert_int_equal(plan.wait_s, DEV_PLAN_WAIT_S_DEFAULT);
    assert_false(plan.fresh);
    assert_false(plan.json);
    assert_string_equal(plan.data_dir, "/var/tmp/synod-dev");
    assert_string_equal(plan.nodes[0].name, "n1");
    assert_int_equal(plan.nodes[0].resp_port, 6001);
    assert_int_equal(plan.nodes[2].http_port, 8503);
    assert_string_equal(plan.nodes[1].peer_addr, "127.0.0.1:7002");
    assert_string_equal(plan.nodes[2].data_dir, "/var/tmp/synod-dev/n3");
    assert_string_equal(plan.nodes[2].log_path, "/var/tmp/synod-dev/n3.log");
    assert_string_equal(plan.initial_cluster,
                        "n1=127.0.0.1:7001,n2=127.0.0.1:7002,n3=127.0.0.1:7003");
    assert_string_equal(plan.http_addrs, "127.0.0.1:8501,127.0.0.1:8502,127.0.0.1:8503");
    char err[256] = "";
    assert_int_equal(parse(&plan, err, "--nodes 1 --help"), 1);
}

static void test_options(void **state)
{
    (void)state;
    struct dev_plan plan;
    plan_of(&plan, "--nodes=7 --port-offset 10000 --data-dir d --fresh --json --wait 2");
    assert_int_equal(plan.node_count, 7);
    assert_true(plan.fresh);
    assert_true(plan.json);
    assert_int_equal(plan.wait_s, 2);
    assert_int_equal(plan.nodes[0].resp_port, 16001);
    assert_int_equal(plan.nodes[0].http_port, 18501);
    assert_int_equal(plan.nodes[6].peer_port, 17007);
    assert_string_equal(plan.nodes[6].name, "n7");
    assert_string_equal(plan.nodes[6].log_path, "d/n7.log");
    assert_int_equal(strlen(plan.http_addrs), 7 * strlen("127.0.0.1:18501") + 6);
    /* The highest offset still gives ports. */
    plan_of(&plan, "--nodes 7 --port-offset 50000");
    assert_int_equal(plan.nodes[6].http_port, 58507);
}

static void test_errors(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        const char *says;
    } cases[] = {
        {"--nodes 0", "--nodes: expected a number from 1 to 7, got '0'"},
        {"--nodes 8", "from 1 to 7"},
        {"--nodes three", "got 'three'"},
        {"--nodes -1", "got '-1'"},
        {"--port-offset 50001", "--port-offset: expected a number from 0 to 50000"},
        {"--wait 0", "--wait"},
        {"--nodes", "--nodes needs a value"},
        {"--data-dir=", "--data-dir: empty"},
        {"--bogus", "unknown option '--bogus'"},
        {"--bogus=1", "unknown option '--bogus=1'"},
        {"--a-very-long-option-name-indeed-yes=1", "unknown option"},
        {"n1", "unexpected argument 'n1'"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct dev_plan plan;
        char err[256] = "";
        assert_int_equal(parse(&plan, err, cases[i].line), SYN_EINVAL);
        if (strstr(err, cases[i].says) == NULL) {
            fail_msg("'%s': said '%s', wanted '%s'", cases[i].line, err, cases[i].says);
        }
    }
}

static void test_layout(void **state)
{
    (void)state;
    struct dev_plan plan;
    plan_of(&plan, "--nodes 2 --data-dir rel");
    assert_int_equal(dev_plan_layout(&plan, "/abs/rel"), 0);
    assert_string_equal(plan.data_dir, "/abs/rel");
    assert_string_equal(plan.nodes[1].data_dir, "/abs/rel/n2");
    assert_int_equal(dev_plan_layout(&plan, plan.data_dir), 0); /* its own path: unchanged */
    assert_string_equal(plan.nodes[0].log_path, "/abs/rel/n1.log");
    char long_dir[DEV_PLAN_DIR_SIZE_MAX + 1];
    memset(long_dir, 'x', sizeof(long_dir) - 1);
    long_dir[sizeof(long_dir) - 1] = '\0';
    assert_int_equal(dev_plan_layout(&plan, long_dir), SYN_EINVAL);
    assert_int_equal(dev_plan_layout(&plan, ""), SYN_EINVAL);
    long_dir[sizeof(long_dir) - 2] = '\0'; /* the longest that fits */
    assert_int_equal(dev_plan_layout(&plan, long_dir), 0);
    assert_non_null(strstr(plan.nodes[1].log_path, "/n2.log"));
}

static void test_agent_argv(void **state)
{
    (void)state;
    struct dev_plan plan;
    plan_of(&plan, "--nodes 2 --data-dir /d");
    char *argv[DEV_PLAN_AGENT_ARGC + 1];
    dev_plan_agent_argv(&plan, 1, "/bin/synod", argv);
    char line[1024] = "";
    for (size_t k = 0; k < DEV_PLAN_AGENT_ARGC; k++) {
        assert_non_null(argv[k]);
        strcat(line, k == 0 ? "" : " ");
        strcat(line, argv[k]);
    }
    assert_string_equal(line, "/bin/synod agent --id n2 --data-dir /d/n2 --peer-addr "
                              "127.0.0.1:7002 --resp-addr 127.0.0.1:6002 --http-addr "
                              "127.0.0.1:8502 --dns-addr 127.0.0.1:8602 --initial-cluster "
                              "n1=127.0.0.1:7001,n2=127.0.0.1:7002");
    assert_null(argv[DEV_PLAN_AGENT_ARGC]);
}

static int leader(const struct dev_plan *plan, const char *body)
{
    return dev_plan_leader_index(plan, body, strlen(body));
}

static void test_leader_index(void **state)
{
    (void)state;
    struct dev_plan plan;
    plan_of(&plan, "");
    assert_int_equal(leader(&plan, "\"127.0.0.1:7002\"\n"), 1);
    assert_int_equal(leader(&plan, " \"127.0.0.1:7003\""), 2);
    assert_int_equal(leader(&plan, "\"\"\n"), SYN_ENOLEADER);
    assert_int_equal(leader(&plan, "\"127.0.0.1:7004\""), SYN_EUNKNOWNNODE);
    assert_int_equal(leader(&plan, "\"127.0.0.1:700\""), SYN_EUNKNOWNNODE);
    assert_int_equal(leader(&plan, ""), SYN_EBADMSG);
    assert_int_equal(leader(&plan, "null"), SYN_EBADMSG);
    assert_int_equal(leader(&plan, "\"127.0.0.1:7001"), SYN_EBADMSG);
    assert_int_equal(leader(&plan, "\"127.0.0.1\\u003a7001\""), SYN_EBADMSG);
    /* Only size bytes count: a quote past them is not there. */
    assert_int_equal(dev_plan_leader_index(&plan, "\"127.0.0.1:7001\"", 15), SYN_EBADMSG);
}

static void test_stamp(void **state)
{
    (void)state;
    struct dev_plan plan;
    char a[DEV_PLAN_STAMP_SIZE_MAX];
    char b[DEV_PLAN_STAMP_SIZE_MAX];
    plan_of(&plan, "--data-dir /x");
    dev_plan_stamp(&plan, a);
    assert_string_equal(a, "nodes 3, port offset 0\n");
    plan_of(&plan, "--data-dir /y --fresh --json");
    dev_plan_stamp(&plan, b);
    assert_string_equal(a, b); /* the same cluster, whatever the other options */
    plan_of(&plan, "--port-offset 1");
    dev_plan_stamp(&plan, b);
    assert_string_not_equal(a, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),   cmocka_unit_test(test_options),
        cmocka_unit_test(test_errors),     cmocka_unit_test(test_layout),
        cmocka_unit_test(test_agent_argv), cmocka_unit_test(test_leader_index),
        cmocka_unit_test(test_stamp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
