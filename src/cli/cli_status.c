/* cli_status.c: a node's status, read and shown (cli_status.h). */
#include "cli/cli_status.h"

#include <inttypes.h>
#include <string.h>

#include "api/api_server.h"
#include "api/json.h"
#include "base/err.h"
#include "cli/cli_json.h"
#include "cli/cli_out.h"

static bool member_read(const struct cli_json *j, uint32_t m, struct cli_member *out)
{
    *out = (struct cli_member){0};
    uint32_t match = cli_json_get(j, m, "match_index");
    out->has_match = cli_json_type(j, match) == CLI_JSON_NUMBER;
    bool ok = cli_json_cstring(j, cli_json_get(j, m, "name"), out->name, sizeof(out->name)) &&
              cli_json_cstring(j, cli_json_get(j, m, "id"), out->id, sizeof(out->id)) &&
              cli_json_cstring(j, cli_json_get(j, m, "peer_addr"), out->peer_addr,
                               sizeof(out->peer_addr)) &&
              cli_json_bool(j, cli_json_get(j, m, "voter"), &out->voter) &&
              cli_json_bool(j, cli_json_get(j, m, "leader"), &out->leader) &&
              cli_json_bool(j, cli_json_get(j, m, "self"), &out->self);
    /* health and last_heard_ms: absent from nodes older than the failure detector */
    uint32_t health = cli_json_get(j, m, "health");
    if (ok && health != CLI_JSON_NONE) {
        ok = cli_json_cstring(j, health, out->health, sizeof(out->health)) &&
             cli_json_u64(j, cli_json_get(j, m, "last_heard_ms"), &out->last_heard_ms);
    }
    if (ok && out->has_match) {
        ok = cli_json_u64(j, match, &out->match_index) &&
             cli_json_u64(j, cli_json_get(j, m, "lag"), &out->lag);
    }
    return ok;
}

static bool node_read(const struct cli_json *j, struct cli_status *st)
{
    return cli_json_cstring(j, cli_json_get(j, 0, "node"), st->node, sizeof(st->node)) &&
           cli_json_cstring(j, cli_json_get(j, 0, "id"), st->id, sizeof(st->id)) &&
           cli_json_cstring(j, cli_json_get(j, 0, "role"), st->role, sizeof(st->role)) &&
           cli_json_u64(j, cli_json_get(j, 0, "term"), &st->term) &&
           cli_json_cstring(j, cli_json_get(j, 0, "leader"), st->leader, sizeof(st->leader)) &&
           cli_json_u64(j, cli_json_get(j, 0, "commit_index"), &st->commit_index) &&
           cli_json_u64(j, cli_json_get(j, 0, "applied_index"), &st->applied_index) &&
           cli_json_u64(j, cli_json_get(j, 0, "last_index"), &st->last_index) &&
           cli_json_u64(j, cli_json_get(j, 0, "snapshot_index"), &st->snapshot_index) &&
           cli_json_bool(j, cli_json_get(j, 0, "serving"), &st->serving);
}

int cli_status_parse(const uint8_t *body, size_t size, struct cli_status *st)
{
    *st = (struct cli_status){0};
    struct cli_json j;
    bool ok = cli_json_parse(&j, body, size) == 0 && node_read(&j, st);
    uint32_t members = ok ? cli_json_get(&j, 0, "members") : CLI_JSON_NONE;
    ok = ok && cli_json_type(&j, members) == CLI_JSON_ARRAY;
    for (uint32_t m = ok ? cli_json_first(&j, members) : CLI_JSON_NONE; m != CLI_JSON_NONE && ok;
         m = cli_json_next(&j, members, m)) {
        ok = st->member_count < SYN_MEMBERS_MAX &&
             member_read(&j, m, &st->members[st->member_count++]);
    }
    cli_json_free(&j);
    if (ok && cli_status_is_leader(st)) {
        memcpy(st->match_from, st->node, sizeof(st->node));
    }
    return ok ? 0 : SYN_EBADMSG;
}

bool cli_status_is_leader(const struct cli_status *st)
{
    return strcmp(st->role, "leader") == 0;
}

void cli_status_merge(struct cli_status *st, const struct cli_status *leader)
{
    for (uint32_t i = 0; i < st->member_count; i++) {
        struct cli_member *m = &st->members[i];
        m->has_match = false;
        for (uint32_t k = 0; k < leader->member_count; k++) {
            const struct cli_member *l = &leader->members[k];
            if (strcmp(l->name, m->name) == 0 && l->has_match) {
                m->has_match = true;
                m->match_index = l->match_index;
                m->lag = l->lag;
            }
        }
    }
    memcpy(st->match_from, leader->node, sizeof(st->match_from));
}

/* ---- Output -------------------------------------------------------------------------- */

