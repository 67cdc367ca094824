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

/* Client data. */
#define SYN_KEY_SIZE_MAX (16u << 10)         /* one key */
#define SYN_VALUE_SIZE_MAX (512u << 10)      /* one value (Consul's KV limit) */
#define SYN_COMMAND_HEADER_SIZE_MAX 256u     /* a state-machine command's fixed fields */
#define SYN_RESP_ARGS_MAX 4096u              /* arguments of one RESP command */
#define SYN_RESP_INLINE_SIZE_MAX (64u << 10) /* one inline (telnet-style) command line */
#define SYN_RESP_REQUEST_SIZE_MAX (SYN_ENTRY_SIZE_MAX + (64u << 10)) /* one RESP command */

/* The state machine (src/kv). */
#define SYN_KV_KEYS_MAX 4095u             /* keys in one DEL/EXISTS/MGET, keys + values in MSET */
#define SYN_KV_SCAN_COUNT_MAX 1024u       /* keys one SCAN step visits (a larger COUNT is cut) */
#define SYN_KV_EXPIRED_MAX 1024u          /* expired keys one kv_expired_keys() call reports */
#define SYN_KV_ERRMSG_SIZE_MAX 256u       /* the message of an ERROR result */
#define SYN_KV_DBSIZE_SCAN_MAX 65536u     /* expired keys DBSIZE looks at to leave them out */

/* Client servers (src/api). */
#define SYN_RESP_CONNECTIONS_MAX 10000u      /* RESP clients at once (Redis's maxclients) */
#define SYN_RESP_INFLIGHT_MAX 1024u          /* commands of one RESP connection waiting for
                                                their replies; past it, reading pauses */
#define SYN_RESP_REPLY_SIZE_MAX (64u << 20)  /* one reply (an MGET of large values) */
#define SYN_RESP_OUTPUT_PAUSE_SIZE (4u << 20) /* replies one connection has queued: past it,
                                                 reading pauses until they are written */
#define SYN_RESP_OUTPUT_SIZE_MAX (256u << 20) /* ... and past this, the connection is closed
                                                 (a client that sends and never reads) */
#define SYN_HTTP_CONNECTIONS_MAX 1024u       /* HTTP clients at once */
#define SYN_HTTP_HEAD_SIZE_MAX (64u << 10)   /* an HTTP request line and its headers */
#define SYN_HTTP_HEADERS_MAX 64u             /* headers in one HTTP request */
#define SYN_HTTP_BODY_SIZE_MAX SYN_VALUE_SIZE_MAX /* an HTTP request body (a KV PUT's value) */
#define SYN_HTTP_OUTPUT_PAUSE_SIZE (1u << 20) /* responses one connection has queued: past
                                                 it, reading (pipelining) pauses */
#define SYN_HTTP_RESPONSE_SIZE_MAX (64u << 20) /* one HTTP response body (a ?recurse listing) */

/* DNS (src/dns). */
#define SYN_DNS_HEADER_SIZE 12u        /* RFC 1035 4.1.1 */
#define SYN_DNS_UDP_SIZE_MIN 512u      /* RFC 1035 4.2.1: a UDP message without EDNS0 */
#define SYN_DNS_UDP_SIZE_MAX 1232u     /* the largest EDNS0 payload answered over UDP, whatever
                                          the client offers (DNS Flag Day 2020: no IP fragments) */
#define SYN_DNS_MESSAGE_SIZE_MAX 65535u /* RFC 1035 4.2.2: a TCP message (a 2-byte length) */
#define SYN_DNS_NAME_SIZE_MAX 255u      /* RFC 1035 2.3.4: a name in wire form, final 0 included */
#define SYN_DNS_LABEL_SIZE_MAX 63u      /* RFC 1035 2.3.4: one label */
#define SYN_DNS_LABELS_MAX 127u         /* labels in one name: 1 + 1 bytes each, plus the 0 */
#define SYN_DNS_POINTERS_MAX 64u        /* compression pointers followed in one name */
#define SYN_DNS_QUERY_RRS_MAX 8u        /* records in a query's additional section: an OPT,
                                           a TSIG or SIG(0), never many */
