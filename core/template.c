/* `{{variable}}` alert text; see template.h.
 *
 * Rendering is a single pass with a fixed output buffer and no allocation:
 * it runs once per event, on the scoring thread. The series' numbers (units
 * are the series', left to its labels) are written to the precision the
 * band makes meaningful: its half width to two significant digits, and
 * value, expected and bounds to as many decimals ("fell to 24.6, expected
 * 79.0 (± 2.1)"); without a band, 6 significant digits. Scores keep the
 * resolution near 1 they need (vg_fmt_score). */
#include "core/template.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/numfmt.h"
#include "core/series_key.h"

const char *const vg_template_summary_firing =
    "{{series}} {{direction}} to {{value}}, expected {{expected}} (± {{band}})";
const char *const vg_template_summary_unexpected =
    "{{series}} is anomalous at {{value}} (score {{score}})";
const char *const vg_template_summary_resolved =
    "{{series}} is back to normal after {{duration}}";
const char *const vg_template_description =
    "{{severity}} anomaly on {{series}}: {{value}} against {{expected}} expected "
    "(band {{lower}} to {{upper}}, {{deviation_pct}} % off), score {{score}}, "
    "peak {{peak}}, for {{duration}}; detectors: {{detectors}}; rule {{rule}} on {{instance}}";
const char *const vg_template_description_resolved =
    "{{severity}} anomaly on {{series}} ended after {{duration}} (peak score {{peak}}); "
    "now {{value}}, expected {{expected}}; rule {{rule}} on {{instance}}";

static const char *const names[] = {
    "series", "name", "labels", "value", "expected", "lower", "upper", "band", "direction",
    "deviation_pct", "score", "peak", "severity", "state", "detectors", "duration", "rule",
    "instance", "id", NULL,
};

const char *vg_template_default_description(const vg_event *ev)
{
    return ev->state == VG_ALERT_RESOLVED ? vg_template_description_resolved
                                          : vg_template_description;
}

const char *vg_template_default_summary(const vg_event *ev)
{
    if (ev->state == VG_ALERT_RESOLVED)
        return vg_template_summary_resolved;
    return isnan(ev->expected) ? vg_template_summary_unexpected : vg_template_summary_firing;
}

static int known(const char *name, size_t len)
{
    if (len > 6 && memcmp(name, "label.", 6) == 0)
        return 1;
    for (size_t i = 0; names[i] != NULL; i++)
        if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
            return 1;
    return 0;
}

int vg_template_check(const char *tmpl, vg_error *err)
{
    const char *s = tmpl;
    while ((s = strstr(s, "{{")) != NULL) {
        const char *end = strstr(s + 2, "}}");
        if (end == NULL)
            return vg_error_set(err, VG_ECONFIG, "\"{{\" without \"}}\"");
        if (!known(s + 2, (size_t)(end - s - 2)))
            return vg_error_set(err, VG_ECONFIG, "unknown variable {{%.*s}}",
                                (int)(end - s - 2 > 40 ? 40 : end - s - 2), s + 2);
        s = end + 2;
    }
    return VG_OK;
}

/* An output buffer that truncates silently and stays NUL-terminated. */
typedef struct out_buf {
    char  *p;
    size_t cap, len;
    int    decimals;  /* for the series' numbers; -1: significant digits */
} out_buf;

/* Decimals that show the band's half width to two significant digits. */
static int band_decimals(const vg_event *ev)
{
    double half = (ev->upper - ev->lower) / 2.0;
    if (!(half > 0.0) || !isfinite(half))
        return -1;
    int d = 1 - (int)floor(log10(half));
    return d < 0 ? 0 : d > 9 ? 9 : d;
}

