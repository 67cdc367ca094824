/* test_resp.c: the RESP parser against Redis's behaviour (multibulk, inline, sdssplitargs
 * quoting, the exact protocol error sentences), pipelining, resumption at every byte
 * boundary, synod's limits, a random encode-then-parse property, and the reply encoders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "api/resp.h"
#include "base/err.h"
#include "base/prng.h"

/* One connection's parser with room for every argument. */
struct parser {
    struct resp_arg args[SYN_RESP_ARGS_MAX];
    struct syn_buf scratch;
    struct resp_command cmd;
};

static struct parser *parser_new(void)
{
    struct parser *p = calloc(1, sizeof(*p));
    assert_non_null(p);
    syn_buf_init(&p->scratch, SYN_RESP_INLINE_SIZE_MAX);
    resp_command_init(&p->cmd, p->args, SYN_RESP_ARGS_MAX, &p->scratch);
    return p;
}

static void parser_free(struct parser *p)
{
    syn_buf_free(&p->scratch);
    free(p);
}

/* Parses a whole string with a fresh parser, from a copy of exactly its bytes. */
static int parse_str(struct parser *p, const char *s, size_t size, size_t *used)
{
    resp_command_reset(&p->cmd);
    uint8_t *copy = malloc(size + 1);
    assert_non_null(copy);
    memcpy(copy, s, size);
    int rc = resp_parse(copy, size, &p->cmd, used);
    free(copy);
    return rc;
}

/* Expects data to be one complete command with these arguments ("|"-separated). */
static void expect_command(const char *data, size_t size, const char *const *want,
                           uint32_t want_count)
{
    struct parser *p = parser_new();
    size_t used = 0;
    int rc = resp_parse((const uint8_t *)data, size, &p->cmd, &used);
    assert_int_equal(rc, 0);
    assert_int_equal(used, size);
    assert_int_equal(p->cmd.arg_count, want_count);
    for (uint32_t i = 0; i < want_count; i++) {
        assert_int_equal(p->cmd.args[i].size, strlen(want[i]));
        assert_memory_equal(p->cmd.args[i].data, want[i], strlen(want[i]));
    }
    parser_free(p);
}

#define EXPECT(data, ...)                                                                          \
    do {                                                                                           \
        const char *const want_[] = {__VA_ARGS__};                                                 \
        expect_command(data, sizeof(data) - 1, want_, sizeof(want_) / sizeof(want_[0]));           \
    } while (0)

static void expect_error(const char *data, size_t size, int rc_want, const char *why)
{
    struct parser *p = parser_new();
    size_t used = 0;
    int rc = parse_str(p, data, size, &used);
    assert_int_equal(rc, rc_want);
    assert_string_equal(p->cmd.errmsg, why);
    assert_int_equal(used, 0);
    parser_free(p);
}

#define EXPECT_ERROR(data, rc, why) expect_error(data, sizeof(data) - 1, rc, why)

/* Expects data to be one empty command (executes nothing), consumed whole. */
static void expect_empty(const char *data, size_t size)
{
    struct parser *p = parser_new();
    size_t used = 0;
    assert_int_equal(parse_str(p, data, size, &used), 0);
    assert_int_equal(used, size);
    assert_int_equal(p->cmd.arg_count, 0);
    parser_free(p);
}

#define EXPECT_EMPTY(data) expect_empty(data, sizeof(data) - 1)

static void expect_incomplete(const char *data, size_t size)
{
    struct parser *p = parser_new();
    size_t used = 0;
    assert_int_equal(parse_str(p, data, size, &used), RESP_INCOMPLETE);
    assert_true(p->cmd.size_needed > size);
    parser_free(p);
}

/* ---- Requests ------------------------------------------------------------------------ */

