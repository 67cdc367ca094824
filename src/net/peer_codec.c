/* peer_codec.c: encodes and parses peer frames (the format is in peer_codec.h and
 * docs/protocol.md). Everything read from data is untrusted: every count is checked against
 * the bytes that remain before it is used, and every size against limits.h. */
#include "net/peer_codec.h"

#include <stdbool.h>
#include <string.h>

#include "base/assert.h"
#include "base/crc32c.h"
#include "base/err.h"

/* Flags a RAFT frame may carry. A new RAFT_FLAG_* is a wire change: add it here and bump
 * PEER_FRAME_VERSION (docs/protocol.md, "Versioning"). */
#define RAFT_FLAGS_KNOWN (RAFT_FLAG_REJECT | RAFT_FLAG_TRANSFER | RAFT_FLAG_LAST)
#define HEADER_CRC_OFFSET 12u

_Static_assert(SYN_FRAME_HEADER_SIZE == 16u, "the header layout in peer_codec.h is 16 bytes");
_Static_assert(SYN_FRAME_HEADER_SIZE + PEER_RAFT_FIXED_SIZE +
                       SYN_APPEND_ENTRIES_MAX * PEER_RAFT_ENTRY_HEADER_SIZE +
                       SYN_APPEND_BYTES_MAX <=
                   SYN_FRAME_SIZE_MAX,
               "the largest AppendEntries fits a frame");
_Static_assert(SYN_FRAME_HEADER_SIZE + PEER_RAFT_FIXED_SIZE + PEER_RAFT_SNAPSHOT_HEADER_SIZE +
                       RAFT_CONF_ENCODED_SIZE_MAX + SYN_SNAPSHOT_CHUNK_SIZE_MAX <=
                   SYN_FRAME_SIZE_MAX,
               "the largest snapshot chunk fits a frame");
_Static_assert(SYN_FRAME_HEADER_SIZE + PEER_FORWARD_FIXED_SIZE + SYN_RESP_REQUEST_SIZE_MAX <=
                   SYN_FRAME_SIZE_MAX,
               "a forwarded client request fits a frame");
_Static_assert(SYN_CLUSTER_ID_SIZE_MAX <= 255u, "a cluster id size fits its u8");

/* ---- Reading untrusted bytes: callers check cursor_has() before taking ----------------- */

struct cursor {
    const uint8_t *data;
    size_t size;
    size_t at;
};

static bool cursor_has(const struct cursor *c, size_t n)
{
    return c->size - c->at >= n;
}

static const uint8_t *cursor_take(struct cursor *c, size_t n)
{
    ASSERT(cursor_has(c, n));
    const uint8_t *p = c->data + c->at;
    c->at += n;
    return p;
}

static uint32_t cursor_u32(struct cursor *c)
{
    return syn_get_u32le(cursor_take(c, 4));
}

static uint64_t cursor_u64(struct cursor *c)
{
    return syn_get_u64le(cursor_take(c, 8));
}

/* ---- Writing into memory reserved up front, so a frame is appended whole or not at all -- */

struct writer {
    uint8_t *frame; /* the frame's first byte, inside the syn_buf */
    uint8_t *at;
    uint8_t *end;
};

static void writer_bytes(struct writer *w, const void *data, size_t size)
{
    ASSERT((size_t)(w->end - w->at) >= size);
    if (size > 0) {
        memcpy(w->at, data, size);
    }
    w->at += size;
}

static void writer_u32(struct writer *w, uint32_t v)
{
    ASSERT(w->end - w->at >= 4);
    syn_put_u32le(w->at, v);
    w->at += 4;
}

static void writer_u64(struct writer *w, uint64_t v)
{
    ASSERT(w->end - w->at >= 8);
    syn_put_u64le(w->at, v);
    w->at += 8;
}

static int fail(struct peer_frame *f, int rc, const char *why)
{
    f->errmsg = why;
    return rc;
}

/* ---- Shape rules, shared by the encoder (asserted) and the decoder (checked) ------------ */

