/* kv_glob.c: the SCAN MATCH matcher (kv_glob.h): single-byte elements and a greedy star that
 * backtracks to the last star only, which is exact for patterns whose only variable-length
 * element is the star. */
#include "kv/kv_glob.h"

/* A bracket class starting at p[i] == '['. Returns the class's length in the pattern and
 * sets *match when byte c belongs to it. The walk follows stringmatchlen(): an escape needs
 * two bytes left, a range three, and the pattern's end closes an unclosed class. */
static size_t class_match(const uint8_t *p, size_t m, size_t i, uint8_t c, bool *match)
{
    size_t j = i + 1;
    bool negate = j < m && p[j] == '^';
    if (negate) {
        j++;
    }
    bool in = false;
    for (;;) {
        if (j < m && p[j] == '\\' && m - j >= 2) {
            in = in || p[j + 1] == c;
            j += 2;
        } else if (j < m && p[j] == ']') {
            j++;
            break;
        } else if (j >= m) {
            break;
        } else if (m - j >= 3 && p[j + 1] == '-') {
            uint8_t lo = p[j] < p[j + 2] ? p[j] : p[j + 2];
            uint8_t hi = p[j] < p[j + 2] ? p[j + 2] : p[j];
            in = in || (c >= lo && c <= hi);
            j += 3;
        } else {
            in = in || p[j] == c;
            j++;
        }
    }
    *match = negate ? !in : in;
    return j - i;
}

/* The element at p[i] (not a star): its length in the pattern, and whether c matches it. */
static size_t element_match(const uint8_t *p, size_t m, size_t i, uint8_t c, bool *match)
{
    switch (p[i]) {
    case '?':
        *match = true;
        return 1;
    case '[':
        return class_match(p, m, i, c, match);
    case '\\':
        if (m - i >= 2) {
            *match = p[i + 1] == c;
            return 2;
        }
        *match = c == '\\';
        return 1;
    default:
        *match = p[i] == c;
        return 1;
    }
}

bool kv_glob_match(const uint8_t *pattern, size_t pattern_size, const uint8_t *string,
                   size_t string_size)
{
    const uint8_t *p = pattern;
    size_t m = pattern_size;
    if (string_size == 0) {
        return m == 0; /* Redis: the loop never runs on an empty string */
    }
    size_t i = 0;
    size_t j = 0;
    size_t star = SIZE_MAX; /* the last star seen, and where the string stood after it */
    size_t star_j = 0;
    while (j < string_size) {
        if (i < m && p[i] == '*') {
            star = i;
            star_j = j;
            i++;
            continue;
        }
        if (i < m) {
            bool match;
            size_t len = element_match(p, m, i, string[j], &match);
            if (match) {
                i += len;
                j++;
                continue;
            }
        }
        if (star == SIZE_MAX) {
            return false;
        }
        i = star + 1; /* let the last star swallow one more byte */
        star_j++;
        j = star_j;
    }
    while (i < m && p[i] == '*') {
        i++;
    }
    return i == m;
}
