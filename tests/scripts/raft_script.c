/* raft_script.c: runs the Raft interaction scripts of tests/scripts/raft/ (STYLE 14):
 *
 *     raft_script [--rewrite] tests/scripts/raft/NAME.txt
 *
 * Commands (ids are node ids; a ROUTE is FROM->TO where either side may be *):
 *   add-nodes N [election=T heartbeat=T prevote=on|off check-quorum=on|off batch=N
 *                bytes=N inflight=N chunk=N seed=N]
 *                            start N nodes; the first ones are the initial voters, later ones
 *                            join empty; options stick for later add-nodes
 *   campaign ID              tick a follower alone until its election timeout fires
 *   tick ID|all [N]          N ticks (default 1)
 *   propose ID DATA...       one proposal per DATA word
 *   read-index ID REQID      ask for a linearizable read
 *   transfer ID TARGET       start a leadership transfer
 *   conf-change ID add-learner|add-voter|promote|remove NODE
 *   compact ID INDEX [size=BYTES trailing=N]
 *                            the shell took a snapshot at INDEX: compact the core's log
 *   process-ready ID|all     carry out the node's Readies
 *   deliver [ROUTE]          step queued messages into their recipients (default *->*)
 *   drop ROUTE               lose queued messages
 *   isolate ID / heal        cut a node off from the network / restore every link
 *   stabilize                Readies and deliveries until nothing moves
 *   rounds N                 the same, N rounds at most (a round: every node's Readies, then
 *                            every queued message)
 *   inject FROM->TO TYPE [term=N index=N log-term=N commit=N hint=N hint-term=N context=N
 *                offset=N len=N snap=I/T snap-size=N entries=T/I,... reject transfer last]
 *                            step a hand-made message (TYPE: a name or a number)
 *   status ID / log ID / raft-state
 *   quiet COMMAND...         run a command, print nothing (unless it is wrong)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "harness/raft_env.h"
#include "harness/raft_text.h"
#include "harness/script.h"

#define LLU(x) ((unsigned long long)(x))
#define INJECT_ENTRIES_MAX 16u
#define INJECT_CHUNK_SIZE_MAX (2u * SYN_SNAPSHOT_CHUNK_SIZE_MAX) /* room for one too large */

struct state {
    struct renv env;
    struct raft_config tmpl; /* add-nodes options, sticky */
};

/* ---- Arguments ------------------------------------------------------------------------- */

static bool parse_u64(const char *s, uint64_t *v)
{
    char *end;
    if (s[0] < '0' || s[0] > '9') {
        return false;
    }
    *v = strtoull(s, &end, 10);
    return *end == '\0';
}

static bool parse_id(const char *s, raft_id *id)
{
    if (strcmp(s, "*") == 0) {
        *id = 0;
        return true;
    }
    return parse_u64(s, id) && *id != 0;
}

/* FROM->TO, either side * (0). */
static bool parse_route(const char *s, raft_id *from, raft_id *to)
{
    const char *arrow = strstr(s, "->");
    char left[32];
    if (arrow == NULL || (size_t)(arrow - s) >= sizeof(left)) {
        return false;
    }
    memcpy(left, s, (size_t)(arrow - s));
    left[arrow - s] = '\0';
    return parse_id(left, from) && parse_id(arrow + 2, to);
}

static struct renv_node *arg_node(struct state *s, const char *arg, struct text *out)
{
    uint64_t id;
    struct renv_node *n = parse_u64(arg, &id) ? renv_node(&s->env, id) : NULL;
    if (n == NULL) {
        text_printf(out, "no node %s\n", arg);
    }
    return n;
}

/* Splits key=value in place; value is NULL for a bare word. */
static char *split_kv(char *arg, char **value)
{
    char *eq = strchr(arg, '=');
    *value = NULL;
    if (eq != NULL) {
        *eq = '\0';
        *value = eq + 1;
    }
    return arg;
}

static int bad_value(struct text *out, const char *key, const char *value)
{
    text_printf(out, "bad option %s=%s\n", key, value == NULL ? "" : value);
    return -1;
}

static void print_error(struct text *out, struct renv_node *n, int rc)
{
    if (rc != 0) {
        text_printf(out, "error %s: %s\n", syn_errname(rc), raft_errmsg(n->raft));
    }
}

