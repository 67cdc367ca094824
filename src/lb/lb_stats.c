/* lb_stats.c: the stats endpoint's documents (lb_stats.h). */
#include "lb/lb_stats.h"

#include <string.h>

#include "api/json.h"

/* ---- JSON ---------------------------------------------------------------------------- */

static void json_totals(struct json_obj *o, const struct lb_totals *t)
{
    struct json_obj c;
    if (!json_obj_key(o, "connections")) {
        return;
    }
    json_obj_begin(&c, o->b);
    json_obj_u64(&c, "active", t->active);
    json_obj_u64(&c, "accepted", t->accepted);
    json_obj_u64(&c, "refused", t->refused);
    json_obj_u64(&c, "failed", t->failed);
    json_obj_u64(&c, "retries", t->retries);
    json_obj_u64(&c, "replays", t->replays);
    json_obj_u64(&c, "drained", t->drained);
    o->rc = json_obj_end(&c);
    if (o->rc != 0 || !json_obj_key(o, "registry")) {
        return;
    }
    json_obj_begin(&c, o->b);
    json_obj_str(&c, "addr", t->registry_addr);
    json_obj_u64(&c, "index", t->registry_index);
    json_obj_u64(&c, "answers", t->registry_answers);
    json_obj_u64(&c, "errors", t->registry_errors);
    if (t->registry_age_ms == UINT64_MAX) {
        json_obj_null(&c, "age_ms");
    } else {
        json_obj_u64(&c, "age_ms", t->registry_age_ms);
    }
    json_obj_str(&c, "last_error", t->registry_error);
    o->rc = json_obj_end(&c);
}

static int json_backend(const struct lb_stats_view *v, uint32_t s, struct syn_buf *out)
{
    const struct lb_backend *b = &v->table->backends[s];
    const struct lb_target *t = &v->table->targets[s];
    struct json_obj o;
    json_obj_begin(&o, out);
    json_obj_str(&o, "id", b->inst.id);
    json_obj_str(&o, "node", b->inst.node);
    json_obj_str(&o, "addr", b->addr);
    json_obj_u64(&o, "weight", t->weight);
    json_obj_str(&o, "state", lb_table_state_name(v->table, s, v->now_ms));
    json_obj_u64(&o, "active", t->active);
    json_obj_u64(&o, "total", b->c.conns_total);
    json_obj_u64(&o, "bytes_in", b->c.bytes_in);
    json_obj_u64(&o, "bytes_out", b->c.bytes_out);
    json_obj_u64(&o, "connect_failures", b->c.connect_failures);
    json_obj_u64(&o, "replays", b->c.replays);
    json_obj_str(&o, "last_error", b->last_error);
    return json_obj_end(&o);
}

int lb_stats_json(const struct lb_stats_view *v, struct syn_buf *out)
{
    struct json_obj o;
    json_obj_begin(&o, out);
    json_obj_str(&o, "service", v->service);
    json_obj_str(&o, "policy", v->policy);
    json_obj_str(&o, "listen", v->listen);
    json_totals(&o, v->totals);
    if (json_obj_key(&o, "backends")) {
        o.rc = syn_buf_append(out, "[", 1);
        bool first = true;
        for (uint32_t s = 0; s < v->table->count && o.rc == 0; s++) {
            if (v->table->backends[s].state == LB_BACKEND_FREE) {
                continue;
            }
            o.rc = first ? 0 : syn_buf_append(out, ",", 1);
            o.rc = o.rc == 0 ? json_backend(v, s, out) : o.rc;
            first = false;
        }
        o.rc = o.rc == 0 ? syn_buf_append(out, "]", 1) : o.rc;
    }
    int rc = json_obj_end(&o);
    return rc == 0 ? syn_buf_append(out, "\n", 1) : rc;
}

/* ---- Prometheus ---------------------------------------------------------------------- */

/* Text appended with one sticky error, as json_obj does. */
struct text {
    struct syn_buf *b;
    int rc;
};

static void put(struct text *t, const char *s)
{
    t->rc = t->rc == 0 ? syn_buf_append(t->b, s, strlen(s)) : t->rc;
}

static void put_u64(struct text *t, uint64_t v)
{
    t->rc = t->rc == 0 ? json_append_u64(t->b, v) : t->rc;
}

/* A label value: '\\', '"' and newline escaped, as the exposition format says. */
static void put_label(struct text *t, const char *s)
{
    for (; *s != '\0' && t->rc == 0; s++) {
        const char *e = *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : *s == '\n' ? "\\n" : NULL;
        t->rc = e != NULL ? syn_buf_append(t->b, e, 2) : syn_buf_append(t->b, s, 1);
    }
}

static void header(struct text *t, const char *name, const char *type, const char *help)
{
    put(t, "# HELP ");
    put(t, name);
    put(t, " ");
    put(t, help);
    put(t, "\n# TYPE ");
    put(t, name);
    put(t, " ");
    put(t, type);
    put(t, "\n");
}

