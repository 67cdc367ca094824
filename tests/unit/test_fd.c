/* test_fd.c: the failure detector's core (src/fd): phi against values computed by hand (an
 * independent implementation of Akka's formula, in the comments), phi and the window's
 * statistics against naive versions on random inputs, the configuration's bounds, members'
 * bounds, every state transition with the exact tick it happens at, and recovery. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "base/err.h"
#include "base/prng.h"
#include "fd/fd.h"

static struct fd fd; /* 128 KiB: not on the stack */

/* The defaults, but without the local pause rule: these tests jump between ticks on purpose
 * (test_local_pause has the rule). */
static struct fd_config defaults(void)
{
    struct fd_config cfg;
    fd_config_default(&cfg);
    cfg.local_pause_ms = 0;
    return cfg;
}

/* Akka's PhiAccrualFailureDetector.phi, as written there (two branches, no care for
 * overflow): the naive version fd_phi() must agree with where this one is exact. */
static double naive_phi(double t, double mean, double sd)
{
    double y = (t - mean) / sd;
    double e = exp(-y * (1.5976 + 0.070566 * y * y));
    if (t > mean) {
        return -log10(e / (1.0 + e));
    }
    return -log10(1.0 - 1.0 / (1.0 + e));
}

/* ---- phi --------------------------------------------------------------------------------- */

static void test_phi_hand_values(void **state)
{
    (void)state;
    struct fd_config cfg = defaults();
    /* Defaults on a steady 100 ms link: mean 100 + pause 400 = 500, sd floor 200. Values by
     * python3: y = (t - 500) / 200; e = exp(-y * (1.5976 + 0.070566 * y * y));
     * phi = -log10(e / (1 + e)) (t > mean) or -log10(1 - 1 / (1 + e)). */
    static const struct {
        double t, phi;
    } cases[] = {
        {0, 0.0026487242},    {250, 0.0485448789},  {500, 0.3010299957},  {700, 0.7995083208},
        {1000, 2.2160712663}, {1111, 2.9938906979}, {1200, 3.7424450636}, {1500, 7.2999473945},
        {1544, 7.9808313574}, {1750, 11.8184676113}, {2000, 18.1326767801},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_float_equal(fd_phi(&cfg, cases[i].t, 100.0, 3.0), cases[i].phi, 1e-9);
    }
    /* No pause, floor 1 ms: the paper's setting. mean 1000, sd 100. */
    cfg.acceptable_pause_ms = 0;
    cfg.min_std_dev_ms = 1;
    assert_float_equal(fd_phi(&cfg, 1200, 1000, 100), 1.6428278855, 1e-9);
    assert_float_equal(fd_phi(&cfg, 1500, 1000, 100), 7.2999473945, 1e-9);
    assert_float_equal(fd_phi(&cfg, 1000, 1000, 100), log10(2.0), 1e-12);
}

/* Where the naive formula overflows or loses all precision, fd_phi() stays finite and
 * monotonic: a silence of a day is certain failure, not NaN. */
static void test_phi_extremes(void **state)
{
    (void)state;
    struct fd_config cfg = defaults();
    double far = fd_phi(&cfg, 86400000.0, 100, 0);
    assert_true(isfinite(far));
    assert_true(far > 1e6);
    double never = fd_phi(&cfg, -1e9, 100, 0);
    assert_true(isfinite(never));
    assert_true(never >= 0.0);
    assert_true(never < 1e-12);
    double prev = -1.0;
    for (double t = 0; t <= 100000; t += 7) {
        double phi = fd_phi(&cfg, t, 100, 0);
        assert_true(phi >= prev);
        prev = phi;
    }
}

/* Property: fd_phi() equals the naive formula wherever the naive one is exact. */
static void test_phi_matches_naive(void **state)
{
    (void)state;
    struct fd_config cfg = defaults();
    cfg.acceptable_pause_ms = 0;
    cfg.min_std_dev_ms = 1;
    struct prng p;
    prng_init(&p, 5);
    for (int i = 0; i < 100000; i++) {
        double mean = (double)prng_range(&p, 1, 5000);
        double sd = (double)prng_range(&p, 1, 2000);
        double t = (double)prng_range(&p, 0, 20000);
        double naive = naive_phi(t, mean, sd);
        if (!isfinite(naive) || naive > 250.0) {
            continue; /* e underflowed: the naive one is the broken one there */
        }
        double got = fd_phi(&cfg, t, mean, sd);
        assert_float_equal(got, naive, 1e-9 * (1.0 + naive));
    }
}

