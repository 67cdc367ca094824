/* sim_kv.c: the registers, command codec and snapshot format of the simulated state
 * machine. Snapshot layout (little endian): magic u64, applied index u64, digest u64,
 * checksum u64 (FNV-1a of the values), then SIM_KEYS_MAX values u64. */
#include "sim/sim_kv.h"

#include <string.h>

#include "base/assert.h"
#include "base/buf.h"
#include "base/err.h"

#define KV_SNAPSHOT_MAGIC 0x73796e6f646b7631ull /* "synodkv1" */

uint64_t sim_hash_bytes(uint64_t h, const void *data, size_t size)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < size; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

uint32_t sim_kv_cmd_encode(const struct sim_kv_cmd *cmd, uint8_t out[SIM_KV_CMD_SIZE])
{
    out[0] = cmd->op;
    syn_put_u32le(out + 1, cmd->client);
    syn_put_u64le(out + 5, cmd->seq);
    syn_put_u32le(out + 13, cmd->key);
    syn_put_u64le(out + 17, cmd->value);
    syn_put_u64le(out + 25, cmd->expected);
    return SIM_KV_CMD_SIZE;
}

int sim_kv_cmd_decode(const uint8_t *data, size_t size, struct sim_kv_cmd *cmd)
{
    if (data == NULL || size != SIM_KV_CMD_SIZE) {
        return SYN_EBADMSG;
    }
    struct sim_kv_cmd c = {
        .op = data[0],
        .client = syn_get_u32le(data + 1),
        .seq = syn_get_u64le(data + 5),
        .key = syn_get_u32le(data + 13),
        .value = syn_get_u64le(data + 17),
        .expected = syn_get_u64le(data + 25),
    };
    if ((c.op != SIM_KV_WRITE && c.op != SIM_KV_CAS) || c.key >= SIM_KEYS_MAX || c.value == 0) {
        return SYN_EBADMSG;
    }
    *cmd = c;
    return 0;
}

/* One register's share of the digest; the digest is the sum over registers. */
static uint64_t kv_mix(uint32_t key, uint64_t value)
{
    uint64_t h = sim_hash_bytes(SIM_HASH_INIT, &key, sizeof(key));
    return sim_hash_bytes(h, &value, sizeof(value));
}

void sim_kv_init(struct sim_kv *kv)
{
    *kv = (struct sim_kv){0};
    for (uint32_t k = 0; k < SIM_KEYS_MAX; k++) {
        kv->digest += kv_mix(k, 0);
    }
}

bool sim_kv_apply(struct sim_kv *kv, const struct sim_kv_cmd *cmd)
{
    ASSERT(cmd->key < SIM_KEYS_MAX);
    uint64_t old = kv->values[cmd->key];
    if (cmd->op == SIM_KV_CAS && old != cmd->expected) {
        return false;
    }
    kv->values[cmd->key] = cmd->value;
    kv->digest = kv->digest - kv_mix(cmd->key, old) + kv_mix(cmd->key, cmd->value);
    return true;
}

static uint64_t kv_values_checksum(const uint8_t *values)
{
    return sim_hash_bytes(SIM_HASH_INIT, values, 8u * SIM_KEYS_MAX);
}

uint32_t sim_kv_snapshot(const struct sim_kv *kv, uint8_t out[SIM_KV_SNAPSHOT_SIZE])
{
    uint8_t *values = out + 32;
    for (uint32_t k = 0; k < SIM_KEYS_MAX; k++) {
        syn_put_u64le(values + 8 * k, kv->values[k]);
    }
    syn_put_u64le(out, KV_SNAPSHOT_MAGIC);
    syn_put_u64le(out + 8, kv->applied_index);
    syn_put_u64le(out + 16, kv->digest);
    syn_put_u64le(out + 24, kv_values_checksum(values));
    return SIM_KV_SNAPSHOT_SIZE;
}

int sim_kv_restore(struct sim_kv *kv, const uint8_t *data, size_t size)
{
    if (data == NULL || size != SIM_KV_SNAPSHOT_SIZE || syn_get_u64le(data) != KV_SNAPSHOT_MAGIC) {
        return SYN_ECORRUPT;
    }
    const uint8_t *values = data + 32;
    if (syn_get_u64le(data + 24) != kv_values_checksum(values)) {
        return SYN_ECORRUPT;
    }
    struct sim_kv restored;
    sim_kv_init(&restored);
    for (uint32_t k = 0; k < SIM_KEYS_MAX; k++) {
        struct sim_kv_cmd set = {
            .op = SIM_KV_WRITE, .key = k, .value = syn_get_u64le(values + 8 * k)};
        if (set.value != 0) {
            sim_kv_apply(&restored, &set);
        }
    }
    if (restored.digest != syn_get_u64le(data + 16)) {
        return SYN_ECORRUPT;
    }
    restored.applied_index = syn_get_u64le(data + 8);
    *kv = restored;
    return 0;
}
