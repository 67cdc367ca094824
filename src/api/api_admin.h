/* api_admin.h: membership changes and leadership transfer as both client protocols offer
 * them (RESP's `SYNOD ADD-LEARNER ...`, HTTP's /v1/synod/members/ and
 * /v1/synod/leader/transfer): the checks of the names and addresses that come from clients,
 * and the call into the service. One place, so that both protocols accept the same names.
 */
#ifndef SYN_API_API_ADMIN_H
#define SYN_API_API_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/service.h"
#include "base/limits.h"

/* A member's name: what `synod agent --id` accepts (letters, digits, '-', '_', '.'), so that
 * every member added can be started, and the "NAME@HOST:PORT" address the node stores for
 * it stays unambiguous. */
#define API_MEMBER_NAME_SIZE_MAX 31u

_Static_assert(API_MEMBER_NAME_SIZE_MAX < sizeof(((struct service_member *)0)->name),
               "a valid name fits service_member.name with its terminator");
_Static_assert(API_MEMBER_NAME_SIZE_MAX < SYN_MEMBER_ADDR_SIZE_MAX, "a name fits an address");

enum api_admin_op {
    API_ADMIN_ADD_LEARNER = 1, /* a non-voting member that catches up first */
    API_ADMIN_ADD_VOTER = 2,   /* a voting member at once */
    API_ADMIN_PROMOTE = 3,     /* learner -> voter */
    API_ADMIN_REMOVE = 4,      /* any member, the leader too */
    API_ADMIN_TRANSFER = 5,    /* hand leadership to a voter (Raft thesis 3.10) */
};

/* Runs op on svc for the member named name[0 .. name_size), with peer address addr[0 ..
 * addr_size) ("HOST:PORT") for the ADD_* ops (NULL, 0 for the others). Both come from a
 * client: this checks them. msg (msg_size bytes) always gets a sentence. Returns 0 (the
 * change is in the leader's log; msg says at which index), SYN_EINVAL (a bad name or address,
 * or svc supports no membership changes), or a code of the service's (service.h:
 * SYN_ENOTLEADER, SYN_ECONFCHANGE, SYN_ETRANSFER, SYN_EEXIST, SYN_EUNKNOWNNODE, SYN_EFULL,
 * SYN_EINVAL). Synchronous, on the loop's thread. */
int api_admin_run(struct service *svc, enum api_admin_op op, const uint8_t *name, size_t name_size,
                  const uint8_t *addr, size_t addr_size, char *msg, size_t msg_size);

/* Whether ops take a peer address (the ADD_* ops). */
static inline bool api_admin_takes_addr(enum api_admin_op op)
{
    return op == API_ADMIN_ADD_LEARNER || op == API_ADMIN_ADD_VOTER;
}

#endif
