/* peer_codec.h: the wire format between synod nodes: versioned, length-prefixed frames with
 * CRC-32C checksums, carrying HELLO, Raft messages, forwarded client requests and the
 * failure detector's heartbeats.
 *
 * A pure codec (STYLE 10): encoders append bytes to a syn_buf, the parser reads a frame out of
 * (data, size) into a struct. No sockets, no clock, no globals; the transport decides what to
 * do with a bad frame (log peer_frame.errmsg and close the connection). docs/protocol.md gives
 * the format byte by byte.
 *
 *   header (SYN_FRAME_HEADER_SIZE = 16 bytes, little-endian):
 *     0  u32 frame_size    the whole frame, header included: 16 .. SYN_FRAME_SIZE_MAX
 *     4  u8  version       PEER_FRAME_VERSION
 *     5  u8  kind          enum peer_frame_kind
 *     6  u16 flags         reserved: 0 in version 1
 *     8  u32 payload_crc   crc32c of the payload (bytes 16 .. frame_size)
 *     12 u32 header_crc    crc32c of bytes 0 .. 12 (so it covers payload_crc too)
 *   payload (frame_size - 16 bytes), laid out by kind.
 *
 * The header has its own checksum so that a corrupted length is caught as soon as 16 bytes
 * arrived, instead of making the reader wait for megabytes that will never come.
 */
#ifndef SYN_NET_PEER_CODEC_H
#define SYN_NET_PEER_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/limits.h"
#include "raft/raft.h"

/* 2: HEARTBEAT added (docs/protocol.md, "Versioning": a new kind is a new version). */
#define PEER_FRAME_VERSION 2u

/* peer_frame_parse(): the bytes so far are a valid prefix of a frame; read more. */
#define PEER_FRAME_INCOMPLETE 1

enum peer_frame_kind {
    PEER_FRAME_HELLO = 1,            /* first frame on a connection, from the dialer */
    PEER_FRAME_RAFT = 2,             /* one struct raft_message */
    PEER_FRAME_FORWARD_REQUEST = 3,  /* a follower forwards a client command to the leader */
    PEER_FRAME_FORWARD_RESPONSE = 4, /* the leader's answer to it */
    PEER_FRAME_HEARTBEAT = 5,        /* the failure detector's "I am alive" (src/fd) */
};
#define PEER_FRAME_KIND_MAX 5u

/* Fixed sizes inside payloads (docs/protocol.md). */
#define PEER_HELLO_FIXED_SIZE 17u          /* node_id, peer_id, cluster_id_size */
#define PEER_FORWARD_FIXED_SIZE 8u         /* request_id */
#define PEER_RAFT_FIXED_SIZE 96u           /* the message's scalar fields */
#define PEER_RAFT_ENTRY_HEADER_SIZE 24u    /* term, index, type, data_size */
#define PEER_RAFT_SNAPSHOT_HEADER_SIZE 28u /* index, term, size, conf_size */
#define PEER_HEARTBEAT_SIZE 32u            /* node_id, incarnation, sequence, sent_ms */

/* HELLO: who is calling, and into which cluster. The receiver refuses the connection when
 * the cluster id differs from its own, node_id is not a member it knows, or peer_id is
 * neither 0 nor its own id. */
struct peer_hello {
    raft_id node_id;           /* the sender; nonzero */
    raft_id peer_id;           /* the node the sender meant to reach; 0 when unknown */
    uint32_t cluster_id_size;  /* 1 .. SYN_CLUSTER_ID_SIZE_MAX */
    const uint8_t *cluster_id; /* printable ASCII (0x21 .. 0x7e); borrowed */
};

/* FORWARD_REQUEST / FORWARD_RESPONSE: an opaque body tagged with the forwarder's id. */
struct peer_forward {
    uint64_t request_id;
    uint32_t body_size;
    const uint8_t *body; /* borrowed */
};

/* HEARTBEAT: sent to every peer every heartbeat interval (docs/failure-detection.md). The
 * receiver needs only its arrival; the fields are for diagnostics and restarts. */
struct peer_heartbeat {
    raft_id node_id;      /* the sender; nonzero; the transport checks it is the connection's */
    uint64_t incarnation; /* chosen by the sender at start: a new one means it restarted */
    uint64_t sequence;    /* 1, 2, ... within an incarnation: a gap counts lost heartbeats */
    uint64_t sent_ms;     /* the sender's monotonic clock when sent (not comparable with ours) */
};

/* One parsed frame. Every pointer is borrowed from the data given to peer_frame_parse(),
 * valid while those bytes are. */
struct peer_frame {
    uint32_t frame_size; /* bytes of the frame; after PEER_FRAME_INCOMPLETE, the total the
                          * frame needs once the header is known (else 0) */
    uint8_t version;
    uint8_t kind; /* enum peer_frame_kind */
    uint16_t flags;
    uint32_t payload_size;
    const uint8_t *payload;
    struct peer_hello hello;     /* kind HELLO */
    struct peer_forward forward; /* kind FORWARD_REQUEST or FORWARD_RESPONSE */
    struct peer_heartbeat heartbeat; /* kind HEARTBEAT */
    const char *errmsg;          /* after a negative return: why, a static sentence */
};

/* Parses the frame at the start of data. Returns
 *   0                      a complete, valid frame: *out describes it, *consumed = its size;
 *   PEER_FRAME_INCOMPLETE  no error so far, more bytes needed (*consumed = 0);
 *   SYN_EPROTO             an unknown version;
 *   SYN_ETOOBIG            frame_size over SYN_FRAME_SIZE_MAX;
 *   SYN_EBADMSG            anything else malformed: checksums, kind, flags, payload layout.
 * On a negative return out->errmsg says why; the transport logs it and closes the
 * connection. A RAFT payload is validated in full here, so that peer_decode_raft() of a
 * frame this accepted can only fail for lack of room. Pure: reads data[0 .. size) only. */
int peer_frame_parse(const uint8_t *data, size_t size, struct peer_frame *out, size_t *consumed);

/* Decodes the Raft message of a RAFT frame. msg->entries points to entries, whose data
 * point into the frame (zero-copy: borrowed while the frame's bytes are); entry.buf is NULL,
 * as raft_step() expects. 0, SYN_EBADMSG (malformed; not a RAFT frame), or SYN_ETOOBIG
 * (more than entries_cap entries). Structure only: raft_step() checks the semantics. */
int peer_decode_raft(const struct peer_frame *f, struct raft_message *msg,
                     struct raft_entry *entries, uint32_t entries_cap);

/* Encoders append one whole frame to b, or nothing: 0, SYN_ENOMEM, or SYN_ETOOBIG (b's
 * max_size, or a body too large for a frame). Arguments are borrowed for the call. */

/* hello: node_id nonzero, the cluster id as described in struct peer_hello (asserted). */
int peer_encode_hello(struct syn_buf *b, const struct peer_hello *hello);
/* msg: a message from the Raft core, with a SNAPSHOT's chunk filled in by the shell. Its
 * shape is asserted (known type and flags, entries only in APPEND, data only in SNAPSHOT,
 * sizes within limits.h); such a message always fits a frame. */
int peer_encode_raft(struct syn_buf *b, const struct raft_message *msg);
/* kind: PEER_FRAME_FORWARD_REQUEST or PEER_FRAME_FORWARD_RESPONSE. */
int peer_encode_forward(struct syn_buf *b, enum peer_frame_kind kind, uint64_t request_id,
                        const uint8_t *body, size_t body_size);
/* hb: node_id nonzero (asserted). */
int peer_encode_heartbeat(struct syn_buf *b, const struct peer_heartbeat *hb);

#endif
