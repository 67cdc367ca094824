/* test_dns.c: the DNS codec and answers, pure: names (building, escapes, compression
 * pointers read safely), queries (round trips, EDNS0, every malformed class we know of,
 * every prefix of a good query, random bytes), the writer (compression, records whole or
 * not at all), and the discovery names over a fake source: services, tags, RFC 2782 forms,
 * nodes, addresses, the apex, NXDOMAIN, REFUSED, rotation, truncation at 512 and at EDNS0
 * sizes, and a full answer over TCP. Responses are compared as text (dns_text.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"
#include "base/prng.h"
#include "dns/dns_answer.h"
#include "dns/dns_msg.h"
#include "dns/dns_text.h"
#include "test_dns_fake.h"

#define TEXT_SIZE (256u << 10)

static const struct fake_row rows[] = {
    {"web", ",v1,primary,", "n1", "10.0.0.1", "10.0.0.1", 8080},
    {"web", ",v2,", "n2", "10.0.0.2", "10.0.0.2", 8080},
    {"web", ",v2,", "n3", "10.0.1.3", "10.0.0.3", 9090}, /* its own address */
    {"db", "", "n1", "10.0.0.1", "10.0.0.1", 5432},
    {"db", "", "n1", "10.0.0.1", "10.0.0.1", 5433}, /* the same address twice */
    {"ext", "", "n2", "db.example.org", "10.0.0.2", 443},
    {"ext", "", "n2", "not a name!", "10.0.0.2", 443},
    {"idle", ",v9,", "n1", "10.0.0.1", "10.0.0.1", 1}, /* only under tag v9 */
};

static const struct fake_node nodes[] = {
    {"n1", "10.0.0.1"}, {"n2", "10.0.0.2"}, {"n3", "10.0.0.3"}, {"named", "host.example"}};

static struct fake fake = {
    rows, sizeof(rows) / sizeof(rows[0]), nodes, sizeof(nodes) / sizeof(nodes[0]), 0, "", ""};
static const struct dns_source source = {&fake, fake_service, fake_node};

/* ---- Queries and answers as text ------------------------------------------------------ */

static uint8_t out_buf[SYN_DNS_MESSAGE_SIZE_MAX];
static char text[TEXT_SIZE];

/* A query for name/type with id 0x1234 and RD; edns_size 0: no OPT record. */
static size_t query(uint8_t *buf, const char *name, uint16_t type, uint16_t edns_size)
{
    struct dns_name n;
    assert_int_equal(dns_name_from_text(name, &n), 0);
    struct dns_writer w;
    dns_writer_init(&w, buf, SYN_DNS_MESSAGE_SIZE_MAX, edns_size != 0);
    assert_int_equal(dns_writer_question(&w, &n, type, DNS_CLASS_IN), 0);
    if (edns_size != 0) {
        dns_writer_opt(&w, edns_size, 0);
    }
    struct dns_header h = {.id = 0x1234, .rd = true};
    return dns_writer_finish(&w, &h);
}

struct ask {
    struct dns_answer_info info;
    size_t size;
};

static const char *ask_full(const struct dns_zone *z, const char *name, uint16_t type,
                            uint16_t edns, bool tcp, uint32_t rotation, struct ask *a)
{
    uint8_t q[SYN_DNS_UDP_SIZE_MIN];
    size_t q_size = query(q, name, type, edns);
    assert_int_equal(dns_answer(z, &source, rotation, q, q_size, tcp, out_buf, &a->size, &a->info),
                     0);
    assert_int_equal(dns_msg_text(out_buf, a->size, text, sizeof(text)), 0);
    return text;
}

static struct dns_zone zone;

static const char *ask(const char *name, uint16_t type)
{
    struct ask a;
    return ask_full(&zone, name, type, 0, false, 0, &a);
}

static int setup_zone(void **state)
{
    (void)state;
    fake.fail = 0;
    return dns_zone_init(&zone, NULL, NULL, 0);
}

/* ---- Names --------------------------------------------------------------------------- */

static void test_names(void **state)
{
    (void)state;
    struct dns_name n, m;
    char t[1100];
    assert_int_equal(dns_name_from_text("Web.Service.synod.", &n), 0);
    assert_int_equal(n.label_count, 3);
    assert_int_equal(n.size, 19);
    assert_int_equal(dns_name_from_text("web.service.SYNOD", &m), 0);
    assert_true(dns_name_equal(&n, &m));
    assert_int_equal(dns_name_from_text("synod", &m), 0);
    assert_true(dns_name_ends_with(&n, &m));
    assert_int_equal(dns_name_from_text("xsynod", &m), 0);
    assert_false(dns_name_ends_with(&n, &m));
    dns_name_root(&m);
    assert_true(dns_name_ends_with(&n, &m));
    assert_int_equal(dns_name_from_text(".", &m), 0);
    assert_int_equal(m.size, 1);
    assert_int_equal(dns_name_from_text("a..b", &m), SYN_EINVAL);
    /* 63 bytes is the longest label, 255 the longest name */
    char label[70];
    memset(label, 'x', sizeof(label));
    dns_name_root(&m);
    assert_int_equal(dns_name_push(&m, label, 63), 0);
    assert_int_equal(dns_name_push(&m, label, 64), SYN_EINVAL);
    assert_int_equal(dns_name_push(&m, label, 0), SYN_EINVAL);
    assert_int_equal(dns_name_push(&m, label, 63), 0);
    assert_int_equal(dns_name_push(&m, label, 63), 0);
    assert_int_equal(dns_name_push(&m, label, 61), 0); /* 3 * 64 + 62 + the final 0 */
    assert_int_equal(m.size, 255);
    assert_int_equal(dns_name_push(&m, label, 1), SYN_ETOOBIG);
    assert_int_equal(m.size, 255);
    /* text escapes what is not plain */
    dns_name_root(&m);
    assert_int_equal(dns_name_push(&m, "a.b", 3), 0);
    assert_int_equal(dns_name_push(&m, "\x00\xff ", 3), 0);
    assert_int_equal(dns_name_to_text(&m, t, sizeof(t)), 0);
    assert_string_equal(t, "a\\.b.\\000\\255\\032");
    assert_int_equal(dns_name_to_text(&m, t, 5), SYN_ETOOBIG);
    assert_string_equal(t, "");
}

