/* test_transport.c: the peer transport over real TCP on 127.0.0.1: every Raft message type,
 * large entries and a snapshot chunk, and FORWARD frames between 2-3 nodes; reconnection with
 * backoff after a peer restarts; bounded queues for a dead and for a slow peer; and refusal of
 * bad HELLOs, garbage and oversized frames from raw clients while a valid peer keeps being
 * served; heartbeats that jump a full queue, and on_heard for every frame. Every loop run is bounded by a guard timer, and every test ends with
 * uv_loop_close() == 0: no handle is left behind (STYLE 16). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/crc32c.h"
#include "base/err.h"
#include "base/prng.h"
#include "log/log.h"
#include "net/frame_queue.h"
#include "net/transport.h"
#include "net/transport_internal.h"

#define NODES_MAX 3
#define RAW_MAX 4
#define EXPECT_MAX 32
#define CLUSTER "synod-test"
#define BLOB_SIZE (SYN_APPEND_BYTES_MAX)

struct fixture;

struct node {
    struct fixture *f;
    raft_id id;
    struct transport *t;
    uint16_t port;
    bool closed; /* transport_close() called back */
    /* What arrived. */
    uint32_t raft_count;
    uint32_t mismatches;
    uint32_t forward_count;
    uint64_t last_request_id;
    int last_forward_kind;
    uint32_t ups[NODES_MAX + 1];
    uint32_t downs[NODES_MAX + 1];
    uint32_t heard_count;              /* on_heard calls */
    uint32_t heard_heartbeats;         /* ... with a heartbeat */
    uint32_t heard_raft_before_hb;     /* frames heard before the first heartbeat */
    struct peer_heartbeat last_hb;
    const struct raft_message *expect; /* RAFT messages expected, in order */
    uint32_t expect_count;
    bool close_on_raft; /* transport_close() from inside on_raft */
    raft_id remove_on_raft;
};

/* A raw TCP client that writes bytes and waits for the server to close. */
struct raw_client {
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_write_t write;
    struct syn_buf bytes;
    bool used;
    bool connected;
    bool ended;  /* read EOF or an error */
    bool closed; /* the handle's close callback ran */
    char sink[256];
};

/* A raw server that accepts and never reads: a slow peer. */
struct raw_server {
    uv_tcp_t listener;
    uv_tcp_t accepted;
    bool used;
    bool talk; /* writes a byte to what it accepts, which an acceptor must never do */
    bool has_accepted;
    uint32_t closes_pending;
    uint16_t port;
};

struct fixture {
    uv_loop_t loop;
    uv_timer_t guard;
    bool timed_out;
    struct node nodes[NODES_MAX + 1]; /* by id: 1 .. NODES_MAX */
    struct raw_client raw[RAW_MAX];
    struct raw_server slow;
    uv_tcp_t holder; /* holds a port nobody listens on */
    bool holder_used;
    uint8_t *blob; /* pattern bytes that entries and chunks point into */
    struct raft_entry small_entries[3];
    struct raft_entry big_entries[4];
    struct raft_message expect[EXPECT_MAX];
    uint32_t expect_count;
};

/* ---- The loop, bounded --------------------------------------------------------------- */

static void on_guard(uv_timer_t *timer)
{
    struct fixture *f = timer->data;
    f->timed_out = true;
}

static void guard_start(struct fixture *f, uint64_t ms)
{
    f->timed_out = false;
    uv_update_time(&f->loop); /* the test may have worked a while since the loop last ran */
    uv_timer_start(&f->guard, on_guard, ms, 0);
}

