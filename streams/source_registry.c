/* The source registry: one line per source type. */
#include <stdlib.h>

#include "streams/stream.h"

extern const vg_source_ops vg_kafka_source_ops;
extern const vg_source_ops vg_csv_source_ops;
extern const vg_source_ops vg_rw_source_ops;

static const vg_source_ops *const registry[] = {
    &vg_kafka_source_ops,
    &vg_csv_source_ops,
    &vg_rw_source_ops,
};

size_t vg_source_type_count(void)
{
    return sizeof(registry) / sizeof(registry[0]);
}

const vg_source_ops *vg_source_type_at(size_t i)
{
    return i < vg_source_type_count() ? registry[i] : NULL;
}

void vg_source_close(vg_source *src)
{
    if (src == NULL)
        return;
    src->ops->close(src->self);
    free(src);
}
