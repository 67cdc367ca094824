/* watch_cmd.c: `synod watch service NAME`: the instances of a service, followed with
 * blocking queries on GET /v1/health/service/NAME (cli_poll.h): a block at start, then one
 * for each change, until Ctrl-C. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_poll.h"
#include "cli/cli_time.h"
#include "cli/cli_watch.h"

static const char watch_help[] =
    "usage: synod watch service NAME [--passing] [options]\n"
    "\n"
    "Prints the instances of service NAME and which are healthy, then, each time that changes,\n"
    "a block with the time and what changed, as soon as the cluster knows it (blocking queries\n"
    "on GET /v1/health/service/NAME):\n"
    "\n"
    "  2026-11-27T02:10:03.456Z web at index 57: 2 of 3 instances healthy (web-1, web-3)\n"
    "    web-2 passing -> critical (TCP connect 127.0.0.1:8081: connection refused)\n"
    "\n"
    "When the node asked fails, the next address of --addr is asked, with a backoff. Runs\n"
    "until Ctrl-C (exit status 0).\n"
    "\n"
    "  --passing      follow the healthy instances only (?passing): the others leave\n"
    "  --addr LIST    the nodes' HTTP addresses, tried in order (default: $SYNOD_HTTP_ADDR,\n"
    "                 else " CLI_ADDRS_DEFAULT ")\n"
    "  --json         one JSON line at start and for each change: {\"time\", \"service\",\n"
    "                 \"index\", \"start\", \"healthy\", \"instances\": [...], \"changes\":\n"
    "                 [{\"node\", \"id\", \"from\", \"to\", \"output\"}]}\n"
    "  --timeout MS   for connecting and sending each request (default 5000)\n"
    "  --help         this text\n"
    "\n"
    "exit status: 0 stopped by Ctrl-C, 1 refused (a bad NAME), 2 usage error\n";

struct watch {
    const struct cli_opts *o;
    const char *name;
    bool passing;
    struct cli_health prev;
    bool started;
};

/* One answer: a block when it is the first or something changed. */
static int watch_answer(struct watch *w, const struct cli_reply *r, uint64_t index)
{
    struct cli_health now = {0};
    if (cli_health_parse(r->resp.body, r->resp.body_size, &now) != 0) {
        cli_health_free(&now);
        return cli_fail("%s: the node's answer is malformed", r->addr);
    }
    uint32_t max = now.count + w->prev.count;
    struct cli_watch_change *changes = calloc(max > 0 ? max : 1, sizeof(*changes));
    if (changes == NULL) {
        cli_health_free(&now);
        return cli_fail("out of memory");
    }
    struct cli_watch_block b = {
        .service = w->name,
        .time_ms = cli_time_now_ms(),
        .index = index,
        .first = !w->started,
        .passing = w->passing,
        .now = &now,
        .changes = changes,
        .change_count = w->started ? cli_watch_diff(&w->prev, &now, changes, max) : 0,
    };
    int rc = 0;
    if (b.first || b.change_count > 0) {
        struct syn_buf out;
        syn_buf_init(&out, 0);
        rc = (w->o->json ? cli_watch_json(&b, &out) : cli_watch_text(&b, &out)) == 0
                 ? 0
                 : cli_fail("out of memory");
        if (out.len > 0) {
            fwrite(out.data, 1, out.len, stdout);
        }
        fflush(stdout);
        syn_buf_free(&out);
    }
    free(changes);
    cli_health_free(&w->prev);
    w->prev = now;
    w->started = true;
    return rc;
}

static int watch_run(const struct cli_opts *o, const char *name, bool passing)
{
    struct syn_buf target;
    syn_buf_init(&target, 0);
    const char *prefix = "/v1/health/service/";
    int rc = syn_buf_append(&target, prefix, strlen(prefix));
    rc = rc == 0 ? cli_http_query_append(&target, (const uint8_t *)name, strlen(name)) : rc;
    rc = rc == 0 && passing ? syn_buf_append(&target, "?passing", 8) : rc;
    rc = rc == 0 ? syn_buf_append(&target, "", 1) : rc;
    struct watch w = {.o = o, .name = name, .passing = passing};
    struct cli_poll p;
    cli_poll_init(&p, o, 0, false);
    struct cli_reply r;
    cli_reply_init(&r);
    cli_poll_exit_on_interrupt();
    while (rc == 0) {
        uint64_t index;
        bool resumed;
        rc = cli_poll_next(&p, (const char *)target.data, &r, &index, &resumed);
        if (rc == 0 && r.resp.status != 200) {
            rc = cli_reply_refused(&r, name);
        }
        rc = rc == 0 ? watch_answer(&w, &r, index) : rc;
        /* Consul: go on with the index of the answer, whatever it is (never 0: it blocks) */
        p.index = index > 0 ? index : 1;
        p.have_index = true;
    }
    cli_health_free(&w.prev);
    cli_reply_free(&r);
    syn_buf_free(&target);
    return rc;
}

int watch_cmd_main(const char *prog, int argc, char **argv)
{
    (void)prog;
    bool passing = false;
    const struct cli_flag flags[] = {{"passing", &passing, NULL}};
    struct cli_opts o;
    int rc = cli_opts_begin(&o, "synod watch", argc, argv, flags, 1, watch_help);
    if (rc != CLI_GO_ON) {
        return rc;
    }
    if (o.arg_count == 0 || strcmp(o.args[0], "service") != 0) {
        return cli_usage(&o, "expected: service NAME (what to watch)");
    }
    if (o.arg_count != 2 || o.args[1][0] == '\0') {
        return cli_usage(&o, "expected one service NAME");
    }
    return watch_run(&o, o.args[1], passing);
}