/* Runs the loop until cond holds; fails the test after ms. */
#define RUN_UNTIL(f, cond, ms)                                                                     \
    do {                                                                                           \
        guard_start((f), (ms));                                                                    \
        while (!(cond) && !(f)->timed_out) {                                                       \
            uv_run(&(f)->loop, UV_RUN_ONCE);                                                       \
        }                                                                                          \
        uv_timer_stop(&(f)->guard);                                                                \
        if (!(cond)) {                                                                             \
            fail_msg("timed out after %u ms waiting for: %s", (unsigned)(ms), #cond);              \
        }                                                                                          \
    } while (0)

/* Runs the loop for ms, whatever happens. */
static void run_for(struct fixture *f, uint64_t ms)
{
    guard_start(f, ms);
    while (!f->timed_out) {
        uv_run(&f->loop, UV_RUN_ONCE);
    }
}

/* ---- Nodes --------------------------------------------------------------------------- */

static struct raft_message sample(struct fixture *f, uint32_t type, raft_id from, raft_id to);

static bool msg_equal(const struct raft_message *a, const struct raft_message *b)
{
    bool eq = a->type == b->type && a->flags == b->flags && a->from == b->from && a->to == b->to &&
              a->term == b->term && a->index == b->index && a->log_term == b->log_term &&
              a->commit == b->commit && a->hint == b->hint && a->hint_term == b->hint_term &&
              a->context == b->context && a->offset == b->offset &&
              a->entry_count == b->entry_count && a->data_size == b->data_size &&
              a->snapshot.index == b->snapshot.index && a->snapshot.term == b->snapshot.term &&
              a->snapshot.size == b->snapshot.size &&
              a->snapshot.conf.member_count == b->snapshot.conf.member_count;
    for (uint32_t i = 0; eq && i < a->entry_count; i++) {
        const struct raft_entry *x = &a->entries[i];
        const struct raft_entry *y = &b->entries[i];
        eq = x->term == y->term && x->index == y->index && x->type == y->type &&
             x->data_size == y->data_size && memcmp(x->data, y->data, x->data_size) == 0;
    }
    for (uint32_t i = 0; eq && i < a->snapshot.conf.member_count; i++) {
        const struct raft_member *x = &a->snapshot.conf.members[i];
        const struct raft_member *y = &b->snapshot.conf.members[i];
        eq = x->id == y->id && x->role == y->role && x->addr_size == y->addr_size &&
             memcmp(x->addr, y->addr, x->addr_size) == 0;
    }
    return eq && (a->data_size == 0 || memcmp(a->data, b->data, a->data_size) == 0);
}

static void on_raft(void *ctx, const struct raft_message *msg)
{
    struct node *n = ctx;
    if (n->raft_count < n->expect_count && !msg_equal(msg, &n->expect[n->raft_count])) {
        fprintf(stderr, "node %llu: message %u (%s) differs from the one sent\n",
                (unsigned long long)n->id, n->raft_count, raft_msg_type_name(msg->type));
        n->mismatches++;
    }
    n->raft_count++;
    if (n->remove_on_raft != 0) {
        transport_remove_peer(n->t, n->remove_on_raft);
    }
    if (n->close_on_raft && !n->closed) {
        n->close_on_raft = false;
        transport_close(n->t, NULL, NULL);
        /* Until the close callbacks ran, t still answers, and refuses. */
        struct raft_message m = sample(n->f, RAFT_MSG_HEARTBEAT, n->id, msg->from);
        if (transport_send_raft(n->t, &m) != SYN_ESHUTDOWN ||
            transport_set_peer(n->t, 3, "127.0.0.1:1") != SYN_ESHUTDOWN) {
            n->mismatches++;
        }
        n->t = NULL;
        n->closed = true;
    }
}

static void on_forward(void *ctx, raft_id from, int kind, uint64_t request_id, const uint8_t *body,
                       size_t size)
{
    struct node *n = ctx;
    n->forward_count++;
    n->last_request_id = request_id;
    n->last_forward_kind = kind;
    if (size != 1000 || memcmp(body, n->f->blob, size) != 0) {
        n->mismatches++;
    }
}

static void on_heard(void *ctx, raft_id from, const struct peer_heartbeat *hb)
{
    struct node *n = ctx;
    n->heard_count++;
    if (hb == NULL && n->heard_heartbeats == 0) {
        n->heard_raft_before_hb++;
    }
    if (hb != NULL) {
        n->heard_heartbeats++;
        n->last_hb = *hb;
        if (hb->node_id != from) {
            n->mismatches++;
        }
    }
}

static void on_peer(void *ctx, raft_id peer, bool connected)
{
    struct node *n = ctx;
    if (peer <= NODES_MAX) {
        (connected ? n->ups : n->downs)[peer]++;
    }
}

static void on_closed(void *ctx)
{
    struct node *n = ctx;
    n->closed = true;
}

static struct transport_config node_config(raft_id id, const char *listen)
{
    return (struct transport_config){
        .self = id,
        .cluster_id = CLUSTER,
        .listen_addr = listen,
        .backoff_min_ms = 10,
        .backoff_max_ms = 100,
        .hello_timeout_ms = 300,
        .seed = id,
    };
}

/* Starts node id on 127.0.0.1:port (0: any). */
static struct node *node_start_with(struct fixture *f, raft_id id, uint16_t port,
                                    const struct transport_config *base)
{
    struct node *n = &f->nodes[id];
    *n = (struct node){.f = f, .id = id};
    char listen[32];
    snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
    struct transport_config config = *base;
    config.listen_addr = listen;
    struct transport_callbacks cb = {
        .ctx = n, .on_raft = on_raft, .on_forward = on_forward, .on_peer = on_peer,
        .on_heard = on_heard};
    char errmsg[TRANSPORT_ERRMSG_SIZE];
    int rc = transport_start(&f->loop, &config, &cb, &n->t, errmsg);
    if (rc != 0) {
        fail_msg("transport_start: %s", errmsg);
    }
    n->port = transport_listen_port(n->t);
    assert_true(n->port != 0);
    if (port != 0) {
        assert_int_equal(n->port, port);
    }
    return n;
}

static struct node *node_start(struct fixture *f, raft_id id, uint16_t port)
{
    struct transport_config config = node_config(id, NULL);
    return node_start_with(f, id, port, &config);
}

static void node_link(struct node *a, const struct node *b)
{
    char addr[32];
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", b->port);
    assert_int_equal(transport_set_peer(a->t, b->id, addr), 0);
}

/* Nodes 1 and 2, each a peer of the other. */
static void pair_start(struct fixture *f, struct node **n1, struct node **n2)
{
    *n1 = node_start(f, 1, 0);
    *n2 = node_start(f, 2, 0);
    node_link(*n1, *n2);
    node_link(*n2, *n1);
}

static void node_stop(struct fixture *f, struct node *n)
{
    transport_close(n->t, on_closed, n);
    n->t = NULL;
    RUN_UNTIL(f, n->closed, 2000);
}

static struct transport_peer_stats peer_stats(const struct node *n, raft_id id)
{
    struct transport_peer_stats s;
    assert_int_equal(transport_peer_stats(n->t, id, &s), 0);
    return s;
}

static bool peer_connected(const struct node *n, raft_id id)
{
    struct transport_peer_stats s;
    return transport_peer_stats(n->t, id, &s) == 0 && s.connected;
}

/* ---- Messages ------------------------------------------------------------------------ */

static struct raft_conf sample_conf(void)
{
    struct raft_conf conf = {.member_count = 3};
    for (uint32_t i = 0; i < 3; i++) {
        struct raft_member *m = &conf.members[i];
        m->id = i + 1;
        m->role = i == 2 ? RAFT_LEARNER : RAFT_VOTER;
        m->addr_size = (uint8_t)snprintf(m->addr, sizeof(m->addr), "10.0.0.%u:7001", i + 1);
    }
    return conf;
}

/* A message of type from -> to with every field its type may carry set to something. */
static struct raft_message sample(struct fixture *f, uint32_t type, raft_id from, raft_id to)
{
    struct raft_message m = {
        .type = type,
        .from = from,
        .to = to,
        .term = 7 + type,
        .index = 100 + type,
        .log_term = 6,
        .commit = 90 + type,
        .hint = 3ull * type,
        .hint_term = 5,
        .context = 0xc0ffee00ull + type,
    };
    if (type == RAFT_MSG_APPEND) {
        m.entries = f->small_entries;
        m.entry_count = 3;
    }
    if (type == RAFT_MSG_VOTE || type == RAFT_MSG_PRE_VOTE) {
        m.flags = RAFT_FLAG_TRANSFER;
    }
    if (type % 2 == 0) {
        m.flags = RAFT_FLAG_REJECT; /* the responses */
    }
    if (type == RAFT_MSG_SNAPSHOT) {
        m.flags = RAFT_FLAG_LAST;
        m.snapshot = (struct raft_snapshot_meta){
            .index = 5000, .term = 4, .size = 8ull << 20, .conf = sample_conf()};
        m.offset = 7ull << 20;
        m.data = f->blob;
        m.data_size = SYN_SNAPSHOT_CHUNK_SIZE_MAX;
    }
    return m;
}

/* The largest AppendEntries: SYN_APPEND_BYTES_MAX of entries. */
static struct raft_message big_append(struct fixture *f, raft_id from, raft_id to)
{
    struct raft_message m = sample(f, RAFT_MSG_APPEND, from, to);
    m.entries = f->big_entries;
    m.entry_count = 4;
    return m;
}

static void entries_init(struct fixture *f)
{
    static const uint32_t sizes[3] = {100, 0, 37};
    static const uint32_t types[3] = {RAFT_ENTRY_NORMAL, RAFT_ENTRY_NOOP, RAFT_ENTRY_CONF};
    for (uint32_t i = 0; i < 3; i++) {
        f->small_entries[i] = (struct raft_entry){.term = 8,
                                                  .index = 102 + i,
                                                  .type = types[i],
                                                  .data_size = sizes[i],
                                                  .data = f->blob + 11 * i};
    }
    for (uint32_t i = 0; i < 4; i++) {
        f->big_entries[i] = (struct raft_entry){.term = 8,
                                                .index = 200 + i,
                                                .type = RAFT_ENTRY_NORMAL,
                                                .data_size = SYN_ENTRY_SIZE_MAX,
                                                .data = f->blob + (size_t)i * SYN_ENTRY_SIZE_MAX};
    }
}

/* ---- Raw clients and servers --------------------------------------------------------- */

static void raw_on_close(uv_handle_t *handle)
{
    struct raw_client *r = handle->data;
    r->closed = true;
}

static void raw_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    struct raw_client *r = handle->data;
    *buf = uv_buf_init(r->sink, sizeof(r->sink));
}

