/* fd.h: the node failure detector: heartbeats judged with phi-accrual suspicion.
 *
 * Hayashibara, Défago, Yared, Katayama, "The φ Accrual Failure Detector" (SRDS 2004): instead
 * of a yes/no timeout, each monitored member gets a suspicion level
 *     phi(t) = -log10(P(the next heartbeat comes later than t after the last one)),
 * where P comes from the distribution of the member's recent heartbeat inter-arrival times
 * (section 4.1: a normal distribution fitted to a sliding window). phi = 1 means a 10% chance
 * that a heartbeat this late is still on its way, phi = 8 one in 10^8. Two thresholds turn
 * phi into states: alive -> suspect -> failed, and any word from the member makes it alive.
 *
 * Akka's variant (akka.remote.PhiAccrualFailureDetector), which this follows: the normal CDF
 * by a logistic approximation, a minimum standard deviation (a quiet link, whose intervals
 * barely vary, would otherwise fail a member a few ms after its heartbeat is late), and an
 * acceptable heartbeat pause added to the mean (pauses the detector is told to tolerate: a
 * GC, a descheduled process). And a hard timeout of our own: a member silent that long is
 * failed whatever phi says, which bounds detection time when the window has widened under
 * load. docs/failure-detection.md explains the choice of phi over SWIM and the defaults.
 *
 * A pure core (STYLE 1): no clock, no socket, no randomness. Time is the caller's now_ms
 * (monotonic milliseconds), handed to every call; the same calls give the same answers.
 * The caller (src/node/node_fd.c) sends the heartbeats and reports what it hears.
 */
#ifndef SYN_FD_FD_H
#define SYN_FD_FD_H

#include <stdbool.h>
#include <stdint.h>

#include "base/limits.h"

/* Defaults (docs/failure-detection.md: a SIGKILLed agent is failed within 2 s; heartbeats
 * delayed by up to 400 ms under full CPU load, and a 1 s stall, fail nobody). */
#define FD_HEARTBEAT_INTERVAL_MS_DEFAULT 100u
#define FD_WINDOW_SIZE_DEFAULT 300u /* 30 s of heartbeats */
#define FD_PHI_SUSPECT_DEFAULT 3.0  /* ~1.1 s of silence on a steady link */
#define FD_PHI_FAIL_DEFAULT 8.0     /* ~1.54 s of silence on a steady link */
#define FD_MIN_STD_DEV_MS_DEFAULT 200u
#define FD_ACCEPTABLE_PAUSE_MS_DEFAULT 400u
#define FD_HARD_TIMEOUT_MS_DEFAULT 1750u
#define FD_FIRST_CONTACT_TIMEOUT_MS_DEFAULT 5000u /* the transport redials within 2 s */
#define FD_LOCAL_PAUSE_MS_DEFAULT 500u /* ticks come every 50 ms: 500 means we did not run */

enum fd_state {
    FD_ALIVE = 1,
    FD_SUSPECT = 2,
    FD_FAILED = 3,
};

struct fd_config {
    uint32_t heartbeat_interval_ms; /* how often members send heartbeats: 1 .. 60,000 */
    uint32_t window_size;           /* inter-arrival times kept: 2 .. SYN_FD_WINDOW_MAX */
    double phi_suspect;             /* > 0 */
    double phi_fail;                /* > phi_suspect, <= 100 */
    uint32_t min_std_dev_ms;        /* >= 1: floor of the fitted standard deviation */
    uint32_t acceptable_pause_ms;   /* added to the mean interval */
    uint32_t hard_timeout_ms;       /* > heartbeat_interval_ms: silent this long is failed */
    uint32_t first_contact_timeout_ms; /* >= hard_timeout_ms: a member never heard since it
                                          was added is failed after this, and never suspect */
    uint32_t local_pause_ms; /* a tick this long after the previous one: this node itself did
                                not run (0: never assume so); see fd_tick() */
};

/* A member's state changed. */
struct fd_event {
    uint64_t id;
    uint8_t from; /* enum fd_state */
    uint8_t to;
    double phi;           /* when it changed (0 when it was heard) */
    uint64_t silence_ms;  /* since it was last heard, before this change */
};

struct fd_status {
    uint8_t state; /* enum fd_state */
    double phi;
    uint64_t silence_ms; /* since last heard (any message) */
    uint64_t heartbeats; /* heartbeats counted since it was added */
    double mean_ms;      /* of the inter-arrival window */
    double std_dev_ms;   /* of the window, before the min_std_dev_ms floor */
    uint32_t samples;    /* intervals in the window */
};