/* ---- Configuration --------------------------------------------------------------------- */

static void test_config_bounds(void **state)
{
    (void)state;
    struct fd_config ok = defaults();
    const char *why = "x";
    assert_int_equal(fd_config_check(&ok, &why), 0);
    assert_null(why);
    struct fd_config c;
#define REFUSED(field, value)                                                                      \
    do {                                                                                           \
        c = ok;                                                                                    \
        c.field = (value);                                                                         \
        assert_int_equal(fd_config_check(&c, &why), SYN_EINVAL);                                   \
        assert_non_null(why);                                                                      \
    } while (0)
    REFUSED(heartbeat_interval_ms, 0);
    REFUSED(heartbeat_interval_ms, 60001);
    REFUSED(window_size, 1);
    REFUSED(window_size, SYN_FD_WINDOW_MAX + 1);
    REFUSED(phi_suspect, 0.0);
    REFUSED(phi_suspect, NAN);
    REFUSED(phi_fail, ok.phi_suspect);
    REFUSED(phi_fail, 100.5);
    REFUSED(phi_fail, NAN);
    REFUSED(min_std_dev_ms, 0);
    REFUSED(acceptable_pause_ms, 100000001);
    REFUSED(hard_timeout_ms, ok.heartbeat_interval_ms);
    REFUSED(first_contact_timeout_ms, ok.hard_timeout_ms - 1);
#undef REFUSED
    c = ok;
    c.window_size = SYN_FD_WINDOW_MAX;
    c.hard_timeout_ms = c.heartbeat_interval_ms + 1;
    c.first_contact_timeout_ms = c.hard_timeout_ms;
    assert_int_equal(fd_config_check(&c, NULL), 0);
}

/* ---- Members --------------------------------------------------------------------------- */

static void test_member_bounds(void **state)
{
    (void)state;
    struct fd_config cfg = defaults();
    fd_init(&fd, &cfg);
    assert_int_equal(fd_add_member(&fd, 0, 0), SYN_EINVAL);
    for (uint64_t id = 1; id <= SYN_FD_MEMBERS_MAX; id++) {
        assert_int_equal(fd_add_member(&fd, id * 10, 0), 0);
    }
    assert_int_equal(fd_add_member(&fd, 10, 0), SYN_EEXIST);
    assert_int_equal(fd_add_member(&fd, 7, 0), SYN_EFULL);
    assert_int_equal(fd_remove_member(&fd, 7), SYN_ENOENT);
    assert_int_equal(fd_remove_member(&fd, 0), SYN_ENOENT);
    /* A member heard late keeps its own state when another is removed. */
    assert_int_equal(fd_heard(&fd, 50, 1000, NULL), 0);
    assert_int_equal(fd_remove_member(&fd, 20), 0);
    assert_false(fd_has_member(&fd, 20));
    assert_true(fd_has_member(&fd, 50));
    assert_false(fd_has_member(&fd, 0));
    struct fd_status st;
    assert_int_equal(fd_status(&fd, 50, 1500, &st), 0);
    assert_int_equal(st.silence_ms, 500);
    assert_int_equal(fd_status(&fd, 20, 1500, &st), SYN_ENOENT);
    assert_int_equal(fd_heard(&fd, 20, 1500, NULL), SYN_ENOENT);
    assert_int_equal(fd_heartbeat(&fd, 20, 1500, NULL), SYN_ENOENT);
    assert_int_equal(fd_add_member(&fd, 7, 0), 0); /* room again */
    struct fd_event events[SYN_FD_MEMBERS_MAX];
    /* 50, heard at 1000, fails at the usual silence; the others, never heard, only at the
     * first contact timeout, all in one tick. */
    assert_int_equal(fd_tick(&fd, 2600, events), 1);
    assert_int_equal(events[0].id, 50);
    assert_int_equal(fd_tick(&fd, 4999, events), 0);
    assert_int_equal(fd_tick(&fd, 5000, events), SYN_FD_MEMBERS_MAX - 1);
}