/* ---- Describing state -------------------------------------------------------------------- */

static void state_line(struct state *s, struct renv_node *n, struct text *out)
{
    struct raft_status *st = text_xcalloc(1, sizeof(*st));
    raft_status(n->raft, st);
    text_printf(out, "%llu: %s term=%llu leader=%llu commit=%llu conf=(", LLU(n->id),
                raft_role_name(st->role), LLU(st->term), LLU(st->leader), LLU(st->commit_index));
    rtext_conf(out, &st->conf);
    text_printf(out, ")%s\n", s->env.isolated[n->id] ? " isolated" : "");
    free(st);
}

static const char *const progress_names[] = {"probe", "replicate", "snapshot"};

static void status_peers(const struct raft_status *st, struct text *out)
{
    for (uint32_t i = 0; i < st->peer_count; i++) {
        const struct raft_peer_status *p = &st->peers[i];
        if (p->id == st->id) {
            continue;
        }
        text_printf(out, "  %llu: %s match=%llu next=%llu inflight=%u%s\n", LLU(p->id),
                    progress_names[p->state], LLU(p->match_index), LLU(p->next_index), p->inflight,
                    p->recent_active ? " active" : "");
    }
}

static int cmd_status(struct state *s, int argc, char **argv, struct text *out)
{
    struct renv_node *n = arg_node(s, argv[1], out);
    if (n == NULL) {
        return -1;
    }
    struct raft_status *st = text_xcalloc(1, sizeof(*st));
    raft_status(n->raft, st);
    text_printf(
        out,
        "%llu: %s term=%llu vote=%llu leader=%llu commit=%llu applied=%llu last=(%llu,%llu) "
        "snapshot=(%llu,%llu)\n  conf: ",
        LLU(st->id), raft_role_name(st->role), LLU(st->term), LLU(st->vote), LLU(st->leader),
        LLU(st->commit_index), LLU(st->applied_index), LLU(st->last_index), LLU(st->last_term),
        LLU(st->snapshot_index), LLU(st->snapshot_term));
    rtext_conf(out, &st->conf);
    text_printf(out, " (index %llu)\n", LLU(st->conf_index));
    if (st->role == RAFT_LEADER) {
        status_peers(st, out);
    }
    free(st);
    return 0;
}

static int cmd_log(struct state *s, int argc, char **argv, struct text *out)
{
    struct renv_node *n = arg_node(s, argv[1], out);
    if (n == NULL) {
        return -1;
    }
    struct raft_status *st = text_xcalloc(1, sizeof(*st));
    raft_status(n->raft, st);
    uint64_t last = st->last_index;
    text_printf(out, "%llu: snapshot=(%llu,%llu) commit=%llu last=%llu\n", LLU(n->id),
                LLU(st->snapshot_index), LLU(st->snapshot_term), LLU(st->commit_index), LLU(last));
    free(st);
    for (uint64_t i = 1; i <= last; i++) {
        const struct raft_entry *e = raft_entry_at(n->raft, i);
        if (e != NULL) {
            text_printf(out, "  ");
            rtext_entry(out, e);
            text_printf(out, "\n");
        }
    }
    return 0;
}

static int cmd_raft_state(struct state *s, int argc, char **argv, struct text *out)
{
    for (uint32_t i = 0; i < s->env.node_count; i++) {
        state_line(s, &s->env.nodes[i], out);
    }
    return 0;
}

/* ---- Nodes and time ---------------------------------------------------------------------- */

static bool parse_on_off(const char *value, bool *b)
{
    if (value != NULL && (strcmp(value, "on") == 0 || strcmp(value, "off") == 0)) {
        *b = strcmp(value, "on") == 0;
        return true;
    }
    return false;
}

static bool set_u32(const char *value, uint32_t *field)
{
    uint64_t v;
    if (value == NULL || !parse_u64(value, &v) || v > UINT32_MAX) {
        return false;
    }
    *field = (uint32_t)v;
    return true;
}

