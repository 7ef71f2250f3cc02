/* One point through the pipeline: its series' detectors and ensemble, the
 * guards, the alert decision (paging floors, the incident's baseline), the
 * alert state machine and the sinks. See pipeline_internal.h. */
#include "engine/pipeline_internal.h"

#include <math.h>
#include <string.h>

#include "core/series_key.h"
#include "core/template.h"
#include "engine/shard.h"

/* Detector time is measured on one point in TIME_EVERY and scaled up:
 * reading the clock around every call would cost more than some detectors. */
#define TIME_EVERY 64

/* Everything one point's scoring produced, in the profile's slot order
 * (the result's arrays are in column order). */
typedef struct scored {
    const profile *pr;
    double         raw[VG_MAX_DETECTORS];
    double         calibrated[VG_MAX_DETECTORS];
    vg_explain     why[VG_MAX_DETECTORS];
} scored;

/* The explanation an event and a scores row show: the detector that found
 * the point most anomalous, among those that have an expectation. */
static size_t lead_detector(const scored *sc)
{
    size_t lead = SIZE_MAX;
    for (size_t i = 0; i < sc->pr->n_detectors; i++) {
        if (isnan(sc->why[i].expected))
            continue;
        if (lead == SIZE_MAX || sc->calibrated[i] > sc->calibrated[lead])
            lead = i;
    }
    return lead;
}

/* Where the event came from and the words a person reads: the rule's
 * templates or the default sentences, rendered into text[]. */
static void add_words(const vg_pipeline *p, const profile *pr, vg_event *ev,
                      char text[3][VG_EVENT_TEXT_BYTES])
{
    const vg_rule *rule = pr->rule;
    ev->rule = rule != NULL ? rule->name : "default";
    ev->instance = p->instance;
    ev->duration_s = (double)(ev->ts_ms - ev->start_ms) / 1000.0;
    if (rule != NULL) {
        ev->alertname = rule->alertname;
        ev->page_labels = rule->page_labels;
    }
    const char *summary = rule && rule->summary ? rule->summary
                                                : vg_template_default_summary(ev);
    vg_template_render(summary, ev, text[0], VG_EVENT_TEXT_BYTES);
    ev->summary = text[0];
    vg_template_render(rule && rule->description ? rule->description
                                                 : vg_template_default_description(ev),
                       ev, text[1], VG_EVENT_TEXT_BYTES);
    ev->description = text[1];
    if (rule != NULL && rule->runbook_url != NULL) {
        vg_template_render(rule->runbook_url, ev, text[2], VG_EVENT_TEXT_BYTES);
        ev->runbook_url = text[2];
    }
}

/* The alert's bookkeeping of an event: a firing remembers whether it is
 * muted and its severity (its resolved reports both). Returns where the
 * incident counts among the firing ones, by rule and severity (counted
 * when the event is delivered, on the caller's thread). */
static int32_t track_incident(series_head *head, vg_event *ev, int muted_now)
{
    if (ev->state == VG_ALERT_FIRING) {
        head->alert.muted = (uint8_t)muted_now;
        head->alert.severity = (uint8_t)ev->severity;
    }
    ev->muted = head->alert.muted;
    return vg__firing_slot(head);
}

void vg__send_event(vg_pipeline *p, const vg_event *ev)
{
    for (size_t i = 0; i < p->n_sinks; i++) {
        /* A muted incident is recorded (event log, console), not notified;
         * so is a group member's (its group pages) and a feedback record;
         * one that joined a leader's incident also goes to the alert topic,
         * and is notified when it escalates (pages itself). */
        const vg_sink_ops *ops = p->sinks[i]->ops;
        int joined = ev->joined && (ops->records_joined || ev->escalated);
        if ((ev->muted || (ev->group_id != NULL && !joined) || ev->feedback != NULL) &&
            !ops->records_muted)
            continue;
        int rc = vg_sink_emit(p->sinks[i], ev);
        if (rc != VG_OK) {
            p->stats.sink_errors++;
            vg_log_limited(&p->sink_log, VG_LOG_ERROR, "output %s: event %s not sent: %s",
                           p->sinks[i]->ops->name, ev->id, vg_strerror(rc));
        }
    }
}