/* A message: a header, then the bytes given (names placed by hand). */
static size_t msg_with(uint8_t *buf, const void *body, size_t size)
{
    memset(buf, 0, SYN_DNS_HEADER_SIZE);
    memcpy(buf + SYN_DNS_HEADER_SIZE, body, size);
    return SYN_DNS_HEADER_SIZE + size;
}

static void test_name_pointers(void **state)
{
    (void)state;
    uint8_t m[600];
    struct dns_name n;
    size_t end = 0;
    /* "a.b" at 12, then "c" + pointer to 12 at 17 */
    size_t size = msg_with(m,
                           "\x01"
                           "a\x01"
                           "b\x00\x01"
                           "c\xc0\x0c",
                           9);
    assert_int_equal(dns_name_read(m, size, 17, &n, &end), 0);
    assert_int_equal(end, 21);
    assert_int_equal(n.label_count, 3);
    char t[64];
    dns_name_to_text(&n, t, sizeof(t));
    assert_string_equal(t, "c.a.b");
    /* Malformed names after the header, read at body offset `at`: a pointer to itself,
     * forward, into the header, cut short; two names pointing at each other (each pointer
     * must go back, so one is refused); label types 01 and 10; a label past the end; no
     * final zero. */
    static const struct {
        uint8_t body[8];
        size_t size;
        size_t at;
    } bad[] = {
        {{0xc0, 0x0c}, 2, 0},
        {{0xc0, 0x0e, 0x00}, 3, 0},
        {{0x01, 'a', 0xc0, 0x02}, 4, 0},
        {{0x01, 'a', 0xc0}, 3, 0},
        {{0x01, 'a', 0xc0, 0x10, 0x01, 'b', 0xc0, 0x0c}, 8, 4},
        {{0x41, 'a', 0x00}, 3, 0},
        {{0x81, 'a', 0x00}, 3, 0},
        {{0x05, 'a', 'b'}, 3, 0},
        {{0x01, 'a'}, 2, 0},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size = msg_with(m, bad[i].body, bad[i].size);
        if (dns_name_read(m, size, 12 + bad[i].at, &n, &end) != SYN_EBADMSG) {
            fail_msg("bad name %zu was read", i);
        }
    }
    /* a chain of pointers, each going back: more than SYN_DNS_POINTERS_MAX is refused, and
     * names over 255 bytes through pointers too */
    uint8_t body[500];
    size_t at = 0;
    body[at++] = 1;
    body[at++] = 'x';
    body[at++] = 0;
    for (int i = 0; i < 100; i++) {
        body[at] = 1;
        body[at + 1] = 'y';
        size_t previous = i == 0 ? 12 : 12 + at - 4; /* the entry before, or "x" */
        body[at + 2] = (uint8_t)(0xC0 | previous >> 8);
        body[at + 3] = (uint8_t)previous;
        at += 4;
    }
    size = msg_with(m, body, at);
    assert_int_equal(dns_name_read(m, size, 12 + 3, &n, &end), 0); /* y.x */
    assert_int_equal(n.label_count, 2);
    assert_int_equal(dns_name_read(m, size, 12 + 3 + 4 * 63, &n, &end), 0); /* 64 pointers */
    assert_int_equal(n.label_count, 65);
    assert_int_equal(dns_name_read(m, size, 12 + 3 + 4 * 64, &n, &end), SYN_EBADMSG);
    /* 5 labels of 60 bytes, each pointing to the one before: 305 bytes, too long */
    at = 0;
    for (int i = 0; i < 5; i++) {
        body[at] = 60;
        memset(body + at + 1, 'z', 60);
        if (i == 0) {
            body[at + 61] = 0;
            at += 62;
            continue;
        }
        body[at + 61] = 0xC0;
        body[at + 62] = (uint8_t)(12 + (i == 1 ? 0 : at - 63));
        at += 63;
    }
    size = msg_with(m, body, at);
    assert_int_equal(dns_name_read(m, size, 12 + 62 + 63 * 2, &n, &end), 0); /* 4 labels */
    assert_int_equal(n.size, 245);
    assert_int_equal(dns_name_read(m, size, 12 + 62 + 63 * 3, &n, &end), SYN_EBADMSG);
}

