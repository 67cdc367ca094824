/* dev_cmd.c: `synod dev`, a local cluster in one command: prepares the data directory,
 * starts one agent per node, asks them over HTTP until they agree on a leader, prints how to
 * use the cluster, then watches the agents until Ctrl-C or SIGTERM and stops them in order.
 * docs/node.md, "synod dev". */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "base/buf.h"
#include "base/err.h"
#include "cli/cli.h"
#include "cli/cli_http.h"
#include "cli/dev_agents.h"
#include "cli/dev_dir.h"
#include "cli/dev_plan.h"
#include "cli/dev_report.h"

#define DEV_CMD_POLL_MS 100u          /* between two rounds of "who leads?" */
#define DEV_CMD_HTTP_TIMEOUT_MS 1000u /* one question to one agent, on loopback */
#define DEV_CMD_WATCH_MS 1000u        /* one wait of the watch loop, which then waits again */
#define DEV_CMD_LOG_TAIL_LINES 12u    /* of a failed agent's log */
#define DEV_CMD_LOG_TAIL_SIZE_MAX 4096u
#define DEV_CMD_ERR_SIZE 512u

enum dev_cmd_outcome {
    DEV_CMD_READY,
    DEV_CMD_STOPPED, /* Ctrl-C or SIGTERM before the cluster was ready */
    DEV_CMD_FAILED,
};

struct dev_cmd {
    const char *prog; /* argv[0], as the user typed it: for the example commands */
    char exe[PATH_MAX];
    struct dev_plan plan;
    struct dev_agents agents;
    char err[DEV_CMD_ERR_SIZE];
};

/* A line of progress, on stderr: stdout carries the report alone (text or JSON). */
__attribute__((format(printf, 1, 2))) static void dev_cmd_say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("synod dev: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Prints the last lines of an agent's log, where it says why it stopped. */
static void dev_cmd_log_tail(const char *path)
{
    char buf[DEV_CMD_LOG_TAIL_SIZE_MAX];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        dev_cmd_say("(cannot read %s: %s)", path, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return;
    }
    off_t from = st.st_size > (off_t)sizeof(buf) ? st.st_size - (off_t)sizeof(buf) : 0;
    ssize_t got = pread(fd, buf, sizeof(buf), from);
    close(fd);
    size_t end = got > 0 ? (size_t)got : 0;
    while (end > 0 && buf[end - 1] == '\n') {
        end--;
    }
    size_t begin = end; /* back to just after the last DEV_CMD_LOG_TAIL_LINES-th newline */
    uint32_t newlines = 0;
    while (begin > 0) {
        if (buf[begin - 1] == '\n' && ++newlines == DEV_CMD_LOG_TAIL_LINES) {
            break;
        }
        begin--;
    }
    fprintf(stderr, "  the end of %s:\n", path);
    while (begin < end) {
        const char *nl = memchr(buf + begin, '\n', end - begin);
        size_t line_end = nl != NULL ? (size_t)(nl - buf) : end;
        fprintf(stderr, "    | %.*s\n", (int)(line_end - begin), buf + begin);
        begin = line_end + 1;
    }
}

/* Whether 127.0.0.1:port can be listened on now, binding as libuv does (SO_REUSEADDR). */
static bool dev_cmd_port_free(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return true; /* cannot tell: let the agent try, and report what it says */
    }
    int on = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool free_now = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(fd);
    return free_now;
}

/* Refuses to start when a port is taken (by another synod dev, a redis-server, ...), naming
 * it: clearer than an agent that exits at once. The agents still report a port lost after
 * this check. */
static int dev_cmd_check_ports(const struct dev_plan *plan)
{
    for (uint32_t i = 0; i < plan->node_count; i++) {
        const struct dev_node *n = &plan->nodes[i];
        const struct {
            uint16_t port;
            const char *what;
        } ports[] = {
            {n->resp_port, "Redis protocol"},
            {n->http_port, "HTTP"},
            {n->dns_port, "DNS (TCP)"},
            {n->peer_port, "Raft peer"},
        };
        for (size_t k = 0; k < sizeof(ports) / sizeof(ports[0]); k++) {
            if (!dev_cmd_port_free(ports[k].port)) {
                dev_cmd_say("port %u (%s's %s port) is in use: is another synod dev running? "
                            "Stop it, or choose other ports with --port-offset N",
                            ports[k].port, n->name, ports[k].what);
                return SYN_EEXIST;
            }
        }
    }
    return 0;
}

