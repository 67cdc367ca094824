/* base64.h: RFC 4648 base64 (the standard alphabet, with padding), as Consul's KV API carries
 * values in JSON. Pure: no I/O, no globals. */
#ifndef SYN_BASE_BASE64_H
#define SYN_BASE_BASE64_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

/* The encoded size of size bytes. */
static inline size_t syn_base64_size(size_t size)
{
    return (size + 2) / 3 * 4;
}

/* Appends the encoding of size bytes at data to out. 0, SYN_ENOMEM or SYN_ETOOBIG (out is
 * then as it was). */
int syn_base64_append(struct syn_buf *out, const uint8_t *data, size_t size);

/* Appends the decoding of text[0 .. size) (the standard alphabet, padded, as Consul writes
 * values) to out. 0; SYN_EBADMSG (a byte outside the alphabet, padding other than at the
 * end, a size not a multiple of 4, or unused bits that are not zero: RFC 4648 3.5);
 * SYN_ENOMEM or SYN_ETOOBIG. On failure out is as it was. */
int syn_base64_decode(struct syn_buf *out, const uint8_t *text, size_t size);

#endif
