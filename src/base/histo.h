/* histo.h: a latency histogram with fixed bounds, as Prometheus exposes one (cumulative
 * buckets, a count and a sum). Pure: the caller measures and adds the durations. */
#ifndef SYN_BASE_HISTO_H
#define SYN_BASE_HISTO_H

#include <stdint.h>

/* Upper bounds of the buckets, in microseconds: 100 us to 4 s, then +Inf. */
#define SYN_HISTO_BOUNDS 16u
extern const uint32_t syn_histo_bounds_us[SYN_HISTO_BOUNDS];

struct syn_histo {
    uint64_t le[SYN_HISTO_BOUNDS]; /* observations <= bound i (not cumulative here) */
    uint64_t count;                /* all observations, +Inf included */
    uint64_t sum_ns;
};

void syn_histo_add(struct syn_histo *h, uint64_t ns);

#endif
