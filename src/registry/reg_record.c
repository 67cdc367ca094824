/* reg_record.c: encoding and validating registry records and commands (reg_record.h). */
#include "registry/reg_record.h"

#include <string.h>

#include "base/err.h"

#define REG_CMD_VERSION 1u /* = KV_CMD_VERSION: one command header for the state machine */

/* ---- Writing ------------------------------------------------------------------------- */

/* A writer with a sticky error, so a record is a list of appends. */
struct writer {
    struct syn_buf *out;
    int rc;
};

static void put_u8(struct writer *w, uint8_t v)
{
    if (w->rc == 0) {
        w->rc = syn_buf_append_u8(w->out, v);
    }
}

static void put_u16(struct writer *w, uint16_t v)
{
    if (w->rc == 0) {
        w->rc = syn_buf_append_u16le(w->out, v);
    }
}

static void put_u32(struct writer *w, uint32_t v)
{
    if (w->rc == 0) {
        w->rc = syn_buf_append_u32le(w->out, v);
    }
}

static void put_u64(struct writer *w, uint64_t v)
{
    if (w->rc == 0) {
        w->rc = syn_buf_append_u64le(w->out, v);
    }
}

static void put_str(struct writer *w, const char *s)
{
    size_t n = strlen(s);
    if (n > UINT16_MAX) {
        w->rc = w->rc != 0 ? w->rc : SYN_ETOOBIG;
        return;
    }
    put_u16(w, (uint16_t)n);
    if (w->rc == 0) {
        w->rc = syn_buf_append(w->out, s, n);
    }
}

static int writer_end(struct writer *w, size_t start)
{
    if (w->rc != 0) {
        w->out->len = start;
    }
    return w->rc;
}

/* ---- Reading untrusted bytes --------------------------------------------------------- */

struct reader {
    const uint8_t *p;
    size_t left;
    bool bad;
};

static const uint8_t *take(struct reader *r, size_t n)
{
    if (r->bad || r->left < n) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    r->left -= n;
    return p;
}

static uint8_t get_u8(struct reader *r)
{
    const uint8_t *p = take(r, 1);
    return p != NULL ? p[0] : 0;
}

static uint16_t get_u16(struct reader *r)
{
    const uint8_t *p = take(r, 2);
    return p != NULL ? syn_get_u16le(p) : 0;
}

static uint32_t get_u32(struct reader *r)
{
    const uint8_t *p = take(r, 4);
    return p != NULL ? syn_get_u32le(p) : 0;
}

static uint64_t get_u64(struct reader *r)
{
    const uint8_t *p = take(r, 8);
    return p != NULL ? syn_get_u64le(p) : 0;
}

/* A str into out (size_max bytes at most, NUL-terminated); no NUL inside. */
static void get_str(struct reader *r, char *out, size_t size_max)
{
    uint16_t n = get_u16(r);
    const uint8_t *p = n <= size_max ? take(r, n) : NULL;
    if (p == NULL || (n > 0 && memchr(p, '\0', n) != NULL)) {
        r->bad = true;
        out[0] = '\0';
        return;
    }
    memcpy(out, p, n);
    out[n] = '\0';
}

/* ---- Instances ----------------------------------------------------------------------- */

static bool check_needs_interval(uint8_t type)
{
    return type != REG_CHECK_TTL;
}

