/* api_demo.c: the RESP and HTTP servers on the single-store test double
 * (tests/harness/fake_service.h), for trying redis-cli, redis-benchmark and client libraries
 * by hand before the node is wired:
 *
 *   make build/libsynod.a && cc -std=c17 -D_DEFAULT_SOURCE -Isrc -Itests tests/api/api_demo.c \
 *       tests/harness/fake_service.c build/libsynod.a -luv -llmdb -lm -o build/api_demo
 *   build/api_demo 6380 8500    # then: redis-cli -p 6380, redis-benchmark -p 6380,
 *                                 # curl localhost:8500/v1/health
 *
 * Stops on SIGINT or SIGTERM, closing the servers and the store. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "api/http_server.h"
#include "api/resp_server.h"
#include "harness/fake_service.h"
#include "log/log.h"

struct demo {
    uv_loop_t loop;
    uv_signal_t sig_int;
    uv_signal_t sig_term;
    struct fake_service svc;
    struct resp_server *resp;
    struct http_server *http;
    uint32_t closing;
    bool stopping;
};

static void on_server_closed(void *ctx)
{
    struct demo *d = ctx;
    if (--d->closing == 0) {
        fake_service_close(&d->svc);
    }
}

static void on_signal(uv_signal_t *sig, int signum)
{
    struct demo *d = sig->data;
    (void)signum;
    if (d->stopping) {
        return;
    }
    d->stopping = true;
    uv_close((uv_handle_t *)&d->sig_int, NULL);
    uv_close((uv_handle_t *)&d->sig_term, NULL);
    d->closing = 2;
    resp_server_close(d->resp, on_server_closed, d);
    http_server_close(d->http, on_server_closed, d);
}

int main(int argc, char **argv)
{
    static struct demo d;
    const char *port = argc > 1 ? argv[1] : "6380";
    const char *http_port = argc > 2 ? argv[2] : "8500";
    syn_log_setup(getenv("DEMO_DEBUG") != NULL ? SYN_LOG_DEBUG : SYN_LOG_INFO, "demo", 0);
    uv_loop_init(&d.loop);
    if (fake_service_init(&d.svc, &d.loop) != 0) {
        fprintf(stderr, "cannot open a store\n");
        return 1;
    }
    char addr[64];
    char errmsg[RESP_SERVER_ERRMSG_SIZE];
    snprintf(addr, sizeof(addr), "127.0.0.1:%s", port);
    struct resp_server_options opts = {.version = "demo"};
    if (resp_server_start(&d.loop, addr, &d.svc.service, &opts, &d.resp, errmsg) != 0) {
        fprintf(stderr, "%s\n", errmsg);
        return 1;
    }
    snprintf(addr, sizeof(addr), "127.0.0.1:%s", http_port);
    struct http_server_options hopts = {.version = "demo"};
    if (http_server_start(&d.loop, addr, &d.svc.service, &hopts, &d.http, errmsg) != 0) {
        fprintf(stderr, "%s\n", errmsg);
        return 1;
    }
    uv_signal_init(&d.loop, &d.sig_int);
    uv_signal_init(&d.loop, &d.sig_term);
    d.sig_int.data = &d;
    d.sig_term.data = &d;
    uv_signal_start(&d.sig_int, on_signal, SIGINT);
    uv_signal_start(&d.sig_term, on_signal, SIGTERM);
    uv_run(&d.loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close(&d.loop);
    fprintf(stderr, "demo: stopped (loop close: %d)\n", rc);
    return rc == 0 ? 0 : 1;
}
