/* transport.c: the transport's API (transport.h): start and close, the peer table, sends into
 * the peers' bounded queues, the flush before the loop waits, and counters. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/assert.h"
#include "base/err.h"
#include "log/log.h"
#include "net/transport_internal.h"

__attribute__((format(printf, 3, 4))) static int fail(char *errmsg, int code, const char *fmt, ...)
{
    if (errmsg != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errmsg, TRANSPORT_ERRMSG_SIZE, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* ---- Handles and the end of the transport ------------------------------------------- */

static void transport_maybe_free(struct transport *t)
{
    if (!t->closing || t->handles_open > 0 || t->lookups_pending > 0) {
        return;
    }
    ASSERT(t->conns == NULL);
    ASSERT(t->peer_count == 0);
    void (*done)(void *ctx) = t->done;
    void *ctx = t->done_ctx;
    syn_buf_free(&t->scratch);
    free(t);
    if (done != NULL) {
        done(ctx);
    }
}

void transport_handle_closed(struct transport *t)
{
    ASSERT(t->handles_open > 0);
    t->handles_open--;
    transport_maybe_free(t);
}

void transport_lookup_done(struct transport *t)
{
    ASSERT(t->lookups_pending > 0);
    t->lookups_pending--;
    transport_maybe_free(t);
}

static void on_handle_close(uv_handle_t *handle)
{
    transport_handle_closed(handle->data);
}

/* ---- Peers --------------------------------------------------------------------------- */

struct peer *transport_peer_find(const struct transport *t, raft_id id)
{
    for (uint32_t i = 0; i < t->peer_count; i++) {
        if (t->peers[i]->id == id) {
            return t->peers[i];
        }
    }
    return NULL;
}

static void peer_on_close(uv_handle_t *handle)
{
    struct peer *p = handle->data;
    struct transport *t = p->t;
    ASSERT(p->queue.count == 0);
    free(p);
    transport_handle_closed(t);
}

/* Takes p out of the table and closes all it has; its memory goes in the timer's close
 * callback. Batches still being written are freed by their write callbacks. */
static void peer_remove(struct transport *t, struct peer *p)
{
    uint32_t i = 0;
    while (t->peers[i] != p) {
        i++;
    }
    t->peers[i] = t->peers[--t->peer_count];
    transport_peer_stop_dial(p);
    for (struct conn *c = t->conns; c != NULL; c = c->next) {
        if (c->peer == p) {
            transport_conn_close(c);
            c->peer = NULL;
        }
    }
    ASSERT(p->out == NULL);
    ASSERT(p->in == NULL);
    frame_queue_clear(&p->queue);
    uv_close((uv_handle_t *)&p->timer, peer_on_close);
}

static struct peer *peer_add(struct transport *t, raft_id id)
{
    struct peer *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        return NULL;
    }
    p->t = t;
    p->id = id;
    frame_queue_init(&p->queue, t->queue_bytes_max);
    uv_timer_init(t->loop, &p->timer);
    p->timer.data = p;
    t->handles_open++;
    t->peers[t->peer_count++] = p;
    return p;
}

int transport_set_peer(struct transport *t, raft_id id, const char *addr)
{
    if (t->closing) {
        return SYN_ESHUTDOWN;
    }
    if (id == 0 || id == t->self) {
        return fail(t->errmsg, SYN_EINVAL, "peer id %" PRIu64 ": not a peer of node %" PRIu64, id,
                    t->self);
    }
    struct transport_addr target;
    if (transport_addr_parse(addr, false, &target) != 0) {
        return fail(t->errmsg, SYN_EINVAL, "peer %" PRIu64 ": address '%s' is not HOST:PORT", id,
                    addr == NULL ? "" : addr);
    }
    struct peer *p = transport_peer_find(t, id);
    if (p != NULL && strcmp(p->addr, addr) == 0) {
        return 0;
    }
    if (p == NULL && t->peer_count == SYN_PEERS_MAX) {
        return fail(t->errmsg, SYN_EFULL, "peer %" PRIu64 ": SYN_PEERS_MAX peers already", id);
    }
    if (p == NULL && (p = peer_add(t, id)) == NULL) {
        return fail(t->errmsg, SYN_ENOMEM, "peer %" PRIu64 ": out of memory", id);
    }
    LOG_INFO(TRANSPORT_LOG, "peer %" PRIu64 " at %s", id, addr);
    transport_peer_stop_dial(p);
    snprintf(p->addr, sizeof(p->addr), "%s", addr);
    p->target = target;
    p->attempts = 0;
    p->failing = false;
    transport_peer_dial(p);
    return 0;
}