static void raw_on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct raw_client *r = stream->data;
    if (nread < 0 && !r->ended) {
        r->ended = true;
        uv_close((uv_handle_t *)&r->tcp, raw_on_close);
    }
}

static void raw_on_write(uv_write_t *req, int status)
{
}

static void raw_on_connect(uv_connect_t *req, int status)
{
    struct raw_client *r = req->data;
    if (status < 0) { /* refused, or closed while connecting (UV_ECANCELED) */
        if (!r->ended) {
            r->ended = true;
            uv_close((uv_handle_t *)&r->tcp, raw_on_close);
        }
        return;
    }
    r->connected = true;
    if (r->bytes.len > 0) {
        uv_buf_t buf = uv_buf_init((char *)r->bytes.data, (unsigned)r->bytes.len);
        assert_int_equal(uv_write(&r->write, (uv_stream_t *)&r->tcp, &buf, 1, raw_on_write), 0);
    }
    assert_int_equal(uv_read_start((uv_stream_t *)&r->tcp, raw_alloc, raw_on_read), 0);
}

/* A raw client of f's slot i; its bytes are filled by the caller before raw_connect(). */
static struct raw_client *raw_new(struct fixture *f, int i)
{
    struct raw_client *r = &f->raw[i];
    assert_false(r->used);
    *r = (struct raw_client){.used = true};
    syn_buf_init(&r->bytes, 0);
    return r;
}

static void raw_connect(struct fixture *f, struct raw_client *r, uint16_t port)
{
    struct sockaddr_in sa;
    assert_int_equal(uv_ip4_addr("127.0.0.1", port, &sa), 0);
    assert_int_equal(uv_tcp_init(&f->loop, &r->tcp), 0);
    r->tcp.data = r;
    r->connect.data = r;
    assert_int_equal(
        uv_tcp_connect(&r->connect, &r->tcp, (const struct sockaddr *)&sa, raw_on_connect), 0);
}

static void raw_free(struct raw_client *r)
{
    syn_buf_free(&r->bytes);
    r->used = false;
}

static void hello_append(struct syn_buf *b, raft_id from, raft_id to, const char *cluster)
{
    struct peer_hello h = {.node_id = from,
                           .peer_id = to,
                           .cluster_id_size = (uint32_t)strlen(cluster),
                           .cluster_id = (const uint8_t *)cluster};
    assert_int_equal(peer_encode_hello(b, &h), 0);
}

/* A frame header with a correct header checksum and any size and kind. */
static void header_append(struct syn_buf *b, uint32_t frame_size, uint8_t kind)
{
    uint8_t h[16] = {0};
    syn_put_u32le(h, frame_size);
    h[4] = PEER_FRAME_VERSION;
    h[5] = kind;
    syn_put_u32le(h + 12, crc32c(0, h, 12));
    assert_int_equal(syn_buf_append(b, h, sizeof(h)), 0);
}

static void slow_on_close(uv_handle_t *handle)
{
    struct raw_server *s = handle->data;
    s->closes_pending--;
}

static void slow_on_connection(uv_stream_t *server, int status)
{
    struct raw_server *s = server->data;
    assert_int_equal(status, 0);
    if (s->has_accepted) {
        return; /* later connections wait in the backlog */
    }
    assert_int_equal(uv_tcp_init(server->loop, &s->accepted), 0);
    s->accepted.data = s;
    s->closes_pending++;
    assert_int_equal(uv_accept(server, (uv_stream_t *)&s->accepted), 0);
    s->has_accepted = true; /* and never reads from it */
    if (s->talk) {
        uv_buf_t byte = uv_buf_init("?", 1);
        assert_int_equal(uv_try_write((uv_stream_t *)&s->accepted, &byte, 1), 1);
    }
}

static void slow_start(struct fixture *f, bool talk)
{
    struct raw_server *s = &f->slow;
    *s = (struct raw_server){.used = true, .talk = talk};
    struct sockaddr_in sa;
    assert_int_equal(uv_ip4_addr("127.0.0.1", 0, &sa), 0);
    assert_int_equal(uv_tcp_init(&f->loop, &s->listener), 0);
    s->listener.data = s;
    s->closes_pending = 1;
    assert_int_equal(uv_tcp_bind(&s->listener, (const struct sockaddr *)&sa, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&s->listener, 8, slow_on_connection), 0);
    struct sockaddr_storage name;
    int size = sizeof(name);
    assert_int_equal(uv_tcp_getsockname(&s->listener, (struct sockaddr *)&name, &size), 0);
    struct sockaddr_in in4;
    memcpy(&in4, &name, sizeof(in4));
    s->port = ntohs(in4.sin_port);
}

static void slow_stop(struct fixture *f)
{
    struct raw_server *s = &f->slow;
    uv_close((uv_handle_t *)&s->listener, slow_on_close);
    if (s->has_accepted) {
        uv_close((uv_handle_t *)&s->accepted, slow_on_close);
    }
    RUN_UNTIL(f, s->closes_pending == 0, 2000);
    s->used = false;
}

/* A port on 127.0.0.1 where nobody listens, held by a bound socket so nobody will. */
static uint16_t dead_port(struct fixture *f)
{
    struct sockaddr_in sa;
    assert_false(f->holder_used);
    assert_int_equal(uv_ip4_addr("127.0.0.1", 0, &sa), 0);
    assert_int_equal(uv_tcp_init(&f->loop, &f->holder), 0);
    f->holder_used = true;
    assert_int_equal(uv_tcp_bind(&f->holder, (const struct sockaddr *)&sa, 0), 0);
    struct sockaddr_storage name;
    int size = sizeof(name);
    assert_int_equal(uv_tcp_getsockname(&f->holder, (struct sockaddr *)&name, &size), 0);
    struct sockaddr_in in4;
    memcpy(&in4, &name, sizeof(in4));
    return ntohs(in4.sin_port);
}

