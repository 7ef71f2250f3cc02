/* The replay scores file; see scores_csv.h. Rows are built in a large
 * buffer with the integer formatters of core/numfmt.h: at millions of rows
 * per second, printf would dominate the replay. */
#include "src/replay_scores.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/numfmt.h"

#define BUF_SIZE (1 << 20)
#define ROW_MAX  (4 * 65536)  /* raw texts are capped at 64 KiB each */

struct vg_scores_csv {
    FILE  *file;
    char  *path;
    int    with_series;
    int    failed;
    size_t len;
    char   buf[BUF_SIZE];
};

static void drain(vg_scores_csv *out)
{
    if (out->len > 0 && fwrite(out->buf, 1, out->len, out->file) != out->len)
        out->failed = 1;
    out->len = 0;
}

static void put(vg_scores_csv *out, const char *s, size_t n)
{
    if (out->len + n > BUF_SIZE)
        drain(out);
    if (n > BUF_SIZE) {
        if (fwrite(s, 1, n, out->file) != n)
            out->failed = 1;
        return;
    }
    memcpy(out->buf + out->len, s, n);
    out->len += n;
}

static void put_str(vg_scores_csv *out, const char *s)
{
    put(out, s, strlen(s));
}

/* CSV-quotes a field when it holds a comma, quote or newline. */
static void put_field(vg_scores_csv *out, const char *s, size_t n)
{
    size_t special = 0;
    for (size_t i = 0; i < n; i++)
        special |= s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!special) {
        put(out, s, n);
        return;
    }
    put(out, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            put(out, "\"", 1);
        put(out, &s[i], 1);
    }
    put(out, "\"", 1);
}

vg_scores_csv *vg_scores_csv_open(const char *path, const char *const *detectors,
                                  size_t n, int with_series, vg_error *err)
{
    vg_scores_csv *out = malloc(sizeof(*out));
    if (out == NULL) {
        vg_error_set(err, VG_ENOMEM, "scores writer");
        return NULL;
    }
    out->path = strdup(path);
    out->file = strcmp(path, "-") == 0 ? stdout : fopen(path, "wb");
    if (out->file == NULL || out->path == NULL) {
        vg_error_set_at(err, VG_EIO, path, "cannot write scores: %s", strerror(errno));
        free(out->path);
        free(out);
        return NULL;
    }
    out->with_series = with_series;
    out->failed = 0;
    out->len = 0;
    put_str(out, "timestamp,value,anomaly_score,expected,lower,upper");
    for (size_t i = 0; i < n; i++) {
        put(out, ",", 1);
        put_str(out, detectors[i]);
    }
    if (with_series)
        put_str(out, ",series");
    put(out, "\n", 1);
    return out;
}

int vg_scores_csv_write(vg_scores_csv *out, const vg_batch *b, const vg_point *pt,
                        const vg_point_result *r)
{
    if (out->len + ROW_MAX > BUF_SIZE)
        drain(out);
    char num[32];
    if (pt->ts_text_len > 0) {
        put_field(out, vg_batch_ts_text(b, pt), pt->ts_text_len);
        put(out, ",", 1);
        put(out, vg_batch_value_text(b, pt), pt->value_text_len);
    } else {
        put(out, num, vg_fmt_i64(num, pt->ts_ms));
        put(out, ",", 1);
        put(out, num, vg_fmt_sig(num, pt->value, 15));
    }
    put(out, ",", 1);
    put(out, num, vg_fmt_score(num, r->score));
    const double band[3] = {r->expected, r->lower, r->upper};
    for (int i = 0; i < 3; i++) {
        put(out, ",", 1);
        put(out, num, vg_fmt_sig(num, band[i], 10));
    }
    for (size_t i = 0; i < r->n_detectors; i++) {
        put(out, ",", 1);
        put(out, num, vg_fmt_score(num, r->raw[i]));
    }
    if (out->with_series) {
        put(out, ",", 1);
        put_field(out, vg_batch_key(b, pt), pt->key_len);
    }
    put(out, "\n", 1);
    return out->failed ? VG_EIO : VG_OK;
}

int vg_scores_csv_close(vg_scores_csv *out, vg_error *err)
{
    if (out == NULL)
        return VG_OK;
    drain(out);
    if (out->file == stdout) {
        if (fflush(stdout) != 0)
            out->failed = 1;
    } else if (fclose(out->file) != 0) {
        out->failed = 1;
    }
    int rc = VG_OK;
    if (out->failed)
        rc = vg_error_set_at(err, VG_EIO, out->path, "writing scores failed");
    free(out->path);
    free(out);
    return rc;
}
