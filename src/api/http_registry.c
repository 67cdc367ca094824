/* http_registry.c: the service registry's reads, in Consul's shapes (docs/registry.md):
 *   GET /v1/catalog/services            {"name": ["tag", ...], ...}
 *   GET /v1/catalog/service/<name>      [{Node, Address, ServiceID, ServiceName, ...}]
 *   GET /v1/catalog/nodes               [{Node, Address, Health}]
 *   GET /v1/health/service/<name>       [{Node, Service, Checks}]  (?passing, ?tag)
 *   GET /v1/health/state/<state>        [check, ...]  (any, passing, warning, critical)
 *   GET /v1/agent/services              {"id": service} of this node
 * Each is a blocking query like the KV reads (?index, ?wait; X-Consul-Index is the index of
 * the last registry change) with the same consistency modes. A node's health (from the
 * failure detector) shows as Consul's "serfHealth" check on each of its instances: a failed
 * node's instances are critical and drop out of ?passing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http_kv_internal.h"
#include "api/http_registry.h"
#include "api/json.h"
#include "base/err.h"
#include "kv/kv_registry.h"

/* ---- Nodes' health, loaded before walking the instances ------------------------------ */

static uint8_t node_status(const struct reg_node_table *t, const char *name)
{
    return reg_node_table_health(t, name) == REG_NODE_FAILED ? REG_CRITICAL : REG_PASSING;
}

static const char *instance_address(const struct reg_node_table *t, const struct reg_instance *in)
{
    if (in->address[0] != '\0') {
        return in->address;
    }
    const struct reg_node *n = reg_node_table_find(t, in->node);
    return n != NULL ? n->address : "";
}

/* ---- JSON pieces --------------------------------------------------------------------- */

static void obj_strs(struct json_obj *o, const char *key, char (*items)[REG_NAME_SIZE_MAX + 1],
                     uint16_t count)
{
    if (!json_obj_key(o, key)) {
        return;
    }
    o->rc = syn_buf_append(o->b, "[", 1);
    for (uint16_t i = 0; i < count && o->rc == 0; i++) {
        o->rc = i > 0 ? syn_buf_append(o->b, ",", 1) : 0;
        if (o->rc == 0) {
            o->rc = json_append_cstring(o->b, items[i]);
        }
    }
    if (o->rc == 0) {
        o->rc = syn_buf_append(o->b, "]", 1);
    }
}

static void obj_meta(struct json_obj *o, const struct reg_instance *in)
{
    if (!json_obj_key(o, "Meta")) {
        return;
    }
    struct json_obj m;
    json_obj_begin(&m, o->b);
    for (uint16_t i = 0; i < in->meta_count; i++) {
        json_obj_str(&m, in->meta[i].key, in->meta[i].value);
    }
    o->rc = json_obj_end(&m);
}

static void obj_weights(struct json_obj *o, const struct reg_instance *in)
{
    if (!json_obj_key(o, "Weights")) {
        return;
    }
    struct json_obj w;
    json_obj_begin(&w, o->b);
    json_obj_u64(&w, "Passing", in->weight_passing);
    json_obj_u64(&w, "Warning", in->weight_warning);
    o->rc = json_obj_end(&w);
}

/* Consul's AgentService / the Service of a health entry. */
static int service_append(struct syn_buf *b, const struct reg_node_table *t,
                          const struct reg_instance *in)
{
    struct json_obj o;
    json_obj_begin(&o, b);
    json_obj_str(&o, "ID", in->id);
    json_obj_str(&o, "Service", in->name);
    obj_strs(&o, "Tags", (char(*)[REG_NAME_SIZE_MAX + 1])in->tags, in->tag_count);
    json_obj_str(&o, "Address", instance_address(t, in));
    json_obj_u64(&o, "Port", in->port);
    obj_meta(&o, in);
    obj_weights(&o, in);
    json_obj_u64(&o, "CreateIndex", in->create_index);
    json_obj_u64(&o, "ModifyIndex", in->modify_index);
    return json_obj_end(&o);
}

static void check_fields(struct json_obj *o, const struct reg_instance *in,
                         const struct reg_check *c)
{
    json_obj_str(o, "Node", in->node);
    json_obj_str(o, "CheckID", c->id);
    json_obj_str(o, "Name", c->name);
    json_obj_str(o, "Status", reg_status_name(c->status));
    json_obj_str(o, "Output", c->output);
    json_obj_str(o, "ServiceID", in->id);
    json_obj_str(o, "ServiceName", in->name);
    json_obj_str(o, "Type", reg_check_type_name(c->type));
    json_obj_u64(o, "CreateIndex", in->create_index);
    json_obj_u64(o, "ModifyIndex", c->modify_index);
}