/* ---- Setup and teardown -------------------------------------------------------------- */

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(uv_timer_init(&f->loop, &f->guard), 0);
    f->guard.data = f;
    f->blob = malloc(BLOB_SIZE);
    assert_non_null(f->blob);
    struct prng prng;
    prng_init(&prng, 42);
    for (size_t i = 0; i < BLOB_SIZE; i += 8) {
        uint64_t v = prng_next(&prng);
        memcpy(f->blob + i, &v, 8);
    }
    entries_init(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    for (raft_id id = 1; id <= NODES_MAX; id++) {
        if (f->nodes[id].t != NULL) {
            node_stop(f, &f->nodes[id]);
        }
    }
    for (int i = 0; i < RAW_MAX; i++) {
        if (f->raw[i].used && !f->raw[i].ended) {
            uv_close((uv_handle_t *)&f->raw[i].tcp, raw_on_close);
            f->raw[i].ended = true;
        }
    }
    if (f->slow.used) {
        slow_stop(f);
    }
    if (f->holder_used) {
        uv_close((uv_handle_t *)&f->holder, NULL);
    }
    uv_close((uv_handle_t *)&f->guard, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT); /* returns once every handle is closed */
    assert_int_equal(uv_loop_close(&f->loop), 0);
    for (int i = 0; i < RAW_MAX; i++) {
        if (f->raw[i].used) {
            raw_free(&f->raw[i]);
        }
    }
    free(f->blob);
    free(f);
    return 0;
}

/* ---- Tests: pieces ------------------------------------------------------------------- */

static void test_frame_queue_bound(void **state)
{
    uint8_t frame[100] = {1};
    struct frame_queue q;
    frame_queue_init(&q, 250);
    assert_int_equal(frame_queue_push(&q, frame, 100), 0);
    assert_int_equal(frame_queue_push(&q, frame, 100), 0);
    assert_int_equal(frame_queue_push(&q, frame, 100), SYN_EFULL);
    assert_int_equal(frame_queue_push(&q, frame, 50), 0);
    assert_int_equal(q.bytes, 250);
    assert_int_equal(q.count, 3);

    /* A batch in flight still counts against the bound until it is settled. */
    struct frame_batch batch;
    frame_queue_take(&q, 2, &batch);
    assert_int_equal(batch.count, 2);
    assert_int_equal(batch.bytes, 200);
    assert_int_equal(q.count, 1);
    assert_int_equal(frame_queue_push(&q, frame, 1), SYN_EFULL);
    frame_queue_settle(&q, &batch);
    frame_batch_free(&batch);
    assert_int_equal(q.bytes, 50);
    assert_int_equal(frame_queue_push(&q, frame, 100), 0);

    frame_queue_take(&q, 10, &batch);
    assert_int_equal(batch.count, 2);
    assert_int_equal(batch.bytes, 150);
    assert_null(q.head);
    assert_null(q.tail);
    struct frame_batch none;
    frame_queue_take(&q, 10, &none); /* nothing queued: an empty batch */
    assert_null(none.head);
    assert_int_equal(none.count, 0);
    assert_int_equal(frame_queue_push(&q, frame, 100), 0); /* 150 in flight + 100 */
    assert_int_equal(frame_queue_push(&q, frame, 1), SYN_EFULL);
    assert_int_equal(frame_queue_clear(&q), 1);
    assert_int_equal(q.bytes, 150);
    frame_queue_settle(&q, &batch);
    frame_batch_free(&batch);
    assert_int_equal(q.bytes, 0);
}

static void test_backoff_grows_capped_with_jitter(void **state)
{
    struct prng prng;
    prng_init(&prng, 7);
    uint32_t seen_max = 0;
    for (uint32_t attempt = 0; attempt < 40; attempt++) {
        uint64_t step = 50ull << (attempt < 20 ? attempt : 20);
        step = step > 2000 ? 2000 : step;
        for (int i = 0; i < 50; i++) {
            uint32_t ms = transport_backoff_ms(50, 2000, attempt, &prng);
            assert_true(ms >= 50);
            assert_true(ms <= step);
            assert_true(ms >= step / 2);
            seen_max = ms > seen_max ? ms : seen_max;
        }
    }
    assert_true(seen_max > 1900); /* the cap is reached */
    /* Jitter: two attempts with the same number do not all wait the same. */
    uint32_t first = transport_backoff_ms(50, 2000, 6, &prng);
    bool differs = false;
    for (int i = 0; i < 20; i++) {
        differs = differs || transport_backoff_ms(50, 2000, 6, &prng) != first;
    }
    assert_true(differs);
}

static void test_addr_parse(void **state)
{
    struct transport_addr a;
    assert_int_equal(transport_addr_parse("127.0.0.1:7001", false, &a), 0);
    assert_true(a.numeric);
    assert_int_equal(a.port, 7001);
    assert_int_equal(transport_addr_parse("[::1]:7001", false, &a), 0);
    assert_true(a.numeric);
    assert_string_equal(a.host, "::1");
    assert_int_equal(transport_addr_parse("node-1.example:65535", false, &a), 0);
    assert_false(a.numeric);
    assert_string_equal(a.host, "node-1.example");
    assert_int_equal(transport_addr_parse("0.0.0.0:0", true, &a), 0);
    static const char *const bad[] = {
        "",
        "7001",
        "host:",
        ":7001",
        "host:70a1",
        "host:65536",
        "host:0",
        "::1:7001",
        "[::1]7001",
        "[nope]:7001",
        "a b:7001",
        "host:123456",
        "a-very-long-host-name-that-goes-on-and-on-past-the-limit-of-64.example:1",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (transport_addr_parse(bad[i], false, &a) != SYN_EINVAL) {
            fail_msg("'%s' was accepted", bad[i]);
        }
    }
}

static void test_start_errors(void **state)
{
    struct fixture *f = *state;
    struct node *n = node_start(f, 1, 0);
    struct transport_callbacks cb = {.ctx = n, .on_raft = on_raft, .on_forward = on_forward};
    char errmsg[TRANSPORT_ERRMSG_SIZE];
    char listen[32];
    snprintf(listen, sizeof(listen), "127.0.0.1:%u", n->port);
    struct transport *t = NULL;

    struct transport_config config = node_config(2, listen);
    assert_int_equal(transport_start(&f->loop, &config, &cb, &t, errmsg), SYN_EIO);
    assert_null(t);
    assert_non_null(strstr(errmsg, "address already in use"));

    config = node_config(0, "127.0.0.1:0");
    assert_int_equal(transport_start(&f->loop, &config, &cb, &t, errmsg), SYN_EINVAL);
    config = node_config(2, "127.0.0.1:0");
    config.cluster_id = "has space";
    assert_int_equal(transport_start(&f->loop, &config, &cb, &t, errmsg), SYN_EINVAL);
    config = node_config(2, "nope");
    assert_int_equal(transport_start(&f->loop, &config, &cb, &t, NULL), SYN_EINVAL);
    config = node_config(2, "127.0.0.1:0");
    config.queue_bytes_max = 1000; /* smaller than one frame */
    assert_int_equal(transport_start(&f->loop, &config, &cb, &t, errmsg), SYN_EINVAL);
    config.queue_bytes_max = 0;
    config.backoff_min_ms = 500;
    config.backoff_max_ms = 100;
    assert_int_equal(transport_start(&f->loop, &config, &cb, &t, errmsg), SYN_EINVAL);

    assert_int_equal(transport_set_peer(n->t, 0, "127.0.0.1:1"), SYN_EINVAL);
    assert_int_equal(transport_set_peer(n->t, 1, "127.0.0.1:1"), SYN_EINVAL);
    assert_int_equal(transport_set_peer(n->t, 2, "127.0.0.1"), SYN_EINVAL);
    assert_non_null(strstr(transport_errmsg(n->t), "HOST:PORT"));
    struct raft_message m = sample(f, RAFT_MSG_HEARTBEAT, 1, 9);
    assert_int_equal(transport_send_raft(n->t, &m), SYN_EUNKNOWNNODE);
    assert_int_equal(transport_send_forward(n->t, 9, PEER_FRAME_FORWARD_REQUEST, 1, f->blob, 10),
                     SYN_EUNKNOWNNODE);
    struct transport_peer_stats s;
    assert_int_equal(transport_peer_stats(n->t, 9, &s), SYN_EUNKNOWNNODE);

    /* SYN_PEERS_MAX peers, then no more. */
    for (raft_id id = 2; id < 2 + SYN_PEERS_MAX; id++) {
        assert_int_equal(transport_set_peer(n->t, id, "127.0.0.1:1"), 0);
    }
    assert_int_equal(transport_set_peer(n->t, 100, "127.0.0.1:1"), SYN_EFULL);
    transport_remove_peer(n->t, 2);
    assert_int_equal(transport_set_peer(n->t, 100, "127.0.0.1:1"), 0);
}

