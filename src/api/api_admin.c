/* api_admin.c: membership and leadership transfer for the client protocols (api_admin.h). */
#include "api/api_admin.h"

#include <stdio.h>
#include <string.h>

#include "base/assert.h"
#include "base/err.h"

static const char name_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "0123456789-_.";

/* Copies name[0 .. size) into out when it is a valid member name. */
static bool name_take(const uint8_t *name, size_t size, char out[API_MEMBER_NAME_SIZE_MAX + 1])
{
    if (size == 0 || size > API_MEMBER_NAME_SIZE_MAX) {
        return false;
    }
    memcpy(out, name, size);
    out[size] = '\0';
    return strspn(out, name_chars) == size; /* a NUL byte inside stops strspn short too */
}

/* Copies addr[0 .. size) into out when it is printable text without blanks. The node checks
 * that it is HOST:PORT. */
static bool addr_take(const uint8_t *addr, size_t size, char out[SYN_MEMBER_ADDR_SIZE_MAX])
{
    if (size == 0 || size >= SYN_MEMBER_ADDR_SIZE_MAX) {
        return false;
    }
    for (size_t i = 0; i < size; i++) {
        if (addr[i] <= ' ' || addr[i] >= 0x7f) {
            return false;
        }
    }
    memcpy(out, addr, size);
    out[size] = '\0';
    return true;
}

int api_admin_run(struct service *svc, enum api_admin_op op, const uint8_t *name, size_t name_size,
                  const uint8_t *addr, size_t addr_size, char *msg, size_t msg_size)
{
    ASSERT(op >= API_ADMIN_ADD_LEARNER && op <= API_ADMIN_TRANSFER);
    ASSERT(msg_size > 0);
    if (svc->ops->member_change == NULL || svc->ops->transfer_leader == NULL) {
        snprintf(msg, msg_size, "membership changes are not supported here");
        return SYN_EINVAL;
    }
    char name_text[API_MEMBER_NAME_SIZE_MAX + 1];
    char addr_text[SYN_MEMBER_ADDR_SIZE_MAX];
    if (!name_take(name, name_size, name_text)) {
        snprintf(msg, msg_size, "a member name is 1 to %u letters, digits, '-', '_' or '.'",
                 API_MEMBER_NAME_SIZE_MAX);
        return SYN_EINVAL;
    }
    if (api_admin_takes_addr(op) && !addr_take(addr, addr_size, addr_text)) {
        snprintf(msg, msg_size, "a peer address is HOST:PORT, 1 to %u characters",
                 SYN_MEMBER_ADDR_SIZE_MAX - 1);
        return SYN_EINVAL;
    }
    msg[0] = '\0';
    static const enum raft_conf_op conf_ops[] = {
        [API_ADMIN_ADD_LEARNER] = RAFT_CONF_ADD_LEARNER,
        [API_ADMIN_ADD_VOTER] = RAFT_CONF_ADD_VOTER,
        [API_ADMIN_PROMOTE] = RAFT_CONF_PROMOTE,
        [API_ADMIN_REMOVE] = RAFT_CONF_REMOVE,
    };
    int rc =
        op == API_ADMIN_TRANSFER
            ? svc->ops->transfer_leader(svc->impl, name_text, msg, msg_size)
            : svc->ops->member_change(svc->impl, conf_ops[op], name_text,
                                      api_admin_takes_addr(op) ? addr_text : NULL, msg, msg_size);
    if (msg[0] == '\0') {
        snprintf(msg, msg_size, "%s", syn_strerror(rc));
    }
    return rc;
}
