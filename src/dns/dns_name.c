/* dns_name.c: domain names in wire form (dns_name.h): building, comparing, printing, and
 * reading them from untrusted messages with compression pointers. */
#include <string.h>

#include "base/assert.h"
#include "base/err.h"
#include "dns/dns_name.h"

#define POINTER_BITS 0xC0u /* RFC 1035 4.1.4: a label length with both top bits is a pointer */

void dns_name_root(struct dns_name *n)
{
    n->wire[0] = 0;
    n->size = 1;
    n->label_count = 0;
}

int dns_name_push(struct dns_name *n, const void *label, size_t size)
{
    if (size == 0 || size > SYN_DNS_LABEL_SIZE_MAX) {
        return SYN_EINVAL;
    }
    if ((size_t)n->size + 1u + size > SYN_DNS_NAME_SIZE_MAX) {
        return SYN_ETOOBIG;
    }
    ASSERT(n->label_count < SYN_DNS_LABELS_MAX); /* each label takes 2 bytes or more */
    uint8_t at = (uint8_t)(n->size - 1u);        /* where the final 0 is */
    n->wire[at] = (uint8_t)size;
    memcpy(n->wire + at + 1, label, size);
    n->size = (uint8_t)(n->size + 1u + size);
    n->wire[n->size - 1u] = 0;
    n->label_at[n->label_count++] = at;
    return 0;
}

int dns_name_append(struct dns_name *n, const struct dns_name *tail)
{
    if ((size_t)n->size + tail->size - 1u > SYN_DNS_NAME_SIZE_MAX) {
        return SYN_ETOOBIG;
    }
    for (uint32_t i = 0; i < tail->label_count; i++) {
        size_t size = 0;
        const uint8_t *label = dns_name_label(tail, i, &size);
        ASSERT(dns_name_push(n, label, size) == 0);
    }
    return 0;
}

int dns_name_from_text(const char *text, struct dns_name *out)
{
    dns_name_root(out);
    if (strcmp(text, ".") == 0) {
        return 0;
    }
    const char *p = text;
    while (*p != '\0') {
        const char *dot = strchr(p, '.');
        size_t size = dot == NULL ? strlen(p) : (size_t)(dot - p);
        int rc = dns_name_push(out, p, size);
        if (rc != 0) {
            return rc;
        }
        if (dot == NULL) {
            break;
        }
        p = dot + 1; /* a trailing dot ends the loop with an empty rest */
    }
    return 0;
}

const uint8_t *dns_name_label(const struct dns_name *n, uint32_t i, size_t *size)
{
    ASSERT(i < n->label_count);
    const uint8_t *p = n->wire + n->label_at[i];
    *size = p[0];
    return p + 1;
}

bool dns_bytes_equal_nocase(const uint8_t *a, const uint8_t *b, size_t size)
{
    for (size_t i = 0; i < size; i++) {
        if (dns_lower(a[i]) != dns_lower(b[i])) {
            return false;
        }
    }
    return true;
}

bool dns_name_label_is(const struct dns_name *n, uint32_t i, const char *text, size_t size)
{
    size_t label_size = 0;
    const uint8_t *label = dns_name_label(n, i, &label_size);
    return label_size == size && dns_bytes_equal_nocase(label, (const uint8_t *)text, size);
}

bool dns_name_ends_with(const struct dns_name *n, const struct dns_name *suffix)
{
    if (suffix->label_count > n->label_count) {
        return false;
    }
    /* Labels are length-prefixed, so equal tails of the wire bytes are equal label lists. */
    size_t start =
        suffix->label_count == 0 ? n->size - 1u : n->label_at[n->label_count - suffix->label_count];
    return n->size - start == suffix->size &&
           dns_bytes_equal_nocase(n->wire + start, suffix->wire, suffix->size);
}

bool dns_name_equal(const struct dns_name *a, const struct dns_name *b)
{
    return a->label_count == b->label_count && dns_name_ends_with(a, b);
}

bool dns_char_plain(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

bool dns_name_is_plain(const struct dns_name *n)
{
    for (uint32_t i = 0; i < n->label_count; i++) {
        size_t size = 0;
        const uint8_t *label = dns_name_label(n, i, &size);
        for (size_t k = 0; k < size; k++) {
            if (!dns_char_plain(label[k])) {
                return false;
            }
        }
    }
    return n->label_count > 0;
}

int dns_name_to_text(const struct dns_name *n, char *out, size_t size)
{
    ASSERT(size > 0);
    size_t len = 0;
    for (uint32_t i = 0; i < n->label_count; i++) {
        size_t label_size = 0;
        const uint8_t *label = dns_name_label(n, i, &label_size);
        for (size_t k = 0; k <= label_size; k++) {
            char piece[5];
            size_t piece_size = 1;
            if (k == label_size) {
                piece[0] = '.'; /* between labels; the last one is dropped below */
            } else if (dns_char_plain(label[k])) {
                piece[0] = (char)label[k];
            } else if (label[k] == '.') {
                memcpy(piece, "\\.", 2);
                piece_size = 2;
            } else {
                uint8_t c = label[k];
                piece[0] = '\\';
                piece[1] = (char)('0' + c / 100);
                piece[2] = (char)('0' + c / 10 % 10);
                piece[3] = (char)('0' + c % 10);
                piece_size = 4;
            }
            if (len + piece_size >= size) {
                out[0] = '\0';
                return SYN_ETOOBIG;
            }
            memcpy(out + len, piece, piece_size);
            len += piece_size;
        }
    }
    out[len > 0 ? len - 1 : 0] = '\0';
    return 0;
}

int dns_name_read(const uint8_t *msg, size_t size, size_t at, struct dns_name *out, size_t *end)
{
    dns_name_root(out);
    size_t pos = at;
    size_t limit = at; /* where the label sequence being read starts: pointers go before it */
    bool jumped = false;
    uint32_t pointers = 0;
    for (;;) {
        if (pos >= size) {
            return SYN_EBADMSG;
        }
        uint8_t len = msg[pos];
        if (len == 0) {
            if (!jumped) {
                *end = pos + 1;
            }
            return 0;
        }
        if ((len & POINTER_BITS) == POINTER_BITS) {
            if (pos + 1 >= size) {
                return SYN_EBADMSG;
            }
            size_t target = (size_t)(len & ~POINTER_BITS) << 8 | msg[pos + 1];
            if (!jumped) {
                *end = pos + 2;
                jumped = true;
            }
            if (target < SYN_DNS_HEADER_SIZE || target >= limit ||
                ++pointers > SYN_DNS_POINTERS_MAX) {
                return SYN_EBADMSG;
            }
            pos = target;
            limit = target;
            continue;
        }
        /* 01 and 10 were extended label types, now obsolete (RFC 6891 5) */
        if ((len & POINTER_BITS) != 0 || len > size - pos - 1u ||
            dns_name_push(out, msg + pos + 1, len) != 0) {
            return SYN_EBADMSG;
        }
        pos += 1u + len;
    }
}
