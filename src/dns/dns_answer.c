/* dns_answer.c: from a query to a response (dns_answer.h): the zone, which names mean what,
 * nodes, addresses and the apex, and the frame every response shares (question, SOA on
 * negative answers, OPT, header flags). A service's records are in dns_answer_service.c. */
#include <string.h>

#include "base/assert.h"
#include "base/err.h"
#include "dns/dns_answer_internal.h"

/* SOA timers (RFC 1035 3.3.13): no secondary ever transfers this zone, so they only need to
 * be plausible; the serial never changes for the same reason. */
#define SOA_SERIAL 1u
#define SOA_REFRESH_S 3600u
#define SOA_RETRY_S 600u
#define SOA_EXPIRE_S 86400u

#define ADDR_HEX_SIZE 8u /* "0a000007" */

enum lookup_kind { LOOKUP_NXDOMAIN, LOOKUP_APEX, LOOKUP_SERVICE, LOOKUP_NODE, LOOKUP_ADDR };

struct lookup {
    enum lookup_kind kind;
    char name[DNS_TEXT_SIZE_MAX]; /* service or node, lower case */
    char tag[DNS_TEXT_SIZE_MAX];  /* "" for none */
    uint8_t ipv4[4];
};

/* ---- The zone ------------------------------------------------------------------------ */

static int zone_name(const struct dns_name *domain, const char *first, struct dns_name *out)
{
    dns_name_root(out);
    int rc = dns_name_push(out, first, strlen(first));
    return rc == 0 ? dns_name_append(out, domain) : rc;
}

int dns_zone_init(struct dns_zone *z, const char *domain, const char *datacenter, uint32_t ttl_s)
{
    memset(z, 0, sizeof(*z));
    z->ttl_s = ttl_s;
    dns_name_root(&z->datacenter);
    if (dns_name_from_text(domain == NULL ? DNS_DOMAIN_DEFAULT : domain, &z->domain) != 0 ||
        !dns_name_is_plain(&z->domain)) {
        return SYN_EINVAL;
    }
    if (datacenter != NULL &&
        (dns_name_from_text(datacenter, &z->datacenter) != 0 ||
         !dns_name_is_plain(&z->datacenter) || z->datacenter.label_count != 1)) {
        return SYN_EINVAL;
    }
    if (zone_name(&z->domain, "ns", &z->soa_mname) != 0 ||
        zone_name(&z->domain, "hostmaster", &z->soa_rname) != 0) {
        return SYN_EINVAL; /* a domain too long to name its SOA's servers */
    }
    return 0;
}

/* ---- Names --------------------------------------------------------------------------- */

bool dns_ipv4_parse(const char *text, uint8_t out[4])
{
    const char *p = text;
    if (p == NULL) {
        return false;
    }
    for (int part = 0; part < 4; part++) {
        uint32_t v = 0;
        int digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 4) {
            v = v * 10u + (uint32_t)(*p++ - '0');
            digits++;
        }
        if (digits == 0 || digits > 3 || v > 255u || *p != (part == 3 ? '\0' : '.')) {
            return false;
        }
        out[part] = (uint8_t)v;
        p += part == 3 ? 0 : 1;
    }
    return true;
}

void dns_addr_name(const struct dns_zone *z, const uint8_t ipv4[4], struct dns_name *out)
{
    static const char hex[] = "0123456789abcdef";
    char text[ADDR_HEX_SIZE];
    for (int i = 0; i < 4; i++) {
        text[2 * i] = hex[ipv4[i] >> 4];
        text[2 * i + 1] = hex[ipv4[i] & 0xFu];
    }
    dns_name_root(out);
    ASSERT(dns_name_push(out, text, ADDR_HEX_SIZE) == 0);
    ASSERT(dns_name_push(out, "addr", 4) == 0);
    ASSERT(dns_name_append(out, &z->domain) == 0); /* a zone leaves room for its SOA names */
}

bool dns_node_name(const struct dns_zone *z, const char *node, struct dns_name *out)
{
    size_t size = strlen(node);
    dns_name_root(out);
    for (size_t i = 0; i < size; i++) {
        if (!dns_char_plain((uint8_t)node[i])) {
            return false;
        }
    }
    return dns_name_push(out, node, size) == 0 && dns_name_push(out, "node", 4) == 0 &&
           dns_name_append(out, &z->domain) == 0;
}