static void test_state_names(void **state)
{
    (void)state;
    assert_string_equal(fd_state_name(FD_ALIVE), "alive");
    assert_string_equal(fd_state_name(FD_SUSPECT), "suspect");
    assert_string_equal(fd_state_name(FD_FAILED), "failed");
    assert_string_equal(fd_state_name(0), "unknown");
}

/* ---- The window ------------------------------------------------------------------------ */

static void test_window_statistics(void **state)
{
    (void)state;
    struct fd_config cfg = defaults();
    cfg.window_size = 4;
    fd_init(&fd, &cfg);
    assert_int_equal(fd_add_member(&fd, 1, 0), 0);
    struct fd_status st;
    assert_int_equal(fd_status(&fd, 1, 0, &st), 0);
    assert_int_equal(st.samples, 2); /* the seed: 75 and 125 */
    assert_float_equal(st.mean_ms, 100.0, 1e-12);
    assert_float_equal(st.std_dev_ms, 25.0, 1e-12);
    /* Intervals 50, 150, 50, 150: the seed is gone, mean 100, sd 50. */
    uint64_t t = 0;
    for (int i = 0; i < 4; i++) {
        t += i % 2 == 0 ? 50 : 150;
        assert_int_equal(fd_heartbeat(&fd, 1, t, NULL), 0);
    }
    assert_int_equal(fd_status(&fd, 1, t, &st), 0);
    assert_int_equal(st.samples, 4);
    assert_int_equal(st.heartbeats, 4);
    assert_float_equal(st.mean_ms, 100.0, 1e-12);
    assert_float_equal(st.std_dev_ms, 50.0, 1e-12);
    /* Four of 100: sd 0 (the floor applies in phi). */
    for (int i = 0; i < 4; i++) {
        t += 100;
        fd_heartbeat(&fd, 1, t, NULL);
    }
    assert_int_equal(fd_status(&fd, 1, t + 1000, &st), 0);
    assert_float_equal(st.std_dev_ms, 0.0, 1e-12);
    assert_float_equal(st.phi, fd_phi(&cfg, 1000, 100, 200), 1e-12);
    /* Other messages refresh the silence, not the window. */
    assert_int_equal(fd_heard(&fd, 1, t + 50, NULL), 0);
    assert_int_equal(fd_status(&fd, 1, t + 60, &st), 0);
    assert_int_equal(st.silence_ms, 10);
    assert_int_equal(st.heartbeats, 8);
    assert_float_equal(st.mean_ms, 100.0, 1e-12);
    /* The next heartbeat's interval counts from the last heartbeat. */
    fd_heartbeat(&fd, 1, t + 100, NULL);
    assert_int_equal(fd_status(&fd, 1, t + 100, &st), 0);
    assert_float_equal(st.mean_ms, 100.0, 1e-12);
}

/* Property: the ring's running mean and deviation equal a naive recomputation. */
static void test_window_matches_naive(void **state)
{
    (void)state;
    struct prng p;
    prng_init(&p, 77);
    for (int round = 0; round < 40; round++) {
        struct fd_config cfg = defaults();
        cfg.window_size = (uint32_t)prng_range(&p, 2, SYN_FD_WINDOW_MAX);
        cfg.hard_timeout_ms = 60000000;
        cfg.first_contact_timeout_ms = cfg.hard_timeout_ms;
        fd_init(&fd, &cfg);
        assert_int_equal(fd_add_member(&fd, 9, 0), 0);
        static double shadow[SYN_FD_WINDOW_MAX * 3 + 2];
        uint32_t n = 0;
        shadow[n++] = 75;
        shadow[n++] = 125;
        uint64_t t = 0;
        uint32_t pushes = (uint32_t)prng_range(&p, 1, cfg.window_size * 3);
        for (uint32_t i = 0; i < pushes; i++) {
            uint64_t gap = prng_range(&p, 0, 3000);
            t += gap;
            fd_heartbeat(&fd, 9, t, NULL);
            shadow[n++] = (double)gap;
        }
        uint32_t from = n > cfg.window_size ? n - cfg.window_size : 0;
        double sum = 0;
        for (uint32_t i = from; i < n; i++) {
            sum += shadow[i];
        }
        double mean = sum / (n - from);
        double var = 0;
        for (uint32_t i = from; i < n; i++) {
            var += (shadow[i] - mean) * (shadow[i] - mean);
        }
        double sd = sqrt(var / (n - from));
        struct fd_status st;
        assert_int_equal(fd_status(&fd, 9, t, &st), 0);
        assert_int_equal(st.samples, n - from);
        assert_float_equal(st.mean_ms, mean, 1e-9 * mean + 1e-9);
        assert_float_equal(st.std_dev_ms, sd, 1e-6 * (sd + 1.0));
    }
}

