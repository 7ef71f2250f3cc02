/* SipHash-1-3: a keyed 64-bit hash for tables whose keys come from outside
 * (series names): without the key, an attacker cannot make keys collide. */
#ifndef VG_CORE_SIPHASH_H
#define VG_CORE_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

typedef struct vg_sipkey {
    uint64_t k0, k1;
} vg_sipkey;

/* A key from the kernel's random source (getrandom), different in every
 * process; falls back to the clock and pid if it cannot be read. */
vg_sipkey vg_sipkey_random(void);

uint64_t vg_siphash(const void *bytes, size_t len, vg_sipkey key);

#endif
