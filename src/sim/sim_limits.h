/* sim_limits.h: the bounds of one simulated run (STYLE 8). They belong to the simulator
 * alone, so they live here rather than in base/limits.h. */
#ifndef SYN_SIM_LIMITS_H
#define SYN_SIM_LIMITS_H

#include "base/limits.h"

#define SIM_VOTERS_MAX 7u /* nodes of the initial cluster */
#define SIM_SPARES 2u     /* spare slots that join by membership changes */
#define SIM_NODES_MAX (SIM_VOTERS_MAX + SIM_SPARES)
#define SIM_CLIENTS_MAX 6u           /* concurrent clients */
#define SIM_KEYS_MAX 4u              /* registers in the key-value state machine */
#define SIM_EVENTS_MAX (1u << 17)    /* pending events of all kinds */
#define SIM_PACKETS_MAX (1u << 16)   /* messages in flight */
#define SIM_OPS_MAX (1u << 13)       /* client operations in one history */
#define SIM_LOG_INDEX_MAX (1u << 20) /* log indexes the checker tracks */
#define SIM_TERMS_MAX (1u << 20)     /* terms the checker tracks */
#define SIM_STEPS_MAX (20u << 20)    /* events in one run: a bound against livelock */
#define SIM_TRACE_LINE_MAX 512u      /* bytes of one trace line */
#define SIM_DETAIL_SIZE 512u         /* bytes of a violation's explanation */

_Static_assert(SIM_NODES_MAX <= SYN_MEMBERS_MAX, "every slot fits one configuration");
_Static_assert(SIM_PACKETS_MAX + 4u * SIM_NODES_MAX + SIM_CLIENTS_MAX + 8u <= SIM_EVENTS_MAX,
               "every packet, tick, disk write, client and fault event fits the agenda");

#endif
