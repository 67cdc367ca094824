/* dev_agents.c: starting, watching and stopping `synod dev`'s agent processes. */
#include "cli/dev_agents.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "base/err.h"

/* A line in the log before each start, so that this run's lines are told from older ones
 * (logs are appended to: they are kept between runs). */
static void agents_log_header(int log_fd, const char *name)
{
    char stamp[32] = "";
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm) != NULL) {
        strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    dprintf(log_fd, "---- synod dev: starting %s at %s ----\n", name, stamp);
}

/* In the child, between fork() and execv(); never returns. */
__attribute__((noreturn)) static void agents_child(const struct dev_agents *a, int log_fd,
                                                   char **argv, pid_t parent)
{
    /* Its own process group: Ctrl-C at the terminal reaches synod dev alone, which then
     * stops the agents in order. If synod dev dies without doing so (kill -9), the kernel
     * sends SIGTERM; the getppid() check covers a parent that died before prctl(). */
    (void)setpgid(0, 0);
    (void)prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) {
        _exit(1);
    }
    sigprocmask(SIG_SETMASK, &a->saved_mask, NULL);
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) {
        dup2(null_fd, STDIN_FILENO);
    }
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    execv(argv[0], argv);
    dprintf(STDERR_FILENO, "synod dev: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(DEV_AGENTS_EXEC_FAILED);
}

static int agents_spawn(struct dev_agents *a, uint32_t i, const char *exe, char *err,
                        size_t err_size)
{
    const struct dev_node *n = &a->plan->nodes[i];
    char *argv[DEV_PLAN_AGENT_ARGC + 1];
    dev_plan_agent_argv(a->plan, i, exe, argv);
    int log_fd = open(n->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) {
        snprintf(err, err_size, "cannot open %s: %s", n->log_path, strerror(errno));
        return SYN_EIO;
    }
    agents_log_header(log_fd, n->name);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        agents_child(a, log_fd, argv, parent);
    }
    int fork_errno = errno;
    close(log_fd);
    if (pid < 0) {
        snprintf(err, err_size, "cannot start %s: fork: %s", n->name, strerror(fork_errno));
        return SYN_EIO;
    }
    (void)setpgid(pid, pid); /* both sides: whichever runs first, it holds from here on */
    a->agents[i] = (struct dev_agent){.pid = pid, .wait_status = 0};
    a->running |= 1u << i;
    return 0;
}

int dev_agents_start(struct dev_agents *a, const struct dev_plan *plan, const char *exe, char *err,
                     size_t err_size)
{
    memset(a, 0, sizeof(*a));
    a->plan = plan;
    sigemptyset(&a->signals);
    sigaddset(&a->signals, SIGINT);
    sigaddset(&a->signals, SIGTERM);
    sigaddset(&a->signals, SIGCHLD);
    sigprocmask(SIG_BLOCK, &a->signals, &a->saved_mask);
    /* Blocked signals wait for sigtimedwait() whatever their disposition, but an ignored
     * SIGCHLD would make the kernel reap the agents itself (waitpid() would not see them),
     * and a shell starts background jobs with SIGINT ignored, which the agents would inherit. */
    signal(SIGCHLD, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    for (uint32_t i = 0; i < plan->node_count; i++) {
        int rc = agents_spawn(a, i, exe, err, err_size);
        if (rc != 0) {
            dev_agents_stop(a, DEV_AGENTS_STOP_GRACE_MS);
            return rc;
        }
    }
    return 0;
}

/* Reaps the agents that exited; returns their bits. */
static uint32_t agents_reap(struct dev_agents *a)
{
    uint32_t exited = 0;
    for (uint32_t i = 0; i < a->plan->node_count; i++) {
        struct dev_agent *agent = &a->agents[i];
        if ((a->running & (1u << i)) == 0) {
            continue;
        }
        int status = 0;
        pid_t pid = waitpid(agent->pid, &status, WNOHANG);
        if (pid == agent->pid || (pid < 0 && errno == ECHILD)) {
            agent->pid = 0;
            agent->wait_status = status;
            a->running &= ~(1u << i);
            exited |= 1u << i;
        }
    }
    return exited;
}

/* sigtimedwait() for up to timeout_ms: the signal, or 0 when none came. */
static int agents_sigwait(const struct dev_agents *a, uint32_t timeout_ms)
{
    struct timespec ts = {.tv_sec = timeout_ms / 1000,
                          .tv_nsec = (long)(timeout_ms % 1000) * 1000000L};
    int sig = sigtimedwait(&a->signals, NULL, &ts);
    return sig > 0 ? sig : 0; /* EAGAIN: the time is up; EINTR: a stop and continue */
}

enum dev_wait dev_agents_wait(struct dev_agents *a, uint32_t timeout_ms, uint32_t *exited_out)
{
    int sig = agents_sigwait(a, timeout_ms);
    *exited_out = 0;
    if (sig == SIGINT || sig == SIGTERM) {
        return DEV_WAIT_STOP;
    }
    /* Reap even without a SIGCHLD: two exits may have raised one signal. */
    *exited_out = agents_reap(a);
    return *exited_out != 0 ? DEV_WAIT_EXITED : DEV_WAIT_TIMEOUT;
}

static void agents_kill(const struct dev_agents *a, int sig)
{
    for (uint32_t i = 0; i < a->plan->node_count; i++) {
        if (a->running & (1u << i)) {
            (void)kill(a->agents[i].pid, sig);
        }
    }
}

uint32_t dev_agents_stop(struct dev_agents *a, uint32_t grace_ms)
{
    agents_kill(a, SIGTERM);
    uint64_t deadline_ms = uv_hrtime() / 1000000u + grace_ms;
    agents_reap(a);
    while (a->running != 0) {
        uint64_t now_ms = uv_hrtime() / 1000000u;
        if (now_ms >= deadline_ms) {
            break;
        }
        int sig = agents_sigwait(a, (uint32_t)(deadline_ms - now_ms));
        if (sig == SIGINT || sig == SIGTERM) {
            break; /* asked again: stop waiting */
        }
        agents_reap(a);
    }
    uint32_t killed = a->running;
    agents_kill(a, SIGKILL);
    for (uint32_t i = 0; i < a->plan->node_count; i++) {
        struct dev_agent *agent = &a->agents[i];
        if (a->running & (1u << i)) {
            /* SIGKILL cannot be caught, so this wait is short. */
            while (waitpid(agent->pid, &agent->wait_status, 0) < 0 && errno == EINTR) {
            }
            agent->pid = 0;
        }
    }
    a->running = 0;
    return killed;
}

void dev_agents_describe(int wait_status, char *out, size_t size)
{
    if (WIFSIGNALED(wait_status)) {
        snprintf(out, size, "signal %d", WTERMSIG(wait_status));
    } else {
        snprintf(out, size, "exit status %d", WEXITSTATUS(wait_status));
    }
}
