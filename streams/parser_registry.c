/* The parser registry: one line per message format. The order is the
 * "format" key's choices; the first is the default. */
#include <string.h>

#include "streams/parse.h"

extern const vg_parser_ops vg_json_parser_ops;
extern const vg_parser_ops vg_influx_parser_ops;
extern const vg_parser_ops vg_graphite_parser_ops;
extern const vg_parser_ops vg_collectd_json_parser_ops;
extern const vg_parser_ops vg_collectd_command_parser_ops;
extern const vg_parser_ops vg_telegraf_json_parser_ops;
extern const vg_parser_ops vg_prom_text_parser_ops;
extern const vg_parser_ops vg_vector_json_parser_ops;
extern const vg_parser_ops vg_otlp_json_parser_ops;
extern const vg_parser_ops vg_otlp_proto_parser_ops;
extern const vg_parser_ops vg_prom_rw_parser_ops;

static const vg_parser_ops *const registry[] = {
    &vg_json_parser_ops,
    &vg_influx_parser_ops,
    &vg_graphite_parser_ops,
    &vg_collectd_json_parser_ops,
    &vg_collectd_command_parser_ops,
    &vg_telegraf_json_parser_ops,
    &vg_prom_text_parser_ops,
    &vg_vector_json_parser_ops,
    &vg_otlp_json_parser_ops,
    &vg_otlp_proto_parser_ops,
    &vg_prom_rw_parser_ops,
};

size_t vg_parser_type_count(void)
{
    return sizeof(registry) / sizeof(registry[0]);
}

const vg_parser_ops *vg_parser_type_at(size_t i)
{
    return i < vg_parser_type_count() ? registry[i] : NULL;
}

const vg_parser_ops *vg_parser_type_find(const char *name)
{
    for (size_t i = 0; i < vg_parser_type_count(); i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}
