/* http_agent_service.c: the registry's writes through this node's agent endpoints, as
 * Consul has them (docs/registry.md):
 *   PUT /v1/agent/service/register              a service definition (JSON) on this node
 *   PUT /v1/agent/service/deregister/<id>       one of this node's instances
 *   PUT /v1/agent/check/pass|warn|fail/<id>     a TTL check's report (?note= its output)
 *   PUT /v1/agent/check/update/<id>             {"Status": ..., "Output": ...}
 *   GET /v1/agent/self                          this agent's name and configuration
 * Every write is a registry command through Raft: on a follower it is forwarded, and the
 * answer comes once it applied. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http_kv_internal.h"
#include "api/http_reg_json.h"
#include "api/http_registry.h"
#include "api/json.h"
#include "base/err.h"
#include "kv/kv_registry.h"

/* This node's name, and its host for instances registered without an address. */
static const char *self_name(struct http_exchange *ex)
{
    service_info(ex->srv->svc, &ex->srv->info);
    return ex->srv->info.name;
}

/* The host of this node's peer address: where its instances are, unless they say. */
static void self_host(struct http_exchange *ex, char *out, size_t size)
{
    struct service_info *info = &ex->srv->info;
    service_info(ex->srv->svc, info);
    out[0] = '\0';
    for (uint32_t i = 0; i < info->member_count; i++) {
        if (!info->members[i].self) {
            continue;
        }
        const char *addr = info->members[i].peer_addr;
        const char *colon = strrchr(addr, ':');
        size_t n = colon != NULL ? (size_t)(colon - addr) : strlen(addr);
        if (n > 1 && addr[0] == '[' && addr[n - 1] == ']') {
            addr++;
            n -= 2;
        }
        if (n < size) {
            memcpy(out, addr, n);
            out[n] = '\0';
        }
    }
}

static bool tail_name(struct http_exchange *ex, char *out, size_t size)
{
    struct http_slice t = ex->tail;
    if (t.size == 0 || t.size >= size || memchr(t.data, '/', t.size) != NULL ||
        memchr(t.data, '\0', t.size) != NULL) {
        http_respond_error(ex, 400, "expected an ID of 1 to %zu bytes after the path", size - 1);
        return false;
    }
    memcpy(out, t.data, t.size);
    out[t.size] = '\0';
    return true;
}

void http_reg_register(struct http_exchange *ex)
{
    struct reg_instance *in = malloc(sizeof(*in));
    if (in == NULL) {
        http_respond_error(ex, 500, "out of memory");
        return;
    }
    char err[256];
    int rc = http_reg_json_parse(ex->body.data, ex->body.size, self_name(ex), in, err,
                                 sizeof(err));
    if (rc != 0) {
        free(in);
        http_respond_error(ex, 400, "%s", err);
        return;
    }
    if (in->address[0] == '\0') {
        self_host(ex, in->address, sizeof(in->address));
    }
    struct syn_buf *enc = &ex->srv->command;
    syn_buf_reset(enc);
    ex->answer = HTTP_ANSWER_EMPTY;
    ex->answer_404 = "not registered";
    http_kv_submit(ex, reg_cmd_encode_register(enc, service_now_ms(ex->srv->svc), in));
    free(in);
}

void http_reg_deregister(struct http_exchange *ex)
{
    char id[REG_NAME_SIZE_MAX + 1];
    if (!tail_name(ex, id, sizeof(id))) {
        return;
    }
    struct syn_buf *enc = &ex->srv->command;
    syn_buf_reset(enc);
    ex->answer = HTTP_ANSWER_EMPTY;
    ex->answer_404 = "no such service on this node";
    http_kv_submit(ex, reg_cmd_encode_deregister(enc, service_now_ms(ex->srv->svc),
                                                 self_name(ex), id));
}

struct check_find {
    const char *node;
    const char *check_id;
    char service_id[REG_NAME_SIZE_MAX + 1];
};

static int find_check(void *ctx, const struct reg_instance *in)
{
    struct check_find *f = ctx;
    if (strcmp(in->node, f->node) != 0) {
        return 0;
    }
    for (uint8_t i = 0; i < in->check_count; i++) {
        if (strcmp(in->checks[i].id, f->check_id) == 0) {
            snprintf(f->service_id, sizeof(f->service_id), "%s", in->id);
            return 1;
        }
    }
    return 0;
}

