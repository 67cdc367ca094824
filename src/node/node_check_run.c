/* node_check_run.c: one probe of a health check, on the loop and bounded by the check's
 * timeout: pid (the process, or the one a PID file names, exists), tcp (a connection is
 * accepted), http (GET answers 2xx; 429 is a warning, as in Consul; other codes critical),
 * exec (sh -c: exit 0 passing, 1 warning, anything else critical; killed at the timeout;
 * stdout and stderr kept as the output). A probe owns its handles and frees itself once they
 * are closed; a probe whose check went away finishes without reporting. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/node_checks.h"
#include "node/node_internal.h"

struct node_probe {
    struct node_check *check; /* NULL once abandoned */
    uv_timer_t timer;
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_write_t write;
    uv_process_t process;
    uv_pipe_t pipe;
    uint32_t open_handles;
    bool done;      /* the result is in */
    bool exited;    /* exec: the process ended */
    bool pipe_eof;  /* exec: its output ended */
    int64_t exit_status;
    uint8_t result;
    char request[REG_TARGET_SIZE_MAX + 128];
    char out[NODE_CHECK_OUTPUT_MAX + 1];
    size_t out_len;
    char discard[512]; /* output past NODE_CHECK_OUTPUT_MAX is read and dropped */
    char host[REG_ADDRESS_SIZE_MAX + 1];
    char path[REG_TARGET_SIZE_MAX + 1];
    int port;
};

static void probe_closed(uv_handle_t *h)
{
    struct node_probe *p = h->data;
    if (--p->open_handles == 0) {
        free(p);
    }
}

static void probe_close(struct node_probe *p, uv_handle_t *h)
{
    if (!uv_is_closing(h)) {
        uv_close(h, probe_closed);
    }
}

/* Reports once, then closes everything the probe opened. */
static void probe_finish(struct node_probe *p, uint8_t result, const char *output)
{
    if (p->done) {
        return;
    }
    p->done = true;
    struct node_check *c = p->check;
    if (c != NULL) {
        c->probe = NULL;
        node_check_result(c, result, output);
    }
    probe_close(p, (uv_handle_t *)&p->timer);
    if (p->tcp.data == p) {
        probe_close(p, (uv_handle_t *)&p->tcp);
    }
    if (p->pipe.data == p) {
        probe_close(p, (uv_handle_t *)&p->pipe);
    }
    if (p->process.data == p) {
        if (!p->exited) {
            uv_process_kill(&p->process, SIGKILL);
        }
        probe_close(p, (uv_handle_t *)&p->process);
    }
}

static void on_timeout(uv_timer_t *t)
{
    struct node_probe *p = t->data;
    char text[160];
    snprintf(text, sizeof(text), "timed out after %u ms",
             p->check != NULL ? p->check->def.timeout_ms : 0);
    probe_finish(p, REG_CRITICAL, text);
}

static struct node_probe *probe_new(struct node_check *c)
{
    struct node_probe *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        return NULL;
    }
    p->check = c;
    uv_timer_init(c->node->loop, &p->timer);
    p->timer.data = p;
    p->open_handles = 1;
    uv_timer_start(&p->timer, on_timeout, c->def.timeout_ms, 0);
    return p;
}

/* ---- pid ----------------------------------------------------------------------------- */

static void run_pid(struct node_check *c)
{
    char text[REG_TARGET_SIZE_MAX + 96];
    const char *target = c->def.target;
    long pid = 0;
    char *end = NULL;
    char line[32] = ""; /* end points into it after the else: it must outlive the branch */
    if (target[0] >= '0' && target[0] <= '9') {
        pid = strtol(target, &end, 10);
    } else {
        FILE *f = fopen(target, "r");
        if (f == NULL || fgets(line, sizeof(line), f) == NULL) {
            snprintf(text, sizeof(text), "cannot read the PID file %s: %s", target,
                     f == NULL ? strerror(errno) : "it is empty");
            if (f != NULL) {
                fclose(f);
            }
            node_check_result(c, REG_CRITICAL, text);
            return;
        }
        fclose(f);
        pid = strtol(line, &end, 10);
    }
    if (pid <= 0 || end == NULL || (*end != '\0' && *end != '\n' && *end != ' ')) {
        snprintf(text, sizeof(text), "%s does not hold a process ID", target);
        node_check_result(c, REG_CRITICAL, text);
        return;
    }
    bool alive = kill((pid_t)pid, 0) == 0 || errno == EPERM;
    snprintf(text, sizeof(text), "process %ld is %s", pid, alive ? "running" : "not running");
    node_check_result(c, alive ? REG_PASSING : REG_CRITICAL, text);
}

