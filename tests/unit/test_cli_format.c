/* test_cli_format.c: what the CLI shows and how it reads its arguments, pure: tables and
 * escaped bytes, the common options, a node's status read, merged with the leader's match
 * indexes and written as text and JSON, and Consul KV targets and answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "base/err.h"
#include "cli/cli_kv.h"
#include "cli/cli_opts.h"
#include "cli/cli_out.h"
#include "cli/cli_status.h"

static void assert_buf(struct syn_buf *b, const char *want)
{
    if (b->len != strlen(want) || memcmp(b->data, want, b->len) != 0) {
        fail_msg("got:\n%.*s\nwant:\n%s", (int)b->len, (const char *)b->data, want);
    }
}

static void test_table(void **state)
{
    (void)state;
    struct cli_table t;
    cli_table_init(&t, 3);
    cli_table_add(&t, "NAME");
    cli_table_add(&t, "ROLE");
    cli_table_add(&t, "LAG");
    cli_table_add(&t, "n1");
    cli_table_add(&t, "%s", "learner");
    cli_table_add(&t, "%d", 12);
    cli_table_add(&t, "node-long");
    cli_table_add(&t, "voter");
    cli_table_add(&t, "%s", ""); /* an empty last cell leaves no blanks behind */
    cli_table_add(&t, "x");      /* a row not full */
    struct syn_buf b;
    syn_buf_init(&b, 0);
    assert_int_equal(cli_table_format(&t, &b), 0);
    assert_buf(&b, "NAME       ROLE     LAG\n"
                   "n1         learner  12\n"
                   "node-long  voter\n"
                   "x\n");
    cli_table_free(&t);
    syn_buf_reset(&b);
    const char *bytes = "a\\b\nc\td\re\x01\x7f\xc3\xa9";
    assert_int_equal(cli_out_escape(&b, (const uint8_t *)bytes, strlen(bytes)), 0);
    assert_buf(&b, "a\\\\b\\nc\\td\\re\\x01\\x7f\xc3\xa9");
    syn_buf_free(&b);
}

