/* kv_registry.c: the service registry in the state machine's LMDB environment: instances
 * (database "services", key node NUL id) and nodes (database "nodes", key name), changed by
 * the registry commands (src/registry/reg_record.h) in the same batches as the KV commands,
 * so one applied index covers both and a snapshot carries both. docs/registry.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/err.h"
#include "kv/kv_internal.h"
#include "kv/kv_registry.h"

/* ---- Keys and records ---------------------------------------------------------------- */

static size_t service_key(const char *node, const char *id, uint8_t *out)
{
    size_t n = strlen(node);
    size_t i = strlen(id);
    memcpy(out, node, n);
    out[n] = 0;
    memcpy(out + n + 1, id, i);
    return n + 1 + i;
}

static int service_load(struct kv_store *kv, MDB_txn *txn, const char *node, const char *id,
                        struct reg_instance *out)
{
    uint8_t key[2 * REG_NAME_SIZE_MAX + 1];
    MDB_val k = {.mv_size = service_key(node, id, key), .mv_data = key};
    MDB_val v;
    int rc = mdb_get(txn, kv->dbi_services, &k, &v);
    if (rc == MDB_NOTFOUND) {
        return SYN_ENOENT;
    }
    if (rc != 0) {
        return kv_mdb_fail(kv, rc, "look an instance up");
    }
    if (reg_instance_decode(v.mv_data, v.mv_size, out) != 0) {
        return kv_fail(kv, SYN_ECORRUPT, "a registry instance record is malformed");
    }
    return 0;
}

static int service_store(struct kv_store *kv, const struct reg_instance *in)
{
    int rc = reg_instance_encode(&kv->reg_buf, in);
    if (rc != 0) {
        syn_buf_reset(&kv->reg_buf);
        return kv_fail(kv, rc == SYN_EINVAL ? SYN_ECORRUPT : rc, "encode an instance");
    }
    uint8_t key[2 * REG_NAME_SIZE_MAX + 1];
    MDB_val k = {.mv_size = service_key(in->node, in->id, key), .mv_data = key};
    MDB_val v = {.mv_size = kv->reg_buf.len, .mv_data = kv->reg_buf.data};
    rc = mdb_put(kv->wtxn, kv->dbi_services, &k, &v, 0);
    syn_buf_reset(&kv->reg_buf);
    return rc == 0 ? 0 : kv_mdb_fail(kv, rc, "store an instance");
}

static int service_delete(struct kv_store *kv, const char *node, const char *id)
{
    uint8_t key[2 * REG_NAME_SIZE_MAX + 1];
    MDB_val k = {.mv_size = service_key(node, id, key), .mv_data = key};
    int rc = mdb_del(kv->wtxn, kv->dbi_services, &k, NULL);
    return rc == 0 ? 0 : kv_mdb_fail(kv, rc, "delete an instance");
}

/* The registry changed at the entry being applied. */
static void registry_touched(struct kv_store *kv)
{
    kv->pending.reg_index = kv->entry_index;
    kv_change_note(kv, KV_CHANGE_REGISTRY, (struct kv_bytes){0});
}

/* ---- Commands ------------------------------------------------------------------------ */

/* Every report sets status_ms (a TTL check expires ttl_ms after its last report);
 * critical_since_ms moves only when the check turns critical. */
static void check_status_set(struct reg_check *c, uint8_t status, uint64_t now, uint64_t index)
{
    if (c->status != status) {
        c->critical_since_ms = status == REG_CRITICAL ? now : 0;
    }
    c->status_ms = now;
    c->status = status;
    c->modify_index = index;
}

