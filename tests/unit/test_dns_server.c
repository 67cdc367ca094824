/* test_dns_server.c: the DNS server on 127.0.0.1 against real clients. The server runs on
 * its own loop in a second thread (with a fake source), and the test asks it with `dig`
 * (UDP and TCP: services, tags, RFC 2782 names, nodes, NXDOMAIN, REFUSED, round robin,
 * truncation with TC over UDP and the full answer over TCP) and with python3 (garbage
 * datagrams and TCP streams, pipelined TCP queries, the idle timeout, the connection
 * limit), then checks that it still answers and what its counters say. Every command runs
 * under `timeout`; every test ends with the server closed and uv_loop_close() == 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "dns/dns_server.h"
#include "log/log.h"
#include "test_dns_fake.h"

#define OUTPUT_SIZE (256u << 10)
#define START_WAIT_MS 5000

/* ---- The server's thread ------------------------------------------------------------- */

struct server_thread {
    pthread_t thread;
    uv_loop_t loop;
    uv_async_t stop;
    struct dns_server_options opts;
    const struct dns_source *src;
    struct dns_server *server;
    struct dns_server_stats stats; /* taken just before the close */
    char errmsg[DNS_SERVER_ERRMSG_SIZE];
    atomic_int state; /* 0 starting, 1 serving, 2 failed to start */
    uint16_t port;
    int start_rc;
    int loop_close_rc;
    bool running; /* started and not yet stopped */
    bool closed;
};

static void on_closed(void *ctx)
{
    struct server_thread *t = ctx;
    t->closed = true;
}

static void on_stop(uv_async_t *async)
{
    struct server_thread *t = async->data;
    dns_server_stats(t->server, &t->stats);
    dns_server_close(t->server, on_closed, t);
    uv_close((uv_handle_t *)&t->stop, NULL);
}

static void *server_main(void *arg)
{
    struct server_thread *t = arg;
    t->start_rc =
        dns_server_start(&t->loop, "127.0.0.1:0", &t->opts, t->src, &t->server, t->errmsg);
    if (t->start_rc != 0) {
        uv_close((uv_handle_t *)&t->stop, NULL);
        uv_run(&t->loop, UV_RUN_DEFAULT);
        t->loop_close_rc = uv_loop_close(&t->loop);
        atomic_store(&t->state, 2);
        return NULL;
    }
    t->port = dns_server_port(t->server);
    t->running = true;
    atomic_store(&t->state, 1);
    uv_run(&t->loop, UV_RUN_DEFAULT);
    t->loop_close_rc = uv_loop_close(&t->loop);
    return NULL;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Starts a server with opts and src; false (and errmsg) when it did not start. */
static bool server_start(struct server_thread *t, const struct dns_server_options *opts,
                         const struct dns_source *src)
{
    memset(t, 0, sizeof(*t));
    if (opts != NULL) {
        t->opts = *opts;
    }
    t->src = src;
    assert_int_equal(uv_loop_init(&t->loop), 0);
    assert_int_equal(uv_async_init(&t->loop, &t->stop, on_stop), 0);
    t->stop.data = t;
    assert_int_equal(pthread_create(&t->thread, NULL, server_main, t), 0);
    for (int waited = 0; atomic_load(&t->state) == 0 && waited < START_WAIT_MS; waited++) {
        sleep_ms(1);
    }
    assert_int_not_equal(atomic_load(&t->state), 0);
    if (atomic_load(&t->state) == 2) {
        pthread_join(t->thread, NULL);
        assert_int_equal(t->loop_close_rc, 0);
        return false;
    }
    return true;
}

/* Stops the server, joins its thread, checks nothing was left open. Once. */
static void server_stop(struct server_thread *t)
{
    if (!t->running) {
        return; /* a test that failed between a stop and a restart */
    }
    t->running = false;
    uv_async_send(&t->stop);
    pthread_join(t->thread, NULL);
    assert_true(t->closed);
    assert_int_equal(t->loop_close_rc, 0);
}

/* ---- Commands ------------------------------------------------------------------------ */

static char output[OUTPUT_SIZE];

/* Runs a shell command (bounded by `timeout`), returns its output (stdout and stderr). */
__attribute__((format(printf, 1, 2))) static const char *run(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof(cmd) - 32);
    char full[2100];
    snprintf(full, sizeof(full), "timeout 20 %s 2>&1", cmd);
    FILE *f = popen(full, "r");
    assert_non_null(f);
    size_t len = fread(output, 1, sizeof(output) - 1, f);
    output[len] = '\0';
    pclose(f);
    return output;
}

