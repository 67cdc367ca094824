/* limits.h: every bound synod relies on, in one place (STYLE 8). */
#ifndef SYN_BASE_LIMITS_H
#define SYN_BASE_LIMITS_H

/* Cluster membership. */
#define SYN_MEMBERS_MAX 16u          /* voters + learners in one configuration */
#define SYN_MEMBER_ADDR_SIZE_MAX 64u /* opaque peer address carried in configurations */

/* Raft replication. */
#define SYN_ENTRY_SIZE_MAX (1u << 20)              /* one proposal's payload */
#define SYN_APPEND_ENTRIES_MAX 512u                /* entries in one AppendEntries */
#define SYN_APPEND_BYTES_MAX (4u << 20)            /* payload bytes in one AppendEntries */
#define SYN_INFLIGHT_MAX 256u                      /* AppendEntries in flight per follower */
#define SYN_UNCOMMITTED_BYTES_MAX (64ull << 20)    /* proposals accepted but not yet committed */
#define SYN_READS_PENDING_MAX 4096u                /* ReadIndex requests waiting on one node */
#define SYN_SNAPSHOT_CHUNK_SIZE_MAX (1u << 20)     /* bytes of snapshot in one message */
#define SYN_READY_MESSAGES_MAX 4096u               /* messages one Ready may carry */
#define SYN_APPLY_BATCH_MAX 4096u                  /* committed entries one Ready hands out */

_Static_assert(SYN_ENTRY_SIZE_MAX <= SYN_APPEND_BYTES_MAX, "one entry always fits a message");
_Static_assert(SYN_SNAPSHOT_CHUNK_SIZE_MAX <= SYN_APPEND_BYTES_MAX, "a chunk fits a message");
_Static_assert(SYN_MEMBERS_MAX * SYN_INFLIGHT_MAX < SYN_READY_MESSAGES_MAX * 2u,
               "a leader's broadcast fits a Ready");

#endif