static void test_multibulk(void **state)
{
    (void)state;
    EXPECT("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n", "SET", "key", "value");
    EXPECT("*1\r\n$4\r\nPING\r\n", "PING");
    EXPECT("*2\r\n$3\r\nGET\r\n$0\r\n\r\n", "GET", "");
    struct parser *p = parser_new();
    size_t used = 0;
    /* bulk data is binary: CR, LF, NUL, '*' and '$' inside are data */
    static const char binary[] = "*2\r\n$4\r\nECHO\r\n$6\r\n\r\n\0*$\n\r\n";
    assert_int_equal(parse_str(p, binary, sizeof(binary) - 1, &used), 0);
    assert_int_equal(used, sizeof(binary) - 1);
    assert_int_equal(p->cmd.arg_count, 2);
    assert_int_equal(p->cmd.args[1].size, 6);
    assert_memory_equal(p->cmd.args[1].data, "\r\n\0*$\n", 6);
    parser_free(p);
    /* empty commands: Redis consumes "*0" and "*-1" and executes nothing */
    EXPECT_EMPTY("*0\r\n");
    EXPECT_EMPTY("*-1\r\n");
    EXPECT_EMPTY("*-9223372036854775808\r\n");
}

static void test_inline(void **state)
{
    (void)state;
    EXPECT("PING\r\n", "PING");
    EXPECT("PING\n", "PING");
    EXPECT("SET key value\r\n", "SET", "key", "value");
    EXPECT("  SET\t key  \t value   \r\n", "SET", "key", "value");
    EXPECT("GET a\r\r\n", "GET", "a"); /* the CR before LF goes; another is a blank */
    /* sdssplitargs() ends a token only at space, tab, CR, LF and NUL, but skips every
     * isspace() blank between tokens */
    EXPECT("a\vb \fc\r\n", "a\vb", "c");
    EXPECT("$3 *2\r\n", "$3", "*2");
    /* a NUL ends the line for sdssplitargs() */
    EXPECT("GET a\0 b c\r\n", "GET", "a");
    /* blank lines are empty commands */
    EXPECT_EMPTY("\r\n");
    EXPECT_EMPTY(" \t \n");
    EXPECT_EMPTY("\n");
}

/* Redis's sdssplitargs() rules, case by case. */
static void test_inline_quotes(void **state)
{
    (void)state;
    EXPECT("SET \"a b\" 'c d'\r\n", "SET", "a b", "c d");
    EXPECT("\"\"\r\n", "");
    EXPECT("''\r\n", "");
    EXPECT("\"\\x41\\x4a\\x7e\" \"\\n\\r\\t\\b\\a\"\r\n", "AJ~", "\n\r\t\b\a");
    EXPECT("\"\\q\\\\\\\"\"\r\n", "q\\\"");          /* unknown escapes give the character */
    EXPECT("\"\\x4g\"\r\n", "x4g");                  /* not a hex escape */
    EXPECT("'it\\'s' 'a\\nb'\r\n", "it's", "a\\nb"); /* in '...', only \' escapes */
    EXPECT("foo\"bar baz\"\r\n", "foobar baz");      /* a quote inside a token opens */
    EXPECT("a'b c' d\r\n", "ab c", "d");
    EXPECT("\"a\"\vb\r\n", "a", "b"); /* after a closing quote, any isspace() */
    EXPECT("\"tab\there\"\r\n", "tab\there");
    EXPECT("\"\\\"\"\r\n", "\"");
    struct parser *p = parser_new();
    size_t used = 0;
    assert_int_equal(parse_str(p, "\"\\x00z\"\n", 9, &used), 0);
    assert_int_equal(p->cmd.args[0].size, 2);
    assert_memory_equal(p->cmd.args[0].data, "\0z", 2);
    parser_free(p);
}