/* A series' event, and its group's when its rule groups (engine/group.h):
 * the member's first, then the group's. On the caller's thread, in input
 * order, so groups form alike whatever the number of workers. */
int vg__deliver(vg_pipeline *p, vg_event *ev, const vg_rule *rule, int32_t slot)
{
    if (ev->state == VG_ALERT_FIRING) {
        p->stats.events_firing++;
        vg__firing_add(p, slot, 1);
    } else {
        p->stats.events_resolved++;
        vg__firing_add(p, slot, -1);
    }
    int grouped = 0;
    if (rule != NULL && rule->n_group_by > 0) {
        grouped = vg_groups_update(p->groups, rule, ev, p->group_event);
        if (grouped < 0)
            vg_log_limited(&p->sink_log, VG_LOG_ERROR, "group of %s: out of memory", ev->id);
    }
    char joined_id[33];
    int joined = vg__join(p, ev, rule, joined_id);
    vg__send_event(p, ev);
    if (grouped > 0)
        vg__send_event(p, &p->group_event->ev);
    return joined && !ev->escalated && ev->state == VG_ALERT_FIRING;
}

/* Returns 1 when the event, delivered at once, joined another series'
 * incident (a deferred one is told at the merge). */
static int emit_event(vg_pipeline *p, vg_scorer *s, const vg_batch *b, size_t i,
                      series_head *head, const vg_point_result *r, const scored *sc,
                      int muted_now)
{
    const vg_point *pt = &b->points[i];
    const profile *pr = sc->pr;
    vg_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.state = r->event;
    ev.severity = pr->severity >= 0 ? (vg_severity)pr->severity
                                    : vg_alert_severity(&head->alert, &pr->alert);
    ev.series = vg_batch_key(b, pt);
    ev.series_len = pt->key_len;
    ev.ts_ms = pt->ts_ms;
    ev.start_ms = head->alert.start_ms;
    ev.value = pt->value;
    ev.expected = r->expected;
    ev.lower = r->lower;
    ev.upper = r->upper;
    ev.score = r->score;
    ev.peak = head->alert.peak;
    if (r->event == VG_ALERT_RESOLVED)
        ev.reason = head->alert.end == VG_ALERT_END_ACCEPTED ? "new level accepted"
                                                             : "back to baseline";
    else if (!(head->alert.peak >= pr->alert.threshold))
        /* No point of it scored: only the settled range made it (judge()). */
        ev.reason = "beyond its long-run range";
    else if (head->alert.by_group)
        ev.reason = "corroborated by another series of its group";
    ev.origin = pt->origin;
    ev.n_detectors = pr->n_detectors;
    for (size_t i = 0; i < pr->n_detectors; i++) {
        vg_event_detector *d = &ev.detectors[i];
        d->name = pr->detectors[i].ops->name;
        d->score = sc->raw[i];
        d->expected = sc->why[i].expected;
        d->lower = sc->why[i].lower;
        d->upper = sc->why[i].upper;
        memcpy(d->detail, sc->why[i].detail, sizeof(d->detail));
    }
    vg_event_make_id(&ev);
    char text[3][VG_EVENT_TEXT_BYTES];
    add_words(p, pr, &ev, text);

    int32_t slot = track_incident(head, &ev, muted_now);
    if (s->deferred == NULL)
        return vg__deliver(p, &ev, pr->rule, slot);
    vg__defer_event(s->deferred, i, &ev, pr->rule, slot);
    return 0;
}

/* The series table reuses the block of the least recently seen series for
 * a new one (max_series): an incident it has firing would never resolve,
 * so it resolves here, reason "evicted", at the series' last point, with
 * the origin of the point that took its place (what caused the event). */
void vg__series_evicted(void *ctx, void *state, const char *key, size_t key_len)
{
    vg_pipeline *p = ctx;
    series_head *head = state;
    /* With workers: the points taken so far are scored and delivered
     * first, the evicted series' own among them, so its last state and the
     * order of events are those of one thread. */
    if (p->shards != NULL)
        vg__shards_settle(p->shards);
    if (head->alert.state != VG_ALERT_FIRING)
        return;
    const profile *pr = vg__profile_of(p, state);
    vg_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.state = VG_ALERT_RESOLVED;
    ev.severity = pr->severity >= 0 ? (vg_severity)pr->severity
                                    : vg_alert_severity(&head->alert, &pr->alert);
    ev.series = key;
    ev.series_len = key_len;
    ev.ts_ms = head->last_ts;
    ev.start_ms = head->alert.start_ms;
    ev.value = ev.expected = ev.lower = ev.upper = ev.score = NAN;
    ev.peak = head->alert.peak;
    ev.reason = "evicted";
    if (p->scoring != NULL)
        ev.origin = p->scoring->origin;
    vg_event_make_id(&ev);
    char text[3][VG_EVENT_TEXT_BYTES];
    add_words(p, pr, &ev, text);
    vg__deliver(p, &ev, pr->rule, track_incident(head, &ev, 0));
}

