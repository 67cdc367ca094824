/* leader_cmd.c: `synod leader transfer [NAME]`: hands leadership to a voter (Raft thesis
 * 3.10), for maintenance of the leader's machine without waiting for an election timeout. */
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "cli/cli.h"
#include "cli/cli_call.h"

static const char leader_help[] =
    "usage: synod leader transfer [NAME] [options]\n"
    "\n"
    "Asks the leader to hand leadership to voter NAME: the leader brings NAME's log up to\n"
    "date, then tells it to start an election at once. Without NAME, the leader picks the\n"
    "voter with the longest log. \"accepted\" means the transfer started; it completes within\n"
    "an election timeout or is abandoned (synod status shows the leader). The address of the\n"
    "leader is found by trying each address of --addr in turn.\n"
    "\n"
    "  --addr LIST    the nodes' HTTP addresses, tried in order (default: $SYNOD_HTTP_ADDR,\n"
    "                 else " CLI_ADDRS_DEFAULT ")\n"
    "  --json         print the node's JSON answer\n"
    "  --timeout MS   for each request, and for finding the leader (default 5000)\n"
    "  --help         this text\n"
    "\n"
    "errors: NAME is no member (1), is a learner or the leader itself (1), another transfer is\n"
    "in progress (1)\n"
    "exit status: 0 accepted, 1 refused or no node answered, 2 usage error\n";

int leader_cmd_main(const char *prog, int argc, char **argv)
{
    (void)prog;
    struct cli_opts o;
    static const struct cli_sub subs[] = {{"transfer", "synod leader transfer", leader_help}};
    size_t sub;
    int rc = cli_opts_begin_sub(&o, "synod leader", argc, argv, NULL, 0, subs, 1, false,
                                leader_help, &sub);
    if (rc != CLI_GO_ON) {
        return rc;
    }
    if (o.arg_count > 2) {
        return cli_usage(&o, "expected at most one NAME");
    }
    const char *name = o.arg_count == 2 ? o.args[1] : NULL;
    struct syn_buf target;
    syn_buf_init(&target, 0);
    rc = syn_buf_append(&target, "/v1/synod/leader/transfer", 25);
    if (name != NULL) {
        rc = rc == 0 ? syn_buf_append(&target, "?to=", 4) : rc;
        rc = rc == 0 ? cli_http_query_append(&target, (const uint8_t *)name, strlen(name)) : rc;
    }
    rc = rc == 0 ? syn_buf_append(&target, "", 1) : rc;
    char done[CLI_ERR_SIZE];
    snprintf(done, sizeof(done), "transfer of leadership%s%s accepted by the leader",
             name != NULL ? " to " : "", name != NULL ? name : "");
    rc = rc == 0 ? cli_call_change(&o, "POST", (const char *)target.data, done)
                 : cli_fail("out of memory");
    syn_buf_free(&target);
    return rc;
}
