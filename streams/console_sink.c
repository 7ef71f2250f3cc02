/* Incidents for people: one readable line per event on standard output,
 * what `vigil replay` and `vigil demo` print when no other output is asked
 * for. Config: {"type": "console"}. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/numfmt.h"
#include "streams/stream.h"

/* Standard output is one shared stream: every console sink is the same
 * stateless object. */
static int console_singleton;

/* The console has no keys: only "type" is allowed. */
static int console_check(const vg_conf_doc *doc, const json_t *cfg, vg_error *err)
{
    static const char *const also[] = {"type", NULL};
    int none;
    return vg_conf_apply(doc, cfg, "outputs.console", NULL, 0, also, &none, err);
}

static void *console_open(const vg_conf_doc *doc, const json_t *cfg, vg_error *err)
{
    return console_check(doc, cfg, err) == VG_OK ? &console_singleton : NULL;
}

/* A verdict received: one line saying what became of it. */
static int console_feedback(const vg_event *ev, const char *ts)
{
    const vg_event_feedback *f = ev->feedback;
    printf("FEEDBACK %s  %.*s  %s from %s on %s: %s (%s)\n", ts,
           ev->series != NULL ? (int)ev->series_len : 1, ev->series != NULL ? ev->series : "-",
           f->verdict != NULL ? f->verdict : "?", f->source, ev->id[0] ? ev->id : "-",
           f->result, f->detail != NULL ? f->detail : "");
    return VG_OK;
}

static int console_emit(void *self, const vg_event *ev)
{
    (void)self;
    char ts[32], value[32], expected[32], lower[32], upper[32], score[32];
    vg_format_rfc3339(ev->ts_ms, ts);
    if (ev->feedback != NULL)
        return console_feedback(ev, ts);
    vg_fmt_sig(value, ev->value, 6);
    vg_fmt_score(score, ev->score);

    /* A muted incident (a rule's mute window) says so before its origin. */
    char where[104] = "";
    const char *muted = ev->muted ? "  muted" : "";
    if (ev->origin.source != NULL && ev->origin.partition < 0)
        snprintf(where, sizeof(where), "%s  %s:%lld", muted, ev->origin.source,
                 (long long)ev->origin.offset);
    else if (ev->origin.source != NULL)
        snprintf(where, sizeof(where), "%s  %s/%d@%lld", muted, ev->origin.source,
                 (int)ev->origin.partition, (long long)ev->origin.offset);
    else
        snprintf(where, sizeof(where), "%s", muted);

    if (ev->state == VG_ALERT_RESOLVED) {
        double minutes = (double)(ev->ts_ms - ev->start_ms) / 60000.0;
        vg_fmt_score(score, ev->peak);
        printf("RESOLVED %s  %.*s  after %.1f min  peak %s%s%s%s\n", ts, (int)ev->series_len,
               ev->series, minutes, score, ev->reason ? "  " : "", ev->reason ? ev->reason : "",
               where);
        return VG_OK;
    }

    /* The detector with the highest score explains the incident. */
    const vg_event_detector *lead = NULL;
    for (size_t i = 0; i < ev->n_detectors; i++)
        if (lead == NULL || ev->detectors[i].score > lead->score)
            lead = &ev->detectors[i];
    char why[96] = "";
    if (ev->reason != NULL)  /* no detector found it: say what did */
        snprintf(why, sizeof(why), "  (%s)", ev->reason);
    else if (lead != NULL)
        snprintf(why, sizeof(why), "  (%s %s)", lead->name, lead->detail);

    if (isnan(ev->expected)) {
        printf("FIRING   %s  %.*s  value=%s  score=%s  %s%s%s\n", ts, (int)ev->series_len,
               ev->series, value, score, vg_severity_name(ev->severity), why, where);
    } else {
        vg_fmt_sig(expected, ev->expected, 6);
        vg_fmt_sig(lower, ev->lower, 6);
        vg_fmt_sig(upper, ev->upper, 6);
        printf("FIRING   %s  %.*s  value=%s  expected=%s [%s, %s]  score=%s  %s%s%s\n", ts,
               (int)ev->series_len, ev->series, value, expected, lower, upper, score,
               vg_severity_name(ev->severity), why, where);
    }
    return VG_OK;
}

static int console_flush(void *self, int timeout_ms)
{
    (void)self;
    (void)timeout_ms;
    return fflush(stdout) == 0 ? VG_OK : VG_EIO;
}

static void console_close(void *self)
{
    (void)self;
}

const vg_sink_ops vg_console_sink_ops = {
    .name     = "console",
    .check    = console_check,
    .open     = console_open,
    .emit     = console_emit,
    .flush    = console_flush,
    .close    = console_close,
    .records_muted = 1,
};
