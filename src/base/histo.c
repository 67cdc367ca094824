/* histo.c: fixed-bound latency histograms (histo.h). */
#include "base/histo.h"

/* Disk latency spans from a fast NVMe fsync (~50 us) to a stalled disk (seconds). */
const uint32_t syn_histo_bounds_us[SYN_HISTO_BOUNDS] = {
    100,   250,    500,    1000,   2000,    4000,    8000,    16000,
    32000, 64000, 128000, 256000, 512000, 1024000, 2048000, 4096000,
};

void syn_histo_add(struct syn_histo *h, uint64_t ns)
{
    h->count++;
    h->sum_ns += ns;
    for (uint32_t i = 0; i < SYN_HISTO_BOUNDS; i++) {
        if (ns <= (uint64_t)syn_histo_bounds_us[i] * 1000u) {
            h->le[i]++;
            return;
        }
    }
}
