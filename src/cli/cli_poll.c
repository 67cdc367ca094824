/* cli_poll.c: blocking queries, again and again, across the nodes (cli_poll.h). */
#include "cli/cli_poll.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli_time.h"

void cli_poll_init(struct cli_poll *p, const struct cli_opts *o, uint32_t addr, bool pinned)
{
    *p = (struct cli_poll){.o = o, .addr = addr, .pinned = pinned};
}

/* The failure of one try, said on stderr, then the backoff and the next address. */
static void retry_after(struct cli_poll *p, const char *why)
{
    p->backoff_ms = p->backoff_ms == 0                            ? CLI_POLL_BACKOFF_MS_MIN
                    : p->backoff_ms * 2 > CLI_POLL_BACKOFF_MS_MAX ? CLI_POLL_BACKOFF_MS_MAX
                                                                  : p->backoff_ms * 2;
    uint32_t next = p->pinned ? p->addr : (p->addr + 1) % p->o->addr_count;
    fprintf(stderr, "synod: %s: %s; asking %s in %u ms\n", p->o->addrs[p->addr], why,
            p->o->addrs[next], p->backoff_ms);
    fflush(stderr);
    cli_time_sleep_ms(p->backoff_ms);
    p->addr = next;
    p->have_index = false; /* the next answer at once, whole, whatever the node's numbers */
}

/* target with the blocking query's parameters, when there is an index to send. */
static int target_make(const struct cli_poll *p, const char *target, char *full, size_t size)
{
    int n = p->have_index ? snprintf(full, size, "%s%sindex=%llu&wait=%us", target,
                                     strchr(target, '?') != NULL ? "&" : "?",
                                     (unsigned long long)p->index, CLI_POLL_WAIT_S)
                          : snprintf(full, size, "%s", target);
    return n < 0 || (size_t)n >= size ? cli_fail("%s: the request is too long", target) : 0;
}

int cli_poll_next(struct cli_poll *p, const char *target, struct cli_reply *r, uint64_t *index,
                  bool *resumed)
{
    *resumed = false;
    char full[CLI_POLL_TARGET_SIZE_MAX];
    if (target_make(p, target, full, sizeof(full)) != 0) {
        return CLI_EXIT_FAILED;
    }
    struct cli_http_request req = {.method = "GET", .target = full};
    /* the node may hold the answer for the whole wait, and Consul adds up to wait/16 */
    uint32_t timeout_ms = CLI_POLL_WAIT_S * 1000u * 17u / 16u + p->o->timeout_ms;
    for (;;) {
        char err[CLI_HTTP_ERR_SIZE];
        r->addr = p->o->addrs[p->addr];
        int rc = cli_http_exchange(r->addr, timeout_ms, &req, &r->raw, &r->resp, err, sizeof(err));
        if (rc == 0 && r->resp.status < 500 && r->resp.status != 429) {
            break;
        }
        char why[CLI_ERR_SIZE + 16];
        if (rc == 0) {
            char text[CLI_ERR_SIZE];
            cli_reply_error(r, text, sizeof(text));
            snprintf(why, sizeof(why), "%s (HTTP %u)", text, r->resp.status);
        } else {
            snprintf(why, sizeof(why), "%s", err);
        }
        retry_after(p, why);
        *resumed = true;
        if (target_make(p, target, full, sizeof(full)) != 0) {
            return CLI_EXIT_FAILED;
        }
    }
    p->backoff_ms = 0;
    *index = 0;
    cli_http_header_u64(r->raw.data, &r->resp, "x-consul-index", index);
    return 0;
}

static void on_interrupt(int sig)
{
    (void)sig;
    _exit(CLI_EXIT_OK);
}

void cli_poll_exit_on_interrupt(void)
{
    struct sigaction sa = {.sa_handler = on_interrupt};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}