static void check_report(struct http_exchange *ex, const char *check_id, uint8_t status,
                         const char *output)
{
    struct check_find f = {.node = self_name(ex), .check_id = check_id};
    int rc = kv_reg_instances(service_kv(ex->srv->svc), find_check, &f);
    if (rc < 0) {
        http_respond_error(ex, 500, "reading the registry: %s", syn_strerror(rc));
        return;
    }
    if (f.service_id[0] == '\0') {
        http_respond_error(ex, 404, "no check %s on this node", check_id);
        return;
    }
    struct syn_buf *enc = &ex->srv->command;
    syn_buf_reset(enc);
    ex->answer = HTTP_ANSWER_EMPTY;
    ex->answer_404 = "the check went away";
    http_kv_submit(ex, reg_cmd_encode_check(enc, service_now_ms(ex->srv->svc), f.node,
                                            f.service_id, check_id, status, output));
}

/* PUT /v1/agent/check/{pass,warn,fail,update}/<id>: the prefix route's tail is "pass/<id>". */
void http_reg_check_update(struct http_exchange *ex)
{
    static const struct {
        const char *word;
        uint8_t status;
    } verbs[] = {{"pass/", REG_PASSING}, {"warn/", REG_WARNING}, {"fail/", REG_CRITICAL},
                 {"update/", 0}};
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
        size_t n = strlen(verbs[i].word);
        if (ex->tail.size < n || memcmp(ex->tail.data, verbs[i].word, n) != 0) {
            continue;
        }
        ex->tail = (struct http_slice){ex->tail.data + n, ex->tail.size - n};
        char id[REG_NAME_SIZE_MAX + 1];
        char output[REG_OUTPUT_SIZE_MAX + 1] = "";
        uint8_t status = verbs[i].status;
        if (!tail_name(ex, id, sizeof(id))) {
            return;
        }
        int rc = http_query_get(ex->req->query, "note", output, sizeof(output), NULL);
        if (status == 0) {
            json_t *root = json_loadb((const char *)ex->body.data, ex->body.size, 0, NULL);
            json_t *st = root != NULL ? json_object_get(root, "Status") : NULL;
            json_t *out = root != NULL ? json_object_get(root, "Output") : NULL;
            if (!json_is_string(st) || reg_status_parse(json_string_value(st), &status) != 0) {
                json_decref(root);
                http_respond_error(ex, 400, "expected {\"Status\": \"passing\"|\"warning\"|"
                                            "\"critical\", \"Output\": \"...\"}");
                return;
            }
            if (json_is_string(out)) {
                snprintf(output, sizeof(output), "%s", json_string_value(out));
            }
            json_decref(root);
            rc = 0;
        }
        if (rc != 0 && rc != SYN_ENOENT) {
            http_respond_error(ex, 400, "?note is malformed or longer than %u bytes",
                               REG_OUTPUT_SIZE_MAX);
            return;
        }
        check_report(ex, id, status, output);
        return;
    }
    http_respond_error(ex, 404, "no such endpoint");
}

void http_reg_agent_self(struct http_exchange *ex)
{
    struct service_info *info = &ex->srv->info;
    service_info(ex->srv->svc, info);
    struct syn_buf *b = &ex->srv->body;
    syn_buf_reset(b);
    struct json_obj o;
    json_obj_begin(&o, b);
    if (json_obj_key(&o, "Config")) {
        struct json_obj c;
        json_obj_begin(&c, b);
        json_obj_str(&c, "Datacenter", "dc1");
        json_obj_str(&c, "NodeName", info->name);
        json_obj_str(&c, "NodeID", info->name);
        json_obj_bool(&c, "Server", true);
        json_obj_str(&c, "Version", ex->srv->version);
        o.rc = json_obj_end(&c);
    }
    if (json_obj_key(&o, "Member")) {
        struct json_obj m;
        json_obj_begin(&m, b);
        json_obj_str(&m, "Name", info->name);
        for (uint32_t i = 0; i < info->member_count; i++) {
            if (info->members[i].self) {
                json_obj_str(&m, "Addr", info->members[i].peer_addr);
            }
        }
        json_obj_u64(&m, "Status", 1);
        o.rc = json_obj_end(&m);
    }
    if (json_obj_key(&o, "Stats")) {
        struct json_obj s;
        json_obj_begin(&s, b);
        json_obj_str(&s, "role", info->role != NULL ? info->role : "unknown");
        json_obj_str(&s, "leader", info->leader_name);
        json_obj_u64(&s, "term", info->term);
        json_obj_u64(&s, "commit_index", info->commit_index);
        json_obj_u64(&s, "applied_index", info->applied_index);
        o.rc = json_obj_end(&s);
    }
    int rc = json_obj_end(&o);
    if (rc == 0) {
        rc = syn_buf_append(b, "\n", 1);
    }
    if (rc != 0) {
        http_respond_error(ex, 500, "out of memory");
    } else {
        http_respond_json(ex, 200, b);
    }
    syn_buf_reset(b);
}
