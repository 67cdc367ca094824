/* sock_client.h: a plain TCP client for the client servers' tests, driven from the test's own
 * thread: the socket is non-blocking, and every wait runs the servers' loop (uv_run with
 * UV_RUN_NOWAIT) between short polls of the socket, until the condition holds or a deadline
 * passes (STYLE 16: bounded). */
#ifndef SYN_TESTS_SOCK_CLIENT_H
#define SYN_TESTS_SOCK_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "base/buf.h"

struct sock_client {
    int fd;
    uv_loop_t *loop;
    struct syn_buf in; /* bytes received and not yet taken */
    bool eof;          /* the server closed (or reset) the connection */
};

/* Returns the size of the first complete message at data, or 0 while it is incomplete. */
typedef size_t (*sock_framer)(const uint8_t *data, size_t size);

/* Connects to 127.0.0.1:port. 0, or -errno. */
int sock_connect(struct sock_client *c, uv_loop_t *loop, uint16_t port);
/* Sends every byte, running the loop while the socket is full. False on error or timeout. */
bool sock_send(struct sock_client *c, const void *data, size_t size, uint32_t timeout_ms);
bool sock_send_str(struct sock_client *c, const char *text);
/* Waits until frame() finds count complete messages in c->in. False on timeout or EOF. */
bool sock_wait_messages(struct sock_client *c, sock_framer frame, uint32_t count,
                        uint32_t timeout_ms);
/* Waits until the server closes the connection. False on timeout. */
bool sock_wait_eof(struct sock_client *c, uint32_t timeout_ms);
/* Takes the first complete message out of c->in into out (NUL-terminated, malloc'd; free it),
 * returning its size; 0 when there is none. */
size_t sock_take(struct sock_client *c, sock_framer frame, char **out);
/* Waits for the next message and takes it: NULL when it is want, else a description of what
 * came instead (malloc'd). */
char *sock_expect(struct sock_client *c, sock_framer frame, const char *want, uint32_t timeout_ms);
/* Runs the loop for about ms. */
void sock_pump(uv_loop_t *loop, uint32_t ms);
void sock_close(struct sock_client *c);

#endif