static void test_inline_quote_errors(void **state)
{
    (void)state;
    const char *why = "Protocol error: unbalanced quotes in request";
    EXPECT_ERROR("\"abc\r\n", SYN_EPROTO, why);
    EXPECT_ERROR("'abc\r\n", SYN_EPROTO, why);
    EXPECT_ERROR("\"a\"b\r\n", SYN_EPROTO, why); /* closing quote glued to more */
    EXPECT_ERROR("'a'b\r\n", SYN_EPROTO, why);
    EXPECT_ERROR("\"abc\\\"\r\n", SYN_EPROTO, why);
    EXPECT_ERROR("\"abc\\\r\n", SYN_EPROTO, why);     /* backslash at the end */
    EXPECT_ERROR("SET \"a\0\"\r\n", SYN_EPROTO, why); /* the NUL ends the line first */
}

#define MB "Protocol error: invalid multibulk length"
#define BULK "Protocol error: invalid bulk length"
#define CRLF_AFTER "Protocol error: expected CRLF after bulk data"

static void test_protocol_errors(void **state)
{
    (void)state;
    static const struct {
        const char *data;
        int rc;
        const char *why;
    } cases[] = {
        {"*abc\r\n", SYN_EPROTO, MB},
        {"*\r\n", SYN_EPROTO, MB},
        {"*01\r\n", SYN_EPROTO, MB},
        {"*-0\r\n", SYN_EPROTO, MB},
        {"*-\r\n", SYN_EPROTO, MB},
        {"*+1\r\n", SYN_EPROTO, MB},
        {"* 1\r\n", SYN_EPROTO, MB},
        {"*1-\r\n", SYN_EPROTO, MB},
        {"*3\n", SYN_EPROTO, MB},                     /* bare LF: refused, not awaited */
        {"*3\rX", SYN_EPROTO, MB},                    /* CR without LF */
        {"*9223372036854775808\r\n", SYN_EPROTO, MB}, /* overflows */
        {"*123456789012345678901", SYN_EPROTO, MB},   /* no number is this long */
        {"*4097\r\n", SYN_ETOOBIG, MB},               /* over SYN_RESP_ARGS_MAX */
        {"*1\r\nx", SYN_EPROTO, "Protocol error: expected '$', got 'x'"},
        {"*1\r\n:1\r\n", SYN_EPROTO, "Protocol error: expected '$', got ':'"},
        {"*1\r\n\r\n", SYN_EPROTO, "Protocol error: expected '$', got ' '"},
        {"*2\r\n$1\r\na\r\n*1\r\n", SYN_EPROTO, "Protocol error: expected '$', got '*'"},
        {"*1\r\n$abc\r\n", SYN_EPROTO, BULK},
        {"*1\r\n$-1\r\n", SYN_EPROTO, BULK},
        {"*1\r\n$01\r\n", SYN_EPROTO, BULK},
        {"*1\r\n$\r\n", SYN_EPROTO, BULK},
        {"*1\r\n$2\rX", SYN_EPROTO, BULK},
        {"*1\r\n$1048577000000\r\n", SYN_ETOOBIG, BULK},
        {"*1\r\n$3\r\nfooXY", SYN_EPROTO, CRLF_AFTER},
        {"*1\r\n$3\r\nfoo\rX", SYN_EPROTO, CRLF_AFTER},
        {"*1\r\n$3\r\nfoo\n\r", SYN_EPROTO, CRLF_AFTER},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        expect_error(cases[i].data, strlen(cases[i].data), cases[i].rc, cases[i].why);
    }
    /* lengths at the limits */
    char line[64];
    memcpy(line, "*1\r\n$", 5);
    size_t n = 5;
    uint64_t over = SYN_RESP_REQUEST_SIZE_MAX + 1ull;
    char digits[24];
    int d = 0;
    for (uint64_t v = over; v > 0; v /= 10) {
        digits[d++] = (char)('0' + v % 10);
    }
    while (d > 0) {
        line[n++] = digits[--d];
    }
    memcpy(line + n, "\r\n", 2);
    expect_error(line, n + 2, SYN_ETOOBIG, BULK);
    /* a legal bulk length that takes the command past SYN_RESP_REQUEST_SIZE_MAX */
    memcpy(line, "*2\r\n$1048570\r\n", 15);
    expect_incomplete(line, 15);
    _Static_assert(SYN_RESP_REQUEST_SIZE_MAX == 1114112u, "the case below is at the limit");
    EXPECT_ERROR("*2\r\n$1\r\na\r\n$1114110\r\n", SYN_ETOOBIG,
                 "Protocol error: too big multibulk request");
}

