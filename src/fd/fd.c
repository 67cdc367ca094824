/* fd.c: the phi-accrual failure detector (fd.h). Hayashibara et al. 2004, with Akka's
 * logistic approximation, minimum standard deviation and acceptable pause. */
#include "fd/fd.h"

#include <math.h>
#include <string.h>

#include "base/assert.h"
#include "base/err.h"

#define FD_INTERVAL_MS_MAX 60000u
#define FD_PHI_MAX 100.0

_Static_assert(SYN_FD_WINDOW_MAX >= 2u, "a window holds the two seed samples");

/* Intervals are capped before they enter the window, so that a full window's sum of squares
 * fits 64 bits: SYN_FD_WINDOW_MAX * cap^2 < 2^64. */
#define FD_SAMPLE_MS_MAX 100000000u /* 27.8 hours */
_Static_assert((uint64_t)FD_SAMPLE_MS_MAX * FD_SAMPLE_MS_MAX <= UINT64_MAX / SYN_FD_WINDOW_MAX,
               "a full window of capped intervals fits the sum of squares");

void fd_config_default(struct fd_config *cfg)
{
    *cfg = (struct fd_config){
        .heartbeat_interval_ms = FD_HEARTBEAT_INTERVAL_MS_DEFAULT,
        .window_size = FD_WINDOW_SIZE_DEFAULT,
        .phi_suspect = FD_PHI_SUSPECT_DEFAULT,
        .phi_fail = FD_PHI_FAIL_DEFAULT,
        .min_std_dev_ms = FD_MIN_STD_DEV_MS_DEFAULT,
        .acceptable_pause_ms = FD_ACCEPTABLE_PAUSE_MS_DEFAULT,
        .hard_timeout_ms = FD_HARD_TIMEOUT_MS_DEFAULT,
        .first_contact_timeout_ms = FD_FIRST_CONTACT_TIMEOUT_MS_DEFAULT,
        .local_pause_ms = FD_LOCAL_PAUSE_MS_DEFAULT,
    };
}

int fd_config_check(const struct fd_config *cfg, const char **why)
{
    const char *bad = NULL;
    if (cfg->heartbeat_interval_ms == 0 || cfg->heartbeat_interval_ms > FD_INTERVAL_MS_MAX) {
        bad = "heartbeat interval: 1 .. 60000 ms";
    } else if (cfg->window_size < 2 || cfg->window_size > SYN_FD_WINDOW_MAX) {
        bad = "window size: 2 .. SYN_FD_WINDOW_MAX intervals";
    } else if (!(cfg->phi_suspect > 0.0)) { /* also refuses NaN */
        bad = "phi suspect threshold: above 0";
    } else if (!(cfg->phi_fail > cfg->phi_suspect) || !(cfg->phi_fail <= FD_PHI_MAX)) {
        bad = "phi fail threshold: above the suspect threshold, at most 100";
    } else if (cfg->min_std_dev_ms == 0 || cfg->min_std_dev_ms > FD_INTERVAL_MS_MAX) {
        bad = "minimum standard deviation: 1 .. 60000 ms";
    } else if (cfg->acceptable_pause_ms > FD_SAMPLE_MS_MAX) {
        bad = "acceptable pause: at most 100000000 ms";
    } else if (cfg->hard_timeout_ms <= cfg->heartbeat_interval_ms) {
        bad = "hard timeout: longer than the heartbeat interval";
    } else if (cfg->first_contact_timeout_ms < cfg->hard_timeout_ms) {
        bad = "first contact timeout: at least the hard timeout";
    }
    if (why != NULL) {
        *why = bad;
    }
    return bad == NULL ? 0 : SYN_EINVAL;
}

void fd_init(struct fd *fd, const struct fd_config *cfg)
{
    ASSERT(fd_config_check(cfg, NULL) == 0);
    memset(fd, 0, sizeof(*fd));
    fd->cfg = *cfg;
}

const char *fd_state_name(uint8_t state)
{
    switch (state) {
    case FD_ALIVE:
        return "alive";
    case FD_SUSPECT:
        return "suspect";
    case FD_FAILED:
        return "failed";
    default:
        return "unknown";
    }
}

/* ---- The window ------------------------------------------------------------------------ */

