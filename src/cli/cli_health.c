/* cli_health.c: health answers read and shown (cli_health.h). */
#include "cli/cli_health.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cli/cli_json.h"
#include "cli/cli_out.h"

#define CLI_HEALTH_SHOW_OUTPUT_MAX 72u /* output shown in a table cell */

/* Consul's order of badness: an unknown status counts as critical. */
static int status_rank(const char *s)
{
    return strcmp(s, "passing") == 0 ? 0 : strcmp(s, "warning") == 0 ? 1 : 2;
}

static const char *const status_names[] = {"passing", "warning", "critical"};

static int instance_read(const struct cli_json *j, uint32_t e, void *item)
{
    struct cli_instance *in = item;
    uint32_t node = cli_json_get(j, e, "Node");
    uint32_t svc = cli_json_get(j, e, "Service");
    uint32_t checks = cli_json_get(j, e, "Checks");
    char node_addr[REG_ADDRESS_SIZE_MAX + 1];
    bool ok = cli_json_type(j, svc) == CLI_JSON_OBJECT &&
              cli_json_member_text(j, node, "Node", in->node, sizeof(in->node)) &&
              cli_json_member_text(j, node, "Address", node_addr, sizeof(node_addr)) &&
              cli_json_member_text(j, svc, "ID", in->id, sizeof(in->id)) &&
              cli_json_member_text(j, svc, "Address", in->address, sizeof(in->address));
    uint32_t port = cli_json_get(j, svc, "Port");
    ok = ok && (port == CLI_JSON_NONE || cli_json_u64(j, port, &in->port));
    if (!ok || (checks != CLI_JSON_NONE && cli_json_type(j, checks) != CLI_JSON_ARRAY)) {
        return SYN_EBADMSG;
    }
    if (in->address[0] == '\0') {
        snprintf(in->address, sizeof(in->address), "%s", node_addr);
    }
    int worst = 0;
    for (uint32_t c = cli_json_first(j, checks); c != CLI_JSON_NONE;
         c = cli_json_next(j, checks, c)) {
        if (in->check_count == CLI_HEALTH_CHECKS_MAX) {
            return SYN_EBADMSG;
        }
        struct cli_check *ck = &in->checks[in->check_count++];
        if (!cli_json_member_text(j, c, "CheckID", ck->id, sizeof(ck->id)) ||
            !cli_json_member_text(j, c, "Status", ck->status, sizeof(ck->status)) ||
            !cli_json_member_text(j, c, "Output", ck->output, sizeof(ck->output))) {
            return SYN_EBADMSG;
        }
        worst = status_rank(ck->status) > worst ? status_rank(ck->status) : worst;
    }
    in->status = status_names[worst];
    return 0;
}

int cli_health_parse(const uint8_t *body, size_t size, struct cli_health *h)
{
    void *items = NULL;
    int rc = cli_json_read_array(body, size, sizeof(*h->items), instance_read, &items, &h->count);
    h->items = items;
    return rc;
}

void cli_health_free(struct cli_health *h)
{
    free(h->items);
    *h = (struct cli_health){0};
}

uint32_t cli_health_passing(const struct cli_health *h)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < h->count; i++) {
        n += strcmp(h->items[i].status, "passing") == 0 ? 1u : 0u;
    }
    return n;
}

const struct cli_check *cli_health_reason(const struct cli_instance *in)
{
    /* the instance's own checks say more than its node's serfHealth, which comes next */
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t c = 0; c < in->check_count; c++) {
            const struct cli_check *ck = &in->checks[c];
            bool serf = strcmp(ck->id, CLI_HEALTH_NODE_CHECK) == 0;
            if (serf == (pass == 1) && status_rank(ck->status) == status_rank(in->status)) {
                return ck;
            }
        }
    }
    return NULL;
}

const struct cli_instance *cli_health_find(const struct cli_health *h, const char *node,
                                           const char *id)
{
    for (uint32_t i = 0; i < h->count; i++) {
        if (strcmp(h->items[i].node, node) == 0 && strcmp(h->items[i].id, id) == 0) {
            return &h->items[i];
        }
    }
    return NULL;
}

void cli_health_output_line(const char *output, size_t max, char *out, size_t out_size)
{
    size_t n = strcspn(output, "\r\n");
    bool more = output[n + strspn(output + n, "\r\n")] != '\0'; /* lines after the first */
    struct syn_buf b;
    syn_buf_init(&b, 0);
    if (cli_out_escape(&b, (const uint8_t *)output, n) != 0) {
        b.len = 0;
    }
    if (b.len > max) {
        b.len = max;
        while (b.len > 0 && (b.data[b.len] & 0xc0) == 0x80) {
            b.len--; /* not inside a UTF-8 sequence */
        }
        more = true;
    }
    snprintf(out, out_size, "%.*s%s", (int)b.len, b.len > 0 ? (const char *)b.data : "",
             more ? "..." : "");
    syn_buf_free(&b);
}

int cli_health_show_text(const struct cli_health *h, const char *name, struct syn_buf *out)
{
    char line[512];
    int n = snprintf(line, sizeof(line), "%s: %u instance%s, %u passing\n\n", name, h->count,
                     h->count == 1 ? "" : "s", cli_health_passing(h));
    int rc = syn_buf_append(out, line, n > 0 && (size_t)n < sizeof(line) ? (size_t)n : 0);
    struct cli_table t;
    cli_table_init(&t, 7);
    const char *head[] = {"NODE", "ID", "ADDRESS", "STATUS", "CHECK", "CHECK STATUS", "OUTPUT"};
    for (size_t i = 0; i < 7; i++) {
        cli_table_add(&t, "%s", head[i]);
    }
    for (uint32_t i = 0; i < h->count; i++) {
        const struct cli_instance *in = &h->items[i];
        for (uint32_t c = 0; c < in->check_count || c == 0; c++) {
            bool first = c == 0;
            cli_table_add(&t, "%s", first ? in->node : "");
            cli_table_add(&t, "%s", first ? in->id : "");
            if (first) {
                cli_table_add(&t, "%s:%" PRIu64, in->address, in->port);
            } else {
                cli_table_add(&t, "%s", "");
            }
            cli_table_add(&t, "%s", first ? in->status : "");
            char output[CLI_HEALTH_SHOW_OUTPUT_MAX + 8];
            const struct cli_check *ck = c < in->check_count ? &in->checks[c] : NULL;
            cli_health_output_line(ck != NULL ? ck->output : "", CLI_HEALTH_SHOW_OUTPUT_MAX, output,
                                   sizeof(output));
            cli_table_add(&t, "%s", ck != NULL ? ck->id : "-");
            cli_table_add(&t, "%s", ck != NULL ? ck->status : "");
            cli_table_add(&t, "%s", output);
        }
    }
    rc = rc == 0 ? cli_table_format(&t, out) : rc;
    cli_table_free(&t);
    return rc;
}
