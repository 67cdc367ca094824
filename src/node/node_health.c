/* node_health.c: the leader writes what its failure detector sees (node_fd.c) into the
 * registry, so every node answers the same about which nodes are alive: a NODE command when a
 * member's health (alive, suspect, failed) or address differs from the registry's record.
 * A failed node's instances are then critical everywhere (kv_registry.c), and come back once
 * its agent is heard again and their checks pass. One proposal at a time; the check timer
 * calls this every few ticks. */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "kv/kv_registry.h"
#include "log/log.h"
#include "node/node_internal.h"

static uint8_t health_of(const struct node *n, const struct raft_member *m)
{
    if (m->id == n->cfg.id) {
        return REG_NODE_ALIVE; /* the leader hears itself */
    }
    struct fd_status st;
    if (node_fd_status(n, m->id, &st) != 0) {
        return 0; /* not judged yet (joined a moment ago) */
    }
    return st.state == FD_FAILED    ? REG_NODE_FAILED
           : st.state == FD_SUSPECT ? REG_NODE_SUSPECT
                                    : REG_NODE_ALIVE;
}

static void on_published(void *ctx, int status, const struct kv_result *result)
{
    (void)status;
    (void)result;
    struct node *n = ctx;
    n->health_publishing = false;
}

void node_health_publish(struct node *n)
{
    if (n->health_publishing || n->failed != 0 || raft_role(n->raft) != RAFT_LEADER) {
        return;
    }
    struct raft_status st;
    raft_status(n->raft, &st);
    for (uint32_t i = 0; i < st.conf.member_count; i++) {
        const struct raft_member *m = &st.conf.members[i];
        struct reg_node want = {.health = health_of(n, m)};
        if (want.health == 0) {
            continue;
        }
        node_member_name(m, want.name, sizeof(want.name));
        node_member_host(m, want.address, sizeof(want.address));
        struct reg_node have;
        int rc = kv_reg_node_get(n->kv, want.name, &have);
        if (rc == 0 && have.health == want.health && strcmp(have.address, want.address) == 0) {
            continue;
        }
        struct syn_buf cmd;
        syn_buf_init(&cmd, SYN_ENTRY_SIZE_MAX);
        rc = reg_cmd_encode_node(&cmd, node_wall_ms(), &want);
        if (rc == 0) {
            rc = node_write_submit(n, cmd.data, cmd.len, on_published, n);
        }
        syn_buf_free(&cmd);
        if (rc == 0) {
            n->health_publishing = true;
            LOG_INFO("health", "node %s is %s", want.name, reg_health_name(want.health));
        }
        return; /* one at a time */
    }
}
