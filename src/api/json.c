/* json.c: JSON string and number encoders (json.h). */
#include "api/json.h"

#include <string.h>

#include "base/err.h"

/* The escaped form of c into out; returns its size (1 when c needs no escape). */
static size_t escape(uint8_t c, char out[6])
{
    static const char hex[] = "0123456789abcdef";
    static const char from[] = "\"\\\b\f\n\r\t";
    static const char to[] = "\"\\bfnrt";
    const char *hit = c != 0 ? memchr(from, c, sizeof(from) - 1) : NULL;
    if (hit != NULL) {
        out[0] = '\\';
        out[1] = to[hit - from];
        return 2;
    }
    if (c < 0x20 || c == 0x7f) {
        memcpy(out, "\\u00", 4);
        out[4] = hex[c >> 4];
        out[5] = hex[c & 0xf];
        return 6;
    }
    out[0] = (char)c;
    return 1;
}

int json_append_string(struct syn_buf *b, const void *s, size_t size)
{
    const uint8_t *p = s;
    size_t total = 2;
    char e[6];
    for (size_t i = 0; i < size; i++) {
        total += escape(p[i], e);
    }
    int rc = syn_buf_reserve(b, total);
    if (rc != 0) {
        return rc;
    }
    b->data[b->len++] = '"';
    for (size_t i = 0; i < size; i++) {
        size_t n = escape(p[i], e);
        memcpy(b->data + b->len, e, n);
        b->len += n;
    }
    b->data[b->len++] = '"';
    return 0;
}

int json_append_cstring(struct syn_buf *b, const char *s)
{
    return json_append_string(b, s, strlen(s));
}

int json_append_u64(struct syn_buf *b, uint64_t v)
{
    char digits[20];
    size_t n = 0;
    do {
        digits[sizeof(digits) - 1 - n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v > 0);
    return syn_buf_append(b, digits + sizeof(digits) - n, n);
}

/* ---- Objects ------------------------------------------------------------------------- */

void json_obj_begin(struct json_obj *o, struct syn_buf *b)
{
    *o = (struct json_obj){.b = b, .rc = syn_buf_append(b, "{", 1), .first = true};
}

/* "key": after a comma unless it is the first member. */
bool json_obj_key(struct json_obj *o, const char *key)
{
    if (o->rc == 0 && !o->first) {
        o->rc = syn_buf_append(o->b, ",", 1);
    }
    o->first = false;
    if (o->rc == 0) {
        o->rc = json_append_cstring(o->b, key);
    }
    if (o->rc == 0) {
        o->rc = syn_buf_append(o->b, ":", 1);
    }
    return o->rc == 0;
}

void json_obj_str(struct json_obj *o, const char *key, const char *value)
{
    if (json_obj_key(o, key)) {
        o->rc = json_append_cstring(o->b, value);
    }
}

void json_obj_u64(struct json_obj *o, const char *key, uint64_t value)
{
    if (json_obj_key(o, key)) {
        o->rc = json_append_u64(o->b, value);
    }
}

void json_obj_bool(struct json_obj *o, const char *key, bool value)
{
    if (json_obj_key(o, key)) {
        o->rc = value ? syn_buf_append(o->b, "true", 4) : syn_buf_append(o->b, "false", 5);
    }
}

void json_obj_null(struct json_obj *o, const char *key)
{
    if (json_obj_key(o, key)) {
        o->rc = syn_buf_append(o->b, "null", 4);
    }
}

int json_obj_end(struct json_obj *o)
{
    if (o->rc == 0) {
        o->rc = syn_buf_append(o->b, "}", 1);
    }
    return o->rc;
}
