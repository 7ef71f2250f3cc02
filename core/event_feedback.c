/* The JSON of a feedback record; see core/event.h. */
#include "core/event.h"

static json_t *text_or_null(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

json_t *vg_event_feedback_json(const vg_event *ev)
{
    const vg_event_feedback *f = ev->feedback;
    json_t *obj = json_object();
    char ts[32];
    vg_format_rfc3339(ev->ts_ms, ts);
    struct {
        const char *key;
        json_t     *v;
    } fields[] = {
        {"schema", json_integer(VG_EVENT_SCHEMA)},
        {"kind", json_string("feedback")},
        {"id", ev->id[0] != '\0' ? json_string(ev->id) : json_null()},
        {"event_id", json_string(ev->event_id)},
        {"series", ev->series != NULL ? json_stringn(ev->series, ev->series_len) : json_null()},
        {"ts", json_string(ts)},
        {"ts_ms", json_integer(ev->ts_ms)},
        {"instance", text_or_null(ev->instance)},
        {"verdict", text_or_null(f->verdict)},
        {"source", text_or_null(f->source)},
        {"result", text_or_null(f->result)},
        {"detail", text_or_null(f->detail)},
    };
    /* Every value is set (or freed) before a failure is reported: a NULL
     * value (not UTF-8, out of memory) fails its set. */
    int failed = obj == NULL;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (obj == NULL)
            json_decref(fields[i].v);
        else if (json_object_set_new(obj, fields[i].key, fields[i].v) != 0)
            failed = 1;
    }
    if (failed) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}