#define SYN_DNS_COMPRESS_NAMES_MAX 256u /* name positions one response remembers to compress */
#define SYN_DNS_INSTANCES_MAX 1024u     /* instances one answer considers */
#define SYN_DNS_ADDRESS_SIZE_MAX 256u   /* an instance's or a node's address, NUL included */
#define SYN_DNS_TCP_CONNECTIONS_MAX 256u /* DNS-over-TCP clients at once */
#define SYN_DNS_BIND_TRIES 8u           /* ports tried when port 0 is asked for and UDP cannot
                                           have the port TCP got */
#define SYN_DNS_TCP_OUTPUT_PAUSE_SIZE (256u << 10) /* answers one TCP client has queued: past
                                                      it, reading pauses until they are read */

/* Load balancer (src/lb). */
#define SYN_LB_BACKENDS_MAX 256u             /* instances one synod lb tracks, draining ones too */
#define SYN_LB_RING_VNODES 160u              /* points of one backend on the hash ring (ketama) */
#define SYN_LB_CONNECTIONS_MAX 100000u       /* the largest --max-conns (2 descriptors each) */
#define SYN_LB_PIPE_BUFFER_SIZE (16u << 10)  /* bytes one direction of a proxied connection
                                                holds: full, reading that side pauses */
#define SYN_LB_REGISTRY_RESPONSE_SIZE_MAX (8u << 20) /* one health answer from the agent */
#define SYN_LB_STATS_CONNECTIONS_MAX 16u     /* clients of the stats endpoint at once */

/* What a node tells of itself, and the replicated log (synod monitor, synod log). */
#define SYN_NODE_EVENTS_MAX 1024u         /* events one node keeps for synod monitor (a ring) */
#define SYN_NODE_EVENT_TEXT_SIZE_MAX 256u /* one event's sentence, its NUL included */
#define SYN_HTTP_EVENT_WAITERS_MAX 256u   /* GET /v1/synod/events waiting on one node at once */
#define SYN_LOG_TEXT_SIZE_MAX (4u << 10)  /* the text of one synod log append */

/* Peer transport. */
#define SYN_FRAME_HEADER_SIZE 16u
#define SYN_FRAME_SIZE_MAX (SYN_APPEND_BYTES_MAX + (1u << 20)) /* one peer frame, header included */
#define SYN_PEER_QUEUE_BYTES_MAX (64u << 20) /* bytes waiting to go to one peer */
#define SYN_CLUSTER_ID_SIZE_MAX 64u          /* the cluster id peers exchange in HELLO */
#define SYN_PEERS_MAX (2u * SYN_MEMBERS_MAX)  /* peers one transport knows: an old and a new
                                                configuration's members */
#define SYN_PEER_INBOUND_MAX (SYN_PEERS_MAX + 16u) /* accepted connections at once: one per
                                                      peer, plus a few not yet past HELLO */
#define SYN_PEER_WRITE_BATCH_MAX 64u          /* frames in one write to a peer */

/* Failure detection (src/fd). */
#define SYN_FD_MEMBERS_MAX SYN_PEERS_MAX /* members one detector watches: every peer */
#define SYN_FD_WINDOW_MAX 1000u          /* heartbeat intervals kept per member (Akka's
                                            max-sample-size) */

/* Storage. */
#define SYN_WAL_SEGMENT_SIZE (64u << 20) /* a WAL segment is closed past this size */
#define SYN_WAL_SEGMENT_SIZE_MIN (4u << 10) /* smallest segment size an option may set */
#define SYN_WAL_SEGMENT_SIZE_MAX (1u << 30) /* largest segment size an option may set */
#define SYN_WAL_RECORD_SIZE_MAX (8u << 20)  /* one WAL record's payload; a larger Ready splits */
#define SYN_WAL_SEGMENTS_MAX 65536u         /* segment files in one WAL directory */
#define SYN_WAL_PATH_SIZE_MAX 1024u         /* a WAL directory's path plus a file name */
#define SYN_SNAPSHOT_SIZE_MAX (1ull << 40)  /* bytes of one snapshot */

_Static_assert(SYN_ENTRY_SIZE_MAX + 64u <= SYN_WAL_RECORD_SIZE_MAX,
               "one entry and a WAL record's fixed fields fit one record");
_Static_assert(SYN_WAL_SEGMENT_SIZE_MIN <= SYN_WAL_SEGMENT_SIZE &&
                   SYN_WAL_SEGMENT_SIZE <= SYN_WAL_SEGMENT_SIZE_MAX,
               "the default segment size is one an option may set");
