/* kv_registry.h: the service registry's part of the state machine: applying the registry
 * commands (src/registry/reg_record.h) in the store's batches, and reading instances and
 * nodes. Same threading and error rules as kv_store.h. docs/registry.md. */
#ifndef SYN_KV_KV_REGISTRY_H
#define SYN_KV_KV_REGISTRY_H

#include "kv/kv_store.h"
#include "registry/reg_record.h"

/* Applies one registry command (a NORMAL entry's payload for which reg_cmd_is_registry())
 * in the open batch, with kv_apply()'s rules: a command that does not decode yields an ERROR
 * result; a negative code fails the batch. Results: REGISTER, NODE: INTEGER 1; DEREGISTER,
 * REAP: INTEGER instances removed; CHECK: INTEGER 1, or 0 when there is no such check. */
int kv_registry_apply(struct kv_store *kv, const uint8_t *data, size_t size,
                      struct kv_result *res);

/* The index of the last registry change (at least 1): X-Consul-Index of catalog reads. */
uint64_t kv_reg_index(const struct kv_store *kv);
/* Whether an instance is due for removal at now_ms: registered with a TTL and not refreshed
 * within it, or a check critical for longer than its deregister_after_ms. */
bool kv_reg_due(const struct reg_instance *in, uint64_t now_ms);

/* 0, SYN_ENOENT, SYN_EIO, SYN_ECORRUPT. */
int kv_reg_get(struct kv_store *kv, const char *node, const char *id, struct reg_instance *out);
int kv_reg_node_get(struct kv_store *kv, const char *name, struct reg_node *out);

/* in / node: borrowed for the call. Return 0 to go on; anything else stops the walk and is
 * returned. */
typedef int (*kv_reg_instance_cb)(void *ctx, const struct reg_instance *in);
typedef int (*kv_reg_node_cb)(void *ctx, const struct reg_node *node);
/* Every instance, by node then ID; every node, by name; from one consistent view. */
int kv_reg_instances(struct kv_store *kv, kv_reg_instance_cb cb, void *ctx);
int kv_reg_nodes(struct kv_store *kv, kv_reg_node_cb cb, void *ctx);

#endif
