/* Alert text: `{{variable}}` templates rendered from an event, for the
 * words a person reads (a rule's summary, description and runbook_url;
 * engine/rules.h) and the default sentences when a rule gives none.
 *
 * Variables: series, name, labels (`host="a",dev="sda"`), label.NAME,
 * value, expected, lower, upper, band (half its width), direction (`rose`,
 * `fell`), deviation_pct (|value - expected| / |expected| in %), score,
 * peak, severity, state, detectors (each detector's name and detail, most
 * anomalous first), duration (`12 min`), rule, instance, id. A number that
 * is unknown renders as `?`. Text outside `{{…}}` is copied as is. */
#ifndef VG_CORE_TEMPLATE_H
#define VG_CORE_TEMPLATE_H

#include <stddef.h>

#include "core/error.h"
#include "core/event.h"

/* 0 when every `{{…}}` in tmpl names a variable above, else VG_ECONFIG with
 * err naming it (err->where is left to the caller). */
int vg_template_check(const char *tmpl, vg_error *err);

/* Renders tmpl for ev into out[cap] (always NUL-terminated, truncated to
 * fit); returns the length written. */
size_t vg_template_render(const char *tmpl, const vg_event *ev, char *out, size_t cap);

/* The default templates: a summary sentence for a firing event with an
 * expectation, one without, a resolved event; a description of a firing
 * and of a resolved event. */
extern const char *const vg_template_summary_firing;
extern const char *const vg_template_summary_unexpected;
extern const char *const vg_template_summary_resolved;
extern const char *const vg_template_description;
extern const char *const vg_template_description_resolved;

/* The default summary template for ev (one of the three above). */
const char *vg_template_default_summary(const vg_event *ev);
/* The default description template for ev (firing or resolved). */
const char *vg_template_default_description(const vg_event *ev);

#endif