/* dig at the server; args are dig's (query options, name, type). */
#define DIG(port, args) run("dig @127.0.0.1 -p %u +time=3 +tries=1 " args, (unsigned)(port))

static void expect_has(const char *text, const char *want)
{
    if (strstr(text, want) == NULL) {
        fail_msg("expected \"%s\" in:\n%s", want, text);
    }
}

static void expect_not(const char *text, const char *unwanted)
{
    if (strstr(text, unwanted) != NULL) {
        fail_msg("did not expect \"%s\" in:\n%s", unwanted, text);
    }
}

static size_t count_of(const char *text, const char *what)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, what)) != NULL; p += strlen(what)) {
        n++;
    }
    return n;
}

/* ---- The data ------------------------------------------------------------------------ */

static const struct fake_row rows[] = {
    {"web", ",v1,primary,", "n1", "10.0.0.1", "10.0.0.1", 8080},
    {"web", ",v2,", "n2", "10.0.0.2", "10.0.0.2", 8080},
    {"web", ",v2,", "n3", "10.0.1.3", "10.0.0.3", 9090},
};
static const struct fake_node nodes[] = {{"n1", "10.0.0.1"}, {"n2", "10.0.0.2"}};

#define BIG_COUNT 200u
static struct fake_row all_rows[3 + BIG_COUNT];
static char big_text[BIG_COUNT][2][32];

static struct fake fake;
static const struct dns_source source = {&fake, fake_service, fake_node};
static struct server_thread server;

/* The rows above plus service "big": BIG_COUNT instances, each on its own node. */
static int setup(void **state)
{
    (void)state;
    syn_log_setup(SYN_LOG_OFF, "test", 0);
    memcpy(all_rows, rows, sizeof(rows));
    for (uint32_t i = 0; i < BIG_COUNT; i++) {
        snprintf(big_text[i][0], sizeof(big_text[i][0]), "node-%03u", i);
        snprintf(big_text[i][1], sizeof(big_text[i][1]), "10.2.%u.%u", i / 100, i % 100 + 1);
        all_rows[3 + i] = (struct fake_row){
            "big", "", big_text[i][0], big_text[i][1], big_text[i][1], (uint16_t)(2000 + i)};
    }
    fake = (struct fake){all_rows, 3 + BIG_COUNT, nodes, 2, 0, "", ""};
    return 0;
}

static int setup_server(void **state)
{
    setup(state);
    struct dns_server_options opts = {.tcp_idle_timeout_ms = 300, .tcp_connections_max = 4};
    assert_true(server_start(&server, &opts, &source));
    return 0;
}

static int teardown_server(void **state)
{
    (void)state;
    server_stop(&server);
    return 0;
}

/* ---- dig ----------------------------------------------------------------------------- */

static void test_dig_services(void **state)
{
    (void)state;
    uint16_t port = server.port;
    const char *out = DIG(port, "web.service.synod A");
    expect_has(out, "status: NOERROR");
    expect_has(out, "flags: qr aa rd;");
    expect_has(out, "ANSWER: 3,");
    expect_has(out, "web.service.synod.\t0\tIN\tA\t10.0.0.1");
    expect_has(out, "web.service.synod.\t0\tIN\tA\t10.0.1.3");
    out = DIG(port, "+noall +answer +additional web.service.synod SRV");
    expect_has(out, "web.service.synod.\t0\tIN\tSRV\t1 1 8080 n1.node.synod.");
    expect_has(out, "web.service.synod.\t0\tIN\tSRV\t1 1 9090 0a000103.addr.synod.");
    expect_has(out, "n2.node.synod.\t\t0\tIN\tA\t10.0.0.2");
    expect_has(out, "0a000103.addr.synod.\t0\tIN\tA\t10.0.1.3");
    /* tags, and the RFC 2782 forms, case-insensitive */
    out = DIG(port, "+short V2.Web.Service.Synod");
    assert_int_equal(count_of(out, "\n"), 2);
    expect_has(out, "10.0.0.2\n");
    expect_has(out, "10.0.1.3\n");
    out = DIG(port, "+short _web._primary.service.synod SRV");
    assert_string_equal(out, "1 1 8080 n1.node.synod.\n");
    out = DIG(port, "+short _web._tcp.service.synod SRV");
    assert_int_equal(count_of(out, "\n"), 3);
    /* nodes and addresses */
    assert_string_equal(DIG(port, "+short n2.node.synod"), "10.0.0.2\n");
    assert_string_equal(DIG(port, "+short 0a000103.addr.synod"), "10.0.1.3\n");
    /* unknown names, other zones, other types */
    out = DIG(port, "nope.service.synod");
    expect_has(out, "status: NXDOMAIN");
    expect_has(out, "synod.\t\t\t0\tIN\tSOA\tns.synod. hostmaster.synod. 1 3600 600 86400 0");
    expect_has(DIG(port, "n9.node.synod"), "status: NXDOMAIN");
    expect_has(DIG(port, "example.com"), "status: REFUSED");
    out = DIG(port, "web.service.synod AAAA");
    expect_has(out, "status: NOERROR");
    expect_has(out, "ANSWER: 0, AUTHORITY: 1,");
    /* over TCP too */
    out = DIG(port, "+tcp +noall +answer web.service.synod SRV");
    assert_int_equal(count_of(out, "\tSRV\t"), 3);
}