static void test_opts(void **state)
{
    (void)state;
    bool learner = false, cas = false;
    const char *cas_value = NULL;
    const struct cli_flag flags[] = {{"learner", &learner, NULL}, {"cas", &cas, &cas_value}};
    char *argv[] = {"add",       "--json",    "n4",  "--addr=h1:1,h2:2",
                    "--learner", "--timeout", "250", "--cas",
                    "7",         "-",         "-5",  "--",
                    "--x"};
    struct cli_opts o;
    char err[CLI_ERR_SIZE];
    assert_int_equal(cli_opts_parse(&o, "t", 13, argv, flags, 2, NULL, err, sizeof(err)), 0);
    assert_true(o.json);
    assert_false(o.help);
    assert_true(learner);
    assert_true(cas);
    assert_string_equal(cas_value, "7");
    assert_int_equal(o.timeout_ms, 250);
    assert_int_equal(o.addr_count, 2);
    assert_string_equal(o.addrs[0], "h1:1");
    assert_string_equal(o.addrs[1], "h2:2");
    assert_int_equal(o.arg_count, 5);
    assert_string_equal(o.args[0], "add");
    assert_string_equal(o.args[1], "n4");
    assert_string_equal(o.args[2], "-");
    assert_string_equal(o.args[3], "-5");
    assert_string_equal(o.args[4], "--x");
    /* defaults: the environment, else the `synod dev` ports */
    assert_int_equal(cli_opts_parse(&o, "t", 0, argv, NULL, 0, "e:1", err, sizeof(err)), 0);
    assert_int_equal(o.addr_count, 1);
    assert_string_equal(o.addrs[0], "e:1");
    assert_int_equal(o.timeout_ms, CLI_TIMEOUT_MS_DEFAULT);
    assert_int_equal(cli_opts_parse(&o, "t", 0, argv, NULL, 0, "", err, sizeof(err)), 0);
    assert_int_equal(o.addr_count, 3);
    assert_string_equal(o.addrs[2], "127.0.0.1:8503");
    static const struct {
        int argc;
        char *argv[2];
        const char *why;
    } bad[] = {
        {1, {"--bogus"}, "unknown option '--bogus'"},
        {1, {"--timeout"}, "--timeout needs a value"},
        {2, {"--timeout", "0"}, "--timeout: expected milliseconds, 1 to 600000"},
        {1, {"--timeout=x"}, "--timeout: expected milliseconds, 1 to 600000"},
        {1, {"--json=1"}, "--json takes no value"},
        {1, {"--learner=1"}, "--learner takes no value"},
        {1, {"--addr="}, "--addr: no address given"},
        {1, {"--cas"}, "--cas needs a value"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char **args = (char **)bad[i].argv;
        assert_int_equal(
            cli_opts_parse(&o, "t", bad[i].argc, args, flags, 2, NULL, err, sizeof(err)),
            SYN_EINVAL);
        assert_string_equal(err, bad[i].why);
    }
    uint64_t v;
    assert_true(cli_u64_parse("18446744073709551615", UINT64_MAX, &v));
    assert_false(cli_u64_parse("18446744073709551616", UINT64_MAX, &v));
    assert_false(cli_u64_parse("11", 10, &v));
    assert_false(cli_u64_parse("", 10, &v));
    assert_false(cli_u64_parse("-1", 10, &v));
}

#define FOLLOWER_STATUS                                                                            \
    "{\"node\":\"n1\",\"id\":\"11\",\"role\":\"follower\",\"term\":3,\"leader\":\"n2\","           \
    "\"commit_index\":10,\"applied_index\":9,\"last_index\":10,\"snapshot_index\":0,"              \
    "\"serving\":true,\"members\":["                                                               \
    "{\"name\":\"n1\",\"id\":\"11\",\"peer_addr\":\"h:1\",\"voter\":true,\"leader\":false,"        \
    "\"self\":true,\"match_index\":null,\"lag\":null},"                                            \
    "{\"name\":\"n2\",\"id\":\"22\",\"peer_addr\":\"h:2\",\"voter\":true,\"leader\":true,"         \
    "\"self\":false,\"match_index\":null,\"lag\":null},"                                           \
    "{\"name\":\"n4\",\"id\":\"44\",\"peer_addr\":\"h:4\",\"voter\":false,\"leader\":false,"       \
    "\"self\":false,\"health\":\"suspect\",\"last_heard_ms\":900,\"match_index\":null,"           \
    "\"lag\":null}]}"

#define LEADER_STATUS                                                                              \
    "{\"node\":\"n2\",\"id\":\"22\",\"role\":\"leader\",\"term\":3,\"leader\":\"n2\","             \
    "\"commit_index\":12,\"applied_index\":12,\"last_index\":12,\"snapshot_index\":5,"             \
    "\"serving\":true,\"members\":["                                                               \
    "{\"name\":\"n2\",\"id\":\"22\",\"peer_addr\":\"h:2\",\"voter\":true,\"leader\":true,"         \
    "\"self\":true,\"match_index\":12,\"lag\":0},"                                                 \
    "{\"name\":\"n4\",\"id\":\"44\",\"peer_addr\":\"h:4\",\"voter\":false,\"leader\":false,"       \
    "\"self\":false,\"match_index\":4,\"lag\":8}]}"

static void test_status(void **state)
{
    (void)state;
    static struct cli_status st, leader; /* large: not on the stack */
    const char *text = FOLLOWER_STATUS;
    assert_int_equal(cli_status_parse((const uint8_t *)text, strlen(text), &st), 0);
    assert_false(cli_status_is_leader(&st));
    assert_int_equal(st.member_count, 3);
    assert_string_equal(st.match_from, "");
    text = LEADER_STATUS;
    assert_int_equal(cli_status_parse((const uint8_t *)text, strlen(text), &leader), 0);
    assert_true(cli_status_is_leader(&leader));
    assert_string_equal(leader.match_from, "n2");
    cli_status_merge(&st, &leader);
    struct syn_buf b;
    syn_buf_init(&b, 0);
    assert_int_equal(cli_status_text(&st, true, &b), 0);
    assert_buf(&b, "node n1: follower, term 3, leader n2\n"
                   "commit index 10, applied index 9, last index 10, snapshot index 0\n"
                   "match indexes and lags as leader n2 knows them\n"
                   "\n"
                   "NAME            ID  PEER ADDRESS  ROLE     LEADER  HEALTH   LAST HEARD  MATCH INDEX  LAG\n"
                   "n1 (this node)  11  h:1           voter            -        -           -            -\n"
                   "n2              22  h:2           voter    *       -        -           12           0\n"
                   "n4              44  h:4           learner          suspect  900 ms ago  4            8\n");
    syn_buf_reset(&b);
    assert_int_equal(cli_status_json(&st, &b), 0);
    assert_buf(&b, "{\"node\":\"n1\",\"id\":\"11\",\"role\":\"follower\",\"term\":3,"
                   "\"leader\":\"n2\",\"commit_index\":10,\"applied_index\":9,\"last_index\":10,"
                   "\"snapshot_index\":0,\"serving\":true,\"match_from\":\"n2\",\"members\":["
                   "{\"name\":\"n1\",\"id\":\"11\",\"peer_addr\":\"h:1\",\"voter\":true,"
                   "\"leader\":false,\"self\":true,\"health\":\"unknown\",\"last_heard_ms\":0,"
                   "\"match_index\":null,\"lag\":null},"
                   "{\"name\":\"n2\",\"id\":\"22\",\"peer_addr\":\"h:2\",\"voter\":true,"
                   "\"leader\":true,\"self\":false,\"health\":\"unknown\",\"last_heard_ms\":0,"
                   "\"match_index\":12,\"lag\":0},"
                   "{\"name\":\"n4\",\"id\":\"44\",\"peer_addr\":\"h:4\",\"voter\":false,"
                   "\"leader\":false,\"self\":false,\"health\":\"suspect\",\"last_heard_ms\":900,"
                   "\"match_index\":4,\"lag\":8}]}\n");
    /* what the CLI wrote, it reads back the same */
    static struct cli_status again;
    assert_int_equal(cli_status_parse(b.data, b.len, &again), 0);
    assert_int_equal(again.members[2].lag, 8);
    syn_buf_free(&b);
    const char *bad[] = {"{}", "[]", "{\"node\":\"n1\"}", "nonsense"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(cli_status_parse((const uint8_t *)bad[i], strlen(bad[i]), &st),
                         SYN_EBADMSG);
    }
}

static void test_kv(void **state)
{
    (void)state;
    struct syn_buf b;
    syn_buf_init(&b, 0);
    const char *params[] = {"raw", "cas=5"};
    assert_int_equal(cli_kv_target(&b, "app/a b", params, 2), 0);
    assert_string_equal((const char *)b.data, "/v1/kv/app/a%20b?raw&cas=5");
    syn_buf_reset(&b);
    assert_int_equal(cli_kv_target(&b, "", NULL, 0), 0);
    assert_string_equal((const char *)b.data, "/v1/kv/");
    assert_int_equal(cli_kv_result((const uint8_t *)"true\n", 5), 1);
    assert_int_equal(cli_kv_result((const uint8_t *)" false", 6), 0);
    assert_int_equal(cli_kv_result((const uint8_t *)"yes", 3), SYN_EBADMSG);
    syn_buf_reset(&b);
    const char *keys = "[\"a\",\"b/c\",\"new\\nline\"]";
    assert_int_equal(cli_kv_keys_text((const uint8_t *)keys, strlen(keys), &b), 0);
    assert_buf(&b, "a\nb/c\nnew\\nline\n");
    syn_buf_reset(&b);
    const char *entries =
        "[{\"Key\":\"a\",\"Value\":\"aGVsbG8=\",\"Flags\":0,\"CreateIndex\":3,"
        "\"ModifyIndex\":4,\"LockIndex\":0},"
        "{\"Key\":\"b\",\"Value\":null,\"Flags\":42,\"CreateIndex\":5,\"ModifyIndex\":5,"
        "\"LockIndex\":0},{\"Key\":\"c\",\"Value\":\"AQ==\",\"Flags\":1}]";
    assert_int_equal(cli_kv_entries_text((const uint8_t *)entries, strlen(entries), &b), 0);
    assert_buf(&b, "KEY  FLAGS  VALUE\n"
                   "a    0      hello\n"
                   "b    42\n"
                   "c    1      \\x01\n");
    const char *bad[] = {"{}", "[1]", "[{\"Key\":\"a\",\"Value\":\"!!\"}]",
                         "[{\"Key\":\"a\",\"Value\":7}]", "[{\"Value\":null}]"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        syn_buf_reset(&b);
        if (cli_kv_entries_text((const uint8_t *)bad[i], strlen(bad[i]), &b) != SYN_EBADMSG) {
            fail_msg("entries case %zu accepted", i);
        }
    }
    syn_buf_reset(&b);
    assert_int_equal(cli_kv_keys_text((const uint8_t *)"[1]", 3, &b), SYN_EBADMSG);
    syn_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_opts),
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_kv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
