/* api_fixture.c: the client servers' test fixture (api_fixture.h). */
#include "api_fixture.h"

#include <stdlib.h>
#include <string.h>

#include "harness/sock_client.h"
#include "log/log.h"

int api_fixture_init(struct api_fixture *a)
{
    memset(a, 0, sizeof(*a));
    syn_log_setup(SYN_LOG_WARN, "test", 0);
    int rc = uv_loop_init(&a->loop);
    return rc != 0 ? rc : fake_service_init(&a->svc, &a->loop);
}

void api_fixture_on_closed(void *ctx)
{
    ((struct api_fixture *)ctx)->server_closed = true;
}

bool api_fixture_wait_closed(struct api_fixture *a)
{
    for (int i = 0; i < 5000 && !a->server_closed; i++) {
        sock_pump(&a->loop, 1);
    }
    bool closed = a->server_closed;
    a->server_closed = false;
    return closed;
}

bool api_fixture_close_server(struct api_fixture *a)
{
    void *server = a->server;
    a->server = NULL;
    a->server_close(server, api_fixture_on_closed, a);
    fake_service_release(&a->svc);
    return api_fixture_wait_closed(a);
}

int api_fixture_connect(struct api_fixture *a, struct sock_client *c)
{
    return sock_connect(c, &a->loop, a->port);
}

int api_fixture_fini(struct api_fixture *a)
{
    if (a->server != NULL && !api_fixture_close_server(a)) {
        return -1;
    }
    fake_service_release(&a->svc);
    fake_service_close(&a->svc);
    uv_run(&a->loop, UV_RUN_DEFAULT);
    return uv_loop_close(&a->loop);
}

int api_fixture_teardown(void **state)
{
    struct api_fixture *a = *state;
    int rc = api_fixture_fini(a);
    free(a);
    return rc == 0 ? 0 : -1;
}
