/* sock_client.c: the tests' plain TCP client (sock_client.h). */
#include "sock_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* One turn: the loop, then up to 1 ms waiting for the socket. */
static void turn(struct sock_client *c, short events)
{
    uv_run(c->loop, UV_RUN_NOWAIT);
    struct pollfd p = {.fd = c->fd, .events = events};
    poll(&p, 1, 1);
}

void sock_pump(uv_loop_t *loop, uint32_t ms)
{
    uint64_t end = now_ms() + ms;
    do {
        uv_run(loop, UV_RUN_NOWAIT);
        struct timespec ts = {.tv_nsec = 200000};
        nanosleep(&ts, NULL);
    } while (now_ms() < end);
}

int sock_connect(struct sock_client *c, uv_loop_t *loop, uint16_t port)
{
    memset(c, 0, sizeof(*c));
    c->loop = loop;
    syn_buf_init(&c->in, 0);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0) {
        return -errno;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* The kernel completes the handshake on a listening socket by itself. */
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        int err = errno;
        close(c->fd);
        c->fd = -1;
        return -err;
    }
    int on = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    return 0;
}

bool sock_send(struct sock_client *c, const void *data, size_t size, uint32_t timeout_ms)
{
    const uint8_t *p = data;
    uint64_t end = now_ms() + timeout_ms;
    while (size > 0) {
        ssize_t n = send(c->fd, p, size, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            size -= (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            return false;
        }
        if (now_ms() > end) {
            return false;
        }
        turn(c, POLLOUT);
    }
    return true;
}

bool sock_send_str(struct sock_client *c, const char *text)
{
    return sock_send(c, text, strlen(text), 5000);
}

/* Reads what the socket has. */
static void drain(struct sock_client *c)
{
    for (;;) {
        uint8_t buf[65536];
        ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
        if (n > 0) {
            if (syn_buf_append(&c->in, buf, (size_t)n) != 0) {
                abort();
            }
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            c->eof = true;
        }
        return;
    }
}

static uint32_t count_messages(const struct sock_client *c, sock_framer frame, uint32_t max)
{
    uint32_t n = 0;
    size_t at = 0;
    while (n < max && at < c->in.len) {
        size_t size = frame(c->in.data + at, c->in.len - at);
        if (size == 0) {
            break;
        }
        at += size;
        n++;
    }
    return n;
}

bool sock_wait_messages(struct sock_client *c, sock_framer frame, uint32_t count,
                        uint32_t timeout_ms)
{
    uint64_t end = now_ms() + timeout_ms;
    for (;;) {
        drain(c);
        if (count_messages(c, frame, count) >= count) {
            return true;
        }
        if (c->eof || now_ms() > end) {
            return false;
        }
        turn(c, POLLIN);
    }
}

bool sock_wait_eof(struct sock_client *c, uint32_t timeout_ms)
{
    uint64_t end = now_ms() + timeout_ms;
    for (;;) {
        drain(c);
        if (c->eof) {
            return true;
        }
        if (now_ms() > end) {
            return false;
        }
        turn(c, POLLIN);
    }
}

size_t sock_take(struct sock_client *c, sock_framer frame, char **out)
{
    *out = NULL;
    size_t size = c->in.len > 0 ? frame(c->in.data, c->in.len) : 0;
    if (size == 0) {
        return 0;
    }
    *out = malloc(size + 1);
    if (*out == NULL) {
        abort();
    }
    memcpy(*out, c->in.data, size);
    (*out)[size] = '\0';
    syn_buf_consume(&c->in, size);
    return size;
}

char *sock_expect(struct sock_client *c, sock_framer frame, const char *want, uint32_t timeout_ms)
{
    char *got = NULL;
    if (sock_wait_messages(c, frame, 1, timeout_ms)) {
        sock_take(c, frame, &got);
        if (strcmp(got, want) == 0) {
            free(got);
            return NULL;
        }
    }
    size_t size = (got != NULL ? strlen(got) : 0) + strlen(want) + 64;
    char *why = malloc(size);
    if (why == NULL) {
        abort();
    }
    if (got == NULL) {
        snprintf(why, size, "nothing came (expected [%s]); eof %d", want, c->eof);
    } else {
        snprintf(why, size, "got [%s], expected [%s]", got, want);
        free(got);
    }
    return why;
}

void sock_close(struct sock_client *c)
{
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    syn_buf_free(&c->in);
}
