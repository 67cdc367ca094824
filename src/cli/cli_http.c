/* cli_http.c: the I/O half of the CLI's HTTP client (cli_http.h): blocking sockets with
 * poll() against one deadline, so a node that accepts and then says nothing costs at most
 * the --timeout the operator gave. */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/limits.h"
#include "cli/cli.h"
#include "cli/cli_http.h"
#include "node/config.h"

#define CLI_HTTP_READ_CHUNK (64u << 10)

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Waits until fd is ready for events or the deadline passes: 0, or SYN_ETIMEDOUT. */
static int wait_fd(int fd, short events, uint64_t deadline_ms)
{
    for (;;) {
        uint64_t now = now_ms();
        if (now >= deadline_ms) {
            return SYN_ETIMEDOUT;
        }
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, (int)(deadline_ms - now));
        if (n > 0) {
            return 0;
        }
        if (n < 0 && errno != EINTR) {
            return SYN_EIO;
        }
    }
}

/* what as the sentence of the failure, its first letter in lower case ("connection
 * refused": it follows "cannot reach ADDR: "). */
static int fail(int rc, char *err, size_t err_size, const char *what)
{
    snprintf(err, err_size, "%s", what);
    if (err[0] >= 'A' && err[0] <= 'Z' && err[1] >= 'a' && err[1] <= 'z') {
        err[0] = (char)(err[0] - 'A' + 'a');
    }
    return rc;
}

/* A connected socket to one of addr's resolved addresses, or a negative code. */
static int dial(const char *addr, uint64_t deadline_ms, char *err, size_t err_size)
{
    char host[SYN_MEMBER_ADDR_SIZE_MAX];
    int port;
    if (node_addr_split(addr, host, sizeof(host), &port) != 0) {
        return fail(SYN_EINVAL, err, err_size, "expected HOST:PORT");
    }
    char port_text[8];
    snprintf(port_text, sizeof(port_text), "%d", port);
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host, port_text, &hints, &res);
    if (gai != 0) {
        return fail(SYN_EIO, err, err_size, gai_strerror(gai));
    }
    int rc = fail(SYN_EIO, err, err_size, "no address to connect to");
    for (struct addrinfo *ai = res; ai != NULL && rc < 0 && rc != SYN_ETIMEDOUT; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            rc = fail(SYN_EIO, err, err_size, strerror(errno));
            continue;
        }
        int e = connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ? 0 : errno;
        if (e == EINPROGRESS && wait_fd(fd, POLLOUT, deadline_ms) != 0) {
            e = ETIMEDOUT;
        } else if (e == EINPROGRESS) {
            socklen_t len = sizeof(e);
            e = getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) == 0 ? e : errno;
        }
        if (e == 0) {
            rc = fd;
        } else {
            close(fd);
            rc = fail(e == ETIMEDOUT ? SYN_ETIMEDOUT : SYN_EIO, err, err_size, strerror(e));
        }
    }
    freeaddrinfo(res);
    return rc;
}

static int send_all(int fd, const uint8_t *data, size_t size, uint64_t deadline_ms, char *err,
                    size_t err_size)
{
    size_t sent = 0;
    while (sent < size) {
        ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (wait_fd(fd, POLLOUT, deadline_ms) != 0) {
                return fail(SYN_ETIMEDOUT, err, err_size, "timed out sending the request");
            }
        } else if (n < 0 && errno != EINTR) {
            return fail(SYN_EIO, err, err_size, strerror(errno));
        }
    }
    return 0;
}

/* Reads until a complete response is in raw. */
static int receive(int fd, bool head_only, uint64_t deadline_ms, struct syn_buf *raw,
                   struct cli_http_response *resp, char *err, size_t err_size)
{
    bool eof = false;
    for (;;) {
        int rc = cli_http_response_parse(raw->data, raw->len, head_only, eof,
                                         SYN_HTTP_RESPONSE_SIZE_MAX, resp);
        if (rc != CLI_HTTP_INCOMPLETE) {
            return rc == 0             ? 0
                   : rc == SYN_ETOOBIG ? fail(rc, err, err_size, "the response is too large")
                                       : fail(rc, err, err_size, "a malformed HTTP response");
        }
        if (eof) {
            return fail(SYN_EBADMSG, err, err_size, "the response ended early");
        }
        if (syn_buf_reserve(raw, CLI_HTTP_READ_CHUNK) != 0) {
            return fail(SYN_ENOMEM, err, err_size, "out of memory");
        }
        ssize_t n = recv(fd, raw->data + raw->len, raw->cap - raw->len, 0);
        if (n > 0) {
            raw->len += (size_t)n;
        } else if (n == 0) {
            eof = true;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (wait_fd(fd, POLLIN, deadline_ms) != 0) {
                return fail(SYN_ETIMEDOUT, err, err_size, "timed out waiting for the response");
            }
        } else if (errno != EINTR) {
            return fail(SYN_EIO, err, err_size, strerror(errno));
        }
    }
}

/* The request's bytes into out (which then receives the response). */
static int request_build(struct syn_buf *out, const char *addr, const struct cli_http_request *req)
{
    const char *parts[] = {
        req->method,
        " ",
        req->target,
        " HTTP/1.1\r\nHost: ",
        addr,
        "\r\nUser-Agent: synod/" SYN_VERSION "\r\nAccept: */*\r\nConnection: close\r\n"};
    int rc = 0;
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]) && rc == 0; i++) {
        rc = syn_buf_append(out, parts[i], strlen(parts[i]));
    }
    if (rc == 0 && (req->body != NULL || strcmp(req->method, "GET") != 0)) {
        char length[48];
        int n = snprintf(length, sizeof(length), "Content-Length: %zu\r\n", req->body_size);
        rc = syn_buf_append(out, length, (size_t)n);
    }
    rc = rc == 0 ? syn_buf_append(out, "\r\n", 2) : rc;
    return rc == 0 && req->body_size > 0 ? syn_buf_append(out, req->body, req->body_size) : rc;
}

int cli_http_exchange(const char *addr, uint32_t timeout_ms, const struct cli_http_request *req,
                      struct syn_buf *raw, struct cli_http_response *resp, char *err,
                      size_t err_size)
{
    uint64_t deadline_ms = now_ms() + timeout_ms;
    syn_buf_reset(raw);
    int fd = dial(addr, deadline_ms, err, err_size);
    if (fd < 0) {
        return fd;
    }
    int rc = request_build(raw, addr, req);
    if (rc != 0) {
        close(fd);
        return fail(rc, err, err_size, "out of memory for the request");
    }
    rc = send_all(fd, raw->data, raw->len, deadline_ms, err, err_size);
    syn_buf_reset(raw);
    if (rc == 0) {
        rc = receive(fd, strcmp(req->method, "HEAD") == 0, deadline_ms, raw, resp, err, err_size);
    }
    close(fd);
    return rc;
}