/* ---- tcp and http -------------------------------------------------------------------- */

/* "HOST:PORT", "[V6]:PORT" or "http://HOST[:PORT]/PATH" into p's host, port and path. */
static bool target_parse(struct node_probe *p, const char *target, bool url)
{
    const char *s = target;
    p->port = url ? 80 : -1;
    snprintf(p->path, sizeof(p->path), "/");
    if (url) {
        if (strncmp(s, "http://", 7) != 0) {
            return false;
        }
        s += 7;
        const char *slash = strchr(s, '/');
        if (slash != NULL) {
            snprintf(p->path, sizeof(p->path), "%s", slash);
        }
        size_t n = slash != NULL ? (size_t)(slash - s) : strlen(s);
        char hostport[REG_ADDRESS_SIZE_MAX + 1];
        if (n >= sizeof(hostport)) {
            return false;
        }
        memcpy(hostport, s, n);
        hostport[n] = '\0';
        char *colon = strrchr(hostport, ':');
        if (colon != NULL && strchr(colon, ']') == NULL) {
            p->port = atoi(colon + 1);
            *colon = '\0';
        }
        snprintf(p->host, sizeof(p->host), "%s", hostport);
    } else {
        const char *colon = strrchr(s, ':');
        if (colon == NULL || (size_t)(colon - s) >= sizeof(p->host)) {
            return false;
        }
        memcpy(p->host, s, (size_t)(colon - s));
        p->host[colon - s] = '\0';
        p->port = atoi(colon + 1);
    }
    size_t hn = strlen(p->host);
    if (hn >= 2 && p->host[0] == '[' && p->host[hn - 1] == ']') {
        memmove(p->host, p->host + 1, hn - 2);
        p->host[hn - 2] = '\0';
    }
    if (strcmp(p->host, "localhost") == 0) {
        snprintf(p->host, sizeof(p->host), "127.0.0.1");
    }
    return p->port > 0 && p->port <= 65535;
}

static void http_status(struct node_probe *p)
{
    /* "HTTP/1.x NNN ..." */
    int code = 0;
    if (p->out_len >= 12 && strncmp(p->out, "HTTP/1.", 7) == 0) {
        code = atoi(p->out + 9);
    }
    char text[NODE_CHECK_OUTPUT_MAX + 128];
    const char *body = strstr(p->out, "\r\n\r\n");
    snprintf(text, sizeof(text), "HTTP GET %s: %d Output: %s", p->check ? p->check->def.target : "",
             code, body != NULL ? body + 4 : "");
    uint8_t result = code >= 200 && code < 300 ? REG_PASSING
                     : code == 429             ? REG_WARNING
                                               : REG_CRITICAL;
    probe_finish(p, result, text);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct node_probe *p = h->data;
    size_t room = NODE_CHECK_OUTPUT_MAX - p->out_len;
    *buf = room > 0 ? uv_buf_init(p->out + p->out_len, (unsigned)room)
                    : uv_buf_init(p->discard, sizeof(p->discard));
}

static void on_http_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct node_probe *p = s->data;
    if (nread > 0 && buf->base != p->discard) {
        p->out_len += (size_t)nread;
        p->out[p->out_len] = '\0';
    }
    if (nread < 0 || p->out_len == NODE_CHECK_OUTPUT_MAX) {
        uv_read_stop(s);
        if (p->out_len == 0) {
            probe_finish(p, REG_CRITICAL, "the connection closed without an answer");
        } else {
            http_status(p);
        }
    }
}

static void on_http_written(uv_write_t *w, int status)
{
    struct node_probe *p = w->data;
    if (status < 0) {
        probe_finish(p, REG_CRITICAL, uv_strerror(status));
        return;
    }
    uv_read_start((uv_stream_t *)&p->tcp, on_alloc, on_http_read);
}

static void on_connect(uv_connect_t *req, int status)
{
    struct node_probe *p = req->data;
    if (p->done) {
        return;
    }
    char text[REG_TARGET_SIZE_MAX + 96];
    const char *target = p->check != NULL ? p->check->def.target : "";
    if (status < 0) {
        bool http = p->check != NULL && p->check->def.type == REG_CHECK_HTTP;
        snprintf(text, sizeof(text), "%s %s: %s", http ? "HTTP GET" : "TCP connect", target,
                 uv_strerror(status));
        probe_finish(p, REG_CRITICAL, text);
        return;
    }
    if (p->check == NULL || p->check->def.type == REG_CHECK_TCP) {
        snprintf(text, sizeof(text), "TCP connect %s: Success", target);
        probe_finish(p, REG_PASSING, text);
        return;
    }
    int n = snprintf(p->request, sizeof(p->request),
                     "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: synod-health-check\r\n"
                     "Accept: text/plain, */*\r\nConnection: close\r\n\r\n",
                     p->path, p->host);
    uv_buf_t b = uv_buf_init(p->request, (unsigned)n);
    p->write.data = p;
    if (uv_write(&p->write, (uv_stream_t *)&p->tcp, &b, 1, on_http_written) != 0) {
        probe_finish(p, REG_CRITICAL, "cannot send the request");
    }
}

