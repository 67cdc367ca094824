/* num.c: decimal text of signed 64-bit integers (num.h). */
#include "base/num.h"

bool syn_i64_parse(const uint8_t *text, size_t size, int64_t *out)
{
    if (size == 0 || size > SYN_I64_TEXT_SIZE_MAX) {
        return false;
    }
    if (size == 1 && text[0] == '0') {
        *out = 0;
        return true;
    }
    bool negative = text[0] == '-';
    size_t i = negative ? 1 : 0;
    if (i == size || text[i] < '1' || text[i] > '9') {
        return false;
    }
    uint64_t v = 0;
    for (; i < size; i++) {
        uint64_t digit = (uint64_t)(text[i] - '0');
        if (text[i] < '0' || text[i] > '9' || v > (UINT64_MAX - digit) / 10) {
            return false;
        }
        v = v * 10 + digit;
    }
    uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    if (v > limit) {
        return false;
    }
    *out = negative ? (int64_t)(0 - v) : (int64_t)v; /* 0 - 2^63 wraps to INT64_MIN's bits */
    return true;
}

size_t syn_i64_format(int64_t v, char out[SYN_I64_TEXT_SIZE_MAX])
{
    char digits[SYN_I64_TEXT_SIZE_MAX];
    size_t d = 0;
    uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        digits[d++] = (char)('0' + mag % 10);
        mag /= 10;
    } while (mag > 0);
    size_t n = 0;
    if (v < 0) {
        out[n++] = '-';
    }
    while (d > 0) {
        out[n++] = digits[--d];
    }
    return n;
}
