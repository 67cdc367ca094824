/* dns_server_internal.h: the DNS server's state, shared by dns_server.c (start, UDP, close)
 * and dns_server_tcp.c (the TCP listener and its framed messages). */
#ifndef SYN_DNS_SERVER_INTERNAL_H
#define SYN_DNS_SERVER_INTERNAL_H

#include <stdbool.h>

#include "api/api_server.h"
#include "dns/dns_server.h"

#define DNS_LOG "dns"
#define DNS_TCP_LENGTH_SIZE 2u /* RFC 1035 4.2.2: each TCP message follows its length */

struct dns_server {
    uv_loop_t *loop;
    struct dns_zone zone;
    struct dns_source src;
    uint32_t tcp_connections_max;
    uint32_t tcp_idle_timeout_ms;
    struct api_server *tcp; /* the listener and its connections (api_server.h) */
    uv_udp_t udp;
    uint16_t port;
    uint32_t rotation;             /* one step per answered query: round-robin order */
    struct dns_server_stats stats; /* the TCP connection counts come from api_server */
    uint32_t closes_pending;       /* the TCP server and the UDP handle, until closed */
    void (*done)(void *ctx);
    void *done_ctx;
    uint8_t in[SYN_DNS_MESSAGE_SIZE_MAX];                        /* one datagram */
    uint8_t out[DNS_TCP_LENGTH_SIZE + SYN_DNS_MESSAGE_SIZE_MAX]; /* one answer, after room
                                                                    for its TCP length */
};

/* dns_server.c */
/* Answers msg into s->out + DNS_TCP_LENGTH_SIZE. 0 with *size and *info set;
 * SYN_EBADMSG: nothing to send (counted as dropped). */
int dns_server_answer(struct dns_server *s, const uint8_t *msg, size_t msg_size, bool tcp,
                      size_t *size, struct dns_answer_info *info);
/* Counts a response handed to a socket. */
void dns_server_sent(struct dns_server *s, const struct dns_answer_info *info);
/* One of the two sockets finished closing. */
void dns_server_part_closed(void *ctx);

/* dns_server_tcp.c */
/* Starts the TCP listener on addr into s->tcp and sets s->port. As api_server_start(). */
int dns_tcp_start(struct dns_server *s, const char *addr, char *errmsg);

#endif