/* ---- Tests: delivery ----------------------------------------------------------------- */

static void test_every_message_type_and_forward(void **state)
{
    struct fixture *f = *state;
    struct node *n1 = node_start(f, 1, 0);
    struct node *n2 = node_start(f, 2, 0);
    struct node *n3 = node_start(f, 3, 0);
    for (raft_id a = 1; a <= 3; a++) {
        for (raft_id b = 1; b <= 3; b++) {
            if (a != b) {
                node_link(&f->nodes[a], &f->nodes[b]);
            }
        }
    }
    /* Queued before any connection is up: they go out in one batch after HELLO. */
    for (uint32_t type = 1; type <= RAFT_MSG_TYPE_MAX; type++) {
        f->expect[f->expect_count++] = sample(f, type, 1, 2);
    }
    f->expect[f->expect_count++] = big_append(f, 1, 2);
    for (uint32_t i = 0; i < f->expect_count; i++) {
        assert_int_equal(transport_send_raft(n1->t, &f->expect[i]), 0);
    }
    n2->expect = f->expect;
    n2->expect_count = f->expect_count;
    assert_int_equal(
        transport_send_forward(n1->t, 2, PEER_FRAME_FORWARD_REQUEST, 77, f->blob, 1000), 0);

    RUN_UNTIL(f, n2->raft_count == f->expect_count && n2->forward_count == 1, 3000);
    assert_int_equal(n2->mismatches, 0);
    assert_int_equal(n2->last_request_id, 77);
    assert_int_equal(n2->last_forward_kind, PEER_FRAME_FORWARD_REQUEST);

    /* The answer goes back on 2's own outbound connection; 3 talks to both. */
    assert_int_equal(
        transport_send_forward(n2->t, 1, PEER_FRAME_FORWARD_RESPONSE, 77, f->blob, 1000), 0);
    struct raft_message snap = sample(f, RAFT_MSG_SNAPSHOT, 3, 1);
    struct raft_message vote = sample(f, RAFT_MSG_VOTE, 3, 1);
    n1->expect = f->expect + f->expect_count;
    f->expect[f->expect_count++] = snap;
    f->expect[f->expect_count++] = vote;
    n1->expect_count = 2;
    assert_int_equal(transport_send_raft(n3->t, &snap), 0);
    assert_int_equal(transport_send_raft(n3->t, &vote), 0);
    struct raft_message hb = sample(f, RAFT_MSG_HEARTBEAT, 3, 2);
    assert_int_equal(transport_send_raft(n3->t, &hb), 0);
    RUN_UNTIL(f, n1->forward_count == 1 && n1->raft_count == 2 && n2->raft_count == 15, 3000);
    assert_int_equal(n1->mismatches, 0);
    assert_int_equal(n1->last_forward_kind, PEER_FRAME_FORWARD_RESPONSE);

    /* Counters agree on both ends, and frames were batched. */
    RUN_UNTIL(f, peer_stats(n1, 2).queue_bytes == 0, 1000);
    struct transport_peer_stats out = peer_stats(n1, 2);
    struct transport_peer_stats in = peer_stats(n2, 1);
    assert_int_equal(out.frames_sent, 15);
    assert_int_equal(in.frames_received, 15);
    assert_int_equal(out.bytes_sent, in.bytes_received);
    assert_true(out.bytes_sent > SYN_APPEND_BYTES_MAX + SYN_SNAPSHOT_CHUNK_SIZE_MAX);
    assert_true(out.writes < out.frames_sent);
    assert_int_equal(out.frames_dropped + out.frames_lost, 0);
    assert_true(out.connected);
    assert_true(in.inbound);
    assert_int_equal(n1->ups[2], 1);
    assert_int_equal(n2->ups[1], 1);
    struct transport_stats ts;
    transport_stats(n2->t, &ts);
    assert_int_equal(ts.refused, 0);
    assert_int_equal(ts.inbound_open, 2);
    assert_int_equal(ts.peer_count, 2);
}

static void test_host_name_peer(void **state)
{
    struct fixture *f = *state;
    struct node *n1 = node_start(f, 1, 0);
    struct node *n2 = node_start(f, 2, 0);
    char addr[32];
    snprintf(addr, sizeof(addr), "localhost:%u", n2->port);
    assert_int_equal(transport_set_peer(n1->t, 2, addr), 0);
    node_link(n2, n1);
    struct raft_message m = sample(f, RAFT_MSG_HEARTBEAT, 1, 2);
    assert_int_equal(transport_send_raft(n1->t, &m), 0);
    /* A peer removed while its name is being looked up: the lookup's callback cleans up. */
    assert_int_equal(transport_set_peer(n1->t, 3, "localhost:1"), 0);
    transport_remove_peer(n1->t, 3);
    RUN_UNTIL(f, n2->raft_count == 1, 3000);
}

/* ---- Tests: failures ----------------------------------------------------------------- */

