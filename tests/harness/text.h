/* text.h: a growable text buffer that tests print into, so that output can be compared with
 * the expected block of a script or written back by --rewrite. */
#ifndef SYN_TESTS_TEXT_H
#define SYN_TESTS_TEXT_H

#include <stddef.h>

struct text {
    char *data; /* NUL-terminated; NULL while empty */
    size_t size;
    size_t cap;
};

/* Appends formatted text. Aborts when out of memory: this is test code. */
void text_printf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text so far; "" while empty. Borrowed until the next call on t. */
const char *text_str(const struct text *t);
void text_clear(struct text *t);
void text_free(struct text *t);
/* malloc/calloc/realloc that abort instead of returning NULL (tests only). */
void *text_xrealloc(void *p, size_t size);
void *text_xcalloc(size_t count, size_t size);

#endif
