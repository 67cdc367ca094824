/* dev_agents.h: the agent processes of `synod dev`. Each runs `synod agent` (fork, execv)
 * in its own process group, with its output appended to its log file. The signals that
 * matter here (SIGINT, SIGTERM, SIGCHLD) are blocked and taken one at a time with
 * sigtimedwait(), so there is no signal handler and no global: the caller's loop decides. */
#ifndef SYN_CLI_DEV_AGENTS_H
#define SYN_CLI_DEV_AGENTS_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cli/dev_plan.h"

#define DEV_AGENTS_STOP_GRACE_MS 5000u /* after SIGTERM, before SIGKILL */
#define DEV_AGENTS_EXEC_FAILED 127     /* a child's exit status when execv failed (as sh) */

_Static_assert(DEV_PLAN_NODES_MAX <= 32u, "one bit per agent in a uint32_t");

struct dev_agent {
    pid_t pid;       /* 0 before it started, and again once reaped */
    int wait_status; /* waitpid()'s, once reaped */
};

struct dev_agents {
    const struct dev_plan *plan; /* borrowed for as long as the agents run */
    struct dev_agent agents[DEV_PLAN_NODES_MAX];
    uint32_t running;    /* bit i: node i started and not yet reaped */
    sigset_t signals;    /* blocked from dev_agents_start() on */
    sigset_t saved_mask; /* the mask before: each agent gets it back */
};

enum dev_wait {
    DEV_WAIT_TIMEOUT, /* nothing happened */
    DEV_WAIT_STOP,    /* SIGINT or SIGTERM: the user wants the cluster stopped */
    DEV_WAIT_EXITED,  /* agents exited (and were reaped) */
};

/* Blocks the signals, then starts every node of plan with exe (this binary). An agent
 * outlives neither synod dev (PR_SET_PDEATHSIG) nor a failed start. 0, or SYN_EIO with a
 * sentence in err; then the agents started so far are stopped. */
int dev_agents_start(struct dev_agents *a, const struct dev_plan *plan, const char *exe, char *err,
                     size_t err_size);

/* Waits up to timeout_ms for a signal. For DEV_WAIT_EXITED, bit i of *exited_out is set for
 * each node i that exited since the last call (its wait_status says how). */
enum dev_wait dev_agents_wait(struct dev_agents *a, uint32_t timeout_ms, uint32_t *exited_out);

/* SIGTERM to every running agent; waits up to grace_ms for them to exit (a second SIGINT or
 * SIGTERM ends the wait), then SIGKILLs and reaps the rest. Returns the bits of those that had
 * to be killed. The signals stay blocked: the caller is about to exit. */
uint32_t dev_agents_stop(struct dev_agents *a, uint32_t grace_ms);

/* How a wait status reads: "exit status 1", "signal 9". */
void dev_agents_describe(int wait_status, char *out, size_t size);

#endif