int reg_instance_check(const struct reg_instance *in, const char **why)
{
    *why = NULL;
    if (in->node[0] == '\0' || in->id[0] == '\0' || in->name[0] == '\0') {
        *why = "an instance needs a node, an ID and a name";
    }
    for (uint8_t i = 0; *why == NULL && i < in->check_count; i++) {
        const struct reg_check *c = &in->checks[i];
        if (c->id[0] == '\0' || c->type == 0 || c->type > REG_CHECK_TYPE_MAX) {
            *why = "a check needs an ID and a type";
        } else if (c->status == 0 || c->status > REG_STATUS_MAX || c->rise == 0 ||
                   c->fall == 0) {
            *why = "a check has a bad status or rise/fall count";
        } else if (check_needs_interval(c->type) && (c->interval_ms == 0 || c->target[0] == 0)) {
            *why = "a pid, tcp, http or exec check needs a target and an interval";
        } else if (c->type == REG_CHECK_TTL && c->ttl_ms == 0) {
            *why = "a ttl check needs a TTL";
        }
        for (uint8_t j = 0; *why == NULL && j < i; j++) {
            if (strcmp(in->checks[j].id, c->id) == 0) {
                *why = "two checks of an instance have the same ID";
            }
        }
    }
    if (*why == NULL && (in->tag_count > REG_TAGS_MAX || in->meta_count > REG_META_MAX ||
                         in->check_count > REG_CHECKS_MAX)) {
        *why = "too many tags, meta keys or checks";
    }
    return *why == NULL ? 0 : SYN_EINVAL;
}

static void check_put(struct writer *w, const struct reg_check *c)
{
    put_str(w, c->id);
    put_str(w, c->name);
    put_u8(w, c->type);
    put_str(w, c->target);
    put_u32(w, c->interval_ms);
    put_u32(w, c->timeout_ms);
    put_u32(w, c->ttl_ms);
    put_u8(w, c->rise);
    put_u8(w, c->fall);
    put_u64(w, c->deregister_after_ms);
    put_u8(w, c->status);
    put_str(w, c->output);
    put_u64(w, c->status_ms);
    put_u64(w, c->critical_since_ms);
    put_u64(w, c->modify_index);
}

static void instance_put(struct writer *w, const struct reg_instance *in)
{
    put_u8(w, REG_RECORD_VERSION);
    put_str(w, in->node);
    put_str(w, in->id);
    put_str(w, in->name);
    put_str(w, in->address);
    put_u16(w, in->port);
    put_u16(w, in->tag_count);
    for (uint16_t i = 0; i < in->tag_count; i++) {
        put_str(w, in->tags[i]);
    }
    put_u16(w, in->meta_count);
    for (uint16_t i = 0; i < in->meta_count; i++) {
        put_str(w, in->meta[i].key);
        put_str(w, in->meta[i].value);
    }
    put_u32(w, in->weight_passing);
    put_u32(w, in->weight_warning);
    put_u64(w, in->ttl_ms);
    put_u64(w, in->refreshed_ms);
    put_u64(w, in->create_index);
    put_u64(w, in->modify_index);
    put_u8(w, in->check_count);
    for (uint8_t i = 0; i < in->check_count; i++) {
        check_put(w, &in->checks[i]);
    }
}

int reg_instance_encode(struct syn_buf *out, const struct reg_instance *in)
{
    const char *why;
    if (reg_instance_check(in, &why) != 0) {
        return SYN_EINVAL;
    }
    struct writer w = {.out = out};
    size_t start = out->len;
    instance_put(&w, in);
    return writer_end(&w, start);
}

static void check_get(struct reader *r, struct reg_check *c)
{
    get_str(r, c->id, REG_NAME_SIZE_MAX);
    get_str(r, c->name, REG_NAME_SIZE_MAX);
    c->type = get_u8(r);
    get_str(r, c->target, REG_TARGET_SIZE_MAX);
    c->interval_ms = get_u32(r);
    c->timeout_ms = get_u32(r);
    c->ttl_ms = get_u32(r);
    c->rise = get_u8(r);
    c->fall = get_u8(r);
    c->deregister_after_ms = get_u64(r);
    c->status = get_u8(r);
    get_str(r, c->output, REG_OUTPUT_SIZE_MAX);
    c->status_ms = get_u64(r);
    c->critical_since_ms = get_u64(r);
    c->modify_index = get_u64(r);
}

