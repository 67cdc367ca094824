/* sim_trace.h: the readable timeline of a run (`synod sim --trace`): one line per event a
 * person learning Raft cares about, prefixed by simulated time and who did it. */
#ifndef SYN_SIM_TRACE_H
#define SYN_SIM_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct sim;

struct raft_entry;

/* "entries 11..12 (term 5..5)", or "no entries". */
void sim_entries_text(const struct raft_entry *entries, uint32_t count, char *out, size_t size);
/* True when the run is traced: callers skip building lines nobody reads. */
bool sim_tracing(const struct sim *sim);
/* Prints "  1.230s  n2  <text>". who is "n2", "c1", "net" or "--". */
void sim_trace(const struct sim *sim, const char *who, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same, with the node id as who. */
void sim_trace_node(const struct sim *sim, uint64_t node_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