/* Every detector over `work` (the series' block, or a scratch copy of it)
 * and the window it holds: sc->raw and sc->why. */
static void run_detectors(vg_pipeline *p, vg_scorer *s, char *work, const vg_point *pt,
                          scored *sc)
{
    const profile *pr = sc->pr;
    const vg_window *w = (const vg_window *)(work + p->window_offset);
    int timed = ++s->timing_tick == TIME_EVERY;
    if (timed)
        s->timing_tick = 0;
    for (size_t i = 0; i < pr->n_detectors; i++) {
        const detector_slot *d = &pr->detectors[i];
        sc->why[i].expected = sc->why[i].lower = sc->why[i].upper = NAN;
        sc->why[i].detail[0] = '\0';
        double t0 = timed ? vg_metric_seconds() : 0.0;
        sc->raw[i] = d->ops->score(work + d->offset, d->params, w, pt->ts_ms, pt->value,
                                   &sc->why[i]);
        if (timed && d->seconds != NULL)
            vg_metrics_add(d->seconds, (vg_metric_seconds() - t0) * TIME_EVERY);
    }
}

/* The working copy a point of an open incident is scored on: the series'
 * detectors and window as they are (they stopped learning when the incident
 * began) with the ensemble as it was before the incident's first point.
 * Costs one block copy per incident point. */
static char *incident_copy(const vg_pipeline *p, vg_scorer *s, const profile *pr,
                           const char *block)
{
    memcpy(s->scratch + p->window_offset, block + p->window_offset,
           pr->ensemble_offset - p->window_offset);
    memcpy(s->scratch + pr->ensemble_offset, block + pr->before_offset, pr->ensemble_size);
    return s->scratch;
}

/* Scores a point: r->score is the series' score (its ensemble learns, so a
 * long incident makes one peak, not a run of top scores); the return value
 * is the score the alert judges. Outside an incident they are the same;
 * while it is pending (waiting for fire_after points), and while it fires
 * with the model held (`frozen`, alert.hold_model), the alert's comes from
 * the pre-incident ensemble (a scratch copy), so neither the calibration
 * nor the refractory period discounts the incident's own later points:
 * that is what lets fire_after > 1 confirm and a held fault stay firing.
 * A firing incident of a learning model is held by its baseline band
 * instead (judge()). */
static double score_both(vg_pipeline *p, vg_scorer *s, char *block, int open, int frozen,
                         const vg_point *pt, double keep, scored *sc, vg_point_result *r)
{
    const profile *pr = sc->pr;
    series_head *head = (series_head *)block;
    int by_before = open && (frozen || head->alert.state == VG_ALERT_PENDING);
    char *work = frozen ? incident_copy(p, s, pr, block) : block;
    run_detectors(p, s, work, pt, sc);
    double judged = NAN;
    if (by_before) {
        char *before = s->scratch + pr->ensemble_offset;
        if (!frozen)  /* incident_copy has put it there */
            memcpy(before, block + pr->before_offset, pr->ensemble_size);
        judged = vg_ensemble_score(before, &pr->ensemble, sc->raw, NULL);
    } else if (!open) {  /* what an incident starting at this point will be judged by */
        memcpy(block + pr->before_offset, block + pr->ensemble_offset, pr->ensemble_size);
    }
    r->score = vg_ensemble_score(block + pr->ensemble_offset, &pr->ensemble, sc->raw,
                                 sc->calibrated);
    /* A guard (gap, counter reset) zeroes both (keep: 0 or 1). */
    r->score *= keep;
    return by_before ? judged * keep : r->score;
}

