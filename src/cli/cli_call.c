/* cli_call.c: asking any node, or the leader (cli_call.h). */
#include "cli/cli_call.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "cli/cli_json.h"

void cli_reply_init(struct cli_reply *r)
{
    *r = (struct cli_reply){0};
    syn_buf_init(&r->raw, 0);
}

void cli_reply_free(struct cli_reply *r)
{
    syn_buf_free(&r->raw);
}

int cli_call_one(const struct cli_opts *o, uint32_t i, const struct cli_http_request *req,
                 struct cli_reply *r, char *err, size_t err_size)
{
    r->addr = o->addrs[i];
    return cli_http_exchange(o->addrs[i], o->timeout_ms, req, &r->raw, &r->resp, err, err_size);
}

/* "ADDR: why" appended to a list of failures. */
static void failure_add(struct syn_buf *list, const char *addr, const char *why)
{
    char line[CLI_ERR_SIZE];
    int n = snprintf(line, sizeof(line), "\n  %s: %s", addr, why);
    if (n > 0) {
        syn_buf_append(list, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
    }
}

/* One address: "synod: <one> ADDR: why"; more: "synod: <many>:" and a line for each. */
static int failures_print(const struct cli_opts *o, const char *one, const char *many,
                          struct syn_buf *list)
{
    size_t skip = 3; /* "\n  " */
    if (o->addr_count == 1 && list->len > skip) {
        cli_fail("%s %.*s", one, (int)(list->len - skip), (const char *)list->data + skip);
    } else {
        cli_fail("%s:%.*s", many, (int)list->len, (const char *)list->data);
    }
    syn_buf_free(list);
    return CLI_EXIT_FAILED;
}

int cli_call_any(const struct cli_opts *o, const struct cli_http_request *req, struct cli_reply *r)
{
    struct syn_buf failures;
    syn_buf_init(&failures, 0);
    for (uint32_t i = 0; i < o->addr_count; i++) {
        char err[CLI_HTTP_ERR_SIZE];
        if (cli_call_one(o, i, req, r, err, sizeof(err)) == 0) {
            syn_buf_free(&failures);
            return 0;
        }
        failure_add(&failures, o->addrs[i], err);
    }
    return failures_print(o, "cannot reach", "cannot reach any node", &failures);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int cli_call_leader(const struct cli_opts *o, const struct cli_http_request *req,
                    struct cli_reply *r)
{
    uint64_t deadline = now_ms() + o->timeout_ms;
    struct syn_buf failures;
    syn_buf_init(&failures, 0);
    for (;;) {
        bool answered = false; /* some node answered (421) */
        syn_buf_reset(&failures);
        for (uint32_t i = 0; i < o->addr_count; i++) {
            char err[CLI_HTTP_ERR_SIZE];
            int rc = cli_call_one(o, i, req, r, err, sizeof(err));
            if (rc == 0 && r->resp.status != 421) {
                syn_buf_free(&failures);
                return 0;
            }
            answered = answered || rc == 0;
            if (rc == 0) {
                char leader[64];
                cli_reply_field(r, "leader", leader, sizeof(leader));
                snprintf(err, sizeof(err), "not the leader (%s%s)",
                         leader[0] != '\0' ? "the leader is " : "no leader is known", leader);
            }
            failure_add(&failures, o->addrs[i], err);
        }
        if (now_ms() + CLI_LEADER_RETRY_MS >= deadline && !answered) {
            return failures_print(o, "cannot reach", "cannot reach any node", &failures);
        }
        if (now_ms() + CLI_LEADER_RETRY_MS >= deadline) {
            return failures_print(o, "only the leader can do this:",
                                  "no node accepted the request as the leader", &failures);
        }
        nanosleep(&(struct timespec){.tv_nsec = CLI_LEADER_RETRY_MS * 1000000L}, NULL);
    }
}

void cli_reply_field(const struct cli_reply *r, const char *key, char *out, size_t out_size)
{
    struct cli_json j;
    out[0] = '\0';
    if (cli_json_parse(&j, r->resp.body, r->resp.body_size) == 0 &&
        !cli_json_cstring(&j, cli_json_get(&j, 0, key), out, out_size)) {
        out[0] = '\0';
    }
    cli_json_free(&j);
}

void cli_reply_error(const struct cli_reply *r, char *out, size_t out_size)
{
    cli_reply_field(r, "error", out, out_size);
    if (out[0] != '\0') {
        return;
    }
    const uint8_t *body = r->resp.body;
    size_t n = 0;
    while (n < r->resp.body_size && body[n] != '\n' && body[n] != '\r' && n + 1 < out_size) {
        n++;
    }
    if (n > 0) {
        snprintf(out, out_size, "%.*s", (int)n, (const char *)body);
    } else {
        snprintf(out, out_size, "HTTP status %u", r->resp.status);
    }
}

int cli_reply_refused(const struct cli_reply *r, const char *what)
{
    char text[CLI_ERR_SIZE];
    cli_reply_error(r, text, sizeof(text));
    return cli_fail("%s: %s (HTTP %u from %s)", what, text, r->resp.status, r->addr);
}

int cli_call_change(const struct cli_opts *o, const char *method, const char *target,
                    const char *done)
{
    struct cli_http_request req = {.method = method, .target = target};
    struct cli_reply r;
    cli_reply_init(&r);
    int rc = cli_call_leader(o, &req, &r);
    if (rc == 0 && o->json) {
        fwrite(r.resp.body, 1, r.resp.body_size, stdout);
    }
    char text[CLI_ERR_SIZE];
    if (rc == 0 && r.resp.status == 200 && !o->json) {
        cli_reply_field(&r, "message", text, sizeof(text));
        printf("%s%s%s%s\n", done, text[0] != '\0' ? " (" : "", text, text[0] != '\0' ? ")" : "");
    } else if (rc == 0 && r.resp.status != 200) {
        cli_reply_error(&r, text, sizeof(text));
        rc = cli_fail("%s: %s", r.addr, text);
    }
    cli_reply_free(&r);
    return rc;
}