static void test_dig_round_robin(void **state)
{
    (void)state;
    char firsts[4][32];
    for (int i = 0; i < 4; i++) {
        const char *out = DIG(server.port, "+short web.service.synod");
        size_t n = strcspn(out, "\n");
        assert_true(n < sizeof(firsts[i]));
        memcpy(firsts[i], out, n);
        firsts[i][n] = '\0';
    }
    /* one query each: three addresses, each first in turn */
    assert_string_not_equal(firsts[0], firsts[1]);
    assert_string_not_equal(firsts[1], firsts[2]);
    assert_string_not_equal(firsts[0], firsts[2]);
    assert_string_equal(firsts[0], firsts[3]);
}

static void test_dig_truncation(void **state)
{
    (void)state;
    uint16_t port = server.port;
    /* 512 bytes without EDNS0: TC, whole records */
    const char *out = DIG(port, "+ignore +noedns big.service.synod");
    expect_has(out, "flags: qr aa tc rd;");
    expect_has(out, "ANSWER: 29,");         /* (512 - 12 - 23) / 16 */
    expect_has(out, "MSG SIZE  rcvd: 499"); /* 12 + 23 + 29 * 16 */
    /* EDNS0 at dig's 1232: more, still TC; a larger offer is capped at 1232 */
    out = DIG(port, "+ignore big.service.synod");
    expect_has(out, "flags: qr aa tc rd;");
    expect_has(out, "ANSWER: 74,"); /* (1232 - 12 - 23 - 11) / 16 */
    out = DIG(port, "+ignore +bufsize=4096 big.service.synod");
    expect_has(out, "ANSWER: 74,");
    expect_has(out, "; EDNS: version: 0, flags:; udp: 1232");
    /* over TCP: every record, no TC */
    out = DIG(port, "+tcp big.service.synod SRV");
    expect_not(out, " tc ");
    expect_has(out, "ANSWER: 200, AUTHORITY: 0, ADDITIONAL: 201"); /* 200 A and the OPT */
    /* dig's own fallback: UDP says TC, dig asks again over TCP */
    out = DIG(port, "big.service.synod");
    expect_has(out, "Truncated, retrying in TCP mode");
    expect_has(out, "ANSWER: 200,");
}

static void test_dig_consul_domain(void **state)
{
    setup(state);
    struct dns_server_options opts = {.domain = "consul", .datacenter = "dc1", .ttl_s = 15};
    struct server_thread t;
    assert_true(server_start(&t, &opts, &source));
    const char *out = DIG(t.port, "+noall +answer web.service.dc1.consul SRV");
    expect_has(out, "web.service.dc1.consul.\t15\tIN\tSRV\t1 1 8080 n1.node.consul.");
    assert_string_equal(DIG(t.port, "+short n1.node.consul"), "10.0.0.1\n");
    expect_has(DIG(t.port, "web.service.synod"), "status: REFUSED");
    server_stop(&t);
    assert_int_equal(t.stats.answers[DNS_RCODE_NOERROR], 2);
    assert_int_equal(t.stats.answers[DNS_RCODE_REFUSED], 1);
    /* bad options and addresses do not start, and leave nothing open */
    opts.domain = "bad domain";
    assert_false(server_start(&t, &opts, &source));
    assert_int_equal(t.start_rc, SYN_EINVAL);
    opts.domain = NULL;
    opts.tcp_connections_max = SYN_DNS_TCP_CONNECTIONS_MAX + 1;
    assert_false(server_start(&t, &opts, &source));
    assert_int_equal(t.start_rc, SYN_EINVAL);
}

/* ---- python3: garbage, pipelining, timeouts, limits ---------------------------------- */

