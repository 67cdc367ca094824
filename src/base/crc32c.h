/* crc32c.h: CRC-32C (Castagnoli), the checksum of WAL records and peer frames. */
#ifndef SYN_BASE_CRC32C_H
#define SYN_BASE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extends crc (0 to start) over size bytes at data. */
uint32_t crc32c(uint32_t crc, const void *data, size_t size);

#endif
