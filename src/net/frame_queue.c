/* frame_queue.c: the bounded queue of encoded frames (frame_queue.h). */
#include "net/frame_queue.h"

#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/err.h"

void frame_queue_init(struct frame_queue *q, size_t bytes_max)
{
    ASSERT(bytes_max > 0);
    *q = (struct frame_queue){.bytes_max = bytes_max};
}

int frame_queue_push(struct frame_queue *q, const uint8_t *frame, size_t size)
{
    ASSERT(size > 0);
    ASSERT(q->bytes <= q->bytes_max);
    if (size > q->bytes_max - q->bytes) {
        return SYN_EFULL;
    }
    struct frame_queue_node *node = malloc(sizeof(*node) + size);
    if (node == NULL) {
        return SYN_ENOMEM;
    }
    node->next = NULL;
    node->size = size;
    memcpy(node->data, frame, size);
    if (q->tail == NULL) {
        q->head = node;
    } else {
        q->tail->next = node;
    }
    q->tail = node;
    q->count++;
    q->bytes += size;
    return 0;
}

void frame_queue_take(struct frame_queue *q, uint32_t count_max, struct frame_batch *batch)
{
    *batch = (struct frame_batch){.head = q->head};
    struct frame_queue_node *last = NULL;
    struct frame_queue_node *node = q->head;
    while (node != NULL && batch->count < count_max) {
        batch->count++;
        batch->bytes += node->size;
        last = node;
        node = node->next;
    }
    if (last == NULL) {
        batch->head = NULL;
        return;
    }
    last->next = NULL;
    q->head = node;
    if (node == NULL) {
        q->tail = NULL;
    }
    ASSERT(q->count >= batch->count);
    q->count -= batch->count;
}

void frame_queue_settle(struct frame_queue *q, const struct frame_batch *batch)
{
    ASSERT(q->bytes >= batch->bytes);
    q->bytes -= batch->bytes;
}

static void node_list_free(struct frame_queue_node *node)
{
    while (node != NULL) {
        struct frame_queue_node *next = node->next;
        free(node);
        node = next;
    }
}

uint32_t frame_queue_clear(struct frame_queue *q)
{
    uint32_t count = q->count;
    size_t bytes = 0;
    for (const struct frame_queue_node *n = q->head; n != NULL; n = n->next) {
        bytes += n->size;
    }
    node_list_free(q->head);
    ASSERT(q->bytes >= bytes);
    q->bytes -= bytes;
    q->head = NULL;
    q->tail = NULL;
    q->count = 0;
    return count;
}

void frame_batch_free(struct frame_batch *batch)
{
    node_list_free(batch->head);
    *batch = (struct frame_batch){0};
}
