/* test_peer_codec.c: peer frames: round trips of every frame kind and every Raft message
 * type and the HEARTBEAT frame, the header layout docs/protocol.md describes, and rejection of every truncation,
 * every single-byte corruption and every malformed payload the codec must refuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/crc32c.h"
#include "base/err.h"
#include "base/prng.h"
#include "net/peer_codec.h"

static const uint8_t payload_bytes[] = "the quick brown fox jumps over the lazy dog";

/* ---- Helpers ------------------------------------------------------------------------- */

/* A frame built by hand from the layout in docs/protocol.md, independent of the encoder:
 * any payload, header fields as given, correct checksums. */
static void frame_by_hand(struct syn_buf *b, uint32_t frame_size, uint8_t version, uint8_t kind,
                          uint16_t flags, const uint8_t *payload, size_t payload_size)
{
    uint8_t h[16];
    syn_put_u32le(h, frame_size);
    h[4] = version;
    h[5] = kind;
    h[6] = (uint8_t)flags;
    h[7] = (uint8_t)(flags >> 8);
    syn_put_u32le(h + 8, crc32c(0, payload, payload_size));
    syn_put_u32le(h + 12, crc32c(0, h, 12));
    assert_int_equal(syn_buf_append(b, h, sizeof(h)), 0);
    assert_int_equal(syn_buf_append(b, payload, payload_size), 0);
}

static int parse_raw(const uint8_t *payload, size_t size, uint8_t kind, struct peer_frame *f)
{
    struct syn_buf b;
    syn_buf_init(&b, 0);
    frame_by_hand(&b, (uint32_t)(16 + size), PEER_FRAME_VERSION, kind, 0, payload, size);
    size_t used = 0;
    int rc = peer_frame_parse(b.data, b.len, f, &used);
    if (rc != 0) {
        assert_non_null(f->errmsg);
        assert_int_equal(used, 0);
    }
    syn_buf_free(&b);
    return rc;
}

static struct raft_conf three_members(void)
{
    struct raft_conf conf = {.member_count = 3};
    for (uint32_t i = 0; i < 3; i++) {
        conf.members[i].id = i + 1;
        conf.members[i].role = i == 2 ? RAFT_LEARNER : RAFT_VOTER;
        conf.members[i].addr_size = 14;
        memcpy(conf.members[i].addr, "10.0.0.1:700", 12);
        conf.members[i].addr[12] = (char)('0' + i);
        conf.members[i].addr[13] = '0';
    }
    return conf;
}

static void assert_conf_equal(const struct raft_conf *a, const struct raft_conf *b)
{
    assert_int_equal(a->member_count, b->member_count);
    for (uint32_t i = 0; i < a->member_count; i++) {
        assert_int_equal(a->members[i].id, b->members[i].id);
        assert_int_equal(a->members[i].role, b->members[i].role);
        assert_int_equal(a->members[i].addr_size, b->members[i].addr_size);
        assert_memory_equal(a->members[i].addr, b->members[i].addr, a->members[i].addr_size);
    }
}

static void assert_msg_equal(const struct raft_message *a, const struct raft_message *b)
{
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->flags, b->flags);
    assert_int_equal(a->from, b->from);
    assert_int_equal(a->to, b->to);
    assert_int_equal(a->term, b->term);
    assert_int_equal(a->index, b->index);
    assert_int_equal(a->log_term, b->log_term);
    assert_int_equal(a->commit, b->commit);
    assert_int_equal(a->hint, b->hint);
    assert_int_equal(a->hint_term, b->hint_term);
    assert_int_equal(a->context, b->context);
    assert_int_equal(a->offset, b->offset);
    assert_int_equal(a->entry_count, b->entry_count);
    for (uint32_t i = 0; i < a->entry_count; i++) {
        const struct raft_entry *x = &a->entries[i];
        const struct raft_entry *y = &b->entries[i];
        assert_int_equal(x->term, y->term);
        assert_int_equal(x->index, y->index);
        assert_int_equal(x->type, y->type);
        assert_int_equal(x->data_size, y->data_size);
        if (x->data_size > 0) {
            assert_memory_equal(x->data, y->data, x->data_size);
        }
        assert_null(y->buf);
    }
    assert_int_equal(a->data_size, b->data_size);
    if (a->data_size > 0) {
        assert_memory_equal(a->data, b->data, a->data_size);
    }
    assert_int_equal(a->snapshot.index, b->snapshot.index);
    assert_int_equal(a->snapshot.term, b->snapshot.term);
    assert_int_equal(a->snapshot.size, b->snapshot.size);
    assert_conf_equal(&a->snapshot.conf, &b->snapshot.conf);
}

/* Encodes msg, parses the frame back, decodes it and compares. */
static void roundtrip_raft(const struct raft_message *msg)
{
    struct syn_buf b;
    syn_buf_init(&b, 0);
    assert_int_equal(peer_encode_raft(&b, msg), 0);
    struct peer_frame f;
    size_t used = 0;
    assert_int_equal(peer_frame_parse(b.data, b.len, &f, &used), 0);
    assert_int_equal(used, b.len);
    assert_int_equal(f.kind, PEER_FRAME_RAFT);
    static struct raft_entry entries[SYN_APPEND_ENTRIES_MAX];
    struct raft_message out;
    assert_int_equal(peer_decode_raft(&f, &out, entries, SYN_APPEND_ENTRIES_MAX), 0);
    assert_msg_equal(msg, &out);
    /* zero-copy: the decoded bytes live inside the frame */
    if (out.data_size > 0) {
        assert_true(out.data >= b.data && out.data + out.data_size <= b.data + b.len);
    }
    syn_buf_free(&b);
}