static void test_inline_limits(void **state)
{
    (void)state;
    size_t max = SYN_RESP_INLINE_SIZE_MAX;
    char *line = malloc(max + 3);
    assert_non_null(line);
    memset(line, 'a', max + 3);
    struct parser *p = parser_new();
    size_t used = 0;
    /* exactly the longest line, with CRLF or LF */
    memcpy(line + max, "\r\n", 2);
    assert_int_equal(parse_str(p, line, max + 2, &used), 0);
    assert_int_equal(used, max + 2);
    assert_int_equal(p->cmd.args[0].size, max);
    line[max] = '\n';
    assert_int_equal(parse_str(p, line, max + 1, &used), 0);
    /* one byte more */
    line[max] = 'a';
    line[max + 1] = '\n';
    assert_int_equal(parse_str(p, line, max + 2, &used), SYN_ETOOBIG);
    assert_string_equal(p->cmd.errmsg, "Protocol error: too big inline request");
    memset(line, 'a', max + 3);
    assert_int_equal(parse_str(p, line, max + 1, &used), RESP_INCOMPLETE);
    assert_int_equal(parse_str(p, line, max + 2, &used), SYN_ETOOBIG);
    assert_string_equal(p->cmd.errmsg, "Protocol error: too big inline request");

    /* SYN_RESP_ARGS_MAX arguments, then one more */
    for (size_t i = 0; i < 2 * SYN_RESP_ARGS_MAX; i += 2) {
        line[i] = 'x';
        line[i + 1] = ' ';
    }
    line[2 * SYN_RESP_ARGS_MAX] = '\n';
    assert_int_equal(parse_str(p, line, 2 * SYN_RESP_ARGS_MAX + 1, &used), 0);
    assert_int_equal(p->cmd.arg_count, SYN_RESP_ARGS_MAX);
    line[2 * SYN_RESP_ARGS_MAX] = 'y';
    line[2 * SYN_RESP_ARGS_MAX + 1] = '\n';
    assert_int_equal(parse_str(p, line, 2 * SYN_RESP_ARGS_MAX + 2, &used), SYN_ETOOBIG);
    assert_string_equal(p->cmd.errmsg, "Protocol error: too many arguments in inline request");
    parser_free(p);
    free(line);
}

/* The largest requests synod accepts: SYN_RESP_ARGS_MAX arguments; one bulk as large as
 * SYN_RESP_REQUEST_SIZE_MAX allows. */