static void append(out_buf *o, const char *s, size_t n)
{
    size_t room = o->cap - 1 - o->len;
    n = n < room ? n : room;
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

static void append_number(out_buf *o, double x)
{
    char text[32];
    size_t n;
    if (!isfinite(x))
        n = (size_t)snprintf(text, sizeof(text), "?");
    else if (o->decimals >= 0 && fabs(x) < 1e15)
        n = (size_t)snprintf(text, sizeof(text), "%.*f", o->decimals, x);
    else
        n = vg_fmt_sig(text, x, 6);
    append(o, text, n);
}

/* A share in %, to 3 significant digits whatever the band. */
static void append_percent(out_buf *o, double x)
{
    char text[32];
    size_t n = isfinite(x) ? vg_fmt_sig(text, x, 3) : (size_t)snprintf(text, 2, "?");
    append(o, text, n);
}

static void append_score(out_buf *o, double s)
{
    char text[32];
    append(o, text, vg_fmt_score(text, s));
}

static void append_duration(out_buf *o, double seconds)
{
    char text[48];
    int n;
    if (seconds < 120.0)
        n = snprintf(text, sizeof(text), "%.0f s", seconds);
    else if (seconds < 7200.0)
        n = snprintf(text, sizeof(text), "%.0f min", seconds / 60.0);
    else
        n = snprintf(text, sizeof(text), "%.1f h", seconds / 3600.0);
    append(o, text, (size_t)n);
}

/* Labels: all of them (`host="a",dev="sda"`), or the one named. */
static void append_labels(out_buf *o, const vg_event *ev, const char *only, size_t only_len)
{
    vg_label l[VG_MAX_LABELS];
    char scratch[1024];
    size_t name_len;
    int n = vg_series_key_split(ev->series, ev->series_len, &name_len, l, VG_MAX_LABELS,
                                scratch, sizeof(scratch));
    for (int i = 0, first = 1; i < n; i++) {
        if (only != NULL) {
            if (l[i].name_len == only_len && memcmp(l[i].name, only, only_len) == 0)
                append(o, l[i].value, l[i].value_len);
            continue;
        }
        append(o, ",", first ? 0 : 1);
        append(o, l[i].name, l[i].name_len);
        append(o, "=\"", 2);
        append(o, l[i].value, l[i].value_len);
        append(o, "\"", 1);
        first = 0;
    }
}

/* Each detector's name and detail, the highest score first. */
static void append_detectors(out_buf *o, const vg_event *ev)
{
    int used[VG_MAX_DETECTORS] = {0};
    for (size_t k = 0; k < ev->n_detectors; k++) {
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < ev->n_detectors; i++)
            if (!used[i] && (best == SIZE_MAX || ev->detectors[i].score > ev->detectors[best].score))
                best = i;
        used[best] = 1;
        const vg_event_detector *d = &ev->detectors[best];
        append(o, ", ", k ? 2 : 0);
        append(o, d->name, strlen(d->name));
        size_t detail = strnlen(d->detail, sizeof(d->detail));
        append(o, " ", detail ? 1 : 0);
        append(o, d->detail, detail);
    }
}

static void append_text(out_buf *o, const char *s)
{
    append(o, s ? s : "?", strlen(s ? s : "?"));
}

static void append_variable(out_buf *o, const vg_event *ev, const char *v, size_t len)
{
#define IS(name) (len == sizeof(name) - 1 && memcmp(v, name, len) == 0)
    double dev = ev->value - ev->expected;
    if (IS("series"))
        append(o, ev->series, ev->series_len);
    else if (IS("name"))
        append(o, ev->series, strcspn(ev->series, "{") < ev->series_len
                                  ? strcspn(ev->series, "{") : ev->series_len);
    else if (IS("labels"))
        append_labels(o, ev, NULL, 0);
    else if (len > 6 && memcmp(v, "label.", 6) == 0)
        append_labels(o, ev, v + 6, len - 6);
    else if (IS("value"))
        append_number(o, ev->value);
    else if (IS("expected"))
        append_number(o, ev->expected);
    else if (IS("lower"))
        append_number(o, ev->lower);
    else if (IS("upper"))
        append_number(o, ev->upper);
    else if (IS("band"))
        append_number(o, (ev->upper - ev->lower) / 2.0);
    else if (IS("direction"))
        append_text(o, isnan(dev) ? "moved" : dev < 0.0 ? "fell" : "rose");
    else if (IS("deviation_pct"))
        append_percent(o, fabs(dev) / fabs(ev->expected) * 100.0);
    else if (IS("score"))
        append_score(o, ev->score);
    else if (IS("peak"))
        append_score(o, ev->peak);
    else if (IS("severity"))
        append_text(o, vg_severity_name(ev->severity));
    else if (IS("state"))
        append_text(o, vg_alert_state_name(ev->state));
    else if (IS("detectors"))
        append_detectors(o, ev);
    else if (IS("duration"))
        append_duration(o, ev->duration_s);
    else if (IS("rule"))
        append_text(o, ev->rule);
    else if (IS("instance"))
        append_text(o, ev->instance);
    else if (IS("id"))
        append_text(o, ev->id);
#undef IS
}

size_t vg_template_render(const char *tmpl, const vg_event *ev, char *out, size_t cap)
{
    out_buf o = {out, cap, 0, band_decimals(ev)};
    out[0] = '\0';
    const char *s = tmpl;
    for (;;) {
        const char *open = strstr(s, "{{");
        const char *end = open ? strstr(open + 2, "}}") : NULL;
        if (end == NULL) {
            append(&o, s, strlen(s));
            return o.len;
        }
        append(&o, s, (size_t)(open - s));
        append_variable(&o, ev, open + 2, (size_t)(end - open - 2));
        s = end + 2;
    }
}
