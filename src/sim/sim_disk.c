/* sim_disk.c: simulated stable storage. Writes land whole or not at all: a crash drops the
 * pending write (SQLite test6.c models the same for unsynced data). */
#include "sim/sim_disk.h"

#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/err.h"

void sim_disk_init(struct sim_disk *disk, const struct raft_conf *conf)
{
    *disk = (struct sim_disk){0};
    disk->snapshot.conf = *conf;
}

static void entries_free(struct sim_disk_entry *entries, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        free(entries[i].data);
    }
}

static void write_free(struct sim_disk_write *w)
{
    entries_free(w->entries, w->entry_count);
    free(w->entries);
    free(w->chunk_data);
    *w = (struct sim_disk_write){0};
}

void sim_disk_free(struct sim_disk *disk)
{
    write_free(&disk->write);
    entries_free(disk->entries, disk->entry_count);
    free(disk->entries);
    free(disk->snapshot_data);
    free(disk->partial_data);
    *disk = (struct sim_disk){0};
}

static int entry_copy(struct sim_disk_entry *dst, const struct raft_entry *src)
{
    *dst = (struct sim_disk_entry){
        .term = src->term, .index = src->index, .type = src->type, .data_size = src->data_size};
    if (src->data_size == 0) {
        return 0;
    }
    dst->data = malloc(src->data_size);
    if (dst->data == NULL) {
        return SYN_ENOMEM;
    }
    memcpy(dst->data, src->data, src->data_size);
    return 0;
}

static int write_copy_entries(struct sim_disk_write *w, const struct raft_ready *rd)
{
    if (rd->entry_count == 0) {
        return 0;
    }
    w->entries = calloc(rd->entry_count, sizeof(*w->entries));
    if (w->entries == NULL) {
        return SYN_ENOMEM;
    }
    for (uint32_t i = 0; i < rd->entry_count; i++) {
        if (entry_copy(&w->entries[i], &rd->entries[i]) != 0) {
            return SYN_ENOMEM;
        }
        w->entry_count = i + 1;
    }
    return 0;
}

int sim_disk_begin(struct sim_disk *disk, const struct raft_ready *rd)
{
    ASSERT(!disk->pending);
    struct sim_disk_write *w = &disk->write;
    *w = (struct sim_disk_write){
        .hard_state_changed = rd->hard_state_changed,
        .hard_state = rd->hard_state,
        .chunk = rd->snapshot_chunk,
        .chunk_offset = rd->snapshot_offset,
        .chunk_size = rd->snapshot_data_size,
        .install = rd->snapshot_install,
        .snapshot = rd->snapshot,
    };
    if (rd->snapshot_chunk && rd->snapshot_data_size > 0) {
        w->chunk_data = malloc(rd->snapshot_data_size);
        if (w->chunk_data == NULL) {
            return SYN_ENOMEM;
        }
        memcpy(w->chunk_data, rd->snapshot_data, rd->snapshot_data_size);
    }
    int rc = write_copy_entries(w, rd);
    if (rc != 0) {
        write_free(w);
        return rc;
    }
    disk->pending = true;
    return 0;
}

void sim_disk_crash(struct sim_disk *disk)
{
    write_free(&disk->write);
    disk->pending = false;
}

uint64_t sim_disk_last_index(const struct sim_disk *disk)
{
    if (disk->entry_count == 0) {
        return disk->snapshot.index;
    }
    return disk->entries[disk->entry_count - 1].index;
}

const struct sim_disk_entry *sim_disk_entry_at(const struct sim_disk *disk, uint64_t index)
{
    if (disk->entry_count == 0 || index < disk->entries[0].index ||
        index > sim_disk_last_index(disk)) {
        return NULL;
    }
    return &disk->entries[index - disk->entries[0].index];
}

uint64_t sim_disk_term_at(const struct sim_disk *disk, uint64_t index)
{
    if (index == disk->snapshot.index) {
        return disk->snapshot.term;
    }
    const struct sim_disk_entry *e = sim_disk_entry_at(disk, index);
    return e == NULL ? 0 : e->term;
}

/* Drops stored entries with index >= from. */
static void disk_truncate_from(struct sim_disk *disk, uint64_t from)
{
    while (disk->entry_count > 0 && disk->entries[disk->entry_count - 1].index >= from) {
        disk->entry_count--;
        free(disk->entries[disk->entry_count].data);
    }
}

/* Drops stored entries with index <= upto. */
static void disk_drop_through(struct sim_disk *disk, uint64_t upto)
{
    uint32_t n = 0;
    while (n < disk->entry_count && disk->entries[n].index <= upto) {
        free(disk->entries[n].data);
        n++;
    }
    memmove(disk->entries, disk->entries + n, (disk->entry_count - n) * sizeof(*disk->entries));
    disk->entry_count -= n;
}

