/* SipHash-1-3 (Aumasson and Bernstein; 1 compression round, 3 finalisation
 * rounds, as Rust's and Python's hash tables use); see siphash.h. */
#include "core/siphash.h"

#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static void sipround(uint64_t v[4])
{
    v[0] += v[1];
    v[1] = ROTL(v[1], 13);
    v[1] ^= v[0];
    v[0] = ROTL(v[0], 32);
    v[2] += v[3];
    v[3] = ROTL(v[3], 16);
    v[3] ^= v[2];
    v[0] += v[3];
    v[3] = ROTL(v[3], 21);
    v[3] ^= v[0];
    v[2] += v[1];
    v[1] = ROTL(v[1], 17);
    v[1] ^= v[2];
    v[2] = ROTL(v[2], 32);
}

uint64_t vg_siphash(const void *bytes, size_t len, vg_sipkey key)
{
    const unsigned char *p = bytes;
    uint64_t v[4] = {key.k0 ^ 0x736f6d6570736575ULL, key.k1 ^ 0x646f72616e646f6dULL,
                     key.k0 ^ 0x6c7967656e657261ULL, key.k1 ^ 0x7465646279746573ULL};
    size_t whole = len & ~(size_t)7;
    for (size_t i = 0; i < whole; i += 8) {
        uint64_t m = 0;
        for (int b = 7; b >= 0; b--)  /* little-endian, whatever the host */
            m = (m << 8) | p[i + (size_t)b];
        v[3] ^= m;
        sipround(v);
        v[0] ^= m;
    }
    uint64_t last = (uint64_t)len << 56;
    for (size_t b = 0; b < (len & 7); b++)
        last |= (uint64_t)p[whole + b] << (8 * b);
    v[3] ^= last;
    sipround(v);
    v[0] ^= last;
    v[2] ^= 0xff;
    for (int r = 0; r < 3; r++)
        sipround(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

vg_sipkey vg_sipkey_random(void)
{
    vg_sipkey key;
    if (getrandom(&key, sizeof(key), GRND_NONBLOCK) == (ssize_t)sizeof(key))
        return key;
    /* No entropy yet (very early boot): still different per process. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    key.k0 = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
    key.k1 = (uint64_t)ts.tv_sec * 0xbf58476d1ce4e5b9ULL ^ ((uint64_t)getpid() << 32);
    return key;
}