/* ---- Queries ------------------------------------------------------------------------- */

static void test_query_round_trip(void **state)
{
    (void)state;
    uint8_t buf[600];
    struct dns_query q;
    size_t size = query(buf, "Web.service.synod", DNS_TYPE_SRV, 0);
    assert_int_equal(size, 12 + 19 + 4);
    assert_int_equal(dns_query_parse(buf, size, &q), 0);
    assert_int_equal(q.header.id, 0x1234);
    assert_true(q.header.rd);
    assert_false(q.header.qr);
    assert_int_equal(q.qtype, DNS_TYPE_SRV);
    assert_int_equal(q.qclass, DNS_CLASS_IN);
    assert_false(q.edns);
    assert_int_equal(dns_query_udp_size(&q), 512);
    struct dns_name want;
    dns_name_from_text("web.service.synod", &want);
    assert_true(dns_name_equal(&q.qname, &want));
    assert_true(dns_name_label_is(&q.qname, 0, "Web", 3)); /* case kept */
    /* EDNS0: the size offered, clamped to [512, SYN_DNS_UDP_SIZE_MAX] */
    const uint16_t offered[] = {1, 512, 1000, 1232, 4096, 65535};
    const size_t used[] = {512, 512, 1000, 1232, 1232, 1232};
    for (int i = 0; i < 6; i++) {
        size = query(buf, "a.synod", DNS_TYPE_A, offered[i]);
        assert_int_equal(dns_query_parse(buf, size, &q), 0);
        assert_true(q.edns);
        assert_int_equal(q.edns_udp_size, offered[i]);
        assert_int_equal(dns_query_udp_size(&q), used[i]);
    }
    /* an OPT record with options (a cookie, as dig sends) */
    size = query(buf, "a.synod", DNS_TYPE_A, 0);
    static const uint8_t opt[] = {0,  0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 12, 0,
                                  10, 0, 8,  1, 2,    3, 4, 5, 6, 7, 8};
    memcpy(buf + size, opt, sizeof(opt));
    buf[11] = 1;
    assert_int_equal(dns_query_parse(buf, size + sizeof(opt), &q), 0);
    assert_int_equal(q.edns_udp_size, 1232);
}

struct bad_case {
    const char *what;
    int rc;
    bool reply;
    uint8_t rcode;
};

static void expect_parse(const uint8_t *buf, size_t size, const struct bad_case *c)
{
    struct dns_query q;
    int rc = dns_query_parse(buf, size, &q);
    if (rc != c->rc || q.reply != c->reply || (c->reply && q.rcode != c->rcode)) {
        fail_msg("%s: rc %d reply %d rcode %u", c->what, rc, q.reply, q.rcode);
    }
}

