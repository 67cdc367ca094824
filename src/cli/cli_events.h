/* cli_events.h: the pure half of `synod monitor`: a GET /v1/synod/events answer (a JSON array
 * of {"seq", "time_ms", "node", "kind", "text"}) read into structs, and each event shown as a
 * line for people, "2026-11-27T02:10:00.123Z n2 suspect: n3 (phi 6.1, last heard 900 ms ago)",
 * or as one JSON line for scripts. */
#ifndef SYN_CLI_CLI_EVENTS_H
#define SYN_CLI_CLI_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/limits.h"

#define CLI_EVENT_NAME_SIZE 32u /* a node's name or an event's kind, NUL included */

struct cli_event {
    uint64_t seq;
    uint64_t time_ms;
    char node[CLI_EVENT_NAME_SIZE];
    char kind[CLI_EVENT_NAME_SIZE];
    char text[SYN_NODE_EVENT_TEXT_SIZE_MAX]; /* cut to fit */
};

struct cli_events {
    struct cli_event *items; /* owned */
    uint32_t count;
};

/* Reads an answer into ev, in its order. 0, SYN_EBADMSG, SYN_ENOMEM; free ev either way. */
int cli_events_parse(const uint8_t *body, size_t size, struct cli_events *ev);
void cli_events_free(struct cli_events *ev);

/* One event as a line for people (bytes a terminal cannot show escaped), newline included. */
int cli_event_text(const struct cli_event *e, struct syn_buf *out);
/* One event as a JSON line: {"time", "time_ms", "node", "seq", "kind", "text"}. */
int cli_event_json(const struct cli_event *e, struct syn_buf *out);

#endif
