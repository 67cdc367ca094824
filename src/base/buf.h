/* buf.h: a growable byte buffer for encoders (frames, RESP replies, WAL records), and
 * little-endian helpers for decoders. A buffer never grows past its max_size. */
#ifndef SYN_BASE_BUF_H
#define SYN_BASE_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct syn_buf {
    uint8_t *data;   /* owned; NULL until the first append */
    size_t len;
    size_t cap;
    size_t max_size; /* appends beyond it fail with SYN_ETOOBIG; 0 means SIZE_MAX */
};

void syn_buf_init(struct syn_buf *b, size_t max_size);
void syn_buf_free(struct syn_buf *b);
/* Forgets the contents, keeps the memory. */
void syn_buf_reset(struct syn_buf *b);
/* Makes room for extra more bytes. 0, SYN_ENOMEM or SYN_ETOOBIG. */
int syn_buf_reserve(struct syn_buf *b, size_t extra);
int syn_buf_append(struct syn_buf *b, const void *data, size_t size);
int syn_buf_append_u8(struct syn_buf *b, uint8_t v);
int syn_buf_append_u16le(struct syn_buf *b, uint16_t v);
int syn_buf_append_u32le(struct syn_buf *b, uint32_t v);
int syn_buf_append_u64le(struct syn_buf *b, uint64_t v);
/* Drops the first size bytes (a consumed prefix). */
void syn_buf_consume(struct syn_buf *b, size_t size);

static inline uint16_t syn_get_u16le(const uint8_t *p)
{
    return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static inline uint32_t syn_get_u32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t syn_get_u64le(const uint8_t *p)
{
    return (uint64_t)syn_get_u32le(p) | (uint64_t)syn_get_u32le(p + 4) << 32;
}

static inline void syn_put_u32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline void syn_put_u64le(uint8_t *p, uint64_t v)
{
    syn_put_u32le(p, (uint32_t)v);
    syn_put_u32le(p + 4, (uint32_t)(v >> 32));
}

#endif
