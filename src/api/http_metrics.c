/* http_metrics.c: GET /metrics, the node's gauges and counters in the Prometheus text
 * exposition format 0.0.4 (prometheus.io/docs/instrumenting/exposition_formats): a "# HELP"
 * and a "# TYPE" line before each family, one sample a line. docs/api.md lists them. */
#include <inttypes.h>
#include <string.h>

#include "api/http_operator.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* A family with one unlabelled sample. */
struct family {
    const char *name;
    const char *type; /* "gauge" or "counter" */
    const char *help;
    uint64_t value;
};

static int families_append(struct syn_buf *b, const struct family *f, size_t count)
{
    int rc = 0;
    for (size_t i = 0; i < count && rc == 0; i++) {
        rc = api_buf_appendf(b, "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n", f[i].name,
                             f[i].help, f[i].name, f[i].type, f[i].name, f[i].value);
    }
    return rc;
}

/* A label value: the format escapes '\', '"' and newlines. Member names are plain words
 * (api_admin.h) and this node's name is checked at start, so this is a second guard. */
static int label_value(struct syn_buf *b, const char *s)
{
    int rc = 0;
    for (; *s != '\0' && rc == 0; s++) {
        const char *esc = *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : *s == '\n' ? "\\n" : NULL;
        rc = esc != NULL ? syn_buf_append(b, esc, 2) : syn_buf_append(b, s, 1);
    }
    return rc;
}

/* synod_raft_member_match_index and synod_raft_member_lag, one sample a member: the leader's
 * knowledge, so only the leader exports them. */
static int member_families(struct syn_buf *b, const struct service_info *info)
{
    static const char *const names[] = {"synod_raft_member_match_index", "synod_raft_member_lag"};
    static const char *const helps[] = {
        "The last log index the leader knows is stored on the member (leader only).",
        "Log entries the member is behind the leader's last index (leader only).",
    };
    int rc = 0;
    for (size_t f = 0; f < 2 && rc == 0; f++) {
        rc = api_buf_appendf(b, "# HELP %s %s\n# TYPE %s gauge\n", names[f], helps[f], names[f]);
        for (uint32_t i = 0; i < info->member_count && rc == 0; i++) {
            const struct service_member *m = &info->members[i];
            uint64_t lag =
                info->last_index > m->match_index ? info->last_index - m->match_index : 0;
            rc = api_buf_appendf(b, "%s{member=\"", names[f]);
            rc = rc == 0 ? label_value(b, m->name) : rc;
            rc = rc == 0 ? api_buf_appendf(b, "\"} %" PRIu64 "\n", f == 0 ? m->match_index : lag)
                         : rc;
        }
    }
    return rc;
}

static int raft_families(struct syn_buf *b, const struct service_info *info, bool leader)
{
    const struct family families[] = {
        {"synod_raft_term", "gauge", "The current Raft term.", info->term},
        {"synod_raft_commit_index", "gauge", "The highest log index known to be committed.",
         info->commit_index},
        {"synod_raft_applied_index", "gauge", "The highest log index applied to the store.",
         info->applied_index},
        {"synod_raft_last_index", "gauge", "The last index in the log.", info->last_index},
        {"synod_raft_snapshot_index", "gauge", "The last index the latest snapshot covers.",
         info->snapshot_index},
        {"synod_raft_is_leader", "gauge", "1 when this node is the leader.", leader ? 1u : 0u},
        {"synod_raft_has_leader", "gauge", "1 when this node knows a leader.",
         info->leader_name[0] != '\0' ? 1u : 0u},
    };
    uint32_t voters = 0;
    for (uint32_t i = 0; i < info->member_count; i++) {
        voters += info->members[i].voter ? 1u : 0u;
    }
    int rc = families_append(b, families, sizeof(families) / sizeof(families[0]));
    rc = rc == 0 ? api_buf_appendf(b,
                                   "# HELP synod_raft_members Members of the configuration, by "
                                   "role.\n# TYPE synod_raft_members gauge\n"
                                   "synod_raft_members{role=\"voter\"} %" PRIu32 "\n"
                                   "synod_raft_members{role=\"learner\"} %" PRIu32 "\n",
                                   voters, info->member_count - voters)
                 : rc;
    return rc == 0 && leader ? member_families(b, info) : rc;
}

