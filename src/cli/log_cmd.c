/* log_cmd.c: `synod log append|show`: the replicated log of the course's lab (a log.txt every
 * node gets), for real: POST /v1/synod/log appends an entry through Raft, and each node's own
 * copy is read from its store (GET /v1/kv/synod/log/?recurse&stale on that node), so one sees
 * an entry reach every node, and a restarted node catch up. */
#include <stdio.h>
#include <string.h>

#include "base/limits.h"
#include "cli/cli.h"
#include "cli/cli_json.h"
#include "cli/cli_log.h"
#include "cli/cli_poll.h"
#include "cli/cli_time.h"
#include "kv/kv_cmd.h"

#define LOG_OPTIONS                                                                                \
    "  --addr LIST    the nodes' HTTP addresses, tried in order (default: $SYNOD_HTTP_ADDR,\n"     \
    "                 else " CLI_ADDRS_DEFAULT ")\n"                                               \
    "  --json         JSON for scripts\n"                                                          \
    "  --timeout MS   for each request (default 5000)\n"                                           \
    "  --help         this text\n"

static const char log_help[] =
    "usage: synod log append TEXT|- [options]\n"
    "       synod log show [--node NAME] [--follow] [options]\n"
    "\n"
    "The replicated log: every entry appended is stored by every node, in the same order.\n"
    "synod log append --help (and show) tells more.\n"
    "\n" LOG_OPTIONS "\n"
    "exit status: 0 done, 1 refused or no node answered, 2 usage error\n";

static const char append_help[] =
    "usage: synod log append TEXT|- [options]\n"
    "\n"
    "Appends TEXT (1 byte to 4 KiB; - reads it from standard input, without its last newline)\n"
    "to the replicated log, through the first node that answers, and prints the entry's index\n"
    "once a majority has it. It is stored under synod/log/ and the 20-digit index, on every\n"
    "node. --json prints the node's answer: {\"index\": N, \"key\": \"synod/log/...\"}.\n"
    "\n" LOG_OPTIONS;

static const char show_help[] =
    "usage: synod log show [--node NAME] [--follow] [options]\n"
    "\n"
    "Prints the log, an entry a line: its index, time and text (escaped: a newline shows as\n"
    "\\n). Without --node, as the cluster has it (a linearizable read of the first node that\n"
    "answers); with --node NAME, that node's own copy, as far as it has applied it (the\n"
    "address whose /v1/agent/self names NAME). --json: an array of {\"index\", \"time\",\n"
    "\"time_ms\", \"text\"}; with --follow, one such object a line.\n"
    "\n"
    "  --node NAME    read this node's copy (it may be behind, or down)\n"
    "  --follow       then print each new entry as it arrives, until Ctrl-C; with --node, a\n"
    "                 node that is down is waited for, and its copy goes on once it is up\n"
    "\n" LOG_OPTIONS;

/* The text to append: the argument, or standard input for "-" (its last newline dropped). */
static int text_read(const char *arg, struct syn_buf *text)
{
    if (strcmp(arg, "-") != 0) {
        return syn_buf_append(text, arg, strlen(arg)) == 0 ? 0 : cli_fail("out of memory");
    }
    if (syn_buf_reserve(text, SYN_LOG_TEXT_SIZE_MAX + 2) != 0) {
        return cli_fail("out of memory");
    }
    text->len = fread(text->data, 1, SYN_LOG_TEXT_SIZE_MAX + 2, stdin);
    if (ferror(stdin)) {
        return cli_fail("cannot read standard input");
    }
    if (text->len > 0 && text->data[text->len - 1] == '\n') {
        text->len--;
    }
    return 0;
}

static int log_append(const struct cli_opts *o, const char *arg)
{
    struct syn_buf text;
    syn_buf_init(&text, 0);
    int rc = text_read(arg, &text);
    if (rc == 0 && (text.len == 0 || text.len > SYN_LOG_TEXT_SIZE_MAX)) {
        rc = cli_usage(o, "the text is 1 to %u bytes", SYN_LOG_TEXT_SIZE_MAX);
    }
    struct cli_http_request req = {
        .method = "POST", .target = "/v1/synod/log", .body = text.data, .body_size = text.len};
    struct cli_reply r;
    cli_reply_init(&r);
    rc = rc == 0 ? cli_call_any(o, &req, &r) : rc;
    char msg[CLI_ERR_SIZE];
    struct cli_json j = {0};
    uint64_t index = 0;
    if (rc == 0 && r.resp.status != 200) {
        rc = cli_reply_refused(&r, "append");
    } else if (rc == 0 && (cli_json_parse(&j, r.resp.body, r.resp.body_size) != 0 ||
                           !cli_json_u64(&j, cli_json_get(&j, 0, "index"), &index))) {
        rc = cli_fail("%s: the node's answer is malformed", r.addr);
    } else if (rc == 0 && o->json) {
        fwrite(r.resp.body, 1, r.resp.body_size, stdout);
    } else if (rc == 0) {
        cli_reply_field(&r, "key", msg, sizeof(msg));
        printf("appended at index %llu (%s)\n", (unsigned long long)index, msg);
    }
    cli_json_free(&j);
    cli_reply_free(&r);
    syn_buf_free(&text);
    return rc;
}

