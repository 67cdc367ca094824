/* http_kv_internal.h: what the KV endpoint's files share:
 *   http_kv.c        parsing, consistency modes, reads, writes, answers
 *   http_kv_wait.c   blocking queries: waiting for a change or for ?wait to pass
 * Not for other modules. */
#ifndef SYN_API_HTTP_KV_INTERNAL_H
#define SYN_API_HTTP_KV_INTERNAL_H

#include "api/http_query.h"
#include "api/http_server_internal.h"
#include "registry/reg_record.h"

#define HTTP_KV_WAIT_MS_DEFAULT (5u * 60u * 1000u) /* Consul's default ?wait */
#define HTTP_KV_WAIT_MS_MAX (10u * 60u * 1000u)    /* ... and its most */
#define HTTP_KV_SWEEP_MS 1000u /* how often waiters are checked for deadlines and closed
                                  clients */

/* One KV request's parameters. Owned by its handler, then by its waiter. */
struct http_kv_query {
    struct syn_buf key;       /* decoded; a prefix with ?recurse or ?keys */
    struct syn_buf separator; /* ?keys&separator= */
    bool raw;
    bool recurse;
    bool keys;
    bool stale;
    bool has_index;
    bool has_cas;
    uint64_t index; /* ?index: answer once the result's index is past it */
    uint64_t wait_ms;
    uint64_t cas;
    uint64_t flags;
    /* A registry read (http_registry.c) instead of a KV one: which, and its argument. */
    bool registry;
    uint8_t endpoint; /* enum http_reg_endpoint */
    bool passing;     /* ?passing */
    char name[REG_NAME_SIZE_MAX + 1]; /* the service, or the state */
    char tag[REG_NAME_SIZE_MAX + 1];  /* ?tag= */
};

struct http_kv_result {
    uint16_t status; /* 200 or 404 */
    bool raw;        /* the body is a bare value */
    uint64_t index;  /* X-Consul-Index */
};

/* A blocking query: a connection waits for its key or prefix to change. */
struct http_kv_waiter {
    struct http_exchange *ex; /* NULL: the slot is free */
    struct http_kv_query *q;
    uint64_t deadline_ms; /* uv_now() */
    bool woken;           /* a change touched its key or prefix */
};

void http_kv_query_free(struct http_kv_query *q);
/* Parses ?index, ?wait and ?stale into q; answers 400 and returns false when malformed. */
bool http_kv_parse_common(struct http_exchange *ex, struct http_kv_query *q);
/* Starts a read of q with its consistency (ReadIndex unless ?stale), then answers it or
 * makes it wait (?index). Takes q (heap-allocated). */
void http_kv_read(struct http_exchange *ex, struct http_kv_query *q);
/* Proposes the command encoded in ex->srv->command (encode_rc: how encoding went) and
 * answers by ex->answer once it applied: "true"/"false", or an empty 200 (404 with
 * ex->answer_404 when the command found nothing to change). */
void http_kv_submit(struct http_exchange *ex, int encode_rc);
/* A service error as an HTTP answer. */
void http_kv_respond_status(struct http_exchange *ex, int status);
/* X-Consul-Index and the node's leader contact, for a read's answer. */
void http_kv_read_headers(struct http_exchange *ex, uint64_t index, char *out, size_t size);

/* http_registry.c: evaluates a registry read into srv->body (JSON). */
int http_reg_evaluate(struct http_server *srv, const struct http_kv_query *q,
                      struct http_kv_result *out);
/* Evaluates q on the local store into srv->body. 0, SYN_ETOOBIG (over
 * SYN_HTTP_RESPONSE_SIZE_MAX), or the store's error. */
int http_kv_evaluate(struct http_server *srv, const struct http_kv_query *q,
                     struct http_kv_result *out);
/* Evaluates q and answers ex. */
void http_kv_answer(struct http_exchange *ex, const struct http_kv_query *q);
/* Makes ex wait (holding its connection) until q's key or prefix changes or its wait passes,
 * then answers. 0 (q is the waiter's), or SYN_EFULL: answer now. */
int http_kv_wait(struct http_exchange *ex, struct http_kv_query *q);

#endif