/* The agents run this same binary: /proc/self/exe, else argv[0] as given. */
static void dev_cmd_find_exe(struct dev_cmd *cmd)
{
    ssize_t n = readlink("/proc/self/exe", cmd->exe, sizeof(cmd->exe));
    if (n <= 0 || (size_t)n >= sizeof(cmd->exe)) {
        snprintf(cmd->exe, sizeof(cmd->exe), "%s", cmd->prog);
        return;
    }
    cmd->exe[n] = '\0';
}

/* Asks every node who leads: the leader's index once all name the same node, else
 * SYN_ENOLEADER (one cannot answer yet, knows no leader, or they disagree). */
static int dev_cmd_leader_round(const struct dev_plan *plan)
{
    const struct cli_http_request req = {.method = "GET", .target = "/v1/status/leader"};
    struct syn_buf raw;
    syn_buf_init(&raw, 0);
    int leader = SYN_ENOLEADER;
    for (uint32_t i = 0; i < plan->node_count; i++) {
        struct cli_http_response resp;
        char err[CLI_HTTP_ERR_SIZE];
        int rc = cli_http_exchange(plan->nodes[i].http_addr, DEV_CMD_HTTP_TIMEOUT_MS, &req, &raw,
                                   &resp, err, sizeof(err));
        int named = rc != 0 || resp.status != 200
                        ? SYN_ENOLEADER
                        : dev_plan_leader_index(plan, (const char *)resp.body, resp.body_size);
        if (named < 0 || (i > 0 && named != leader)) {
            leader = SYN_ENOLEADER;
            break;
        }
        leader = named;
    }
    syn_buf_free(&raw);
    return leader;
}

/* Reports the agents in exited ("n2 exited (signal 9)"), with their logs' ends when the
 * exit is a failure to start. */
static void dev_cmd_report_exits(const struct dev_cmd *cmd, uint32_t exited, bool starting)
{
    for (uint32_t i = 0; i < cmd->plan.node_count; i++) {
        if ((exited & (1u << i)) == 0) {
            continue;
        }
        char how[64];
        dev_agents_describe(cmd->agents.agents[i].wait_status, how, sizeof(how));
        if (starting) {
            dev_cmd_say("%s exited (%s) before the cluster was ready", cmd->plan.nodes[i].name,
                        how);
            dev_cmd_log_tail(cmd->plan.nodes[i].log_path);
        } else {
            dev_cmd_say("%s exited (%s); %s", cmd->plan.nodes[i].name, how,
                        cmd->agents.running != 0 ? "the others carry on (Ctrl-C stops them)"
                                                 : "no agent is left");
        }
    }
}

/* Until every node names the same leader, an agent exits, the user stops, or --wait passes. */
static enum dev_cmd_outcome dev_cmd_await_leader(struct dev_cmd *cmd, uint32_t *leader_out)
{
    uint64_t deadline_ms = uv_hrtime() / 1000000u + (uint64_t)cmd->plan.wait_s * 1000u;
    while (uv_hrtime() / 1000000u < deadline_ms) {
        int leader = dev_cmd_leader_round(&cmd->plan);
        if (leader >= 0) {
            *leader_out = (uint32_t)leader;
            return DEV_CMD_READY;
        }
        uint32_t exited = 0;
        enum dev_wait w = dev_agents_wait(&cmd->agents, DEV_CMD_POLL_MS, &exited);
        if (w == DEV_WAIT_STOP) {
            return DEV_CMD_STOPPED;
        }
        if (w == DEV_WAIT_EXITED) {
            dev_cmd_report_exits(cmd, exited, true);
            return DEV_CMD_FAILED;
        }
    }
    dev_cmd_say("no leader within %u s; the agents' logs are %s/n1.log ... n%u.log",
                cmd->plan.wait_s, cmd->plan.data_dir, cmd->plan.node_count);
    for (uint32_t i = 0; i < cmd->plan.node_count; i++) {
        dev_cmd_log_tail(cmd->plan.nodes[i].log_path);
    }
    return DEV_CMD_FAILED;
}

