/* The self-metrics registry and its Prometheus text rendering; see metrics.h.
 *
 * Values are 64-bit atomics. A counter keeps whole increments in an integer
 * (exact, one fetch_add) and fractional ones (seconds) in a double updated by
 * compare-and-swap; it renders as their sum. A gauge is a double. A
 * histogram keeps one integer per bucket (not cumulative, so an observation
 * is one fetch_add) and a double sum; its count is the sum of its buckets,
 * computed while rendering, so `_count` always equals the "+Inf" bucket even
 * when a scrape races an observation. */
#include "core/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"

struct vg_metric_child {
    const vg_metric_family *f;
    char                   *values[VG_METRICS_MAX_LABELS];
    atomic_int              live;     /* 0 after vg_metrics_drop: not rendered */
    _Atomic uint64_t        count;    /* counter: whole increments */
    _Atomic uint64_t        bits;     /* double: counter fraction, gauge, histogram sum */
    _Atomic uint64_t       *buckets;  /* histogram: n_bounds + 1, the last is +Inf */
};

struct vg_metric_family {
    vg_metrics       *reg;
    vg_metric_type    type;
    char             *name;
    char             *help;
    char             *labels[VG_METRICS_MAX_LABELS];
    size_t            n_labels;
    double            bounds[VG_METRICS_MAX_BUCKETS];
    size_t            n_bounds;
    size_t            max_children;
    vg_metric_child  *children;       /* max_children slots, reserved up front */
    _Atomic uint64_t *bucket_store;   /* histograms: max_children * (n_bounds + 1) */
    atomic_size_t     n_children;     /* published with release */
};

struct vg_metrics {
    pthread_mutex_t    lock;          /* registration only */
    size_t             max_families;
    vg_metric_family **families;
    atomic_size_t      n_families;    /* published with release */
};

static uint64_t to_bits(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof(u));
    return u;
}

static double from_bits(uint64_t u)
{
    double v;
    memcpy(&v, &u, sizeof(v));
    return v;
}

