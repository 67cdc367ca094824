/* base64.c: RFC 4648 section 4 encoding and decoding. */
#include "base/base64.h"

#include <stdbool.h>
#include <string.h>

#include "base/err.h"

static const char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int syn_base64_append(struct syn_buf *out, const uint8_t *data, size_t size)
{
    size_t encoded = syn_base64_size(size);
    int rc = syn_buf_reserve(out, encoded);
    if (rc != 0) {
        return rc;
    }
    char *p = (char *)out->data + out->len;
    size_t i = 0;
    for (; i + 3 <= size; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
        *p++ = base64_alphabet[v >> 18];
        *p++ = base64_alphabet[(v >> 12) & 63];
        *p++ = base64_alphabet[(v >> 6) & 63];
        *p++ = base64_alphabet[v & 63];
    }
    if (i < size) {
        uint32_t v = (uint32_t)data[i] << 16;
        if (i + 1 < size) {
            v |= (uint32_t)data[i + 1] << 8;
        }
        *p++ = base64_alphabet[v >> 18];
        *p++ = base64_alphabet[(v >> 12) & 63];
        *p++ = i + 1 < size ? base64_alphabet[(v >> 6) & 63] : '=';
        *p++ = '=';
    }
    out->len += encoded;
    return 0;
}

/* The 6-bit value of base64 digit c, or -1. */
static int digit_value(uint8_t c)
{
    const char *hit = c != 0 ? memchr(base64_alphabet, c, 64) : NULL;
    return hit != NULL ? (int)(hit - base64_alphabet) : -1;
}

int syn_base64_decode(struct syn_buf *out, const uint8_t *text, size_t size)
{
    if (size % 4 != 0) {
        return SYN_EBADMSG;
    }
    size_t start = out->len;
    int rc = syn_buf_reserve(out, size / 4 * 3);
    for (size_t i = 0; i < size && rc == 0; i += 4) {
        bool last = i + 4 == size;
        size_t pad = last && text[i + 3] == '=' ? (text[i + 2] == '=' ? 2u : 1u) : 0u;
        uint32_t bits = 0;
        for (size_t k = 0; k < 4; k++) {
            int v = k >= 4 - pad ? 0 : digit_value(text[i + k]);
            rc = v < 0 ? SYN_EBADMSG : rc;
            bits = bits << 6 | (uint32_t)(v < 0 ? 0 : v);
        }
        /* the bits after the last byte must be zero: one encoding per value */
        uint32_t unused = pad == 2 ? 0xffffu : pad == 1 ? 0xffu : 0u;
        rc = rc == 0 && (bits & unused) != 0 ? SYN_EBADMSG : rc;
        uint8_t bytes[3] = {(uint8_t)(bits >> 16), (uint8_t)(bits >> 8), (uint8_t)bits};
        rc = rc == 0 ? syn_buf_append(out, bytes, 3 - pad) : rc;
    }
    if (rc != 0) {
        out->len = start;
    }
    return rc;
}