/* Stops the agents that still run (SIGTERM, then SIGKILL past the grace period); returns
 * exit_code. */
static int dev_cmd_stop(struct dev_cmd *cmd, int exit_code)
{
    if (cmd->agents.running != 0) {
        dev_cmd_say("stopping the agents (SIGTERM; SIGKILL after %u s)...",
                    DEV_AGENTS_STOP_GRACE_MS / 1000u);
    }
    uint32_t killed = dev_agents_stop(&cmd->agents, DEV_AGENTS_STOP_GRACE_MS);
    for (uint32_t i = 0; i < cmd->plan.node_count; i++) {
        if (killed & (1u << i)) {
            dev_cmd_say("%s did not stop in time: killed", cmd->plan.nodes[i].name);
        }
    }
    dev_cmd_say("stopped; data and logs kept in %s", cmd->plan.data_dir);
    return exit_code;
}

/* The cluster runs until Ctrl-C or SIGTERM (exit 0), or until every agent has exited on its
 * own (exit 1). An agent that dies is reported and the others carry on: the user may have
 * killed it to watch a failover. Each wait is bounded; the loop is the command's life. */
static int dev_cmd_watch(struct dev_cmd *cmd)
{
    for (;;) {
        uint32_t exited = 0;
        enum dev_wait w = dev_agents_wait(&cmd->agents, DEV_CMD_WATCH_MS, &exited);
        if (w == DEV_WAIT_STOP) {
            return dev_cmd_stop(cmd, 0);
        }
        if (w == DEV_WAIT_EXITED) {
            dev_cmd_report_exits(cmd, exited, false);
        }
        if (cmd->agents.running == 0) {
            return dev_cmd_stop(cmd, 1);
        }
    }
}

static int dev_cmd_run(struct dev_cmd *cmd)
{
    if (dev_cmd_check_ports(&cmd->plan) != 0) {
        return 1;
    }
    int rc = dev_dir_prepare(&cmd->plan, cmd->err, sizeof(cmd->err));
    if (rc != 0) {
        dev_cmd_say("%s", cmd->err);
        return 1;
    }
    dev_cmd_find_exe(cmd);
    dev_cmd_say("starting %u agent%s; data and logs in %s", cmd->plan.node_count,
                cmd->plan.node_count == 1 ? "" : "s", cmd->plan.data_dir);
    uint64_t start_ms = uv_hrtime() / 1000000u;
    rc = dev_agents_start(&cmd->agents, &cmd->plan, cmd->exe, cmd->err, sizeof(cmd->err));
    if (rc != 0) {
        dev_cmd_say("%s", cmd->err);
        return 1;
    }
    uint32_t leader = 0;
    enum dev_cmd_outcome outcome = dev_cmd_await_leader(cmd, &leader);
    if (outcome != DEV_CMD_READY) {
        return dev_cmd_stop(cmd, outcome == DEV_CMD_STOPPED ? 0 : 1);
    }
    uint64_t elapsed_ms = uv_hrtime() / 1000000u - start_ms;
    if (dev_report_print(stdout, &cmd->agents, cmd->prog, leader, elapsed_ms) != 0) {
        dev_cmd_say("cannot print the report: %s", syn_strerror(SYN_ENOMEM));
        return dev_cmd_stop(cmd, 1);
    }
    return dev_cmd_watch(cmd);
}

int dev_cmd_main(const char *prog, int argc, char **argv)
{
    struct dev_cmd cmd;
    memset(&cmd, 0, sizeof(cmd));
    cmd.prog = prog;
    int rc = dev_plan_parse(&cmd.plan, argc, argv, cmd.err, sizeof(cmd.err));
    if (rc == 1) {
        fputs(dev_plan_usage, stdout);
        return 0;
    }
    if (rc != 0) {
        fprintf(stderr, "synod dev: %s\n", cmd.err);
        return 2;
    }
    return dev_cmd_run(&cmd);
}
