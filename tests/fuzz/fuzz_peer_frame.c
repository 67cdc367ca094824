/* fuzz_peer_frame.c: libFuzzer target for the peer codec (src/net/peer_codec.c).
 *
 * Random bytes almost never get past the checksums, so the first input byte picks a mode:
 *   below 0x40   the rest is a byte stream as a peer would send it (frames back to back);
 *   0x40 .. 0x7f the rest forges a valid Raft message (every type, entries, snapshot
 *                configurations), encodes it, then flips payload bytes it names and fixes
 *                the checksums, so that the structural checks deep in a payload are reached;
 *   0x80 and up  the rest becomes the payload of one frame of kind (byte % 5 + 1) with
 *                correct checksums, so that the payload decoders see arbitrary bytes.
 *
 * Properties: no crash, no sanitizer report, no failed assertion; an error always has a
 * sentence; and every accepted frame re-encodes from its decoded form to the very same
 * bytes (the encoding is canonical, and the decoder loses nothing). `make fuzz` runs it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/crc32c.h"
#include "base/err.h"
#include "fuzz/fuzz_input.h"
#include "net/peer_codec.h"

static struct raft_entry entries[SYN_APPEND_ENTRIES_MAX];

/* Re-encodes the decoded frame f and compares it with its bytes. */
static void check_reencode(const uint8_t *frame, const struct peer_frame *f)
{
    struct syn_buf b;
    syn_buf_init(&b, 0);
    int rc = 0;
    if (f->kind == PEER_FRAME_RAFT) {
        struct raft_message msg;
        rc = peer_decode_raft(f, &msg, entries, SYN_APPEND_ENTRIES_MAX);
        ASSERT(rc == 0); /* peer_frame_parse() validated the payload in full */
        if (msg.entry_count > 0) {
            struct raft_message small;
            /* refused before any entry is written */
            ASSERT(peer_decode_raft(f, &small, entries, msg.entry_count - 1) == SYN_ETOOBIG);
        }
        rc = peer_encode_raft(&b, &msg);
    } else if (f->kind == PEER_FRAME_HEARTBEAT) {
        rc = peer_encode_heartbeat(&b, &f->heartbeat);
    } else if (f->kind == PEER_FRAME_HELLO) {
        rc = peer_encode_hello(&b, &f->hello);
    } else {
        rc = peer_encode_forward(&b, (enum peer_frame_kind)f->kind, f->forward.request_id,
                                 f->forward.body, f->forward.body_size);
    }
    ASSERT(rc == 0);
    ASSERT(b.len == f->frame_size);
    ASSERT(memcmp(b.data, frame, b.len) == 0);
    syn_buf_free(&b);
}

static void parse_stream(const uint8_t *data, size_t size)
{
    size_t at = 0;
    for (;;) {
        struct peer_frame f;
        size_t used = 0;
        int rc = peer_frame_parse(data + at, size - at, &f, &used);
        if (rc == PEER_FRAME_INCOMPLETE) {
            ASSERT(used == 0);
            ASSERT(f.frame_size == 0 || f.frame_size > size - at);
            return;
        }
        if (rc < 0) {
            ASSERT(rc == SYN_EBADMSG || rc == SYN_EPROTO || rc == SYN_ETOOBIG);
            ASSERT(f.errmsg != NULL && f.errmsg[0] != '\0');
            ASSERT(used == 0);
            return;
        }
        ASSERT(rc == 0);
        ASSERT(used >= SYN_FRAME_HEADER_SIZE && used <= size - at);
        check_reencode(data + at, &f);
        at += used;
    }
}

static void forge_snapshot(struct fuzz_reader *rd, struct raft_message *m, const uint8_t *bytes)
{
    m->snapshot.index = fuzz_take(rd, 2);
    m->snapshot.term = fuzz_take(rd, 1);
    m->snapshot.size = fuzz_take(rd, 2);
    m->snapshot.conf.member_count = (uint32_t)(fuzz_take(rd, 1) % (SYN_MEMBERS_MAX + 1));
    for (uint32_t i = 0; i < m->snapshot.conf.member_count; i++) {
        struct raft_member *mem = &m->snapshot.conf.members[i];
        mem->id = i + 1 + (fuzz_take(rd, 1) << 8);
        mem->role = (uint8_t)(fuzz_take(rd, 1) % 2 + 1);
        mem->addr_size = (uint8_t)(fuzz_take(rd, 1) % (SYN_MEMBER_ADDR_SIZE_MAX + 1));
        memcpy(mem->addr, bytes, mem->addr_size);
    }
    m->data_size = (uint32_t)fuzz_take(rd, 1);
    m->data = bytes;
}