/* ---- Transitions ----------------------------------------------------------------------- */

/* A member with a steady 100 ms history up to t_ms. */
static void steady(uint64_t id, uint64_t t_ms)
{
    struct fd_config cfg = defaults();
    fd_init(&fd, &cfg);
    assert_int_equal(fd_add_member(&fd, id, 0), 0);
    for (uint64_t t = 100; t <= t_ms; t += 100) {
        assert_int_equal(fd_heartbeat(&fd, id, t, NULL), 0);
    }
}

/* Ticks every step_ms from from_ms until the member reaches state; returns the tick's time
 * and the event. */
static uint64_t tick_until(uint64_t from_ms, uint64_t step_ms, uint8_t state,
                           struct fd_event *event)
{
    struct fd_event events[SYN_FD_MEMBERS_MAX];
    for (uint64_t t = from_ms; t < from_ms + 100000; t += step_ms) {
        uint32_t n = fd_tick(&fd, t, events);
        assert_true(n <= 1);
        if (n == 1 && events[0].to == state) {
            *event = events[0];
            return t;
        }
    }
    fail_msg("never reached state %u", state);
    return 0;
}

/* On a steady link, at the defaults: suspect at 1112 ms of silence (phi 3), failed at 1546
 * (phi 8): the first whole ms where phi passes each threshold (the table above). */
static void test_steady_link_transitions(void **state)
{
    (void)state;
    steady(2, 30000); /* 300 intervals of 100 ms: the seed has left the window */
    struct fd_event ev = {0};
    uint64_t at = tick_until(30001, 1, FD_SUSPECT, &ev);
    assert_int_equal(at - 30000, 1112);
    assert_int_equal(ev.id, 2);
    assert_int_equal(ev.from, FD_ALIVE);
    assert_int_equal(ev.silence_ms, 1112);
    assert_true(ev.phi >= 3.0 && ev.phi < 3.01);
    at = tick_until(at, 1, FD_FAILED, &ev);
    assert_int_equal(at - 30000, 1546);
    assert_int_equal(ev.from, FD_SUSPECT);
    assert_true(ev.phi >= 8.0 && ev.phi < 8.02);
    struct fd_status st;
    assert_int_equal(fd_status(&fd, 2, at + 5000, &st), 0);
    assert_int_equal(st.state, FD_FAILED);
    assert_int_equal(st.silence_ms, 6546);
    struct fd_event events[SYN_FD_MEMBERS_MAX];
    assert_int_equal(fd_tick(&fd, at + 5000, events), 0); /* failed stays failed, quietly */
}

/* A tick that comes late moves alive -> failed in one event. */
static void test_late_tick_fails_directly(void **state)
{
    (void)state;
    steady(3, 5000);
    struct fd_event events[SYN_FD_MEMBERS_MAX];
    assert_int_equal(fd_tick(&fd, 5500, events), 0);
    assert_int_equal(fd_tick(&fd, 7000, events), 1);
    assert_int_equal(events[0].from, FD_ALIVE);
    assert_int_equal(events[0].to, FD_FAILED);
    assert_int_equal(events[0].silence_ms, 2000);
}

