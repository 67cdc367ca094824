/* dns_write.c: building DNS responses (dns_msg.h): records written whole or not at all, and
 * owner names compressed against the names already in the message (RFC 1035 4.1.4). */
#include <string.h>

#include "base/assert.h"
#include "base/err.h"
#include "dns/dns_msg.h"

#define POINTER_OFFSET_MAX 0x3FFFu /* a pointer holds 14 bits of offset */
#define RR_FIXED_SIZE 10u          /* TYPE, CLASS, TTL, RDLENGTH */

/* How a name will be written: its first `literal` bytes as they are, then a pointer to
 * `pointer` (0: no pointer, the name ends with its own 0). */
struct name_plan {
    size_t literal;
    uint16_t pointer;
    size_t size;
};

void dns_writer_init(struct dns_writer *w, uint8_t *data, size_t limit, bool with_opt)
{
    ASSERT(limit >= SYN_DNS_HEADER_SIZE + DNS_OPT_RR_SIZE);
    ASSERT(limit <= SYN_DNS_MESSAGE_SIZE_MAX);
    memset(w, 0, sizeof(*w));
    w->data = data;
    w->opt_reserve = with_opt ? DNS_OPT_RR_SIZE : 0;
    w->size_max = limit - w->opt_reserve;
    w->len = SYN_DNS_HEADER_SIZE;
    w->section = DNS_SECTION_QUESTION;
}

/* Whether the name written at `at` (ours, so its pointers are sound) is labels from.. of n. */
static bool written_name_is(const struct dns_writer *w, size_t at, const struct dns_name *n,
                            uint32_t from)
{
    uint32_t i = from;
    for (uint32_t hops = 0; hops <= SYN_DNS_POINTERS_MAX;) {
        uint8_t len = w->data[at];
        if (len >= 0xC0u) {
            at = (size_t)(len & 0x3Fu) << 8 | w->data[at + 1];
            hops++;
            continue;
        }
        if (len == 0 || i == n->label_count) {
            return len == 0 && i == n->label_count;
        }
        size_t size = 0;
        const uint8_t *label = dns_name_label(n, i, &size);
        if (size != len || !dns_bytes_equal_nocase(w->data + at + 1, label, size)) {
            return false;
        }
        at += 1u + len;
        i++;
    }
    UNREACHABLE(); /* we write no pointer chains longer than the labels of a name */
}

/* FNV-1a of the labels of n from label i on, case folded: remembered with each position so
 * that a search compares numbers first and names only when they match. */
static uint32_t suffix_hash(const struct dns_name *n, uint32_t i)
{
    uint32_t h = 2166136261u;
    for (size_t at = n->label_at[i]; at < n->size; at++) {
        h = (h ^ dns_lower(n->wire[at])) * 16777619u;
    }
    return h;
}

static struct name_plan name_plan(const struct dns_writer *w, const struct dns_name *n,
                                  bool compress)
{
    struct name_plan p = {.literal = n->size, .pointer = 0, .size = n->size};
    for (uint32_t i = 0; compress && i < n->label_count; i++) {
        uint32_t h = suffix_hash(n, i);
        for (uint32_t k = 0; k < w->names_count; k++) {
            if (w->names_hash[k] == h && written_name_is(w, w->names_at[k], n, i)) {
                p.literal = n->label_at[i];
                p.pointer = w->names_at[k];
                p.size = p.literal + 2u;
                return p;
            }
        }
    }
    return p;
}

/* Writes n as planned at w->len and remembers where its literal labels start. */
static void name_put(struct dns_writer *w, const struct dns_name *n, const struct name_plan *p)
{
    size_t at = w->len;
    memcpy(w->data + at, n->wire, p->literal);
    if (p->pointer != 0) {
        dns_put_u16(w->data + at + p->literal, (uint16_t)(0xC000u | p->pointer));
    }
    for (uint32_t i = 0; i < n->label_count && n->label_at[i] < p->literal; i++) {
        size_t label_offset = at + n->label_at[i];
        if (label_offset <= POINTER_OFFSET_MAX && w->names_count < SYN_DNS_COMPRESS_NAMES_MAX) {
            w->names_hash[w->names_count] = suffix_hash(n, i); /* what follows is n's rest */
            w->names_at[w->names_count++] = (uint16_t)label_offset;
        }
    }
    w->len += p->size;
}

/* Whether size more bytes fit; if not, the section is marked as having left a record out. */
static bool room(struct dns_writer *w, enum dns_section s, size_t size)
{
    ASSERT(s >= w->section); /* sections in order */
    w->section = s;
    if (size > w->size_max - w->len) {
        w->left_out[s] = true;
        return false;
    }
    return true;
}

int dns_writer_question(struct dns_writer *w, const struct dns_name *name, uint16_t type,
                        uint16_t klass)
{
    struct name_plan p = name_plan(w, name, false);
    if (!room(w, DNS_SECTION_QUESTION, p.size + 4u)) {
        return SYN_ETOOBIG;
    }
    name_put(w, name, &p);
    dns_put_u16(w->data + w->len, type);
    dns_put_u16(w->data + w->len + 2, klass);
    w->len += 4u;
    w->count[DNS_SECTION_QUESTION]++;
    return 0;
}

/* The owner name and fixed fields of a record whose RDATA (rdata_size bytes) follows. */
static void rr_head_put(struct dns_writer *w, enum dns_section s, const struct dns_name *name,
                        const struct name_plan *p, uint16_t type, uint32_t ttl, size_t rdata_size)
{
    name_put(w, name, p);
    uint8_t *f = w->data + w->len;
    dns_put_u16(f, type);
    dns_put_u16(f + 2, DNS_CLASS_IN);
    dns_put_u32(f + 4, ttl);
    dns_put_u16(f + 8, (uint16_t)rdata_size);
    w->len += RR_FIXED_SIZE;
    w->count[s]++;
}

