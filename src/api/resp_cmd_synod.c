/* resp_cmd_synod.c: SYNOD, synod's own administration commands over RESP:
 *   SYNOD ADD-LEARNER NAME HOST:PORT   add a non-voting member (it catches up first)
 *   SYNOD ADD-VOTER NAME HOST:PORT     add a voting member at once
 *   SYNOD PROMOTE NAME                 learner -> voter
 *   SYNOD REMOVE NAME                  remove a member (the leader too)
 *   SYNOD TRANSFER NAME                hand leadership to a voter
 * Leader only: a follower replies "-NOTLEADER <leader name>" so the caller asks there.
 * "+OK ..." means the change is in the leader's log; INFO raft shows when it committed. The
 * checks of names and addresses are api_admin's, shared with the HTTP API. */
#include <stdio.h>
#include <string.h>

#include "api/api_admin.h"
#include "api/resp_server_internal.h"
#include "base/err.h"

static void reply(struct resp_call *call, int rc, const char *msg)
{
    struct service *svc = call->srv->svc;
    if (rc == 0) {
        resp_out_simple(&call->out, "OK");
        return;
    }
    if (rc == SYN_ENOTLEADER) {
        struct service_info info;
        service_info(svc, &info);
        resp_out_error(&call->out, "NOTLEADER", "%s",
                       info.leader_name[0] ? info.leader_name : "unknown");
        return;
    }
    resp_out_error(&call->out, "ERR", "%s (%s)", msg, syn_errname(rc));
}

void resp_cmd_synod(struct resp_call *call)
{
    static const struct {
        const char *word;
        enum api_admin_op op;
    } subs[] = {
        {"add-learner", API_ADMIN_ADD_LEARNER}, {"add-voter", API_ADMIN_ADD_VOTER},
        {"promote", API_ADMIN_PROMOTE},         {"remove", API_ADMIN_REMOVE},
        {"transfer", API_ADMIN_TRANSFER},
    };
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        if (!resp_arg_is(&call->args[1], subs[i].word)) {
            continue;
        }
        bool with_addr = api_admin_takes_addr(subs[i].op);
        if (call->argc != (with_addr ? 4u : 3u)) {
            resp_out_error(&call->out, "ERR", "usage: SYNOD %s NAME%s", subs[i].word,
                           with_addr ? " HOST:PORT" : "");
            return;
        }
        const struct resp_arg *addr = with_addr ? &call->args[3] : NULL;
        char msg[256];
        int rc = api_admin_run(call->srv->svc, subs[i].op, call->args[2].data, call->args[2].size,
                               addr != NULL ? addr->data : NULL, addr != NULL ? addr->size : 0, msg,
                               sizeof(msg));
        reply(call, rc, msg);
        return;
    }
    resp_reply_unknown_subcommand(call);
}