static const char *disk_append(struct sim_disk *disk, struct sim_disk_entry *e)
{
    if (e->index != sim_disk_last_index(disk) + 1) {
        return "entries to persist do not follow the stored log (a gap)";
    }
    if (disk->entry_count == disk->entry_capacity) {
        uint32_t cap = disk->entry_capacity == 0 ? 64 : 2 * disk->entry_capacity;
        struct sim_disk_entry *grown = realloc(disk->entries, cap * sizeof(*grown));
        ASSERT(grown != NULL);
        disk->entries = grown;
        disk->entry_capacity = cap;
    }
    disk->entries[disk->entry_count++] = *e;
    *e = (struct sim_disk_entry){0}; /* the disk owns the data now */
    return NULL;
}

static const char *disk_write_chunk(struct sim_disk *disk, const struct sim_disk_write *w)
{
    if (w->chunk_offset + w->chunk_size > SIM_DISK_SNAPSHOT_SIZE_MAX) {
        return "a snapshot chunk lies beyond the largest snapshot";
    }
    if (disk->partial_data == NULL) {
        disk->partial_data = malloc(SIM_DISK_SNAPSHOT_SIZE_MAX);
        ASSERT(disk->partial_data != NULL);
    }
    if (w->chunk_offset == 0) {
        disk->partial_size = 0;
    }
    if (w->chunk_offset > disk->partial_size) {
        return "a snapshot chunk leaves a hole in the partial snapshot";
    }
    if (w->chunk_size > 0) {
        memcpy(disk->partial_data + w->chunk_offset, w->chunk_data, w->chunk_size);
    }
    if (w->chunk_offset + w->chunk_size > disk->partial_size) {
        disk->partial_size = w->chunk_offset + w->chunk_size;
    }
    disk->partial = w->snapshot;
    return NULL;
}

/* The partial snapshot becomes the current one. Stored entries after it survive only if
 * the log holds the snapshot's last entry (Raft figure 5.3, InstallSnapshot step 6). */
static const char *disk_install(struct sim_disk *disk, const struct raft_snapshot_meta *meta)
{
    if (disk->partial_size != meta->size) {
        return "installing a snapshot whose bytes were not all persisted";
    }
    uint8_t *data = malloc(meta->size > 0 ? meta->size : 1);
    ASSERT(data != NULL);
    if (meta->size > 0) {
        memcpy(data, disk->partial_data, meta->size);
    }
    if (sim_disk_term_at(disk, meta->index) == meta->term) {
        disk_drop_through(disk, meta->index);
    } else {
        disk_truncate_from(disk, 0);
    }
    free(disk->snapshot_data);
    disk->snapshot_data = data;
    disk->snapshot = *meta;
    disk->partial_size = 0;
    return NULL;
}

static const char *disk_write_entries(struct sim_disk *disk, struct sim_disk_write *w)
{
    for (uint32_t i = 0; i < w->entry_count; i++) {
        struct sim_disk_entry *e = &w->entries[i];
        if (e->index <= disk->snapshot.index) {
            continue; /* covered by a snapshot taken while the write was pending */
        }
        if (e->index <= sim_disk_last_index(disk)) {
            disk_truncate_from(disk, e->index);
        }
        const char *problem = disk_append(disk, e);
        if (problem != NULL) {
            return problem;
        }
    }
    return NULL;
}

const char *sim_disk_finish(struct sim_disk *disk)
{
    ASSERT(disk->pending);
    struct sim_disk_write *w = &disk->write;
    const char *problem = NULL;
    if (w->chunk) {
        problem = disk_write_chunk(disk, w);
    }
    if (problem == NULL && w->install) {
        problem = disk_install(disk, &w->snapshot);
    }
    if (problem == NULL) {
        problem = disk_write_entries(disk, w);
    }
    if (problem == NULL && w->hard_state_changed) {
        disk->hard_state = w->hard_state;
    }
    write_free(w);
    disk->pending = false;
    return problem;
}

int sim_disk_store_snapshot(struct sim_disk *disk, const struct raft_snapshot_meta *meta,
                            const uint8_t *data, uint32_t size)
{
    ASSERT(meta->size == size);
    uint8_t *copy = malloc(size > 0 ? size : 1);
    if (copy == NULL) {
        return SYN_ENOMEM;
    }
    memcpy(copy, data, size);
    free(disk->snapshot_data);
    disk->snapshot_data = copy;
    disk->snapshot = *meta;
    disk_drop_through(disk, meta->index);
    return 0;
}

int sim_disk_restore(const struct sim_disk *disk, struct raft_restore *restore,
                     struct raft_entry **entries_out)
{
    *restore = (struct raft_restore){
        .hard_state = disk->hard_state,
        .snapshot = disk->snapshot,
        .entry_count = disk->entry_count,
    };
    struct raft_entry *entries = calloc(disk->entry_count + 1u, sizeof(*entries));
    if (entries == NULL) {
        return SYN_ENOMEM;
    }
    for (uint32_t i = 0; i < disk->entry_count; i++) {
        const struct sim_disk_entry *e = &disk->entries[i];
        entries[i] = (struct raft_entry){.term = e->term,
                                         .index = e->index,
                                         .type = e->type,
                                         .data_size = e->data_size,
                                         .data = e->data};
    }
    restore->entries = entries;
    *entries_out = entries;
    return 0;
}
