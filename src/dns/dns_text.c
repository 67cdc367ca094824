/* dns_text.c: a DNS message as text (dns_text.h), read with the codec's own reader. */
#include <string.h>

#include "base/err.h"
#include "base/num.h"
#include "dns/dns_msg.h"
#include "dns/dns_text.h"

#define NAME_TEXT_SIZE (4u * SYN_DNS_NAME_SIZE_MAX + 2u) /* every byte as \DDD */

struct text {
    char *out;
    size_t size;
    size_t len;
    bool full;
};

static void put(struct text *t, const char *s)
{
    size_t n = strlen(s);
    if (t->full || n >= t->size - t->len) {
        t->full = true;
        return;
    }
    memcpy(t->out + t->len, s, n + 1);
    t->len += n;
}

static void put_u(struct text *t, uint64_t v)
{
    char digits[SYN_I64_TEXT_SIZE_MAX + 1];
    size_t n = syn_i64_format((int64_t)v, digits);
    digits[n] = '\0';
    put(t, digits);
}

static void put_name(struct text *t, const struct dns_name *n)
{
    char name[NAME_TEXT_SIZE];
    dns_name_to_text(n, name, sizeof(name));
    put(t, n->label_count == 0 ? "." : name);
}

const char *dns_rcode_name(uint32_t rcode)
{
    static const char *const names[] = {"NOERROR",  "FORMERR", "SERVFAIL",
                                        "NXDOMAIN", "NOTIMP",  "REFUSED"};
    if (rcode < sizeof(names) / sizeof(names[0])) {
        return names[rcode];
    }
    return rcode == DNS_RCODE_BADVERS ? "BADVERS" : NULL;
}

static const char *type_name(uint16_t type)
{
    switch (type) {
    case DNS_TYPE_A:
        return "A";
    case DNS_TYPE_NS:
        return "NS";
    case DNS_TYPE_CNAME:
        return "CNAME";
    case DNS_TYPE_SOA:
        return "SOA";
    case DNS_TYPE_PTR:
        return "PTR";
    case DNS_TYPE_MX:
        return "MX";
    case DNS_TYPE_TXT:
        return "TXT";
    case DNS_TYPE_AAAA:
        return "AAAA";
    case DNS_TYPE_SRV:
        return "SRV";
    case DNS_TYPE_OPT:
        return "OPT";
    case DNS_TYPE_ANY:
        return "ANY";
    default:
        return NULL;
    }
}

static void put_type(struct text *t, uint16_t type)
{
    const char *name = type_name(type);
    if (name != NULL) {
        put(t, name);
    } else {
        put(t, "TYPE");
        put_u(t, type);
    }
}

static void put_header(struct text *t, const struct dns_header *h, uint32_t rcode)
{
    put(t, "id=");
    put_u(t, h->id);
    put(t, " ");
    const char *name = dns_rcode_name(rcode);
    if (name != NULL) {
        put(t, name);
    } else {
        put(t, "RCODE");
        put_u(t, rcode);
    }
    const bool flags[5] = {h->qr, h->aa, h->tc, h->rd, h->ra};
    const char *const flag_names[5] = {" qr", " aa", " tc", " rd", " ra"};
    for (int i = 0; i < 5; i++) {
        put(t, flags[i] ? flag_names[i] : "");
    }
    put(t, "\n");
}

/* A name inside RDATA at *at; *at moves past it. */
static int rdata_name(const uint8_t *msg, size_t size, size_t *at, struct text *t)
{
    struct dns_name n;
    size_t end = 0;
    if (dns_name_read(msg, size, *at, &n, &end) != 0) {
        return SYN_EBADMSG;
    }
    put(t, " ");
    put_name(t, &n);
    *at = end;
    return 0;
}