static void test_reconnect_with_backoff_after_restart(void **state)
{
    struct fixture *f = *state;
    struct node *n1;
    struct node *n2;
    pair_start(f, &n1, &n2);
    uint16_t port2 = n2->port;
    struct raft_message hb = sample(f, RAFT_MSG_HEARTBEAT, 1, 2);
    assert_int_equal(transport_send_raft(n1->t, &hb), 0);
    RUN_UNTIL(f, n2->raft_count == 1, 2000);

    node_stop(f, n2);
    RUN_UNTIL(f, n1->downs[2] == 1, 2000);
    assert_false(peer_connected(n1, 2));
    uint64_t dials_before = peer_stats(n1, 2).dials;
    /* While 2 is down, sends queue up (within the bound). */
    f->expect[0] = sample(f, RAFT_MSG_APPEND, 1, 2);
    f->expect[1] = sample(f, RAFT_MSG_SNAPSHOT, 1, 2);
    assert_int_equal(transport_send_raft(n1->t, &f->expect[0]), 0);
    assert_int_equal(transport_send_raft(n1->t, &f->expect[1]), 0);
    run_for(f, 300);
    uint64_t dials = peer_stats(n1, 2).dials - dials_before;
    /* Backoff 10 ms doubling to 100 ms, jittered: 5 to 8 dials in 300 ms (no backoff: ~30). */
    if (dials < 3 || dials > 12) {
        fail_msg("%llu dials in 300 ms", (unsigned long long)dials);
    }

    n2 = node_start(f, 2, port2);
    node_link(n2, n1);
    n2->expect = f->expect;
    n2->expect_count = 2;
    RUN_UNTIL(f, n2->raft_count == 2, 2000);
    assert_int_equal(n2->mismatches, 0);
    assert_true(peer_connected(n1, 2));
    assert_int_equal(n1->ups[2], 2);
    assert_int_equal(peer_stats(n1, 2).reconnects, 1);
}

/* A peer that comes back dials in: the node dials it at once instead of at the end of its
 * backoff (here at least 5 s), and its backoff starts afresh. */
static void test_inbound_hello_ends_backoff(void **state)
{
    struct fixture *f = *state;
    struct transport_config slow = node_config(1, NULL);
    slow.backoff_min_ms = 5000;
    slow.backoff_max_ms = 60000;
    struct node *n1 = node_start_with(f, 1, 0, &slow);
    struct node *n2 = node_start(f, 2, 0);
    node_link(n1, n2);
    node_link(n2, n1);
    RUN_UNTIL(f, peer_connected(n1, 2) && peer_connected(n2, 1), 2000);
    uint16_t port2 = n2->port;
    node_stop(f, n2);
    RUN_UNTIL(f, n1->downs[2] == 1, 2000);
    run_for(f, 100); /* n1 waits out its backoff: 5 s or more */
    assert_false(peer_connected(n1, 2));
    n2 = node_start(f, 2, port2);
    node_link(n2, n1);
    RUN_UNTIL(f, peer_connected(n1, 2), 2000); /* well before the backoff would end */
    assert_int_equal(n1->ups[2], 2);
}

static void test_address_change_redials(void **state)
{
    struct fixture *f = *state;
    struct node *n1 = node_start(f, 1, 0);
    uint16_t nowhere = dead_port(f);
    char addr[32];
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", nowhere);
    assert_int_equal(transport_set_peer(n1->t, 2, addr), 0);
    struct raft_message hb = sample(f, RAFT_MSG_HEARTBEAT, 1, 2);
    assert_int_equal(transport_send_raft(n1->t, &hb), 0);
    run_for(f, 50);
    assert_false(peer_connected(n1, 2));
    assert_int_equal(transport_set_peer(n1->t, 2, addr), 0); /* the same: nothing changes */

    struct node *n2 = node_start(f, 2, 0);
    node_link(n2, n1);
    node_link(n1, n2);
    RUN_UNTIL(f, n2->raft_count == 1, 2000);
}

/* Node 1 with the smallest queue, and peer 2 at *port, where nobody listens yet. */
static struct node *node_with_dead_peer(struct fixture *f, uint16_t *port)
{
    struct transport_config config = node_config(1, NULL);
    config.queue_bytes_max = SYN_FRAME_SIZE_MAX;
    struct node *n1 = node_start_with(f, 1, 0, &config);
    *port = dead_port(f);
    char addr[32];
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", *port);
    assert_int_equal(transport_set_peer(n1->t, 2, addr), 0);
    return n1;
}

/* A heartbeat goes ahead of a queue of snapshot chunks, one waits per peer (a newer replaces
 * it) outside the bound, and every frame received is heard. */
static void test_heartbeat_jumps_the_queue(void **state)
{
    struct fixture *f = *state;
    uint16_t port2 = 0;
    struct node *n1 = node_with_dead_peer(f, &port2);
    /* While 2 is down: a full queue of 1 MiB chunks, then two heartbeats. */
    struct raft_message chunk = sample(f, RAFT_MSG_SNAPSHOT, 1, 2);
    while (transport_send_raft(n1->t, &chunk) == 0) {
    }
    struct peer_heartbeat hb = {.node_id = 1, .incarnation = 9, .sequence = 1, .sent_ms = 5};
    assert_int_equal(transport_send_heartbeat(n1->t, 2, &hb), 0);
    hb.sequence = 2;
    assert_int_equal(transport_send_heartbeat(n1->t, 2, &hb), 0); /* replaces the first */
    assert_int_equal(transport_send_heartbeat(n1->t, 7, &hb), SYN_EUNKNOWNNODE);
    struct transport_peer_stats s = peer_stats(n1, 2);
    assert_int_equal(s.heartbeats_replaced, 1);
    assert_true(s.queue_bytes <= SYN_FRAME_SIZE_MAX);
    uint32_t queued = s.queue_frames;
    assert_true(queued >= 4);

    struct node *n2 = node_start(f, 2, port2);
    node_link(n2, n1);
    RUN_UNTIL(f, n2->raft_count == queued, 5000);
    assert_int_equal(n2->heard_heartbeats, 1);
    assert_int_equal(n2->heard_raft_before_hb, 0); /* the heartbeat came first */
    assert_int_equal(n2->last_hb.sequence, 2);
    assert_int_equal(n2->last_hb.incarnation, 9);
    assert_int_equal(n2->last_hb.sent_ms, 5);
    assert_int_equal(n2->heard_count, queued + 1);
    assert_int_equal(n2->mismatches, 0);
    assert_int_equal(peer_stats(n1, 2).heartbeats_sent, 1);
    assert_int_equal(peer_stats(n2, 1).heartbeats_received, 1);
    assert_int_equal(peer_stats(n2, 1).frames_received, queued); /* heartbeats apart */

    /* FORWARD frames are heard too. */
    assert_int_equal(transport_send_forward(n1->t, 2, PEER_FRAME_FORWARD_REQUEST, 1, f->blob,
                                            1000),
                     0);
    RUN_UNTIL(f, n2->forward_count == 1, 2000);
    assert_int_equal(n2->heard_count, queued + 2);
}

