/* The sink registry: one line per sink type. */
#include <stdlib.h>
#include <string.h>

#include "streams/stream.h"

extern const vg_sink_ops vg_ndjson_sink_ops;
extern const vg_sink_ops vg_console_sink_ops;
extern const vg_sink_ops vg_kafka_sink_ops;
extern const vg_sink_ops vg_alertmanager_sink_ops;
extern const vg_sink_ops vg_remote_write_sink_ops;
extern const vg_sink_ops vg_influx_kafka_sink_ops;

static const vg_sink_ops *const registry[] = {
    &vg_ndjson_sink_ops,
    &vg_console_sink_ops,
    &vg_kafka_sink_ops,
    &vg_alertmanager_sink_ops,
    &vg_remote_write_sink_ops,
    &vg_influx_kafka_sink_ops,
};

size_t vg_sink_type_count(void)
{
    return sizeof(registry) / sizeof(registry[0]);
}

const vg_sink_ops *vg_sink_type_at(size_t i)
{
    return i < vg_sink_type_count() ? registry[i] : NULL;
}

const vg_sink_ops *vg_sink_type_find(const char *type)
{
    for (size_t i = 0; i < vg_sink_type_count(); i++)
        if (strcmp(registry[i]->name, type) == 0)
            return registry[i];
    return NULL;
}

static const vg_sink_ops *find(const char *type, vg_error *err)
{
    const vg_sink_ops *ops = vg_sink_type_find(type);
    if (ops == NULL)
        vg_error_set(err, VG_ECONFIG, "unknown output type \"%s\"", type);
    return ops;
}

int vg_sink_check(const char *type, const vg_conf_doc *doc, const json_t *cfg,
                  vg_error *err)
{
    const vg_sink_ops *ops = find(type, err);
    return ops != NULL ? ops->check(doc, cfg, err) : VG_ECONFIG;
}

vg_sink *vg_sink_open(const char *type, const vg_conf_doc *doc, const json_t *cfg,
                      vg_error *err)
{
    const vg_sink_ops *ops = find(type, err);
    if (ops == NULL)
        return NULL;
    vg_sink *sink = malloc(sizeof(*sink));
    if (sink == NULL) {
        vg_error_set(err, VG_ENOMEM, "sink");
        return NULL;
    }
    sink->ops = ops;
    sink->self = ops->open(doc, cfg, err);
    if (sink->self == NULL) {
        free(sink);
        return NULL;
    }
    return sink;
}

void vg_sink_close(vg_sink *sink)
{
    if (sink == NULL)
        return;
    vg_sink_flush(sink, 5000);
    sink->ops->close(sink->self);
    free(sink);
}
