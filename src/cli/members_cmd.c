/* members_cmd.c: `synod members`: list the members, add one (a voter, or a learner that
 * catches up before it votes), promote a learner, remove a member. Changes go to the leader,
 * found by asking each address in turn (Raft thesis 4.1: one change at a time, made by the
 * leader). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_call.h"
#include "cli/cli_status.h"

#define MEMBERS_OPTIONS                                                                            \
    "  --addr LIST    the nodes' HTTP addresses, tried in order (default: $SYNOD_HTTP_ADDR,\n"     \
    "                 else " CLI_ADDRS_DEFAULT ")\n"                                               \
    "  --json         print the node's JSON answer\n"                                              \
    "  --timeout MS   for each request, and for finding the leader (default 5000)\n"               \
    "  --help         this text\n"

static const char members_help[] =
    "usage: synod members [list] [options]\n"
    "       synod members add NAME PEER_ADDR [--learner] [options]\n"
    "       synod members promote NAME [options]\n"
    "       synod members remove NAME [options]\n"
    "\n"
    "Lists the members of the cluster (as synod status does, without the node's summary), or\n"
    "changes them. A change is made by the leader: each address of --addr is tried in turn\n"
    "until the leader accepts it. \"accepted\" means the change is in the leader's log; it\n"
    "takes effect as it commits (synod status shows it). One change at a time.\n"
    "\n" MEMBERS_OPTIONS "\n"
    "synod members add --help (and promote, remove) tells more about each.\n"
    "exit status: 0 done, 1 refused or no node answered, 2 usage error\n";

static const char add_help[] =
    "usage: synod members add NAME PEER_ADDR [--learner] [options]\n"
    "\n"
    "Adds node NAME, reachable by its peers at PEER_ADDR (HOST:PORT, its --peer-addr), as a\n"
    "voter, or with --learner as a learner: it receives the log but does not vote until it is\n"
    "promoted, so a new node catches up without weakening the quorum. Start the new node with\n"
    "synod agent --join first. NAME: 1 to 31 letters, digits, '-', '_' or '.'.\n"
    "\n"
    "  --learner      add as a learner (then: synod members promote NAME)\n" MEMBERS_OPTIONS "\n"
    "errors: the node is already a member; another change is in progress; the cluster has\n"
    "16 members (SYN_MEMBERS_MAX)\n";

static const char promote_help[] =
    "usage: synod members promote NAME [options]\n"
    "\n"
    "Makes learner NAME a voter. Promote a learner once it has caught up (its lag in synod\n"
    "status is small), or the cluster may wait for it to reach a quorum.\n"
    "\n" MEMBERS_OPTIONS;

static const char remove_help[] =
    "usage: synod members remove NAME [options]\n"
    "\n"
    "Removes member NAME, voter or learner, the leader too (it then steps down once the change\n"
    "commits, and the others elect a new leader). Stop the removed node afterwards.\n"
    "\n" MEMBERS_OPTIONS;

/* "/v1/synod/members/NAME[suffix][?peer-addr=ADDR[&learner]]" into out. */
static int member_target(struct syn_buf *out, const char *name, const char *suffix,
                         const char *addr, bool learner)
{
    int rc = syn_buf_append(out, "/v1/synod/members/", 18);
    rc = rc == 0 ? cli_http_path_append(out, (const uint8_t *)name, strlen(name)) : rc;
    rc = rc == 0 ? syn_buf_append(out, suffix, strlen(suffix)) : rc;
    if (addr != NULL) {
        rc = rc == 0 ? syn_buf_append(out, "?peer-addr=", 11) : rc;
        rc = rc == 0 ? cli_http_query_append(out, (const uint8_t *)addr, strlen(addr)) : rc;
        rc = rc == 0 && learner ? syn_buf_append(out, "&learner", 8) : rc;
    }
    return rc == 0 ? syn_buf_append(out, "", 1) : rc; /* a C string */
}

static int members_change(const struct cli_opts *o, const char *sub, bool learner)
{
    bool add = strcmp(sub, "add") == 0;
    uint32_t want = add ? 3u : 2u;
    if (o->arg_count != want) {
        return cli_usage(o, "expected %s", add ? "NAME PEER_ADDR" : "NAME");
    }
    if (learner && !add) {
        return cli_usage(o, "--learner is for synod members add");
    }
    const char *name = o->args[1];
    struct syn_buf target;
    syn_buf_init(&target, 0);
    char done[CLI_ERR_SIZE];
    int rc;
    if (member_target(&target, name, strcmp(sub, "promote") == 0 ? "/promote" : "",
                      add ? o->args[2] : NULL, learner) != 0) {
        rc = cli_fail("out of memory");
    } else {
        const char *method = add ? "PUT" : strcmp(sub, "remove") == 0 ? "DELETE" : "POST";
        snprintf(done, sizeof(done), "%s: %s accepted by the leader", name,
                 add ? (learner ? "adding as a learner" : "adding as a voter")
                 : strcmp(sub, "remove") == 0 ? "removal"
                                              : "promotion");
        rc = cli_call_change(o, method, (const char *)target.data, done);
    }
    syn_buf_free(&target);
    return rc;
}

int members_cmd_main(const char *prog, int argc, char **argv)
{
    (void)prog;
    bool learner = false;
    const struct cli_flag flags[] = {{"learner", &learner, NULL}};
    static const struct cli_sub subs[] = {
        {"list", "synod members", members_help},
        {"add", "synod members add", add_help},
        {"promote", "synod members promote", promote_help},
        {"remove", "synod members remove", remove_help},
    };
    struct cli_opts o;
    size_t sub;
    int rc = cli_opts_begin_sub(&o, "synod members", argc, argv, flags, 1, subs,
                                sizeof(subs) / sizeof(subs[0]), true, members_help, &sub);
    if (rc != CLI_GO_ON) {
        return rc;
    }
    if (sub == 0) {
        return o.arg_count <= 1 ? cli_status_show(&o, false)
                                : cli_usage(&o, "unexpected argument '%s'", o.args[1]);
    }
    return members_change(&o, subs[sub].name, learner);
}
