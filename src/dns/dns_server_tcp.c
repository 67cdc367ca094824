/* dns_server_tcp.c: DNS over TCP (RFC 1035 4.2.2, RFC 7766) on the listener the client
 * servers share (api_server.h): each message follows its 2-byte length; messages on one
 * connection are answered in order; past SYN_DNS_TCP_OUTPUT_PAUSE_SIZE of unread answers,
 * reading pauses; a malformed message is answered if it can be and ends the connection, as
 * nothing after it can be trusted to be framed right. */
#include <inttypes.h>

#include "base/assert.h"
#include "base/err.h"
#include "dns/dns_server_internal.h"
#include "log/log.h"

static void tcp_answer(struct dns_server *s, struct api_conn *c, size_t size)
{
    s->stats.queries_tcp++;
    size_t out_size = 0;
    struct dns_answer_info info;
    int rc = dns_server_answer(s, c->in.data + DNS_TCP_LENGTH_SIZE, size, true, &out_size, &info);
    syn_buf_consume(&c->in, DNS_TCP_LENGTH_SIZE + size);
    if (rc != 0) {
        LOG_DEBUG(DNS_LOG, "tcp client %" PRIu64 " %s: a message that is no query; closing", c->id,
                  c->peer);
        api_conn_close(c);
        return;
    }
    dns_put_u16(s->out, (uint16_t)out_size);
    if (syn_buf_append(&c->out, s->out, DNS_TCP_LENGTH_SIZE + out_size) != 0) {
        LOG_WARN(DNS_LOG, "tcp client %" PRIu64 " %s: out of memory; closing", c->id, c->peer);
        api_conn_close(c);
        return;
    }
    dns_server_sent(s, &info);
    if (info.rcode == DNS_RCODE_FORMERR) {
        LOG_DEBUG(DNS_LOG, "tcp client %" PRIu64 " %s: malformed query; closing", c->id, c->peer);
        s->stats.dropped++;
        api_conn_close_after_write(c);
        return;
    }
    api_conn_flush(c);
}

static void on_input(struct api_conn *c)
{
    struct dns_server *s = api_server_ctx(c->srv);
    while (!c->closing && !c->close_after_write && !c->paused) {
        if (c->in.len < DNS_TCP_LENGTH_SIZE) {
            c->in_need = DNS_TCP_LENGTH_SIZE;
            return;
        }
        size_t size = dns_get_u16(c->in.data);
        if (c->in.len < DNS_TCP_LENGTH_SIZE + size) {
            c->in_need = DNS_TCP_LENGTH_SIZE + size;
            return;
        }
        tcp_answer(s, c, size);
        c->in_need = DNS_TCP_LENGTH_SIZE; /* what a resume needs to look at the next one */
        if (api_conn_output_size(c) > SYN_DNS_TCP_OUTPUT_PAUSE_SIZE) {
            api_conn_pause(c); /* a client that asks and does not read: wait for it */
        }
    }
}

static void on_written(struct api_conn *c)
{
    if (c->paused && api_conn_output_size(c) <= SYN_DNS_TCP_OUTPUT_PAUSE_SIZE) {
        api_conn_resume(c);
    }
}

int dns_tcp_start(struct dns_server *s, const char *addr, char *errmsg)
{
    struct api_server_hooks hooks = {
        .ctx = s,
        .name = DNS_LOG,
        .conn_size = sizeof(struct api_conn), /* no state beyond the buffers */
        .input_max = DNS_TCP_LENGTH_SIZE + SYN_DNS_MESSAGE_SIZE_MAX,
        .connections_max = s->tcp_connections_max,
        .refusal = "", /* DNS has no refusal without a query to refuse: just close */
        .idle_timeout_ms = s->tcp_idle_timeout_ms,
        .input = on_input,
        .written = on_written,
    };
    int rc = api_server_start(s->loop, addr, &hooks, &s->tcp, errmsg);
    if (rc == 0) {
        s->port = api_server_port(s->tcp);
    }
    return rc;
}
