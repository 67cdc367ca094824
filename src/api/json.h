/* json.h: the few JSON encoders the HTTP API needs (RFC 8259), pure functions over a
 * syn_buf: no I/O, no globals. */
#ifndef SYN_API_JSON_H
#define SYN_API_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

/* Appends size bytes at s as a JSON string, quotes included: '"', '\' and control
 * characters are escaped (\n, \t, ... or \u00XX); other bytes are copied, so UTF-8 stays
 * UTF-8. 0, SYN_ENOMEM or SYN_ETOOBIG; on failure b is as it was. */
int json_append_string(struct syn_buf *b, const void *s, size_t size);
/* The same for a NUL-terminated string. */
int json_append_cstring(struct syn_buf *b, const char *s);
/* Appends v in decimal. */
int json_append_u64(struct syn_buf *b, uint64_t v);

/* An object written member by member into b, with a sticky error: after a failed append
 * the others do nothing, and json_obj_end() reports the first failure.
 *     struct json_obj o; json_obj_begin(&o, b); json_obj_str(&o, "k", "v"); rc = json_obj_end(&o);
 * A failed object leaves partial bytes in b: reset it. */
struct json_obj {
    struct syn_buf *b;
    int rc;
    bool first;
};

void json_obj_begin(struct json_obj *o, struct syn_buf *b);
void json_obj_str(struct json_obj *o, const char *key, const char *value);
void json_obj_u64(struct json_obj *o, const char *key, uint64_t value);
void json_obj_bool(struct json_obj *o, const char *key, bool value);
void json_obj_null(struct json_obj *o, const char *key);
/* Writes "key": and returns true when the object has no error yet: the caller then appends
 * the value itself to o->b (an array, a nested object) and stores a failure in o->rc. */
bool json_obj_key(struct json_obj *o, const char *key);
/* Closes the object. 0, SYN_ENOMEM or SYN_ETOOBIG. */
int json_obj_end(struct json_obj *o);

#endif