/* Messages of every type, filled as raft.h says each type is. */
static struct raft_message sample_message(uint32_t type, struct raft_entry entries[3])
{
    struct raft_message m = {.type = type, .from = 1, .to = 2, .term = 7};
    switch (type) {
    case RAFT_MSG_APPEND:
        m.index = 41;
        m.log_term = 6;
        m.commit = 40;
        m.entry_count = 3;
        m.entries = entries;
        entries[0] = (struct raft_entry){.term = 6,
                                         .index = 42,
                                         .type = RAFT_ENTRY_NORMAL,
                                         .data_size = 9,
                                         .data = payload_bytes};
        entries[1] = (struct raft_entry){.term = 7, .index = 43, .type = RAFT_ENTRY_NOOP};
        entries[2] = (struct raft_entry){.term = 7,
                                         .index = 44,
                                         .type = RAFT_ENTRY_CONF,
                                         .data_size = 20,
                                         .data = payload_bytes + 9};
        break;
    case RAFT_MSG_APPEND_RESP:
        m.flags = RAFT_FLAG_REJECT;
        m.index = 41;
        m.hint = 30;
        m.hint_term = 5;
        break;
    case RAFT_MSG_VOTE:
    case RAFT_MSG_PRE_VOTE:
        m.index = 99;
        m.log_term = 6;
        m.flags = RAFT_FLAG_TRANSFER;
        break;
    case RAFT_MSG_HEARTBEAT:
        m.commit = 1234567890123ull;
        m.context = 77;
        break;
    case RAFT_MSG_SNAPSHOT:
        m.snapshot = (struct raft_snapshot_meta){
            .index = 500, .term = 6, .size = 4000, .conf = three_members()};
        m.offset = 4000 - 17;
        m.data_size = 17;
        m.data = payload_bytes + 3;
        m.flags = RAFT_FLAG_LAST;
        break;
    case RAFT_MSG_SNAPSHOT_RESP:
        m.index = 500;
        m.offset = 1024;
        m.flags = RAFT_FLAG_REJECT;
        break;
    default:
        m.context = UINT64_MAX;
        m.index = UINT64_MAX - 1;
        m.flags = type % 2 == 0 ? RAFT_FLAG_REJECT : 0;
        break;
    }
    return m;
}

static void encode_samples(struct syn_buf *b)
{
    struct raft_entry entries[3];
    for (uint32_t t = RAFT_MSG_APPEND; t <= RAFT_MSG_TYPE_MAX; t++) {
        struct raft_message m = sample_message(t, entries);
        assert_int_equal(peer_encode_raft(b, &m), 0);
    }
    struct peer_hello hello = {
        .node_id = 3, .peer_id = 1, .cluster_id_size = 6, .cluster_id = (const uint8_t *)"prod-a"};
    assert_int_equal(peer_encode_hello(b, &hello), 0);
    assert_int_equal(peer_encode_forward(b, PEER_FRAME_FORWARD_REQUEST, 9, payload_bytes, 20), 0);
    assert_int_equal(peer_encode_forward(b, PEER_FRAME_FORWARD_RESPONSE, 9, NULL, 0), 0);
    struct peer_heartbeat hb = {.node_id = 3, .incarnation = 77, .sequence = 5, .sent_ms = 1234};
    assert_int_equal(peer_encode_heartbeat(b, &hb), 0);
}

/* ---- Round trips --------------------------------------------------------------------- */

static void test_raft_every_type(void **state)
{
    (void)state;
    struct raft_entry entries[3];
    for (uint32_t t = RAFT_MSG_APPEND; t <= RAFT_MSG_TYPE_MAX; t++) {
        struct raft_message m = sample_message(t, entries);
        roundtrip_raft(&m);
    }
    /* every field at its extremes */
    struct raft_message m = {.type = RAFT_MSG_APPEND_RESP,
                             .flags = RAFT_FLAG_REJECT,
                             .from = UINT64_MAX,
                             .to = UINT64_MAX,
                             .term = UINT64_MAX,
                             .index = UINT64_MAX,
                             .log_term = UINT64_MAX,
                             .commit = UINT64_MAX,
                             .hint = UINT64_MAX,
                             .hint_term = UINT64_MAX,
                             .context = UINT64_MAX,
                             .offset = UINT64_MAX};
    roundtrip_raft(&m);
    /* an empty snapshot (no members, no chunk) */
    m = (struct raft_message){.type = RAFT_MSG_SNAPSHOT,
                              .from = 2,
                              .to = 3,
                              .term = 1,
                              .snapshot = {.index = 1, .term = 1},
                              .flags = RAFT_FLAG_LAST};
    roundtrip_raft(&m);
}

