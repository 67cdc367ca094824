/* dns_msg.h: the DNS message codec (RFC 1035 4, RFC 2782 SRV, RFC 6891 EDNS0): a reader
 * that walks a message's header, questions and records with every length checked, the
 * parser of a query built on it, and a writer that builds a response record by record with
 * name compression and stops at a size limit without leaving half a record. Pure functions
 * over (data, size) (STYLE 10); dns_answer.h decides what to answer. */
#ifndef SYN_DNS_MSG_H
#define SYN_DNS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns_name.h"

/* RR types (RFC 1035 3.2.2, RFC 3596, RFC 2782, RFC 6891) and query types (3.2.3). */
enum dns_type {
    DNS_TYPE_A = 1,
    DNS_TYPE_NS = 2,
    DNS_TYPE_CNAME = 5,
    DNS_TYPE_SOA = 6,
    DNS_TYPE_PTR = 12,
    DNS_TYPE_MX = 15,
    DNS_TYPE_TXT = 16,
    DNS_TYPE_AAAA = 28,
    DNS_TYPE_SRV = 33,
    DNS_TYPE_OPT = 41,
    DNS_TYPE_AXFR = 252,
    DNS_TYPE_ANY = 255,
};

enum dns_class {
    DNS_CLASS_IN = 1,
    DNS_CLASS_ANY = 255,
};

/* RCODEs (RFC 1035 4.1.1; BADVERS, RFC 6891 9, needs an OPT record for its upper bits). */
enum dns_rcode {
    DNS_RCODE_NOERROR = 0,
    DNS_RCODE_FORMERR = 1,
    DNS_RCODE_SERVFAIL = 2,
    DNS_RCODE_NXDOMAIN = 3,
    DNS_RCODE_NOTIMP = 4,
    DNS_RCODE_REFUSED = 5,
    DNS_RCODE_BADVERS = 16,
};

#define DNS_OPCODE_QUERY 0u
#define DNS_OPT_RR_SIZE 11u /* an OPT record without options: root name, type, class, TTL, 0 */

/* Network byte order (RFC 1035 2.3.2). */
static inline uint16_t dns_get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t dns_get_u32(const uint8_t *p)
{
    return (uint32_t)dns_get_u16(p) << 16 | dns_get_u16(p + 2);
}

static inline void dns_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void dns_put_u32(uint8_t *p, uint32_t v)
{
    dns_put_u16(p, (uint16_t)(v >> 16));
    dns_put_u16(p + 2, (uint16_t)v);
}

/* The fixed 12 bytes (RFC 1035 4.1.1). */
struct dns_header {
    uint16_t id;
    bool qr; /* a response */
    uint8_t opcode;
    bool aa;       /* authoritative answer */
    bool tc;       /* truncated */
    bool rd;       /* recursion desired: copied from the query */
    bool ra;       /* recursion available: synod never recurses */
    uint8_t rcode; /* the low 4 bits */
    uint16_t qdcount;
    uint16_t ancount;
    uint16_t nscount;
    uint16_t arcount;
};

/* Decodes the header; false when size < SYN_DNS_HEADER_SIZE. */
bool dns_header_read(const uint8_t *msg, size_t size, struct dns_header *out);
/* Encodes h into out[0 .. SYN_DNS_HEADER_SIZE). */
void dns_header_write(const struct dns_header *h, uint8_t *out);

/* ---- Reading ------------------------------------------------------------------------- */

/* One resource record as read: its owner name, fixed fields, and where its data is. */
struct dns_rr {
    struct dns_name name;
    uint16_t type;
    uint16_t klass;  /* for OPT: the sender's UDP payload size */
    uint32_t ttl;    /* for OPT: extended RCODE, version and flags */
    size_t rdata_at; /* offset of the RDATA in the message */
    uint16_t rdata_size;
};

/* Reads one question at *at (name, type, class) and moves *at past it. 0 or SYN_EBADMSG. */
int dns_question_read(const uint8_t *msg, size_t size, size_t *at, struct dns_name *name,
                      uint16_t *type, uint16_t *klass);
/* Reads one record at *at and moves *at past it; its RDATA must lie within the message.
 * 0 or SYN_EBADMSG. */
int dns_rr_read(const uint8_t *msg, size_t size, size_t *at, struct dns_rr *out);

/* ---- A query ------------------------------------------------------------------------- */

struct dns_query {
    struct dns_header header;
    bool has_question;     /* the question below was read */
    struct dns_name qname; /* as sent (case kept: answers echo it) */
    uint16_t qtype;
    uint16_t qclass;
    bool edns;              /* an OPT record came (RFC 6891) */
    uint16_t edns_udp_size; /* the payload size it offers, as sent */
    uint8_t edns_version;
    /* With an error: whether to answer at all, and with which RCODE. */
    bool reply;
    uint8_t rcode;
};