static void test_query_malformed(void **state)
{
    (void)state;
    uint8_t good[600];
    uint8_t buf[600];
    size_t size = query(good, "web.service.synod", DNS_TYPE_A, 1232);
    struct bad_case c;
#define CASE(what_, rc_, reply_, rcode_)                                                           \
    c = (struct bad_case)                                                                          \
    {                                                                                              \
        what_, rc_, reply_, rcode_                                                                 \
    }
    /* every prefix of a good query is malformed, and only the header-less ones are dropped */
    for (size_t n = 0; n < size; n++) {
        CASE("prefix", SYN_EBADMSG, n >= 12, DNS_RCODE_FORMERR);
        expect_parse(good, n, &c);
    }
    memcpy(buf, good, size);
    buf[2] |= 0x80; /* QR: a response */
    CASE("response", SYN_EBADMSG, false, 0);
    expect_parse(buf, size, &c);
    memcpy(buf, good, size);
    buf[2] |= 2u << 3; /* opcode STATUS */
    CASE("opcode", SYN_EPROTO, true, DNS_RCODE_NOTIMP);
    expect_parse(buf, size, &c);
    const uint8_t counts[][4] = {{0, 0, 0, 1}, {2, 0, 0, 1}, {1, 1, 0, 1}, {1, 0, 1, 1},
                                 {1, 0, 0, 9}, {1, 0, 0, 2}, {1, 0, 0, 0}};
    for (int i = 0; i < 7; i++) {
        memcpy(buf, good, size);
        for (int k = 0; k < 4; k++) {
            buf[4 + 2 * k] = 0;
            buf[5 + 2 * k] = counts[i][k];
        }
        CASE("counts", SYN_EBADMSG, true, DNS_RCODE_FORMERR); /* {1,0,0,0}: trailing OPT */
        expect_parse(buf, size, &c);
    }
    memcpy(buf, good, size);
    buf[size] = 0;
    CASE("trailing byte", SYN_EBADMSG, true, DNS_RCODE_FORMERR);
    expect_parse(buf, size + 1, &c);
    /* two OPT records */
    memcpy(buf, good, size);
    memcpy(buf + size, good + size - 11, 11);
    buf[11] = 2;
    CASE("two OPT", SYN_EBADMSG, true, DNS_RCODE_FORMERR);
    expect_parse(buf, size + 11, &c);
    /* an OPT record with a name, an option running past its RDATA, RDATA past the end */
    size_t base = query(buf, "web.service.synod", DNS_TYPE_A, 0);
    buf[11] = 1;
    static const uint8_t named_opt[] = {1, 'x', 0, 0, 41, 2, 0, 0, 0, 0, 0, 0, 0};
    memcpy(buf + base, named_opt, sizeof(named_opt));
    CASE("named OPT", SYN_EBADMSG, true, DNS_RCODE_FORMERR);
    expect_parse(buf, base + sizeof(named_opt), &c);
    static const uint8_t long_option[] = {0, 0, 41, 2, 0, 0, 0, 0, 0, 0, 5, 0, 10, 0, 9, 1};
    memcpy(buf + base, long_option, sizeof(long_option));
    CASE("option overrun", SYN_EBADMSG, true, DNS_RCODE_FORMERR);
    expect_parse(buf, base + sizeof(long_option), &c);
    static const uint8_t half_option[] = {0, 0, 41, 2, 0, 0, 0, 0, 0, 0, 3, 0, 10, 0};
    memcpy(buf + base, half_option, sizeof(half_option));
    CASE("half option", SYN_EBADMSG, true, DNS_RCODE_FORMERR);
    expect_parse(buf, base + sizeof(half_option), &c);
    static const uint8_t long_rdata[] = {0, 0, 41, 2, 0, 0, 0, 0, 0, 0, 40, 0, 0};
    memcpy(buf + base, long_rdata, sizeof(long_rdata));
    CASE("rdata overrun", SYN_EBADMSG, true, DNS_RCODE_FORMERR);
    expect_parse(buf, base + sizeof(long_rdata), &c);
    /* EDNS version 1: BADVERS */
    memcpy(buf, good, size);
    buf[size - 5] = 1;
    CASE("edns version", SYN_EPROTO, true, DNS_RCODE_BADVERS);
    expect_parse(buf, size, &c);
    /* a compression pointer in the question can only point into the header */
    static const uint8_t pointer_question[] = {0xc0, 0x0c, 0, 1, 0, 1};
    base = msg_with(buf, pointer_question, sizeof(pointer_question));
    buf[5] = 1;
    CASE("pointer question", SYN_EBADMSG, true, DNS_RCODE_FORMERR);
    expect_parse(buf, base, &c);
    /* a TSIG-like record is skipped, its owner may be compressed */
    base = query(buf, "web.service.synod", DNS_TYPE_A, 0);
    buf[11] = 1;
    static const uint8_t other_rr[] = {0xc0, 0x0c, 0, 250, 0, 255, 0, 0, 0, 0, 0, 2, 7, 7};
    memcpy(buf + base, other_rr, sizeof(other_rr));
    CASE("other record", 0, true, DNS_RCODE_NOERROR);
    expect_parse(buf, base + sizeof(other_rr), &c);
#undef CASE
}

/* Random bytes and random mutations of good queries: never a crash, and every answer reads
 * back, fits its limit and carries the query's id. */
static void test_query_random(void **state)
{
    (void)state;
    struct prng p;
    prng_init(&p, 7);
    uint8_t buf[700];
    for (int iter = 0; iter < 200000; iter++) {
        size_t size;
        if (iter % 2 == 0) {
            size = (size_t)prng_range(&p, 0, sizeof(buf) - 1);
            for (size_t i = 0; i < size; i++) {
                buf[i] = (uint8_t)prng_next(&p);
            }
        } else {
            size = query(buf, iter % 3 == 0 ? "_web._v2.service.synod" : "web.service.synod",
                         DNS_TYPE_SRV, iter % 5 == 0 ? 0 : 1400);
            for (int k = (int)prng_range(&p, 1, 4); k > 0; k--) {
                buf[prng_range(&p, 0, size - 1)] = (uint8_t)prng_next(&p);
            }
            buf[2] &= 0x7F; /* keep it a query, most of the time */
        }
        struct dns_answer_info info;
        size_t out_size = 0;
        bool tcp = iter % 7 == 0;
        if (dns_answer(&zone, &source, (uint32_t)iter, buf, size, tcp, out_buf, &out_size, &info) !=
            0) {
            continue;
        }
        assert_true(out_size <= (tcp ? SYN_DNS_MESSAGE_SIZE_MAX : SYN_DNS_UDP_SIZE_MAX));
        assert_int_equal(dns_msg_text(out_buf, out_size, text, sizeof(text)), 0);
        assert_memory_equal(out_buf, buf, 2);
    }
}

/* ---- The writer ---------------------------------------------------------------------- */