/* Label i of n, from byte skip on, lower-cased into out; false unless 1..63 plain bytes. */
static bool label_text(const struct dns_name *n, uint32_t i, size_t skip,
                       char out[DNS_TEXT_SIZE_MAX])
{
    size_t size = 0;
    const uint8_t *label = dns_name_label(n, i, &size);
    if (size <= skip) {
        return false;
    }
    for (size_t k = skip; k < size; k++) {
        if (!dns_char_plain(label[k])) {
            return false;
        }
        out[k - skip] = (char)dns_lower(label[k]);
    }
    out[size - skip] = '\0';
    return true;
}

static bool hex_ipv4(const struct dns_name *n, uint32_t i, uint8_t out[4])
{
    size_t size = 0;
    const uint8_t *label = dns_name_label(n, i, &size);
    if (size != ADDR_HEX_SIZE) {
        return false;
    }
    for (size_t k = 0; k < size; k++) {
        uint8_t c = dns_lower(label[k]);
        uint8_t v = c >= '0' && c <= '9'   ? (uint8_t)(c - '0')
                    : c >= 'a' && c <= 'f' ? (uint8_t)(c - 'a' + 10)
                                           : 0xFFu;
        if (v == 0xFFu) {
            return false;
        }
        out[k / 2] = (uint8_t)(k % 2 == 0 ? v << 4 : out[k / 2] | v);
    }
    return true;
}

/* [NAME] or [TAG, NAME] or RFC 2782's [_NAME, _PROTO] / [_NAME, _TAG] before "service". */
static enum lookup_kind service_lookup(const struct dns_name *n, uint32_t count, struct lookup *l)
{
    if (count == 1) {
        return label_text(n, 0, 0, l->name) ? LOOKUP_SERVICE : LOOKUP_NXDOMAIN;
    }
    if (count != 2) {
        return LOOKUP_NXDOMAIN;
    }
    size_t size0 = 0;
    size_t size1 = 0;
    bool rfc2782 = dns_name_label(n, 0, &size0)[0] == '_' && dns_name_label(n, 1, &size1)[0] == '_';
    if (!rfc2782) {
        return label_text(n, 0, 0, l->tag) && label_text(n, 1, 0, l->name) ? LOOKUP_SERVICE
                                                                           : LOOKUP_NXDOMAIN;
    }
    if (!label_text(n, 0, 1, l->name) || !label_text(n, 1, 1, l->tag)) {
        return LOOKUP_NXDOMAIN;
    }
    if (strcmp(l->tag, "tcp") == 0 || strcmp(l->tag, "udp") == 0) {
        l->tag[0] = '\0'; /* a protocol, not a tag */
    }
    return LOOKUP_SERVICE;
}

/* What the labels of n before the zone (and the datacenter) ask for. */
static void lookup_parse(const struct dns_zone *z, const struct dns_name *n, struct lookup *l)
{
    memset(l, 0, sizeof(*l));
    uint32_t count = n->label_count - z->domain.label_count; /* our labels, from the left */
    if (count > 0 && z->datacenter.label_count == 1) {
        size_t size = 0;
        const uint8_t *dc = dns_name_label(&z->datacenter, 0, &size);
        count -= dns_name_label_is(n, count - 1, (const char *)dc, size) ? 1u : 0u;
    }
    l->kind = LOOKUP_NXDOMAIN;
    if (count == 0) {
        l->kind = LOOKUP_APEX;
    } else if (dns_name_label_is(n, count - 1, "service", 7)) {
        l->kind = service_lookup(n, count - 1, l);
    } else if (count == 2 && dns_name_label_is(n, 1, "node", 4) && label_text(n, 0, 0, l->name)) {
        l->kind = LOOKUP_NODE;
    } else if (count == 2 && dns_name_label_is(n, 1, "addr", 4) && hex_ipv4(n, 0, l->ipv4)) {
        l->kind = LOOKUP_ADDR;
    }
}

/* ---- Answers ------------------------------------------------------------------------- */

static bool type_is(const struct dns_reply *r, uint16_t type)
{
    return r->q->qtype == type || r->q->qtype == DNS_TYPE_ANY;
}

static void reply_node(struct dns_reply *r, const char *node)
{
    char addr[SYN_DNS_ADDRESS_SIZE_MAX];
    addr[0] = '\0';
    int rc = r->src->node(r->src->ctx, node, addr, sizeof(addr));
    if (rc != 0) {
        r->rcode = rc == SYN_ENOENT ? DNS_RCODE_NXDOMAIN : DNS_RCODE_SERVFAIL;
        return;
    }
    uint8_t ipv4[4];
    addr[sizeof(addr) - 1] = '\0';
    if (type_is(r, DNS_TYPE_A) && dns_ipv4_parse(addr, ipv4)) {
        dns_writer_a(&r->w, DNS_SECTION_ANSWER, &r->q->qname, r->zone->ttl_s, ipv4);
    }
}