static void test_raft_random(void **state)
{
    (void)state;
    struct prng p;
    prng_init(&p, 2024);
    static uint8_t bytes[4096];
    for (size_t i = 0; i < sizeof(bytes); i++) {
        bytes[i] = (uint8_t)prng_next(&p);
    }
    static struct raft_entry entries[64];
    for (int iter = 0; iter < 2000; iter++) {
        struct raft_message m = {.type =
                                     (uint32_t)prng_range(&p, RAFT_MSG_APPEND, RAFT_MSG_TYPE_MAX),
                                 .flags = (uint32_t)prng_range(&p, 0, 7),
                                 .from = prng_next(&p),
                                 .to = prng_next(&p),
                                 .term = prng_next(&p),
                                 .index = prng_next(&p),
                                 .log_term = prng_next(&p),
                                 .commit = prng_next(&p),
                                 .hint = prng_next(&p),
                                 .hint_term = prng_next(&p),
                                 .context = prng_next(&p),
                                 .offset = prng_next(&p)};
        if (m.type == RAFT_MSG_APPEND) {
            m.entry_count = (uint32_t)prng_range(&p, 0, 64);
            m.entries = entries;
            for (uint32_t i = 0; i < m.entry_count; i++) {
                uint32_t size = (uint32_t)prng_range(&p, 0, 64);
                entries[i] = (struct raft_entry){
                    .term = prng_next(&p),
                    .index = prng_next(&p),
                    .type = (uint32_t)prng_range(&p, RAFT_ENTRY_NORMAL, RAFT_ENTRY_CONF),
                    .data_size = size,
                    .data = bytes + prng_range(&p, 0, sizeof(bytes) - 64)};
            }
        }
        if (m.type == RAFT_MSG_SNAPSHOT) {
            m.snapshot.index = prng_next(&p);
            m.snapshot.term = prng_next(&p);
            m.snapshot.size = prng_next(&p);
            m.snapshot.conf.member_count = (uint32_t)prng_range(&p, 0, SYN_MEMBERS_MAX);
            for (uint32_t i = 0; i < m.snapshot.conf.member_count; i++) {
                struct raft_member *mem = &m.snapshot.conf.members[i];
                mem->id = i + 1 + (prng_next(&p) << 8);
                mem->role = (uint8_t)prng_range(&p, RAFT_VOTER, RAFT_LEARNER);
                mem->addr_size = (uint8_t)prng_range(&p, 0, SYN_MEMBER_ADDR_SIZE_MAX);
                memcpy(mem->addr, bytes + i * 64, mem->addr_size);
            }
            m.data_size = (uint32_t)prng_range(&p, 0, sizeof(bytes));
            m.data = bytes;
        }
        roundtrip_raft(&m);
    }
}

static void test_largest_append_fits(void **state)
{
    (void)state;
    uint8_t *big = calloc(1, SYN_APPEND_BYTES_MAX);
    assert_non_null(big);
    static struct raft_entry entries[SYN_APPEND_ENTRIES_MAX];
    uint32_t per = SYN_APPEND_BYTES_MAX / SYN_APPEND_ENTRIES_MAX;
    for (uint32_t i = 0; i < SYN_APPEND_ENTRIES_MAX; i++) {
        entries[i] = (struct raft_entry){.term = 1,
                                         .index = i + 1,
                                         .type = RAFT_ENTRY_NORMAL,
                                         .data_size = per,
                                         .data = big + i * per};
    }
    struct raft_message m = {.type = RAFT_MSG_APPEND,
                             .from = 1,
                             .to = 2,
                             .term = 1,
                             .entry_count = SYN_APPEND_ENTRIES_MAX,
                             .entries = entries};
    roundtrip_raft(&m);
    /* and a snapshot chunk of the largest size */
    m = (struct raft_message){.type = RAFT_MSG_SNAPSHOT,
                              .from = 1,
                              .to = 2,
                              .term = 1,
                              .snapshot = {.index = 9, .term = 1, .size = 1u << 30},
                              .data_size = SYN_SNAPSHOT_CHUNK_SIZE_MAX,
                              .data = big};
    m.snapshot.conf = three_members();
    m.snapshot.conf.member_count = 1;
    roundtrip_raft(&m);
    free(big);
}

static void test_hello_and_forward(void **state)
{
    (void)state;
    struct syn_buf b;
    syn_buf_init(&b, 0);
    char id[SYN_CLUSTER_ID_SIZE_MAX];
    memset(id, 'z', sizeof(id));
    struct peer_hello hello = {.node_id = 12,
                               .peer_id = 0,
                               .cluster_id_size = sizeof(id),
                               .cluster_id = (const uint8_t *)id};
    assert_int_equal(peer_encode_hello(&b, &hello), 0);
    assert_int_equal(peer_encode_forward(&b, PEER_FRAME_FORWARD_REQUEST, UINT64_MAX, payload_bytes,
                                         sizeof(payload_bytes)),
                     0);
    assert_int_equal(peer_encode_forward(&b, PEER_FRAME_FORWARD_RESPONSE, 5, NULL, 0), 0);

    struct peer_frame f;
    size_t used = 0;
    size_t at = 0;
    assert_int_equal(peer_frame_parse(b.data, b.len, &f, &used), 0);
    assert_int_equal(f.kind, PEER_FRAME_HELLO);
    assert_int_equal(f.hello.node_id, 12);
    assert_int_equal(f.hello.peer_id, 0);
    assert_int_equal(f.hello.cluster_id_size, sizeof(id));
    assert_memory_equal(f.hello.cluster_id, id, sizeof(id));
    at += used;
    assert_int_equal(peer_frame_parse(b.data + at, b.len - at, &f, &used), 0);
    assert_int_equal(f.kind, PEER_FRAME_FORWARD_REQUEST);
    assert_int_equal(f.forward.request_id, UINT64_MAX);
    assert_int_equal(f.forward.body_size, sizeof(payload_bytes));
    assert_memory_equal(f.forward.body, payload_bytes, sizeof(payload_bytes));
    at += used;
    assert_int_equal(peer_frame_parse(b.data + at, b.len - at, &f, &used), 0);
    assert_int_equal(f.kind, PEER_FRAME_FORWARD_RESPONSE);
    assert_int_equal(f.forward.request_id, 5);
    assert_int_equal(f.forward.body_size, 0);
    at += used;
    assert_int_equal(at, b.len);
    assert_int_equal(peer_frame_parse(b.data + at, b.len - at, &f, &used), PEER_FRAME_INCOMPLETE);

    /* not a RAFT frame */
    struct raft_message msg;
    assert_int_equal(peer_frame_parse(b.data, b.len, &f, &used), 0);
    assert_int_equal(peer_decode_raft(&f, &msg, NULL, 0), SYN_EBADMSG);
    syn_buf_free(&b);
}

