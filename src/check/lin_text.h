/* lin_text.h: a tiny pure formatter for the checker's messages (no stdio in a core). */
#ifndef SYN_CHECK_LIN_TEXT_H
#define SYN_CHECK_LIN_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "check/lin.h"

/* Appends to a fixed buffer, truncating what does not fit; buf stays NUL-terminated. */
struct lin_text {
    char *buf;   /* borrowed for the text's lifetime */
    size_t size; /* bytes at buf, >= 1 */
    size_t len;  /* characters written so far, < size */
};

/* Starts an empty text in buf[0..size); size must be at least 1. */
void lin_text_init(struct lin_text *text, char *buf, size_t size);
/* Appends the NUL-terminated string s. */
void lin_text_str(struct lin_text *text, const char *s);
/* Appends v in decimal. */
void lin_text_u64(struct lin_text *text, uint64_t v);
/* Appends a register value: "absent" for 0, else decimal. */
void lin_text_value(struct lin_text *text, uint64_t value);
/* Appends "op I (client C: read -> V, [T0, T1])", describing ops[index]. */
void lin_text_op(struct lin_text *text, const struct lin_op *op, size_t index);

#endif