static void test_writer(void **state)
{
    (void)state;
    uint8_t buf[600];
    struct dns_writer w;
    struct dns_name q, a, b;
    dns_name_from_text("web.service.synod", &q);
    dns_name_from_text("n1.node.SYNOD", &a);
    dns_name_from_text("n2.node.synod", &b);
    const uint8_t ip[4] = {10, 0, 0, 1};
    dns_writer_init(&w, buf, 100, false);
    assert_int_equal(dns_writer_question(&w, &q, DNS_TYPE_SRV, DNS_CLASS_IN), 0);
    assert_int_equal(w.len, 12 + 19 + 4);
    assert_int_equal(dns_writer_a(&w, DNS_SECTION_ANSWER, &q, 5, ip), 0);
    assert_int_equal(w.len, 35 + 2 + 10 + 4); /* the owner is a pointer to the question */
    assert_int_equal(dns_writer_a(&w, DNS_SECTION_ADDITIONAL, &a, 5, ip), 0);
    assert_int_equal(w.len, 51 + 8 + 2 + 14); /* "n1" "node" literal, then ".synod" pointed */
    size_t before = w.len;
    assert_int_equal(dns_writer_a(&w, DNS_SECTION_ADDITIONAL, &b, 5, ip), 0);
    assert_int_equal(w.len - before, 3 + 2 + 14); /* "n2", then ".node.synod" pointed */
    before = w.len;
    assert_int_equal(dns_writer_a(&w, DNS_SECTION_ADDITIONAL, &b, 5, ip), SYN_ETOOBIG);
    assert_int_equal(w.len, before); /* nothing of it written */
    assert_true(w.left_out[DNS_SECTION_ADDITIONAL]);
    assert_false(w.left_out[DNS_SECTION_ANSWER]);
    struct dns_header h = {.id = 9, .qr = true, .aa = true};
    size_t size = dns_writer_finish(&w, &h);
    assert_int_equal(dns_msg_text(buf, size, text, sizeof(text)), 0);
    assert_string_equal(text, "id=9 NOERROR qr aa\n"
                              "Q web.service.synod IN SRV\n"
                              "AN web.service.synod 5 A 10.0.0.1\n"
                              "AR n1.node.synod 5 A 10.0.0.1\n" /* ".synod" is the question's */
                              "AR n2.node.synod 5 A 10.0.0.1\n");
    /* SRV targets are never compressed; SOA names are */
    dns_writer_init(&w, buf, sizeof(buf), true);
    assert_int_equal(dns_writer_question(&w, &q, DNS_TYPE_SRV, DNS_CLASS_IN), 0);
    before = w.len;
    assert_int_equal(dns_writer_srv(&w, DNS_SECTION_ANSWER, &q, 0, 1, 2, 80, &a), 0);
    assert_int_equal(w.len - before, 2 + 10 + 6 + a.size);
    struct dns_name ns, mail;
    dns_name_from_text("ns.synod", &ns);
    dns_name_from_text("hostmaster.synod", &mail);
    struct dns_soa soa = {&ns, &mail, 1, 2, 3, 4, 5};
    dns_name_from_text("synod", &a);
    assert_int_equal(dns_writer_soa(&w, DNS_SECTION_AUTHORITY, &a, 7, &soa), 0);
    dns_writer_opt(&w, 1232, 1);
    size = dns_writer_finish(&w, &h);
    assert_int_equal(dns_msg_text(buf, size, text, sizeof(text)), 0);
    assert_string_equal(text, "id=9 BADVERS qr aa\n"
                              "Q web.service.synod IN SRV\n"
                              "AN web.service.synod 0 SRV 1 2 80 n1.node.SYNOD\n"
                              "NS synod 7 SOA ns.synod hostmaster.synod 1 2 3 4 5\n"
                              "AR . OPT 1232 1 0\n");
}

/* ---- Answers ------------------------------------------------------------------------- */