static void instance_get(struct reader *r, struct reg_instance *in)
{
    if (get_u8(r) != REG_RECORD_VERSION) {
        r->bad = true;
        return;
    }
    get_str(r, in->node, REG_NAME_SIZE_MAX);
    get_str(r, in->id, REG_NAME_SIZE_MAX);
    get_str(r, in->name, REG_NAME_SIZE_MAX);
    get_str(r, in->address, REG_ADDRESS_SIZE_MAX);
    in->port = get_u16(r);
    in->tag_count = get_u16(r);
    for (uint16_t i = 0; i < in->tag_count && i < REG_TAGS_MAX && !r->bad; i++) {
        get_str(r, in->tags[i], REG_NAME_SIZE_MAX);
    }
    in->meta_count = get_u16(r);
    for (uint16_t i = 0; i < in->meta_count && i < REG_META_MAX && !r->bad; i++) {
        get_str(r, in->meta[i].key, REG_NAME_SIZE_MAX);
        get_str(r, in->meta[i].value, REG_META_VALUE_SIZE_MAX);
    }
    in->weight_passing = get_u32(r);
    in->weight_warning = get_u32(r);
    in->ttl_ms = get_u64(r);
    in->refreshed_ms = get_u64(r);
    in->create_index = get_u64(r);
    in->modify_index = get_u64(r);
    in->check_count = get_u8(r);
    for (uint8_t i = 0; i < in->check_count && i < REG_CHECKS_MAX && !r->bad; i++) {
        check_get(r, &in->checks[i]);
    }
}

int reg_instance_decode(const uint8_t *data, size_t size, struct reg_instance *in)
{
    struct reader r = {.p = data, .left = size};
    memset(in, 0, sizeof(*in));
    instance_get(&r, in);
    const char *why;
    if (r.bad || r.left != 0 || reg_instance_check(in, &why) != 0) {
        return SYN_EBADMSG;
    }
    return 0;
}

/* ---- Nodes --------------------------------------------------------------------------- */

static void node_put(struct writer *w, const struct reg_node *node)
{
    put_str(w, node->name);
    put_str(w, node->address);
    put_u8(w, node->health);
}

static bool node_get(struct reader *r, struct reg_node *node)
{
    get_str(r, node->name, REG_NAME_SIZE_MAX);
    get_str(r, node->address, REG_ADDRESS_SIZE_MAX);
    node->health = get_u8(r);
    return !r->bad && node->name[0] != '\0' && node->health >= 1 &&
           node->health <= REG_HEALTH_MAX;
}

int reg_node_encode(struct syn_buf *out, const struct reg_node *node)
{
    struct writer w = {.out = out};
    size_t start = out->len;
    put_u8(&w, REG_RECORD_VERSION);
    node_put(&w, node);
    put_u64(&w, node->changed_ms);
    put_u64(&w, node->modify_index);
    return writer_end(&w, start);
}

int reg_node_decode(const uint8_t *data, size_t size, struct reg_node *node)
{
    struct reader r = {.p = data, .left = size};
    memset(node, 0, sizeof(*node));
    bool ok = get_u8(&r) == REG_RECORD_VERSION && node_get(&r, node);
    node->changed_ms = get_u64(&r);
    node->modify_index = get_u64(&r);
    return ok && !r.bad && r.left == 0 ? 0 : SYN_EBADMSG;
}

/* ---- Names --------------------------------------------------------------------------- */

uint8_t reg_instance_status(const struct reg_instance *in)
{
    uint8_t worst = REG_PASSING;
    for (uint8_t i = 0; i < in->check_count; i++) {
        if (in->checks[i].status > worst) {
            worst = in->checks[i].status;
        }
    }
    return worst;
}

int reg_node_table_add(void *table, const struct reg_node *node)
{
    struct reg_node_table *t = table;
    if (t->count < REG_NODE_TABLE_MAX) {
        t->nodes[t->count++] = *node;
    }
    return 0;
}