static int histo_family(struct syn_buf *b, const char *name, const char *help,
                        const struct syn_histo *h)
{
    int rc = api_buf_appendf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    uint64_t cumulative = 0;
    for (uint32_t i = 0; i < SYN_HISTO_BOUNDS && rc == 0; i++) {
        cumulative += h->le[i];
        uint32_t us = syn_histo_bounds_us[i];
        rc = api_buf_appendf(b, "%s_bucket{le=\"%" PRIu32 ".%06" PRIu32 "\"} %" PRIu64 "\n",
                             name, us / 1000000u, us % 1000000u, cumulative);
    }
    return rc == 0 ? api_buf_appendf(b,
                                     "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n%s_sum %" PRIu64
                                     ".%09" PRIu64 "\n%s_count %" PRIu64 "\n",
                                     name, h->count, name, h->sum_ns / 1000000000u,
                                     h->sum_ns % 1000000000u, name, h->count)
                   : rc;
}

static int disk_families(struct syn_buf *b, const struct service_info *info)
{
    int rc = histo_family(b, "synod_wal_fsync_duration_seconds",
                          "Writing and fsyncing the Raft log, per Ready that must be durable.",
                          &info->wal_sync);
    return rc == 0 ? histo_family(b, "synod_store_commit_duration_seconds",
                                  "Committing one batch of applied entries to the store.",
                                  &info->store_commit)
                   : rc;
}

static int http_families(struct syn_buf *b, const struct http_server_stats *st)
{
    const struct family families[] = {
        {"synod_http_requests_total", "counter", "HTTP requests answered, malformed ones included.",
         st->requests},
        {"synod_http_errors_total", "counter", "HTTP responses with a 4xx or 5xx status.",
         st->errors},
        {"synod_http_connections_open", "gauge", "Open HTTP connections.", st->connections_open},
        {"synod_http_connections_accepted_total", "counter",
         "HTTP connections accepted, refused ones included.", st->connections_accepted},
        {"synod_http_connections_refused_total", "counter",
         "HTTP connections refused over the connection limit.", st->connections_refused},
        {"synod_http_connections_timed_out_total", "counter",
         "HTTP connections closed by the idle timeout.", st->connections_timed_out},
    };
    return families_append(b, families, sizeof(families) / sizeof(families[0]));
}

/* GET /metrics */
void http_operator_metrics(struct http_exchange *ex)
{
    struct http_server *srv = ex->srv;
    struct syn_buf *b = &srv->body;
    syn_buf_reset(b);
    service_info(srv->svc, &srv->info);
    const struct service_info *info = &srv->info;
    struct http_server_stats st;
    http_server_stats(srv, &st);
    bool leader = info->role != NULL && strcmp(info->role, "leader") == 0;
    const struct family serving = {"synod_serving", "gauge",
                                   "1 while the node can serve requests (its disk works).",
                                   info->serving ? 1u : 0u};
    int rc = api_buf_appendf(b, "# HELP synod_info The node's name and synod's version.\n"
                                "# TYPE synod_info gauge\nsynod_info{node=\"");
    rc = rc == 0 ? label_value(b, info->name) : rc;
    rc = rc == 0 ? api_buf_appendf(b, "\",version=\"%s\"} 1\n", srv->version) : rc;
    rc = rc == 0 ? families_append(b, &serving, 1) : rc;
    rc = rc == 0 ? raft_families(b, info, leader) : rc;
    rc = rc == 0 ? disk_families(b, info) : rc;
    rc = rc == 0 ? http_families(b, &st) : rc;
    http_operator_respond(ex, rc, 200, METRICS_CONTENT_TYPE);
}
