/* http_query.h: reading query parameters ("?cas=5&recurse&peer-addr=10.0.0.1%3A7001") into C
 * strings, for every HTTP handler: pure functions over the bytes of the query, no I/O, no
 * globals (STYLE 10).
 *
 * Names are matched byte for byte and are not decoded (the parameters synod reads are plain
 * ASCII words). Values are decoded as application/x-www-form-urlencoded, the way Consul's Go
 * server and the clients written for it (python-consul, curl --data-urlencode) encode them:
 * "%XX" is a byte and '+' is a space. When a name appears more than once, the first wins.
 */
#ifndef SYN_API_HTTP_QUERY_H
#define SYN_API_HTTP_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#include "api/http_parse.h"

/* Decodes the value of parameter name into out, NUL-terminated; *len_out (may be NULL) is its
 * size without the terminator. "?learner" and "?learner=" have the empty value. Returns
 *   0            found and decoded;
 *   SYN_ENOENT   name is not in query;
 *   SYN_ETOOBIG  the decoded value and its terminator do not fit out_size bytes;
 *   SYN_EBADMSG  a '%' not followed by two hex digits, or "%00" (a NUL would cut the C string).
 * On failure out is "" (when out_size > 0) and *len_out is 0. */
int http_query_get(struct http_slice query, const char *name, char *out, size_t out_size,
                   size_t *len_out);

/* Whether parameter name is present, with or without a value: a flag such as "?recurse" or
 * "?learner" (Consul reads its flags the same way: present means on). */
bool http_query_has(struct http_slice query, const char *name);

#endif