static bool cluster_id_valid(const uint8_t *id, uint32_t size)
{
    if (size == 0 || size > SYN_CLUSTER_ID_SIZE_MAX) {
        return false;
    }
    for (uint32_t i = 0; i < size; i++) {
        if (id[i] < 0x21 || id[i] > 0x7e) {
            return false;
        }
    }
    return true;
}

/* The scalar fields of a Raft message: which parts it may carry, and their sizes. */
static const char *raft_shape_check(const struct raft_message *m)
{
    if (m->type < RAFT_MSG_APPEND || m->type > RAFT_MSG_TYPE_MAX) {
        return "unknown Raft message type";
    }
    if ((m->flags & ~RAFT_FLAGS_KNOWN) != 0) {
        return "unknown Raft message flags";
    }
    if (m->entry_count > SYN_APPEND_ENTRIES_MAX) {
        return "more entries than SYN_APPEND_ENTRIES_MAX";
    }
    if (m->entry_count > 0 && m->type != RAFT_MSG_APPEND) {
        return "entries in a Raft message type that carries none";
    }
    if (m->data_size > SYN_SNAPSHOT_CHUNK_SIZE_MAX) {
        return "snapshot chunk larger than SYN_SNAPSHOT_CHUNK_SIZE_MAX";
    }
    if (m->data_size > 0 && m->type != RAFT_MSG_SNAPSHOT) {
        return "chunk data in a Raft message type that carries none";
    }
    return NULL;
}

/* One entry; *bytes sums the data of the message's entries so far. */
static const char *raft_entry_check(const struct raft_entry *e, uint64_t *bytes)
{
    if (e->type < RAFT_ENTRY_NORMAL || e->type > RAFT_ENTRY_CONF) {
        return "unknown entry type";
    }
    if (e->data_size > SYN_ENTRY_SIZE_MAX) {
        return "entry larger than SYN_ENTRY_SIZE_MAX";
    }
    *bytes += e->data_size;
    if (*bytes > SYN_APPEND_BYTES_MAX) {
        return "entries larger than SYN_APPEND_BYTES_MAX";
    }
    return NULL;
}

/* ---- Raft message decoding ----------------------------------------------------------- */

static const char *raft_fixed_decode(struct cursor *c, struct raft_message *m)
{
    if (!cursor_has(c, PEER_RAFT_FIXED_SIZE)) {
        return "RAFT payload shorter than a message";
    }
    m->type = cursor_u32(c);
    m->flags = cursor_u32(c);
    m->from = cursor_u64(c);
    m->to = cursor_u64(c);
    m->term = cursor_u64(c);
    m->index = cursor_u64(c);
    m->log_term = cursor_u64(c);
    m->commit = cursor_u64(c);
    m->hint = cursor_u64(c);
    m->hint_term = cursor_u64(c);
    m->context = cursor_u64(c);
    m->offset = cursor_u64(c);
    m->entry_count = cursor_u32(c);
    m->data_size = cursor_u32(c);
    return raft_shape_check(m);
}

/* entries may be NULL: validate without storing. */
static const char *raft_entries_decode(struct cursor *c, struct raft_message *m,
                                       struct raft_entry *entries)
{
    if ((uint64_t)m->entry_count * PEER_RAFT_ENTRY_HEADER_SIZE > c->size - c->at) {
        return "entry count larger than the payload can hold";
    }
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < m->entry_count; i++) {
        if (!cursor_has(c, PEER_RAFT_ENTRY_HEADER_SIZE)) {
            return "entry header beyond the payload";
        }
        struct raft_entry e = {0};
        e.term = cursor_u64(c);
        e.index = cursor_u64(c);
        e.type = cursor_u32(c);
        e.data_size = cursor_u32(c);
        const char *why = raft_entry_check(&e, &bytes);
        if (why != NULL) {
            return why;
        }
        if (!cursor_has(c, e.data_size)) {
            return "entry data beyond the payload";
        }
        e.data = cursor_take(c, e.data_size);
        if (entries != NULL) {
            entries[i] = e;
        }
    }
    m->entries = m->entry_count > 0 ? entries : NULL;
    return NULL;
}

