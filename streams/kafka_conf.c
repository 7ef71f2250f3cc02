/* librdkafka configuration helpers shared by the Kafka files; see kafka_conf.h. */
#include "streams/kafka_conf.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"

int vg__kafka_conf_set(rd_kafka_conf_t *conf, const char *path, const char *name,
                       const char *value, vg_error *err)
{
    char why[256];
    if (rd_kafka_conf_set(conf, name, value, why, sizeof(why)) == RD_KAFKA_CONF_OK)
        return VG_OK;
    return vg_error_set_at(err, VG_ECONFIG, path ? path : "kafka", "%s: %s", name, why);
}

/* A JSON scalar as librdkafka property text. */
static int scalar_text(const json_t *v, char *out, size_t cap)
{
    if (json_is_string(v))
        return snprintf(out, cap, "%s", json_string_value(v)) < (int)cap ? 0 : -1;
    if (json_is_integer(v))
        snprintf(out, cap, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(out, cap, "%.17g", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(out, cap, "%s", json_is_true(v) ? "true" : "false");
    else
        return -1;
    return 0;
}

int vg__kafka_conf_apply_json(rd_kafka_conf_t *conf, const vg_conf_doc *doc,
                              const json_t *props, const char *path, vg_error *err)
{
    if (props == NULL)
        return VG_OK;
    char where[64];
    if (!json_is_object(props))
        return vg_error_set_at(err, VG_ECONFIG, path, "must be an object of librdkafka properties");
    const char *name;
    const json_t *v;
    json_object_foreach((json_t *)props, name, v) {
        char text[1024];
        vg_conf_where(doc, props, name, 0, where, sizeof(where));
        if (scalar_text(v, text, sizeof(text)) != 0)
            return vg_error_set_at(err, VG_ECONFIG, where,
                                   "%s.%s: must be a string, number or boolean", path, name);
        char why[256];
        if (rd_kafka_conf_set(conf, name, text, why, sizeof(why)) != RD_KAFKA_CONF_OK)
            return vg_error_set_at(err, VG_ECONFIG, where, "%s.%s: %s", path, name, why);
    }
    return VG_OK;
}

int vg__kafka_conf_check(const vg_conf_doc *doc, const json_t *props, const char *path,
                         vg_error *err)
{
    /* A bare conf (no log callback): nothing is logged while checking. */
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (conf == NULL)
        return vg_error_set(err, VG_ENOMEM, "%s", path);
    int rc = vg__kafka_conf_apply_json(conf, doc, props, path, err);
    rd_kafka_conf_destroy(conf);
    return rc;
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    vg_log_level l = level <= 3 ? VG_LOG_ERROR : level == 4 ? VG_LOG_WARN : VG_LOG_DEBUG;
    vg_log(l, "%s: %s: %s", rd_kafka_name(rk), fac, buf);
}

rd_kafka_conf_t *vg__kafka_conf_new(void)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (conf != NULL)
        rd_kafka_conf_set_log_cb(conf, log_cb);
    return conf;
}