static int member_json(struct syn_buf *b, const struct cli_member *m)
{
    struct json_obj o;
    json_obj_begin(&o, b);
    json_obj_str(&o, "name", m->name);
    json_obj_str(&o, "id", m->id);
    json_obj_str(&o, "peer_addr", m->peer_addr);
    json_obj_bool(&o, "voter", m->voter);
    json_obj_bool(&o, "leader", m->leader);
    json_obj_bool(&o, "self", m->self);
    json_obj_str(&o, "health", m->health[0] != '\0' ? m->health : "unknown");
    json_obj_u64(&o, "last_heard_ms", m->last_heard_ms);
    if (m->has_match) {
        json_obj_u64(&o, "match_index", m->match_index);
        json_obj_u64(&o, "lag", m->lag);
    } else {
        json_obj_null(&o, "match_index");
        json_obj_null(&o, "lag");
    }
    return json_obj_end(&o);
}

int cli_status_json(const struct cli_status *st, struct syn_buf *out)
{
    struct json_obj o;
    json_obj_begin(&o, out);
    json_obj_str(&o, "node", st->node);
    json_obj_str(&o, "id", st->id);
    json_obj_str(&o, "role", st->role);
    json_obj_u64(&o, "term", st->term);
    json_obj_str(&o, "leader", st->leader);
    json_obj_u64(&o, "commit_index", st->commit_index);
    json_obj_u64(&o, "applied_index", st->applied_index);
    json_obj_u64(&o, "last_index", st->last_index);
    json_obj_u64(&o, "snapshot_index", st->snapshot_index);
    json_obj_bool(&o, "serving", st->serving);
    json_obj_str(&o, "match_from", st->match_from);
    if (json_obj_key(&o, "members")) {
        o.rc = syn_buf_append(out, "[", 1);
        for (uint32_t i = 0; i < st->member_count && o.rc == 0; i++) {
            o.rc = i > 0 ? syn_buf_append(out, ",", 1) : 0;
            o.rc = o.rc == 0 ? member_json(out, &st->members[i]) : o.rc;
        }
        o.rc = o.rc == 0 ? syn_buf_append(out, "]", 1) : o.rc;
    }
    int rc = json_obj_end(&o);
    return rc == 0 ? syn_buf_append(out, "\n", 1) : rc;
}

static int summary_text(const struct cli_status *st, struct syn_buf *out)
{
    int rc = api_buf_appendf(out, "node %s: %s, term %" PRIu64 ", %s%s%s\n", st->node, st->role,
                             st->term, st->leader[0] != '\0' ? "leader " : "no leader known",
                             st->leader, st->serving ? "" : ", NOT SERVING (disk failure)");
    rc = rc == 0 ? api_buf_appendf(out,
                                   "commit index %" PRIu64 ", applied index %" PRIu64
                                   ", last index %" PRIu64 ", snapshot index %" PRIu64 "\n",
                                   st->commit_index, st->applied_index, st->last_index,
                                   st->snapshot_index)
                 : rc;
    if (rc == 0 && st->match_from[0] != '\0' && strcmp(st->match_from, st->node) != 0) {
        rc = api_buf_appendf(out, "match indexes and lags as leader %s knows them\n",
                             st->match_from);
    } else if (rc == 0 && st->match_from[0] == '\0') {
        rc = api_buf_appendf(out, "match indexes and lags unknown: no leader could be asked\n");
    }
    return rc == 0 ? syn_buf_append(out, "\n", 1) : rc;
}

int cli_status_text(const struct cli_status *st, bool summary, struct syn_buf *out)
{
    int rc = summary ? summary_text(st, out) : 0;
    struct cli_table t;
    cli_table_init(&t, 9);
    static const char *const header[] = {"NAME",   "ID",          "PEER ADDRESS", "ROLE",
                                         "LEADER", "HEALTH",      "LAST HEARD",   "MATCH INDEX",
                                         "LAG"};
    for (size_t c = 0; c < 9; c++) {
        cli_table_add(&t, "%s", header[c]);
    }
    for (uint32_t i = 0; i < st->member_count; i++) {
        const struct cli_member *m = &st->members[i];
        cli_table_add(&t, "%s%s", m->name, m->self ? " (this node)" : "");
        cli_table_add(&t, "%s", m->id);
        cli_table_add(&t, "%s", m->peer_addr);
        cli_table_add(&t, "%s", m->voter ? "voter" : "learner");
        cli_table_add(&t, "%s", m->leader ? "*" : "");
        cli_table_add(&t, "%s", m->health[0] != '\0' ? m->health : "-");
        if (m->self || m->health[0] == '\0') {
            cli_table_add(&t, "-");
        } else {
            cli_table_add(&t, "%" PRIu64 " ms ago", m->last_heard_ms);
        }
        if (m->has_match) {
            cli_table_add(&t, "%" PRIu64, m->match_index);
            cli_table_add(&t, "%" PRIu64, m->lag);
        } else {
            cli_table_add(&t, "-");
            cli_table_add(&t, "-");
        }
    }
    rc = rc == 0 ? cli_table_format(&t, out) : rc;
    cli_table_free(&t);
    return rc;
}
