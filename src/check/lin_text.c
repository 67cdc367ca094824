/* lin_text.c: appends strings, numbers and op descriptions to a fixed buffer. */
#include "check/lin_text.h"

#include "base/assert.h"

void lin_text_init(struct lin_text *text, char *buf, size_t size)
{
    ASSERT(buf != NULL);
    ASSERT(size >= 1);
    text->buf = buf;
    text->size = size;
    text->len = 0;
    buf[0] = '\0';
}

void lin_text_str(struct lin_text *text, const char *s)
{
    while (*s != '\0' && text->len + 1 < text->size) {
        text->buf[text->len++] = *s++;
    }
    text->buf[text->len] = '\0';
}

void lin_text_u64(struct lin_text *text, uint64_t v)
{
    char digits[21]; /* UINT64_MAX has 20 digits */
    size_t at = sizeof(digits) - 1;
    digits[at] = '\0';
    do {
        digits[--at] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    lin_text_str(text, &digits[at]);
}

void lin_text_value(struct lin_text *text, uint64_t value)
{
    if (value == 0) {
        lin_text_str(text, "absent");
    } else {
        lin_text_u64(text, value);
    }
}

/* "read -> V", "write V", "delete", "cas E -> V ok" or "cas E -> V failed". */
static void text_action(struct lin_text *text, const struct lin_op *op)
{
    switch (op->kind) {
    case LIN_READ:
        lin_text_str(text, "read -> ");
        lin_text_value(text, op->value);
        break;
    case LIN_WRITE:
        if (op->value == 0) {
            lin_text_str(text, "delete");
            break;
        }
        lin_text_str(text, "write ");
        lin_text_u64(text, op->value);
        break;
    case LIN_CAS:
        lin_text_str(text, "cas ");
        lin_text_value(text, op->expected);
        lin_text_str(text, " -> ");
        lin_text_value(text, op->value);
        if (op->outcome == LIN_OK) {
            lin_text_str(text, op->cas_ok ? " ok" : " failed");
        }
        break;
    default:
        lin_text_str(text, "unknown kind ");
        lin_text_u64(text, op->kind);
        break;
    }
}

void lin_text_op(struct lin_text *text, const struct lin_op *op, size_t index)
{
    lin_text_str(text, "op ");
    lin_text_u64(text, index);
    lin_text_str(text, " (client ");
    lin_text_u64(text, op->client);
    lin_text_str(text, ": ");
    text_action(text, op);
    if (op->outcome == LIN_OK) {
        lin_text_str(text, ", [");
        lin_text_u64(text, op->invoke_time);
        lin_text_str(text, ", ");
        lin_text_u64(text, op->complete_time);
        lin_text_str(text, "])");
        return;
    }
    lin_text_str(text, ", invoked at ");
    lin_text_u64(text, op->invoke_time);
    lin_text_str(text, op->outcome == LIN_UNKNOWN ? ", outcome unknown)" : ", rejected)");
}
