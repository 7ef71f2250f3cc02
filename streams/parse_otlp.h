/* The OTLP metrics model, shared by the otlp-json and otlp-proto formats:
 * each decodes its encoding into these data points and hands them here.
 *
 * Series (parse_model.h says what rates and means are): a metric's name as
 * is, labels = resource attributes + data point attributes (the point's win
 * on a clash of names, as the Collector's Prometheus exporter does).
 *   gauge                                   the value
 *   sum, monotonic, cumulative              per-second rate
 *   sum, monotonic, delta                   value / (time - start), per second
 *   sum, not monotonic (UpDownCounter)      the value (a level, or its change)
 *   histogram, exponential histogram        <name>_count (observations per
 *                                           second) and <name>_mean, cumulative
 *                                           or delta
 *   summary                                 <name>{quantile="q"} per quantile,
 *                                           and <name>_count, <name>_mean
 * A time of 0 means the message time. */
#ifndef VG_STREAMS_PARSE_OTLP_H
#define VG_STREAMS_PARSE_OTLP_H

#include "streams/parse_model.h"

/* The metric data oneof, by its protobuf field number in Metric. */
enum {
    VG__OTLP_GAUGE = 5,
    VG__OTLP_SUM = 7,
    VG__OTLP_HISTOGRAM = 9,
    VG__OTLP_EXP_HISTOGRAM = 10,
    VG__OTLP_SUMMARY = 11,
};
/* AggregationTemporality. */
enum { VG__OTLP_UNSPECIFIED = 0, VG__OTLP_DELTA = 1, VG__OTLP_CUMULATIVE = 2 };

#define VG__OTLP_MAX_QUANTILES 32

typedef struct vg__otlp_point {
    int      type;          /* VG__OTLP_GAUGE ... */
    int      temporality;   /* sums and histograms */
    int      monotonic;     /* sums */
    uint64_t start_ns, time_ns;
    double   value;         /* gauge, sum */
    double   count, sum;    /* histograms, summary; sum NAN when absent */
    size_t   n_quantiles;
    double   quantile[VG__OTLP_MAX_QUANTILES], qvalue[VG__OTLP_MAX_QUANTILES];
} vg__otlp_point;

/* Labels of a resource and then of one point; the text of attribute values
 * that are not strings is kept in ps->scratch. */
typedef struct vg__otlp_attrs {
    vg_label l[VG_MAX_LABELS];
    size_t   n, used;
} vg__otlp_attrs;

/* Add an attribute of each value type; 0, or -1 (error recorded) when
 * there are too many. The key and a string value are borrowed: they must
 * live as long as the message. */
int vg__otlp_attr_str(vg_parser *ps, vg__otlp_attrs *a, const char *key, size_t key_len,
                      const char *s, size_t len);
int vg__otlp_attr_int(vg_parser *ps, vg__otlp_attrs *a, const char *key, size_t key_len,
                      int64_t v);
int vg__otlp_attr_double(vg_parser *ps, vg__otlp_attrs *a, const char *key, size_t key_len,
                         double v);
int vg__otlp_attr_bool(vg_parser *ps, vg__otlp_attrs *a, const char *key, size_t key_len,
                       int v);

/* Emits the series of one data point of metric `name` (see above). labels
 * holds the resource's then the point's attributes. */
void vg__otlp_emit(vg_parser *ps, const char *name, size_t name_len, const vg_label *labels,
                   size_t n, const vg__otlp_point *p);

#endif