static bool set_option(struct raft_config *c, const char *key, const char *value)
{
    if (strcmp(key, "prevote") == 0) {
        return parse_on_off(value, &c->pre_vote);
    }
    if (strcmp(key, "check-quorum") == 0) {
        return parse_on_off(value, &c->check_quorum);
    }
    if (strcmp(key, "seed") == 0) {
        return value != NULL && parse_u64(value, &c->seed);
    }
    struct {
        const char *key;
        uint32_t *field;
    } const u32s[] = {
        {"election", &c->election_ticks},  {"heartbeat", &c->heartbeat_ticks},
        {"batch", &c->append_entries_max}, {"bytes", &c->append_bytes_max},
        {"inflight", &c->inflight_max},    {"chunk", &c->snapshot_chunk_size},
    };
    for (size_t i = 0; i < sizeof(u32s) / sizeof(u32s[0]); i++) {
        if (strcmp(key, u32s[i].key) == 0) {
            return set_u32(value, u32s[i].field);
        }
    }
    return false;
}

static int cmd_add_nodes(struct state *s, int argc, char **argv, struct text *out)
{
    uint64_t count;
    if (!parse_u64(argv[1], &count) || count == 0 || count > RENV_NODES_MAX) {
        return bad_value(out, "count", argv[1]);
    }
    for (int i = 2; i < argc; i++) {
        char *value;
        char *key = split_kv(argv[i], &value);
        if (!set_option(&s->tmpl, key, value)) {
            return bad_value(out, key, value);
        }
    }
    uint32_t first = s->env.node_count;
    int rc = renv_add_nodes(&s->env, (uint32_t)count, &s->tmpl);
    if (rc != 0) {
        text_printf(out, "cannot start nodes: %s\n", syn_errname(rc));
        return -1;
    }
    for (uint32_t i = first; i < s->env.node_count; i++) {
        state_line(s, &s->env.nodes[i], out);
    }
    return 0;
}

/* The core has no "campaign" input: tick the node alone until its randomized election
 * timeout, which is below 2 * election_ticks, fires. */
static int cmd_campaign(struct state *s, int argc, char **argv, struct text *out)
{
    struct renv_node *n = arg_node(s, argv[1], out);
    if (n == NULL) {
        return -1;
    }
    if (raft_role(n->raft) != RAFT_FOLLOWER) {
        text_printf(out, "%s is not a follower\n", argv[1]);
        return -1;
    }
    uint32_t bound = 2 * n->config.election_ticks;
    for (uint32_t t = 0; t < bound && raft_role(n->raft) == RAFT_FOLLOWER; t++) {
        raft_tick(n->raft);
    }
    if (raft_role(n->raft) == RAFT_FOLLOWER) {
        text_printf(out, "> %llu did not campaign within %u ticks\n", LLU(n->id), bound);
    }
    renv_observe(n, "> ");
    return 0;
}

static void tick_node(struct renv_node *n, uint64_t times)
{
    for (uint64_t t = 0; t < times; t++) {
        raft_tick(n->raft);
        renv_observe(n, "> ");
    }
}

static int cmd_tick(struct state *s, int argc, char **argv, struct text *out)
{
    uint64_t times = 1;
    if (argc > 2 && (!parse_u64(argv[2], &times) || times > 100000)) {
        return bad_value(out, "ticks", argv[2]);
    }
    if (strcmp(argv[1], "all") == 0) {
        for (uint64_t t = 0; t < times; t++) {
            for (uint32_t i = 0; i < s->env.node_count; i++) {
                tick_node(&s->env.nodes[i], 1);
            }
        }
        return 0;
    }
    struct renv_node *n = arg_node(s, argv[1], out);
    if (n == NULL) {
        return -1;
    }
    tick_node(n, times);
    return 0;
}

static int cmd_process_ready(struct state *s, int argc, char **argv, struct text *out)
{
    if (strcmp(argv[1], "all") == 0) {
        for (uint32_t i = 0; i < s->env.node_count; i++) {
            renv_process_ready(&s->env.nodes[i]);
        }
        return 0;
    }
    struct renv_node *n = arg_node(s, argv[1], out);
    if (n == NULL) {
        return -1;
    }
    renv_process_ready(n);
    return 0;
}

/* ---- Client requests --------------------------------------------------------------------- */

