#include "core/grow.h"

#include <stdint.h>
#include <stdlib.h>

void *vg_grow_slow(void *v, size_t *cap, size_t n, size_t size, size_t first)
{
    size_t want = *cap ? 2 * *cap : (first ? first : 1);
    if (want <= n)
        want = n + 1;
    if (size != 0 && want > SIZE_MAX / size)
        return NULL;
    void *grown = realloc(v, want * size);
    if (grown != NULL)
        *cap = want;
    return grown;
}
