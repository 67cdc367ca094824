/* fuzz_input.h: reading a libFuzzer input as a little-endian stream of small numbers, for
 * targets that build structured inputs (scripts, forged messages) from the raw bytes. */
#ifndef SYN_TESTS_FUZZ_INPUT_H
#define SYN_TESTS_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

struct fuzz_reader {
    const uint8_t *data;
    size_t size;
    size_t at;
};

/* The next `bytes` bytes as a little-endian number; past the end they read as zero. */
static inline uint64_t fuzz_take(struct fuzz_reader *rd, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes && rd->at < rd->size; i++) {
        v |= (uint64_t)rd->data[rd->at++] << (8 * i);
    }
    return v;
}

#endif
