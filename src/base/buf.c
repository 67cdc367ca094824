/* buf.c: the growable byte buffer. */
#include "base/buf.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"

void syn_buf_init(struct syn_buf *b, size_t max_size)
{
    *b = (struct syn_buf){.max_size = max_size == 0 ? SIZE_MAX : max_size};
}

void syn_buf_free(struct syn_buf *b)
{
    free(b->data);
    size_t max = b->max_size;
    *b = (struct syn_buf){.max_size = max};
}

void syn_buf_reset(struct syn_buf *b)
{
    b->len = 0;
}

int syn_buf_reserve(struct syn_buf *b, size_t extra)
{
    if (extra > b->max_size - b->len) {
        return SYN_ETOOBIG;
    }
    size_t need = b->len + extra;
    if (need <= b->cap) {
        return 0;
    }
    size_t cap = b->cap == 0 ? 256 : b->cap;
    while (cap < need) {
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    }
    if (cap > b->max_size) {
        cap = b->max_size;
    }
    uint8_t *data = realloc(b->data, cap);
    if (data == NULL) {
        return SYN_ENOMEM;
    }
    b->data = data;
    b->cap = cap;
    return 0;
}

int syn_buf_append(struct syn_buf *b, const void *data, size_t size)
{
    int rc = syn_buf_reserve(b, size);
    if (rc != 0) {
        return rc;
    }
    if (size > 0) {
        memcpy(b->data + b->len, data, size);
    }
    b->len += size;
    return 0;
}

int syn_buf_append_u8(struct syn_buf *b, uint8_t v)
{
    return syn_buf_append(b, &v, 1);
}

int syn_buf_append_u16le(struct syn_buf *b, uint16_t v)
{
    uint8_t p[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    return syn_buf_append(b, p, sizeof(p));
}

int syn_buf_append_u32le(struct syn_buf *b, uint32_t v)
{
    uint8_t p[4];
    syn_put_u32le(p, v);
    return syn_buf_append(b, p, sizeof(p));
}

int syn_buf_append_u64le(struct syn_buf *b, uint64_t v)
{
    uint8_t p[8];
    syn_put_u64le(p, v);
    return syn_buf_append(b, p, sizeof(p));
}

void syn_buf_consume(struct syn_buf *b, size_t size)
{
    if (size >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + size, b->len - size);
    b->len -= size;
}