static void run_connect(struct node_check *c, bool http)
{
    struct node_probe *p = probe_new(c);
    if (p == NULL) {
        node_check_result(c, REG_CRITICAL, "out of memory");
        return;
    }
    c->probe = p;
    struct sockaddr_storage addr;
    if (!target_parse(p, c->def.target, http) ||
        (uv_ip4_addr(p->host, p->port, (struct sockaddr_in *)&addr) != 0 &&
         uv_ip6_addr(p->host, p->port, (struct sockaddr_in6 *)&addr) != 0)) {
        probe_finish(p, REG_CRITICAL,
                     http ? "expected http://IP[:PORT]/PATH" : "expected IP:PORT");
        return;
    }
    uv_tcp_init(c->node->loop, &p->tcp);
    p->tcp.data = p;
    p->open_handles++;
    p->connect.data = p;
    int rc = uv_tcp_connect(&p->connect, &p->tcp, (struct sockaddr *)&addr, on_connect);
    if (rc != 0) {
        probe_finish(p, REG_CRITICAL, uv_strerror(rc));
    }
}

/* ---- exec ---------------------------------------------------------------------------- */

static void exec_maybe_done(struct node_probe *p)
{
    if (!p->exited || !p->pipe_eof) {
        return;
    }
    uint8_t result = p->exit_status == 0   ? REG_PASSING
                     : p->exit_status == 1 ? REG_WARNING
                                           : REG_CRITICAL;
    probe_finish(p, result, p->out);
}

static void on_exit_cb(uv_process_t *proc, int64_t status, int signal)
{
    struct node_probe *p = proc->data;
    p->exited = true;
    p->exit_status = signal != 0 ? 128 + signal : status;
    exec_maybe_done(p);
}

static void on_exec_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct node_probe *p = s->data;
    if (nread > 0 && buf->base != p->discard) {
        p->out_len += (size_t)nread;
        p->out[p->out_len] = '\0';
    }
    if (nread < 0) {
        uv_read_stop(s);
        p->pipe_eof = true;
        exec_maybe_done(p);
    }
}

static void run_exec(struct node_check *c)
{
    struct node_probe *p = probe_new(c);
    if (p == NULL) {
        node_check_result(c, REG_CRITICAL, "out of memory");
        return;
    }
    c->probe = p;
    uv_pipe_init(c->node->loop, &p->pipe, 0);
    p->pipe.data = p;
    p->open_handles++;
    /* stderr joins stdout: the output is what the command printed, in order */
    snprintf(p->request, sizeof(p->request), "exec 2>&1\n%s", c->def.target);
    char *args[] = {"/bin/sh", "-c", p->request, NULL};
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&p->pipe},
        {.flags = UV_IGNORE},
    };
    uv_process_options_t opts = {
        .file = "/bin/sh", .args = args, .exit_cb = on_exit_cb, .stdio = stdio, .stdio_count = 3};
    p->process.data = p;
    int rc = uv_spawn(c->node->loop, &p->process, &opts);
    if (rc != 0) {
        p->process.data = NULL;
        char text[128];
        snprintf(text, sizeof(text), "cannot run /bin/sh: %s", uv_strerror(rc));
        probe_finish(p, REG_CRITICAL, text);
        return;
    }
    p->open_handles++;
    uv_read_start((uv_stream_t *)&p->pipe, on_alloc, on_exec_read);
}

void node_check_run(struct node_check *c)
{
    switch (c->def.type) {
    case REG_CHECK_PID:
        run_pid(c);
        break;
    case REG_CHECK_TCP:
        run_connect(c, false);
        break;
    case REG_CHECK_HTTP:
        run_connect(c, true);
        break;
    case REG_CHECK_EXEC:
        run_exec(c);
        break;
    default:
        break; /* TTL checks are reported by the service (node_checks.c expires them) */
    }
}

void node_check_abandon(struct node_check *c)
{
    struct node_probe *p = c->probe;
    c->probe = NULL;
    if (p != NULL) {
        p->check = NULL;
        probe_finish(p, REG_CRITICAL, "abandoned");
    }
}
