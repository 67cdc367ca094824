/* resp_cmd_synod.c: SYNOD, synod's own administration commands over RESP:
 *   SYNOD ADD-LEARNER NAME HOST:PORT   add a non-voting member (it catches up first)
 *   SYNOD ADD-VOTER NAME HOST:PORT     add a voting member at once
 *   SYNOD PROMOTE NAME                 learner -> voter
 *   SYNOD REMOVE NAME                  remove a member (the leader too)
 *   SYNOD TRANSFER NAME                hand leadership to a voter
 * Leader only: a follower replies "-NOTLEADER <leader name>" so the caller asks there.
 * "+OK ..." means the change is in the leader's log; INFO raft shows when it committed. */
#include <stdio.h>
#include <string.h>

#include "api/resp_server_internal.h"
#include "base/err.h"

#define SYNOD_NAME_MAX 31u

static bool arg_text(const struct resp_arg *a, char *out, size_t size)
{
    if (a->size == 0 || a->size >= size || memchr(a->data, '\0', a->size) != NULL) {
        return false;
    }
    memcpy(out, a->data, a->size);
    out[a->size] = '\0';
    return true;
}

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
        resp_out_error(&call->out, "NOTLEADER", "%s", info.leader_name[0] ? info.leader_name : "unknown");
        return;
    }
    resp_out_error(&call->out, "ERR", "%s (%s)", msg, syn_errname(rc));
}

void resp_cmd_synod(struct resp_call *call)
{
    struct service *svc = call->srv->svc;
    if (svc->ops->member_change == NULL || svc->ops->transfer_leader == NULL) {
        resp_out_error(&call->out, "ERR", "membership changes are not supported here");
        return;
    }
    static const struct {
        const char *word;
        int op; /* enum raft_conf_op, or 0 for TRANSFER */
        uint32_t argc;
    } subs[] = {
        {"add-learner", RAFT_CONF_ADD_LEARNER, 4}, {"add-voter", RAFT_CONF_ADD_VOTER, 4},
        {"promote", RAFT_CONF_PROMOTE, 3},         {"remove", RAFT_CONF_REMOVE, 3},
        {"transfer", 0, 3},
    };
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        if (!resp_arg_is(&call->args[1], subs[i].word)) {
            continue;
        }
        char name[SYNOD_NAME_MAX + 1];
        char addr[SYN_MEMBER_ADDR_SIZE_MAX + 1];
        if (call->argc != subs[i].argc || !arg_text(&call->args[2], name, sizeof(name)) ||
            (subs[i].argc == 4 && !arg_text(&call->args[3], addr, sizeof(addr)))) {
            resp_out_error(&call->out, "ERR", "usage: SYNOD %s NAME%s", subs[i].word,
                           subs[i].argc == 4 ? " HOST:PORT" : "");
            return;
        }
        char msg[256] = "";
        int rc = subs[i].op == 0
                     ? svc->ops->transfer_leader(svc->impl, name, msg, sizeof(msg))
                     : svc->ops->member_change(svc->impl, (enum raft_conf_op)subs[i].op, name,
                                               subs[i].argc == 4 ? addr : NULL, msg, sizeof(msg));
        reply(call, rc, msg);
        return;
    }
    resp_reply_unknown_subcommand(call);
}