/* HEARTBEAT: a round trip, the layout of docs/protocol.md byte by byte, and what is refused. */
static void test_heartbeat(void **state)
{
    (void)state;
    struct syn_buf b;
    syn_buf_init(&b, 0);
    struct peer_heartbeat hb = {.node_id = 0x0102030405060708ull,
                                .incarnation = UINT64_MAX,
                                .sequence = 42,
                                .sent_ms = 987654321};
    assert_int_equal(peer_encode_heartbeat(&b, &hb), 0);
    assert_int_equal(b.len, SYN_FRAME_HEADER_SIZE + PEER_HEARTBEAT_SIZE);
    assert_int_equal(b.data[5], PEER_FRAME_HEARTBEAT);
    const uint8_t *p = b.data + SYN_FRAME_HEADER_SIZE;
    assert_int_equal(syn_get_u64le(p), hb.node_id);
    assert_int_equal(syn_get_u64le(p + 8), UINT64_MAX);
    assert_int_equal(syn_get_u64le(p + 16), 42);
    assert_int_equal(syn_get_u64le(p + 24), 987654321);
    struct syn_buf hand;
    syn_buf_init(&hand, 0);
    frame_by_hand(&hand, (uint32_t)b.len, PEER_FRAME_VERSION, PEER_FRAME_HEARTBEAT, 0, p,
                  PEER_HEARTBEAT_SIZE);
    assert_memory_equal(hand.data, b.data, b.len);
    syn_buf_free(&hand);

    struct peer_frame f;
    size_t used = 0;
    assert_int_equal(peer_frame_parse(b.data, b.len, &f, &used), 0);
    assert_int_equal(used, b.len);
    assert_int_equal(f.kind, PEER_FRAME_HEARTBEAT);
    assert_int_equal(f.heartbeat.node_id, hb.node_id);
    assert_int_equal(f.heartbeat.incarnation, hb.incarnation);
    assert_int_equal(f.heartbeat.sequence, hb.sequence);
    assert_int_equal(f.heartbeat.sent_ms, hb.sent_ms);
    struct raft_message msg;
    assert_int_equal(peer_decode_raft(&f, &msg, NULL, 0), SYN_EBADMSG); /* not a RAFT frame */

    uint8_t raw[PEER_HEARTBEAT_SIZE + 1];
    memcpy(raw, p, PEER_HEARTBEAT_SIZE);
    raw[PEER_HEARTBEAT_SIZE] = 0;
    assert_int_equal(parse_raw(raw, PEER_HEARTBEAT_SIZE - 1, PEER_FRAME_HEARTBEAT, &f), SYN_EBADMSG);
    assert_string_equal(f.errmsg, "HEARTBEAT payload is not 32 bytes");
    assert_int_equal(parse_raw(raw, PEER_HEARTBEAT_SIZE + 1, PEER_FRAME_HEARTBEAT, &f), SYN_EBADMSG);
    assert_int_equal(parse_raw(raw, 0, PEER_FRAME_HEARTBEAT, &f), SYN_EBADMSG);
    memset(raw, 0, 8);
    assert_int_equal(parse_raw(raw, PEER_HEARTBEAT_SIZE, PEER_FRAME_HEARTBEAT, &f), SYN_EBADMSG);
    assert_string_equal(f.errmsg, "HEARTBEAT from node id 0");
    /* Appended whole or not at all. */
    struct syn_buf small;
    syn_buf_init(&small, SYN_FRAME_HEADER_SIZE + PEER_HEARTBEAT_SIZE - 1);
    assert_int_equal(peer_encode_heartbeat(&small, &hb), SYN_ETOOBIG);
    assert_int_equal(small.len, 0);
    syn_buf_free(&small);
    syn_buf_free(&b);
}

/* Frames back to back, as a connection's input buffer holds them. */
static void test_pipelined(void **state)
{
    (void)state;
    struct syn_buf b;
    syn_buf_init(&b, 0);
    encode_samples(&b);
    size_t at = 0;
    uint32_t frames = 0;
    struct peer_frame f;
    size_t used = 0;
    while (peer_frame_parse(b.data + at, b.len - at, &f, &used) == 0) {
        assert_true(used >= SYN_FRAME_HEADER_SIZE);
        at += used;
        frames++;
    }
    assert_int_equal(at, b.len);
    assert_int_equal(frames, RAFT_MSG_TYPE_MAX + 4);
    syn_buf_free(&b);
}

/* ---- The format, as documented ------------------------------------------------------- */

