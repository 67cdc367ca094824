/* test_config.c: the agent's flags and config file: the public command line, defaults,
 * file-then-flags precedence, and clear errors for bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "node/config.h"

static int parse(struct node_config *cfg, char *err, const char *line)
{
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s", line);
    char *argv[32];
    int argc = 0;
    for (char *t = strtok(buf, " "); t != NULL && argc < 32; t = strtok(NULL, " ")) {
        argv[argc++] = t;
    }
    return node_config_parse(cfg, argc, argv, err, 256);
}

#define FULL                                                                                 \
    "--id n1 --data-dir /tmp/d1 --peer-addr 127.0.0.1:7001 --resp-addr 127.0.0.1:6001 "      \
    "--http-addr 127.0.0.1:8001 --initial-cluster n1=127.0.0.1:7001,n2=127.0.0.1:7002,"      \
    "n3=127.0.0.1:7003"

static void test_public_command_line(void **state)
{
    (void)state;
    struct node_config cfg;
    char err[256] = "";
    assert_int_equal(parse(&cfg, err, FULL), 0);
    assert_string_equal(cfg.name, "n1");
    assert_int_equal(cfg.id, node_id_from_name("n1"));
    assert_int_equal(cfg.initial_count, 3);
    assert_string_equal(cfg.initial[2].peer_addr, "127.0.0.1:7003");
    assert_int_equal(cfg.tick_ms, 10);
    assert_true(cfg.fsync);
    assert_int_equal(parse(&cfg, err, FULL " --tick-ms=5 --no-fsync"), 0);
    assert_int_equal(cfg.tick_ms, 5);
    assert_false(cfg.fsync);
    assert_int_equal(parse(&cfg, err, "--help"), 1);
}

static void test_errors(void **state)
{
    (void)state;
    struct node_config cfg;
    char err[256];
    assert_int_equal(parse(&cfg, err, "--id n1"), SYN_EINVAL);
    assert_non_null(strstr(err, "--data-dir"));
    assert_int_equal(parse(&cfg, err, FULL " --peer-addr nocolon"), SYN_EINVAL);
    assert_non_null(strstr(err, "HOST:PORT"));
    assert_int_equal(parse(&cfg, err, FULL " --tick-ms 0"), SYN_EINVAL);
    assert_int_equal(parse(&cfg, err, FULL " --bogus 1"), SYN_EINVAL);
    assert_non_null(strstr(err, "unknown option --bogus"));
    assert_int_equal(parse(&cfg, err, FULL " --id n9"), SYN_EINVAL);
    assert_non_null(strstr(err, "does not list this node"));
    assert_int_equal(parse(&cfg, err, FULL " --id n9 --join"), 0);
    assert_int_equal(parse(&cfg, err, FULL " --initial-cluster n1=a:1,n1=b:2"), SYN_EINVAL);
    assert_int_equal(parse(&cfg, err, FULL " --id bad/name"), SYN_EINVAL);
    assert_int_equal(parse(&cfg, err, FULL " --peer-addr 127.0.0.1:70000"), SYN_EINVAL);
}

/* The failure detector's settings: defaults, flags, and the detector's own checks. */
static void test_fd_flags(void **state)
{
    (void)state;
    struct node_config cfg;
    char err[256] = "";
    assert_int_equal(parse(&cfg, err, FULL), 0);
    assert_int_equal(cfg.fd.heartbeat_interval_ms, FD_HEARTBEAT_INTERVAL_MS_DEFAULT);
    assert_int_equal(cfg.fd.hard_timeout_ms, FD_HARD_TIMEOUT_MS_DEFAULT);
    assert_true(cfg.fd.phi_fail == FD_PHI_FAIL_DEFAULT);
    assert_int_equal(parse(&cfg, err,
                           FULL " --fd-interval-ms 250 --fd-phi-suspect 4.5 --fd-phi-fail=12 "
                                "--fd-timeout-ms 9000"),
                     0);
    assert_int_equal(cfg.fd.heartbeat_interval_ms, 250);
    assert_true(cfg.fd.phi_suspect == 4.5);
    assert_true(cfg.fd.phi_fail == 12.0);
    assert_int_equal(cfg.fd.hard_timeout_ms, 9000);
    /* a member never heard from waits at least as long as a silent one */
    assert_int_equal(cfg.fd.first_contact_timeout_ms, 9000);
    assert_int_equal(parse(&cfg, err, FULL " --fd-phi-fail 2"), SYN_EINVAL);
    assert_non_null(strstr(err, "failure detector settings"));
    assert_int_equal(parse(&cfg, err, FULL " --fd-interval-ms 500 --fd-timeout-ms 400"),
                     SYN_EINVAL);
    assert_int_equal(parse(&cfg, err, FULL " --fd-phi-suspect abc"), SYN_EINVAL);
    assert_non_null(strstr(err, "--fd-phi-suspect"));
    assert_int_equal(parse(&cfg, err, FULL " --fd-phi-suspect nan"), SYN_EINVAL);
    assert_int_equal(parse(&cfg, err, FULL " --fd-interval-ms 0"), SYN_EINVAL);
}

static void test_config_file(void **state)
{
    (void)state;
    char path[] = "/tmp/synod-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char text[] = "# a node\nid = n2\ndata-dir = /tmp/d2\npeer-addr = 127.0.0.1:7002\n"
                        "resp-addr = 127.0.0.1:6002\nhttp-addr = 127.0.0.1:8002\n"
                        "initial-cluster = n1=127.0.0.1:7001,n2=127.0.0.1:7002\n"
                        "tick-ms = 20\nlog-json\n";
    assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
    close(fd);
    struct node_config cfg;
    char err[256];
    char line[256];
    snprintf(line, sizeof(line), "--config %s --tick-ms 7", path);
    assert_int_equal(parse(&cfg, err, line), 0);
    assert_string_equal(cfg.name, "n2");
    assert_int_equal(cfg.tick_ms, 7); /* the flag wins over the file */
    assert_true(cfg.log_json);
    FILE *f = fopen(path, "a");
    fputs("nonsense line\n", f);
    fclose(f);
    assert_int_equal(parse(&cfg, err, line), SYN_EINVAL);
    assert_non_null(strstr(err, ":10:"));
    unlink(path);
}

static void test_addr_split(void **state)
{
    (void)state;
    char host[64];
    int port;
    assert_int_equal(node_addr_split("[::1]:7000", host, sizeof(host), &port), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 7000);
    assert_int_equal(node_addr_split("localhost:1", host, sizeof(host), &port), 0);
    assert_int_equal(node_addr_split(":1", host, sizeof(host), &port), SYN_EINVAL);
    assert_int_equal(node_addr_split("h:", host, sizeof(host), &port), SYN_EINVAL);
    assert_int_equal(node_addr_split("h:x1", host, sizeof(host), &port), SYN_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_public_command_line),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_fd_flags),
        cmocka_unit_test(test_config_file),
        cmocka_unit_test(test_addr_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