/* A valid message drawn from the input, encoded into b. */
static void forge(struct fuzz_reader *rd, struct syn_buf *b)
{
    static uint8_t bytes[256];
    for (size_t i = 0; i < sizeof(bytes); i++) {
        bytes[i] = (uint8_t)i;
    }
    struct raft_entry forged[8];
    struct raft_message m = {.type = (uint32_t)(fuzz_take(rd, 1) % RAFT_MSG_TYPE_MAX + 1),
                             .flags = (uint32_t)(fuzz_take(rd, 1) % 8),
                             .from = fuzz_take(rd, 1),
                             .to = fuzz_take(rd, 1),
                             .term = fuzz_take(rd, 2),
                             .index = fuzz_take(rd, 2),
                             .log_term = fuzz_take(rd, 1),
                             .commit = fuzz_take(rd, 2),
                             .hint = fuzz_take(rd, 1),
                             .hint_term = fuzz_take(rd, 1),
                             .context = fuzz_take(rd, 1),
                             .offset = fuzz_take(rd, 2)};
    if (m.type == RAFT_MSG_APPEND) {
        m.entry_count = (uint32_t)(fuzz_take(rd, 1) % 9);
        m.entries = forged;
        for (uint32_t i = 0; i < m.entry_count; i++) {
            forged[i] = (struct raft_entry){.term = fuzz_take(rd, 1),
                                            .index = fuzz_take(rd, 2),
                                            .type = (uint32_t)(fuzz_take(rd, 1) % 3 + 1),
                                            .data_size = (uint32_t)(fuzz_take(rd, 1) % 64),
                                            .data = bytes};
        }
    }
    if (m.type == RAFT_MSG_SNAPSHOT) {
        forge_snapshot(rd, &m, bytes);
    }
    ASSERT(peer_encode_raft(b, &m) == 0);
}

/* Flips the payload bytes the rest of the input names, then fixes both checksums. */
static void mutate(struct fuzz_reader *rd, uint8_t *frame, size_t size)
{
    size_t payload_size = size - SYN_FRAME_HEADER_SIZE;
    while (rd->at < rd->size && payload_size > 0) {
        size_t at = (size_t)fuzz_take(rd, 2) % payload_size;
        frame[SYN_FRAME_HEADER_SIZE + at] ^= (uint8_t)fuzz_take(rd, 1);
    }
    syn_put_u32le(frame + 8, crc32c(0, frame + SYN_FRAME_HEADER_SIZE, payload_size));
    syn_put_u32le(frame + 12, crc32c(0, frame, 12));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    if (data[0] < 0x40) {
        parse_stream(data + 1, size - 1);
        return 0;
    }
    if (data[0] < 0x80) {
        struct fuzz_reader rd = {.data = data + 1, .size = size - 1};
        struct syn_buf b;
        syn_buf_init(&b, 0);
        forge(&rd, &b);
        mutate(&rd, b.data, b.len);
        parse_stream(b.data, b.len);
        syn_buf_free(&b);
        return 0;
    }
    /* A frame with correct checksums around an arbitrary payload. */
    size_t payload_size = size - 1;
    uint8_t *frame = malloc(SYN_FRAME_HEADER_SIZE + payload_size);
    ASSERT(frame != NULL);
    syn_put_u32le(frame, (uint32_t)(SYN_FRAME_HEADER_SIZE + payload_size));
    frame[4] = PEER_FRAME_VERSION;
    frame[5] = (uint8_t)(data[0] % PEER_FRAME_KIND_MAX + 1);
    frame[6] = 0;
    frame[7] = 0;
    memcpy(frame + SYN_FRAME_HEADER_SIZE, data + 1, payload_size);
    syn_put_u32le(frame + 8, crc32c(0, data + 1, payload_size));
    syn_put_u32le(frame + 12, crc32c(0, frame, 12));
    parse_stream(frame, SYN_FRAME_HEADER_SIZE + payload_size);
    free(frame);
    return 0;
}
