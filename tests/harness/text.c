/* text.c: the growable text buffer of text.h. */
#include "text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void *text_xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size == 0 ? 1 : size);
    if (q == NULL) {
        fprintf(stderr, "out of memory (%zu bytes)\n", size);
        abort();
    }
    return q;
}

void *text_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count == 0 ? 1 : count, size == 0 ? 1 : size);
    if (p == NULL) {
        fprintf(stderr, "out of memory (%zu x %zu bytes)\n", count, size);
        abort();
    }
    return p;
}

void text_printf(struct text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        abort();
    }
    size_t need = t->size + (size_t)n + 1;
    if (need > t->cap) {
        size_t cap = t->cap == 0 ? 256 : t->cap;
        while (cap < need) {
            cap *= 2;
        }
        t->data = text_xrealloc(t->data, cap);
        t->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(t->data + t->size, t->cap - t->size, fmt, ap);
    va_end(ap);
    t->size += (size_t)n;
}

const char *text_str(const struct text *t)
{
    return t->data == NULL ? "" : t->data;
}

void text_clear(struct text *t)
{
    t->size = 0;
    if (t->data != NULL) {
        t->data[0] = '\0';
    }
}

void text_free(struct text *t)
{
    free(t->data);
    *t = (struct text){0};
}