_Static_assert(SYN_WAL_SEGMENT_SIZE_MAX + 2ull * (SYN_WAL_RECORD_SIZE_MAX + 64u) < (1ull << 32),
               "segment offsets fit a WAL record's 32-bit 'synced' field");
_Static_assert(SYN_SNAPSHOT_CHUNK_SIZE_MAX <= SYN_SNAPSHOT_SIZE_MAX, "a chunk fits a snapshot");

_Static_assert(SYN_KEY_SIZE_MAX + SYN_VALUE_SIZE_MAX + SYN_COMMAND_HEADER_SIZE_MAX <=
                   SYN_ENTRY_SIZE_MAX,
               "a single SET fits one entry");
_Static_assert(SYN_LOG_TEXT_SIZE_MAX <= SYN_VALUE_SIZE_MAX, "a log entry's text is a value");
_Static_assert(SYN_HTTP_EVENT_WAITERS_MAX <= SYN_HTTP_CONNECTIONS_MAX,
               "event waiters are connections (one request at a time each)");
_Static_assert(SYN_KV_KEYS_MAX < SYN_RESP_ARGS_MAX, "a command's keys fit one RESP request");
_Static_assert(SYN_KV_SCAN_COUNT_MAX <= SYN_KV_KEYS_MAX && SYN_KV_EXPIRED_MAX <= SYN_KV_KEYS_MAX,
               "a SCAN step and an expiry sweep fit the store's key views");
_Static_assert(SYN_APPEND_BYTES_MAX + SYN_SNAPSHOT_CHUNK_SIZE_MAX / 4 + SYN_FRAME_HEADER_SIZE <=
                   SYN_FRAME_SIZE_MAX,
               "an AppendEntries and its headers fit one frame");
_Static_assert(SYN_FRAME_SIZE_MAX <= SYN_PEER_QUEUE_BYTES_MAX, "a frame fits a peer queue");
_Static_assert(SYN_PEERS_MAX < SYN_PEER_INBOUND_MAX, "every peer can be connected at once");

_Static_assert(SYN_RESP_REQUEST_SIZE_MAX <= SYN_RESP_OUTPUT_PAUSE_SIZE &&
                   SYN_RESP_OUTPUT_PAUSE_SIZE < SYN_RESP_REPLY_SIZE_MAX &&
                   SYN_RESP_REPLY_SIZE_MAX < SYN_RESP_OUTPUT_SIZE_MAX,
               "an ECHO fits before reading pauses; one largest reply fits the output limit");
_Static_assert(3u * SYN_KEY_SIZE_MAX + (4u << 10) <= SYN_HTTP_HEAD_SIZE_MAX,
               "a percent-encoded key fits an HTTP request line, with room for headers");

_Static_assert(SYN_DNS_UDP_SIZE_MIN <= SYN_DNS_UDP_SIZE_MAX &&
                   SYN_DNS_UDP_SIZE_MAX <= SYN_DNS_MESSAGE_SIZE_MAX,
               "a UDP answer fits a DNS message");
_Static_assert(SYN_DNS_HEADER_SIZE + SYN_DNS_NAME_SIZE_MAX + 4u + 11u <= SYN_DNS_UDP_SIZE_MIN,
               "a header, the longest question and an OPT record fit the smallest UDP answer");
_Static_assert(2u * SYN_DNS_LABELS_MAX + 1u == SYN_DNS_NAME_SIZE_MAX,
               "the label count is what the name size allows");
_Static_assert(SYN_DNS_MESSAGE_SIZE_MAX + 2u <= SYN_DNS_TCP_OUTPUT_PAUSE_SIZE,
               "one framed answer fits before reading pauses");

_Static_assert(SYN_ENTRY_SIZE_MAX <= SYN_APPEND_BYTES_MAX, "one entry always fits a message");
_Static_assert(SYN_SNAPSHOT_CHUNK_SIZE_MAX <= SYN_APPEND_BYTES_MAX, "a chunk fits a message");
_Static_assert((SYN_MEMBERS_MAX - 1u) * SYN_INFLIGHT_MAX <= SYN_READY_MESSAGES_MAX,
               "a leader's full pipeline to every follower fits one Ready");

#endif
