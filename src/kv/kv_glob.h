/* kv_glob.h: glob-style matching for SCAN MATCH, with Redis's semantics (util.c
 * stringmatchlen()), over bytes:
 *   *      any run of bytes, the empty one too
 *   ?      one byte
 *   [abc]  one byte of the set; [^abc] one byte outside it; [a-z] a range (ends may come in
 *          either order); \x inside brackets is x; "[]" matches nothing and "[^]" any byte;
 *          an unclosed bracket runs to the end of the pattern
 *   \x     x itself
 * Two Redis quirks are kept on purpose: a nonempty pattern never matches the empty string
 * (SCAN special-cases the pattern "*"), and a range such as "[a-]" takes the "]" as its
 * end. Two differences: bytes compare unsigned (Redis compares plain chars, signed on x86
 * and unsigned on ARM), and there is no nesting limit (Redis gives up past 1,000 nested
 * stars; this matcher does not recurse).
 *
 * Pure; O(pattern_size x string_size) at worst, no recursion, no allocation. */
#ifndef SYN_KV_GLOB_H
#define SYN_KV_GLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool kv_glob_match(const uint8_t *pattern, size_t pattern_size, const uint8_t *string,
                   size_t string_size);

#endif