static void test_answer_service(void **state)
{
    (void)state;
    assert_string_equal(ask("web.service.synod", DNS_TYPE_A),
                        "id=4660 NOERROR qr aa rd\n"
                        "Q web.service.synod IN A\n"
                        "AN web.service.synod 0 A 10.0.0.1\n"
                        "AN web.service.synod 0 A 10.0.0.2\n"
                        "AN web.service.synod 0 A 10.0.1.3\n");
    assert_string_equal(fake.last_name, "web");
    assert_string_equal(fake.last_tag, "(none)");
    /* SRV: a node's own address names the node; an address of its own, the addr form */
    assert_string_equal(ask("WEB.Service.Synod", DNS_TYPE_SRV),
                        "id=4660 NOERROR qr aa rd\n"
                        "Q WEB.Service.Synod IN SRV\n"
                        "AN WEB.Service.Synod 0 SRV 1 1 8080 n1.node.synod\n"
                        "AN WEB.Service.Synod 0 SRV 1 1 8080 n2.node.synod\n"
                        "AN WEB.Service.Synod 0 SRV 1 1 9090 0a000103.addr.synod\n"
                        "AR n1.node.synod 0 A 10.0.0.1\n"
                        "AR n2.node.synod 0 A 10.0.0.2\n"
                        "AR 0a000103.addr.synod 0 A 10.0.1.3\n");
    assert_string_equal(fake.last_name, "web"); /* lower-cased for the source */
    /* tags, in both forms */
    assert_string_equal(ask("V2.web.service.synod", DNS_TYPE_A),
                        "id=4660 NOERROR qr aa rd\n"
                        "Q V2.web.service.synod IN A\n"
                        "AN V2.web.service.synod 0 A 10.0.0.2\n"
                        "AN V2.web.service.synod 0 A 10.0.1.3\n");
    assert_string_equal(fake.last_tag, "v2");
    ask("_web._primary.service.synod", DNS_TYPE_SRV);
    assert_string_equal(fake.last_name, "web");
    assert_string_equal(fake.last_tag, "primary");
    ask("_web._tcp.service.synod", DNS_TYPE_SRV);
    assert_string_equal(fake.last_tag, "(none)");
    ask("_web._UDP.service.synod", DNS_TYPE_A);
    assert_string_equal(fake.last_tag, "(none)");
    /* the same address twice is one A record; SRV records stay two, with one A after */
    assert_string_equal(ask("db.service.synod", DNS_TYPE_ANY),
                        "id=4660 NOERROR qr aa rd\n"
                        "Q db.service.synod IN ANY\n"
                        "AN db.service.synod 0 A 10.0.0.1\n"
                        "AN db.service.synod 0 SRV 1 1 5432 n1.node.synod\n"
                        "AN db.service.synod 0 SRV 1 1 5433 n1.node.synod\n"
                        "AR n1.node.synod 0 A 10.0.0.1\n");
    /* a host name as address: SRV to it, no A; an address that is neither: left out */
    assert_string_equal(ask("ext.service.synod", DNS_TYPE_SRV),
                        "id=4660 NOERROR qr aa rd\n"
                        "Q ext.service.synod IN SRV\n"
                        "AN ext.service.synod 0 SRV 1 1 443 db.example.org\n");
    assert_string_equal(ask("ext.service.synod", DNS_TYPE_A),
                        "id=4660 NOERROR qr aa rd\n"
                        "Q ext.service.synod IN A\n"
                        "NS synod 0 SOA ns.synod hostmaster.synod 1 3600 600 86400 0\n");
    /* AAAA and other types: no data, with the SOA */
    assert_string_equal(ask("web.service.synod", DNS_TYPE_AAAA),
                        "id=4660 NOERROR qr aa rd\n"
                        "Q web.service.synod IN AAAA\n"
                        "NS synod 0 SOA ns.synod hostmaster.synod 1 3600 600 86400 0\n");
}