static void sample(struct text *t, const char *name, const char *service, uint64_t value)
{
    put(t, name);
    put(t, "{service=\"");
    put_label(t, service);
    put(t, "\"} ");
    put_u64(t, value);
    put(t, "\n");
}

enum metric {
    M_UP,
    M_WEIGHT,
    M_ACTIVE,
    M_TOTAL,
    M_BYTES_IN,
    M_BYTES_OUT,
    M_CONNECT_FAILURES,
    M_REPLAYS,
    M_COUNT,
};

static const struct {
    const char *name;
    const char *type;
    const char *help;
} backend_metrics[M_COUNT] = {
    [M_UP] = {"synod_lb_backend_up", "gauge",
              "1 when the backend takes new connections (listed passing, not marked down)"},
    [M_WEIGHT] = {"synod_lb_backend_weight", "gauge", "The backend's Weights.Passing"},
    [M_ACTIVE] = {"synod_lb_backend_connections_active", "gauge",
                  "Connections open (or being opened) to the backend"},
    [M_TOTAL] = {"synod_lb_backend_connections_total", "counter",
                 "Connections established to the backend"},
    [M_BYTES_IN] = {"synod_lb_backend_bytes_in_total", "counter",
                    "Bytes from clients forwarded to the backend"},
    [M_BYTES_OUT] = {"synod_lb_backend_bytes_out_total", "counter",
                     "Bytes from the backend forwarded to clients"},
    [M_CONNECT_FAILURES] = {"synod_lb_backend_connect_failures_total", "counter",
                            "Connects to the backend that failed (refused, timed out)"},
    [M_REPLAYS] = {"synod_lb_backend_replays_total", "counter",
                   "Unanswered requests sent elsewhere after the backend failed"},
};

static uint64_t backend_value(const struct lb_stats_view *v, uint32_t s, enum metric m)
{
    const struct lb_backend *b = &v->table->backends[s];
    const struct lb_target *t = &v->table->targets[s];
    switch (m) {
    case M_UP:
        return strcmp(lb_table_state_name(v->table, s, v->now_ms), "up") == 0 ? 1 : 0;
    case M_WEIGHT:
        return t->weight;
    case M_ACTIVE:
        return t->active;
    case M_TOTAL:
        return b->c.conns_total;
    case M_BYTES_IN:
        return b->c.bytes_in;
    case M_BYTES_OUT:
        return b->c.bytes_out;
    case M_CONNECT_FAILURES:
        return b->c.connect_failures;
    case M_REPLAYS:
        return b->c.replays;
    default:
        return 0;
    }
}

static void backends(struct text *t, const struct lb_stats_view *v)
{
    for (int m = 0; m < M_COUNT; m++) {
        header(t, backend_metrics[m].name, backend_metrics[m].type, backend_metrics[m].help);
        for (uint32_t s = 0; s < v->table->count; s++) {
            const struct lb_backend *b = &v->table->backends[s];
            if (b->state == LB_BACKEND_FREE) {
                continue;
            }
            put(t, backend_metrics[m].name);
            put(t, "{service=\"");
            put_label(t, v->service);
            put(t, "\",backend=\"");
            put_label(t, b->inst.id);
            put(t, "\",node=\"");
            put_label(t, b->inst.node);
            put(t, "\",addr=\"");
            put_label(t, b->addr);
            put(t, "\"} ");
            put_u64(t, backend_value(v, s, (enum metric)m));
            put(t, "\n");
        }
    }
}

int lb_stats_prometheus(const struct lb_stats_view *v, struct syn_buf *out)
{
    const struct lb_totals *x = v->totals;
    const struct {
        const char *name;
        const char *type;
        const char *help;
        uint64_t value;
    } totals[] = {
        {"synod_lb_connections_active", "gauge", "Client connections open", x->active},
        {"synod_lb_connections_accepted_total", "counter", "Client connections accepted",
         x->accepted},
        {"synod_lb_connections_refused_total", "counter",
         "Client connections closed at once: --max-conns were open", x->refused},
        {"synod_lb_connections_failed_total", "counter",
         "Client connections closed because no backend could be reached", x->failed},
        {"synod_lb_connect_retries_total", "counter", "Connects tried again on another backend",
         x->retries},
        {"synod_lb_replays_total", "counter", "Unanswered requests sent again to another backend",
         x->replays},
        {"synod_lb_drained_total", "counter", "Connections closed by the drain timeout",
         x->drained},
        {"synod_lb_registry_index", "gauge", "X-Consul-Index of the registry's last answer",
         x->registry_index},
        {"synod_lb_registry_answers_total", "counter", "Answers read from the registry",
         x->registry_answers},
        {"synod_lb_registry_errors_total", "counter", "Registry exchanges that failed",
         x->registry_errors},
    };
    struct text t = {.b = out};
    for (size_t i = 0; i < sizeof(totals) / sizeof(totals[0]); i++) {
        header(&t, totals[i].name, totals[i].type, totals[i].help);
        sample(&t, totals[i].name, v->service, totals[i].value);
    }
    backends(&t, v);
    return t.rc;
}
