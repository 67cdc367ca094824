/* sim_disk.h: one node's simulated stable storage: hard state, log entries, the current
 * snapshot and a partial incoming one.
 *
 * A persist copies the durable part of a Ready into a pending write; the write lands only
 * when the simulator says the disk finished it (after a delay, longer on a slow disk). A
 * crash before that loses the pending write and nothing else. */
#ifndef SYN_SIM_DISK_H
#define SYN_SIM_DISK_H

#include <stdbool.h>
#include <stdint.h>

#include "raft/raft.h"

#define SIM_DISK_SNAPSHOT_SIZE_MAX (1u << 20) /* bytes of one snapshot */

struct sim_disk_entry {
    uint64_t term;
    uint64_t index;
    uint32_t type;
    uint32_t data_size;
    uint8_t *data; /* owned */
};

/* The durable part of one Ready, copied when it was handed to the disk. */
struct sim_disk_write {
    bool hard_state_changed;
    struct raft_hard_state hard_state;
    bool chunk;
    uint64_t chunk_offset;
    uint32_t chunk_size;
    uint8_t *chunk_data; /* owned */
    bool install;
    struct raft_snapshot_meta snapshot;
    uint32_t entry_count;
    struct sim_disk_entry *entries; /* owned */
};

struct sim_disk {
    struct raft_hard_state hard_state;
    struct raft_snapshot_meta snapshot; /* index 0 before the first snapshot */
    uint8_t *snapshot_data;             /* snapshot.size bytes, owned */
    struct raft_snapshot_meta partial;  /* the incoming snapshot being received */
    uint8_t *partial_data;              /* SIM_DISK_SNAPSHOT_SIZE_MAX bytes once used */
    uint64_t partial_size;              /* contiguous bytes received from offset 0 */
    uint32_t entry_count;
    uint32_t entry_capacity;
    struct sim_disk_entry *entries; /* contiguous, all after snapshot.index */
    bool pending;
    struct sim_disk_write write; /* valid while pending */
    bool slow;
};

/* A fresh disk whose snapshot (index 0) holds conf. */
void sim_disk_init(struct sim_disk *disk, const struct raft_conf *conf);
void sim_disk_free(struct sim_disk *disk);

/* Copies rd's durable part into the pending write. 0 or SYN_ENOMEM. */
int sim_disk_begin(struct sim_disk *disk, const struct raft_ready *rd);
/* The pending write lands. Returns NULL, or a sentence naming what was wrong with the
 * write (a gap in the log, a bad snapshot chunk): the core broke a storage rule. */
const char *sim_disk_finish(struct sim_disk *disk);
/* The node crashed: the pending write is lost. */
void sim_disk_crash(struct sim_disk *disk);

/* Stores a snapshot taken by this node and drops the entries it covers. 0 or SYN_ENOMEM. */
int sim_disk_store_snapshot(struct sim_disk *disk, const struct raft_snapshot_meta *meta,
                            const uint8_t *data, uint32_t size);

/* Term of the stored entry at index (the snapshot's term at its index); 0 when none. */
uint64_t sim_disk_term_at(const struct sim_disk *disk, uint64_t index);
/* The last stored index (the snapshot index when no entry follows it). */
uint64_t sim_disk_last_index(const struct sim_disk *disk);
/* The stored entry at index, or NULL. */
const struct sim_disk_entry *sim_disk_entry_at(const struct sim_disk *disk, uint64_t index);

/* Fills restore from the disk. entries_out receives an array of entry_count raft_entry
 * views into the disk (free() it after raft_create). 0 or SYN_ENOMEM. */
int sim_disk_restore(const struct sim_disk *disk, struct raft_restore *restore,
                     struct raft_entry **entries_out);

#endif