static const char *raft_snapshot_decode(struct cursor *c, struct raft_message *m)
{
    if (!cursor_has(c, PEER_RAFT_SNAPSHOT_HEADER_SIZE)) {
        return "snapshot meta beyond the payload";
    }
    m->snapshot.index = cursor_u64(c);
    m->snapshot.term = cursor_u64(c);
    m->snapshot.size = cursor_u64(c);
    uint32_t conf_size = cursor_u32(c);
    if (conf_size > RAFT_CONF_ENCODED_SIZE_MAX || !cursor_has(c, conf_size)) {
        return "snapshot configuration size out of range";
    }
    if (raft_conf_decode(cursor_take(c, conf_size), conf_size, &m->snapshot.conf) != 0) {
        return "malformed snapshot configuration";
    }
    return NULL;
}

/* Decodes payload into m; entries NULL validates only. 0, SYN_EBADMSG or SYN_ETOOBIG. */
static int raft_decode(const uint8_t *payload, size_t size, struct raft_message *m,
                       struct raft_entry *entries, uint32_t entries_cap, const char **why)
{
    memset(m, 0, sizeof(*m));
    struct cursor c = {.data = payload, .size = size};
    *why = raft_fixed_decode(&c, m);
    if (*why == NULL && m->entry_count > entries_cap) {
        *why = "more entries than the caller has room for";
        return SYN_ETOOBIG;
    }
    if (*why == NULL) {
        *why = raft_entries_decode(&c, m, entries);
    }
    if (*why == NULL && m->type == RAFT_MSG_SNAPSHOT) {
        *why = raft_snapshot_decode(&c, m);
    }
    if (*why == NULL && !cursor_has(&c, m->data_size)) {
        *why = "snapshot chunk beyond the payload";
    }
    if (*why == NULL) {
        m->data = cursor_take(&c, m->data_size);
        if (c.at != c.size) {
            *why = "trailing bytes after the Raft message";
        }
    }
    return *why == NULL ? 0 : SYN_EBADMSG;
}

/* ---- Frame parsing ------------------------------------------------------------------- */

/* The 16 header bytes. The version is checked first: bytes 0 .. 5 (frame_size, version)
 * keep their meaning in every version, so a peer running another version is told apart
 * from a corrupted frame. */
static int header_parse(const uint8_t *h, struct peer_frame *f, uint32_t *payload_crc)
{
    bool header_crc_ok = crc32c(0, h, HEADER_CRC_OFFSET) == syn_get_u32le(h + HEADER_CRC_OFFSET);
    f->version = h[4];
    if (f->version != PEER_FRAME_VERSION) {
        /* Without a good checksum either, the peer is likely no synod node at all. */
        return fail(f, SYN_EPROTO,
                    header_crc_ok ? "unsupported peer frame version"
                                  : "unsupported peer frame version, or not a peer frame");
    }
    if (!header_crc_ok) {
        return fail(f, SYN_EBADMSG, "frame header checksum mismatch");
    }
    uint32_t frame_size = syn_get_u32le(h);
    if (frame_size < SYN_FRAME_HEADER_SIZE) {
        return fail(f, SYN_EBADMSG, "frame size smaller than the header");
    }
    if (frame_size > SYN_FRAME_SIZE_MAX) {
        return fail(f, SYN_ETOOBIG, "frame size over SYN_FRAME_SIZE_MAX");
    }
    f->kind = h[5];
    f->flags = syn_get_u16le(h + 6);
    if (f->kind < PEER_FRAME_HELLO || f->kind > PEER_FRAME_KIND_MAX) {
        return fail(f, SYN_EBADMSG, "unknown frame kind");
    }
    if (f->flags != 0) {
        return fail(f, SYN_EBADMSG, "reserved frame flags are set");
    }
    f->frame_size = frame_size;
    *payload_crc = syn_get_u32le(h + 8);
    return 0;
}