static void fill_result(const vg_pipeline *p, const scored *sc, vg_point_result *r)
{
    const profile *pr = sc->pr;
    r->n_detectors = p->n_columns;
    for (size_t c = 0; c < p->n_columns; c++)
        r->raw[c] = r->calibrated[c] = NAN;
    for (size_t i = 0; i < pr->n_detectors; i++) {
        r->raw[pr->detectors[i].column] = sc->raw[i];
        r->calibrated[pr->detectors[i].column] = sc->calibrated[i];
    }
    size_t lead = lead_detector(sc);
    r->expected = lead == SIZE_MAX ? NAN : sc->why[lead].expected;
    r->lower = lead == SIZE_MAX ? NAN : sc->why[lead].lower;
    r->upper = lead == SIZE_MAX ? NAN : sc->why[lead].upper;
}

/* Whether the point counts as anomalous for the alert: a score at the
 * threshold that passes the paging floors (and the rule's direction), a
 * value beyond the settled long-run range, or, inside an incident, a value
 * still outside the incident's baseline band. A series in its warm-up is
 * never anomalous (it learns as usual).
 * *suppressed: the score was at the threshold but the point is normal. */
static int judge(const profile *pr, series_head *head, int in_incident, int frozen,
                 const vg_point *pt, double score, const vg_point_result *r, int *suppressed)
{
    const vg_alert_params *ap = &pr->alert;
    *suppressed = 0;
    if (!in_incident && !vg_baseline_warm(&head->baseline, ap, pt->ts_ms))
        return 0;
    /* NaN compares false, so a point without a score counts as normal. */
    int flagged = score >= ap->threshold;
    int beyond = vg_baseline_beyond(&head->baseline, ap, pt->ts_ms, pt->value);
    double deviation = pt->value - vg_baseline_reference(&head->baseline, r->expected);
    int anomalous = (flagged && vg_baseline_pages(&head->baseline, ap, r->expected, pt->value) &&
                     vg_feedback_pages(&head->feedback, deviation)) ||
                    beyond;
    if (in_incident)
        /* A learning model's expectation follows the fault: then the
         * expectation at the incident's start is the baseline. */
        anomalous = anomalous ||
                    vg_baseline_outside(&head->baseline, frozen ? r->expected : NAN, pt->value);
    else if (anomalous)
        vg_baseline_begin(&head->baseline, ap, r->expected, r->lower, r->upper);
    *suppressed = flagged && !anomalous;
    return anomalous;
}

/* Corroboration (engine/corroborate.h): notes a high score of a warm
 * series for its group, and says whether an anomalous point of a series not
 * yet firing has another member's high score within corroborate_s. */
static int corroborate(vg_scorer *s, const profile *pr, series_head *head, const vg_point *pt,
                       int64_t step_ms, double judged, int anomalous)
{
    const vg_alert_params *ap = &pr->alert;
    if (!(ap->corroborate > 0.0) || head->group <= VG_GROUP_NONE ||
        !vg_baseline_warm(&head->baseline, ap, pt->ts_ms))
        return 0;
    /* The series' identity: its head, fixed while it lives. */
    int seen = anomalous && head->alert.state != VG_ALERT_FIRING &&
               vg_corroboration_seen(s->corroboration, head->group, head, pt->ts_ms,
                                     (int64_t)(ap->corroborate_s * 1000.0), step_ms);
    if (judged >= ap->corroborate)
        vg_corroboration_note(s->corroboration, head->group, head, pt->ts_ms);
    return seen;
}

/* Which outputs write the scores of the series of head: worked out once
 * per series and set of outputs (their match is a glob on the name). */
static uint64_t score_mask(vg_pipeline *p, series_head *head, const char *key, size_t key_len)
{
    if (head->score_gen != p->score_gen) {
        head->score_mask = 0;
        for (size_t i = 0; i < p->n_sinks; i++) {
            const vg_sink *k = p->sinks[i];
            if (k->ops->score != NULL &&
                (k->ops->selects == NULL || k->ops->selects(k->self, key, key_len)))
                head->score_mask |= UINT64_C(1) << i;
        }
        head->score_gen = p->score_gen;
    }
    return head->score_mask;
}

/* Keeps the point's scores for the outputs that write them (remote-write,
 * Influx on Kafka); vg__scorer_send_scores hands them over. */
