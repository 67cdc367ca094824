/* dns_msg.c: reading DNS messages (dns_msg.h): the header, questions and records of
 * untrusted bytes, and the rules a query must follow to be answered. */
#include <string.h>

#include "base/err.h"
#include "dns/dns_msg.h"

#define EDNS_OPTION_HEADER_SIZE 4u /* RFC 6891 6.1.2: OPTION-CODE, OPTION-LENGTH */

bool dns_header_read(const uint8_t *msg, size_t size, struct dns_header *out)
{
    if (size < SYN_DNS_HEADER_SIZE) {
        return false;
    }
    uint16_t flags = dns_get_u16(msg + 2);
    *out = (struct dns_header){
        .id = dns_get_u16(msg),
        .qr = (flags & 0x8000u) != 0,
        .opcode = (uint8_t)(flags >> 11 & 0xFu),
        .aa = (flags & 0x0400u) != 0,
        .tc = (flags & 0x0200u) != 0,
        .rd = (flags & 0x0100u) != 0,
        .ra = (flags & 0x0080u) != 0,
        .rcode = (uint8_t)(flags & 0xFu),
        .qdcount = dns_get_u16(msg + 4),
        .ancount = dns_get_u16(msg + 6),
        .nscount = dns_get_u16(msg + 8),
        .arcount = dns_get_u16(msg + 10),
    };
    return true;
}

void dns_header_write(const struct dns_header *h, uint8_t *out)
{
    uint16_t flags =
        (uint16_t)((h->qr ? 0x8000u : 0u) | (uint16_t)(h->opcode & 0xFu) << 11 |
                   (h->aa ? 0x0400u : 0u) | (h->tc ? 0x0200u : 0u) | (h->rd ? 0x0100u : 0u) |
                   (h->ra ? 0x0080u : 0u) | (h->rcode & 0xFu));
    dns_put_u16(out, h->id);
    dns_put_u16(out + 2, flags);
    dns_put_u16(out + 4, h->qdcount);
    dns_put_u16(out + 6, h->ancount);
    dns_put_u16(out + 8, h->nscount);
    dns_put_u16(out + 10, h->arcount);
}

int dns_question_read(const uint8_t *msg, size_t size, size_t *at, struct dns_name *name,
                      uint16_t *type, uint16_t *klass)
{
    size_t end = 0;
    if (dns_name_read(msg, size, *at, name, &end) != 0 || size - end < 4u) {
        return SYN_EBADMSG;
    }
    *type = dns_get_u16(msg + end);
    *klass = dns_get_u16(msg + end + 2);
    *at = end + 4u;
    return 0;
}

int dns_rr_read(const uint8_t *msg, size_t size, size_t *at, struct dns_rr *out)
{
    size_t end = 0;
    if (dns_name_read(msg, size, *at, &out->name, &end) != 0 || size - end < 10u) {
        return SYN_EBADMSG;
    }
    out->type = dns_get_u16(msg + end);
    out->klass = dns_get_u16(msg + end + 2);
    out->ttl = dns_get_u32(msg + end + 4);
    out->rdata_size = dns_get_u16(msg + end + 8);
    out->rdata_at = end + 10u;
    if (out->rdata_size > size - out->rdata_at) {
        return SYN_EBADMSG;
    }
    *at = out->rdata_at + out->rdata_size;
    return 0;
}

/* RFC 6891 6.1: one OPT record, owned by the root, its options each within its RDATA. */
static int opt_read(const uint8_t *msg, const struct dns_rr *rr, struct dns_query *q)
{
    if (q->edns || rr->name.label_count != 0) {
        return SYN_EBADMSG;
    }
    size_t at = rr->rdata_at;
    size_t end = rr->rdata_at + rr->rdata_size;
    while (at < end) {
        if (end - at < EDNS_OPTION_HEADER_SIZE) {
            return SYN_EBADMSG;
        }
        size_t option_size = dns_get_u16(msg + at + 2);
        if (option_size > end - at - EDNS_OPTION_HEADER_SIZE) {
            return SYN_EBADMSG;
        }
        at += EDNS_OPTION_HEADER_SIZE + option_size; /* options are read, none acted on */
    }
    q->edns = true;
    q->edns_udp_size = rr->klass;
    q->edns_version = (uint8_t)(rr->ttl >> 16);
    return 0;
}

/* The additional section: an OPT record is read, others (a TSIG we do not check) skipped. */
static int additional_read(const uint8_t *msg, size_t size, size_t *at, struct dns_query *q)
{
    for (uint32_t i = 0; i < q->header.arcount; i++) {
        struct dns_rr rr;
        if (dns_rr_read(msg, size, at, &rr) != 0) {
            return SYN_EBADMSG;
        }
        if (rr.type == DNS_TYPE_OPT && opt_read(msg, &rr, q) != 0) {
            return SYN_EBADMSG;
        }
    }
    return 0;
}

int dns_query_parse(const uint8_t *msg, size_t size, struct dns_query *out)
{
    memset(out, 0, sizeof(*out));
    dns_name_root(&out->qname);
    if (!dns_header_read(msg, size, &out->header) || out->header.qr) {
        return SYN_EBADMSG;
    }
    out->reply = true;
    if (out->header.opcode != DNS_OPCODE_QUERY) {
        out->rcode = DNS_RCODE_NOTIMP;
        return SYN_EPROTO;
    }
    out->rcode = DNS_RCODE_FORMERR;
    const struct dns_header *h = &out->header;
    if (h->qdcount != 1 || h->ancount != 0 || h->nscount != 0 ||
        h->arcount > SYN_DNS_QUERY_RRS_MAX) {
        return SYN_EBADMSG;
    }
    size_t at = SYN_DNS_HEADER_SIZE;
    if (dns_question_read(msg, size, &at, &out->qname, &out->qtype, &out->qclass) != 0) {
        dns_name_root(&out->qname);
        return SYN_EBADMSG;
    }
    out->has_question = true;
    if (additional_read(msg, size, &at, out) != 0 || at != size) {
        return SYN_EBADMSG;
    }
    if (out->edns && out->edns_version != 0) {
        out->rcode = DNS_RCODE_BADVERS; /* RFC 6891 6.1.3 */
        return SYN_EPROTO;
    }
    out->rcode = DNS_RCODE_NOERROR;
    return 0;
}

size_t dns_query_udp_size(const struct dns_query *q)
{
    if (!q->edns || q->edns_udp_size <= SYN_DNS_UDP_SIZE_MIN) {
        return SYN_DNS_UDP_SIZE_MIN; /* RFC 6891 6.2.5: values below 512 mean 512 */
    }
    return q->edns_udp_size < SYN_DNS_UDP_SIZE_MAX ? q->edns_udp_size : SYN_DNS_UDP_SIZE_MAX;
}