static void test_dead_peer_queue_is_bounded(void **state)
{
    struct fixture *f = *state;
    uint16_t nowhere = 0;
    struct node *n1 = node_with_dead_peer(f, &nowhere);

    /* 1 MiB chunks: four fit a 5 MiB queue, the other six are dropped and counted. */
    struct raft_message chunk = sample(f, RAFT_MSG_SNAPSHOT, 1, 2);
    int full = 0;
    for (int i = 0; i < 10; i++) {
        int rc = transport_send_raft(n1->t, &chunk);
        assert_true(rc == 0 || rc == SYN_EFULL);
        full += rc == SYN_EFULL;
        assert_true(peer_stats(n1, 2).queue_bytes <= SYN_FRAME_SIZE_MAX);
    }
    assert_int_equal(full, 6);
    /* A small message still fits what is left. */
    struct raft_message hb = sample(f, RAFT_MSG_HEARTBEAT, 1, 2);
    assert_int_equal(transport_send_raft(n1->t, &hb), 0);
    run_for(f, 100);
    struct transport_peer_stats s = peer_stats(n1, 2);
    assert_int_equal(s.frames_dropped, 6);
    assert_int_equal(s.queue_frames, 5);
    assert_true(s.queue_bytes <= SYN_FRAME_SIZE_MAX);
    assert_true(s.dials >= 2);
    assert_false(s.connected);
    assert_int_equal(s.frames_sent, 0);

    transport_remove_peer(n1->t, 2); /* drops the queue; ASan checks it is freed */
    assert_int_equal(transport_peer_stats(n1->t, 2, &s), SYN_EUNKNOWNNODE);
    assert_int_equal(transport_send_raft(n1->t, &hb), SYN_EUNKNOWNNODE);
}

static void test_slow_peer_queue_is_bounded(void **state)
{
    struct fixture *f = *state;
    struct transport_config config = node_config(1, NULL);
    config.queue_bytes_max = SYN_FRAME_SIZE_MAX;
    struct node *n1 = node_start_with(f, 1, 0, &config);
    slow_start(f, false);
    char addr[32];
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", f->slow.port);
    assert_int_equal(transport_set_peer(n1->t, 2, addr), 0);
    RUN_UNTIL(f, peer_connected(n1, 2) && f->slow.has_accepted, 2000);

    /* The peer reads nothing: the kernel's buffers fill, then the queue, then sends drop. */
    struct raft_message chunk = sample(f, RAFT_MSG_SNAPSHOT, 1, 2);
    uint64_t offered = 0;
    for (int round = 0; round < 100 && peer_stats(n1, 2).frames_dropped == 0; round++) {
        for (int i = 0; i < 2; i++) {
            int rc = transport_send_raft(n1->t, &chunk);
            assert_true(rc == 0 || rc == SYN_EFULL);
            offered++;
            assert_true(peer_stats(n1, 2).queue_bytes <= SYN_FRAME_SIZE_MAX);
        }
        run_for(f, 10);
    }
    struct transport_peer_stats s = peer_stats(n1, 2);
    assert_true(s.frames_dropped > 0);
    assert_true(s.queue_bytes <= SYN_FRAME_SIZE_MAX);
    assert_true(s.queue_bytes > SYN_FRAME_SIZE_MAX - 2 * (SYN_SNAPSHOT_CHUNK_SIZE_MAX + 4096));
    assert_true(s.frames_sent < offered);
    assert_true(s.connected); /* slow is not dead: the connection stays */
}

static void test_acceptor_that_writes_is_dropped(void **state)
{
    struct fixture *f = *state;
    struct node *n1 = node_start(f, 1, 0);
    slow_start(f, true);
    char addr[32];
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", f->slow.port);
    assert_int_equal(transport_set_peer(n1->t, 2, addr), 0);
    RUN_UNTIL(f, n1->ups[2] >= 1 && n1->downs[2] >= 1, 2000);
    assert_true(peer_stats(n1, 2).dials >= 1);
}

/* A peer whose accept queue is full: the SYN goes unanswered, and the dial times out. */
static void test_connect_timeout(void **state)
{
    struct fixture *f = *state;
    struct transport_config config = node_config(1, NULL);
    config.connect_timeout_ms = 50;
    struct node *n1 = node_start_with(f, 1, 0, &config);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa;
    assert_int_equal(uv_ip4_addr("127.0.0.1", 0, &sa), 0);
    assert_int_equal(bind(fd, (const struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 0), 0);
    socklen_t size = sizeof(sa);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &size), 0);
    /* Fill the accept queue (backlog 0 holds one connection). */
    struct raw_client *fillers[2] = {raw_new(f, 0), raw_new(f, 1)};
    raw_connect(f, fillers[0], ntohs(sa.sin_port));
    raw_connect(f, fillers[1], ntohs(sa.sin_port));
    run_for(f, 50);
    char addr[32];
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", ntohs(sa.sin_port));
    assert_int_equal(transport_set_peer(n1->t, 2, addr), 0);
    RUN_UNTIL(f, peer_stats(n1, 2).dials >= 3, 2000);
    assert_false(peer_connected(n1, 2));
    assert_int_equal(n1->ups[2], 0);
    close(fd);
}

/* What raw clients send to node 2, which knows peers 1 and 3. Each must be closed. */
enum bad_kind {
    BAD_CLUSTER,
    BAD_TARGET,
    BAD_UNKNOWN_NODE,
    BAD_GARBAGE,
    BAD_OVERSIZED,
    BAD_RAFT_BEFORE_HELLO,
    BAD_BIG_HELLO,
    BAD_GARBAGE_AFTER_HELLO,
    BAD_WRONG_SENDER,
    BAD_SECOND_HELLO,
    BAD_HEARTBEAT_SENDER,
    BAD_SILENCE,
    BAD_KIND_COUNT,
};

static void bad_bytes(struct fixture *f, enum bad_kind kind, struct syn_buf *b)
{
    static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    switch (kind) {
    case BAD_CLUSTER:
        hello_append(b, 3, 2, "other-cluster");
        break;
    case BAD_TARGET:
        hello_append(b, 3, 1, CLUSTER);
        break;
    case BAD_UNKNOWN_NODE:
        hello_append(b, 5, 2, CLUSTER);
        break;
    case BAD_GARBAGE:
        assert_int_equal(syn_buf_append(b, http, sizeof(http) - 1), 0);
        break;
    case BAD_OVERSIZED:
        hello_append(b, 3, 2, CLUSTER);
        header_append(b, SYN_FRAME_SIZE_MAX + 1, PEER_FRAME_RAFT);
        break;
    case BAD_RAFT_BEFORE_HELLO: {
        struct raft_message m = sample(f, RAFT_MSG_HEARTBEAT, 3, 2);
        assert_int_equal(peer_encode_raft(b, &m), 0);
        break;
    }
    case BAD_BIG_HELLO:
        header_append(b, 1u << 20, PEER_FRAME_HELLO);
        break;
    case BAD_GARBAGE_AFTER_HELLO:
        hello_append(b, 3, 2, CLUSTER);
        assert_int_equal(syn_buf_append(b, http, sizeof(http) - 1), 0);
        break;
    case BAD_WRONG_SENDER: {
        hello_append(b, 3, 2, CLUSTER);
        struct raft_message m = sample(f, RAFT_MSG_HEARTBEAT, 1, 2);
        assert_int_equal(peer_encode_raft(b, &m), 0);
        break;
    }
    case BAD_SECOND_HELLO:
        hello_append(b, 3, 0, CLUSTER); /* peer id 0: "whoever listens here" is fine */
        hello_append(b, 3, 2, CLUSTER);
        break;
    case BAD_HEARTBEAT_SENDER: { /* node 3's connection carrying node 1's heartbeat */
        hello_append(b, 3, 2, CLUSTER);
        struct peer_heartbeat hb = {.node_id = 1, .incarnation = 1, .sequence = 1};
        assert_int_equal(peer_encode_heartbeat(b, &hb), 0);
        break;
    }
    case BAD_SILENCE:
    case BAD_KIND_COUNT:
        break;
    }
}