static void keep_scores(vg_pipeline *p, vg_scorer *s, series_head *head, const vg_batch *b,
                        const vg_point *pt, const vg_point_result *r)
{
    if (p->n_score_sinks == 0)
        return;
    const char *key = vg_batch_key(b, pt);
    uint64_t mask = score_mask(p, head, key, pt->key_len);
    if (mask == 0)
        return;
    if (s->n_kept == s->cap_kept) {
        size_t cap = s->cap_kept ? s->cap_kept * 2 : 256;
        vg_score_sample *kept = realloc(s->kept, cap * sizeof(*kept));
        s->kept = kept != NULL ? kept : s->kept;
        vg_score_sample *picked = realloc(s->picked, cap * sizeof(*picked));
        s->picked = picked != NULL ? picked : s->picked;
        uint64_t *masks = realloc(s->kept_mask, cap * sizeof(*masks));
        s->kept_mask = masks != NULL ? masks : s->kept_mask;
        if (kept == NULL || picked == NULL || masks == NULL) {
            vg_metric_label_inc(VG_M_SCORE_POINTS, "dropped", 1);  /* out of memory */
            return;
        }
        s->cap_kept = cap;
    }
    s->kept_all = s->n_kept == 0 ? mask : s->kept_all & mask;
    s->kept_mask[s->n_kept] = mask;
    s->kept[s->n_kept++] = (vg_score_sample){key, pt->key_len, pt->ts_ms, pt->value, r->score,
                                             r->expected, r->lower, r->upper};
}

void vg__scorer_send_scores(vg_pipeline *p, vg_scorer *s)
{
    for (size_t i = 0; i < p->n_sinks && s->n_kept > 0; i++) {
        const vg_sink *k = p->sinks[i];
        uint64_t bit = UINT64_C(1) << i;
        if (k->ops->score == NULL)
            continue;
        if (s->kept_all & bit) {  /* the usual case: one output, every score */
            k->ops->score(k->self, s->kept, s->n_kept);
            continue;
        }
        size_t n = 0;
        for (size_t j = 0; j < s->n_kept; j++)
            if (s->kept_mask[j] & bit)
                s->picked[n++] = s->kept[j];
        if (n > 0)
            k->ops->score(k->self, s->picked, n);
    }
    s->n_kept = 0;
}

/* Points of one series must arrive in order, from one partition: a producer
 * that does not key by series breaks both (two members would each keep half
 * a model). Counted, and logged (rate-limited) with the series and the fix. */
static void check_arrival(vg_scorer *s, const vg_batch *b, const vg_point *pt,
                          series_head *head)
{
    int key_len = (int)pt->key_len;
    if (pt->ts_ms < head->last_ts) {
        s->out_of_order++;
        vg_metric_inc(VG_M_POINTS_OUT_OF_ORDER, 1);
        /* The likely cause, and so the fix, depends on where points come from:
         * a Kafka partition, or a file (partition < 0) whose rows are unsorted. */
        const char *hint = pt->origin.partition >= 0
                               ? "Unkeyed topic? key the producer by series or set "
                                 "\"repartition\": true on the topic"
                               : "the input's rows are not in time order; sort them";
        vg_log_limited(&s->order_log, VG_LOG_WARN,
                       "series %.*s: point at %lld ms is older than its last (%lld ms), from "
                       "%s/%d@%lld; scored anyway. %s", key_len, vg_batch_key(b, pt),
                       (long long)pt->ts_ms, (long long)head->last_ts,
                       pt->origin.source ? pt->origin.source : "-", (int)pt->origin.partition,
                       (long long)pt->origin.offset, hint);
    }
    if (head->partition >= 0 && pt->origin.partition >= 0 &&
        pt->origin.partition != head->partition && !head->multi_partition) {
        head->multi_partition = 1;
        s->multi_partition++;
        vg_metric_inc(VG_M_SERIES_MULTI_PARTITION, 1);
        vg_log_limited(&s->partition_log, VG_LOG_WARN,
                       "series %.*s arrives on partitions %d and %d of %s: its messages are not "
                       "keyed by series, so its state splits between group members. Key the "
                       "producer by series or set \"repartition\": true on the topic",
                       key_len, vg_batch_key(b, pt), (int)head->partition,
                       (int)pt->origin.partition, pt->origin.source ? pt->origin.source : "-");
    }
}