static void test_answer_names(void **state)
{
    (void)state;
    const char *nx = "id=4660 NXDOMAIN qr aa rd\n";
    const char *cases[][2] = {
        {"nope.service.synod", "NXDOMAIN"},    /* unknown service */
        {"v1.idle.service.synod", "NXDOMAIN"}, /* known, nothing healthy with v1 */
        {"x.y.web.service.synod", "NXDOMAIN"}, /* too many labels */
        {"service.synod", "NXDOMAIN"},         /* no name */
        {"we_b!.service.synod", "NXDOMAIN"},   /* not a plain label */
        {"nope.node.synod", "NXDOMAIN"},       /* unknown node */
        {"x.n1.node.synod", "NXDOMAIN"},
        {"zzzzzzzz.addr.synod", "NXDOMAIN"}, /* not hex */
        {"web.other.synod", "NXDOMAIN"},
        {"web.service.consul", "REFUSED"}, /* not our domain */
        {"com", "REFUSED"},
        {".", "REFUSED"},
        {"synod.web.service", "REFUSED"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ask a;
        ask_full(&zone, cases[i][0], DNS_TYPE_A, 0, false, 0, &a);
        if (strstr(text, cases[i][1]) == NULL) {
            fail_msg("%s: %s", cases[i][0], text);
        }
        if (strcmp(cases[i][1], "NXDOMAIN") == 0) {
            assert_memory_equal(text, nx, strlen(nx));
            assert_non_null(strstr(text, "\nNS synod 0 SOA ")); /* RFC 2308 */
        } else {
            assert_null(strstr(text, " aa")); /* not authoritative outside the zone */
        }
    }
    assert_string_equal(ask("N1.node.synod", DNS_TYPE_A), "id=4660 NOERROR qr aa rd\n"
                                                          "Q N1.node.synod IN A\n"
                                                          "AN N1.node.synod 0 A 10.0.0.1\n");
    assert_non_null(strstr(ask("n1.node.synod", DNS_TYPE_SRV), "NOERROR qr aa rd\nQ n1.node."
                                                               "synod IN SRV\nNS synod"));
    assert_non_null(strstr(ask("named.node.synod", DNS_TYPE_A), "NOERROR qr aa rd\nQ named."
                                                                "node.synod IN A\nNS synod"));
    assert_string_equal(ask("0A000103.addr.synod", DNS_TYPE_A),
                        "id=4660 NOERROR qr aa rd\n"
                        "Q 0A000103.addr.synod IN A\n"
                        "AN 0A000103.addr.synod 0 A 10.0.1.3\n");
    assert_string_equal(ask("synod", DNS_TYPE_SOA),
                        "id=4660 NOERROR qr aa rd\n"
                        "Q synod IN SOA\n"
                        "AN synod 0 SOA ns.synod hostmaster.synod 1 3600 600 86400 0\n");
    assert_non_null(strstr(ask("web.service.synod", DNS_TYPE_AXFR), "NOTIMP qr rd\n"));
    /* a class other than IN and ANY */
    uint8_t q[600];
    size_t size = query(q, "web.service.synod", DNS_TYPE_A, 0);
    q[size - 1] = 3; /* CHAOS */
    struct dns_answer_info info;
    size_t out_size;
    assert_int_equal(dns_answer(&zone, &source, 0, q, size, false, out_buf, &out_size, &info), 0);
    assert_int_equal(info.rcode, DNS_RCODE_REFUSED);
    /* the source failing: SERVFAIL, not authoritative, nothing else */
    fake.fail = SYN_EIO;
    assert_string_equal(ask("web.service.synod", DNS_TYPE_A), "id=4660 SERVFAIL qr rd\n"
                                                              "Q web.service.synod IN A\n");
    assert_non_null(strstr(ask("n1.node.synod", DNS_TYPE_A), "SERVFAIL"));
    fake.fail = 0;
}

static void test_answer_zones(void **state)
{
    (void)state;
    struct dns_zone z;
    assert_int_equal(dns_zone_init(&z, "consul", "dc1", 30), 0);
    struct ask a;
    assert_string_equal(ask_full(&z, "web.service.dc1.consul", DNS_TYPE_A, 0, false, 1, &a),
                        "id=4660 NOERROR qr aa rd\n"
                        "Q web.service.dc1.consul IN A\n"
                        "AN web.service.dc1.consul 30 A 10.0.0.2\n"
                        "AN web.service.dc1.consul 30 A 10.0.1.3\n"
                        "AN web.service.dc1.consul 30 A 10.0.0.1\n");
    ask_full(&z, "web.service.consul", DNS_TYPE_SRV, 0, false, 0, &a);
    assert_non_null(strstr(text, "SRV 1 1 8080 n1.node.consul\n"));
    assert_non_null(strstr(text, "AR 0a000103.addr.consul 30 A 10.0.1.3\n"));
    assert_non_null(
        strstr(ask_full(&z, "web.service.dc2.consul", DNS_TYPE_A, 0, false, 0, &a), "NXDOMAIN"));
    assert_non_null(
        strstr(ask_full(&z, "web.service.synod", DNS_TYPE_A, 0, false, 0, &a), "REFUSED"));
    assert_non_null(strstr(ask_full(&z, "consul", DNS_TYPE_SOA, 0, false, 0, &a),
                           "AN consul 30 SOA ns.consul hostmaster.consul 1 3600 600 86400 30"));
    assert_int_equal(dns_zone_init(&z, "disco.example.", NULL, 0), 0);
    assert_non_null(
        strstr(ask_full(&z, "n2.node.disco.example", DNS_TYPE_A, 0, false, 0, &a), "A 10.0.0.2"));
    assert_int_equal(dns_zone_init(&z, "", NULL, 0), SYN_EINVAL);
    assert_int_equal(dns_zone_init(&z, "a b", NULL, 0), SYN_EINVAL);
    assert_int_equal(dns_zone_init(&z, "synod", "dc.1", 0), SYN_EINVAL);
    char longest[300];
    memset(longest, 'a', sizeof(longest));
    for (int i = 63; i < 250; i += 64) {
        longest[i] = '.';
    }
    longest[250] = '\0';
    assert_int_equal(dns_zone_init(&z, longest, NULL, 0), SYN_EINVAL); /* no room for ns. */
}

static void test_rotation(void **state)
{
    (void)state;
    const char *firsts[] = {"10.0.0.1", "10.0.0.2", "10.0.1.3", "10.0.0.1"};
    for (uint32_t r = 0; r < 4; r++) {
        struct ask a;
        ask_full(&zone, "web.service.synod", DNS_TYPE_A, 0, false, r, &a);
        char want[80];
        snprintf(want, sizeof(want), "IN A\nAN web.service.synod 0 A %s\n", firsts[r]);
        if (strstr(text, want) == NULL) {
            fail_msg("rotation %u: %s", r, text);
        }
    }
    /* the counter wraps without skipping */
    struct ask a;
    ask_full(&zone, "web.service.synod", DNS_TYPE_SRV, 0, false, UINT32_MAX, &a);
    assert_non_null(strstr(text, "IN SRV\nAN web.service.synod 0 SRV 1 1 8080 n1.node"));
}

/* 300 instances of "big" on 300 addresses, each on its own node. */
static struct fake_row big_rows[300];
static char big_text[300][2][32];

static void big_setup(void)
{
    for (int i = 0; i < 300; i++) {
        snprintf(big_text[i][0], sizeof(big_text[i][0]), "node-%03d", i);
        snprintf(big_text[i][1], sizeof(big_text[i][1]), "10.1.%d.%d", i / 250, i % 250);
        big_rows[i] = (struct fake_row){
            "big", "", big_text[i][0], big_text[i][1], big_text[i][1], (uint16_t)(1000 + i)};
    }
    fake.rows = big_rows;
    fake.row_count = 300;
}

static size_t count_lines(const char *t, const char *prefix)
{
    size_t n = 0;
    for (const char *p = t; (p = strstr(p, prefix)) != NULL; p++) {
        n++;
    }
    return n;
}

static void test_truncation(void **state)
{
    (void)state;
    big_setup();
    struct ask a;
    /* UDP without EDNS0: 512 bytes, whole records, TC */
    ask_full(&zone, "big.service.synod", DNS_TYPE_A, 0, false, 0, &a);
    assert_true(a.size <= 512);
    assert_true(a.info.truncated);
    assert_non_null(strstr(text, " tc rd"));
    size_t answers = count_lines(text, "\nAN ");
    assert_int_equal(answers, a.info.answers);
    assert_int_equal(answers, (512 - 12 - 23) / 16); /* 16 bytes per compressed A record */
    assert_null(strstr(text, "SOA"));                /* a cut answer is no negative answer */
    /* EDNS0 sizes: what the client offers, up to SYN_DNS_UDP_SIZE_MAX, OPT included */
    const uint16_t offered[] = {700, 1232, 4096};
    const size_t limit[] = {700, 1232, 1232};
    for (int i = 0; i < 3; i++) {
        ask_full(&zone, "big.service.synod", DNS_TYPE_A, offered[i], false, 0, &a);
        assert_true(a.size <= limit[i]);
        assert_true(a.size > limit[i] - 16);
        assert_true(a.info.truncated);
        assert_non_null(strstr(text, "\nAR . OPT 1232 0 0\n")); /* the OPT always fits */
    }
    /* SRV over UDP: TC; TCP: every record, no TC, the additional records too */
    ask_full(&zone, "big.service.synod", DNS_TYPE_SRV, 1232, false, 0, &a);
    assert_true(a.info.truncated);
    assert_true(a.size <= 1232);
    ask_full(&zone, "big.service.synod", DNS_TYPE_SRV, 0, true, 0, &a);
    assert_false(a.info.truncated);
    assert_int_equal(a.info.answers, 300);
    assert_int_equal(count_lines(text, "\nAR "), 300);
    assert_non_null(strstr(text, "AN big.service.synod 0 SRV 1 1 1299 node-299.node.synod\n"));
    assert_non_null(strstr(text, "AR node-299.node.synod 0 A 10.1.1.49\n"));
    ask_full(&zone, "big.service.synod", DNS_TYPE_A, 0, true, 0, &a);
    assert_int_equal(a.info.answers, 300);
    /* answers that fit with additional records that do not: no TC (RFC 2181 9) */
    fake.row_count = 10; /* 35 + 10 * 39 bytes of SRV, then 16 per A: 5 fit */
    ask_full(&zone, "big.service.synod", DNS_TYPE_SRV, 0, false, 0, &a);
    assert_false(a.info.truncated);
    assert_int_equal(a.info.answers, 10);
    assert_int_equal(count_lines(text, "\nAR "), 5);
    fake.rows = rows;
    fake.row_count = sizeof(rows) / sizeof(rows[0]);
}

static void test_error_responses(void **state)
{
    (void)state;
    uint8_t q[600];
    size_t size = query(q, "web.service.synod", DNS_TYPE_A, 1232);
    q[size - 5] = 1; /* EDNS version 1 */
    struct dns_answer_info info;
    size_t out_size;
    assert_int_equal(dns_answer(&zone, &source, 0, q, size, false, out_buf, &out_size, &info), 0);
    assert_int_equal(info.rcode, DNS_RCODE_BADVERS);
    assert_int_equal(dns_msg_text(out_buf, out_size, text, sizeof(text)), 0);
    assert_string_equal(text, "id=4660 BADVERS qr rd\n"
                              "Q web.service.synod IN A\n"
                              "AR . OPT 1232 1 0\n");
    /* FORMERR echoes the question when it was read */
    size = query(q, "web.service.synod", DNS_TYPE_A, 0);
    q[size] = 0;
    assert_int_equal(dns_answer(&zone, &source, 0, q, size + 1, false, out_buf, &out_size, &info),
                     0);
    assert_int_equal(dns_msg_text(out_buf, out_size, text, sizeof(text)), 0);
    assert_string_equal(text, "id=4660 FORMERR qr rd\nQ web.service.synod IN A\n");
    q[5] = 0; /* no question */
    assert_int_equal(dns_answer(&zone, &source, 0, q, size, false, out_buf, &out_size, &info), 0);
    assert_int_equal(dns_msg_text(out_buf, out_size, text, sizeof(text)), 0);
    assert_string_equal(text, "id=4660 FORMERR qr rd\n");
    /* nothing at all for a response or a runt */
    q[2] |= 0x80;
    assert_int_equal(dns_answer(&zone, &source, 0, q, size, false, out_buf, &out_size, &info),
                     SYN_EBADMSG);
    assert_int_equal(dns_answer(&zone, &source, 0, q, 11, false, out_buf, &out_size, &info),
                     SYN_EBADMSG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_name_pointers),
        cmocka_unit_test(test_query_round_trip),
        cmocka_unit_test(test_query_malformed),
        cmocka_unit_test_setup(test_query_random, setup_zone),
        cmocka_unit_test(test_writer),
        cmocka_unit_test_setup(test_answer_service, setup_zone),
        cmocka_unit_test_setup(test_answer_names, setup_zone),
        cmocka_unit_test_setup(test_answer_zones, setup_zone),
        cmocka_unit_test_setup(test_rotation, setup_zone),
        cmocka_unit_test_setup(test_truncation, setup_zone),
        cmocka_unit_test_setup(test_error_responses, setup_zone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