static int hello_parse(struct peer_frame *f)
{
    struct cursor c = {.data = f->payload, .size = f->payload_size};
    if (!cursor_has(&c, PEER_HELLO_FIXED_SIZE)) {
        return fail(f, SYN_EBADMSG, "HELLO payload too short");
    }
    struct peer_hello *h = &f->hello;
    h->node_id = cursor_u64(&c);
    h->peer_id = cursor_u64(&c);
    h->cluster_id_size = *cursor_take(&c, 1);
    if (h->node_id == 0) {
        return fail(f, SYN_EBADMSG, "HELLO from node id 0");
    }
    if (c.size - c.at != h->cluster_id_size) {
        return fail(f, SYN_EBADMSG, "HELLO payload size disagrees with its cluster id size");
    }
    h->cluster_id = cursor_take(&c, h->cluster_id_size);
    if (!cluster_id_valid(h->cluster_id, h->cluster_id_size)) {
        return fail(f, SYN_EBADMSG, "HELLO cluster id empty, too long or not printable ASCII");
    }
    return 0;
}

static int heartbeat_parse(struct peer_frame *f)
{
    struct cursor c = {.data = f->payload, .size = f->payload_size};
    if (f->payload_size != PEER_HEARTBEAT_SIZE) {
        return fail(f, SYN_EBADMSG, "HEARTBEAT payload is not 32 bytes");
    }
    struct peer_heartbeat *hb = &f->heartbeat;
    hb->node_id = cursor_u64(&c);
    hb->incarnation = cursor_u64(&c);
    hb->sequence = cursor_u64(&c);
    hb->sent_ms = cursor_u64(&c);
    if (hb->node_id == 0) {
        return fail(f, SYN_EBADMSG, "HEARTBEAT from node id 0");
    }
    return 0;
}

static int forward_parse(struct peer_frame *f)
{
    struct cursor c = {.data = f->payload, .size = f->payload_size};
    if (!cursor_has(&c, PEER_FORWARD_FIXED_SIZE)) {
        return fail(f, SYN_EBADMSG, "FORWARD payload too short");
    }
    f->forward.request_id = cursor_u64(&c);
    f->forward.body_size = (uint32_t)(c.size - c.at);
    f->forward.body = cursor_take(&c, f->forward.body_size);
    return 0;
}

/* The payload of a frame whose header and checksums are good. */
static int payload_parse(struct peer_frame *f)
{
    switch (f->kind) {
    case PEER_FRAME_HELLO:
        return hello_parse(f);
    case PEER_FRAME_RAFT: {
        struct raft_message msg;
        const char *why = NULL;
        int rc = raft_decode(f->payload, f->payload_size, &msg, NULL, SYN_APPEND_ENTRIES_MAX, &why);
        return rc == 0 ? 0 : fail(f, rc, why);
    }
    case PEER_FRAME_FORWARD_REQUEST:
    case PEER_FRAME_FORWARD_RESPONSE:
        return forward_parse(f);
    case PEER_FRAME_HEARTBEAT:
        return heartbeat_parse(f);
    default:
        UNREACHABLE(); /* header_parse() checked the kind */
    }
}

int peer_frame_parse(const uint8_t *data, size_t size, struct peer_frame *out, size_t *consumed)
{
    *consumed = 0;
    *out = (struct peer_frame){0};
    if (size < SYN_FRAME_HEADER_SIZE) {
        /* The version byte means the same in every version: refuse a stranger at once. */
        if (size > 4 && data[4] != PEER_FRAME_VERSION) {
            return fail(out, SYN_EPROTO, "unsupported peer frame version, or not a peer frame");
        }
        return PEER_FRAME_INCOMPLETE;
    }
    uint32_t payload_crc = 0;
    int rc = header_parse(data, out, &payload_crc);
    if (rc != 0) {
        return rc;
    }
    if (size < out->frame_size) {
        return PEER_FRAME_INCOMPLETE;
    }
    out->payload = data + SYN_FRAME_HEADER_SIZE;
    out->payload_size = out->frame_size - SYN_FRAME_HEADER_SIZE;
    if (crc32c(0, out->payload, out->payload_size) != payload_crc) {
        return fail(out, SYN_EBADMSG, "frame payload checksum mismatch");
    }
    rc = payload_parse(out);
    if (rc != 0) {
        return rc;
    }
    *consumed = out->frame_size;
    return 0;
}