/* The guards (engine/guard.h), asked before the detectors: returns 0 when
 * one sets the point aside, else 1. At a counter's reset the detectors
 * and window restart, so the reset point is the first of the counter's new
 * run and the points after it are not judged against its old level. */
static double guard(vg_pipeline *p, char *block, const vg_batch *b, const vg_point *pt)
{
    series_head *head = (series_head *)block;
    int reset;
    double keep = vg_guard_apply(&head->guard, &p->guards, pt->ts_ms, pt->value, 1.0, &reset);
    if (keep == 0.0)
        vg_baseline_disrupted(&head->baseline);
    if (reset)
        vg__series_restart(p, block, vg_hash64(vg_batch_key(b, pt), pt->key_len, 0));
    return keep;
}

int vg__muted_now(vg_pipeline *p, const void *block, int64_t ts_ms)
{
    uint32_t k = ((const series_head *)block)->profile;
    vg_mute *mute = k > 0 ? &p->rules.rules[k - 1].mute : NULL;
    return mute != NULL && mute->n > 0 && vg_mute_active(mute, ts_ms);
}

void vg__score_point(vg_pipeline *p, vg_scorer *s, const vg_batch *b, size_t i, char *block,
                     int muted_now)
{
    const vg_point *pt = &b->points[i];
    series_head *head = (series_head *)block;
    scored sc;
    sc.pr = vg__profile_of(p, block);
    const profile *pr = sc.pr;

    check_arrival(s, b, pt, head);
    /* the series' step, for corroboration's chance (0: its first point) */
    int64_t step_ms = head->points > 0 && pt->ts_ms > head->last_ts ? pt->ts_ms - head->last_ts
                                                                     : 0;
    head->last_ts = pt->ts_ms;
    head->points++;
    head->partition = pt->origin.partition < 0 ? -1 : pt->origin.partition;  /* a file */

    /* While an incident is open the series does not learn: the fault must
     * not become its new normal (an accepted level relearns; alert.h). */
    int open = head->alert.state != VG_ALERT_NORMAL;
    int frozen = open && pr->alert.hold_model;
    int skip_muted = muted_now && p->rules.rules[head->profile - 1].mute.skip_model_update;
    double keep = guard(p, block, b, pt);
    /* skip_model_update: the model before the point, put back if the point
     * turns out suppressed (its verdict needs the scores the model makes). */
    size_t model_bytes = pr->block_size - p->window_offset;
    int undoable = (pr->alert.skip_model_update || skip_muted) && !frozen;
    if (undoable)
        memcpy(s->undo, block + p->window_offset, model_bytes);
    vg_point_result r;
    double judged = score_both(p, s, block, open, frozen, pt, keep, &sc, &r);
    fill_result(p, &sc, &r);

    int suppressed;
    /* measured before judge() may set an incident's baseline */
    double deviation = pt->value - vg_baseline_reference(&head->baseline, r.expected);
    int anomalous = judge(pr, head, open, frozen, pt, judged, &r, &suppressed);
    int corroborated = corroborate(s, pr, head, pt, step_ms, judged, anomalous);
    r.event = vg_alert_step(&head->alert, &pr->alert, pt->ts_ms, judged, anomalous,
                            corroborated);
    /* An accepted level is the new normal: the range settled before it
     * must not page it again. */
    if (r.event == VG_ALERT_RESOLVED && head->alert.end == VG_ALERT_END_ACCEPTED)
        vg_baseline_disrupted(&head->baseline);
    vg_feedback_track(&head->feedback, !open && anomalous, anomalous, deviation);
    r.alert = (vg_alert_state)head->alert.state;
    int learn = !(undoable && ((suppressed && pr->alert.skip_model_update) || skip_muted));
    if (!learn)
        memcpy(block + p->window_offset, s->undo, model_bytes);
    if (!frozen && learn)
        vg_window_push((vg_window *)(block + p->window_offset), pt->value);
    /* The long-run range learns every point outside an incident, an
     * incident's first point included: what the series did is its range,
     * so a routine blip raises the floor against the next one. */
    if (!open && learn)
        vg_baseline_learn(&head->baseline, &pr->alert, pt->ts_ms, pt->value);
    s->points++;

    r.joined = r.event != VG_ALERT_NORMAL && emit_event(p, s, b, i, head, &r, &sc, muted_now);
    keep_scores(p, s, head, b, pt, &r);
    if (s->results != NULL)
        s->results[i] = r;
    else if (p->hook != NULL)
        p->hook(p->hook_ctx, b, pt, &r);
}