void transport_remove_peer(struct transport *t, raft_id id)
{
    struct peer *p = transport_peer_find(t, id);
    if (p == NULL) {
        return;
    }
    LOG_INFO(TRANSPORT_LOG, "peer %" PRIu64 " %s: removed", id, p->addr);
    peer_remove(t, p);
}

/* ---- Sends --------------------------------------------------------------------------- */

static void on_flush(uv_prepare_t *prepare)
{
    struct transport *t = prepare->data;
    uv_prepare_stop(prepare);
    t->flush_scheduled = false;
    /* A failed write calls on_peer(), which may remove peers: walk a copy of the table. The
     * peers stay allocated until their timers' close callbacks, after this one. */
    struct peer *peers[SYN_PEERS_MAX];
    uint32_t count = t->peer_count;
    memcpy(peers, t->peers, count * sizeof(peers[0]));
    for (uint32_t i = 0; i < count && !t->closing; i++) {
        if (peers[i]->out != NULL) {
            transport_conn_write(peers[i]->out);
        }
    }
}

void transport_schedule_flush(struct transport *t)
{
    if (!t->flush_scheduled) {
        uv_prepare_start(&t->flusher, on_flush);
        t->flush_scheduled = true;
    }
}

/* Queues the frame in t->scratch for p. */
static int send_frame(struct transport *t, struct peer *p)
{
    int rc = frame_queue_push(&p->queue, t->scratch.data, t->scratch.len);
    if (rc == SYN_EFULL) {
        p->stats.frames_dropped++;
        if (!p->dropping) {
            LOG_WARN(TRANSPORT_LOG,
                     "peer %" PRIu64 " %s: queue full (%zu bytes): dropping frames until it "
                     "drains",
                     p->id, p->addr, p->queue.bytes);
            p->dropping = true;
        }
        return rc;
    }
    if (rc != 0) {
        return rc;
    }
    p->dropping = false;
    transport_schedule_flush(t);
    return 0;
}

int transport_send_raft(struct transport *t, const struct raft_message *msg)
{
    if (t->closing) {
        return SYN_ESHUTDOWN;
    }
    ASSERT(msg->from == t->self);
    struct peer *p = transport_peer_find(t, msg->to);
    if (p == NULL) {
        return SYN_EUNKNOWNNODE;
    }
    syn_buf_reset(&t->scratch);
    int rc = peer_encode_raft(&t->scratch, msg);
    if (rc != 0) {
        return rc;
    }
    return send_frame(t, p);
}

int transport_send_forward(struct transport *t, raft_id to, int kind, uint64_t request_id,
                           const uint8_t *body, size_t size)
{
    ASSERT(kind == PEER_FRAME_FORWARD_REQUEST || kind == PEER_FRAME_FORWARD_RESPONSE);
    if (t->closing) {
        return SYN_ESHUTDOWN;
    }
    struct peer *p = transport_peer_find(t, to);
    if (p == NULL) {
        return SYN_EUNKNOWNNODE;
    }
    syn_buf_reset(&t->scratch);
    int rc = peer_encode_forward(&t->scratch, (enum peer_frame_kind)kind, request_id, body, size);
    if (rc != 0) {
        return rc;
    }
    return send_frame(t, p);
}

int transport_send_heartbeat(struct transport *t, raft_id to, const struct peer_heartbeat *hb)
{
    if (t->closing) {
        return SYN_ESHUTDOWN;
    }
    ASSERT(hb->node_id == t->self);
    struct peer *p = transport_peer_find(t, to);
    if (p == NULL) {
        return SYN_EUNKNOWNNODE;
    }
    syn_buf_reset(&t->scratch);
    int rc = peer_encode_heartbeat(&t->scratch, hb);
    ASSERT(rc == 0); /* 48 bytes into a buffer of SYN_FRAME_SIZE_MAX */
    ASSERT(t->scratch.len == sizeof(p->heartbeat));
    p->stats.heartbeats_replaced += p->heartbeat_pending ? 1u : 0u;
    memcpy(p->heartbeat, t->scratch.data, sizeof(p->heartbeat));
    p->heartbeat_pending = true;
    transport_schedule_flush(t);
    return 0;
}

/* ---- Counters ------------------------------------------------------------------------ */

