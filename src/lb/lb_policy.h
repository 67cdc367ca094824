/* lb_policy.h: how synod lb picks the backend of a new connection: round-robin, least-conn,
 * weighted (smooth weighted round-robin, as nginx), power-of-two choices and consistent hash
 * (a ring with virtual nodes, on the client's IP). Pure (STYLE 1): no sockets, clocks or
 * randomness; the random numbers power-of-two needs and the client's hash come in as
 * arguments, so every pick can be replayed.
 *
 * The caller owns an array of targets, one per backend slot, and keeps it up to date: which
 * targets are members (listed by the registry), which may take this connection (usable: a
 * member that is not marked down and not tried already for this client), their weights and
 * open connections. Slots keep their index while a backend lives, so the policy's state (the
 * round-robin cursor, the smooth weights, the ring) stays meaningful across picks.
 */
#ifndef SYN_LB_LB_POLICY_H
#define SYN_LB_LB_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/limits.h"

enum lb_policy_kind {
    LB_ROUND_ROBIN = 1,
    LB_LEAST_CONN = 2,
    LB_WEIGHTED = 3,
    LB_POWER_OF_TWO = 4,
    LB_CONSISTENT_HASH = 5,
};

#define LB_WEIGHT_MAX 65535u /* Consul's Weights.Passing is a small integer; larger is cut */
#define LB_RING_POINTS_MAX (SYN_LB_BACKENDS_MAX * SYN_LB_RING_VNODES)

/* One backend as a policy sees it. */
struct lb_target {
    uint64_t key_hash; /* lb_hash_bytes() of the backend's identity: where its ring points go */
    uint32_t weight;   /* 1 .. LB_WEIGHT_MAX */
    uint32_t active;   /* connections open to it now */
    bool member;       /* listed by the registry: on the ring (rebuild it when this changes) */
    bool usable;       /* may take this connection; implies member */
    int64_t wrr_current; /* smooth weighted round-robin's running weight: the policy's */
};

struct lb_ring_point {
    uint64_t hash;
    uint32_t target;
};

struct lb_policy {
    uint8_t kind;          /* enum lb_policy_kind */
    uint32_t rr_next;      /* round-robin and least-conn: the slot to look at first */
    uint32_t ring_size;    /* points in ring */
    struct lb_ring_point ring[LB_RING_POINTS_MAX]; /* sorted by hash; consistent-hash only */
};

/* What one pick needs from the world. */
struct lb_pick_in {
    uint64_t client_hash; /* consistent-hash: lb_hash_bytes() of the client's IP address */
    uint64_t random[2];   /* power-of-two: two independent uniform random numbers */
};

/* The policy named name ("round-robin", ...), or 0. */
uint8_t lb_policy_parse(const char *name);
/* The name of kind; "?" for others. */
const char *lb_policy_name(uint8_t kind);

/* A policy of kind with an empty ring. p is large (the ring): allocate it. */
void lb_policy_init(struct lb_policy *p, uint8_t kind);

/* Rebuilds the ring from the members of targets[0 .. count) (consistent-hash; a no-op for
 * the others). Call after a member joined or left; count <= SYN_LB_BACKENDS_MAX. */
void lb_policy_rebuild(struct lb_policy *p, const struct lb_target *targets, uint32_t count);

/* Picks a usable target of targets[0 .. count): its index, or -1 when none is usable. May
 * update the policy's state and the targets' wrr_current. */
int32_t lb_policy_pick(struct lb_policy *p, struct lb_target *targets, uint32_t count,
                       const struct lb_pick_in *in);

/* The hash the ring uses: 64-bit FNV-1a over the bytes, then MurmurHash3's fmix64 finalizer
 * (FNV alone spreads short keys such as IPv4 addresses poorly over the high bits). */
uint64_t lb_hash_bytes(const void *data, size_t size);
/* MurmurHash3's fmix64: every input bit flips each output bit with probability ~1/2. */
uint64_t lb_hash_mix(uint64_t x);

#endif