static void test_multibulk_limits(void **state)
{
    (void)state;
    struct syn_buf b;
    syn_buf_init(&b, 0);
    static struct resp_arg args[SYN_RESP_ARGS_MAX];
    for (uint32_t i = 0; i < SYN_RESP_ARGS_MAX; i++) {
        args[i] = (struct resp_arg){.data = (const uint8_t *)"arg", .size = i % 4};
    }
    assert_int_equal(resp_append_command(&b, args, SYN_RESP_ARGS_MAX), 0);
    struct parser *p = parser_new();
    size_t used = 0;
    assert_int_equal(resp_parse(b.data, b.len, &p->cmd, &used), 0);
    assert_int_equal(used, b.len);
    assert_int_equal(p->cmd.arg_count, SYN_RESP_ARGS_MAX);
    assert_int_equal(p->cmd.args[4095].size, 3);

    /* "*1\r\n$<7 digits>\r\n" + data + "\r\n": exactly SYN_RESP_REQUEST_SIZE_MAX bytes */
    size_t data_size = SYN_RESP_REQUEST_SIZE_MAX - 4 - 10 - 2;
    uint8_t *big = calloc(1, data_size + 1);
    assert_non_null(big);
    syn_buf_reset(&b);
    struct resp_arg one = {.data = big, .size = data_size};
    assert_int_equal(resp_append_command(&b, &one, 1), 0);
    assert_int_equal(b.len, SYN_RESP_REQUEST_SIZE_MAX);
    assert_int_equal(resp_parse(b.data, b.len, &p->cmd, &used), 0);
    assert_int_equal(p->cmd.args[0].size, data_size);
    syn_buf_reset(&b);
    one.size++;
    assert_int_equal(resp_append_command(&b, &one, 1), 0);
    assert_int_equal(resp_parse(b.data, b.len, &p->cmd, &used), SYN_ETOOBIG);
    assert_string_equal(p->cmd.errmsg, "Protocol error: too big multibulk request");

    /* a smaller args array lowers the argument limit */
    struct resp_arg few[2];
    struct resp_command cmd;
    resp_command_init(&cmd, few, 2, &p->scratch);
    assert_int_equal(resp_parse((const uint8_t *)"*3\r\n", 4, &cmd, &used), SYN_ETOOBIG);
    assert_int_equal(resp_parse((const uint8_t *)"a b c\n", 6, &cmd, &used), SYN_ETOOBIG);
    assert_int_equal(resp_parse((const uint8_t *)"a b\n", 4, &cmd, &used), 0);
    free(big);
    parser_free(p);
    syn_buf_free(&b);
}

/* Several commands in one buffer, parsed one at a time. */
static void test_pipelined(void **state)
{
    (void)state;
    static const char buf[] = "*1\r\n$4\r\nPING\r\n"
                              "SET a \"b c\"\r\n"
                              "\r\n"
                              "*0\r\n"
                              "*2\r\n$3\r\nGET\r\n$1\r\na\r\n"
                              "PING\n"
                              "*1\r\n$4\r\nPI";
    const char *want[][3] = {{"PING"}, {"SET", "a", "b c"}, {NULL}, {NULL}, {"GET", "a"}, {"PING"}};
    uint32_t want_count[] = {1, 3, 0, 0, 2, 1};
    struct parser *p = parser_new();
    size_t at = 0;
    size_t used = 0;
    for (size_t c = 0; c < 6; c++) {
        int rc = resp_parse((const uint8_t *)buf + at, sizeof(buf) - 1 - at, &p->cmd, &used);
        assert_int_equal(rc, 0);
        assert_int_equal(p->cmd.arg_count, want_count[c]);
        for (uint32_t i = 0; i < want_count[c]; i++) {
            assert_int_equal(p->cmd.args[i].size, strlen(want[c][i]));
            assert_memory_equal(p->cmd.args[i].data, want[c][i], strlen(want[c][i]));
        }
        at += used;
    }
    int rc = resp_parse((const uint8_t *)buf + at, sizeof(buf) - 1 - at, &p->cmd, &used);
    assert_int_equal(rc, RESP_INCOMPLETE);
    assert_int_equal(p->cmd.size_needed, 14);
    parser_free(p);
}

/* ---- Resumption ---------------------------------------------------------------------- */

/* Feeds every prefix of data, both to a fresh parser and to one resumed across the calls
 * (with the bytes moved each time, as a growing buffer may): INCOMPLETE until the last
 * byte, then the same command as parsing it whole. */
