/* The detector registry: one line per detector, in the order the pipeline
 * runs them and events list them. */
#include <string.h>

#include "detectors/detector.h"

extern const vg_detector_ops vg_zscore_ops;
extern const vg_detector_ops vg_seasonal_ops;
extern const vg_detector_ops vg_iforest_ops;
extern const vg_detector_ops vg_extreme_ops;

static const vg_detector_ops *const registry[] = {
    &vg_zscore_ops,
    &vg_seasonal_ops,
    &vg_iforest_ops,
    &vg_extreme_ops,
};

size_t vg_detector_count(void)
{
    return sizeof(registry) / sizeof(registry[0]);
}

const vg_detector_ops *vg_detector_at(size_t i)
{
    return i < vg_detector_count() ? registry[i] : NULL;
}

const vg_detector_ops *vg_detector_find(const char *name)
{
    for (size_t i = 0; i < vg_detector_count(); i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}