/* Parses a query from untrusted bytes.
 *   0            a standard query with one question: answer it;
 *   SYN_EBADMSG  malformed: when out->reply, answer out->rcode (FORMERR) to out->header.id;
 *                otherwise (under 12 bytes, or a response: never answer one, so that two
 *                servers cannot bounce messages forever) drop it;
 *   SYN_EPROTO   well formed but not something synod serves: answer out->rcode (NOTIMP for
 *                an opcode other than QUERY, BADVERS for an EDNS version other than 0).
 * A standard query has QDCOUNT 1, no answer or authority records, at most
 * SYN_DNS_QUERY_RRS_MAX additional records of which at most one is an OPT (with the root
 * name and well-formed options), and nothing after its last record. */
int dns_query_parse(const uint8_t *msg, size_t size, struct dns_query *out);
/* The most a UDP answer to q may take: 512, or the EDNS0 size offered, at least 512 and at
 * most SYN_DNS_UDP_SIZE_MAX (RFC 6891 6.2.5). */
size_t dns_query_udp_size(const struct dns_query *q);

/* ---- Writing ------------------------------------------------------------------------- */

enum dns_section {
    DNS_SECTION_QUESTION = 0,
    DNS_SECTION_ANSWER = 1,
    DNS_SECTION_AUTHORITY = 2,
    DNS_SECTION_ADDITIONAL = 3,
};

/* Builds one message in a caller's buffer. Sections are written in order. A record that
 * would pass size_max is not written at all (SYN_ETOOBIG), so a message cut short is cut
 * at a record boundary; the writer remembers that something was left out. */
struct dns_writer {
    uint8_t *data;      /* borrowed: the caller's buffer, size_max bytes or more */
    size_t size_max;    /* records stop here; an OPT record (dns_writer_opt) may use
                           opt_reserve bytes more */
    size_t opt_reserve; /* DNS_OPT_RR_SIZE when an OPT record will end the message, else 0 */
    size_t len;
    uint16_t count[4];        /* records per section */
    enum dns_section section; /* the last section written to */
    bool left_out[4];         /* a record of that section did not fit */
    uint32_t names_count;
    uint16_t names_at[SYN_DNS_COMPRESS_NAMES_MAX];   /* offsets of labels written, to point to */
    uint32_t names_hash[SYN_DNS_COMPRESS_NAMES_MAX]; /* a hash of the name from each on */
};

/* Starts a message in data (capacity bytes). The message may take limit bytes; with_opt
 * keeps DNS_OPT_RR_SIZE of them for an OPT record written last. The header is written by
 * dns_writer_finish(). */
void dns_writer_init(struct dns_writer *w, uint8_t *data, size_t limit, bool with_opt);
/* The question, written as is (no compression: nothing precedes it). 0 or SYN_ETOOBIG. */
int dns_writer_question(struct dns_writer *w, const struct dns_name *name, uint16_t type,
                        uint16_t klass);
/* A record of class IN with its RDATA given whole. 0 or SYN_ETOOBIG. */
int dns_writer_rr(struct dns_writer *w, enum dns_section s, const struct dns_name *name,
                  uint16_t type, uint32_t ttl, const uint8_t *rdata, uint16_t rdata_size);
/* An A record (RFC 1035 3.4.1). 0 or SYN_ETOOBIG. */
int dns_writer_a(struct dns_writer *w, enum dns_section s, const struct dns_name *name,
                 uint32_t ttl, const uint8_t ipv4[4]);
/* An SRV record (RFC 2782); its target is written uncompressed, as RFC 2782 requires. */
int dns_writer_srv(struct dns_writer *w, enum dns_section s, const struct dns_name *name,
                   uint32_t ttl, uint16_t priority, uint16_t weight, uint16_t port,
                   const struct dns_name *target);
/* An SOA record (RFC 1035 3.3.13) whose MNAME and RNAME may be compressed. */
struct dns_soa {
    const struct dns_name *mname;
    const struct dns_name *rname;
    uint32_t serial, refresh, retry, expire, minimum;
};
int dns_writer_soa(struct dns_writer *w, enum dns_section s, const struct dns_name *name,
                   uint32_t ttl, const struct dns_soa *soa);
/* The OPT record (RFC 6891 6.1.2), in the room kept for it: our UDP payload size and the
 * upper 8 bits of a 12-bit RCODE. Last; once. */
void dns_writer_opt(struct dns_writer *w, uint16_t udp_size, uint8_t rcode_high);
/* Sets the counts in h from what was written, writes the header, and returns the message's
 * size. */
size_t dns_writer_finish(struct dns_writer *w, struct dns_header *h);

/* A response carrying only an RCODE to a query dns_query_parse() refused (q->reply): the id,
 * opcode and RD echoed, the question echoed when it was read, an OPT record when the query
 * had one (BADVERS needs it). Returns its size (at most SYN_DNS_UDP_SIZE_MIN). */
size_t dns_response_error(const struct dns_query *q, uint8_t rcode, uint8_t *out);

#endif