int transport_peer_stats(const struct transport *t, raft_id id, struct transport_peer_stats *out)
{
    const struct peer *p = transport_peer_find(t, id);
    if (p == NULL) {
        return SYN_EUNKNOWNNODE;
    }
    *out = p->stats;
    out->queue_bytes = p->queue.bytes;
    out->queue_frames = p->queue.count;
    return 0;
}

void transport_stats(const struct transport *t, struct transport_stats *out)
{
    *out = t->stats;
    out->inbound_open = t->inbound_open;
    out->peer_count = t->peer_count;
}

const char *transport_errmsg(const struct transport *t)
{
    return t->errmsg;
}

uint16_t transport_listen_port(const struct transport *t)
{
    return t->listen_port;
}

/* ---- Start and close ----------------------------------------------------------------- */

static int config_check(const struct transport_config *config, char *errmsg)
{
    if (config->self == 0) {
        return fail(errmsg, SYN_EINVAL, "node id 0 is not an id");
    }
    const char *id = config->cluster_id == NULL ? "" : config->cluster_id;
    size_t size = strlen(id);
    bool printable = size > 0 && size <= SYN_CLUSTER_ID_SIZE_MAX;
    for (size_t i = 0; i < size && printable; i++) {
        printable = id[i] >= 0x21 && id[i] <= 0x7e;
    }
    if (!printable) {
        return fail(errmsg, SYN_EINVAL, "cluster id '%s': 1 to %u printable characters", id,
                    SYN_CLUSTER_ID_SIZE_MAX);
    }
    size_t queue = config->queue_bytes_max;
    if (queue != 0 && (queue < SYN_FRAME_SIZE_MAX || queue > SYN_PEER_QUEUE_BYTES_MAX)) {
        return fail(errmsg, SYN_EINVAL, "peer queue of %zu bytes: %u .. %u", queue,
                    SYN_FRAME_SIZE_MAX, SYN_PEER_QUEUE_BYTES_MAX);
    }
    uint32_t min =
        config->backoff_min_ms ? config->backoff_min_ms : TRANSPORT_BACKOFF_MIN_MS_DEFAULT;
    uint32_t max =
        config->backoff_max_ms ? config->backoff_max_ms : TRANSPORT_BACKOFF_MAX_MS_DEFAULT;
    if (min > max) {
        return fail(errmsg, SYN_EINVAL, "backoff from %" PRIu32 " ms up to %" PRIu32 " ms", min,
                    max);
    }
    return 0;
}

static void config_apply(struct transport *t, const struct transport_config *config)
{
    t->self = config->self;
    t->cluster_id_size = (uint32_t)strlen(config->cluster_id);
    memcpy(t->cluster_id, config->cluster_id, t->cluster_id_size + 1);
    t->queue_bytes_max =
        config->queue_bytes_max ? config->queue_bytes_max : SYN_PEER_QUEUE_BYTES_MAX;
    t->backoff_min_ms =
        config->backoff_min_ms ? config->backoff_min_ms : TRANSPORT_BACKOFF_MIN_MS_DEFAULT;
    t->backoff_max_ms =
        config->backoff_max_ms ? config->backoff_max_ms : TRANSPORT_BACKOFF_MAX_MS_DEFAULT;
    t->connect_timeout_ms = config->connect_timeout_ms ? config->connect_timeout_ms
                                                       : TRANSPORT_CONNECT_TIMEOUT_MS_DEFAULT;
    t->hello_timeout_ms =
        config->hello_timeout_ms ? config->hello_timeout_ms : TRANSPORT_HELLO_TIMEOUT_MS_DEFAULT;
    uint64_t seed =
        config->seed ? config->seed : uv_hrtime() ^ (config->self * 0x9e3779b97f4a7c15ull);
    prng_init(&t->prng, seed);
    syn_buf_init(&t->scratch, SYN_FRAME_SIZE_MAX);
}

/* The listening socket, made by hand so that every way binding can fail is reported here,
 * before any handle exists. A host name is resolved once, now. */