static void reply_soa(struct dns_reply *r, enum dns_section s)
{
    const struct dns_zone *z = r->zone;
    struct dns_soa soa = {
        .mname = &z->soa_mname,
        .rname = &z->soa_rname,
        .serial = SOA_SERIAL,
        .refresh = SOA_REFRESH_S,
        .retry = SOA_RETRY_S,
        .expire = SOA_EXPIRE_S,
        .minimum = z->ttl_s, /* RFC 2308 4: the TTL of negative answers */
    };
    dns_writer_soa(&r->w, s, &z->domain, z->ttl_s, &soa);
}

static bool qtype_served(uint16_t qtype)
{
    /* zone transfers (AXFR, IXFR), MAILB, MAILA, and OPT, which is no query type */
    return qtype != DNS_TYPE_OPT && (qtype < 251 || qtype > 254);
}

static void reply_resolve(struct dns_reply *r)
{
    const struct dns_query *q = r->q;
    if ((q->qclass != DNS_CLASS_IN && q->qclass != DNS_CLASS_ANY) ||
        !dns_name_ends_with(&q->qname, &r->zone->domain)) {
        r->rcode = DNS_RCODE_REFUSED;
        return;
    }
    r->aa = true;
    if (!qtype_served(q->qtype)) {
        r->rcode = DNS_RCODE_NOTIMP;
        return;
    }
    struct lookup l;
    lookup_parse(r->zone, &q->qname, &l);
    switch (l.kind) {
    case LOOKUP_NXDOMAIN:
        r->rcode = DNS_RCODE_NXDOMAIN;
        break;
    case LOOKUP_APEX:
        if (type_is(r, DNS_TYPE_SOA)) {
            reply_soa(r, DNS_SECTION_ANSWER);
        }
        break;
    case LOOKUP_SERVICE:
        dns_reply_service(r, l.name, l.tag[0] == '\0' ? NULL : l.tag);
        break;
    case LOOKUP_NODE:
        reply_node(r, l.name);
        break;
    case LOOKUP_ADDR:
        if (type_is(r, DNS_TYPE_A)) {
            dns_writer_a(&r->w, DNS_SECTION_ANSWER, &q->qname, r->zone->ttl_s, l.ipv4);
        }
        break;
    }
}

int dns_answer(const struct dns_zone *z, const struct dns_source *src, uint32_t rotation,
               const uint8_t *msg, size_t size, bool tcp, uint8_t *out, size_t *out_size,
               struct dns_answer_info *info)
{
    memset(info, 0, sizeof(*info));
    struct dns_query q;
    if (dns_query_parse(msg, size, &q) != 0) {
        if (!q.reply) {
            return SYN_EBADMSG;
        }
        info->rcode = q.rcode;
        *out_size = dns_response_error(&q, q.rcode, out);
        return 0;
    }
    struct dns_reply r = {.zone = z, .src = src, .q = &q, .rotation = rotation};
    dns_writer_init(&r.w, out, tcp ? SYN_DNS_MESSAGE_SIZE_MAX : dns_query_udp_size(&q), q.edns);
    ASSERT(dns_writer_question(&r.w, &q.qname, q.qtype, q.qclass) == 0); /* limits.h */
    reply_resolve(&r);
    bool truncated = r.w.left_out[DNS_SECTION_ANSWER];
    bool negative = r.rcode == DNS_RCODE_NXDOMAIN ||
                    (r.rcode == DNS_RCODE_NOERROR && r.w.count[DNS_SECTION_ANSWER] == 0);
    if (negative && r.aa && !truncated) {
        reply_soa(&r, DNS_SECTION_AUTHORITY); /* RFC 2308 3: lets resolvers cache the miss */
    }
    if (q.edns) {
        dns_writer_opt(&r.w, SYN_DNS_UDP_SIZE_MAX, 0);
    }
    struct dns_header h = {
        .id = q.header.id,
        .qr = true,
        .opcode = q.header.opcode,
        .aa = r.aa && r.rcode != DNS_RCODE_SERVFAIL && r.rcode != DNS_RCODE_NOTIMP,
        .tc = truncated,
        .rd = q.header.rd,
        .rcode = r.rcode,
    };
    info->rcode = r.rcode;
    info->truncated = truncated;
    info->answers = r.w.count[DNS_SECTION_ANSWER];
    *out_size = dns_writer_finish(&r.w, &h);
    return 0;
}