/* The address of node name: the first of --addr whose /v1/agent/self says NodeName. */
static int node_find(const struct cli_opts *o, const char *name, uint32_t *addr)
{
    struct cli_http_request req = {.method = "GET", .target = "/v1/agent/self"};
    struct cli_reply r;
    cli_reply_init(&r);
    int rc = CLI_EXIT_FAILED;
    for (uint32_t i = 0; i < o->addr_count && rc != 0; i++) {
        char err[CLI_HTTP_ERR_SIZE];
        char node[64] = ""; /* a member name is at most 31 bytes */
        if (cli_call_one(o, i, &req, &r, err, sizeof(err)) != 0) {
            fprintf(stderr, "synod: cannot reach %s: %s\n", o->addrs[i], err);
            continue;
        }
        struct cli_json j = {0};
        if (r.resp.status == 200 && cli_json_parse(&j, r.resp.body, r.resp.body_size) == 0) {
            cli_json_member_text(&j, cli_json_get(&j, 0, "Config"), "NodeName", node, sizeof(node));
        }
        cli_json_free(&j);
        if (strcmp(node, name) == 0) {
            *addr = i;
            rc = 0;
        }
    }
    cli_reply_free(&r);
    return rc == 0 ? 0 : cli_fail("%s: no address of --addr is this node (or it is down)", name);
}

struct log_show {
    const struct cli_opts *o;
    bool follow;
    uint64_t printed; /* the index of the last entry printed */
    uint32_t shown;   /* entries printed (for --json's commas) */
};

/* The entries of one answer past s->printed; 404 is an empty log. */
static int show_answer(struct log_show *s, const struct cli_reply *r)
{
    struct cli_log log = {0};
    if (r->resp.status == 200 && cli_log_parse(r->resp.body, r->resp.body_size, &log) != 0) {
        cli_log_free(&log);
        return cli_fail("%s: the node's answer is malformed", r->addr);
    }
    struct syn_buf out;
    syn_buf_init(&out, 0);
    int rc = 0;
    for (uint32_t i = 0; i < log.count && rc == 0; i++) {
        const struct cli_log_entry *e = &log.items[i];
        if (e->index <= s->printed) {
            continue;
        }
        bool array = s->o->json && !s->follow;
        rc = array ? syn_buf_append(&out, s->shown == 0 ? "[" : ",", 1) : 0;
        rc =
            rc == 0 ? (s->o->json ? cli_log_entry_json(e, &out) : cli_log_entry_text(e, &out)) : rc;
        out.len -= rc == 0 && array ? 1 : 0; /* the object's newline, inside an array */
        s->printed = e->index;
        s->shown++;
    }
    if (out.len > 0) {
        fwrite(out.data, 1, out.len, stdout);
    }
    fflush(stdout);
    syn_buf_free(&out);
    cli_log_free(&log);
    return rc == 0 ? 0 : cli_fail("out of memory");
}

/* node_find(), and with --follow again with a backoff until the node answers: it may be
 * down for now. */
static int node_wait(const struct cli_opts *o, const char *name, bool follow, uint32_t *addr)
{
    uint32_t backoff = CLI_POLL_BACKOFF_MS_MIN;
    int rc;
    while ((rc = node_find(o, name, addr)) != 0 && follow) {
        fprintf(stderr, "synod: asking again in %u ms\n", backoff);
        cli_time_sleep_ms(backoff);
        backoff = backoff * 2 < CLI_POLL_BACKOFF_MS_MAX ? backoff * 2 : CLI_POLL_BACKOFF_MS_MAX;
    }
    return rc;
}

static int log_show(const struct cli_opts *o, const char *node, bool follow)
{
    uint32_t addr = 0;
    if (follow) {
        cli_poll_exit_on_interrupt();
    }
    int rc = node != NULL ? node_wait(o, node, follow, &addr) : 0;
    const char *target = node != NULL ? "/v1/kv/" KV_LOG_PREFIX "?recurse&stale"
                                      : "/v1/kv/" KV_LOG_PREFIX "?recurse";
    struct log_show s = {.o = o, .follow = follow};
    struct cli_poll p;
    cli_poll_init(&p, o, addr, node != NULL);
    struct cli_reply r;
    cli_reply_init(&r);
    while (rc == 0) {
        uint64_t index;
        bool resumed;
        rc = cli_poll_next(&p, target, &r, &index, &resumed);
        if (rc == 0 && r.resp.status != 200 && r.resp.status != 404) {
            rc = cli_reply_refused(&r, "log");
        }
        rc = rc == 0 ? show_answer(&s, &r) : rc;
        if (!follow) {
            break;
        }
        p.index = index > 0 ? index : 1;
        p.have_index = true;
    }
    if (rc == 0 && o->json && !follow) {
        printf("%s\n", s.shown > 0 ? "]" : "[]");
    }
    cli_reply_free(&r);
    return rc;
}

static const struct cli_sub log_subs[] = {
    {"append", "synod log append", append_help},
    {"show", "synod log show", show_help},
};

int log_cmd_main(const char *prog, int argc, char **argv)
{
    (void)prog;
    bool has_node = false, follow = false;
    const char *node = NULL;
    const struct cli_flag flags[] = {{"node", &has_node, &node}, {"follow", &follow, NULL}};
    struct cli_opts o;
    size_t sub;
    int rc = cli_opts_begin_sub(&o, "synod log", argc, argv, flags, 2, log_subs, 2, false, log_help,
                                &sub);
    if (rc != CLI_GO_ON) {
        return rc;
    }
    if (sub == 0 && (has_node || follow)) {
        return cli_usage(&o, "--node and --follow are options of synod log show");
    }
    if (sub == 0) {
        return o.arg_count == 2 ? log_append(&o, o.args[1]) : cli_usage(&o, "expected TEXT");
    }
    if (o.arg_count != 1) {
        return cli_usage(&o, "unexpected argument '%s'", o.args[1]);
    }
    return log_show(&o, has_node ? node : NULL, follow);
}