/* Every check is an assert in the script; it prints "ok" at the end. */
static const char garbage_py[] =
    "import random, socket, struct, sys, time\n"
    "port = int(sys.argv[1]); mode = sys.argv[2]; rnd = random.Random(5)\n"
    "def query(name, qtype=1, qid=0x4242, flags=0x0100):\n"
    "    q = struct.pack('>HHHHHH', qid, flags, 1, 0, 0, 0)\n"
    "    for label in name.split('.'):\n"
    "        q += bytes([len(label)]) + label.encode()\n"
    "    return q + b'\\0' + struct.pack('>HH', qtype, 1)\n"
    "def udp_ask(msg):\n"
    "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)\n"
    "    s.sendto(msg, ('127.0.0.1', port))\n"
    "    try:\n"
    "        return s.recv(65535)\n"
    "    except socket.timeout:\n"
    "        return None\n"
    "def recv_exact(s, n):\n"
    "    b = b''\n"
    "    while len(b) < n:\n"
    "        c = s.recv(n - len(b))\n"
    "        if not c: return None\n"
    "        b += c\n"
    "    return b\n"
    "def tcp_read(s):\n"
    "    h = recv_exact(s, 2)\n"
    "    return None if h is None else recv_exact(s, struct.unpack('>H', h)[0])\n"
    "def tcp():\n"
    "    s = socket.create_connection(('127.0.0.1', port), timeout=3); return s\n"
    "if mode == 'udp':\n"
    "    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
    "    good = query('web.service.synod')\n"
    "    for i in range(3000):\n"
    "        k = i % 4\n"
    "        if k == 0: m = bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(0, 600)))\n"
    "        elif k == 1: m = bytearray(good); m[rnd.randrange(len(m))] = rnd.getrandbits(8)\n"
    "        elif k == 2: m = good[:rnd.randrange(len(good))]\n"
    "        else: m = good[:12] + b'\\xc0\\x0c' + good[-4:]\n"
    "        u.sendto(bytes(m), ('127.0.0.1', port))\n"
    "    u.sendto(b'\\x80' * 3, ('127.0.0.1', port))\n"
    "    for _ in range(10):  # the burst may have filled the socket's buffer: once a query\n"
    "        if udp_ask(good) is not None: break  # sent after it is answered, it is drained\n"
    "    else: assert False, 'no answer after the burst'\n"
    "    r = udp_ask(good[:12] + b'\\xc0\\x0c' + good[-4:])\n"
    "    assert r is not None and r[3] & 0xF == 1, r  # FORMERR\n"
    "    r = udp_ask(struct.pack('>HHHHHH', 7, 0x8100, 1, 0, 0, 0) + good[12:])\n"
    "    assert r is None  # a response is never answered\n"
    "    r = udp_ask(struct.pack('>HHHHHH', 7, 0x1000, 1, 0, 0, 0) + good[12:])\n"
    "    assert r is not None and r[3] & 0xF == 4, r  # NOTIMP for opcode 2\n"
    "    r = udp_ask(good)\n"
    "    assert r is not None and r[:2] == b'\\x42\\x42' and r[3] & 0xF == 0, r\n"
    "elif mode == 'tcp':\n"
    "    s = tcp()  # three pipelined queries in one write, answered in order\n"
    "    m = b''.join(struct.pack('>H', len(q)) + q for q in\n"
    "                 [query('web.service.synod', qid=1), query('nope.service.synod', qid=2),\n"
    "                  query('n1.node.synod', qid=3)])\n"
    "    s.sendall(m)\n"
    "    for qid, rcode in [(1, 0), (2, 3), (3, 0)]:\n"
    "        r = tcp_read(s); assert r is not None and r[1] == qid and r[3] & 0xF == rcode, r\n"
    "    q = query('web.service.synod'); f = struct.pack('>H', len(q)) + q\n"
    "    s.sendall(f[:5]); time.sleep(0.05); s.sendall(f[5:])  # a query in two writes\n"
    "    r = tcp_read(s); assert r is not None and r[3] & 0xF == 0, r; s.close()\n"
    "    s = tcp(); q = query('web.service.synod')  # one byte at a time\n"
    "    for b in struct.pack('>H', len(q)) + q: s.send(bytes([b]))\n"
    "    r = tcp_read(s); assert r is not None and r[3] & 0xF == 0, r; s.close()\n"
    "    s = tcp(); s.sendall(b'\\x00\\x05hello')  # not a query: the connection closes\n"
    "    assert tcp_read(s) is None; s.close()\n"
    "    s = tcp(); s.sendall(b'\\x00\\x00')  # an empty message\n"
    "    assert tcp_read(s) is None; s.close()\n"
    "    s = tcp(); bad = bytearray(query('web.service.synod')); bad += b'xx'\n"
    "    s.sendall(struct.pack('>H', len(bad)) + bad)  # FORMERR, then closed\n"
    "    r = tcp_read(s); assert r is not None and r[3] & 0xF == 1, r\n"
    "    assert tcp_read(s) is None; s.close()\n"
    "    s = tcp()  # 60 large answers asked at once and read late: reading pauses, resumes\n"
    "    m = b''.join(struct.pack('>H', len(q)) + q for q in\n"
    "                 [query('big.service.synod', 33, qid=i) for i in range(60)])\n"
    "    s.sendall(m[:1001]); time.sleep(0.1); s.sendall(m[1001:]); time.sleep(0.3)\n"
    "    for i in range(60):\n"
    "        r = tcp_read(s); assert r is not None and r[1] == i and len(r) > 10000, i\n"
    "    s.close()\n"
    "    for i in range(50):  # random streams\n"
    "        s = tcp(); s.sendall(bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(1, "
    "3000))))\n"
    "        s.close()\n"
    "elif mode == 'idle':\n"
    "    s = tcp(); t0 = time.time()\n"
    "    assert tcp_read(s) is None  # closed by the idle timeout\n"
    "    assert 0.2 < time.time() - t0 < 2.5, time.time() - t0\n"
    "elif mode == 'limit':\n"
    "    held = [tcp() for _ in range(4)]\n"
    "    q = query('web.service.synod')\n"
    "    for s in held:\n"
    "        s.sendall(struct.pack('>H', len(q)) + q); assert tcp_read(s) is not None\n"
    "    extra = tcp()  # over the limit: closed at once\n"
    "    assert tcp_read(extra) is None\n"
    "    for s in held: s.close()\n"
    "print('ok')\n";