/* A registration keeps what the registry knows of checks it had before: their status. */
static int apply_register(struct kv_store *kv, struct reg_instance *in, uint64_t now)
{
    struct reg_instance *old = &kv->reg_old;
    int rc = service_load(kv, kv->wtxn, in->node, in->id, old);
    if (rc != 0 && rc != SYN_ENOENT) {
        return rc;
    }
    bool existed = rc == 0;
    for (uint8_t i = 0; i < in->check_count; i++) {
        struct reg_check *c = &in->checks[i];
        const struct reg_check *prev = NULL;
        for (uint8_t j = 0; existed && j < old->check_count; j++) {
            if (strcmp(old->checks[j].id, c->id) == 0) {
                prev = &old->checks[j];
            }
        }
        if (prev != NULL) {
            c->status = prev->status;
            memcpy(c->output, prev->output, sizeof(c->output));
            c->status_ms = prev->status_ms;
            c->critical_since_ms = prev->critical_since_ms;
            c->modify_index = prev->modify_index;
        } else {
            c->status_ms = now;
            c->critical_since_ms = c->status == REG_CRITICAL ? now : 0;
            c->modify_index = kv->entry_index;
        }
    }
    in->create_index = existed ? old->create_index : kv->entry_index;
    in->modify_index = kv->entry_index;
    in->refreshed_ms = now;
    rc = service_store(kv, in);
    if (rc == 0) {
        registry_touched(kv);
    }
    return rc;
}

static int apply_check(struct kv_store *kv, const struct reg_cmd *cmd, uint64_t now,
                       struct kv_result *res)
{
    struct reg_instance *in = &kv->reg_old;
    int rc = service_load(kv, kv->wtxn, cmd->key.node, cmd->key.id, in);
    struct reg_check *c = NULL;
    for (uint8_t i = 0; rc == 0 && i < in->check_count; i++) {
        if (strcmp(in->checks[i].id, cmd->check_id) == 0) {
            c = &in->checks[i];
        }
    }
    kv_result_set_integer(res, c != NULL ? 1 : 0);
    if (c == NULL) {
        return rc == SYN_ENOENT ? 0 : rc;
    }
    check_status_set(c, cmd->status, now, kv->entry_index);
    snprintf(c->output, sizeof(c->output), "%s", cmd->output);
    in->modify_index = kv->entry_index;
    rc = service_store(kv, in);
    if (rc == 0) {
        registry_touched(kv);
    }
    return rc;
}

struct on_node {
    const char *node;
    uint32_t count;
    struct reg_key keys[REG_NODE_INSTANCES_MAX];
};

static int collect_on_node(void *ctx, const struct reg_instance *in)
{
    struct on_node *o = ctx;
    if (strcmp(in->node, o->node) == 0 && o->count < REG_NODE_INSTANCES_MAX) {
        snprintf(o->keys[o->count].node, sizeof(o->keys[o->count].node), "%s", in->node);
        snprintf(o->keys[o->count].id, sizeof(o->keys[o->count].id), "%s", in->id);
        o->count++;
    }
    return 0;
}

/* A failed node's checks turn critical, so its instances come back only once its agent's
 * checks pass again (not with the statuses they had before it failed). */
static int node_checks_critical(struct kv_store *kv, const char *node, uint64_t now)
{
    struct on_node *o = calloc(1, sizeof(*o));
    if (o == NULL) {
        return kv_fail(kv, SYN_ENOMEM, "out of memory");
    }
    o->node = node;
    int rc = kv_reg_instances(kv, collect_on_node, o);
    for (uint32_t i = 0; rc == 0 && i < o->count; i++) {
        struct reg_instance *in = &kv->reg_old;
        rc = service_load(kv, kv->wtxn, o->keys[i].node, o->keys[i].id, in);
        for (uint8_t c = 0; rc == 0 && c < in->check_count; c++) {
            if (in->checks[c].status != REG_CRITICAL) {
                check_status_set(&in->checks[c], REG_CRITICAL, now, kv->entry_index);
                snprintf(in->checks[c].output, sizeof(in->checks[c].output),
                         "node %s failed", node);
            }
        }
        if (rc == 0) {
            in->modify_index = kv->entry_index;
            rc = service_store(kv, in);
        }
    }
    free(o);
    return rc;
}

