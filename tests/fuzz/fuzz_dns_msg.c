/* fuzz_dns_msg.c: libFuzzer target for the DNS codec and answers (src/dns, pure parts).
 *
 * The input is either a datagram as it arrives (first byte odd), or (even) a recipe: a
 * well-formed query built from a name template, a type, an EDNS0 size and a transport
 * taken from the input, then patched byte by byte with the rest, so that the fuzzer reaches
 * deep into the answers as well as the parser. Either way:
 *   - dns_query_parse() never crashes, and what it accepts re-encodes with the writer and
 *     parses back the same;
 *   - dns_answer() (over a fake source with a large service, tags, nodes and host names)
 *     answers or drops; every answer reads back whole (dns_msg_text), echoes the id, is a
 *     response, and stays within its transport's limit;
 *   - dns_msg_text() of the input itself never crashes.
 * `make fuzz` runs it. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/assert.h"
#include "base/err.h"
#include "dns/dns_answer.h"
#include "dns/dns_msg.h"
#include "dns/dns_text.h"
#include "fuzz/fuzz_input.h"
#include "unit/test_dns_fake.h"

#define BIG_COUNT 120u

static struct fake_row rows[4 + BIG_COUNT];
static char big_text[BIG_COUNT][2][32];
static const struct fake_node nodes[] = {{"n1", "10.0.0.1"}, {"named", "host.example"}};
static struct fake fake;
static const struct dns_source source = {&fake, fake_service, fake_node};
static struct dns_zone zones[2];
static uint8_t out[SYN_DNS_MESSAGE_SIZE_MAX];
static char text[1u << 20];

static const char *const templates[] = {
    "web.service.synod",      "v2.web.service.synod",  "_web._tcp.service.synod",
    "_web._v2.service.synod", "big.service.synod",     "n1.node.synod",
    "named.node.synod",       "0a000001.addr.synod",   "synod",
    "ext.service.synod",      "web.service.dc1.consul", "nope.service.synod",
    "example.com",            "",
};

static void setup(void)
{
    static const struct fake_row fixed[] = {
        {"web", ",v1,", "n1", "10.0.0.1", "10.0.0.1", 80},
        {"web", ",v2,", "n2", "10.0.0.2", "10.0.0.9", 81},
        {"ext", "", "n1", "db.example.org", "10.0.0.1", 443},
        {"ext", "", "n1", "not a name", "10.0.0.1", 443},
    };
    memcpy(rows, fixed, sizeof(fixed));
    for (uint32_t i = 0; i < BIG_COUNT; i++) {
        snprintf(big_text[i][0], sizeof(big_text[i][0]), "node-%03u", i);
        snprintf(big_text[i][1], sizeof(big_text[i][1]), "10.3.%u.%u", i / 100, i % 100);
        rows[4 + i] = (struct fake_row){"big", ",v2,", big_text[i][0], big_text[i][1],
                                        i % 3 == 0 ? "10.9.9.9" : big_text[i][1],
                                        (uint16_t)i};
    }
    fake = (struct fake){rows, 4 + BIG_COUNT, nodes, 2, 0, "", ""};
    ASSERT(dns_zone_init(&zones[0], NULL, NULL, 0) == 0);
    ASSERT(dns_zone_init(&zones[1], "consul", "dc1", 60) == 0);
}

/* A query from the recipe in rd; returns its size in buf. */
static size_t recipe(struct fuzz_reader *rd, uint8_t *buf, size_t cap)
{
    struct dns_name name;
    const char *t = templates[fuzz_take(rd, 1) % (sizeof(templates) / sizeof(templates[0]))];
    ASSERT(dns_name_from_text(t, &name) == 0);
    static const uint16_t types[] = {DNS_TYPE_A,   DNS_TYPE_SRV, DNS_TYPE_ANY, DNS_TYPE_AAAA,
                                     DNS_TYPE_SOA, DNS_TYPE_TXT, DNS_TYPE_AXFR, 41};
    uint16_t type = types[fuzz_take(rd, 1) % 8];
    uint16_t edns = (uint16_t)fuzz_take(rd, 2);
    struct dns_writer w;
    dns_writer_init(&w, buf, cap, edns != 0);
    ASSERT(dns_writer_question(&w, &name, type, DNS_CLASS_IN) == 0);
    if (edns != 0) {
        dns_writer_opt(&w, edns, 0);
    }
    struct dns_header h = {.id = (uint16_t)fuzz_take(rd, 2), .rd = true};
    size_t size = dns_writer_finish(&w, &h);
    while (rd->at + 2 <= rd->size) { /* patches: (offset, value) */
        size_t at = (size_t)fuzz_take(rd, 1) % size;
        buf[at] = (uint8_t)fuzz_take(rd, 1);
    }
    return size;
}

