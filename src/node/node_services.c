/* node_services.c: service definitions given at agent start (--service-file, Consul's JSON,
 * the same as PUT /v1/agent/service/register takes). They are read and checked when the agent
 * starts (a bad file stops it with the reason), then registered through Raft as soon as a
 * leader is known, and again after a failed attempt; the instances belong to this node, whose
 * check runner then runs their checks. A restarted agent registers them again, which keeps
 * the status of checks it already had (docs/registry.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http_reg_json.h"
#include "base/err.h"
#include "log/log.h"
#include "node/node_internal.h"

struct node_services {
    uint32_t count;
    uint32_t done;    /* registered, in order */
    bool submitting;
    struct reg_instance items[NODE_SERVICE_FILES_MAX];
};

static int read_file(const char *path, struct syn_buf *out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return SYN_EIO;
    }
    char chunk[4096];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        rc = syn_buf_append(out, chunk, n);
    }
    if (rc == 0 && ferror(f)) {
        rc = SYN_EIO;
    }
    fclose(f);
    return rc;
}

int node_services_load(struct node *n, char *err, size_t err_size)
{
    if (n->cfg.service_file_count == 0) {
        return 0;
    }
    struct node_services *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        snprintf(err, err_size, "out of memory");
        return SYN_ENOMEM;
    }
    for (uint32_t i = 0; i < n->cfg.service_file_count; i++) {
        const char *path = n->cfg.service_files[i];
        struct syn_buf text;
        syn_buf_init(&text, SYN_HTTP_BODY_SIZE_MAX);
        char why[256] = "";
        int rc = read_file(path, &text);
        if (rc != 0) {
            snprintf(why, sizeof(why), "%s", rc == SYN_ETOOBIG ? "larger than 512 KiB"
                                                              : "cannot be read");
        } else {
            rc = http_reg_json_parse(text.data, text.len, n->cfg.name, &s->items[i], why,
                                     sizeof(why));
        }
        syn_buf_free(&text);
        if (rc != 0) {
            snprintf(err, err_size, "--service-file %s: %s", path, why);
            free(s);
            return rc;
        }
        s->count++;
    }
    n->services = s;
    return 0;
}

static void on_registered(void *ctx, int status, const struct kv_result *result)
{
    (void)result;
    struct node *n = ctx;
    struct node_services *s = n->services;
    if (s == NULL) {
        return;
    }
    s->submitting = false;
    if (status == 0) {
        LOG_INFO("node", "registered service %s (%s) from --service-file",
                 s->items[s->done].id, s->items[s->done].name);
        s->done++;
    }
}

void node_services_tick(struct node *n)
{
    struct node_services *s = n->services;
    if (s == NULL || s->submitting || s->done == s->count || raft_leader(n->raft) == 0) {
        return;
    }
    struct reg_instance *in = &s->items[s->done];
    if (in->address[0] == '\0') {
        int port;
        if (node_addr_split(n->cfg.peer_addr, in->address, sizeof(in->address), &port) != 0) {
            in->address[0] = '\0'; /* the flag was checked at start: not reached */
        }
    }
    struct syn_buf cmd;
    syn_buf_init(&cmd, SYN_ENTRY_SIZE_MAX);
    int rc = reg_cmd_encode_register(&cmd, node_wall_ms(), in);
    if (rc == 0) {
        rc = node_write_submit(n, cmd.data, cmd.len, on_registered, n);
    }
    syn_buf_free(&cmd);
    s->submitting = rc == 0;
}

void node_services_free(struct node *n)
{
    free(n->services);
    n->services = NULL;
}