static void test_header_layout(void **state)
{
    (void)state;
    struct syn_buf b;
    syn_buf_init(&b, 0);
    struct raft_message m = {.type = RAFT_MSG_VOTE,
                             .from = 0x0102030405060708ull,
                             .to = 2,
                             .term = 3,
                             .index = 4,
                             .log_term = 5,
                             .flags = RAFT_FLAG_TRANSFER};
    assert_int_equal(peer_encode_raft(&b, &m), 0);
    assert_int_equal(b.len, SYN_FRAME_HEADER_SIZE + PEER_RAFT_FIXED_SIZE);
    assert_int_equal(syn_get_u32le(b.data), b.len);
    assert_int_equal(b.data[4], PEER_FRAME_VERSION);
    assert_int_equal(b.data[5], PEER_FRAME_RAFT);
    assert_int_equal(syn_get_u16le(b.data + 6), 0);
    assert_int_equal(syn_get_u32le(b.data + 8), crc32c(0, b.data + 16, b.len - 16));
    assert_int_equal(syn_get_u32le(b.data + 12), crc32c(0, b.data, 12));
    const uint8_t *p = b.data + 16;
    assert_int_equal(syn_get_u32le(p), RAFT_MSG_VOTE);
    assert_int_equal(syn_get_u32le(p + 4), RAFT_FLAG_TRANSFER);
    assert_int_equal(syn_get_u64le(p + 8), m.from);
    assert_int_equal(syn_get_u64le(p + 16), 2);
    assert_int_equal(syn_get_u64le(p + 24), 3);
    assert_int_equal(syn_get_u64le(p + 32), 4);
    assert_int_equal(syn_get_u64le(p + 40), 5);
    assert_int_equal(syn_get_u32le(p + 88), 0); /* entry_count */
    assert_int_equal(syn_get_u32le(p + 92), 0); /* data_size */

    /* The same frame built by hand parses the same. */
    struct syn_buf hand;
    syn_buf_init(&hand, 0);
    frame_by_hand(&hand, (uint32_t)b.len, PEER_FRAME_VERSION, PEER_FRAME_RAFT, 0, p, b.len - 16);
    assert_memory_equal(hand.data, b.data, b.len);
    syn_buf_free(&hand);
    syn_buf_free(&b);
}

/* ---- Rejection ----------------------------------------------------------------------- */

/* Runs check on each sample frame, in a buffer of its own. */
static void each_sample_frame(void (*check)(const uint8_t *frame, size_t size))
{
    struct syn_buf b;
    syn_buf_init(&b, 0);
    encode_samples(&b);
    size_t at = 0;
    while (at < b.len) {
        struct peer_frame f;
        size_t used = 0;
        assert_int_equal(peer_frame_parse(b.data + at, b.len - at, &f, &used), 0);
        uint8_t *copy = malloc(used);
        assert_non_null(copy);
        memcpy(copy, b.data + at, used);
        check(copy, used);
        free(copy);
        at += used;
    }
    syn_buf_free(&b);
}

/* Every prefix is incomplete; once the header is in, it tells the frame's size. */
static void check_truncations(const uint8_t *frame, size_t size)
{
    for (size_t n = 0; n < size; n++) {
        /* a copy of exactly n bytes, so that ASan sees any read past them */
        uint8_t *copy = malloc(n + 1);
        assert_non_null(copy);
        memcpy(copy, frame, n);
        struct peer_frame f;
        size_t used = 0;
        assert_int_equal(peer_frame_parse(copy, n, &f, &used), PEER_FRAME_INCOMPLETE);
        assert_int_equal(used, 0);
        assert_int_equal(f.frame_size, n < SYN_FRAME_HEADER_SIZE ? 0 : size);
        free(copy);
    }
}

/* Every other value of every byte is refused at once, with a sentence: the version byte as
 * an unknown version, any other by a checksum. */
static void check_corruptions(const uint8_t *frame, size_t size)
{
    uint8_t *copy = malloc(size);
    assert_non_null(copy);
    memcpy(copy, frame, size);
    for (size_t i = 0; i < size; i++) {
        for (unsigned x = 1; x < 256; x++) {
            copy[i] = (uint8_t)(frame[i] ^ x);
            struct peer_frame f;
            size_t used = 0;
            int rc = peer_frame_parse(copy, size, &f, &used);
            assert_int_equal(rc, i == 4 ? SYN_EPROTO : SYN_EBADMSG);
            assert_non_null(f.errmsg);
            assert_int_equal(used, 0);
        }
        copy[i] = frame[i];
    }
    free(copy);
}

static void test_every_truncation(void **state)
{
    (void)state;
    each_sample_frame(check_truncations);
}

static void test_every_byte_corruption(void **state)
{
    (void)state;
    each_sample_frame(check_corruptions);
}

