/* dns_server.c: the DNS server's API (dns_server.h): options, binding UDP and TCP to one
 * address and port, answering datagrams, counters, and closing. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/err.h"
#include "dns/dns_server_internal.h"
#include "log/log.h"

__attribute__((format(printf, 3, 4))) static int fail(char *errmsg, int code, const char *fmt, ...)
{
    if (errmsg != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errmsg, DNS_SERVER_ERRMSG_SIZE, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* ---- Answering ----------------------------------------------------------------------- */

int dns_server_answer(struct dns_server *s, const uint8_t *msg, size_t msg_size, bool tcp,
                      size_t *size, struct dns_answer_info *info)
{
    uint8_t *out = s->out + DNS_TCP_LENGTH_SIZE;
    int rc = dns_answer(&s->zone, &s->src, s->rotation++, msg, msg_size, tcp, out, size, info);
    if (rc != 0) {
        s->stats.dropped++;
    }
    return rc;
}

void dns_server_sent(struct dns_server *s, const struct dns_answer_info *info)
{
    if (info->rcode < sizeof(s->stats.answers) / sizeof(s->stats.answers[0])) {
        s->stats.answers[info->rcode]++;
    } else {
        ASSERT(info->rcode == DNS_RCODE_BADVERS);
        s->stats.answers_badvers++;
    }
    s->stats.truncated += info->truncated ? 1u : 0u;
}

/* ---- UDP ----------------------------------------------------------------------------- */

static void on_udp_alloc(uv_handle_t *handle, size_t suggested_size, uv_buf_t *buf)
{
    struct dns_server *s = handle->data;
    *buf = uv_buf_init((char *)s->in, sizeof(s->in)); /* each datagram is answered at once */
}

static void on_udp_recv(uv_udp_t *udp, ssize_t nread, const uv_buf_t *buf,
                        const struct sockaddr *from, unsigned flags)
{
    struct dns_server *s = udp->data;
    if (nread < 0) {
        LOG_DEBUG(DNS_LOG, "udp receive: %s", uv_strerror((int)nread));
        return;
    }
    if (from == NULL) {
        return; /* nothing more to read for now */
    }
    s->stats.queries_udp++;
    if ((flags & UV_UDP_PARTIAL) != 0) {
        s->stats.dropped++; /* over 65535 bytes: no DNS message */
        return;
    }
    size_t size = 0;
    struct dns_answer_info info;
    if (dns_server_answer(s, (const uint8_t *)buf->base, (size_t)nread, false, &size, &info) != 0) {
        LOG_DEBUG(DNS_LOG, "udp: a datagram of %zd bytes that is no query; dropped", nread);
        return;
    }
    uv_buf_t answer = uv_buf_init((char *)s->out + DNS_TCP_LENGTH_SIZE, (unsigned)size);
    int rc = uv_udp_try_send(&s->udp, &answer, 1, from);
    if (rc < 0) {
        s->stats.dropped++; /* the socket is full: the client asks again */
        LOG_DEBUG(DNS_LOG, "udp send: %s; answer dropped", uv_strerror(rc));
        return;
    }
    dns_server_sent(s, &info);
}

/* The host part of addr, which api_server_start() already accepted, with port: where the
 * UDP socket binds so that it shares the TCP listener's address and port. */
static int udp_addr(uv_loop_t *loop, const char *addr, uint16_t port, struct sockaddr_storage *sa,
                    char *errmsg)
{
    char host[API_ADDR_TEXT_SIZE];
    const char *colon = strrchr(addr, ':');
    ASSERT(colon != NULL);
    bool bracketed = addr[0] == '[';
    size_t host_size = (size_t)(colon - addr) - (bracketed ? 2u : 0u);
    ASSERT(host_size < sizeof(host));
    memcpy(host, addr + (bracketed ? 1 : 0), host_size);
    host[host_size] = '\0';
    memset(sa, 0, sizeof(*sa));
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)sa) == 0 ||
        uv_ip6_addr(host, port, (struct sockaddr_in6 *)sa) == 0) {
        return 0;
    }
    uv_getaddrinfo_t req;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM};
    int rc = uv_getaddrinfo(loop, &req, NULL, host, NULL, &hints); /* synchronous */
    if (rc < 0) {
        return fail(errmsg, SYN_EIO, "dns: resolve %s: %s", host, uv_strerror(rc));
    }
    memcpy(sa, req.addrinfo->ai_addr, req.addrinfo->ai_addrlen);
    uv_freeaddrinfo(req.addrinfo);
    ((struct sockaddr_in *)sa)->sin_port = htons(port); /* the same place in sockaddr_in6 */
    return 0;
}

static int udp_bind(struct dns_server *s, const char *addr, char *errmsg)
{
    struct sockaddr_storage sa;
    int rc = udp_addr(s->loop, addr, s->port, &sa, errmsg);
    if (rc != 0) {
        return rc;
    }
    rc = uv_udp_bind(&s->udp, (const struct sockaddr *)&sa, 0);
    if (rc < 0) {
        return fail(errmsg, rc == UV_EADDRINUSE ? SYN_EBUSY : SYN_EIO,
                    "dns: bind udp %s (port %u): %s", addr, s->port, uv_strerror(rc));
    }
    rc = uv_udp_recv_start(&s->udp, on_udp_alloc, on_udp_recv);
    if (rc < 0) {
        return fail(errmsg, SYN_EIO, "dns: receive on %s: %s", addr, uv_strerror(rc));
    }
    return 0;
}