static int apply_node(struct kv_store *kv, const struct reg_node *node, uint64_t now)
{
    struct reg_node old;
    int rc = kv_reg_node_get(kv, node->name, &old);
    if (rc != 0 && rc != SYN_ENOENT) {
        return rc;
    }
    if (rc == 0 && old.health == node->health && strcmp(old.address, node->address) == 0) {
        return 0;
    }
    struct reg_node upd = *node;
    upd.changed_ms = now;
    upd.modify_index = kv->entry_index;
    syn_buf_reset(&kv->reg_buf);
    rc = reg_node_encode(&kv->reg_buf, &upd);
    MDB_val k = {.mv_size = strlen(upd.name), .mv_data = upd.name};
    MDB_val v = {.mv_size = kv->reg_buf.len, .mv_data = kv->reg_buf.data};
    if (rc == 0) {
        rc = mdb_put(kv->wtxn, kv->dbi_nodes, &k, &v, 0);
        rc = rc == 0 ? 0 : kv_mdb_fail(kv, rc, "store a node");
    }
    syn_buf_reset(&kv->reg_buf);
    if (rc == 0 && upd.health == REG_NODE_FAILED) {
        rc = node_checks_critical(kv, upd.name, now);
    }
    if (rc == 0) {
        registry_touched(kv);
    }
    return rc;
}

bool kv_reg_due(const struct reg_instance *in, uint64_t now_ms)
{
    if (in->ttl_ms > 0 && now_ms >= in->refreshed_ms + in->ttl_ms) {
        return true;
    }
    for (uint8_t i = 0; i < in->check_count; i++) {
        const struct reg_check *c = &in->checks[i];
        if (c->deregister_after_ms > 0 && c->status == REG_CRITICAL && c->critical_since_ms > 0 &&
            now_ms >= c->critical_since_ms + c->deregister_after_ms) {
            return true;
        }
    }
    return false;
}

static int apply_remove(struct kv_store *kv, const struct reg_key *keys, uint8_t count,
                        bool only_due, uint64_t now, struct kv_result *res)
{
    int64_t removed = 0;
    for (uint8_t i = 0; i < count; i++) {
        struct reg_instance *in = &kv->reg_old;
        int rc = service_load(kv, kv->wtxn, keys[i].node, keys[i].id, in);
        if (rc == SYN_ENOENT || (rc == 0 && only_due && !kv_reg_due(in, now))) {
            continue;
        }
        if (rc == 0) {
            rc = service_delete(kv, keys[i].node, keys[i].id);
        }
        if (rc != 0) {
            return rc;
        }
        removed++;
    }
    if (removed > 0) {
        registry_touched(kv);
    }
    kv_result_set_integer(res, removed);
    return 0;
}

int kv_registry_apply(struct kv_store *kv, const uint8_t *data, size_t size,
                      struct kv_result *res)
{
    struct reg_cmd *cmd = &kv->reg_cmd;
    cmd->instance = &kv->reg_new;
    if (reg_cmd_decode(data, size, cmd) != 0) {
        char msg[SYN_KV_ERRMSG_SIZE_MAX];
        snprintf(msg, sizeof(msg), "ERR bad registry command in the log: %s", cmd->errmsg);
        return kv_result_set_error(res, msg);
    }
    uint64_t now = kv_clock(kv, cmd->now_ms);
    kv->pending.clock_ms = now;
    switch (cmd->op) {
    case REG_OP_REGISTER:
        kv_result_set_integer(res, 1);
        return apply_register(kv, cmd->instance, now);
    case REG_OP_DEREGISTER:
        return apply_remove(kv, &cmd->key, 1, false, now, res);
    case REG_OP_CHECK:
        return apply_check(kv, cmd, now, res);
    case REG_OP_NODE:
        kv_result_set_integer(res, 1);
        return apply_node(kv, &cmd->node, now);
    case REG_OP_REAP:
        return apply_remove(kv, cmd->reap, cmd->reap_count, true, now, res);
    default:
        UNREACHABLE(); /* the decoder checked */
    }
}