static int cmd_propose(struct state *s, int argc, char **argv, struct text *out)
{
    struct renv_node *n = arg_node(s, argv[1], out);
    if (n == NULL) {
        return -1;
    }
    for (int i = 2; i < argc; i++) {
        uint64_t index, term;
        int rc = raft_propose(n->raft, (const uint8_t *)argv[i], (uint32_t)strlen(argv[i]), &index,
                              &term);
        print_error(out, n, rc);
    }
    return 0;
}

/* COMMAND ID NUMBER ...: the node and the number, or NULL with out saying why. */
static struct renv_node *arg_node_number(struct state *s, char **argv, const char *what,
                                         uint64_t *number, struct text *out)
{
    struct renv_node *n = arg_node(s, argv[1], out);
    if (n != NULL && !parse_u64(argv[2], number)) {
        bad_value(out, what, argv[2]);
        return NULL;
    }
    return n;
}

/* COMMAND ID NUMBER: calls the core with the number and prints its error, if any. */
static int call_with_number(struct state *s, char **argv, const char *what,
                            int (*call)(struct raft *r, uint64_t number), struct text *out)
{
    uint64_t number;
    struct renv_node *n = arg_node_number(s, argv, what, &number, out);
    if (n == NULL) {
        return -1;
    }
    print_error(out, n, call(n->raft, number));
    return 0;
}

static int cmd_read_index(struct state *s, int argc, char **argv, struct text *out)
{
    return call_with_number(s, argv, "request id", raft_read_index, out);
}

static int cmd_transfer(struct state *s, int argc, char **argv, struct text *out)
{
    return call_with_number(s, argv, "target", raft_transfer_leader, out);
}

static int cmd_conf_change(struct state *s, int argc, char **argv, struct text *out)
{
    static const char *const ops[] = {
        [RAFT_CONF_ADD_VOTER] = "add-voter",
        [RAFT_CONF_ADD_LEARNER] = "add-learner",
        [RAFT_CONF_PROMOTE] = "promote",
        [RAFT_CONF_REMOVE] = "remove",
    };
    struct renv_node *n = arg_node(s, argv[1], out);
    uint64_t id;
    if (n == NULL || !parse_u64(argv[3], &id)) {
        return n == NULL ? -1 : bad_value(out, "node", argv[3]);
    }
    for (int op = RAFT_CONF_ADD_VOTER; op <= RAFT_CONF_REMOVE; op++) {
        if (strcmp(argv[2], ops[op]) == 0) {
            char addr[32];
            snprintf(addr, sizeof(addr), "n%llu", LLU(id));
            uint64_t index, term;
            int rc = raft_propose_conf(n->raft, (enum raft_conf_op)op, id, addr, &index, &term);
            print_error(out, n, rc);
            return 0;
        }
    }
    return bad_value(out, "op", argv[2]);
}

static int cmd_compact(struct state *s, int argc, char **argv, struct text *out)
{
    uint64_t index, size = 100, trailing = 0;
    struct renv_node *n = arg_node_number(s, argv, "index", &index, out);
    if (n == NULL) {
        return -1;
    }
    for (int i = 3; i < argc; i++) {
        char *value;
        char *key = split_kv(argv[i], &value);
        uint64_t *field = strcmp(key, "size") == 0       ? &size
                          : strcmp(key, "trailing") == 0 ? &trailing
                                                         : NULL;
        if (field == NULL || value == NULL || !parse_u64(value, field)) {
            return bad_value(out, key, value);
        }
    }
    struct raft_snapshot_meta meta;
    int rc = raft_snapshot_meta_at(n->raft, index, &meta);
    if (rc == 0) {
        meta.size = size; /* the shell's snapshot: size zero bytes (message.h) */
        rc = raft_compact(n->raft, &meta, trailing);
    }
    print_error(out, n, rc);
    return 0;
}

/* ---- The network --------------------------------------------------------------------------- */

static int cmd_deliver(struct state *s, int argc, char **argv, struct text *out)
{
    raft_id from = 0, to = 0;
    if (argc > 1 && !parse_route(argv[1], &from, &to)) {
        return bad_value(out, "route", argv[1]);
    }
    renv_deliver(&s->env, from, to);
    return 0;
}

static int cmd_drop(struct state *s, int argc, char **argv, struct text *out)
{
    raft_id from, to;
    if (!parse_route(argv[1], &from, &to)) {
        return bad_value(out, "route", argv[1]);
    }
    renv_drop(&s->env, from, to);
    return 0;
}