/* TCP first, as its listener parses and resolves addr; then UDP on the port TCP got. With
 * port 0, another process may hold that port for UDP: then try another. */
static int sockets_start(struct dns_server *s, const char *addr, char *errmsg)
{
    const char *colon = strrchr(addr, ':');
    bool any_port = colon != NULL && strcmp(colon, ":0") == 0;
    for (uint32_t attempt = 0;; attempt++) {
        int rc = dns_tcp_start(s, addr, errmsg);
        if (rc != 0) {
            return rc;
        }
        rc = udp_bind(s, addr, errmsg);
        if (rc == 0) {
            return 0;
        }
        api_server_close(s->tcp, NULL, NULL); /* no connection yet: it needs nothing of s */
        s->tcp = NULL;
        if (rc != SYN_EBUSY || !any_port || attempt + 1 >= SYN_DNS_BIND_TRIES) {
            return rc == SYN_EBUSY ? SYN_EIO : rc;
        }
    }
}

/* ---- Start and close ----------------------------------------------------------------- */

static int options_read(struct dns_server *s, const struct dns_server_options *opts, char *errmsg)
{
    struct dns_server_options o = {0};
    if (opts != NULL) {
        o = *opts;
    }
    if (dns_zone_init(&s->zone, o.domain, o.datacenter,
                      o.ttl_s == 0 ? DNS_TTL_S_DEFAULT : o.ttl_s) != 0) {
        return fail(errmsg, SYN_EINVAL, "dns: domain '%s' or datacenter '%s' is not a DNS name",
                    o.domain == NULL ? DNS_DOMAIN_DEFAULT : o.domain,
                    o.datacenter == NULL ? "" : o.datacenter);
    }
    if (o.tcp_connections_max > SYN_DNS_TCP_CONNECTIONS_MAX) {
        return fail(errmsg, SYN_EINVAL, "dns: at most %u TCP connections",
                    SYN_DNS_TCP_CONNECTIONS_MAX);
    }
    s->tcp_connections_max =
        o.tcp_connections_max == 0 ? SYN_DNS_TCP_CONNECTIONS_MAX : o.tcp_connections_max;
    s->tcp_idle_timeout_ms =
        o.tcp_idle_timeout_ms == 0 ? DNS_TCP_IDLE_TIMEOUT_MS_DEFAULT : o.tcp_idle_timeout_ms;
    return 0;
}

static void server_close(struct dns_server *s, void (*done)(void *ctx), void *ctx);

int dns_server_start(uv_loop_t *loop, const char *addr, const struct dns_server_options *opts,
                     const struct dns_source *src, struct dns_server **out, char *errmsg)
{
    ASSERT(src != NULL && src->service != NULL && src->node != NULL);
    *out = NULL;
    if (addr == NULL) {
        return fail(errmsg, SYN_EINVAL, "dns: no address");
    }
    struct dns_server *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return fail(errmsg, SYN_ENOMEM, "dns: out of memory");
    }
    s->loop = loop;
    s->src = *src;
    int rc = options_read(s, opts, errmsg);
    if (rc != 0) {
        free(s);
        return rc;
    }
    uv_udp_init(loop, &s->udp);
    s->udp.data = s;
    rc = sockets_start(s, addr, errmsg);
    if (rc != 0) {
        server_close(s, NULL, NULL); /* freed once the loop runs the close callbacks */
        return rc;
    }
    char domain[SYN_DNS_NAME_SIZE_MAX * 4u];
    dns_name_to_text(&s->zone.domain, domain, sizeof(domain));
    LOG_INFO(DNS_LOG, "answering for %s. on %s (udp and tcp port %u, ttl %u s)", domain, addr,
             s->port, s->zone.ttl_s);
    *out = s;
    return 0;
}

uint16_t dns_server_port(const struct dns_server *s)
{
    return s->port;
}

void dns_server_stats(const struct dns_server *s, struct dns_server_stats *out)
{
    *out = s->stats;
    struct api_server_stats tcp;
    api_server_stats(s->tcp, &tcp);
    out->tcp_connections_accepted = tcp.accepted;
    out->tcp_connections_refused = tcp.refused;
    out->tcp_connections_timed_out = tcp.timed_out;
    out->tcp_connections_open = tcp.open;
}

void dns_server_part_closed(void *ctx)
{
    struct dns_server *s = ctx;
    ASSERT(s->closes_pending > 0);
    if (--s->closes_pending > 0) {
        return;
    }
    void (*done)(void *ctx) = s->done;
    void *done_ctx = s->done_ctx;
    free(s);
    if (done != NULL) {
        done(done_ctx);
    }
}

static void on_udp_closed(uv_handle_t *handle)
{
    dns_server_part_closed(handle->data);
}

static void server_close(struct dns_server *s, void (*done)(void *ctx), void *ctx)
{
    ASSERT(s->closes_pending == 0);
    s->done = done;
    s->done_ctx = ctx;
    s->closes_pending = s->tcp != NULL ? 2u : 1u;
    if (s->tcp != NULL) {
        api_server_close(s->tcp, dns_server_part_closed, s);
    }
    uv_close((uv_handle_t *)&s->udp, on_udp_closed);
}

void dns_server_close(struct dns_server *s, void (*done)(void *ctx), void *ctx)
{
    server_close(s, done, ctx);
}
