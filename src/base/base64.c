/* base64.c: RFC 4648 section 4 encoding. */
#include "base/base64.h"

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
