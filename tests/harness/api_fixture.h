/* api_fixture.h: what the client servers' tests share around a server: a loop, the service
 * double, quiet logs, waiting for a server's close callback (bounded), and the end of a test
 * that leaves no handle behind (STYLE 16). */
#ifndef SYN_TESTS_API_FIXTURE_H
#define SYN_TESTS_API_FIXTURE_H

#include <stdbool.h>

#include <uv.h>

#include "harness/fake_service.h"
#include "harness/sock_client.h"

typedef void (*api_fixture_close_fn)(void *server, void (*done)(void *ctx), void *ctx);

struct api_fixture {
    uv_loop_t loop;
    struct fake_service svc;
    void *server;                      /* the server under test, or NULL; the test sets it */
    api_fixture_close_fn server_close; /* and how to close it */
    uint16_t port;                     /* and where it listens */
    bool server_closed;                /* set by api_fixture_on_closed */
};

/* 0, or a negative code. */
int api_fixture_init(struct api_fixture *a);
/* A server's close callback; ctx is the fixture. */
void api_fixture_on_closed(void *ctx);
/* Runs the loop until a server closed (and clears the flag); false after 5 s. */
bool api_fixture_wait_closed(struct api_fixture *a);
/* Closes a->server (releasing held requests so that it can finish) and waits for it; false
 * when it did not finish in time. */
bool api_fixture_close_server(struct api_fixture *a);
/* Connects c to a->port. 0 or -errno. */
int api_fixture_connect(struct api_fixture *a, struct sock_client *c);
/* Closes the server if one is left, releases held requests, closes the service double, runs
 * the loop until every handle is closed; returns uv_loop_close()'s code (0: nothing leaked),
 * or -1 when the server did not close. */
int api_fixture_fini(struct api_fixture *a);

/* A cmocka teardown for a test state that is a malloc'd struct starting with an
 * api_fixture: api_fixture_fini(), then free. Nonzero (a failed teardown) when the server did
 * not close or a handle was left open. */
int api_fixture_teardown(void **state);

#endif