static void add_double(_Atomic uint64_t *a, double v)
{
    uint64_t old = atomic_load_explicit(a, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(a, &old, to_bits(from_bits(old) + v),
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
}

/* ---- validation ------------------------------------------------------------ */

static int is_alpha_(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Metric names may hold ':'; label names may not. */
static int valid_name(const char *s, int colons)
{
    if (s == NULL || *s == '\0' || !(is_alpha_(*s) || (colons && *s == ':')))
        return 0;
    for (s++; *s != '\0'; s++)
        if (!(is_alpha_(*s) || is_digit(*s) || (colons && *s == ':')))
            return 0;
    return 1;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int check_desc(const vg_metrics *reg, const vg_metric_desc *d, size_t *n_labels,
                      vg_error *err)
{
    if (!valid_name(d->name, 1))
        return vg_error_set(err, VG_EARG, "metric name '%s' is not [a-zA-Z_:][a-zA-Z0-9_:]*",
                            d->name != NULL ? d->name : "(null)");
    if (d->type == VG_METRIC_COUNTER && ends_with(d->name, "_total"))
        return vg_error_set(err, VG_EARG, "counter %s: register it without \"_total\", "
                            "which rendering adds", d->name);
    if (d->help == NULL)
        return vg_error_set(err, VG_EARG, "metric %s has no help text", d->name);
    size_t n = 0;
    while (n < VG_METRICS_MAX_LABELS && d->labels[n] != NULL) {
        const char *l = d->labels[n];
        if (!valid_name(l, 0) || strncmp(l, "__", 2) == 0 ||
            (d->type == VG_METRIC_HISTOGRAM && strcmp(l, "le") == 0))
            return vg_error_set(err, VG_EARG, "metric %s: bad label name '%s'", d->name, l);
        for (size_t k = 0; k < n; k++)
            if (strcmp(d->labels[k], l) == 0)
                return vg_error_set(err, VG_EARG, "metric %s: label '%s' twice", d->name, l);
        n++;
    }
    if (n > 0 && d->max_children == 0)
        return vg_error_set(err, VG_EARG, "metric %s has labels but max_children is 0",
                            d->name);
    if (d->type == VG_METRIC_HISTOGRAM) {
        if (d->bounds == NULL || d->n_bounds == 0 || d->n_bounds > VG_METRICS_MAX_BUCKETS)
            return vg_error_set(err, VG_EARG, "histogram %s needs 1..%d bucket bounds",
                                d->name, VG_METRICS_MAX_BUCKETS);
        for (size_t i = 0; i < d->n_bounds; i++)
            if (!isfinite(d->bounds[i]) || (i > 0 && d->bounds[i] <= d->bounds[i - 1]))
                return vg_error_set(err, VG_EARG, "histogram %s: bounds must be finite "
                                    "and strictly increasing (bound %zu)", d->name, i);
    }
    size_t nf = atomic_load_explicit(&reg->n_families, memory_order_relaxed);
    for (size_t i = 0; i < nf; i++)
        if (strcmp(reg->families[i]->name, d->name) == 0)
            return vg_error_set(err, VG_ESTATE, "metric %s registered twice", d->name);
    if (nf == reg->max_families)
        return vg_error_set(err, VG_EFULL, "metric %s: registry full (%zu families)",
                            d->name, reg->max_families);
    *n_labels = n;
    return VG_OK;
}

/* ---- registry -------------------------------------------------------------- */

vg_metrics *vg_metrics_new(size_t max_families, vg_error *err)
{
    vg_metrics *reg = calloc(1, sizeof(*reg));
    if (reg == NULL)
        goto out_nomem;
    reg->families = calloc(max_families ? max_families : 1, sizeof(*reg->families));
    if (reg->families == NULL)
        goto out_free_reg;
    if (pthread_mutex_init(&reg->lock, NULL) != 0)
        goto out_free_families;
    reg->max_families = max_families;
    atomic_init(&reg->n_families, 0);
    return reg;

out_free_families:
    free(reg->families);
out_free_reg:
    free(reg);
out_nomem:
    vg_error_set(err, VG_ENOMEM, "metrics registry of %zu families", max_families);
    return NULL;
}

static void family_free(vg_metric_family *f)
{
    size_t n = atomic_load_explicit(&f->n_children, memory_order_relaxed);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < f->n_labels; k++)
            free(f->children[i].values[k]);
    for (size_t k = 0; k < f->n_labels; k++)
        free(f->labels[k]);
    free(f->bucket_store);
    free(f->children);
    free(f->help);
    free(f->name);
    free(f);
}

void vg_metrics_free(vg_metrics *reg)
{
    if (reg == NULL)
        return;
    size_t n = atomic_load_explicit(&reg->n_families, memory_order_relaxed);
    for (size_t i = 0; i < n; i++)
        family_free(reg->families[i]);
    pthread_mutex_destroy(&reg->lock);
    free(reg->families);
    free(reg);
}

static vg_metric_family *family_new(vg_metrics *reg, const vg_metric_desc *d, size_t n_labels)
{
    vg_metric_family *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return NULL;
    f->reg = reg;
    f->type = d->type;
    f->n_labels = n_labels;
    f->max_children = n_labels > 0 ? d->max_children : 1;
    atomic_init(&f->n_children, 0);
    f->name = strdup(d->name);
    f->help = strdup(d->help);
    f->children = calloc(f->max_children, sizeof(*f->children));
    if (f->name == NULL || f->help == NULL || f->children == NULL)
        goto out_free_family;
    for (size_t k = 0; k < n_labels; k++)
        if ((f->labels[k] = strdup(d->labels[k])) == NULL)
            goto out_free_family;
    if (d->type == VG_METRIC_HISTOGRAM) {
        f->n_bounds = d->n_bounds;
        memcpy(f->bounds, d->bounds, d->n_bounds * sizeof(*d->bounds));
        f->bucket_store = calloc(f->max_children * (f->n_bounds + 1), sizeof(*f->bucket_store));
        if (f->bucket_store == NULL)
            goto out_free_family;
    }
    for (size_t i = 0; i < f->max_children; i++) {
        vg_metric_child *c = &f->children[i];
        c->f = f;
        atomic_init(&c->live, 0);
        atomic_init(&c->count, 0);
        atomic_init(&c->bits, to_bits(0.0));
        if (f->bucket_store != NULL) {
            c->buckets = f->bucket_store + i * (f->n_bounds + 1);
            for (size_t b = 0; b <= f->n_bounds; b++)
                atomic_init(&c->buckets[b], 0);
        }
    }
    if (n_labels == 0) {  /* the one child exists from the start */
        atomic_store_explicit(&f->children[0].live, 1, memory_order_relaxed);
        atomic_store_explicit(&f->n_children, 1, memory_order_relaxed);
    }
    return f;

out_free_family:
    family_free(f);
    return NULL;
}

vg_metric_family *vg_metrics_register(vg_metrics *reg, const vg_metric_desc *d,
                                      vg_error *err)
{
    vg_metric_family *f = NULL;
    size_t n_labels = 0;
    pthread_mutex_lock(&reg->lock);
    if (check_desc(reg, d, &n_labels, err) != VG_OK)
        goto out_unlock;
    f = family_new(reg, d, n_labels);
    if (f == NULL) {
        vg_error_set(err, VG_ENOMEM, "metric %s", d->name);
        goto out_unlock;
    }
    size_t nf = atomic_load_explicit(&reg->n_families, memory_order_relaxed);
    reg->families[nf] = f;
    atomic_store_explicit(&reg->n_families, nf + 1, memory_order_release);
out_unlock:
    pthread_mutex_unlock(&reg->lock);
    return f;
}

vg_metric_child *vg_metrics_plain(vg_metric_family *f)
{
    vg_assert(f->n_labels == 0);
    return &f->children[0];
}

static void child_zero(vg_metric_child *c)
{
    atomic_store_explicit(&c->count, 0, memory_order_relaxed);
    atomic_store_explicit(&c->bits, to_bits(0.0), memory_order_relaxed);
    for (size_t b = 0; c->buckets != NULL && b <= c->f->n_bounds; b++)
        atomic_store_explicit(&c->buckets[b], 0, memory_order_relaxed);
}

static int same_values(const vg_metric_child *c, const char *const *values, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (strcmp(c->values[k], values[k]) != 0)
            return 0;
    return 1;
}

vg_metric_child *vg_metrics_child(vg_metric_family *f, const char *const *values,
                                  vg_error *err)
{
    if (f->n_labels == 0)
        return vg_metrics_plain(f);
    for (size_t k = 0; k < f->n_labels; k++) {
        if (values[k] == NULL) {
            vg_error_set(err, VG_EARG, "metric %s: no value for label %s", f->name, f->labels[k]);
            return NULL;
        }
        if (!vg_utf8_valid(values[k], strlen(values[k]))) {
            vg_error_set(err, VG_EARG, "metric %s: value of label %s is not UTF-8",
                         f->name, f->labels[k]);
            return NULL;
        }
    }
    vg_metric_child *c = NULL;
    pthread_mutex_lock(&f->reg->lock);
    size_t n = atomic_load_explicit(&f->n_children, memory_order_relaxed);
    for (size_t i = 0; i < n; i++) {
        if (same_values(&f->children[i], values, f->n_labels)) {
            c = &f->children[i];
            atomic_store_explicit(&c->live, 1, memory_order_release);
            goto out_unlock;
        }
    }
    if (n == f->max_children) {
        vg_error_set(err, VG_EFULL, "metric %s: all %zu label combinations in use",
                     f->name, f->max_children);
        goto out_unlock;
    }
    vg_metric_child *slot = &f->children[n];
    for (size_t k = 0; k < f->n_labels; k++) {
        if ((slot->values[k] = strdup(values[k])) == NULL) {
            for (size_t j = 0; j < k; j++) {
                free(slot->values[j]);
                slot->values[j] = NULL;
            }
            vg_error_set(err, VG_ENOMEM, "metric %s: label values", f->name);
            goto out_unlock;
        }
    }
    atomic_store_explicit(&slot->live, 1, memory_order_relaxed);
    atomic_store_explicit(&f->n_children, n + 1, memory_order_release);
    c = slot;
out_unlock:
    pthread_mutex_unlock(&f->reg->lock);
    return c;
}

vg_metric_child *vg_metrics_find(vg_metric_family *f, const char *const *values)
{
    size_t n = atomic_load_explicit(&f->n_children, memory_order_acquire);
    for (size_t i = 0; i < n; i++)
        if (same_values(&f->children[i], values, f->n_labels))
            return &f->children[i];
    return NULL;
}

void vg_metrics_drop(vg_metric_child *c)
{
    vg_assert(c->f->n_labels > 0);  /* an unlabelled child could never come back */
    atomic_store_explicit(&c->live, 0, memory_order_release);
    child_zero(c);
}

/* ---- updates ------------------------------------------------------------- */

void vg_metrics_inc(vg_metric_child *c, uint64_t n)
{
    vg_assert(c->f->type == VG_METRIC_COUNTER);
    atomic_fetch_add_explicit(&c->count, n, memory_order_relaxed);
}

void vg_metrics_add(vg_metric_child *c, double v)
{
    vg_assert(c->f->type == VG_METRIC_GAUGE || (c->f->type == VG_METRIC_COUNTER && v >= 0));
    add_double(&c->bits, v);
}

void vg_metrics_set(vg_metric_child *c, double v)
{
    vg_assert(c->f->type == VG_METRIC_GAUGE);
    atomic_store_explicit(&c->bits, to_bits(v), memory_order_relaxed);
}

void vg_metrics_observe(vg_metric_child *c, double v)
{
    const vg_metric_family *f = c->f;
    vg_assert(f->type == VG_METRIC_HISTOGRAM);
    size_t b = 0;  /* first bucket whose bound is >= v; NaN lands in +Inf */
    while (b < f->n_bounds && !(v <= f->bounds[b]))
        b++;
    atomic_fetch_add_explicit(&c->buckets[b], 1, memory_order_relaxed);
    add_double(&c->bits, v);
}

static uint64_t histogram_count(const vg_metric_child *c)
{
    uint64_t total = 0;
    for (size_t b = 0; b <= c->f->n_bounds; b++)
        total += atomic_load_explicit(&c->buckets[b], memory_order_relaxed);
    return total;
}

double vg_metrics_value(const vg_metric_child *c)
{
    double bits = from_bits(atomic_load_explicit(&c->bits, memory_order_relaxed));
    switch (c->f->type) {
    case VG_METRIC_COUNTER:
        return (double)atomic_load_explicit(&c->count, memory_order_relaxed) + bits;
    case VG_METRIC_GAUGE:
        return bits;
    case VG_METRIC_HISTOGRAM:
        return (double)histogram_count(c);
    }
    return NAN;
}

/* ---- rendering ----------------------------------------------------------- */

/* Go's ParseFloat reads what this writes: the shortest %g that reads back
 * exactly, or "+Inf", "-Inf", "NaN". */
static void put_double(FILE *out, double v)
{
    if (isnan(v)) {
        fputs("NaN", out);
        return;
    }
    if (isinf(v)) {
        fputs(v > 0 ? "+Inf" : "-Inf", out);
        return;
    }
    char buf[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof(buf), "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    fputs(buf, out);
}

/* HELP text escapes '\' and newline; label values also escape '"'. */
static void put_escaped(FILE *out, const char *s, int quotes)
{
    for (; *s != '\0'; s++) {
        if (*s == '\\')
            fputs("\\\\", out);
        else if (*s == '\n')
            fputs("\\n", out);
        else if (*s == '"' && quotes)
            fputs("\\\"", out);
        else
            fputc(*s, out);
    }
}

/* `{a="x",b="y",le="0.5"}`, "le" only when with_le (+Inf writes "+Inf"),
 * or nothing at all for an unlabelled sample without "le". */
static void put_labels(FILE *out, const vg_metric_child *c, int with_le, double le)
{
    const vg_metric_family *f = c->f;
    if (f->n_labels == 0 && !with_le)
        return;
    fputc('{', out);
    for (size_t k = 0; k < f->n_labels; k++) {
        fprintf(out, "%s%s=\"", k > 0 ? "," : "", f->labels[k]);
        put_escaped(out, c->values[k], 1);
        fputc('"', out);
    }
    if (with_le) {
        fprintf(out, "%sle=\"", f->n_labels > 0 ? "," : "");
        put_double(out, le);
        fputc('"', out);
    }
    fputc('}', out);
}

static void put_sample(FILE *out, const vg_metric_child *c, const char *suffix, double v)
{
    fprintf(out, "%s%s", c->f->name, suffix);
    put_labels(out, c, 0, 0);
    fputc(' ', out);
    put_double(out, v);
    fputc('\n', out);
}

static void put_counter(FILE *out, const vg_metric_child *c)
{
    uint64_t whole = atomic_load_explicit(&c->count, memory_order_relaxed);
    double frac = from_bits(atomic_load_explicit(&c->bits, memory_order_relaxed));
    if (frac != 0.0) {
        put_sample(out, c, "_total", (double)whole + frac);
        return;
    }
    fprintf(out, "%s_total", c->f->name);  /* exact beyond 2^53 */
    put_labels(out, c, 0, 0);
    fprintf(out, " %llu\n", (unsigned long long)whole);
}

static void put_histogram(FILE *out, const vg_metric_child *c)
{
    const vg_metric_family *f = c->f;
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= f->n_bounds; b++) {
        cumulative += atomic_load_explicit(&c->buckets[b], memory_order_relaxed);
        fprintf(out, "%s_bucket", f->name);
        put_labels(out, c, 1, b < f->n_bounds ? f->bounds[b] : INFINITY);
        fprintf(out, " %llu\n", (unsigned long long)cumulative);
    }
    put_sample(out, c, "_sum", from_bits(atomic_load_explicit(&c->bits, memory_order_relaxed)));
    fprintf(out, "%s_count", f->name);
    put_labels(out, c, 0, 0);
    fprintf(out, " %llu\n", (unsigned long long)cumulative);
}

static const char *const type_names[] = {
    [VG_METRIC_COUNTER] = "counter",
    [VG_METRIC_GAUGE] = "gauge",
    [VG_METRIC_HISTOGRAM] = "histogram",
};

static void put_family(FILE *out, const vg_metric_family *f)
{
    const char *suffix = f->type == VG_METRIC_COUNTER ? "_total" : "";
    fprintf(out, "# HELP %s%s ", f->name, suffix);
    put_escaped(out, f->help, 0);
    fprintf(out, "\n# TYPE %s%s %s\n", f->name, suffix, type_names[f->type]);
    size_t n = atomic_load_explicit(&f->n_children, memory_order_acquire);
    for (size_t i = 0; i < n; i++) {
        const vg_metric_child *c = &f->children[i];
        if (!atomic_load_explicit(&c->live, memory_order_acquire))
            continue;
        switch (f->type) {
        case VG_METRIC_COUNTER:
            put_counter(out, c);
            break;
        case VG_METRIC_GAUGE:
            put_sample(out, c, "", from_bits(atomic_load_explicit(&c->bits,
                                                                   memory_order_relaxed)));
            break;
        case VG_METRIC_HISTOGRAM:
            put_histogram(out, c);
            break;
        }
    }
}

int vg_metrics_write(const vg_metrics *reg, FILE *out)
{
    size_t n = atomic_load_explicit(&reg->n_families, memory_order_acquire);
    for (size_t i = 0; i < n; i++)
        put_family(out, reg->families[i]);
    return fflush(out) == 0 && !ferror(out) ? VG_OK : VG_EIO;
}

char *vg_metrics_render(const vg_metrics *reg, size_t *len, vg_error *err)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&buf, &size);
    if (out == NULL)
        goto out_nomem;
    int rc = vg_metrics_write(reg, out);
    if (fclose(out) != 0 || rc != VG_OK)
        goto out_free_buf;
    *len = size;
    return buf;

out_free_buf:
    free(buf);
out_nomem:
    vg_error_set(err, VG_ENOMEM, "rendering metrics");
    return NULL;
}
