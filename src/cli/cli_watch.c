/* cli_watch.c: a service's changes between two answers, and how synod watch shows them
 * (cli_watch.h). */
#include "cli/cli_watch.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/json.h"
#include "base/err.h"
#include "cli/cli_time.h"

#define CLI_WATCH_OUTPUT_MAX 160u /* a check's output quoted in a change line */

uint32_t cli_watch_diff(const struct cli_health *before, const struct cli_health *after,
                        struct cli_watch_change *out, uint32_t max)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < after->count && n < max; i++) {
        const struct cli_instance *a = &after->items[i];
        const struct cli_instance *b = cli_health_find(before, a->node, a->id);
        if (b == NULL || strcmp(a->status, b->status) != 0) {
            out[n++] = (struct cli_watch_change){.before = b, .after = a};
        }
    }
    for (uint32_t i = 0; i < before->count && n < max; i++) {
        const struct cli_instance *b = &before->items[i];
        if (cli_health_find(after, b->node, b->id) == NULL) {
            out[n++] = (struct cli_watch_change){.before = b, .after = NULL};
        }
    }
    return n;
}

__attribute__((format(printf, 3, 4))) static void line_add(struct syn_buf *out, int *rc,
                                                           const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
    *rc = *rc == 0 ? syn_buf_append(out, line, len) : *rc;
}

/* " (why)" for an instance: its reason check's output, one short line; "" when none. */
static void why(const struct cli_instance *in, char *out, size_t size)
{
    const struct cli_check *ck = cli_health_reason(in);
    char text[CLI_WATCH_OUTPUT_MAX + 8];
    cli_health_output_line(ck != NULL ? ck->output : "", CLI_WATCH_OUTPUT_MAX, text, sizeof(text));
    snprintf(out, size, "%s%s%s", text[0] != '\0' ? " (" : "", text, text[0] != '\0' ? ")" : "");
}

static void change_text(const struct cli_watch_block *b, const struct cli_watch_change *c,
                        struct syn_buf *out, int *rc)
{
    char reason[CLI_WATCH_OUTPUT_MAX + 16] = "";
    if (c->after != NULL) {
        why(c->after, reason, sizeof(reason));
    }
    if (c->before != NULL && c->after != NULL) {
        line_add(out, rc, "  %s %s -> %s%s\n", c->after->id, c->before->status, c->after->status,
                 reason);
    } else if (c->after != NULL && b->passing) {
        line_add(out, rc, "  %s is passing (on %s at %s:%llu)\n", c->after->id, c->after->node,
                 c->after->address, (unsigned long long)c->after->port);
    } else if (c->after != NULL) {
        line_add(out, rc, "  %s registered on %s at %s:%llu: %s%s\n", c->after->id, c->after->node,
                 c->after->address, (unsigned long long)c->after->port, c->after->status, reason);
    } else if (b->passing) {
        line_add(out, rc, "  %s is no longer passing\n", c->before->id);
    } else {
        line_add(out, rc, "  %s deregistered (was %s)\n", c->before->id, c->before->status);
    }
}

int cli_watch_text(const struct cli_watch_block *b, struct syn_buf *out)
{
    char time[CLI_TIME_SIZE];
    cli_time_format(b->time_ms, time);
    int rc = 0;
    const struct cli_health *h = b->now;
    uint32_t healthy = cli_health_passing(h);
    line_add(out, &rc, "%s %s at index %llu: %u of %u instance%s healthy", time, b->service,
             (unsigned long long)b->index, healthy, h->count, h->count == 1 ? "" : "s");
    const char *sep = " (";
    for (uint32_t i = 0; i < h->count; i++) {
        if (strcmp(h->items[i].status, "passing") == 0) {
            line_add(out, &rc, "%s%s", sep, h->items[i].id);
            sep = ", ";
        }
    }
    line_add(out, &rc, "%s\n", healthy > 0 ? ")" : "");
    for (uint32_t i = 0; b->first && i < h->count; i++) {
        const struct cli_instance *in = &h->items[i];
        char reason[CLI_WATCH_OUTPUT_MAX + 16];
        why(in, reason, sizeof(reason));
        line_add(out, &rc, "  %s on %s at %s:%llu: %s%s\n", in->id, in->node, in->address,
                 (unsigned long long)in->port, in->status, reason);
    }
    for (uint32_t i = 0; !b->first && i < b->change_count; i++) {
        change_text(b, &b->changes[i], out, &rc);
    }
    return rc;
}

static const char *output_of(const struct cli_instance *in)
{
    const struct cli_check *ck = in != NULL ? cli_health_reason(in) : NULL;
    return ck != NULL ? ck->output : "";
}

static void instance_json(struct syn_buf *out, const struct cli_instance *in, int *rc)
{
    struct json_obj o;
    json_obj_begin(&o, out);
    json_obj_str(&o, "node", in->node);
    json_obj_str(&o, "id", in->id);
    json_obj_str(&o, "address", in->address);
    json_obj_u64(&o, "port", in->port);
    json_obj_str(&o, "status", in->status);
    json_obj_str(&o, "output", output_of(in));
    *rc = *rc == 0 ? json_obj_end(&o) : *rc;
}

static void change_json(struct syn_buf *out, const struct cli_watch_change *c, int *rc)
{
    const struct cli_instance *in = c->after != NULL ? c->after : c->before;
    struct json_obj o;
    json_obj_begin(&o, out);
    json_obj_str(&o, "node", in->node);
    json_obj_str(&o, "id", in->id);
    if (c->before != NULL) {
        json_obj_str(&o, "from", c->before->status);
    } else {
        json_obj_null(&o, "from");
    }
    if (c->after != NULL) {
        json_obj_str(&o, "to", c->after->status);
    } else {
        json_obj_null(&o, "to");
    }
    json_obj_str(&o, "output", output_of(c->after));
    *rc = *rc == 0 ? json_obj_end(&o) : *rc;
}

int cli_watch_json(const struct cli_watch_block *b, struct syn_buf *out)
{
    char time[CLI_TIME_SIZE];
    cli_time_format(b->time_ms, time);
    struct json_obj o;
    json_obj_begin(&o, out);
    json_obj_str(&o, "time", time);
    json_obj_u64(&o, "time_ms", b->time_ms);
    json_obj_str(&o, "service", b->service);
    json_obj_u64(&o, "index", b->index);
    json_obj_bool(&o, "start", b->first);
    json_obj_u64(&o, "healthy", cli_health_passing(b->now));
    if (json_obj_key(&o, "instances")) {
        o.rc = syn_buf_append(out, "[", 1);
        for (uint32_t i = 0; i < b->now->count && o.rc == 0; i++) {
            o.rc = i > 0 ? syn_buf_append(out, ",", 1) : 0;
            instance_json(out, &b->now->items[i], &o.rc);
        }
        o.rc = o.rc == 0 ? syn_buf_append(out, "]", 1) : o.rc;
    }
    if (json_obj_key(&o, "changes")) {
        o.rc = syn_buf_append(out, "[", 1);
        for (uint32_t i = 0; i < b->change_count && o.rc == 0; i++) {
            o.rc = i > 0 ? syn_buf_append(out, ",", 1) : 0;
            change_json(out, &b->changes[i], &o.rc);
        }
        o.rc = o.rc == 0 ? syn_buf_append(out, "]", 1) : o.rc;
    }
    int rc = json_obj_end(&o);
    return rc == 0 ? syn_buf_append(out, "\n", 1) : rc;
}