static void test_bad_headers(void **state)
{
    (void)state;
    struct syn_buf b;
    syn_buf_init(&b, 0);
    uint8_t hello[PEER_HELLO_FIXED_SIZE + 1] = {1, 0, 0, 0, 0, 0, 0, 0, 0,
                                                0, 0, 0, 0, 0, 0, 0, 1, 'x'};
    struct {
        uint32_t frame_size;
        uint8_t version, kind;
        uint16_t flags;
        int rc;
        const char *why;
    } cases[] = {
        {34, PEER_FRAME_VERSION + 1, PEER_FRAME_HELLO, 0, SYN_EPROTO,
         "unsupported peer frame version"},
        {34, 1, PEER_FRAME_HELLO, 0, SYN_EPROTO, "unsupported peer frame version"}, /* no HEARTBEAT */
        {34, 0, PEER_FRAME_HELLO, 0, SYN_EPROTO, "unsupported peer frame version"},
        {SYN_FRAME_SIZE_MAX + 1, PEER_FRAME_VERSION, PEER_FRAME_HELLO, 0, SYN_ETOOBIG,
         "frame size over SYN_FRAME_SIZE_MAX"},
        {UINT32_MAX, PEER_FRAME_VERSION, PEER_FRAME_HELLO, 0, SYN_ETOOBIG, "frame size over SYN_FRAME_SIZE_MAX"},
        {15, PEER_FRAME_VERSION, PEER_FRAME_HELLO, 0, SYN_EBADMSG, "frame size smaller than the header"},
        {0, PEER_FRAME_VERSION, PEER_FRAME_HELLO, 0, SYN_EBADMSG, "frame size smaller than the header"},
        {34, PEER_FRAME_VERSION, 0, 0, SYN_EBADMSG, "unknown frame kind"},
        {34, PEER_FRAME_VERSION, PEER_FRAME_KIND_MAX + 1, 0, SYN_EBADMSG, "unknown frame kind"},
        {34, PEER_FRAME_VERSION, PEER_FRAME_HELLO, 1, SYN_EBADMSG, "reserved frame flags are set"},
        {34, PEER_FRAME_VERSION, PEER_FRAME_HELLO, 0x8000, SYN_EBADMSG, "reserved frame flags are set"},
        {34, PEER_FRAME_VERSION, PEER_FRAME_HELLO, 0, 0, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        syn_buf_reset(&b);
        frame_by_hand(&b, cases[i].frame_size, cases[i].version, cases[i].kind, cases[i].flags,
                      hello, sizeof(hello));
        struct peer_frame f;
        size_t used = 0;
        int rc = peer_frame_parse(b.data, b.len, &f, &used);
        assert_int_equal(rc, cases[i].rc);
        if (rc != 0) {
            assert_string_equal(f.errmsg, cases[i].why);
            assert_int_equal(used, 0);
        }
    }
    /* Not a synod node at all: an HTTP or Redis client on the peer port. */
    static const char *const strangers[] = {"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                                            "*1\r\n$4\r\nPING\r\n"};
    for (size_t i = 0; i < 2; i++) {
        struct peer_frame f;
        size_t used = 0;
        assert_int_equal(
            peer_frame_parse((const uint8_t *)strangers[i], strlen(strangers[i]), &f, &used),
            SYN_EPROTO);
        assert_string_equal(f.errmsg, "unsupported peer frame version, or not a peer frame");
    }
    /* A header claiming more than is there: wait for it. */
    syn_buf_reset(&b);
    frame_by_hand(&b, 1000, PEER_FRAME_VERSION, PEER_FRAME_HELLO, 0, hello, sizeof(hello));
    struct peer_frame f;
    size_t used = 0;
    assert_int_equal(peer_frame_parse(b.data, b.len, &f, &used), PEER_FRAME_INCOMPLETE);
    assert_int_equal(f.frame_size, 1000);
    syn_buf_free(&b);
}

static void test_bad_hello(void **state)
{
    (void)state;
    struct peer_frame f;
    uint8_t p[PEER_HELLO_FIXED_SIZE + SYN_CLUSTER_ID_SIZE_MAX + 2];
    memset(p, 'a', sizeof(p));
    syn_put_u64le(p, 7);
    syn_put_u64le(p + 8, 0);
    p[16] = 3;
    assert_int_equal(parse_raw(p, PEER_HELLO_FIXED_SIZE + 3, PEER_FRAME_HELLO, &f), 0);
    assert_int_equal(parse_raw(p, PEER_HELLO_FIXED_SIZE - 1, PEER_FRAME_HELLO, &f), SYN_EBADMSG);
    assert_int_equal(parse_raw(p, PEER_HELLO_FIXED_SIZE + 2, PEER_FRAME_HELLO, &f), SYN_EBADMSG);
    assert_int_equal(parse_raw(p, PEER_HELLO_FIXED_SIZE + 4, PEER_FRAME_HELLO, &f), SYN_EBADMSG);
    p[16] = 0;
    assert_int_equal(parse_raw(p, PEER_HELLO_FIXED_SIZE, PEER_FRAME_HELLO, &f), SYN_EBADMSG);
    p[16] = SYN_CLUSTER_ID_SIZE_MAX + 1;
    assert_int_equal(
        parse_raw(p, PEER_HELLO_FIXED_SIZE + SYN_CLUSTER_ID_SIZE_MAX + 1, PEER_FRAME_HELLO, &f),
        SYN_EBADMSG);
    p[16] = 3;
    p[PEER_HELLO_FIXED_SIZE + 1] = ' ';
    assert_int_equal(parse_raw(p, PEER_HELLO_FIXED_SIZE + 3, PEER_FRAME_HELLO, &f), SYN_EBADMSG);
    assert_string_equal(f.errmsg, "HELLO cluster id empty, too long or not printable ASCII");
    p[PEER_HELLO_FIXED_SIZE + 1] = 'a';
    syn_put_u64le(p, 0);
    assert_int_equal(parse_raw(p, PEER_HELLO_FIXED_SIZE + 3, PEER_FRAME_HELLO, &f), SYN_EBADMSG);
    assert_string_equal(f.errmsg, "HELLO from node id 0");
    assert_int_equal(parse_raw(p, 7, PEER_FRAME_FORWARD_REQUEST, &f), SYN_EBADMSG);
    assert_int_equal(parse_raw(p, 8, PEER_FRAME_FORWARD_RESPONSE, &f), 0);
}

/* A RAFT payload with the given fixed part, then extra bytes. */
static size_t raft_payload(uint8_t *out, uint32_t type, uint32_t flags, uint32_t entry_count,
                           uint32_t data_size)
{
    memset(out, 0, PEER_RAFT_FIXED_SIZE);
    syn_put_u32le(out, type);
    syn_put_u32le(out + 4, flags);
    syn_put_u64le(out + 8, 1);
    syn_put_u64le(out + 16, 2);
    syn_put_u32le(out + 88, entry_count);
    syn_put_u32le(out + 92, data_size);
    return PEER_RAFT_FIXED_SIZE;
}

static size_t raft_entry_header(uint8_t *out, uint32_t type, uint32_t data_size)
{
    syn_put_u64le(out, 1);
    syn_put_u64le(out + 8, 1);
    syn_put_u32le(out + 16, type);
    syn_put_u32le(out + 20, data_size);
    return PEER_RAFT_ENTRY_HEADER_SIZE;
}

static void expect_raft_error(const uint8_t *p, size_t size, const char *why)
{
    struct peer_frame f;
    assert_int_equal(parse_raw(p, size, PEER_FRAME_RAFT, &f), SYN_EBADMSG);
    assert_string_equal(f.errmsg, why);
}

static void test_bad_raft_fixed(void **state)
{
    (void)state;
    uint8_t p[1024] = {0};
    size_t n = raft_payload(p, RAFT_MSG_VOTE, 0, 0, 0);
    struct peer_frame f;
    assert_int_equal(parse_raw(p, n, PEER_FRAME_RAFT, &f), 0);
    expect_raft_error(p, n - 1, "RAFT payload shorter than a message");
    expect_raft_error(p, n + 1, "trailing bytes after the Raft message");
    raft_payload(p, 0, 0, 0, 0);
    expect_raft_error(p, n, "unknown Raft message type");
    raft_payload(p, RAFT_MSG_TYPE_MAX + 1, 0, 0, 0);
    expect_raft_error(p, n, "unknown Raft message type");
    raft_payload(p, RAFT_MSG_VOTE, 0x8, 0, 0);
    expect_raft_error(p, n, "unknown Raft message flags");
    raft_payload(p, RAFT_MSG_APPEND, 0, SYN_APPEND_ENTRIES_MAX + 1, 0);
    expect_raft_error(p, n, "more entries than SYN_APPEND_ENTRIES_MAX");
    raft_payload(p, RAFT_MSG_APPEND, 0, UINT32_MAX, 0);
    expect_raft_error(p, n, "more entries than SYN_APPEND_ENTRIES_MAX");
    raft_payload(p, RAFT_MSG_HEARTBEAT, 0, 1, 0);
    expect_raft_error(p, n, "entries in a Raft message type that carries none");
    raft_payload(p, RAFT_MSG_APPEND, 0, 0, 1);
    expect_raft_error(p, n + 1, "chunk data in a Raft message type that carries none");
    raft_payload(p, RAFT_MSG_SNAPSHOT, 0, 0, SYN_SNAPSHOT_CHUNK_SIZE_MAX + 1);
    expect_raft_error(p, n, "snapshot chunk larger than SYN_SNAPSHOT_CHUNK_SIZE_MAX");
}

static void test_bad_raft_entries(void **state)
{
    (void)state;
    uint8_t p[1024] = {0};
    size_t n = raft_payload(p, RAFT_MSG_APPEND, 0, 2, 0);
    n += raft_entry_header(p + n, RAFT_ENTRY_NORMAL, 3);
    n += 3;
    size_t second = n;
    n += raft_entry_header(p + n, RAFT_ENTRY_CONF, 0);
    struct peer_frame f;
    assert_int_equal(parse_raw(p, n, PEER_FRAME_RAFT, &f), 0);
    expect_raft_error(p, n - 1, "entry header beyond the payload");
    expect_raft_error(p, PEER_RAFT_FIXED_SIZE + 40, "entry count larger than the payload can hold");
    raft_entry_header(p + second, 0, 0);
    expect_raft_error(p, n, "unknown entry type");
    raft_entry_header(p + second, RAFT_ENTRY_CONF + 1, 0);
    expect_raft_error(p, n, "unknown entry type");
    raft_entry_header(p + second, RAFT_ENTRY_NORMAL, 1);
    expect_raft_error(p, n, "entry data beyond the payload");
    raft_entry_header(p + second, RAFT_ENTRY_NORMAL, SYN_ENTRY_SIZE_MAX + 1);
    expect_raft_error(p, n, "entry larger than SYN_ENTRY_SIZE_MAX");
    raft_entry_header(p + second, RAFT_ENTRY_NORMAL, UINT32_MAX);
    expect_raft_error(p, n, "entry larger than SYN_ENTRY_SIZE_MAX");
    raft_entry_header(p + second, RAFT_ENTRY_NORMAL, 0);
    assert_int_equal(parse_raw(p, n, PEER_FRAME_RAFT, &f), 0);
    expect_raft_error(p, n + 5, "trailing bytes after the Raft message");

    /* entries of legal sizes that sum past SYN_APPEND_BYTES_MAX, in a frame of legal size */
    uint32_t count = SYN_APPEND_BYTES_MAX / SYN_ENTRY_SIZE_MAX + 1;
    size_t big_size =
        PEER_RAFT_FIXED_SIZE + count * PEER_RAFT_ENTRY_HEADER_SIZE + SYN_APPEND_BYTES_MAX + 1;
    uint8_t *big = calloc(1, big_size);
    assert_non_null(big);
    size_t at = raft_payload(big, RAFT_MSG_APPEND, 0, count, 0);
    for (uint32_t i = 0; i < count; i++) {
        uint32_t size = i + 1 < count ? SYN_ENTRY_SIZE_MAX : 1;
        at += raft_entry_header(big + at, RAFT_ENTRY_NORMAL, size);
        at += size;
    }
    assert_int_equal(at, big_size);
    assert_true(SYN_FRAME_HEADER_SIZE + big_size <= SYN_FRAME_SIZE_MAX);
    expect_raft_error(big, big_size, "entries larger than SYN_APPEND_BYTES_MAX");
    free(big);
}

static void test_bad_raft_snapshot(void **state)
{
    (void)state;
    uint8_t p[2048] = {0};
    struct raft_conf conf = three_members();
    size_t n = raft_payload(p, RAFT_MSG_SNAPSHOT, RAFT_FLAG_LAST, 0, 4);
    size_t meta = n;
    syn_put_u64le(p + n, 10);
    syn_put_u64le(p + n + 8, 2);
    syn_put_u64le(p + n + 16, 4);
    uint32_t conf_size = raft_conf_encode(&conf, p + n + PEER_RAFT_SNAPSHOT_HEADER_SIZE);
    syn_put_u32le(p + n + 24, conf_size);
    n += PEER_RAFT_SNAPSHOT_HEADER_SIZE + conf_size;
    size_t conf_at = n - conf_size;
    memcpy(p + n, "abcd", 4);
    n += 4;
    struct syn_buf b;
    syn_buf_init(&b, 0);
    frame_by_hand(&b, (uint32_t)(16 + n), PEER_FRAME_VERSION, PEER_FRAME_RAFT, 0, p, n);
    struct peer_frame f;
    size_t used = 0;
    assert_int_equal(peer_frame_parse(b.data, b.len, &f, &used), 0);
    struct raft_message msg;
    assert_int_equal(peer_decode_raft(&f, &msg, NULL, 0), 0);
    assert_int_equal(msg.snapshot.index, 10);
    assert_conf_equal(&msg.snapshot.conf, &conf);
    assert_memory_equal(msg.data, "abcd", 4);
    syn_buf_free(&b);

    expect_raft_error(p, n - 1, "snapshot chunk beyond the payload");
    expect_raft_error(p, meta + PEER_RAFT_SNAPSHOT_HEADER_SIZE - 1,
                      "snapshot meta beyond the payload");
    syn_put_u32le(p + meta + 24, RAFT_CONF_ENCODED_SIZE_MAX + 1);
    expect_raft_error(p, n, "snapshot configuration size out of range");
    syn_put_u32le(p + meta + 24, UINT32_MAX);
    expect_raft_error(p, n, "snapshot configuration size out of range");
    syn_put_u32le(p + meta + 24, conf_size + 4);
    expect_raft_error(p, n, "malformed snapshot configuration");
    syn_put_u32le(p + meta + 24, conf_size);
    p[conf_at] = 9; /* the configuration's format version */
    expect_raft_error(p, n, "malformed snapshot configuration");
}

static void test_decode_capacity(void **state)
{
    (void)state;
    struct raft_entry sample[3];
    struct raft_message m = sample_message(RAFT_MSG_APPEND, sample);
    struct syn_buf b;
    syn_buf_init(&b, 0);
    assert_int_equal(peer_encode_raft(&b, &m), 0);
    struct peer_frame f;
    size_t used = 0;
    assert_int_equal(peer_frame_parse(b.data, b.len, &f, &used), 0);
    struct raft_entry entries[3];
    struct raft_message out;
    assert_int_equal(peer_decode_raft(&f, &out, entries, 2), SYN_ETOOBIG);
    assert_int_equal(peer_decode_raft(&f, &out, NULL, 0), SYN_ETOOBIG);
    assert_int_equal(peer_decode_raft(&f, &out, entries, 3), 0);
    assert_ptr_equal(out.entries, entries);
    syn_buf_free(&b);
}

/* An encoder appends a whole frame or nothing. */
static void test_encode_limits(void **state)
{
    (void)state;
    struct syn_buf b;
    syn_buf_init(&b, 0);
    size_t body = SYN_FRAME_SIZE_MAX - SYN_FRAME_HEADER_SIZE - PEER_FORWARD_FIXED_SIZE;
    uint8_t *big = calloc(1, body + 1);
    assert_non_null(big);
    assert_int_equal(peer_encode_forward(&b, PEER_FRAME_FORWARD_RESPONSE, 1, big, body + 1),
                     SYN_ETOOBIG);
    assert_int_equal(b.len, 0);
    assert_int_equal(peer_encode_forward(&b, PEER_FRAME_FORWARD_RESPONSE, 1, big, body), 0);
    assert_int_equal(b.len, SYN_FRAME_SIZE_MAX);
    struct peer_frame f;
    size_t used = 0;
    assert_int_equal(peer_frame_parse(b.data, b.len, &f, &used), 0);
    assert_int_equal(used, SYN_FRAME_SIZE_MAX);
    free(big);
    syn_buf_free(&b);

    syn_buf_init(&b, 100);
    assert_int_equal(peer_encode_forward(&b, PEER_FRAME_FORWARD_REQUEST, 1, payload_bytes, 40), 0);
    size_t len = b.len;
    assert_int_equal(peer_encode_forward(&b, PEER_FRAME_FORWARD_REQUEST, 1, payload_bytes, 40),
                     SYN_ETOOBIG);
    assert_int_equal(b.len, len);
    syn_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raft_every_type),     cmocka_unit_test(test_raft_random),
        cmocka_unit_test(test_largest_append_fits), cmocka_unit_test(test_hello_and_forward),
        cmocka_unit_test(test_pipelined),           cmocka_unit_test(test_header_layout),
        cmocka_unit_test(test_heartbeat),
        cmocka_unit_test(test_every_truncation),    cmocka_unit_test(test_every_byte_corruption),
        cmocka_unit_test(test_bad_headers),         cmocka_unit_test(test_bad_hello),
        cmocka_unit_test(test_bad_raft_fixed),      cmocka_unit_test(test_bad_raft_entries),
        cmocka_unit_test(test_bad_raft_snapshot),   cmocka_unit_test(test_decode_capacity),
        cmocka_unit_test(test_encode_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
