/* resp_reply.c: the RESP server's reply writer (one whole reply or an error in its place),
 * the sentences for the service's statuses, and write results as replies. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/resp_server_internal.h"
#include "base/assert.h"
#include "base/err.h"
#include "base/num.h"

void resp_out_begin(struct resp_out *o, struct resp_server *srv, struct syn_buf *b)
{
    *o = (struct resp_out){.srv = srv, .b = b, .start = b->len};
}

/* Records the first failure; a reply past the size limit fails too. */
static void out_check(struct resp_out *o, int rc)
{
    if (o->rc == 0 && rc != 0) {
        o->rc = rc;
    }
    if (o->rc == 0 && o->b->len - o->start > SYN_RESP_REPLY_SIZE_MAX) {
        o->rc = SYN_ETOOBIG;
    }
}

void resp_out_simple(struct resp_out *o, const char *text)
{
    if (o->rc == 0) {
        out_check(o, resp_append_simple(o->b, text));
    }
}

void resp_out_error(struct resp_out *o, const char *code, const char *fmt, ...)
{
    o->srv->stats.errors++;
    if (o->rc != 0) {
        return;
    }
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    out_check(o, resp_append_error(o->b, code, text));
}

void resp_out_integer(struct resp_out *o, int64_t v)
{
    if (o->rc == 0) {
        out_check(o, resp_append_integer(o->b, v));
    }
}

void resp_out_bulk(struct resp_out *o, const void *data, size_t size)
{
    if (o->rc == 0) {
        out_check(o, resp_append_bulk(o->b, data, size));
    }
}

void resp_out_bulk_str(struct resp_out *o, const char *text)
{
    resp_out_bulk(o, text, strlen(text));
}

void resp_out_null(struct resp_out *o)
{
    if (o->rc == 0) {
        out_check(o, resp_append_null_bulk(o->b));
    }
}

void resp_out_array(struct resp_out *o, uint64_t count)
{
    if (o->rc == 0) {
        out_check(o, resp_append_array_header(o->b, count));
    }
}

void resp_out_raw(struct resp_out *o, const void *data, size_t size)
{
    if (o->rc == 0) {
        out_check(o, syn_buf_append(o->b, data, size));
    }
}

int resp_out_end(struct resp_out *o)
{
    if (o->rc == 0) {
        return 0;
    }
    o->b->len = o->start; /* drop the partial reply */
    int rc = o->rc;
    o->rc = 0;
    o->srv->stats.errors++;
    if (rc == SYN_ETOOBIG) {
        char text[128];
        snprintf(text, sizeof(text),
                 "the reply would pass %u bytes: ask for fewer keys or smaller values",
                 SYN_RESP_REPLY_SIZE_MAX);
        rc = resp_append_error(o->b, "ERR", text);
    } else {
        rc = resp_append_error(o->b, "ERR", "out of memory");
    }
    return rc == 0 ? 0 : SYN_ENOMEM;
}

void resp_out_status(struct resp_out *o, int status, bool write)
{
    ASSERT(status < 0);
    const char *outcome = write ? "it may or may not have been applied" : "it was not served";
    switch (status) {
    case SYN_ETIMEDOUT:
        resp_out_error(o, "TIMEOUT", "the cluster did not %s the request in time; %s",
                       write ? "commit" : "confirm a read point for", outcome);
        break;
    case SYN_ENOQUORUM:
        resp_out_error(o, "NOQUORUM", "no leader is reachable; the request %s",
                       write ? "may or may not have been applied" : "was not served");
        break;
    case SYN_EBUSY:
        resp_out_error(o, "BUSY", "too many requests are pending on this node; try again later");
        break;
    case SYN_ENOTLEADER:
    case SYN_ESTALE:
        resp_out_error(o, "TRYAGAIN",
                       "the leader changed and the request was not applied; "
                       "retry it");
        break;
    case SYN_EIO:
    case SYN_ENOSPC:
        resp_out_error(o, "ERR", "this node cannot write to its disk (%s); use another node",
                       syn_strerror(status));
        break;
    case SYN_ESHUTDOWN:
        resp_out_error(o, "ERR", "the node is shutting down");
        break;
    case SYN_ETOOBIG:
        resp_out_error(o, "ERR", "the command is too large for one log entry (%u bytes)",
                       SYN_ENTRY_SIZE_MAX);
        break;
    default:
        resp_out_error(o, "ERR", "%s", syn_strerror(status));
        break;
    }
}

/* "-<whole message>": the state machine's message starts with its code, e.g. "ERR ...". */
static void out_result_error(struct resp_out *o, const struct kv_result *r)
{
    char text[SYN_KV_ERRMSG_SIZE_MAX + 1];
    size_t n = r->data.len < SYN_KV_ERRMSG_SIZE_MAX ? r->data.len : SYN_KV_ERRMSG_SIZE_MAX;
    if (n > 0) {
        memcpy(text, r->data.data, n);
    }
    text[n] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (text[i] == '\0') {
            text[i] = ' ';
        }
    }
    size_t code_size = 0;
    while (code_size < n &&
           ((text[code_size] >= 'A' && text[code_size] <= 'Z') || text[code_size] == '_')) {
        code_size++;
    }
    if (code_size > 0 && code_size < n && text[code_size] == ' ') {
        text[code_size] = '\0';
        resp_out_error(o, text, "%s", text + code_size + 1);
    } else {
        resp_out_error(o, "ERR", "%s", text);
    }
}

void resp_out_result(struct resp_out *o, const struct kv_result *r)
{
    switch (r->kind) {
    case KV_RESULT_OK:
        resp_out_simple(o, "OK");
        break;
    case KV_RESULT_NIL:
        resp_out_null(o);
        break;
    case KV_RESULT_INTEGER:
        resp_out_integer(o, r->integer);
        break;
    case KV_RESULT_BULK:
        resp_out_bulk(o, r->data.data, r->data.len);
        break;
    case KV_RESULT_ERROR:
        out_result_error(o, r);
        break;
    default:
        resp_out_error(o, "ERR", "unknown result kind %u from the state machine", r->kind);
        break;
    }
}

bool resp_arg_is(const struct resp_arg *a, const char *word)
{
    size_t n = strlen(word);
    if (a->size != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t c = a->data[i];
        if (c >= 'A' && c <= 'Z') {
            c = (uint8_t)(c - 'A' + 'a');
        }
        if (c != (uint8_t)word[i]) {
            return false;
        }
    }
    return true;
}

int resp_arg_text_size(const struct resp_arg *a)
{
    return a->size < RESP_ARG_TEXT_MAX ? (int)a->size : RESP_ARG_TEXT_MAX;
}

bool resp_arg_i64(const struct resp_arg *a, int64_t *out)
{
    return syn_i64_parse(a->data, a->size, out);
}