static void split_everywhere(const uint8_t *data, size_t size)
{
    struct parser *whole = parser_new();
    size_t used = 0;
    assert_int_equal(resp_parse(data, size, &whole->cmd, &used), 0);
    assert_int_equal(used, size);

    struct parser *resumed = parser_new();
    struct parser *fresh = parser_new();
    for (size_t n = 0; n <= size; n++) {
        uint8_t *copy = malloc(n + 1);
        assert_non_null(copy);
        memcpy(copy, data, n);
        int rc = resp_parse(copy, n, &resumed->cmd, &used);
        resp_command_reset(&fresh->cmd);
        int rc_fresh = resp_parse(copy, n, &fresh->cmd, &used);
        assert_int_equal(rc, rc_fresh);
        if (n < size) {
            assert_int_equal(rc, RESP_INCOMPLETE);
            assert_int_equal(resumed->cmd.size_needed, fresh->cmd.size_needed);
            assert_true(resumed->cmd.size_needed > n);
            assert_true(resumed->cmd.size_needed <= size);
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(used, size);
            assert_int_equal(resumed->cmd.arg_count, whole->cmd.arg_count);
            for (uint32_t i = 0; i < whole->cmd.arg_count; i++) {
                assert_int_equal(resumed->cmd.args[i].size, whole->cmd.args[i].size);
                assert_memory_equal(resumed->cmd.args[i].data, whole->cmd.args[i].data,
                                    whole->cmd.args[i].size);
            }
        }
        free(copy);
    }
    parser_free(whole);
    parser_free(resumed);
    parser_free(fresh);
}

static void test_split_every_byte(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n",
        "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n",
        "*0\r\n",
        "*-1\r\n",
        ("*12\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\nf\r\n"
         "$1\r\ng\r\n$1\r\nh\r\n$1\r\ni\r\n$1\r\nj\r\n$1\r\nk\r\n$10\r\n0123456789\r\n"),
        "PING\r\n",
        "SET \"a \\x41 b\" 'c\\'d' e\r\n",
        "\r\n",
        "  \n",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        split_everywhere((const uint8_t *)cases[i], strlen(cases[i]));
    }
    /* a 1 MiB bulk: the resumed parser is told the total at once */
    struct syn_buf b;
    syn_buf_init(&b, 0);
    uint8_t *big = calloc(1, 1u << 20);
    assert_non_null(big);
    struct resp_arg args[2] = {{(const uint8_t *)"SET", 3}, {big, 1u << 20}};
    assert_int_equal(resp_append_command(&b, args, 2), 0);
    struct parser *p = parser_new();
    size_t used = 0;
    for (size_t n = 64; n < b.len; n += 64u << 10) {
        assert_int_equal(resp_parse(b.data, n, &p->cmd, &used), RESP_INCOMPLETE);
        assert_int_equal(p->cmd.size_needed, b.len);
        assert_int_equal(p->cmd.resume.at, b.len - (1u << 20) - 2);
    }
    assert_int_equal(resp_parse(b.data, b.len, &p->cmd, &used), 0);
    assert_int_equal(p->cmd.args[1].size, 1u << 20);
    parser_free(p);
    free(big);
    syn_buf_free(&b);
}

/* ---- Property: random commands, encoded then parsed ---------------------------------- */

/* An inline encoding of args: plain when possible, else "..." with escapes. */
static void inline_encode(struct syn_buf *b, const struct resp_arg *args, uint32_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (uint32_t i = 0; i < n; i++) {
        bool plain = args[i].size > 0 && (i > 0 || args[i].data[0] != '*');
        for (size_t k = 0; k < args[i].size; k++) {
            uint8_t c = args[i].data[k];
            plain = plain && c > ' ' && c < 0x7f && c != '"' && c != '\'';
        }
        assert_int_equal(syn_buf_append(b, i == 0 ? "" : " ", i == 0 ? 0 : 1), 0);
        if (plain) {
            assert_int_equal(syn_buf_append(b, args[i].data, args[i].size), 0);
            continue;
        }
        assert_int_equal(syn_buf_append_u8(b, '"'), 0);
        for (size_t k = 0; k < args[i].size; k++) {
            uint8_t c = args[i].data[k];
            if (c == '"' || c == '\\') {
                uint8_t esc[2] = {'\\', c};
                assert_int_equal(syn_buf_append(b, esc, 2), 0);
            } else if (c < ' ' || c >= 0x7f) {
                uint8_t esc[4] = {'\\', 'x', (uint8_t)hex[c >> 4], (uint8_t)hex[c & 15]};
                assert_int_equal(syn_buf_append(b, esc, 4), 0);
            } else {
                assert_int_equal(syn_buf_append_u8(b, c), 0);
            }
        }
        assert_int_equal(syn_buf_append_u8(b, '"'), 0);
    }
    assert_int_equal(syn_buf_append(b, "\r\n", 2), 0);
}