static int check_append(struct syn_buf *b, const struct reg_instance *in,
                        const struct reg_check *c)
{
    struct json_obj o;
    json_obj_begin(&o, b);
    check_fields(&o, in, c);
    return json_obj_end(&o);
}

/* Consul's "serfHealth": the node's liveness as a check of every instance on it. */
static int serf_append(struct syn_buf *b, const struct reg_node_table *t, const char *node)
{
    const struct reg_node *n = reg_node_table_find(t, node);
    uint8_t health = n != NULL ? n->health : REG_NODE_ALIVE;
    struct json_obj o;
    json_obj_begin(&o, b);
    json_obj_str(&o, "Node", node);
    json_obj_str(&o, "CheckID", "serfHealth");
    json_obj_str(&o, "Name", "Serf Health Status");
    json_obj_str(&o, "Status", reg_status_name(node_status(t, node)));
    char out[96];
    snprintf(out, sizeof(out), "node is %s", reg_health_name(health));
    json_obj_str(&o, "Output", out);
    json_obj_str(&o, "ServiceID", "");
    json_obj_str(&o, "ServiceName", "");
    json_obj_str(&o, "Type", "serf");
    json_obj_u64(&o, "ModifyIndex", n != NULL ? n->modify_index : 0);
    return json_obj_end(&o);
}

/* ---- Evaluating a read --------------------------------------------------------------- */

struct walk {
    const struct http_kv_query *q;
    const struct reg_node_table *nodes;
    struct syn_buf *body;
    uint32_t count;
    /* catalog/services: names seen so far, with their tags, written at the end */
    struct syn_buf names;
};

static bool has_tag(const struct reg_instance *in, const char *tag)
{
    for (uint16_t i = 0; i < in->tag_count; i++) {
        if (strcmp(in->tags[i], tag) == 0) {
            return true;
        }
    }
    return false;
}

static bool selected(const struct walk *w, const struct reg_instance *in)
{
    const struct http_kv_query *q = w->q;
    if (strcmp(in->name, q->name) != 0 || (q->tag[0] != '\0' && !has_tag(in, q->tag))) {
        return false;
    }
    if (!q->passing) {
        return true;
    }
    const struct reg_node *n = reg_node_table_find(w->nodes, in->node);
    return reg_instance_healthy(in, n != NULL ? n->health : REG_NODE_ALIVE);
}

/* The comma before every element but the first. */
static int sep(struct walk *w)
{
    bool first = w->count == 0;
    w->count++;
    return first ? 0 : syn_buf_append(w->body, ",", 1);
}

static int walk_catalog_service(void *ctx, const struct reg_instance *in)
{
    struct walk *w = ctx;
    if (!selected(w, in)) {
        return 0;
    }
    int rc = sep(w);
    struct json_obj o;
    json_obj_begin(&o, w->body);
    o.rc = rc;
    json_obj_str(&o, "Node", in->node);
    const struct reg_node *n = reg_node_table_find(w->nodes, in->node);
    json_obj_str(&o, "Address", n != NULL ? n->address : instance_address(w->nodes, in));
    json_obj_str(&o, "ServiceID", in->id);
    json_obj_str(&o, "ServiceName", in->name);
    obj_strs(&o, "ServiceTags", (char(*)[REG_NAME_SIZE_MAX + 1])in->tags, in->tag_count);
    json_obj_str(&o, "ServiceAddress", in->address);
    json_obj_u64(&o, "ServicePort", in->port);
    json_obj_u64(&o, "CreateIndex", in->create_index);
    json_obj_u64(&o, "ModifyIndex", in->modify_index);
    return json_obj_end(&o);
}

static int walk_health_service(void *ctx, const struct reg_instance *in)
{
    struct walk *w = ctx;
    if (!selected(w, in)) {
        return 0;
    }
    struct syn_buf *b = w->body;
    int rc = sep(w);
    struct json_obj o;
    json_obj_begin(&o, b);
    o.rc = rc;
    if (json_obj_key(&o, "Node")) {
        struct json_obj n;
        json_obj_begin(&n, b);
        json_obj_str(&n, "Node", in->node);
        const struct reg_node *rn = reg_node_table_find(w->nodes, in->node);
        json_obj_str(&n, "Address", rn != NULL ? rn->address : instance_address(w->nodes, in));
        o.rc = json_obj_end(&n);
    }
    if (json_obj_key(&o, "Service")) {
        o.rc = service_append(b, w->nodes, in);
    }
    if (json_obj_key(&o, "Checks")) {
        o.rc = syn_buf_append(b, "[", 1);
        if (o.rc == 0) {
            o.rc = serf_append(b, w->nodes, in->node);
        }
        for (uint8_t i = 0; i < in->check_count && o.rc == 0; i++) {
            o.rc = syn_buf_append(b, ",", 1);
            if (o.rc == 0) {
                o.rc = check_append(b, in, &in->checks[i]);
            }
        }
        if (o.rc == 0) {
            o.rc = syn_buf_append(b, "]", 1);
        }
    }
    return json_obj_end(&o);
}