static void window_push(const struct fd *fd, struct fd_member *m, uint64_t interval_ms)
{
    uint32_t v = (uint32_t)(interval_ms < FD_SAMPLE_MS_MAX ? interval_ms : FD_SAMPLE_MS_MAX);
    uint32_t size = fd->cfg.window_size;
    if (m->count == size) {
        uint64_t old = m->intervals[m->head];
        ASSERT(m->sum >= old);
        ASSERT(m->sum_sq >= old * old);
        m->sum -= old;
        m->sum_sq -= old * old;
        m->intervals[m->head] = v;
        m->head = (m->head + 1) % size;
    } else {
        ASSERT(m->head == 0);
        m->intervals[m->count++] = v;
    }
    m->sum += v;
    m->sum_sq += (uint64_t)v * v;
}

static double window_mean(const struct fd_member *m)
{
    ASSERT(m->count > 0);
    return (double)m->sum / m->count;
}

/* Population standard deviation, as Akka's HeartbeatHistory computes it. */
static double window_std_dev(const struct fd_member *m)
{
    double mean = window_mean(m);
    double var = (double)m->sum_sq / m->count - mean * mean;
    return var > 0.0 ? sqrt(var) : 0.0; /* rounding may leave a tiny negative */
}

/* ---- phi ------------------------------------------------------------------------------- */

/* Akka's phi: y = (t - mean) / sd, P(later) ~ 1 / (1 + e^k) with k = y (1.5976 + 0.070566 y^2),
 * a logistic approximation of the normal tail (error below 1.4e-4, Bowling et al. 2009), so
 * phi = log10(1 + e^k). Written so that it neither overflows nor loses precision at either
 * end: for a large k, log(1 + e^k) = k + log(1 + e^-k). */
double fd_phi(const struct fd_config *cfg, double t_ms, double mean_ms, double std_dev_ms)
{
    double mean = mean_ms + cfg->acceptable_pause_ms;
    double sd = std_dev_ms > cfg->min_std_dev_ms ? std_dev_ms : (double)cfg->min_std_dev_ms;
    double y = (t_ms - mean) / sd;
    double k = y * (1.5976 + 0.070566 * y * y);
    double ln = k > 0.0 ? k + log1p(exp(-k)) : log1p(exp(k));
    return ln / log(10.0);
}

static double member_phi(const struct fd *fd, const struct fd_member *m, uint64_t silence_ms)
{
    return fd_phi(&fd->cfg, (double)silence_ms, window_mean(m), window_std_dev(m));
}

static uint64_t silence(const struct fd_member *m, uint64_t now_ms)
{
    return now_ms > m->last_heard_ms ? now_ms - m->last_heard_ms : 0; /* a clock never runs
                                                                         back, but be kind */
}

/* ---- Members --------------------------------------------------------------------------- */

static struct fd_member *find(const struct fd *fd, uint64_t id)
{
    for (uint32_t i = 0; i < fd->member_count; i++) {
        if (fd->members[i].id == id) {
            return (struct fd_member *)&fd->members[i];
        }
    }
    return NULL;
}

bool fd_has_member(const struct fd *fd, uint64_t id)
{
    return id != 0 && find(fd, id) != NULL;
}

int fd_add_member(struct fd *fd, uint64_t id, uint64_t now_ms)
{
    if (id == 0) {
        return SYN_EINVAL;
    }
    if (find(fd, id) != NULL) {
        return SYN_EEXIST;
    }
    if (fd->member_count == SYN_FD_MEMBERS_MAX) {
        return SYN_EFULL;
    }
    struct fd_member *m = &fd->members[fd->member_count++];
    memset(m, 0, sizeof(*m));
    m->id = id;
    m->state = FD_ALIVE;
    m->last_heard_ms = now_ms;
    m->last_heartbeat_ms = now_ms;
    uint32_t interval = fd->cfg.heartbeat_interval_ms;
    window_push(fd, m, interval - interval / 4);
    window_push(fd, m, interval + interval / 4);
    return 0;
}

int fd_remove_member(struct fd *fd, uint64_t id)
{
    struct fd_member *m = find(fd, id);
    if (m == NULL || id == 0) {
        return SYN_ENOENT;
    }
    struct fd_member *last = &fd->members[fd->member_count - 1];
    if (m != last) {
        memcpy(m, last, sizeof(*m));
    }
    fd->member_count--;
    return 0;
}

