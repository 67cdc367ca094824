/* sim_kv.h: the simulated state machine, a few registers, and the commands that change it.
 *
 * A command names its client and request sequence, so the simulator can tell that an
 * applied entry is the one a client proposed. Values are nonzero; 0 means "absent". */
#ifndef SYN_SIM_KV_H
#define SYN_SIM_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/sim_limits.h"

enum sim_kv_op {
    SIM_KV_WRITE = 1,
    SIM_KV_CAS = 2, /* value replaces expected only when the register holds expected */
};

struct sim_kv_cmd {
    uint8_t op; /* enum sim_kv_op */
    uint32_t client;
    uint64_t seq;
    uint32_t key;
    uint64_t value;
    uint64_t expected;
};

#define SIM_KV_CMD_SIZE 33u
#define SIM_KV_SNAPSHOT_SIZE (32u + 8u * SIM_KEYS_MAX)

struct sim_kv {
    uint64_t values[SIM_KEYS_MAX];
    uint64_t applied_index; /* last entry applied, or the snapshot restored */
    uint64_t digest;        /* order-independent hash of values, updated on every change */
};

/* Encodes cmd into out; returns SIM_KV_CMD_SIZE. */
uint32_t sim_kv_cmd_encode(const struct sim_kv_cmd *cmd, uint8_t out[SIM_KV_CMD_SIZE]);
/* Decodes and validates bytes from a log entry. 0 or SYN_EBADMSG. */
int sim_kv_cmd_decode(const uint8_t *data, size_t size, struct sim_kv_cmd *cmd);

/* An empty state machine at index 0. */
void sim_kv_init(struct sim_kv *kv);
/* Applies a decoded command; returns true when it changed the register (a write always
 * does, a cas when it swapped). */
bool sim_kv_apply(struct sim_kv *kv, const struct sim_kv_cmd *cmd);

/* Serializes the state into out (SIM_KV_SNAPSHOT_SIZE bytes); returns the size. */
uint32_t sim_kv_snapshot(const struct sim_kv *kv, uint8_t out[SIM_KV_SNAPSHOT_SIZE]);
/* Rebuilds the state from snapshot bytes (untrusted: checked). 0 or SYN_ECORRUPT; kv is
 * unchanged on error. */
int sim_kv_restore(struct sim_kv *kv, const uint8_t *data, size_t size);

/* FNV-1a over bytes, continued from h (start with SIM_HASH_INIT). */
#define SIM_HASH_INIT 0xcbf29ce484222325ull
uint64_t sim_hash_bytes(uint64_t h, const void *data, size_t size);

#endif