/* What the parser accepts comes back the same through the writer. */
static void check_reencode(const struct dns_query *q)
{
    uint8_t buf[SYN_DNS_UDP_SIZE_MIN];
    struct dns_writer w;
    dns_writer_init(&w, buf, sizeof(buf), q->edns);
    ASSERT(dns_writer_question(&w, &q->qname, q->qtype, q->qclass) == 0);
    if (q->edns) {
        dns_writer_opt(&w, q->edns_udp_size, 0);
    }
    struct dns_header h = q->header;
    size_t size = dns_writer_finish(&w, &h);
    struct dns_query again;
    ASSERT(dns_query_parse(buf, size, &again) == 0);
    ASSERT(dns_name_equal(&again.qname, &q->qname));
    ASSERT(memcmp(again.qname.wire, q->qname.wire, q->qname.size) == 0); /* case kept */
    ASSERT(again.qtype == q->qtype);
    ASSERT(again.qclass == q->qclass);
    ASSERT(again.header.id == q->header.id);
    ASSERT(again.header.rd == q->header.rd);
    ASSERT(again.edns == q->edns);
    ASSERT(again.edns_udp_size == q->edns_udp_size);
}

static void check_answer(const uint8_t *msg, size_t size, uint32_t rotation, bool tcp,
                         const struct dns_zone *z)
{
    size_t out_size = 0;
    struct dns_answer_info info;
    int rc = dns_answer(z, &source, rotation, msg, size, tcp, out, &out_size, &info);
    if (rc != 0) {
        ASSERT(rc == SYN_EBADMSG);
        return;
    }
    ASSERT(out_size >= SYN_DNS_HEADER_SIZE);
    ASSERT(out_size <= (tcp ? SYN_DNS_MESSAGE_SIZE_MAX : SYN_DNS_UDP_SIZE_MAX));
    struct dns_query q;
    if (dns_query_parse(msg, size, &q) == 0 && !tcp) {
        ASSERT(out_size <= dns_query_udp_size(&q));
    }
    ASSERT(dns_msg_text(out, out_size, text, sizeof(text)) == 0);
    ASSERT(out[0] == msg[0] && out[1] == msg[1]);
    ASSERT((out[2] & 0x80) != 0);
    if (info.truncated) {
        ASSERT(!tcp || out_size > SYN_DNS_MESSAGE_SIZE_MAX - 300);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fake.rows == NULL) {
        setup();
    }
    if (size == 0) {
        return 0;
    }
    static uint8_t msg[SYN_DNS_MESSAGE_SIZE_MAX];
    size_t msg_size = 0;
    bool tcp = (data[0] & 2) != 0;
    const struct dns_zone *z = &zones[(data[0] >> 2) & 1];
    uint32_t rotation = data[0] >> 3;
    if ((data[0] & 1) != 0) {
        msg_size = size - 1 < sizeof(msg) ? size - 1 : sizeof(msg);
        memcpy(msg, data + 1, msg_size);
    } else {
        struct fuzz_reader rd = {data + 1, size - 1, 0};
        msg_size = recipe(&rd, msg, sizeof(msg));
    }
    struct dns_query q;
    if (dns_query_parse(msg, msg_size, &q) == 0) {
        check_reencode(&q);
    }
    check_answer(msg, msg_size, rotation, tcp, z);
    dns_msg_text(msg, msg_size, text, sizeof(text));
    return 0;
}