const struct reg_node *reg_node_table_find(const struct reg_node_table *t, const char *name)
{
    for (uint32_t i = 0; i < t->count; i++) {
        if (strcmp(t->nodes[i].name, name) == 0) {
            return &t->nodes[i];
        }
    }
    return NULL;
}

uint8_t reg_node_table_health(const struct reg_node_table *t, const char *name)
{
    const struct reg_node *n = reg_node_table_find(t, name);
    return n != NULL ? n->health : REG_NODE_ALIVE;
}

bool reg_instance_healthy(const struct reg_instance *in, uint8_t node_health)
{
    return node_health != REG_NODE_FAILED && reg_instance_status(in) == REG_PASSING;
}

const char *reg_status_name(uint8_t status)
{
    static const char *const names[] = {"unknown", "passing", "warning", "critical"};
    return status <= REG_STATUS_MAX ? names[status] : "unknown";
}

const char *reg_health_name(uint8_t health)
{
    static const char *const names[] = {"unknown", "alive", "suspect", "failed"};
    return health <= REG_HEALTH_MAX ? names[health] : "unknown";
}

const char *reg_check_type_name(uint8_t type)
{
    static const char *const names[] = {"unknown", "ttl", "pid", "tcp", "http", "exec"};
    return type <= REG_CHECK_TYPE_MAX ? names[type] : "unknown";
}

int reg_status_parse(const char *text, uint8_t *status_out)
{
    for (uint8_t s = REG_PASSING; s <= REG_STATUS_MAX; s++) {
        if (strcmp(text, reg_status_name(s)) == 0) {
            *status_out = s;
            return 0;
        }
    }
    return SYN_EINVAL;
}

/* ---- Commands ------------------------------------------------------------------------ */

static void header_put(struct writer *w, uint8_t op, uint64_t now_ms)
{
    put_u8(w, REG_CMD_VERSION);
    put_u8(w, op);
    put_u64(w, now_ms);
}

int reg_cmd_encode_register(struct syn_buf *out, uint64_t now_ms, const struct reg_instance *in)
{
    const char *why;
    if (reg_instance_check(in, &why) != 0) {
        return SYN_EINVAL;
    }
    struct writer w = {.out = out};
    size_t start = out->len;
    header_put(&w, REG_OP_REGISTER, now_ms);
    instance_put(&w, in);
    return writer_end(&w, start);
}

int reg_cmd_encode_deregister(struct syn_buf *out, uint64_t now_ms, const char *node,
                              const char *id)
{
    struct writer w = {.out = out};
    size_t start = out->len;
    header_put(&w, REG_OP_DEREGISTER, now_ms);
    put_str(&w, node);
    put_str(&w, id);
    return writer_end(&w, start);
}

int reg_cmd_encode_check(struct syn_buf *out, uint64_t now_ms, const char *node,
                         const char *service_id, const char *check_id, uint8_t status,
                         const char *output)
{
    if (status == 0 || status > REG_STATUS_MAX || strlen(output) > REG_OUTPUT_SIZE_MAX) {
        return SYN_EINVAL;
    }
    struct writer w = {.out = out};
    size_t start = out->len;
    header_put(&w, REG_OP_CHECK, now_ms);
    put_str(&w, node);
    put_str(&w, service_id);
    put_str(&w, check_id);
    put_u8(&w, status);
    put_str(&w, output);
    return writer_end(&w, start);
}

int reg_cmd_encode_node(struct syn_buf *out, uint64_t now_ms, const struct reg_node *node)
{
    if (node->name[0] == '\0' || node->health == 0 || node->health > REG_HEALTH_MAX) {
        return SYN_EINVAL;
    }
    struct writer w = {.out = out};
    size_t start = out->len;
    header_put(&w, REG_OP_NODE, now_ms);
    node_put(&w, node);
    return writer_end(&w, start);
}