static int cmd_isolate(struct state *s, int argc, char **argv, struct text *out)
{
    struct renv_node *n = arg_node(s, argv[1], out);
    if (n == NULL) {
        return -1;
    }
    renv_isolate(&s->env, n->id);
    return 0;
}

static int cmd_heal(struct state *s, int argc, char **argv, struct text *out)
{
    renv_heal(&s->env);
    return 0;
}

static int cmd_stabilize(struct state *s, int argc, char **argv, struct text *out)
{
    if (renv_stabilize(&s->env) != 0) {
        text_printf(out, "still busy after %u rounds\n", RENV_STABILIZE_ROUNDS_MAX);
    }
    return 0;
}

static int cmd_rounds(struct state *s, int argc, char **argv, struct text *out)
{
    uint64_t rounds;
    if (!parse_u64(argv[1], &rounds) || rounds > RENV_STABILIZE_ROUNDS_MAX) {
        return bad_value(out, "rounds", argv[1]);
    }
    for (uint64_t i = 0; i < rounds && renv_round(&s->env); i++) {
    }
    return 0;
}

/* ---- Hand-made messages ------------------------------------------------------------------- */

struct inject {
    struct raft_message msg;
    struct raft_entry entries[INJECT_ENTRIES_MAX];
};

static bool parse_entries(char *value, struct inject *in)
{
    for (char *item = strtok(value, ","); item != NULL; item = strtok(NULL, ",")) {
        char *slash = strchr(item, '/');
        struct raft_entry *e = &in->entries[in->msg.entry_count];
        if (slash == NULL || in->msg.entry_count == INJECT_ENTRIES_MAX) {
            return false;
        }
        *slash = '\0';
        *e = (struct raft_entry){.type = RAFT_ENTRY_NORMAL};
        if (!parse_u64(item, &e->term) || !parse_u64(slash + 1, &e->index)) {
            return false;
        }
        in->msg.entry_count++;
    }
    in->msg.entries = in->entries;
    return true;
}

static bool inject_flag(struct raft_message *m, const char *key)
{
    static const struct {
        const char *name;
        uint32_t flag;
    } flags[] = {
        {"reject", RAFT_FLAG_REJECT}, {"transfer", RAFT_FLAG_TRANSFER}, {"last", RAFT_FLAG_LAST}};
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        if (strcmp(key, flags[i].name) == 0) {
            m->flags |= flags[i].flag;
            return true;
        }
    }
    return false;
}

static bool inject_field(struct inject *in, const char *key, char *value)
{
    struct raft_message *m = &in->msg;
    if (value == NULL) {
        return inject_flag(m, key);
    }
    if (strcmp(key, "entries") == 0) {
        return parse_entries(value, in);
    }
    if (strcmp(key, "snap") == 0) {
        char *slash = strchr(value, '/');
        return slash != NULL && (*slash = '\0', parse_u64(value, &m->snapshot.index)) &&
               parse_u64(slash + 1, &m->snapshot.term);
    }
    if (strcmp(key, "len") == 0) {
        uint64_t len;
        bool ok = parse_u64(value, &len) && len <= INJECT_CHUNK_SIZE_MAX;
        m->data_size = ok ? (uint32_t)len : 0;
        return ok;
    }
    struct {
        const char *key;
        uint64_t *field;
    } const u64s[] = {
        {"term", &m->term},       {"index", &m->index},   {"log-term", &m->log_term},
        {"commit", &m->commit},   {"hint", &m->hint},     {"hint-term", &m->hint_term},
        {"context", &m->context}, {"offset", &m->offset}, {"snap-size", &m->snapshot.size},
    };
    for (size_t i = 0; i < sizeof(u64s) / sizeof(u64s[0]); i++) {
        if (strcmp(key, u64s[i].key) == 0) {
            return parse_u64(value, u64s[i].field);
        }
    }
    return false;
}