static int listen_socket(uv_loop_t *loop, const char *text, int *fd_out, char *errmsg)
{
    struct transport_addr a;
    if (transport_addr_parse(text, true, &a) != 0) {
        return fail(errmsg, SYN_EINVAL, "listen address '%s' is not HOST:PORT",
                    text == NULL ? "" : text);
    }
    if (!a.numeric) {
        uv_getaddrinfo_t req;
        char port[8];
        snprintf(port, sizeof(port), "%u", a.port);
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
        int rc = uv_getaddrinfo(loop, &req, NULL, a.host, port, &hints); /* synchronous */
        if (rc < 0) {
            return fail(errmsg, SYN_EIO, "listen on %s: %s", text, uv_strerror(rc));
        }
        memcpy(&a.sa, req.addrinfo->ai_addr, req.addrinfo->ai_addrlen);
        uv_freeaddrinfo(req.addrinfo);
    }
    socklen_t size =
        a.sa.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    int fd = socket(a.sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return fail(errmsg, SYN_EIO, "listen on %s: %s", text, uv_strerror(-errno));
    }
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
        bind(fd, (const struct sockaddr *)&a.sa, size) != 0 || listen(fd, SOMAXCONN) != 0) {
        int err = errno;
        close(fd);
        return fail(errmsg, SYN_EIO, "listen on %s: %s", text, uv_strerror(-err));
    }
    *fd_out = fd;
    return 0;
}

/* Hands the listening socket fd to libuv. On failure the caller closes t, which frees it. */
static int listener_start(struct transport *t, int fd, const char *text, char *errmsg)
{
    int rc = uv_tcp_open(&t->listener, fd);
    if (rc < 0) {
        close(fd); /* not the handle's yet */
        return fail(errmsg, SYN_EIO, "listen on %s: %s", text, uv_strerror(rc));
    }
    rc = uv_listen((uv_stream_t *)&t->listener, SOMAXCONN, transport_on_connection);
    struct sockaddr_storage sa;
    int size = sizeof(sa);
    if (rc == 0) {
        rc = uv_tcp_getsockname(&t->listener, (struct sockaddr *)&sa, &size);
    }
    if (rc < 0) {
        return fail(errmsg, SYN_EIO, "listen on %s: %s", text, uv_strerror(rc));
    }
    t->listen_port = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&sa)->sin6_port
                                                    : ((struct sockaddr_in *)&sa)->sin_port);
    return 0;
}

static void handles_init(struct transport *t)
{
    uv_tcp_init(t->loop, &t->listener);
    uv_prepare_init(t->loop, &t->flusher);
    uv_timer_init(t->loop, &t->sweeper);
    t->listener.data = t;
    t->flusher.data = t;
    t->sweeper.data = t;
    t->handles_open += 3;
    uint32_t every = t->hello_timeout_ms / 2 > 0 ? t->hello_timeout_ms / 2 : 1;
    uv_timer_start(&t->sweeper, transport_on_sweep, every, every);
}

int transport_start(uv_loop_t *loop, const struct transport_config *config,
                    const struct transport_callbacks *callbacks, struct transport **out,
                    char *errmsg)
{
    *out = NULL;
    ASSERT(callbacks->on_raft != NULL);
    ASSERT(callbacks->on_forward != NULL);
    int rc = config_check(config, errmsg);
    if (rc != 0) {
        return rc;
    }
    int fd = -1;
    rc = listen_socket(loop, config->listen_addr, &fd, errmsg);
    if (rc != 0) {
        return rc;
    }
    struct transport *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        close(fd);
        return fail(errmsg, SYN_ENOMEM, "out of memory");
    }
    t->loop = loop;
    t->cb = *callbacks;
    config_apply(t, config);
    handles_init(t);
    rc = listener_start(t, fd, config->listen_addr, errmsg);
    if (rc != 0) {
        transport_close(t, NULL, NULL); /* frees t once the loop ran the close callbacks */
        return rc;
    }
    LOG_INFO(TRANSPORT_LOG, "node %" PRIu64 " listening for peers on %s (port %u)", t->self,
             config->listen_addr, t->listen_port);
    *out = t;
    return 0;
}

void transport_close(struct transport *t, void (*done)(void *ctx), void *ctx)
{
    ASSERT(!t->closing);
    t->closing = true;
    t->done = done;
    t->done_ctx = ctx;
    while (t->peer_count > 0) {
        peer_remove(t, t->peers[t->peer_count - 1]);
    }
    for (struct conn *c = t->conns; c != NULL; c = c->next) {
        transport_conn_close(c);
    }
    uv_close((uv_handle_t *)&t->listener, on_handle_close);
    uv_close((uv_handle_t *)&t->flusher, on_handle_close);
    uv_close((uv_handle_t *)&t->sweeper, on_handle_close);
}
