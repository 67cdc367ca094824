/* num.h: signed 64-bit integers as decimal text, with Redis's rules (util.c string2ll and
 * ll2string), for everything that reads or writes numbers a client sees: RESP lengths and
 * integer replies, INCRBY's stored values. */
#ifndef SYN_BASE_NUM_H
#define SYN_BASE_NUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SYN_I64_TEXT_SIZE_MAX 20u /* "-9223372036854775808" */

/* Parses "0" or "-?[1-9][0-9]*" that fits int64: no '+', no blanks, no leading zeros, no
 * "-0". False otherwise (*out untouched). */
bool syn_i64_parse(const uint8_t *text, size_t size, int64_t *out);
/* Writes v in decimal (no terminator); returns the size. */
size_t syn_i64_format(int64_t v, char out[SYN_I64_TEXT_SIZE_MAX]);

#endif
