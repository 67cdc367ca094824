/* dns_answer_internal.h: a response being built, shared by dns_answer.c (the names and the
 * frame of every response) and dns_answer_service.c (a service's records). */
#ifndef SYN_DNS_ANSWER_INTERNAL_H
#define SYN_DNS_ANSWER_INTERNAL_H

#include "dns/dns_answer.h"

struct dns_reply {
    const struct dns_zone *zone;
    const struct dns_source *src;
    const struct dns_query *q;
    uint32_t rotation;
    struct dns_writer w;
    uint8_t rcode;
    bool aa; /* the name is in our zone: the answer is authoritative */
};

/* dns_answer.c */
/* Parses a dotted quad ("10.0.0.7": four decimal numbers 0..255, 1..3 digits each); false for NULL.
 */
bool dns_ipv4_parse(const char *text, uint8_t out[4]);
/* "0a000007.addr.D": the name standing for an IPv4 address (Consul's form). */
void dns_addr_name(const struct dns_zone *z, const uint8_t ipv4[4], struct dns_name *out);
/* "NODE.node.D"; false when node is not a plain label. */
bool dns_node_name(const struct dns_zone *z, const char *node, struct dns_name *out);

/* dns_answer_service.c */
/* Answers for service `name` (tag: NULL, or only instances with it), lower case: A and
 * SRV records by the query's type, rotated, SRV targets' addresses as additional records;
 * sets r->rcode to NXDOMAIN (unknown, or nothing healthy) or SERVFAIL (the source failed). */
void dns_reply_service(struct dns_reply *r, const char *name, const char *tag);

#endif
