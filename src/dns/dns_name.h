/* dns_name.h: domain names in wire form (RFC 1035 3.1: length-prefixed labels ending in a
 * zero byte), read from a message with compression pointers followed safely (RFC 1035
 * 4.1.4), built from text or label by label, and compared without regard to ASCII case
 * (RFC 4343). Pure: no I/O (STYLE 10). */
#ifndef SYN_DNS_NAME_H
#define SYN_DNS_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/limits.h"

/* A name, uncompressed. The root name is one zero byte (size 1, no labels). */
struct dns_name {
    uint8_t wire[SYN_DNS_NAME_SIZE_MAX];  /* labels, each a length byte and its bytes, then 0 */
    uint8_t size;                         /* bytes of wire, the final 0 included: 1 .. 255 */
    uint8_t label_count;                  /* 0 .. SYN_DNS_LABELS_MAX */
    uint8_t label_at[SYN_DNS_LABELS_MAX]; /* offset in wire of each label's length byte */
};

/* The root name. */
void dns_name_root(struct dns_name *n);
/* Appends one label (1 .. SYN_DNS_LABEL_SIZE_MAX bytes, any byte values) at the end, before
 * the final 0. 0, or SYN_EINVAL (empty or too long a label), SYN_ETOOBIG (the name would
 * pass SYN_DNS_NAME_SIZE_MAX); n is unchanged on failure. */
int dns_name_push(struct dns_name *n, const void *label, size_t size);
/* Appends every label of tail to n. 0, or SYN_ETOOBIG (n unchanged). */
int dns_name_append(struct dns_name *n, const struct dns_name *tail);
/* Reads "web.service.synod" (a trailing dot is allowed; "" and "." are the root) into out.
 * Labels are taken byte for byte (no escapes). 0, or SYN_EINVAL (an empty label, a label
 * over 63 bytes), SYN_ETOOBIG (over 255 bytes in wire form). */
int dns_name_from_text(const char *text, struct dns_name *out);
/* Label i's bytes and size (i < label_count). */
const uint8_t *dns_name_label(const struct dns_name *n, uint32_t i, size_t *size);
/* Whether label i equals text (text's size bytes), ignoring ASCII case. */
bool dns_name_label_is(const struct dns_name *n, uint32_t i, const char *text, size_t size);
/* Whether n ends with the labels of suffix (ASCII case ignored); the root ends every name. */
bool dns_name_ends_with(const struct dns_name *n, const struct dns_name *suffix);
/* Whether a and b are the same name, ignoring ASCII case. */
bool dns_name_equal(const struct dns_name *a, const struct dns_name *b);
/* Whether c may stand in the names synod serves and points to: a letter, a digit, '-', '_'
 * (RFC 952 host names, plus '_' for RFC 2782 labels). */
bool dns_char_plain(uint8_t c);
/* Whether n has one label or more, and only such characters in them. */
bool dns_name_is_plain(const struct dns_name *n);
/* Writes n as dotted text without the final dot ("" for the root) into out (size bytes,
 * NUL-terminated); bytes other than letters, digits, '-' and '_' are written as \DDD, and '.'
 * as "\." (RFC 1035 5.1). 0, or SYN_ETOOBIG (out too small; out holds ""). */
int dns_name_to_text(const struct dns_name *n, char *out, size_t size);

/* Reads the name at msg[at] (msg is the whole message: pointers are offsets into it) into
 * out and sets *end to the offset just past the name where it stands (past its first
 * pointer if it has one). Untrusted input: every length is checked; a pointer must point
 * strictly before the label sequence that holds it and at or past the header, which makes
 * loops impossible, and at most SYN_DNS_POINTERS_MAX are followed. 0, or SYN_EBADMSG (past
 * the end, a label type other than 00 and 11 (RFC 6891 removed the others), a bad pointer,
 * or a name over 255 bytes). */
int dns_name_read(const uint8_t *msg, size_t size, size_t at, struct dns_name *out, size_t *end);

/* Whether a and b (size bytes each) are equal, ignoring ASCII case. */
bool dns_bytes_equal_nocase(const uint8_t *a, const uint8_t *b, size_t size);

/* ASCII lower case, the only case DNS folds (RFC 4343). */
static inline uint8_t dns_lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + ('a' - 'A')) : c;
}

#endif