static int walk_health_state(void *ctx, const struct reg_instance *in)
{
    struct walk *w = ctx;
    uint8_t want = 0;
    if (strcmp(w->q->name, "any") != 0) {
        reg_status_parse(w->q->name, &want);
    }
    for (uint8_t i = 0; i < in->check_count; i++) {
        if (want != 0 && in->checks[i].status != want) {
            continue;
        }
        int rc = sep(w);
        if (rc == 0) {
            rc = check_append(w->body, in, &in->checks[i]);
        }
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

static int walk_agent_services(void *ctx, const struct reg_instance *in)
{
    struct walk *w = ctx;
    if (strcmp(in->node, w->q->name) != 0) {
        return 0;
    }
    int rc = sep(w);
    if (rc == 0) {
        rc = json_append_cstring(w->body, in->id);
    }
    if (rc == 0) {
        rc = syn_buf_append(w->body, ":", 1);
    }
    return rc == 0 ? service_append(w->body, w->nodes, in) : rc;
}

/* catalog/services: {"name":[tags]} with each name once; instances come by node, so the
 * names are gathered first (a NUL-separated list in w->names) and merged. */
static int walk_catalog_services(void *ctx, const struct reg_instance *in)
{
    struct walk *w = ctx;
    size_t n = strlen(in->name);
    for (size_t at = 0; at < w->names.len;) {
        const char *name = (const char *)w->names.data + at;
        if (strcmp(name, in->name) == 0) {
            return 0;
        }
        at += strlen(name) + 1;
    }
    return syn_buf_append(&w->names, in->name, n + 1);
}

struct tags_walk {
    const char *name;
    struct syn_buf *body;
    struct syn_buf seen; /* tags written, NUL-separated */
};

static int walk_tags(void *ctx, const struct reg_instance *in)
{
    struct tags_walk *t = ctx;
    if (strcmp(in->name, t->name) != 0) {
        return 0;
    }
    for (uint16_t i = 0; i < in->tag_count; i++) {
        bool dup = false;
        for (size_t at = 0; at < t->seen.len && !dup;) {
            const char *tag = (const char *)t->seen.data + at;
            dup = strcmp(tag, in->tags[i]) == 0;
            at += strlen(tag) + 1;
        }
        int rc = dup ? 0 : syn_buf_append(t->body, t->seen.len > 0 ? "," : "", t->seen.len > 0);
        if (rc == 0 && !dup) {
            rc = json_append_cstring(t->body, in->tags[i]);
        }
        if (rc == 0 && !dup) {
            rc = syn_buf_append(&t->seen, in->tags[i], strlen(in->tags[i]) + 1);
        }
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

static int catalog_services(struct kv_store *kv, struct walk *w)
{
    int rc = kv_reg_instances(kv, walk_catalog_services, w);
    struct syn_buf *b = w->body;
    rc = rc != 0 ? rc : syn_buf_append(b, "{", 1);
    for (size_t at = 0; rc == 0 && at < w->names.len;) {
        const char *name = (const char *)w->names.data + at;
        rc = at > 0 ? syn_buf_append(b, ",", 1) : 0;
        rc = rc != 0 ? rc : json_append_cstring(b, name);
        rc = rc != 0 ? rc : syn_buf_append(b, ":[", 2);
        struct tags_walk t = {.name = name, .body = b};
        syn_buf_init(&t.seen, 0);
        rc = rc != 0 ? rc : kv_reg_instances(kv, walk_tags, &t);
        syn_buf_free(&t.seen);
        rc = rc != 0 ? rc : syn_buf_append(b, "]", 1);
        at += strlen(name) + 1;
    }
    return rc != 0 ? rc : syn_buf_append(b, "}", 1);
}

static int catalog_nodes(const struct reg_node_table *t, struct syn_buf *b)
{
    int rc = syn_buf_append(b, "[", 1);
    for (uint32_t i = 0; i < t->count && rc == 0; i++) {
        rc = i > 0 ? syn_buf_append(b, ",", 1) : 0;
        struct json_obj o;
        json_obj_begin(&o, b);
        o.rc = rc;
        json_obj_str(&o, "Node", t->nodes[i].name);
        json_obj_str(&o, "Address", t->nodes[i].address);
        json_obj_str(&o, "Health", reg_health_name(t->nodes[i].health));
        json_obj_u64(&o, "ModifyIndex", t->nodes[i].modify_index);
        rc = json_obj_end(&o);
    }
    return rc != 0 ? rc : syn_buf_append(b, "]", 1);
}

int http_reg_evaluate(struct http_server *srv, const struct http_kv_query *q,
                      struct http_kv_result *out)
{
    struct kv_store *kv = service_kv(srv->svc);
    struct reg_node_table *nodes = calloc(1, sizeof(*nodes));
    if (nodes == NULL) {
        return SYN_ENOMEM;
    }
    struct walk w = {.q = q, .nodes = nodes, .body = &srv->body};
    syn_buf_init(&w.names, 0);
    *out = (struct http_kv_result){.status = 200, .index = kv_reg_index(kv)};
    int rc = kv_reg_nodes(kv, reg_node_table_add, nodes);
    bool object = q->endpoint == HTTP_REG_CATALOG_SERVICES || q->endpoint == HTTP_REG_AGENT_SERVICES;
    if (rc == 0 && q->endpoint != HTTP_REG_CATALOG_SERVICES && q->endpoint != HTTP_REG_NODES) {
        rc = syn_buf_append(w.body, object ? "{" : "[", 1);
    }
    if (rc == 0) {
        switch (q->endpoint) {
        case HTTP_REG_CATALOG_SERVICES:
            rc = catalog_services(kv, &w);
            break;
        case HTTP_REG_NODES:
            rc = catalog_nodes(nodes, w.body);
            break;
        case HTTP_REG_CATALOG_SERVICE:
            rc = kv_reg_instances(kv, walk_catalog_service, &w);
            break;
        case HTTP_REG_HEALTH_SERVICE:
            rc = kv_reg_instances(kv, walk_health_service, &w);
            break;
        case HTTP_REG_HEALTH_STATE:
            rc = kv_reg_instances(kv, walk_health_state, &w);
            break;
        default:
            rc = kv_reg_instances(kv, walk_agent_services, &w);
            break;
        }
    }
    if (rc == 0 && q->endpoint != HTTP_REG_CATALOG_SERVICES && q->endpoint != HTTP_REG_NODES) {
        rc = syn_buf_append(w.body, object ? "}" : "]", 1);
    }
    syn_buf_free(&w.names);
    free(nodes);
    return rc;
}

/* ---- Routes -------------------------------------------------------------------------- */

static void reg_read(struct http_exchange *ex, uint8_t endpoint, bool takes_name)
{
    struct http_kv_query *q = calloc(1, sizeof(*q));
    if (q == NULL) {
        http_respond_error(ex, 500, "out of memory");
        return;
    }
    q->registry = true;
    q->endpoint = endpoint;
    syn_buf_init(&q->key, 0);
    syn_buf_init(&q->separator, 0);
    if (takes_name) {
        if (ex->tail.size == 0 || ex->tail.size > REG_NAME_SIZE_MAX ||
            memchr(ex->tail.data, '/', ex->tail.size) != NULL) {
            free(q);
            http_respond_error(ex, 400, "expected a name of 1 to %u bytes after the path",
                               REG_NAME_SIZE_MAX);
            return;
        }
        memcpy(q->name, ex->tail.data, ex->tail.size);
    }
    q->passing = http_query_has(ex->req->query, "passing");
    size_t len = 0;
    int rc = http_query_get(ex->req->query, "tag", q->tag, sizeof(q->tag), &len);
    if ((rc != 0 && rc != SYN_ENOENT) || !http_kv_parse_common(ex, q)) {
        if (!ex->responded) {
            http_respond_error(ex, 400, "?tag is malformed or too long");
        }
        free(q);
        return;
    }
    if (endpoint == HTTP_REG_HEALTH_STATE && strcmp(q->name, "any") != 0) {
        uint8_t status;
        if (reg_status_parse(q->name, &status) != 0) {
            free(q);
            http_respond_error(ex, 400, "the state is any, passing, warning or critical");
            return;
        }
    }
    if (endpoint == HTTP_REG_AGENT_SERVICES) {
        service_info(ex->srv->svc, &ex->srv->info);
        snprintf(q->name, sizeof(q->name), "%s", ex->srv->info.name);
    }
    http_kv_read(ex, q); /* takes q */
}

void http_reg_catalog_services(struct http_exchange *ex)
{
    reg_read(ex, HTTP_REG_CATALOG_SERVICES, false);
}

void http_reg_catalog_service(struct http_exchange *ex)
{
    reg_read(ex, HTTP_REG_CATALOG_SERVICE, true);
}

void http_reg_catalog_nodes(struct http_exchange *ex)
{
    reg_read(ex, HTTP_REG_NODES, false);
}

void http_reg_health_service(struct http_exchange *ex)
{
    reg_read(ex, HTTP_REG_HEALTH_SERVICE, true);
}

void http_reg_health_state(struct http_exchange *ex)
{
    reg_read(ex, HTTP_REG_HEALTH_STATE, true);
}

void http_reg_agent_services(struct http_exchange *ex)
{
    reg_read(ex, HTTP_REG_AGENT_SERVICES, false);
}
