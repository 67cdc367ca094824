/* cli_events.c: events answers read and shown (cli_events.h). */
#include "cli/cli_events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/json.h"
#include "base/err.h"
#include "cli/cli_json.h"
#include "cli/cli_out.h"
#include "cli/cli_time.h"

static int event_read(const struct cli_json *j, uint32_t e, void *item)
{
    struct cli_event *ev = item;
    bool ok = cli_json_u64(j, cli_json_get(j, e, "seq"), &ev->seq) &&
              cli_json_u64(j, cli_json_get(j, e, "time_ms"), &ev->time_ms) &&
              cli_json_member_text(j, e, "node", ev->node, sizeof(ev->node)) &&
              cli_json_member_text(j, e, "kind", ev->kind, sizeof(ev->kind)) &&
              cli_json_member_text(j, e, "text", ev->text, sizeof(ev->text));
    return ok ? 0 : SYN_EBADMSG;
}

int cli_events_parse(const uint8_t *body, size_t size, struct cli_events *ev)
{
    void *items = NULL;
    int rc = cli_json_read_array(body, size, sizeof(*ev->items), event_read, &items, &ev->count);
    ev->items = items;
    return rc;
}

void cli_events_free(struct cli_events *ev)
{
    free(ev->items);
    *ev = (struct cli_events){0};
}

int cli_event_text(const struct cli_event *e, struct syn_buf *out)
{
    char time[CLI_TIME_SIZE];
    cli_time_format(e->time_ms, time);
    size_t start = out->len;
    int rc = syn_buf_append(out, time, strlen(time));
    const char *parts[] = {" ", e->node, " ", e->kind, ": "};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]) && rc == 0; i++) {
        rc = i % 2 == 1 ? cli_out_escape(out, (const uint8_t *)parts[i], strlen(parts[i]))
                        : syn_buf_append(out, parts[i], strlen(parts[i]));
    }
    rc = rc == 0 ? cli_out_escape(out, (const uint8_t *)e->text, strlen(e->text)) : rc;
    rc = rc == 0 ? syn_buf_append(out, "\n", 1) : rc;
    if (rc != 0) {
        out->len = start;
    }
    return rc;
}

int cli_event_json(const struct cli_event *e, struct syn_buf *out)
{
    char time[CLI_TIME_SIZE];
    cli_time_format(e->time_ms, time);
    struct json_obj o;
    json_obj_begin(&o, out);
    json_obj_str(&o, "time", time);
    json_obj_u64(&o, "time_ms", e->time_ms);
    json_obj_str(&o, "node", e->node);
    json_obj_u64(&o, "seq", e->seq);
    json_obj_str(&o, "kind", e->kind);
    json_obj_str(&o, "text", e->text);
    int rc = json_obj_end(&o);
    return rc == 0 ? syn_buf_append(out, "\n", 1) : rc;
}