int peer_decode_raft(const struct peer_frame *f, struct raft_message *msg,
                     struct raft_entry *entries, uint32_t entries_cap)
{
    ASSERT(entries != NULL || entries_cap == 0);
    if (f->kind != PEER_FRAME_RAFT) {
        return SYN_EBADMSG;
    }
    const char *why = NULL;
    return raft_decode(f->payload, f->payload_size, msg, entries, entries_cap, &why);
}

/* ---- Encoding ------------------------------------------------------------------------ */

/* Reserves a whole frame of payload_size bytes in b; w writes its payload. */
static int frame_begin(struct syn_buf *b, size_t payload_size, struct writer *w)
{
    if (payload_size > SYN_FRAME_SIZE_MAX - SYN_FRAME_HEADER_SIZE) {
        return SYN_ETOOBIG;
    }
    int rc = syn_buf_reserve(b, SYN_FRAME_HEADER_SIZE + payload_size);
    if (rc != 0) {
        return rc;
    }
    w->frame = b->data + b->len;
    w->at = w->frame + SYN_FRAME_HEADER_SIZE;
    w->end = w->at + payload_size;
    return 0;
}

/* Fills the header of the payload w wrote, appends the frame to b, and checks it reads back
 * (STYLE 7: check a record after encoding, and again after reading). */
static void frame_end(struct syn_buf *b, struct writer *w, enum peer_frame_kind kind)
{
    ASSERT(w->at == w->end);
    uint8_t *h = w->frame;
    uint32_t frame_size = (uint32_t)(w->end - w->frame);
    syn_put_u32le(h, frame_size);
    h[4] = PEER_FRAME_VERSION;
    h[5] = (uint8_t)kind;
    h[6] = 0;
    h[7] = 0;
    syn_put_u32le(h + 8, crc32c(0, h + SYN_FRAME_HEADER_SIZE, frame_size - SYN_FRAME_HEADER_SIZE));
    syn_put_u32le(h + HEADER_CRC_OFFSET, crc32c(0, h, HEADER_CRC_OFFSET));
    b->len += frame_size;

    struct peer_frame f = {0};
    uint32_t payload_crc = 0;
    int rc = header_parse(h, &f, &payload_crc);
    ASSERT(rc == 0);
    f.payload = h + SYN_FRAME_HEADER_SIZE;
    f.payload_size = frame_size - SYN_FRAME_HEADER_SIZE;
    rc = payload_parse(&f);
    ASSERT(rc == 0);
}

int peer_encode_hello(struct syn_buf *b, const struct peer_hello *hello)
{
    ASSERT(hello->node_id != 0);
    ASSERT(cluster_id_valid(hello->cluster_id, hello->cluster_id_size));
    struct writer w;
    int rc = frame_begin(b, PEER_HELLO_FIXED_SIZE + hello->cluster_id_size, &w);
    if (rc != 0) {
        return rc;
    }
    writer_u64(&w, hello->node_id);
    writer_u64(&w, hello->peer_id);
    uint8_t id_size = (uint8_t)hello->cluster_id_size;
    writer_bytes(&w, &id_size, 1);
    writer_bytes(&w, hello->cluster_id, hello->cluster_id_size);
    frame_end(b, &w, PEER_FRAME_HELLO);
    return 0;
}

