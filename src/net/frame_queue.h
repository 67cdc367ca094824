/* frame_queue.h: a peer's bounded queue of encoded frames waiting to be written (STYLE 8: a
 * full queue refuses, it never grows). Pure: no sockets, no libuv; the transport moves frames
 * from the queue into a batch for one write, and settles the batch when the write is done.
 *
 * bytes counts the queued frames and the batches being written, so the bound holds for all
 * the memory a peer's frames take until the write that carries them completes.
 */
#ifndef SYN_NET_FRAME_QUEUE_H
#define SYN_NET_FRAME_QUEUE_H

#include <stddef.h>
#include <stdint.h>

struct frame_queue_node {
    struct frame_queue_node *next;
    size_t size;
    uint8_t data[]; /* one whole frame */
};

/* Frames taken for one write, in order; owned by the write until frame_batch_free(). */
struct frame_batch {
    struct frame_queue_node *head;
    uint32_t count;
    size_t bytes;
};

struct frame_queue {
    struct frame_queue_node *head; /* oldest */
    struct frame_queue_node *tail;
    uint32_t count; /* frames queued, not yet taken */
    size_t bytes;   /* queued + taken and not yet settled */
    size_t bytes_max;
};

void frame_queue_init(struct frame_queue *q, size_t bytes_max);
/* Appends a copy of frame[0 .. size). 0; SYN_EFULL when bytes + size would pass bytes_max
 * (nothing changes); SYN_ENOMEM. */
int frame_queue_push(struct frame_queue *q, const uint8_t *frame, size_t size);
/* Moves up to count_max of the oldest frames into *batch (empty when none). */
void frame_queue_take(struct frame_queue *q, uint32_t count_max, struct frame_batch *batch);
/* The write of batch is over (done or failed): its bytes leave the bound. Call once per
 * batch taken from q, before frame_batch_free(); not at all when q is gone. */
void frame_queue_settle(struct frame_queue *q, const struct frame_batch *batch);
/* Frees every queued frame (not the batches being written). Returns how many there were. */
uint32_t frame_queue_clear(struct frame_queue *q);

void frame_batch_free(struct frame_batch *batch);

#endif
