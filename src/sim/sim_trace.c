/* sim_trace.c: formats timeline lines. */
#include "sim/sim_trace.h"

#include <stdarg.h>

#include "raft/raft.h"

#include "sim/sim_world.h"

void sim_entries_text(const struct raft_entry *entries, uint32_t count, char *out, size_t size)
{
    if (count == 0) {
        snprintf(out, size, "no entries");
        return;
    }
    snprintf(out, size, "entries %llu..%llu (term %llu..%llu)",
             (unsigned long long)entries[0].index, (unsigned long long)entries[count - 1].index,
             (unsigned long long)entries[0].term, (unsigned long long)entries[count - 1].term);
}

bool sim_tracing(const struct sim *sim)
{
    return sim->options.trace != NULL;
}

static void trace_line(const struct sim *sim, const char *who, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void trace_line(const struct sim *sim, const char *who, const char *fmt, va_list ap)
{
    char text[SIM_TRACE_LINE_MAX];
    vsnprintf(text, sizeof(text), fmt, ap);
    uint64_t ms = sim->now_us / 1000u;
    fprintf(sim->options.trace, "%5llu.%03llus  %-3s  %s\n", (unsigned long long)(ms / 1000u),
            (unsigned long long)(ms % 1000u), who, text);
}

void sim_trace(const struct sim *sim, const char *who, const char *fmt, ...)
{
    if (!sim_tracing(sim)) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    trace_line(sim, who, fmt, ap);
    va_end(ap);
}

void sim_trace_node(const struct sim *sim, uint64_t node_id, const char *fmt, ...)
{
    if (!sim_tracing(sim)) {
        return;
    }
    char who[8];
    snprintf(who, sizeof(who), "n%llu", (unsigned long long)node_id);
    va_list ap;
    va_start(ap, fmt);
    trace_line(sim, who, fmt, ap);
    va_end(ap);
}