/* With the default local pause rule: a tick 500 ms or more after the previous one means this
 * node did not run, and nobody is made worse for two intervals; then the judgement resumes
 * (here alive -> failed at once). Ticks closer together never pause anything. */
static void test_local_pause(void **state)
{
    (void)state;
    steady(3, 5000);
    struct fd_config cfg;
    fd_config_default(&cfg);
    fd.cfg = cfg; /* the rule on, the same window */
    struct fd_event events[SYN_FD_MEMBERS_MAX];
    assert_int_equal(fd_tick(&fd, 5500, events), 0); /* the first tick: no pause before it */
    assert_int_equal(fd_tick(&fd, 6000, events), 0); /* 500 ms: a pause, calm until 6200 */
    assert_int_equal(fd_tick(&fd, 6199, events), 0);
    assert_int_equal(fd_tick(&fd, 6200, events), 1); /* calm over: 1200 ms of silence */
    assert_int_equal(events[0].to, FD_SUSPECT);
    assert_int_equal(fd_tick(&fd, 7000, events), 0); /* a pause again: calm until 7200 */
    assert_int_equal(fd_heartbeat(&fd, 3, 7010, NULL), 1); /* what it sent on waking */
    /* Silent since 7010, ticks every 50 ms: suspect, then failed; a little later than on a
     * steady link (its 2 s interval, counted while suspect, widened the window), and failed
     * by the first tick past the hard timeout at the latest. */
    uint64_t suspect_ms = 0;
    uint64_t t = 7050;
    for (; t < 20000; t += 50) {
        if (fd_tick(&fd, t, events) == 1 && events[0].to == FD_SUSPECT) {
            suspect_ms = t - 7010;
        }
        struct fd_status st;
        assert_int_equal(fd_status(&fd, 3, t, &st), 0);
        if (st.state == FD_FAILED) {
            break;
        }
    }
    assert_true(suspect_ms >= 1112);
    assert_true(t - 7010 > suspect_ms);
    assert_true(t - 7010 <= FD_HARD_TIMEOUT_MS_DEFAULT + 50);
    /* A pause while it was silent anyway: judged 2 intervals after waking. */
    assert_int_equal(fd_heard(&fd, 3, 9000, NULL), 1);
    assert_int_equal(fd_tick(&fd, 9050, events), 0);
    assert_int_equal(fd_tick(&fd, 11000, events), 0);
    assert_int_equal(fd_tick(&fd, 11200, events), 1);
    assert_int_equal(events[0].from, FD_ALIVE);
    assert_int_equal(events[0].to, FD_FAILED);
    assert_int_equal(events[0].silence_ms, 2200);
}

/* Any word brings a member back; the gap of its failure does not enter the window. */
static void test_recovery(void **state)
{
    (void)state;
    steady(4, 30000);
    struct fd_event ev = {0};
    tick_until(30010, 10, FD_FAILED, &ev);
    struct fd_status before;
    assert_int_equal(fd_status(&fd, 4, 40000, &before), 0);
    assert_int_equal(fd_heartbeat(&fd, 4, 40000, &ev), 1);
    assert_int_equal(ev.from, FD_FAILED);
    assert_int_equal(ev.to, FD_ALIVE);
    assert_int_equal(ev.silence_ms, 10000);
    struct fd_status st;
    assert_int_equal(fd_status(&fd, 4, 40000, &st), 0);
    assert_int_equal(st.state, FD_ALIVE);
    assert_float_equal(st.mean_ms, before.mean_ms, 1e-12); /* no 10 s sample */
    assert_int_equal(fd_heartbeat(&fd, 4, 40100, &ev), 0);
    assert_float_equal(fd_status(&fd, 4, 40100, &st) == 0 ? st.mean_ms : -1, 100.0, 1e-12);

    /* suspect -> alive by any message (a Raft frame), and the suspicion starts over. */
    tick_until(40200, 10, FD_SUSPECT, &ev);
    assert_int_equal(fd_heard(&fd, 4, 41300, &ev), 1);
    assert_int_equal(ev.from, FD_SUSPECT);
    assert_int_equal(ev.to, FD_ALIVE);
    assert_int_equal(ev.silence_ms, 1200);
    struct fd_event events[SYN_FD_MEMBERS_MAX];
    assert_int_equal(fd_tick(&fd, 41300 + 1111, events), 0);
    assert_int_equal(fd_tick(&fd, 41300 + 1112, events), 1);
    assert_int_equal(events[0].to, FD_SUSPECT);
    /* A heartbeat while suspect counts its long interval: that is the adaptation. */
    assert_int_equal(fd_heartbeat(&fd, 4, 41300 + 1200, &ev), 1);
    assert_int_equal(fd_status(&fd, 4, 42500, &st), 0);
    assert_true(st.mean_ms > 100.0);
}

