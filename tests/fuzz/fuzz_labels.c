/* Fuzz target: the label-window loader over arbitrary bytes. A file that
 * loads must give sorted, non-overlapping windows that its own keys find. */
#include <stdint.h>
#include <stdlib.h>

#include "src/labels.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vg_error err;
    vg_labels *l = vg_labels_parse((const char *)data, size, "input", &err);
    if (l == NULL) {
        vg_assert(err.code == VG_EPARSE || err.code == VG_ENOMEM);
        return 0;
    }
    for (size_t i = 0; i < vg_labels_count(l); i++) {
        size_t n, found_n;
        const vg_label_window *w = vg_labels_windows(l, i, &n), *found;
        for (size_t k = 0; k < n; k++) {
            vg_assert(w[k].start_ms <= w[k].end_ms);
            vg_assert(k == 0 || w[k - 1].end_ms < w[k].start_ms);
        }
        vg_assert(vg_labels_find(l, vg_labels_key(l, i), &found, &found_n) == 0 ||
                  vg_labels_key(l, i)[0] == '\0');
    }
    vg_labels_free(l);
    return 0;
}
