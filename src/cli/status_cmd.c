/* status_cmd.c: `synod status`: the cluster as one node sees it (role, term, commit and
 * applied index), and each member with its match index and lag as the leader knows them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_call.h"
#include "cli/cli_status.h"

static const char status_help[] =
    "usage: synod status [--addr HOST:PORT[,HOST:PORT...]] [--json] [--timeout MS]\n"
    "\n"
    "Shows the cluster as the first node of --addr that answers sees it: its role, term,\n"
    "leader, commit, applied, last and snapshot index, then a table of the members: name, id,\n"
    "peer address, voter or learner, the leader's mark (*), match index and lag (entries\n"
    "behind the leader's last index). Only the leader knows match indexes: when the node\n"
    "asked is a follower, the other addresses are asked too and the leader's are shown.\n"
    "\n"
    "  --addr LIST    the nodes' HTTP addresses, tried in order (default: $SYNOD_HTTP_ADDR,\n"
    "                 else " CLI_ADDRS_DEFAULT ")\n"
    "  --json         one JSON object: GET /v1/synod/status's fields, with the leader's match\n"
    "                 indexes, and \"match_from\" naming the node they came from (\"\" if none)\n"
    "  --timeout MS   for each request (default 5000)\n"
    "  --help         this text\n"
    "\n"
    "exit status: 0 shown, 1 no node answered, 2 usage error\n";

/* The leader's view among the addresses other than the one that answered. */
static void leader_find(const struct cli_opts *o, const char *asked, struct cli_status *st)
{
    struct cli_http_request req = {.method = "GET", .target = "/v1/synod/status"};
    struct cli_reply r;
    cli_reply_init(&r);
    struct cli_status *leader = malloc(sizeof(*leader));
    for (uint32_t i = 0; i < o->addr_count && leader != NULL; i++) {
        char err[CLI_HTTP_ERR_SIZE];
        if (o->addrs[i] == asked || cli_call_one(o, i, &req, &r, err, sizeof(err)) != 0 ||
            r.resp.status != 200) {
            continue; /* unreachable nodes only cost their lag column */
        }
        if (cli_status_parse(r.resp.body, r.resp.body_size, leader) == 0 &&
            cli_status_is_leader(leader)) {
            cli_status_merge(st, leader);
            break;
        }
    }
    free(leader);
    cli_reply_free(&r);
}

int cli_status_fetch(const struct cli_opts *o, struct cli_status *st)
{
    struct cli_http_request req = {.method = "GET", .target = "/v1/synod/status"};
    struct cli_reply r;
    cli_reply_init(&r);
    int rc = cli_call_any(o, &req, &r);
    char text[CLI_ERR_SIZE];
    if (rc == 0 && r.resp.status != 200) {
        cli_reply_error(&r, text, sizeof(text));
        rc = cli_fail("%s: %s", r.addr, text);
    } else if (rc == 0 && cli_status_parse(r.resp.body, r.resp.body_size, st) != 0) {
        rc = cli_fail("%s: the status is malformed (is this a synod node?)", r.addr);
    }
    if (rc == 0 && !cli_status_is_leader(st)) {
        leader_find(o, r.addr, st);
    }
    cli_reply_free(&r);
    return rc;
}

int cli_status_show(const struct cli_opts *o, bool summary)
{
    struct cli_status *st = malloc(sizeof(*st));
    if (st == NULL) {
        return cli_fail("out of memory");
    }
    int rc = cli_status_fetch(o, st);
    struct syn_buf out;
    syn_buf_init(&out, 0);
    if (rc == 0 &&
        (o->json ? cli_status_json(st, &out) : cli_status_text(st, summary, &out)) != 0) {
        rc = cli_fail("out of memory");
    }
    if (out.len > 0) {
        fwrite(out.data, 1, out.len, stdout);
    }
    syn_buf_free(&out);
    free(st);
    return rc;
}

int status_cmd_main(const char *prog, int argc, char **argv)
{
    (void)prog;
    struct cli_opts o;
    int rc = cli_opts_begin(&o, "synod status", argc, argv, NULL, 0, status_help);
    if (rc != CLI_GO_ON) {
        return rc;
    }
    if (o.arg_count > 0) {
        return cli_usage(&o, "unexpected argument '%s'", o.args[0]);
    }
    return cli_status_show(&o, true);
}