/* The hard timeout fails a member whose window has grown so wide that phi stays low. */
static void test_hard_timeout(void **state)
{
    (void)state;
    struct fd_config cfg = defaults();
    fd_init(&fd, &cfg);
    assert_int_equal(fd_add_member(&fd, 5, 0), 0);
    uint64_t t = 0;
    for (int i = 0; i < 300; i++) { /* intervals of 100 and 1000 ms: sd 450 */
        t += i % 2 == 0 ? 100 : 1000;
        fd_heartbeat(&fd, 5, t, NULL);
    }
    struct fd_status st;
    assert_int_equal(fd_status(&fd, 5, t + 1749, &st), 0);
    assert_true(st.phi < cfg.phi_fail);
    struct fd_event events[SYN_FD_MEMBERS_MAX];
    uint32_t n = fd_tick(&fd, t + 1749, events);
    assert_true(n == 0 || events[0].to == FD_SUSPECT);
    assert_int_equal(fd_tick(&fd, t + 1750, events), 1);
    assert_int_equal(events[0].to, FD_FAILED);
    assert_true(events[0].phi < cfg.phi_fail);
}

/* A member never heard from since it was added is never suspect, and fails at the first
 * contact timeout; once heard, the usual silence (the seeded window) applies. */
static void test_never_heard(void **state)
{
    (void)state;
    struct fd_config cfg = defaults();
    fd_init(&fd, &cfg);
    assert_int_equal(fd_add_member(&fd, 6, 1000), 0);
    struct fd_event ev = {0};
    assert_int_equal(tick_until(1001, 1, FD_FAILED, &ev) - 1000, 5000);
    assert_int_equal(ev.from, FD_ALIVE);
    assert_int_equal(fd_heard(&fd, 6, 7000, &ev), 1);
    assert_int_equal(tick_until(7001, 1, FD_FAILED, &ev) - 7000, 1546);
    assert_int_equal(ev.from, FD_SUSPECT);
}

/* A clock that steps back (never from uv_now, but the core takes what it is given) is
 * silence 0, not a huge unsigned one. */
static void test_time_before_last_heard(void **state)
{
    (void)state;
    steady(7, 1000);
    struct fd_status st;
    assert_int_equal(fd_status(&fd, 7, 500, &st), 0);
    assert_int_equal(st.silence_ms, 0);
    assert_int_equal(fd_heartbeat(&fd, 7, 900, NULL), 0);
    assert_int_equal(fd_status(&fd, 7, 1000, &st), 0);
    assert_int_equal(st.silence_ms, 0);
    struct fd_event events[SYN_FD_MEMBERS_MAX];
    assert_int_equal(fd_tick(&fd, 400, events), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_phi_hand_values),
        cmocka_unit_test(test_phi_extremes),
        cmocka_unit_test(test_phi_matches_naive),
        cmocka_unit_test(test_config_bounds),
        cmocka_unit_test(test_member_bounds),
        cmocka_unit_test(test_state_names),
        cmocka_unit_test(test_window_statistics),
        cmocka_unit_test(test_window_matches_naive),
        cmocka_unit_test(test_steady_link_transitions),
        cmocka_unit_test(test_late_tick_fails_directly),
        cmocka_unit_test(test_local_pause),
        cmocka_unit_test(test_recovery),
        cmocka_unit_test(test_hard_timeout),
        cmocka_unit_test(test_never_heard),
        cmocka_unit_test(test_time_before_last_heard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