int peer_encode_forward(struct syn_buf *b, enum peer_frame_kind kind, uint64_t request_id,
                        const uint8_t *body, size_t body_size)
{
    ASSERT(kind == PEER_FRAME_FORWARD_REQUEST || kind == PEER_FRAME_FORWARD_RESPONSE);
    if (body_size > SYN_FRAME_SIZE_MAX - SYN_FRAME_HEADER_SIZE - PEER_FORWARD_FIXED_SIZE) {
        return SYN_ETOOBIG;
    }
    struct writer w;
    int rc = frame_begin(b, PEER_FORWARD_FIXED_SIZE + body_size, &w);
    if (rc != 0) {
        return rc;
    }
    writer_u64(&w, request_id);
    writer_bytes(&w, body, body_size);
    frame_end(b, &w, kind);
    return 0;
}

int peer_encode_heartbeat(struct syn_buf *b, const struct peer_heartbeat *hb)
{
    ASSERT(hb->node_id != 0);
    struct writer w;
    int rc = frame_begin(b, PEER_HEARTBEAT_SIZE, &w);
    if (rc != 0) {
        return rc;
    }
    writer_u64(&w, hb->node_id);
    writer_u64(&w, hb->incarnation);
    writer_u64(&w, hb->sequence);
    writer_u64(&w, hb->sent_ms);
    frame_end(b, &w, PEER_FRAME_HEARTBEAT);
    return 0;
}

/* The payload size of m, whose configuration encodes to conf_size bytes. */
static size_t raft_payload_size(const struct raft_message *m, uint32_t conf_size)
{
    size_t size = PEER_RAFT_FIXED_SIZE + m->data_size;
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < m->entry_count; i++) {
        const char *why = raft_entry_check(&m->entries[i], &bytes);
        ASSERT(why == NULL);
        if (m->entries[i].data_size > 0) {
            ASSERT(m->entries[i].data != NULL);
        }
        size += PEER_RAFT_ENTRY_HEADER_SIZE + m->entries[i].data_size;
    }
    if (m->type == RAFT_MSG_SNAPSHOT) {
        size += PEER_RAFT_SNAPSHOT_HEADER_SIZE + conf_size;
    }
    return size;
}

static void raft_fixed_write(struct writer *w, const struct raft_message *m)
{
    writer_u32(w, m->type);
    writer_u32(w, m->flags);
    writer_u64(w, m->from);
    writer_u64(w, m->to);
    writer_u64(w, m->term);
    writer_u64(w, m->index);
    writer_u64(w, m->log_term);
    writer_u64(w, m->commit);
    writer_u64(w, m->hint);
    writer_u64(w, m->hint_term);
    writer_u64(w, m->context);
    writer_u64(w, m->offset);
    writer_u32(w, m->entry_count);
    writer_u32(w, m->data_size);
}

int peer_encode_raft(struct syn_buf *b, const struct raft_message *msg)
{
    ASSERT(raft_shape_check(msg) == NULL);
    if (msg->data_size > 0) {
        ASSERT(msg->data != NULL);
    }
    uint8_t conf[RAFT_CONF_ENCODED_SIZE_MAX];
    uint32_t conf_size = 0;
    if (msg->type == RAFT_MSG_SNAPSHOT) {
        conf_size = raft_conf_encode(&msg->snapshot.conf, conf);
    }
    struct writer w;
    int rc = frame_begin(b, raft_payload_size(msg, conf_size), &w);
    if (rc != 0) {
        return rc;
    }
    raft_fixed_write(&w, msg);
    for (uint32_t i = 0; i < msg->entry_count; i++) {
        const struct raft_entry *e = &msg->entries[i];
        writer_u64(&w, e->term);
        writer_u64(&w, e->index);
        writer_u32(&w, e->type);
        writer_u32(&w, e->data_size);
        writer_bytes(&w, e->data, e->data_size);
    }
    if (msg->type == RAFT_MSG_SNAPSHOT) {
        writer_u64(&w, msg->snapshot.index);
        writer_u64(&w, msg->snapshot.term);
        writer_u64(&w, msg->snapshot.size);
        writer_u32(&w, conf_size);
        writer_bytes(&w, conf, conf_size);
    }
    writer_bytes(&w, msg->data, msg->data_size);
    frame_end(b, &w, PEER_FRAME_RAFT);
    return 0;
}
