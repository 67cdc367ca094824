/* monitor_cmd.c: `synod monitor`: one node's events as they happen (GET /v1/synod/events as a
 * long poll, cli_poll.h): what its failure detector judges, elections and leaders,
 * configuration changes, its checks' status changes, registry changes and log entries. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_events.h"
#include "cli/cli_poll.h"
#include "cli/cli_time.h"

static const char monitor_help[] =
    "usage: synod monitor [--since N] [options]\n"
    "\n"
    "Prints the events of one node as they happen, a line each:\n"
    "\n"
    "  2026-11-27T02:10:00.123Z n2 suspect: n3 (phi 6.1, last heard 900 ms ago)\n"
    "\n"
    "Kinds: suspect, failed, alive (the node's failure detector about another), election, leader\n"
    "(who leads which term), members (the configuration), check (a status change of a check\n"
    "this node's agent runs), registry (a registration, removal or status change applied), log\n"
    "(a synod log entry applied), start. The node followed is the first of --addr that answers;\n"
    "when it fails the next one is followed, from the time the last answer came. Each node keeps\n"
    "its last 1024 events (numbered from 1 since it started); standard error says which node is\n"
    "followed, and from which event. Runs until Ctrl-C (exit status 0).\n"
    "\n"
    "  --since N      first print the events the node still holds numbered above N (0: all)\n"
    "  --addr LIST    the nodes' HTTP addresses, tried in order (default: $SYNOD_HTTP_ADDR,\n"
    "                 else " CLI_ADDRS_DEFAULT ")\n"
    "  --json         one JSON line an event: {\"time\", \"time_ms\", \"node\", \"seq\",\n"
    "                 \"kind\", \"text\"}\n"
    "  --timeout MS   for connecting and sending each request (default 5000)\n"
    "  --help         this text\n"
    "\n"
    "exit status: 0 stopped by Ctrl-C, 2 usage error\n";

struct monitor {
    const struct cli_opts *o;
    char node[CLI_EVENT_NAME_SIZE]; /* the node of the last event printed */
    uint64_t last_seq;              /* ... its number */
    uint64_t last_ms;               /* ... its time: after a failure, print from there */
    uint64_t index;                 /* the last answer's X-Consul-Index */
    bool started;                   /* an answer came */
    bool print_first;               /* --since: print the first answer's events too */
    uint64_t since;                 /* ... those numbered above this */
};

/* Whether event e of an answer is one to print. */
static bool monitor_wanted(const struct monitor *m, const struct cli_event *e, bool resumed,
                           uint64_t index)
{
    if (!m->started) {
        return m->print_first && e->seq > m->since;
    }
    if (!resumed) {
        return true; /* numbered after the index asked with (or all, if the node restarted) */
    }
    /* Asked afresh after a failure: the same node, not restarted, goes on by number; any
     * other from the time of the last event seen. */
    if (strcmp(e->node, m->node) == 0 && index >= m->last_seq && m->last_seq > 0) {
        return e->seq > m->last_seq;
    }
    return e->time_ms >= m->last_ms;
}

static int monitor_answer(struct monitor *m, const struct cli_reply *r, uint64_t index,
                          bool resumed)
{
    struct cli_events ev;
    if (cli_events_parse(r->resp.body, r->resp.body_size, &ev) != 0) {
        cli_events_free(&ev);
        return cli_fail("%s: the node's answer is malformed", r->addr);
    }
    if (m->started && !resumed && index < m->index) {
        fprintf(stderr, "synod: %s restarted: its events are numbered from 1 again\n", r->addr);
    } else if (m->started && !resumed && ev.count > 0 && ev.items[0].seq > m->index + 1) {
        fprintf(stderr, "synod: %llu events of %s were replaced before they could be read\n",
                (unsigned long long)(ev.items[0].seq - m->index - 1), ev.items[0].node);
    }
    struct syn_buf out;
    syn_buf_init(&out, 0);
    int rc = 0;
    for (uint32_t i = 0; i < ev.count && rc == 0; i++) {
        const struct cli_event *e = &ev.items[i];
        if (monitor_wanted(m, e, resumed, index)) {
            rc = m->o->json ? cli_event_json(e, &out) : cli_event_text(e, &out);
        }
        snprintf(m->node, sizeof(m->node), "%s", e->node);
        m->last_seq = e->seq;
        m->last_ms = e->time_ms;
    }
    if (out.len > 0) {
        fwrite(out.data, 1, out.len, stdout);
    }
    fflush(stdout);
    if (!m->started || resumed) {
        fprintf(stderr, "synod: following the events of %s%s%s, after event %llu\n",
                ev.count > 0 ? ev.items[0].node : "", ev.count > 0 ? " at " : "", r->addr,
                (unsigned long long)index);
        fflush(stderr);
    }
    syn_buf_free(&out);
    cli_events_free(&ev);
    m->index = index;
    m->started = true;
    return rc == 0 ? 0 : cli_fail("out of memory");
}

int monitor_cmd_main(const char *prog, int argc, char **argv)
{
    (void)prog;
    bool has_since = false;
    const char *since = NULL;
    const struct cli_flag flags[] = {{"since", &has_since, &since}};
    struct cli_opts o;
    int rc = cli_opts_begin(&o, "synod monitor", argc, argv, flags, 1, monitor_help);
    if (rc != CLI_GO_ON) {
        return rc;
    }
    struct monitor m = {.o = &o, .print_first = has_since, .last_ms = cli_time_now_ms()};
    if (has_since && !cli_u64_parse(since, UINT64_MAX, &m.since)) {
        return cli_usage(&o, "--since: expected an event number, 0 or more");
    }
    if (o.arg_count > 0) {
        return cli_usage(&o, "unexpected argument '%s'", o.args[0]);
    }
    struct cli_poll p; /* the first answer comes at once: what the node holds */
    cli_poll_init(&p, &o, 0, false);
    struct cli_reply r;
    cli_reply_init(&r);
    cli_poll_exit_on_interrupt();
    for (rc = 0; rc == 0;) {
        uint64_t index;
        bool resumed;
        rc = cli_poll_next(&p, "/v1/synod/events", &r, &index, &resumed);
        if (rc == 0 && r.resp.status != 200) {
            rc = cli_reply_refused(&r, "events");
        }
        rc = rc == 0 ? monitor_answer(&m, &r, index, resumed) : rc;
        p.index = index;
        p.have_index = true;
    }
    cli_reply_free(&r);
    return rc;
}
