/* dns_server.h: synod's DNS server on libuv: UDP and TCP (RFC 1035 4.2; RFC 7766) on one
 * address, answering Consul-style discovery names (dns_answer.h, docs/dns.md) from a
 * struct dns_source. A shell: the bytes are parsed and answered by pure code
 * (dns_msg.h, dns_answer.h); this file only moves them.
 *
 * UDP: one answer per datagram, at most 512 bytes, or the client's EDNS0 size up to
 * SYN_DNS_UDP_SIZE_MAX; a longer answer is cut at a record boundary with TC set, and the
 * client asks again over TCP. An answer the socket cannot take at once is dropped (the
 * client retries), so nothing queues. A malformed datagram is answered FORMERR when its
 * header can be read and it is a query, and dropped otherwise.
 * TCP: messages framed by a 2-byte length, answered in order on a connection; at most
 * SYN_DNS_TCP_CONNECTIONS_MAX connections (more are closed at once), an idle timeout, and a
 * malformed message closes its connection.
 *
 * Everything runs on the loop's thread, the source's calls included.
 */
#ifndef SYN_DNS_SERVER_H
#define SYN_DNS_SERVER_H

#include <stdint.h>

#include <uv.h>

#include "dns/dns_answer.h"

#define DNS_SERVER_ERRMSG_SIZE 256u
#define DNS_TTL_S_DEFAULT 0u /* as Consul: a health change is seen at the next query */
#define DNS_TCP_IDLE_TIMEOUT_MS_DEFAULT 10000u /* RFC 7766 6.2.3: seconds, not minutes */

struct dns_server;

struct dns_server_options {
    const char *domain;           /* NULL: DNS_DOMAIN_DEFAULT ("synod"); "consul" works too */
    const char *datacenter;       /* a label accepted before the domain (NAME.service.dc1.D), or
                                     NULL for none */
    uint32_t ttl_s;               /* the TTL of every record; 0 is DNS_TTL_S_DEFAULT */
    uint32_t tcp_connections_max; /* 1 .. SYN_DNS_TCP_CONNECTIONS_MAX; 0: the maximum */
    uint32_t tcp_idle_timeout_ms; /* 0: DNS_TCP_IDLE_TIMEOUT_MS_DEFAULT */
};

struct dns_server_stats {
    uint64_t queries_udp; /* datagrams received, malformed ones included */
    uint64_t queries_tcp; /* framed messages received, malformed ones included */
    uint64_t answers[6];  /* responses sent, by RCODE: [DNS_RCODE_NOERROR .. _REFUSED] */
    uint64_t answers_badvers;
    uint64_t truncated; /* UDP responses sent with TC */
    uint64_t dropped;   /* datagrams not answered: unreadable, a response, or the socket
                           full; TCP connections closed for a malformed message */
    uint64_t tcp_connections_accepted; /* refused ones included */
    uint64_t tcp_connections_refused;  /* over tcp_connections_max */
    uint64_t tcp_connections_timed_out;
    uint32_t tcp_connections_open;
};

/* Listens on addr ("HOST:PORT", "[V6]:PORT"; port 0 picks one, the same for UDP and TCP)
 * with UDP and TCP, answering from src, which is borrowed until dns_server_close()'s done
 * callback (the registry behind it must outlive the server). opts may be NULL (defaults).
 * 0; SYN_EINVAL (a bad address or option); SYN_EIO (cannot bind); SYN_ENOMEM. On failure
 * *out is NULL and errmsg (DNS_SERVER_ERRMSG_SIZE bytes, may be NULL) says why. */
int dns_server_start(uv_loop_t *loop, const char *addr, const struct dns_server_options *opts,
                     const struct dns_source *src, struct dns_server **out, char *errmsg);
/* The port both sockets are bound to. */
uint16_t dns_server_port(const struct dns_server *s);
void dns_server_stats(const struct dns_server *s, struct dns_server_stats *out);
/* Closes both sockets and every connection; done(ctx) (may be NULL) runs once all is closed;
 * s is freed just before. Called once. */
void dns_server_close(struct dns_server *s, void (*done)(void *ctx), void *ctx);

#endif