/* One monitored member: its window of heartbeat inter-arrival times (a ring), with running
 * sums so that mean and variance cost O(1). Integers, so the sums never drift. */
struct fd_member {
    uint64_t id; /* 0: slot free */
    uint8_t state;
    uint64_t last_heard_ms;     /* any message */
    uint64_t last_heartbeat_ms; /* the last heartbeat, for the next interval */
    uint64_t heartbeats;
    bool heard; /* since it was added: before, only first_contact_timeout_ms judges it */
    uint32_t intervals[SYN_FD_WINDOW_MAX];
    uint32_t head; /* the oldest interval, once the window is full */
    uint32_t count;
    uint64_t sum;
    uint64_t sum_sq;
};

/* The detector: a value the caller owns (no allocation; about 128 KiB). */
struct fd {
    struct fd_config cfg;
    uint64_t last_tick_ms; /* 0 before the first tick */
    uint64_t calm_until_ms; /* after a local pause: nobody is made worse before this */
    uint32_t member_count;
    struct fd_member members[SYN_FD_MEMBERS_MAX];
};

void fd_config_default(struct fd_config *cfg);
/* 0, or SYN_EINVAL with *why a static sentence naming the bad field. */
int fd_config_check(const struct fd_config *cfg, const char **why);

/* Starts an empty detector. cfg must pass fd_config_check() (asserted). */
void fd_init(struct fd *fd, const struct fd_config *cfg);

/* Monitors member id from now on, with a window seeded from the configured interval (Akka's
 * first-heartbeat estimate: interval +- interval / 4). Until it is first heard it stays alive
 * for first_contact_timeout_ms, then is failed: a node that just started, or a member just
 * added, may wait for the other side's connection (its redial backoff) before hearing
 * anything; Akka likewise judges nobody before a first heartbeat. 0; SYN_EINVAL (id 0);
 * SYN_EEXIST; SYN_EFULL (SYN_FD_MEMBERS_MAX members). */
int fd_add_member(struct fd *fd, uint64_t id, uint64_t now_ms);
/* Forgets member id. 0 or SYN_ENOENT. */
int fd_remove_member(struct fd *fd, uint64_t id);
bool fd_has_member(const struct fd *fd, uint64_t id);

/* Any message from member id arrived at now_ms: it is alive. Returns 1 when that changed its
 * state (suspect or failed -> alive; *event describes it), 0 when it was alive already,
 * SYN_ENOENT for an unknown member. */
int fd_heard(struct fd *fd, uint64_t id, uint64_t now_ms, struct fd_event *event);
/* A heartbeat from member id arrived at now_ms: as fd_heard(), and the time since its
 * previous heartbeat joins the window, unless the member was failed (the gap of a stop or a
 * restart says nothing about the link; Akka does the same). Only heartbeats feed the window:
 * other messages come at the rate of the traffic, not of the heartbeat timer. */
int fd_heartbeat(struct fd *fd, uint64_t id, uint64_t now_ms, struct fd_event *event);

/* Judges every member at now_ms: alive -> suspect once phi >= phi_suspect, -> failed once
 * phi >= phi_fail or it was silent for hard_timeout_ms (alive -> failed directly when the
 * tick comes late). Silence only grows between messages, so a tick never makes a member
 * better. Writes each change to events (room for SYN_FD_MEMBERS_MAX) and returns how many.
 *
 * A tick local_pause_ms or more after the previous one means this node itself did not run
 * (descheduled, stopped, a machine-wide stall): the silence it measures is partly its own,
 * and members frozen with it have not had a chance to send. Then nobody is made worse until
 * two heartbeat intervals have passed, time for what they send on waking to arrive.
 * Cassandra's FailureDetector does the same ("not marking nodes down due to local pause"). */
uint32_t fd_tick(struct fd *fd, uint64_t now_ms, struct fd_event *events);

/* Member id's state at now_ms (as of the last tick or message), phi and silence now.
 * 0 or SYN_ENOENT. */
int fd_status(const struct fd *fd, uint64_t id, uint64_t now_ms, struct fd_status *out);

/* phi of a silence of t_ms for a window of mean mean_ms and standard deviation std_dev_ms,
 * under cfg (the pause added to the mean, the floor under the deviation). Exposed for tests
 * and docs; monotonic in t_ms. */
double fd_phi(const struct fd_config *cfg, double t_ms, double mean_ms, double std_dev_ms);

/* "alive", "suspect", "failed". */
const char *fd_state_name(uint8_t state);

#endif