static void test_bad_connections_are_closed(void **state)
{
    struct fixture *f = *state;
    struct node *n1;
    struct node *n2;
    pair_start(f, &n1, &n2);
    char addr[32];
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", dead_port(f));
    assert_int_equal(transport_set_peer(n2->t, 3, addr), 0);
    struct raft_message hb = sample(f, RAFT_MSG_HEARTBEAT, 1, 2);

    for (int kind = 0; kind < BAD_KIND_COUNT; kind++) {
        struct transport_stats before;
        transport_stats(n2->t, &before);
        struct raw_client *r = raw_new(f, 0);
        bad_bytes(f, (enum bad_kind)kind, &r->bytes);
        raw_connect(f, r, n2->port);
        RUN_UNTIL(f, r->closed, 2000);
        struct transport_stats after;
        transport_stats(n2->t, &after);
        if (after.refused != before.refused + 1) {
            fail_msg("bad connection %d: refused %llu -> %llu", kind,
                     (unsigned long long)before.refused, (unsigned long long)after.refused);
        }
        raw_free(r);
        /* The valid peer is still served. */
        uint32_t count = n2->raft_count;
        assert_int_equal(transport_send_raft(n1->t, &hb), 0);
        RUN_UNTIL(f, n2->raft_count == count + 1, 2000);
    }
    assert_int_equal(peer_stats(n2, 1).frames_received, BAD_KIND_COUNT);
    assert_int_equal(peer_stats(n1, 2).reconnects, 0);
}

/* Frames that arrive a few bytes at a time, headers split included, are delivered whole; a
 * newer connection from the same node replaces the older one. */
static void test_split_frames_and_replaced_connection(void **state)
{
    struct fixture *f = *state;
    struct node *n2 = node_start(f, 2, 0);
    char addr[32];
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", dead_port(f));
    assert_int_equal(transport_set_peer(n2->t, 3, addr), 0);
    f->expect[0] = sample(f, RAFT_MSG_APPEND, 3, 2);
    f->expect[1] = sample(f, RAFT_MSG_VOTE, 3, 2);
    n2->expect = f->expect;
    n2->expect_count = 2;
    struct syn_buf bytes;
    syn_buf_init(&bytes, 0);
    hello_append(&bytes, 3, 2, CLUSTER);
    assert_int_equal(peer_encode_raft(&bytes, &f->expect[0]), 0);
    assert_int_equal(peer_encode_raft(&bytes, &f->expect[1]), 0);

    struct raw_client *r = raw_new(f, 0);
    raw_connect(f, r, n2->port);
    RUN_UNTIL(f, r->connected, 2000);
    uv_tcp_nodelay(&r->tcp, 1);
    for (size_t at = 0; at < bytes.len; at += 7) {
        size_t size = bytes.len - at < 7 ? bytes.len - at : 7;
        uv_buf_t piece = uv_buf_init((char *)bytes.data + at, (unsigned)size);
        assert_int_equal(uv_try_write((uv_stream_t *)&r->tcp, &piece, 1), (int)size);
        run_for(f, 1);
    }
    RUN_UNTIL(f, n2->raft_count == 2, 2000);
    assert_int_equal(n2->mismatches, 0);
    assert_true(peer_stats(n2, 3).inbound);
    assert_false(r->ended);

    struct raw_client *newer = raw_new(f, 1);
    hello_append(&newer->bytes, 3, 2, CLUSTER);
    raw_connect(f, newer, n2->port);
    RUN_UNTIL(f, r->closed, 2000);
    assert_false(newer->ended);
    assert_true(peer_stats(n2, 3).inbound);
    struct transport_stats ts;
    transport_stats(n2->t, &ts);
    assert_int_equal(ts.refused, 0);
    assert_int_equal(ts.inbound_open, 1);
    syn_buf_free(&bytes);
}

/* ---- Tests: callbacks that change the transport -------------------------------------- */

static void test_remove_peer_inside_callback(void **state)
{
    struct fixture *f = *state;
    struct node *n1;
    struct node *n2;
    pair_start(f, &n1, &n2);
    n2->remove_on_raft = 1;
    struct raft_message hb = sample(f, RAFT_MSG_HEARTBEAT, 1, 2);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(transport_send_raft(n1->t, &hb), 0); /* one write, three frames */
    }
    RUN_UNTIL(f, n2->raft_count >= 1, 2000);
    assert_int_equal(n2->raft_count, 1); /* the rest came on a connection now closed */
    /* 1 is no peer of 2 any more: its redials are refused at HELLO. */
    RUN_UNTIL(f, n1->downs[2] >= 1, 2000);
    struct transport_stats ts;
    RUN_UNTIL(f, (transport_stats(n2->t, &ts), ts.refused >= 1), 2000);
    assert_int_equal(ts.peer_count, 0);
}

static void test_close_inside_callback(void **state)
{
    struct fixture *f = *state;
    struct node *n1;
    struct node *n2;
    pair_start(f, &n1, &n2);
    n2->close_on_raft = true;
    struct raft_message hb = sample(f, RAFT_MSG_HEARTBEAT, 1, 2);
    assert_int_equal(transport_send_raft(n1->t, &hb), 0);
    assert_int_equal(transport_send_raft(n1->t, &hb), 0);
    RUN_UNTIL(f, n2->closed && n1->downs[2] >= 1, 2000);
    assert_int_equal(n2->raft_count, 1);
    assert_int_equal(n2->mismatches, 0);
}

int main(void)
{
    syn_log_setup(SYN_LOG_WARN, "test", 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_queue_bound),
        cmocka_unit_test(test_backoff_grows_capped_with_jitter),
        cmocka_unit_test(test_addr_parse),
        cmocka_unit_test_setup_teardown(test_start_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_message_type_and_forward, setup, teardown),
        cmocka_unit_test_setup_teardown(test_host_name_peer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconnect_with_backoff_after_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inbound_hello_ends_backoff, setup, teardown),
        cmocka_unit_test_setup_teardown(test_address_change_redials, setup, teardown),
        cmocka_unit_test_setup_teardown(test_heartbeat_jumps_the_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dead_peer_queue_is_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_peer_queue_is_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_acceptor_that_writes_is_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_connections_are_closed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_frames_and_replaced_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove_peer_inside_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_inside_callback, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