static void test_random_commands(void **state)
{
    (void)state;
    struct prng rng;
    prng_init(&rng, 7);
    static uint8_t pool[1 << 12];
    static const char alphabet[] = "ab \"'\\\r\n\t\x00\x7f\xff*$-0123";
    for (size_t i = 0; i < sizeof(pool); i++) {
        pool[i] = prng_chance(&rng, 500000)
                      ? (uint8_t)alphabet[prng_range(&rng, 0, sizeof(alphabet) - 2)]
                      : (uint8_t)prng_next(&rng);
    }
    struct syn_buf b;
    syn_buf_init(&b, 0);
    enum { COMMANDS = 300 };
    static struct resp_arg sent[COMMANDS][8];
    uint32_t sent_count[COMMANDS];
    for (int c = 0; c < COMMANDS; c++) {
        bool inline_form = prng_chance(&rng, 300000);
        sent_count[c] = (uint32_t)prng_range(&rng, 1, 8);
        for (uint32_t i = 0; i < sent_count[c]; i++) {
            size_t size = (size_t)prng_range(&rng, 0, 40);
            sent[c][i] = (struct resp_arg){pool + prng_range(&rng, 0, sizeof(pool) - 41), size};
        }
        if (inline_form) {
            inline_encode(&b, sent[c], sent_count[c]);
        } else {
            assert_int_equal(resp_append_command(&b, sent[c], sent_count[c]), 0);
        }
    }
    /* Parse the pipeline, handing it over in random pieces to one resumed parser. */
    struct parser *p = parser_new();
    size_t at = 0;
    size_t avail = 0;
    for (int c = 0; c < COMMANDS; c++) {
        size_t used = 0;
        int rc;
        while ((rc = resp_parse(b.data + at, avail - at, &p->cmd, &used)) == RESP_INCOMPLETE) {
            assert_true(avail < b.len);
            avail += (size_t)prng_range(&rng, 1, 50);
            avail = avail > b.len ? b.len : avail;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(p->cmd.arg_count, sent_count[c]);
        for (uint32_t i = 0; i < sent_count[c]; i++) {
            assert_int_equal(p->cmd.args[i].size, sent[c][i].size);
            if (sent[c][i].size > 0) {
                assert_memory_equal(p->cmd.args[i].data, sent[c][i].data, sent[c][i].size);
            }
        }
        at += used;
    }
    assert_int_equal(at, b.len);
    parser_free(p);
    syn_buf_free(&b);
}

/* ---- Replies ------------------------------------------------------------------------- */

static void expect_bytes(struct syn_buf *b, const char *want, size_t size)
{
    assert_int_equal(b->len, size);
    assert_memory_equal(b->data, want, size);
    syn_buf_reset(b);
}

#define EXPECT_BYTES(b, want) expect_bytes(b, want, sizeof(want) - 1)

static void test_replies(void **state)
{
    (void)state;
    struct syn_buf b;
    syn_buf_init(&b, 0);
    assert_int_equal(resp_append_simple(&b, "OK"), 0);
    EXPECT_BYTES(&b, "+OK\r\n");
    assert_int_equal(resp_append_simple(&b, ""), 0);
    EXPECT_BYTES(&b, "+\r\n");
    assert_int_equal(resp_append_error(&b, "ERR", "Protocol error: invalid bulk length"), 0);
    EXPECT_BYTES(&b, "-ERR Protocol error: invalid bulk length\r\n");
    assert_int_equal(resp_append_error(&b, "WRONGTYPE", "a\r\nb\nc"), 0);
    EXPECT_BYTES(&b, "-WRONGTYPE a  b c\r\n");
    assert_int_equal(resp_append_integer(&b, 0), 0);
    EXPECT_BYTES(&b, ":0\r\n");
    assert_int_equal(resp_append_integer(&b, -1), 0);
    EXPECT_BYTES(&b, ":-1\r\n");
    assert_int_equal(resp_append_integer(&b, INT64_MAX), 0);
    EXPECT_BYTES(&b, ":9223372036854775807\r\n");
    assert_int_equal(resp_append_integer(&b, INT64_MIN), 0);
    EXPECT_BYTES(&b, ":-9223372036854775808\r\n");
    assert_int_equal(resp_append_bulk(&b, "foo", 3), 0);
    EXPECT_BYTES(&b, "$3\r\nfoo\r\n");
    assert_int_equal(resp_append_bulk(&b, "a\r\n\0", 4), 0);
    EXPECT_BYTES(&b, "$4\r\na\r\n\0\r\n");
    assert_int_equal(resp_append_bulk(&b, NULL, 0), 0);
    EXPECT_BYTES(&b, "$0\r\n\r\n");
    assert_int_equal(resp_append_null_bulk(&b), 0);
    EXPECT_BYTES(&b, "$-1\r\n");
    assert_int_equal(resp_append_array_header(&b, 2), 0);
    assert_int_equal(resp_append_integer(&b, 10), 0);
    assert_int_equal(resp_append_null_bulk(&b), 0);
    EXPECT_BYTES(&b, "*2\r\n:10\r\n$-1\r\n");
    assert_int_equal(resp_append_array_header(&b, 0), 0);
    EXPECT_BYTES(&b, "*0\r\n");
    assert_int_equal(resp_append_null_array(&b), 0);
    EXPECT_BYTES(&b, "*-1\r\n");
    struct resp_arg args[2] = {{(const uint8_t *)"GET", 3}, {(const uint8_t *)"k", 1}};
    assert_int_equal(resp_append_command(&b, args, 2), 0);
    EXPECT_BYTES(&b, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
    syn_buf_free(&b);

    /* a reply goes in whole or not at all */
    syn_buf_init(&b, 11);
    assert_int_equal(resp_append_bulk(&b, "12", 2), 0); /* 8 bytes */
    assert_int_equal(resp_append_bulk(&b, "", 0), SYN_ETOOBIG);
    assert_int_equal(resp_append_simple(&b, "OK"), SYN_ETOOBIG);
    assert_int_equal(resp_append_error(&b, "ERR", "x"), SYN_ETOOBIG);
    assert_int_equal(resp_append_integer(&b, 0), SYN_ETOOBIG);
    assert_int_equal(resp_append_null_bulk(&b), SYN_ETOOBIG);
    assert_int_equal(resp_append_command(&b, args, 2), SYN_ETOOBIG);
    assert_int_equal(b.len, 8);
    assert_int_equal(resp_append_simple(&b, ""), 0);
    assert_int_equal(b.len, 11);
    syn_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_multibulk),        cmocka_unit_test(test_inline),
        cmocka_unit_test(test_inline_quotes),    cmocka_unit_test(test_inline_quote_errors),
        cmocka_unit_test(test_protocol_errors),  cmocka_unit_test(test_inline_limits),
        cmocka_unit_test(test_multibulk_limits), cmocka_unit_test(test_pipelined),
        cmocka_unit_test(test_split_every_byte), cmocka_unit_test(test_random_commands),
        cmocka_unit_test(test_replies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