/* ---- Reads --------------------------------------------------------------------------- */

uint64_t kv_reg_index(const struct kv_store *kv)
{
    uint64_t index = kv_meta_now(kv)->reg_index;
    return index > 0 ? index : 1;
}

int kv_reg_get(struct kv_store *kv, const char *node, const char *id, struct reg_instance *out)
{
    MDB_txn *txn = NULL;
    int rc = kv_read_begin(kv, &txn);
    if (rc == 0) {
        rc = service_load(kv, txn, node, id, out);
        kv_read_end(kv, txn);
    }
    return rc;
}

/* Calls each(kv, value, ctx) for every record of dbi, in key order, from one read. */
static int walk_db(struct kv_store *kv, MDB_dbi dbi,
                   int (*each)(struct kv_store *kv, const MDB_val *v, void *ctx), void *ctx)
{
    MDB_txn *txn = NULL;
    int rc = kv_read_begin(kv, &txn);
    if (rc != 0) {
        return rc;
    }
    MDB_cursor *cur = NULL;
    rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0) {
        kv_read_end(kv, txn);
        return kv_mdb_fail(kv, rc, "open a cursor");
    }
    MDB_val k;
    MDB_val v;
    int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0 && mrc == 0) {
        rc = each(kv, &v, ctx);
        mrc = rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_NEXT) : MDB_NOTFOUND;
    }
    mdb_cursor_close(cur);
    kv_read_end(kv, txn);
    if (rc == 0 && mrc != MDB_NOTFOUND) {
        rc = kv_mdb_fail(kv, mrc, "walk the registry");
    }
    return rc;
}

struct walk_cb {
    kv_reg_instance_cb instance;
    kv_reg_node_cb node;
    void *ctx;
};

static int each_instance(struct kv_store *kv, const MDB_val *v, void *ctx)
{
    struct walk_cb *w = ctx;
    if (reg_instance_decode(v->mv_data, v->mv_size, &kv->reg_read) != 0) {
        return kv_fail(kv, SYN_ECORRUPT, "a registry instance record is malformed");
    }
    return w->instance(w->ctx, &kv->reg_read);
}

static int each_node(struct kv_store *kv, const MDB_val *v, void *ctx)
{
    struct walk_cb *w = ctx;
    struct reg_node node;
    if (reg_node_decode(v->mv_data, v->mv_size, &node) != 0) {
        return kv_fail(kv, SYN_ECORRUPT, "a registry node record is malformed");
    }
    return w->node(w->ctx, &node);
}

int kv_reg_instances(struct kv_store *kv, kv_reg_instance_cb cb, void *ctx)
{
    struct walk_cb w = {.instance = cb, .ctx = ctx};
    return walk_db(kv, kv->dbi_services, each_instance, &w);
}

int kv_reg_node_get(struct kv_store *kv, const char *name, struct reg_node *out)
{
    MDB_txn *txn = NULL;
    int rc = kv_read_begin(kv, &txn);
    if (rc != 0) {
        return rc;
    }
    MDB_val k = {.mv_size = strlen(name), .mv_data = (void *)name};
    MDB_val v;
    int mrc = k.mv_size == 0 ? MDB_NOTFOUND : mdb_get(txn, kv->dbi_nodes, &k, &v);
    if (mrc == MDB_NOTFOUND) {
        rc = SYN_ENOENT;
    } else if (mrc != 0) {
        rc = kv_mdb_fail(kv, mrc, "look a node up");
    } else if (reg_node_decode(v.mv_data, v.mv_size, out) != 0) {
        rc = kv_fail(kv, SYN_ECORRUPT, "a registry node record is malformed");
    }
    kv_read_end(kv, txn);
    return rc;
}

int kv_reg_nodes(struct kv_store *kv, kv_reg_node_cb cb, void *ctx)
{
    struct walk_cb w = {.node = cb, .ctx = ctx};
    return walk_db(kv, kv->dbi_nodes, each_node, &w);
}