static const char *python(const char *mode)
{
    char path[] = "/tmp/synod-dns-test-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, garbage_py, sizeof(garbage_py) - 1), sizeof(garbage_py) - 1);
    close(fd);
    const char *out = run("python3 %s %u %s", path, server.port, mode);
    unlink(path);
    return out;
}

static void test_garbage_udp(void **state)
{
    (void)state;
    assert_string_equal(python("udp"), "ok\n");
    /* still answering */
    assert_int_equal(count_of(DIG(server.port, "+short web.service.synod"), "\n"), 3);
    server_stop(&server);
    struct dns_server_stats *st = &server.stats;
    assert_true(st->queries_udp > 100); /* the kernel may drop some of the burst */
    assert_true(st->dropped > 0);
    assert_true(st->answers[DNS_RCODE_FORMERR] > 0);
    assert_true(st->answers[DNS_RCODE_NOTIMP] >= 1); /* random opcodes too */
    uint64_t answered = st->answers_badvers;
    for (int i = 0; i < 6; i++) {
        answered += st->answers[i];
    }
    /* every datagram was answered or dropped, none lost on the way */
    assert_int_equal(answered + st->dropped, st->queries_udp);
    assert_true(server_start(&server, NULL, &source)); /* for the teardown */
}

static void test_tcp(void **state)
{
    (void)state;
    assert_string_equal(python("tcp"), "ok\n");
    assert_int_equal(count_of(DIG(server.port, "+tcp +short web.service.synod"), "\n"), 3);
    server_stop(&server);
    assert_true(server.stats.queries_tcp >= 69);
    assert_true(server.stats.tcp_connections_accepted >= 57);
    assert_int_equal(server.stats.tcp_connections_open, 0);
    assert_true(server_start(&server, NULL, &source));
}

static void test_tcp_idle_and_limit(void **state)
{
    (void)state;
    assert_string_equal(python("idle"), "ok\n");
    assert_string_equal(python("limit"), "ok\n");
    server_stop(&server);
    assert_int_equal(server.stats.tcp_connections_timed_out, 1);
    assert_int_equal(server.stats.tcp_connections_refused, 1);
    assert_true(server_start(&server, NULL, &source));
}

int main(void)
{
    if (system("command -v dig >/dev/null 2>&1") != 0) {
        fprintf(stderr, "test_dns_server: dig is missing (tools/deps.sh installs it)\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dig_services, setup_server, teardown_server),
        cmocka_unit_test_setup_teardown(test_dig_round_robin, setup_server, teardown_server),
        cmocka_unit_test_setup_teardown(test_dig_truncation, setup_server, teardown_server),
        cmocka_unit_test(test_dig_consul_domain),
        cmocka_unit_test_setup_teardown(test_garbage_udp, setup_server, teardown_server),
        cmocka_unit_test_setup_teardown(test_tcp, setup_server, teardown_server),
        cmocka_unit_test_setup_teardown(test_tcp_idle_and_limit, setup_server, teardown_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