/* The member is heard: alive again if it was not. */
static int member_heard(struct fd_member *m, uint64_t now_ms, struct fd_event *event)
{
    uint64_t quiet = silence(m, now_ms);
    if (now_ms > m->last_heard_ms) {
        m->last_heard_ms = now_ms;
    }
    m->heard = true;
    if (m->state == FD_ALIVE) {
        return 0;
    }
    ASSERT(m->state == FD_SUSPECT || m->state == FD_FAILED);
    if (event != NULL) {
        *event = (struct fd_event){
            .id = m->id, .from = m->state, .to = FD_ALIVE, .phi = 0.0, .silence_ms = quiet};
    }
    m->state = FD_ALIVE;
    return 1;
}

int fd_heard(struct fd *fd, uint64_t id, uint64_t now_ms, struct fd_event *event)
{
    struct fd_member *m = id != 0 ? find(fd, id) : NULL;
    if (m == NULL) {
        return SYN_ENOENT;
    }
    return member_heard(m, now_ms, event);
}

int fd_heartbeat(struct fd *fd, uint64_t id, uint64_t now_ms, struct fd_event *event)
{
    struct fd_member *m = id != 0 ? find(fd, id) : NULL;
    if (m == NULL) {
        return SYN_ENOENT;
    }
    if (m->state != FD_FAILED && now_ms >= m->last_heartbeat_ms) {
        window_push(fd, m, now_ms - m->last_heartbeat_ms);
    }
    if (now_ms > m->last_heartbeat_ms || m->state == FD_FAILED) {
        m->last_heartbeat_ms = now_ms;
    }
    m->heartbeats++;
    return member_heard(m, now_ms, event);
}

/* The state member m deserves after silence_ms with suspicion phi: never better than now. */
static uint8_t judge(const struct fd *fd, const struct fd_member *m, uint64_t silence_ms,
                     double phi)
{
    uint8_t to = FD_ALIVE;
    if (!m->heard) {
        to = silence_ms >= fd->cfg.first_contact_timeout_ms ? FD_FAILED : FD_ALIVE;
    } else if (phi >= fd->cfg.phi_fail || silence_ms >= fd->cfg.hard_timeout_ms) {
        to = FD_FAILED;
    } else if (phi >= fd->cfg.phi_suspect) {
        to = FD_SUSPECT;
    }
    return to > m->state ? to : m->state;
}

/* Whether this tick follows a pause of this node; then, and for two intervals after, calm. */
static bool local_pause(struct fd *fd, uint64_t now_ms)
{
    uint32_t pause = fd->cfg.local_pause_ms;
    if (pause > 0 && fd->last_tick_ms != 0 && now_ms >= fd->last_tick_ms + pause) {
        fd->calm_until_ms = now_ms + 2ull * fd->cfg.heartbeat_interval_ms;
    }
    if (now_ms > fd->last_tick_ms) {
        fd->last_tick_ms = now_ms;
    }
    return now_ms < fd->calm_until_ms;
}

uint32_t fd_tick(struct fd *fd, uint64_t now_ms, struct fd_event *events)
{
    uint32_t count = 0;
    if (local_pause(fd, now_ms)) {
        return 0;
    }
    for (uint32_t i = 0; i < fd->member_count; i++) {
        struct fd_member *m = &fd->members[i];
        if (m->state == FD_FAILED) {
            continue; /* stays failed until heard */
        }
        uint64_t quiet = silence(m, now_ms);
        double phi = member_phi(fd, m, quiet);
        uint8_t to = judge(fd, m, quiet, phi);
        if (to == m->state) {
            continue;
        }
        /* The legal moves of a tick (STYLE 7): only ever worse. */
        ASSERT((m->state == FD_ALIVE && (to == FD_SUSPECT || to == FD_FAILED)) ||
               (m->state == FD_SUSPECT && to == FD_FAILED));
        events[count++] = (struct fd_event){
            .id = m->id, .from = m->state, .to = to, .phi = phi, .silence_ms = quiet};
        m->state = to;
    }
    ASSERT(count <= SYN_FD_MEMBERS_MAX);
    return count;
}

int fd_status(const struct fd *fd, uint64_t id, uint64_t now_ms, struct fd_status *out)
{
    const struct fd_member *m = id != 0 ? find(fd, id) : NULL;
    if (m == NULL) {
        return SYN_ENOENT;
    }
    uint64_t quiet = silence(m, now_ms);
    *out = (struct fd_status){
        .state = m->state,
        .phi = member_phi(fd, m, quiet),
        .silence_ms = quiet,
        .heartbeats = m->heartbeats,
        .mean_ms = window_mean(m),
        .std_dev_ms = window_std_dev(m),
        .samples = m->count,
    };
    return 0;
}