void vg__publish_firing(vg_pipeline *p)
{
    for (size_t i = 0; i < p->n_profiles * 2; i++) {
        if (p->firing_gauge[i] == NULL || p->firing[i] == p->firing_published[i])
            continue;
        vg_metrics_add(p->firing_gauge[i],
                       (double)p->firing[i] - (double)p->firing_published[i]);
        p->firing_published[i] = p->firing[i];
    }
}

/* Self-metrics, once per batch: a handful of atomic adds. */
static void publish_metrics(vg_pipeline *p, const vg_batch *b, uint64_t firing0,
                            uint64_t resolved0, double t0)
{
    vg_metric_inc(VG_M_POINTS_SCORED, b->n);
    if (p->stats.events_firing > firing0)
        vg_metric_label_inc(VG_M_EVENTS, "firing", p->stats.events_firing - firing0);
    if (p->stats.events_resolved > resolved0)
        vg_metric_label_inc(VG_M_EVENTS, "resolved", p->stats.events_resolved - resolved0);
    vg__publish_firing(p);
    vg_metric_set(VG_M_SERIES_ACTIVE, (double)vg_series_table_count(p->series));
    uint64_t evicted = vg_series_table_evicted(p->series);
    vg_metric_inc(VG_M_SERIES_EVICTED, evicted - p->evicted_seen);
    p->evicted_seen = evicted;
    uint64_t forgotten = vg_joins_forgotten(p->joins);
    vg_metric_inc(VG_M_JOINS_FORGOTTEN, forgotten - p->forgotten_seen);
    p->forgotten_seen = forgotten;
    vg_metric_observe(VG_M_BATCH_SECONDS, vg_metric_seconds() - t0);
}

char *vg__series_of(vg_pipeline *p, const vg_batch *b, const vg_point *pt)
{
    p->scoring = pt;  /* an eviction's event names it */
    char *block = vg_series_table_get(p->series, vg_batch_key(b, pt), pt->key_len, NULL);
    p->scoring = NULL;
    vg_assert(block != NULL);  /* the slab is preallocated up to max_series */
    series_head *head = (series_head *)block;
    if (head->group == 0) {  /* a new series, or loaded from a snapshot */
        const profile *pr = vg__profile_of(p, block);
        const vg_rule *rule = pr->rule;
        head->group = pr->alert.corroborate > 0.0
                          ? vg_corroboration_group(vg_batch_key(b, pt), pt->key_len,
                                                   rule ? rule->group_by : NULL,
                                                   rule ? rule->n_group_by : 0, &pt->origin)
                          : VG_GROUP_NONE;
    }
    return block;
}

int vg_pipeline_process(vg_pipeline *p, const vg_batch *b)
{
    double t0 = vg_metric_seconds();
    uint64_t firing0 = p->stats.events_firing, resolved0 = p->stats.events_resolved;
    /* Without room for the batch's job lists, it is scored on this thread:
     * the same output, only slower. */
    if (p->shards == NULL || vg__shards_process(p->shards, b) != VG_OK) {
        for (size_t i = 0; i < b->n; i++) {
            char *block = vg__series_of(p, b, &b->points[i]);
            vg__score_point(p, &p->direct, b, i, block,
                            vg__muted_now(p, block, b->points[i].ts_ms));
        }
        vg__scorer_send_scores(p, &p->direct);
        vg__scorer_collect(p, &p->direct);
    }
    publish_metrics(p, b, firing0, resolved0, t0);
    return (int)(p->stats.events_firing - firing0 + p->stats.events_resolved - resolved0);
}

int vg_pipeline_flush(vg_pipeline *p, int timeout_ms)
{
    vg__shards_drain(p->shards);
    int rc = VG_OK;
    for (size_t i = 0; i < p->n_sinks; i++) {
        int src = vg_sink_flush(p->sinks[i], timeout_ms);
        if (src != VG_OK)
            rc = src;
    }
    return rc;
}

