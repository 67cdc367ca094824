/* lb_registry.c: the health endpoint's request target and answer (lb_registry.h). */
#include "lb/lb_registry.h"

#include <string.h>

#include "base/err.h"
#include "base/num.h"
#include "cli/cli_http.h"
#include "cli/cli_json.h"

static int append_u64(struct syn_buf *out, uint64_t v)
{
    char text[SYN_I64_TEXT_SIZE_MAX];
    size_t n = syn_i64_format(v > INT64_MAX ? INT64_MAX : (int64_t)v, text);
    return syn_buf_append(out, text, n);
}

int lb_registry_target(struct syn_buf *out, const char *service, uint64_t index, uint32_t wait_s)
{
    static const char path[] = "/v1/health/service/";
    size_t start = out->len;
    int rc = syn_buf_append(out, path, sizeof(path) - 1);
    rc = rc == 0 ? cli_http_path_append(out, (const uint8_t *)service, strlen(service)) : rc;
    rc = rc == 0 ? syn_buf_append(out, "?passing", 8) : rc;
    if (index > 0) {
        rc = rc == 0 ? syn_buf_append(out, "&index=", 7) : rc;
        rc = rc == 0 ? append_u64(out, index) : rc;
        rc = rc == 0 ? syn_buf_append(out, "&wait=", 6) : rc;
        rc = rc == 0 ? append_u64(out, wait_s) : rc;
        rc = rc == 0 ? syn_buf_append(out, "s", 1) : rc;
    }
    rc = rc == 0 ? syn_buf_append(out, "", 1) : rc;
    if (rc != 0) {
        out->len = start;
    }
    return rc;
}

/* Whether every check of the entry passes ("Checks" absent or empty: nothing says no). */
static bool checks_pass(const struct cli_json *j, uint32_t entry)
{
    uint32_t checks = cli_json_get(j, entry, "Checks");
    for (uint32_t c = cli_json_first(j, checks); c != CLI_JSON_NONE;
         c = cli_json_next(j, checks, c)) {
        char status[16];
        if (!cli_json_cstring(j, cli_json_get(j, c, "Status"), status, sizeof(status)) ||
            strcmp(status, "passing") != 0) {
            return false;
        }
    }
    return true;
}

/* String member key of object tok into out; "" when absent or null. False when it is
 * something else or too long. */
static bool member_text(const struct cli_json *j, uint32_t tok, const char *key, char *out,
                        size_t size)
{
    uint32_t v = cli_json_get(j, tok, key);
    out[0] = '\0';
    if (v == CLI_JSON_NONE || cli_json_type(j, v) == CLI_JSON_NULL ||
        (cli_json_type(j, v) == CLI_JSON_STRING && j->toks[v].size == 0)) {
        return true; /* "" is left to us: cli_json_cstring() would copy from a NULL buffer */
    }
    return cli_json_cstring(j, v, out, size);
}

/* One entry of the answer into *inst; false when it is to be left out. */
static bool entry_read(const struct cli_json *j, uint32_t entry, struct lb_instance *inst)
{
    uint32_t node = cli_json_get(j, entry, "Node");
    uint32_t svc = cli_json_get(j, entry, "Service");
    uint64_t port = 0;
    char node_addr[LB_HOST_SIZE];
    memset(inst, 0, sizeof(*inst));
    if (cli_json_type(j, svc) != CLI_JSON_OBJECT || !checks_pass(j, entry) ||
        !cli_json_u64(j, cli_json_get(j, svc, "Port"), &port) || port == 0 || port > 65535 ||
        !member_text(j, svc, "ID", inst->id, sizeof(inst->id)) ||
        !member_text(j, svc, "Address", inst->host, sizeof(inst->host)) ||
        !member_text(j, node, "Node", inst->node, sizeof(inst->node)) ||
        !member_text(j, node, "Address", node_addr, sizeof(node_addr))) {
        return false;
    }
    if (inst->id[0] == '\0' && !member_text(j, svc, "Service", inst->id, sizeof(inst->id))) {
        return false; /* Consul's ID defaults to the service's name */
    }
    if (inst->host[0] == '\0') {
        memcpy(inst->host, node_addr, sizeof(node_addr)); /* Consul: the node's address */
    }
    uint64_t weight = 1;
    uint32_t weights = cli_json_get(j, svc, "Weights");
    if (weights != CLI_JSON_NONE && !cli_json_u64(j, cli_json_get(j, weights, "Passing"), &weight)) {
        weight = 1;
    }
    inst->port = (uint16_t)port;
    inst->weight = weight < 1 ? 1u : weight > LB_WEIGHT_MAX ? LB_WEIGHT_MAX : (uint32_t)weight;
    return inst->host[0] != '\0' && inst->id[0] != '\0';
}

int lb_registry_parse(const uint8_t *body, size_t size, struct lb_instance *out, uint32_t max,
                      uint32_t *count, uint32_t *skipped)
{
    *count = 0;
    *skipped = 0;
    struct cli_json j;
    int rc = cli_json_parse(&j, body, size);
    if (rc == 0 && cli_json_type(&j, 0) != CLI_JSON_ARRAY) {
        rc = SYN_EBADMSG;
    }
    for (uint32_t e = rc == 0 ? cli_json_first(&j, 0) : CLI_JSON_NONE; e != CLI_JSON_NONE;
         e = cli_json_next(&j, 0, e)) {
        if (cli_json_type(&j, e) != CLI_JSON_OBJECT) {
            rc = SYN_EBADMSG;
            break;
        }
        if (*count < max && entry_read(&j, e, &out[*count])) {
            (*count)++;
        } else {
            (*skipped)++;
        }
    }
    cli_json_free(&j);
    if (rc != 0) {
        *count = 0;
        *skipped = 0;
    }
    return rc == SYN_ETOOBIG ? SYN_EBADMSG : rc;
}

static uint8_t ascii_lower(uint8_t c)
{
    return (uint8_t)(c | ((c >= 'A' && c <= 'Z') ? 0x20 : 0));
}

bool lb_registry_index(const uint8_t *head, size_t size, uint64_t *index)
{
    static const char name[] = "\nx-consul-index:";
    const size_t n = sizeof(name) - 1;
    for (size_t at = 0; at + n <= size; at++) {
        size_t k = 0;
        while (k < n && ascii_lower(head[at + k]) == (uint8_t)name[k]) {
            k++;
        }
        if (k < n) {
            continue;
        }
        size_t p = at + n;
        while (p < size && (head[p] == ' ' || head[p] == '\t')) {
            p++;
        }
        size_t e = p;
        while (e < size && head[e] >= '0' && head[e] <= '9') {
            e++;
        }
        int64_t v;
        if (!syn_i64_parse(head + p, e - p, &v) || v < 0) {
            return false;
        }
        *index = (uint64_t)v;
        return true;
    }
    return false;
}

uint64_t lb_registry_next_index(uint64_t prev, bool have, uint64_t got)
{
    if (!have || got < prev) {
        return 0;
    }
    return got == 0 ? 1 : got;
}
