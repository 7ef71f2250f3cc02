/* POST /feedback's queue; see feedback_http.h. */
#include "src/feedback_http.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/vigil_metrics.h"

/* One message as received: what parsed (else empty) and why it is
 * refused, if it is. */
typedef struct verdict_item {
    char        id[33];    /* "": none valid */
    char       *series;    /* NULL: none */
    int         verdict;   /* -1: none valid */
    const char *refused;   /* static text; NULL: well-formed */
    const char *source;    /* static text */
} verdict_item;

struct vg_feedback_inbox {
    char            token[256];
    size_t          token_len;
    pthread_mutex_t lock;
    verdict_item    queue[VG_FEEDBACK_QUEUE_MAX];
    size_t          n;
    vg_ratelimit    log;  /* refusals, any thread */
};

vg_feedback_inbox *vg_feedback_inbox_new(const char *token)
{
    size_t len = token != NULL ? strcspn(token, "\r\n") : 0;
    vg_feedback_inbox *in = calloc(1, sizeof(*in));
    if (in == NULL || (token != NULL && (len == 0 || len >= sizeof(in->token))) ||
        pthread_mutex_init(&in->lock, NULL) != 0) {
        free(in);
        return NULL;
    }
    if (token != NULL)
        memcpy(in->token, token, len);
    in->token_len = len;
    return in;
}

vg_feedback_inbox *vg_feedback_inbox_open(const char *token_file, vg_error *err)
{
    char line[256];
    FILE *f = fopen(token_file, "r");
    if (f == NULL) {
        vg_error_set(err, VG_EIO, "metrics.feedback_token_file: cannot read %s", token_file);
        return NULL;
    }
    vg_feedback_inbox *in = fgets(line, sizeof(line), f) ? vg_feedback_inbox_new(line) : NULL;
    fclose(f);
    if (in == NULL)
        vg_error_set(err, VG_ECONFIG, "metrics.feedback_token_file: %s holds no token (its "
                     "first line, at most 255 bytes)", token_file);
    return in;
}

void vg_feedback_inbox_free(vg_feedback_inbox *in)
{
    if (in == NULL)
        return;
    for (size_t i = 0; i < in->n; i++)
        free(in->queue[i].series);
    pthread_mutex_destroy(&in->lock);
    free(in);
}

/* "Bearer <token>", compared in constant time over the token's length
 * (the length itself is not secret enough to hide). */
static int authorized(const vg_feedback_inbox *in, const char *header)
{
    static const char scheme[] = "Bearer ";
    if (in->token_len == 0 || header == NULL ||
        strncmp(header, scheme, sizeof(scheme) - 1) != 0)
        return 0;
    const char *given = header + sizeof(scheme) - 1;
    if (strlen(given) != in->token_len)
        return 0;
    unsigned char diff = 0;
    for (size_t i = 0; i < in->token_len; i++)
        diff |= (unsigned char)(given[i] ^ in->token[i]);
    return diff == 0;
}

/* The body's fields into item, each one that is valid; NULL or what is
 * wrong (the first thing). */
static const char *parse_body(const char *body, size_t len, verdict_item *item)
{
    json_t *obj = json_loadb(body, len, 0, NULL);
    const char *why = NULL;
    const char *id = json_string_value(json_object_get(obj, "incident"));
    const char *series = json_string_value(json_object_get(obj, "series"));
    int id_ok = id != NULL && strlen(id) == 32 && strspn(id, "0123456789abcdef") == 32;
    item->verdict = vg_verdict_parse(json_string_value(json_object_get(obj, "verdict")));
    if (id_ok)
        memcpy(item->id, id, sizeof(item->id));
    if (series != NULL && series[0] != '\0' && (item->series = strdup(series)) == NULL)
        why = "out of memory";
    else if (!json_is_object(obj))
        why = "the body must be a JSON object";
    else if (!id_ok)
        why = "\"incident\" must be an event's id (32 hex digits)";
    else if (item->series == NULL)
        why = "\"series\" must be the event's series";
    else if (item->verdict < 0)
        why = "\"verdict\" must be \"not_anomalous\" or \"anomalous\"";
    json_decref(obj);
    return why;
}

unsigned vg_feedback_inbox_push(vg_feedback_inbox *in, const char *source, const char *body,
                                size_t len, char *reply, size_t cap)
{
    verdict_item item = {.source = source};
    item.refused = parse_body(body, len, &item);
    pthread_mutex_lock(&in->lock);
    int full = in->n == VG_FEEDBACK_QUEUE_MAX;
    if (!full)  /* a refused one too: the run loop records it */
        in->queue[in->n++] = item;
    pthread_mutex_unlock(&in->lock);
    if (full) {
        free(item.series);
        vg_metric_labels_inc(VG_M_FEEDBACK, (const char *const[]){"dropped", source}, 1);
        vg_log_limited(&in->log, VG_LOG_WARN, "feedback from %s dropped: %d verdicts waiting",
                       source, VG_FEEDBACK_QUEUE_MAX);
        snprintf(reply, cap, "busy: %d verdicts waiting, try again\n", VG_FEEDBACK_QUEUE_MAX);
        return 503;
    }
    if (item.refused != NULL) {
        snprintf(reply, cap, "bad request: %s\n", item.refused);
        return 400;
    }
    snprintf(reply, cap, "queued: %s on incident %s\n", vg_verdict_name(item.verdict), item.id);
    return 202;
}

unsigned vg_feedback_inbox_post(vg_feedback_inbox *in, const char *authorization,
                                const char *body, size_t len, char *reply, size_t cap)
{
    /* Not recorded in the event log: whoever lacks the token must not be
     * able to write there. */
    if (!authorized(in, authorization)) {
        vg_metric_labels_inc(VG_M_FEEDBACK, (const char *const[]){"unauthorized", "http"}, 1);
        vg_log_limited(&in->log, VG_LOG_WARN, "feedback: refused a request without the token");
        snprintf(reply, cap, "unauthorized: send Authorization: Bearer <token>\n");
        return 401;
    }
    return vg_feedback_inbox_push(in, "http", body, len, reply, cap);
}

size_t vg_feedback_inbox_apply(vg_feedback_inbox *in, vg_pipeline *p)
{
    verdict_item batch[VG_FEEDBACK_QUEUE_MAX];
    pthread_mutex_lock(&in->lock);
    size_t n = in->n;
    memcpy(batch, in->queue, n * sizeof(*batch));
    in->n = 0;
    pthread_mutex_unlock(&in->lock);
    for (size_t i = 0; i < n; i++) {
        vg_error err = {0};
        verdict_item *v = &batch[i];
        vg_feedback_msg m = {v->source, v->id[0] != '\0' ? v->id : NULL, v->series,
                             v->series != NULL ? strlen(v->series) : 0, v->verdict,
                             v->refused};
        const char *result = vg_pipeline_feedback(p, &m, &err) == VG_OK
                                 ? vg_verdict_name((vg_verdict)v->verdict)
                                 : "refused";
        vg_metric_labels_inc(VG_M_FEEDBACK, (const char *const[]){result, v->source}, 1);
        free(v->series);
    }
    return n;
}