int dns_writer_rr(struct dns_writer *w, enum dns_section s, const struct dns_name *name,
                  uint16_t type, uint32_t ttl, const uint8_t *rdata, uint16_t rdata_size)
{
    ASSERT(s != DNS_SECTION_QUESTION);
    struct name_plan p = name_plan(w, name, true);
    if (!room(w, s, p.size + RR_FIXED_SIZE + rdata_size)) {
        return SYN_ETOOBIG;
    }
    rr_head_put(w, s, name, &p, type, ttl, rdata_size);
    memcpy(w->data + w->len, rdata, rdata_size);
    w->len += rdata_size;
    return 0;
}

int dns_writer_a(struct dns_writer *w, enum dns_section s, const struct dns_name *name,
                 uint32_t ttl, const uint8_t ipv4[4])
{
    return dns_writer_rr(w, s, name, DNS_TYPE_A, ttl, ipv4, 4);
}

int dns_writer_srv(struct dns_writer *w, enum dns_section s, const struct dns_name *name,
                   uint32_t ttl, uint16_t priority, uint16_t weight, uint16_t port,
                   const struct dns_name *target)
{
    ASSERT(s != DNS_SECTION_QUESTION);
    struct name_plan p = name_plan(w, name, true);
    size_t rdata_size = 6u + target->size;
    if (!room(w, s, p.size + RR_FIXED_SIZE + rdata_size)) {
        return SYN_ETOOBIG;
    }
    rr_head_put(w, s, name, &p, DNS_TYPE_SRV, ttl, rdata_size);
    dns_put_u16(w->data + w->len, priority);
    dns_put_u16(w->data + w->len + 2, weight);
    dns_put_u16(w->data + w->len + 4, port);
    w->len += 6u;
    struct name_plan whole = name_plan(w, target, false); /* RFC 2782: never compressed */
    name_put(w, target, &whole);
    return 0;
}

int dns_writer_soa(struct dns_writer *w, enum dns_section s, const struct dns_name *name,
                   uint32_t ttl, const struct dns_soa *soa)
{
    ASSERT(s != DNS_SECTION_QUESTION);
    struct name_plan p = name_plan(w, name, true);
    /* MNAME is planned after the owner is written, RNAME after MNAME: plan against the
     * message as it is now, which can only be worse, to know the size beforehand. */
    struct name_plan m = name_plan(w, soa->mname, true);
    struct name_plan r = name_plan(w, soa->rname, true);
    if (!room(w, s, p.size + RR_FIXED_SIZE + m.size + r.size + 20u)) {
        return SYN_ETOOBIG;
    }
    size_t head_at = w->len;
    rr_head_put(w, s, name, &p, DNS_TYPE_SOA, ttl, 0);
    size_t rdata_at = w->len;
    m = name_plan(w, soa->mname, true);
    name_put(w, soa->mname, &m);
    r = name_plan(w, soa->rname, true);
    name_put(w, soa->rname, &r);
    const uint32_t fields[5] = {soa->serial, soa->refresh, soa->retry, soa->expire, soa->minimum};
    for (int i = 0; i < 5; i++) {
        dns_put_u32(w->data + w->len, fields[i]);
        w->len += 4u;
    }
    dns_put_u16(w->data + head_at + p.size + 8u, (uint16_t)(w->len - rdata_at));
    return 0;
}

void dns_writer_opt(struct dns_writer *w, uint16_t udp_size, uint8_t rcode_high)
{
    ASSERT(w->opt_reserve == DNS_OPT_RR_SIZE);
    ASSERT(w->len + DNS_OPT_RR_SIZE <= w->size_max + w->opt_reserve);
    w->section = DNS_SECTION_ADDITIONAL;
    uint8_t *p = w->data + w->len;
    p[0] = 0; /* the root */
    dns_put_u16(p + 1, DNS_TYPE_OPT);
    dns_put_u16(p + 3, udp_size);
    dns_put_u32(p + 5, (uint32_t)rcode_high << 24); /* version 0, no DO bit */
    dns_put_u16(p + 9, 0);
    w->len += DNS_OPT_RR_SIZE;
    w->opt_reserve = 0;
    w->count[DNS_SECTION_ADDITIONAL]++;
}

size_t dns_writer_finish(struct dns_writer *w, struct dns_header *h)
{
    ASSERT(w->opt_reserve == 0); /* an OPT record that was kept room for was written */
    h->qdcount = w->count[DNS_SECTION_QUESTION];
    h->ancount = w->count[DNS_SECTION_ANSWER];
    h->nscount = w->count[DNS_SECTION_AUTHORITY];
    h->arcount = w->count[DNS_SECTION_ADDITIONAL];
    dns_header_write(h, w->data);
    return w->len;
}

size_t dns_response_error(const struct dns_query *q, uint8_t rcode, uint8_t *out)
{
    struct dns_writer w;
    dns_writer_init(&w, out, SYN_DNS_UDP_SIZE_MIN, q->edns);
    if (q->has_question) {
        ASSERT(dns_writer_question(&w, &q->qname, q->qtype, q->qclass) == 0);
    }
    if (q->edns) {
        dns_writer_opt(&w, SYN_DNS_UDP_SIZE_MAX, (uint8_t)(rcode >> 4));
    }
    struct dns_header h = {
        .id = q->header.id,
        .qr = true,
        .opcode = q->header.opcode,
        .rd = q->header.rd,
        .rcode = (uint8_t)(rcode & 0xFu),
    };
    return dns_writer_finish(&w, &h);
}
