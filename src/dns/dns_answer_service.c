/* dns_answer_service.c: a service's records (dns_answer_internal.h): the source's healthy
 * instances in an order rotated per query (round-robin DNS), as A records (one per distinct
 * IPv4 address, RFC 2181 5: no duplicates in an RRset) and SRV records (RFC 2782) whose
 * targets' addresses follow as additional A records. */
#include <string.h>
#include <strings.h>

#include "base/assert.h"
#include "base/err.h"
#include "dns/dns_answer_internal.h"

#define SRV_PRIORITY 1u /* every instance is as good as any other, as in Consul */

/* Where an SRV record points (docs/dns.md "SRV targets"). */
enum target_kind {
    TARGET_NONE, /* an address that is neither a dotted quad nor a host name: skipped */
    TARGET_NODE, /* NODE.node.D: the instance answers on its node's address */
    TARGET_ADDR, /* HEX.addr.D: an IPv4 address of its own */
    TARGET_HOST, /* the host name given as its address, resolved elsewhere */
};

struct target {
    enum target_kind kind;
    uint8_t ipv4[4];
    struct dns_name name;
};

static uint32_t ipv4_key(const uint8_t ipv4[4])
{
    return (uint32_t)ipv4[0] << 24 | (uint32_t)ipv4[1] << 16 | (uint32_t)ipv4[2] << 8 | ipv4[3];
}

static void target_of(const struct dns_reply *r, const struct dns_instance *in, struct target *t)
{
    t->kind = TARGET_NONE;
    if (in->address == NULL) {
        return;
    }
    if (dns_ipv4_parse(in->address, t->ipv4)) {
        bool on_node = in->node != NULL && in->node_address != NULL &&
                       strcmp(in->address, in->node_address) == 0;
        if (on_node && dns_node_name(r->zone, in->node, &t->name)) {
            t->kind = TARGET_NODE;
        } else {
            t->kind = TARGET_ADDR;
            dns_addr_name(r->zone, t->ipv4, &t->name);
        }
    } else if (dns_name_from_text(in->address, &t->name) == 0 && dns_name_is_plain(&t->name)) {
        t->kind = TARGET_HOST;
    }
}

/* The i-th instance in this query's order. */
static uint32_t rotated(const struct dns_reply *r, uint32_t i, uint32_t count)
{
    return (uint32_t)(((uint64_t)r->rotation + i) % count);
}

static bool seen(const uint32_t *keys, uint32_t count, uint32_t key)
{
    for (uint32_t i = 0; i < count; i++) {
        if (keys[i] == key) {
            return true;
        }
    }
    return false;
}

static void answer_a(struct dns_reply *r, const struct dns_instance *in, uint32_t count)
{
    uint32_t keys[SYN_DNS_INSTANCES_MAX];
    uint32_t written = 0;
    for (uint32_t i = 0; i < count; i++) {
        uint8_t ipv4[4];
        if (!dns_ipv4_parse(in[rotated(r, i, count)].address, ipv4) ||
            seen(keys, written, ipv4_key(ipv4))) {
            continue;
        }
        if (dns_writer_a(&r->w, DNS_SECTION_ANSWER, &r->q->qname, r->zone->ttl_s, ipv4) != 0) {
            return; /* full: the writer noted it, the response says TC */
        }
        keys[written++] = ipv4_key(ipv4);
    }
}

/* An SRV record written: which instance, and what its target's A record would be. */
struct written_srv {
    uint16_t index;
    uint8_t kind; /* enum target_kind */
    uint32_t ipv4;
};

/* Writes the SRV records; srv[] gets those written, in order. */
static uint32_t answer_srv(struct dns_reply *r, const struct dns_instance *in, uint32_t count,
                           struct written_srv *srv)
{
    uint32_t written = 0;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t k = rotated(r, i, count);
        struct target t;
        target_of(r, &in[k], &t);
        if (t.kind == TARGET_NONE) {
            continue;
        }
        uint16_t weight = in[k].weight == 0 ? 1u : in[k].weight;
        if (dns_writer_srv(&r->w, DNS_SECTION_ANSWER, &r->q->qname, r->zone->ttl_s, SRV_PRIORITY,
                           weight, in[k].port, &t.name) != 0) {
            break;
        }
        srv[written++] = (struct written_srv){(uint16_t)k, (uint8_t)t.kind, ipv4_key(t.ipv4)};
    }
    return written;
}

/* Whether an SRV record before srv[i] has the same target: the same kind and address, and
 * for node targets the same node. */
static bool target_seen(const struct dns_instance *in, const struct written_srv *srv, uint32_t i)
{
    for (uint32_t j = 0; j < i; j++) {
        if (srv[j].kind == srv[i].kind && srv[j].ipv4 == srv[i].ipv4 &&
            (srv[i].kind != TARGET_NODE ||
             strcasecmp(in[srv[j].index].node, in[srv[i].index].node) == 0)) {
            return true;
        }
    }
    return false;
}

/* The A records of the SRV targets synod names, once each; what does not fit is left out
 * without TC (RFC 2181 9: additional data is optional). */
static void additional_a(struct dns_reply *r, const struct dns_instance *in,
                         const struct written_srv *srv, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        if (srv[i].kind == TARGET_HOST || target_seen(in, srv, i)) {
            continue;
        }
        struct target t;
        target_of(r, &in[srv[i].index], &t);
        ASSERT(t.kind == TARGET_NODE || t.kind == TARGET_ADDR);
        if (dns_writer_a(&r->w, DNS_SECTION_ADDITIONAL, &t.name, r->zone->ttl_s, t.ipv4) != 0) {
            return;
        }
    }
}

void dns_reply_service(struct dns_reply *r, const char *name, const char *tag)
{
    struct dns_instance in[SYN_DNS_INSTANCES_MAX];
    uint32_t count = 0;
    int rc = r->src->service(r->src->ctx, name, tag, in, SYN_DNS_INSTANCES_MAX, &count);
    if (rc == SYN_ENOENT || (rc == 0 && count == 0)) {
        r->rcode = DNS_RCODE_NXDOMAIN; /* as Consul: no healthy instance, no name */
        return;
    }
    if (rc != 0) {
        r->rcode = DNS_RCODE_SERVFAIL;
        return;
    }
    ASSERT(count <= SYN_DNS_INSTANCES_MAX); /* the source's contract */
    uint16_t qtype = r->q->qtype;
    if (qtype == DNS_TYPE_A || qtype == DNS_TYPE_ANY) {
        answer_a(r, in, count);
    }
    if (qtype == DNS_TYPE_SRV || qtype == DNS_TYPE_ANY) {
        struct written_srv srv[SYN_DNS_INSTANCES_MAX];
        uint32_t written = answer_srv(r, in, count, srv);
        additional_a(r, in, srv, written);
    }
}
