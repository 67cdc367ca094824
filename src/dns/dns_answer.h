/* dns_answer.h: what synod's DNS server answers (Consul-style discovery; docs/dns.md), as a
 * pure function from a query's bytes to a response's bytes over a data source the caller
 * provides (no I/O of its own, STYLE 10). With the domain D ("synod" by default):
 *
 *   NAME.service.D              A and SRV records of service NAME's healthy instances
 *   TAG.NAME.service.D          ... only those with tag TAG
 *   _NAME._tcp.service.D        RFC 2782 form of NAME.service.D (also _udp)
 *   _NAME._TAG.service.D        RFC 2782 form of TAG.NAME.service.D
 *   NODE.node.D                 the A record of node NODE
 *   HEX.addr.D                  the A record of an IPv4 address as 8 hex digits (SRV targets)
 *   D                           the zone's SOA record
 *
 * A datacenter label may stand before D when one is configured (NAME.service.dc1.consul).
 * Anything else under D is NXDOMAIN; names outside D are REFUSED (synod is no resolver).
 * Names are matched without regard to ASCII case. Records of a service come in an order
 * rotated by a counter the caller passes (round-robin DNS, reproducible in tests). */
#ifndef SYN_DNS_ANSWER_H
#define SYN_DNS_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns_msg.h"

#define DNS_DOMAIN_DEFAULT "synod"
#define DNS_TEXT_SIZE_MAX (SYN_DNS_LABEL_SIZE_MAX + 1u) /* a service, tag or node name + NUL */

/* One instance of a service, as the source hands it out. Strings are borrowed until the
 * source's next call (dns_answer() copies what it keeps). */
struct dns_instance {
    const char *node;         /* the node it runs on: letters, digits, '-', '_'; 1..63 */
    const char *address;      /* where to reach it: the instance's own address, or its node's
                                 when it has none. An IPv4 dotted quad, or a host name */
    const char *node_address; /* the node's address (NULL when unknown): when address is the
                                 same, SRV records point at NODE.node.D */
    uint16_t port;
    uint16_t weight; /* the SRV weight (RFC 2782); 0 counts as 1 */
};

/* Where the answers come from. The registry implements it; tests use a fake. Both
 * functions run on the DNS server's thread (the node's loop), must not block, and must not
 * call back into the DNS server.
 *
 * service(ctx, name, tag, out, max, count):
 *   the instances of service `name` that discovery may return now (healthy: no critical
 *   check, on a node not failed), and when tag is not NULL only those carrying that tag.
 *   name and tag come lower-cased from the query; compare them without regard to ASCII case.
 *   Fill at most max of out in a stable order (the caller rotates it) and set *count to
 *   how many. Return 0 (also with *count 0: a known service with no healthy instance),
 *   SYN_ENOENT (no such service), or another negative code (answered with SERVFAIL).
 *
 * node(ctx, name, addr, size):
 *   node `name`'s address (lower-cased name, compare without case) into addr, NUL-terminated
 *   (size is SYN_DNS_ADDRESS_SIZE_MAX). Return 0, SYN_ENOENT (no such node), or another
 *   negative code (SERVFAIL). A node that has failed may be reported or not: the source
 *   decides, as for instances. */
struct dns_source {
    void *ctx;
    int (*service)(void *ctx, const char *name, const char *tag, struct dns_instance *out,
                   uint32_t max, uint32_t *count);
    int (*node)(void *ctx, const char *name, char *addr, size_t size);
};

/* What is answered: the domain, an optional datacenter label, the TTL of every record. */
struct dns_zone {
    struct dns_name domain;
    struct dns_name datacenter; /* one label, or the root when none */
    struct dns_name soa_mname;  /* "ns.D" */
    struct dns_name soa_rname;  /* "hostmaster.D" */
    uint32_t ttl_s;
};

/* domain: "synod", "consul", "disco.example" (labels of letters, digits, '-' and '_'; a
 * trailing dot allowed); NULL means DNS_DOMAIN_DEFAULT. datacenter: one such label, or NULL.
 * 0, or SYN_EINVAL. */
int dns_zone_init(struct dns_zone *z, const char *domain, const char *datacenter, uint32_t ttl_s);

/* What a response said, for the server's counters and logs. */
struct dns_answer_info {
    uint8_t rcode;    /* the full RCODE (BADVERS included) */
    bool truncated;   /* TC was set */
    uint16_t answers; /* records in the answer section */
};

/* Answers the query msg[0..size). tcp: the response may take SYN_DNS_MESSAGE_SIZE_MAX
 * bytes; otherwise (UDP) dns_query_udp_size() of the query, and answers that do not fit set
 * TC (RFC 1035 4.2.1; the client retries over TCP). Additional records that do not fit are
 * left out without TC (RFC 2181 9). out has SYN_DNS_MESSAGE_SIZE_MAX bytes.
 * 0 with the response's size in *out_size, or SYN_EBADMSG when nothing must be sent (shorter
 * than a header, or a response). */
int dns_answer(const struct dns_zone *z, const struct dns_source *src, uint32_t rotation,
               const uint8_t *msg, size_t size, bool tcp, uint8_t *out, size_t *out_size,
               struct dns_answer_info *info);

#endif