static int put_rdata(const uint8_t *msg, size_t size, const struct dns_rr *rr, struct text *t)
{
    const uint8_t *d = msg + rr->rdata_at;
    size_t end = rr->rdata_at + rr->rdata_size;
    size_t at = rr->rdata_at;
    if (rr->type == DNS_TYPE_A && rr->rdata_size == 4) {
        for (int i = 0; i < 4; i++) {
            put(t, i == 0 ? " " : ".");
            put_u(t, d[i]);
        }
        return 0;
    }
    if (rr->type == DNS_TYPE_SRV && rr->rdata_size > 6) {
        for (int i = 0; i < 3; i++) {
            put(t, " ");
            put_u(t, dns_get_u16(d + 2 * i));
        }
        at += 6;
        return rdata_name(msg, size, &at, t) == 0 && at == end ? 0 : SYN_EBADMSG;
    }
    if (rr->type == DNS_TYPE_SOA) {
        if (rdata_name(msg, size, &at, t) != 0 || rdata_name(msg, size, &at, t) != 0 || end < at ||
            end - at != 20u) {
            return SYN_EBADMSG;
        }
        for (int i = 0; i < 5; i++) {
            put(t, " ");
            put_u(t, dns_get_u32(msg + at + 4u * (size_t)i));
        }
        return 0;
    }
    if (rr->type == DNS_TYPE_OPT) {
        put(t, " ");
        put_u(t, rr->klass);
        put(t, " ");
        put_u(t, rr->ttl >> 24);
        put(t, " ");
        put_u(t, rr->ttl >> 16 & 0xFFu);
        return 0;
    }
    if (rr->type == DNS_TYPE_A || rr->type == DNS_TYPE_SRV) {
        return SYN_EBADMSG; /* the wrong size for its type */
    }
    put(t, " [");
    put_u(t, rr->rdata_size);
    put(t, " bytes]");
    return 0;
}

static int put_record(const uint8_t *msg, size_t size, size_t *at, const char *section,
                      struct text *t)
{
    struct dns_rr rr;
    if (dns_rr_read(msg, size, at, &rr) != 0) {
        return SYN_EBADMSG;
    }
    put(t, section);
    put(t, " ");
    put_name(t, &rr.name);
    if (rr.type != DNS_TYPE_OPT) {
        put(t, " ");
        put_u(t, rr.ttl);
    }
    put(t, " ");
    put_type(t, rr.type);
    int rc = put_rdata(msg, size, &rr, t);
    put(t, "\n");
    return rc;
}

/* The RCODE with an OPT record's upper bits (RFC 6891 6.1.3), found by a first pass. */
static uint32_t full_rcode(const uint8_t *msg, size_t size, size_t at, const struct dns_header *h)
{
    uint32_t records = (uint32_t)h->ancount + h->nscount + h->arcount;
    for (uint32_t i = 0; i < records; i++) {
        struct dns_rr rr;
        if (dns_rr_read(msg, size, &at, &rr) != 0) {
            break;
        }
        if (rr.type == DNS_TYPE_OPT) {
            return (rr.ttl >> 24) << 4 | h->rcode;
        }
    }
    return h->rcode;
}

int dns_msg_text(const uint8_t *msg, size_t size, char *out, size_t out_size)
{
    struct text t = {.out = out, .size = out_size};
    out[0] = '\0';
    struct dns_header h;
    if (!dns_header_read(msg, size, &h)) {
        return SYN_EBADMSG;
    }
    size_t at = SYN_DNS_HEADER_SIZE;
    for (uint32_t i = 0; i < h.qdcount; i++) {
        struct dns_name name;
        uint16_t type = 0;
        uint16_t klass = 0;
        if (dns_question_read(msg, size, &at, &name, &type, &klass) != 0) {
            return SYN_EBADMSG;
        }
        if (i == 0) {
            put_header(&t, &h, full_rcode(msg, size, at, &h));
        }
        put(&t, "Q ");
        put_name(&t, &name);
        put(&t, klass == DNS_CLASS_IN ? " IN " : " CLASS? ");
        put_type(&t, type);
        put(&t, "\n");
    }
    if (h.qdcount == 0) {
        put_header(&t, &h, full_rcode(msg, size, at, &h));
    }
    const uint16_t counts[3] = {h.ancount, h.nscount, h.arcount};
    const char *const sections[3] = {"AN", "NS", "AR"};
    for (int s = 0; s < 3; s++) {
        for (uint32_t i = 0; i < counts[s]; i++) {
            if (put_record(msg, size, &at, sections[s], &t) != 0) {
                return SYN_EBADMSG;
            }
        }
    }
    if (at != size) {
        return SYN_EBADMSG;
    }
    return t.full ? SYN_ETOOBIG : 0;
}
