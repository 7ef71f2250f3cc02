/* CRC-32C (Castagnoli), the checksum of saved-state files.
 *
 * Reflected polynomial 0x82F63B78, initial value and final xor 0xFFFFFFFF:
 * the CRC used by iSCSI, ext4 and Kafka's record batches, so any standard
 * implementation (e.g. `crc32c` in Python's crc32c package) checks a file.
 * Computed in software, slicing-by-8 over eight 256-entry tables: about
 * 8 bytes per step, portable, no CPU feature needed. Thread-safe. */
#ifndef VG_MODELS_CRC32C_H
#define VG_MODELS_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extends crc (0 to start) over data[len] and returns the new value, so
 * vg_crc32c(a + b) == vg_crc32c_update(vg_crc32c(a), b). data NULL-able when
 * len is 0. */
uint32_t vg_crc32c_update(uint32_t crc, const void *data, size_t len);

static inline uint32_t vg_crc32c(const void *data, size_t len)
{
    return vg_crc32c_update(0, data, len);
}

#endif
