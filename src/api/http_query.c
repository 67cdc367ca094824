/* http_query.c: query parameters as C strings (http_query.h). The raw lookup is the parser's
 * http_query_find(); this file adds form decoding into a caller's fixed buffer. */
#include "api/http_query.h"

#include <string.h>

#include "base/err.h"

/* The value of hex digit c, or -1. */
static int hex_value(uint8_t c)
{
    static const char digits[] = "0123456789abcdef";
    uint8_t lower = (c >= 'A' && c <= 'F') ? (uint8_t)(c - 'A' + 'a') : c;
    const char *hit = lower != 0 ? memchr(digits, lower, sizeof(digits) - 1) : NULL;
    return hit != NULL ? (int)(hit - digits) : -1;
}

/* Decodes raw into out[0 .. out_size) with its terminator; the size in *len. */
static int form_decode(struct http_slice raw, char *out, size_t out_size, size_t *len)
{
    size_t n = 0;
    for (size_t i = 0; i < raw.size; i++) {
        uint8_t c = raw.data[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (raw.size - i < 3) {
                return SYN_EBADMSG;
            }
            int h = hex_value(raw.data[i + 1]);
            int l = hex_value(raw.data[i + 2]);
            if (h < 0 || l < 0 || (h == 0 && l == 0)) {
                return SYN_EBADMSG;
            }
            c = (uint8_t)(h * 16 + l);
            i += 2;
        }
        if (n + 1 >= out_size) {
            return SYN_ETOOBIG;
        }
        out[n++] = (char)c;
    }
    out[n] = '\0';
    *len = n;
    return 0;
}

int http_query_get(struct http_slice query, const char *name, char *out, size_t out_size,
                   size_t *len_out)
{
    struct http_slice raw;
    size_t len = 0;
    int rc = SYN_ENOENT;
    if (http_query_find(query, name, &raw)) {
        rc = out_size > 0 ? form_decode(raw, out, out_size, &len) : SYN_ETOOBIG;
    }
    if (rc != 0) {
        len = 0;
        if (out_size > 0) {
            out[0] = '\0';
        }
    }
    if (len_out != NULL) {
        *len_out = len;
    }
    return rc;
}

bool http_query_has(struct http_slice query, const char *name)
{
    struct http_slice raw;
    return http_query_find(query, name, &raw);
}