static int cmd_inject(struct state *s, int argc, char **argv, struct text *out)
{
    struct inject in = {0};
    struct raft_message *m = &in.msg;
    uint64_t type;
    if (!parse_route(argv[1], &m->from, &m->to) || m->from == 0 || m->to == 0) {
        return bad_value(out, "route", argv[1]);
    }
    struct renv_node *n = renv_node(&s->env, m->to);
    if (n == NULL) {
        return bad_value(out, "route", argv[1]);
    }
    m->type = parse_u64(argv[2], &type) ? (uint32_t)type : rtext_msg_type_parse(argv[2]);
    if (m->type == 0 && strcmp(argv[2], "0") != 0) {
        return bad_value(out, "type", argv[2]);
    }
    for (int i = 3; i < argc; i++) {
        char *value;
        char *key = split_kv(argv[i], &value);
        if (!inject_field(&in, key, value)) {
            return bad_value(out, key, value);
        }
    }
    uint8_t *chunk = NULL;
    if (m->type == RAFT_MSG_SNAPSHOT) {
        struct raft_status *st = text_xcalloc(1, sizeof(*st));
        raft_status(n->raft, st);
        m->snapshot.conf = st->conf; /* a valid configuration: the recipient's own */
        free(st);
        chunk = text_xcalloc(1, (size_t)m->data_size + 1);
        m->data = chunk;
    }
    text_printf(out, "> %llu receiving messages\n", LLU(n->id));
    renv_step(n, m);
    free(chunk);
    return 0;
}

/* ---- Dispatch ------------------------------------------------------------------------------ */

struct command {
    const char *name;
    int args_min; /* words after the name */
    int args_max;
    int (*run)(struct state *s, int argc, char **argv, struct text *out);
};

static const struct command commands[] = {
    {"add-nodes", 1, 12, cmd_add_nodes},
    {"campaign", 1, 1, cmd_campaign},
    {"tick", 1, 2, cmd_tick},
    {"propose", 2, 60, cmd_propose},
    {"read-index", 2, 2, cmd_read_index},
    {"transfer", 2, 2, cmd_transfer},
    {"conf-change", 3, 3, cmd_conf_change},
    {"compact", 2, 4, cmd_compact},
    {"process-ready", 1, 1, cmd_process_ready},
    {"deliver", 0, 1, cmd_deliver},
    {"drop", 1, 1, cmd_drop},
    {"isolate", 1, 1, cmd_isolate},
    {"heal", 0, 0, cmd_heal},
    {"stabilize", 0, 0, cmd_stabilize},
    {"rounds", 1, 1, cmd_rounds},
    {"inject", 2, 20, cmd_inject},
    {"status", 1, 1, cmd_status},
    {"log", 1, 1, cmd_log},
    {"raft-state", 0, 0, cmd_raft_state},
};

static void *script_start(void)
{
    struct state *s = text_xcalloc(1, sizeof(*s));
    renv_init(&s->env);
    raft_config_default(&s->tmpl, 1);
    return s;
}

static void script_stop(void *state)
{
    struct state *s = state;
    renv_free(&s->env);
    free(s);
}

static int script_run(void *state, int argc, char **argv, struct text *out)
{
    struct state *s = state;
    if (strcmp(argv[0], "quiet") == 0 && argc > 1) {
        /* Runs a command for its effect only, e.g. to set a scene briefly. */
        struct text scratch = {0};
        int rc = script_run(state, argc - 1, argv + 1, &scratch);
        if (rc != 0) {
            text_printf(out, "%s", text_str(&scratch));
        }
        text_free(&scratch);
        return rc;
    }
    s->env.out = out;
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        const struct command *c = &commands[i];
        if (strcmp(argv[0], c->name) != 0) {
            continue;
        }
        if (argc - 1 < c->args_min || argc - 1 > c->args_max) {
            text_printf(out, "%s takes %d to %d arguments\n", c->name, c->args_min, c->args_max);
            return -1;
        }
        bool needs_nodes = strcmp(c->name, "add-nodes") != 0;
        if (needs_nodes && s->env.node_count == 0) {
            text_printf(out, "no nodes yet: add-nodes first\n");
            return -1;
        }
        return c->run(s, argc, argv, out);
    }
    text_printf(out, "unknown command\n");
    return -1;
}

int main(int argc, char **argv)
{
    static const struct script_ops ops = {script_start, script_stop, script_run};
    return script_main(argc, argv, &ops);
}