int reg_cmd_encode_reap(struct syn_buf *out, uint64_t now_ms, const struct reg_key *keys,
                        uint8_t count)
{
    if (count == 0 || count > REG_REAP_MAX) {
        return SYN_EINVAL;
    }
    struct writer w = {.out = out};
    size_t start = out->len;
    header_put(&w, REG_OP_REAP, now_ms);
    put_u8(&w, count);
    for (uint8_t i = 0; i < count; i++) {
        put_str(&w, keys[i].node);
        put_str(&w, keys[i].id);
    }
    return writer_end(&w, start);
}

bool reg_cmd_is_registry(const uint8_t *data, size_t size)
{
    return size >= 2 && data[1] >= REG_OP_FIRST && data[1] <= REG_OP_LAST;
}

static int cmd_bad(struct reg_cmd *cmd, const char *why)
{
    cmd->errmsg = why;
    return SYN_EBADMSG;
}

static bool key_get(struct reader *r, struct reg_key *key)
{
    get_str(r, key->node, REG_NAME_SIZE_MAX);
    get_str(r, key->id, REG_NAME_SIZE_MAX);
    return !r->bad && key->node[0] != '\0' && key->id[0] != '\0';
}

static int decode_body(struct reader *r, struct reg_cmd *cmd)
{
    switch (cmd->op) {
    case REG_OP_REGISTER: {
        instance_get(r, cmd->instance);
        const char *why;
        if (r->bad || reg_instance_check(cmd->instance, &why) != 0) {
            return cmd_bad(cmd, "a REGISTER's instance is malformed");
        }
        return 0;
    }
    case REG_OP_DEREGISTER:
        return key_get(r, &cmd->key) ? 0 : cmd_bad(cmd, "a DEREGISTER is malformed");
    case REG_OP_CHECK:
        if (!key_get(r, &cmd->key)) {
            return cmd_bad(cmd, "a CHECK is malformed");
        }
        get_str(r, cmd->check_id, REG_NAME_SIZE_MAX);
        cmd->status = get_u8(r);
        get_str(r, cmd->output, REG_OUTPUT_SIZE_MAX);
        return r->bad || cmd->status == 0 || cmd->status > REG_STATUS_MAX
                   ? cmd_bad(cmd, "a CHECK is malformed")
                   : 0;
    case REG_OP_NODE:
        return node_get(r, &cmd->node) ? 0 : cmd_bad(cmd, "a NODE is malformed");
    default:
        cmd->reap_count = get_u8(r);
        if (cmd->reap_count == 0 || cmd->reap_count > REG_REAP_MAX) {
            return cmd_bad(cmd, "a REAP's count is 0 or over the limit");
        }
        for (uint8_t i = 0; i < cmd->reap_count; i++) {
            if (!key_get(r, &cmd->reap[i])) {
                return cmd_bad(cmd, "a REAP is malformed");
            }
        }
        return 0;
    }
}

int reg_cmd_decode(const uint8_t *data, size_t size, struct reg_cmd *cmd)
{
    struct reg_instance *storage = cmd->instance;
    memset(cmd, 0, sizeof(*cmd));
    cmd->instance = storage;
    struct reader r = {.p = data, .left = size};
    uint8_t version = get_u8(&r);
    cmd->op = get_u8(&r);
    cmd->now_ms = get_u64(&r);
    if (r.bad || version != REG_CMD_VERSION) {
        return cmd_bad(cmd, "a registry command has a bad header");
    }
    if (cmd->op < REG_OP_FIRST || cmd->op > REG_OP_LAST) {
        return cmd_bad(cmd, "a registry command has an unknown op");
    }
    if (cmd->op == REG_OP_REGISTER && storage == NULL) {
        return cmd_bad(cmd, "a REGISTER needs storage for its instance");
    }
    if (cmd->op == REG_OP_REGISTER) {
        memset(storage, 0, sizeof(*storage));
    }
    int rc = decode_body(&r, cmd);
    if (rc == 0 && r.left != 0) {
        rc = cmd_bad(cmd, "a registry command has trailing bytes");
    }
    return rc;
}
