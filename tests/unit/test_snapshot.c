/* Snapshots: byte-identical round trips, a split replay that scores exactly
 * like an uninterrupted one for every registered detector, and corrupt or
 * foreign files that are refused with the right code and change nothing. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "detectors/detector.h"
#include "models/crc32c.h"
#include "models/snapshot.h"
#include "engine/pipeline.h"
#include "tests/unit/helpers.h"

#define CORPUS VG_TEST_FIXTURES "/../corpus/snapshot"

#define POINTS 3000   /* enough for every detector to train and score */
#define STEP   1800000  /* 30 minutes */

static vg_config *config(const char *text)
{
    vg_error err = {0};
    vg_config *cfg = text ? vg_config_load_string(text, "<test>", &err)
                          : vg_config_default(&err);
    if (cfg == NULL)
        fail_msg("config: %s %s", err.where, err.msg);
    return cfg;
}

static vg_pipeline *pipeline(const vg_config *cfg)
{
    vg_error err = {0};
    vg_pipeline *p = vg_pipeline_new(cfg, &err);
    if (p == NULL)
        fail_msg("pipeline: %s %s", err.where, err.msg);
    return p;
}

/* Point i of series `s`: a daily cycle (48 points) with noise, a level
 * shift at 2/3 and spikes, so alerts, seasons and forests all have work. */
static double value_at(uint32_t s, size_t i)
{
    uint64_t seed = (uint64_t)s * 1000003u + i;
    double v = 100.0 + 10.0 * s + 30.0 * sin(2.0 * M_PI * (double)(i % 48) / 48.0) +
               3.0 * vg_test_normal(&seed);
    if (i > 2 * POINTS / 3)
        v += 15.0;
    if (i % 997 == 500 + s)
        v += 200.0;
    return v;
}

static void feed(vg_pipeline *p, uint32_t s, size_t from, size_t to, int32_t partition)
{
    char key[32];
    snprintf(key, sizeof(key), "load{series=\"%u\"}", s);
    vg_origin origin = {"test", partition, 0};
    vg_batch b;
    vg_batch_init(&b);
    for (size_t i = from; i < to; i++)
        vg_batch_push(&b, key, strlen(key), (int64_t)i * STEP, value_at(s, i), &origin);
    vg_pipeline_process(p, &b);
    vg_batch_release(&b);
}

static void encode(vg_pipeline *p, int32_t partition, vg_writer *out)
{
    vg_error err = {0};
    vg_writer_init(out);
    if (vg_snapshot_encode_mem(p, partition, out, &err) != VG_OK)
        fail_msg("encode: %s", err.msg);
}

static void decode_ok(vg_pipeline *p, const vg_writer *w, size_t want)
{
    vg_error err = {0};
    size_t loaded = 0;
    if (vg_snapshot_decode(p, w->buf, w->len, "mem", &loaded, &err) != VG_OK)
        fail_msg("decode: %s %s", err.where, err.msg);
    assert_int_equal(loaded, want);
}

/* A pipeline holding three series, trained part way. */
static vg_pipeline *trained(const vg_config *cfg, size_t points)
{
    vg_pipeline *p = pipeline(cfg);
    for (uint32_t s = 0; s < 3; s++)
        feed(p, s, 0, points, -1);
    return p;
}

static void crc32c_matches_the_standard(void **state)
{
    (void)state;
    assert_int_equal(vg_crc32c("123456789", 9), 0xE3069283u);  /* RFC 3720 check value */
    assert_int_equal(vg_crc32c(NULL, 0), 0);
    uint8_t zeros[32] = {0};
    assert_int_equal(vg_crc32c(zeros, 32), 0x8A9136AAu);  /* RFC 3720 B.4 */
    uint8_t buf[300];
    uint64_t seed = 7;
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)vg_test_rand(&seed);
    for (size_t len = 0; len < sizeof(buf); len += 7) {
        /* bit-at-a-time reference */
        uint32_t ref = 0xFFFFFFFFu;
        for (size_t i = 0; i < len; i++) {
            ref ^= buf[i];
            for (int k = 0; k < 8; k++)
                ref = (ref & 1) ? (ref >> 1) ^ 0x82F63B78u : ref >> 1;
        }
        assert_int_equal(vg_crc32c(buf, len), ~ref);
        for (size_t cut = 0; cut <= len; cut += 5)
            assert_int_equal(vg_crc32c_update(vg_crc32c(buf, cut), buf + cut, len - cut),
                             ~ref);
    }
}

static void round_trip_is_byte_identical(void **state)
{
    (void)state;
    vg_config *cfg = config(NULL);
    vg_pipeline *a = trained(cfg, POINTS);
    vg_writer first, again, other;
    encode(a, -1, &first);

    vg_pipeline *b = pipeline(cfg);
    decode_ok(b, &first, 3);
    assert_int_equal(vg_series_table_count(vg_pipeline_series(b)), 3);
    encode(b, -1, &again);
    assert_int_equal(again.len, first.len);
    assert_memory_equal(again.buf, first.buf, first.len);

    /* The same series fed in another order: the same bytes. */
    vg_pipeline *c = pipeline(cfg);
    for (uint32_t s = 3; s-- > 0;)
        feed(c, s, 0, POINTS, -1);
    encode(c, -1, &other);
    assert_int_equal(other.len, first.len);
    assert_memory_equal(other.buf, first.buf, first.len);

    vg_writer_release(&first);
    vg_writer_release(&again);
    vg_writer_release(&other);
    vg_pipeline_free(a);
    vg_pipeline_free(b);
    vg_pipeline_free(c);
    vg_config_free(cfg);
}

/* Every scored point's outcome, as bytes that memcmp can compare. */
typedef struct recorder {
    double *v;
    size_t  n, cap;
    size_t  active[VG_MAX_DETECTORS];  /* points each detector scored above 0 */
} recorder;

static void record_point(void *ctx, const vg_batch *b, const vg_point *pt,
                         const vg_point_result *r)
{
    (void)b;
    (void)pt;
    recorder *rec = ctx;
    size_t need = 6 + 2 * r->n_detectors;
    if (rec->n + need > rec->cap) {
        rec->cap = (rec->cap + need) * 2;
        rec->v = realloc(rec->v, rec->cap * sizeof(*rec->v));
        assert_non_null(rec->v);
    }
    double *o = rec->v + rec->n;
    o[0] = r->score;
    o[1] = r->expected;
    o[2] = r->lower;
    o[3] = r->upper;
    o[4] = r->alert;
    o[5] = r->event;
    memcpy(o + 6, r->raw, r->n_detectors * sizeof(double));
    memcpy(o + 6 + r->n_detectors, r->calibrated, r->n_detectors * sizeof(double));
    rec->n += need;
    for (size_t i = 0; i < r->n_detectors; i++)
        rec->active[i] += r->raw[i] > 0.0;
}

/* Points [split, POINTS) of three series, scored by p into rec. */
static void score_tail(vg_pipeline *p, size_t split, recorder *rec)
{
    vg_pipeline_set_hook(p, record_point, rec);
    for (uint32_t s = 0; s < 3; s++)
        feed(p, s, split, POINTS, -1);
    vg_pipeline_set_hook(p, NULL, NULL);
}

/* Replaying [0, split), saving, loading into a fresh pipeline and replaying
 * [split, POINTS) scores exactly like one uninterrupted replay. */
static void check_split_replay(const char *cfg_text)
{
    static const size_t splits[] = {1, 150, POINTS / 2, POINTS - 1};
    vg_config *cfg = config(cfg_text);
    for (size_t k = 0; k < sizeof(splits) / sizeof(splits[0]); k++) {
        size_t split = splits[k];
        recorder whole = {0}, resumed = {0};
        vg_pipeline *one = trained(cfg, split);
        score_tail(one, split, &whole);

        vg_pipeline *first = trained(cfg, split);
        vg_writer w;
        encode(first, -1, &w);
        vg_pipeline_free(first);
        vg_pipeline *second = pipeline(cfg);
        decode_ok(second, &w, 3);
        score_tail(second, split, &resumed);

        /* Every detector is past its warm-up for most of the tail; the
         * new-extreme detector scores only beyond the range, so it must
         * have scored the first spike (500 + s; the later ones are no
         * larger) instead. */
        for (size_t i = 0; i < vg_pipeline_detector_count(one); i++)
            if (strcmp(vg_pipeline_detector_name(one, i), "extreme") == 0
                    ? split < 500 && whole.active[i] == 0
                    : whole.active[i] < 3 * (POINTS - split) / 2)
                fail_msg("split at %zu: %s scored only %zu of %zu points", split,
                         vg_pipeline_detector_name(one, i), whole.active[i],
                         3 * (POINTS - split));
        assert_int_equal(resumed.n, whole.n);
        if (memcmp(resumed.v, whole.v, whole.n * sizeof(double)) != 0)
            fail_msg("config %s, split at %zu: resumed scores differ",
                     cfg_text ? cfg_text : "default", split);
        vg_writer_release(&w);
        free(whole.v);
        free(resumed.v);
        vg_pipeline_free(one);
        vg_pipeline_free(second);
    }
    vg_config_free(cfg);
}

static void split_replay_is_exact_for_every_detector(void **state)
{
    (void)state;
    check_split_replay(NULL);  /* the default: every registered detector */
    assert_true(vg_detector_count() >= 1);
    for (size_t i = 0; i < vg_detector_count(); i++) {
        char text[128];
        snprintf(text, sizeof(text), "{\"detectors\": {\"%s\": {}}}", vg_detector_at(i)->name);
        check_split_replay(text);
    }
}

static void partition_selects_series(void **state)
{
    (void)state;
    vg_config *cfg = config(NULL);
    vg_pipeline *a = pipeline(cfg);
    feed(a, 0, 0, 100, 0);
    feed(a, 1, 0, 100, 1);
    feed(a, 2, 0, 100, 1);
    vg_writer w;
    encode(a, 1, &w);
    vg_pipeline *b = pipeline(cfg);
    decode_ok(b, &w, 2);
    const char *k0 = "load{series=\"0\"}", *k1 = "load{series=\"1\"}";
    const char *k2 = "load{series=\"2\"}";
    assert_null(vg_series_table_find(vg_pipeline_series(b), k0, strlen(k0)));
    assert_non_null(vg_series_table_find(vg_pipeline_series(b), k1, strlen(k1)));
    assert_non_null(vg_series_table_find(vg_pipeline_series(b), k2, strlen(k2)));
    vg_writer_release(&w);
    encode(a, 7, &w);
    vg_pipeline *c = pipeline(cfg);
    decode_ok(c, &w, 0);
    assert_int_equal(vg_series_table_count(vg_pipeline_series(c)), 0);
    vg_writer_release(&w);
    vg_pipeline_free(a);
    vg_pipeline_free(b);
    vg_pipeline_free(c);
    vg_config_free(cfg);
}

/* ---- bad files ----------------------------------------------------------- */

/* The pipeline bad files are loaded into, and its bytes before. */
typedef struct target {
    vg_config  *cfg;
    vg_pipeline *p;
    vg_writer   before;
} target;

static void target_init(target *t)
{
    t->cfg = config(NULL);
    t->p = pipeline(t->cfg);
    feed(t->p, 0, 0, 400, -1);  /* a key the good file holds too, in another state */
    feed(t->p, 7, 0, 50, -1);
    encode(t->p, -1, &t->before);
}

static void target_unchanged(target *t)
{
    vg_writer now;
    encode(t->p, -1, &now);
    assert_int_equal(now.len, t->before.len);
    assert_memory_equal(now.buf, t->before.buf, now.len);
    vg_writer_release(&now);
}

static void target_free(target *t)
{
    vg_writer_release(&t->before);
    vg_pipeline_free(t->p);
    vg_config_free(t->cfg);
}

/* Loads data into t, expects `code` and t unchanged; returns the error. */
static vg_error expect_refused(target *t, const uint8_t *data, size_t len, int code)
{
    vg_error err = {0};
    size_t loaded = 99;
    int rc = vg_snapshot_decode(t->p, data, len, "bad", &loaded, &err);
    if (rc != code)
        fail_msg("expected %s, got %s (%s: %s)", vg_strerror(code), vg_strerror(rc),
                 err.where, err.msg);
    assert_int_equal(err.code, code);
    assert_int_equal(loaded, 0);
    assert_true(strncmp(err.where, "bad@", 4) == 0);
    return err;
}

static uint32_t get32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void put32(uint8_t *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

/* Rewrites the trailer so that only the intended damage remains. */
static void reseal(vg_writer *w)
{
    put32(w->buf + w->len - 4, vg_crc32c(w->buf, w->len - 4));
}

/* Offset of record i (its key length), walking the documented layout. */
static size_t record_at(const vg_writer *w, size_t i)
{
    size_t at = 36;                       /* magic .. count */
    at += 4 + get32(w->buf + at);         /* creator */
    at += 4 + get32(w->buf + at);         /* detectors */
    uint32_t positions = get32(w->buf + at);
    at += 4;
    while (positions-- > 0)
        at += 4 + get32(w->buf + at) + 12;  /* topic, partition, offset */
    while (i-- > 0) {
        at += 4 + get32(w->buf + at);     /* key */
        at += 4 + get32(w->buf + at);     /* state */
    }
    return at;
}

/* A copy of good with bytes [at, at+cut) replaced by ins[n]. */
static void splice(const vg_writer *good, vg_writer *out, size_t at, size_t cut,
                   const void *ins, size_t n)
{
    vg_writer_init(out);
    vg_writer_put(out, good->buf, at);
    vg_writer_put(out, ins, n);
    vg_writer_put(out, good->buf + at + cut, good->len - at - cut);
}

static void good_file(vg_writer *good)
{
    vg_config *cfg = config(NULL);
    vg_pipeline *p = trained(cfg, 300);  /* three series, series 0 in another state */
    encode(p, -1, good);
    vg_pipeline_free(p);
    vg_config_free(cfg);
}

static void every_flip_and_truncation_is_refused(void **state)
{
    (void)state;
    target t;
    target_init(&t);
    vg_writer good;
    good_file(&good);
    uint8_t *bad = malloc(good.len);
    assert_non_null(bad);
    for (size_t i = 0; i < good.len; i++) {
        memcpy(bad, good.buf, good.len);
        bad[i] ^= (uint8_t)(1u << (i % 8));
        int code = i < 8 ? VG_EPARSE : i < 12 ? VG_EVERSION : VG_ECHECKSUM;
        expect_refused(&t, bad, good.len, code);
    }
    for (size_t len = 0; len < good.len; len++) {
        vg_error err = {0};
        int rc = vg_snapshot_decode(t.p, good.buf, len, "bad", NULL, &err);
        assert_int_equal(rc, len < 16 ? VG_EPARSE : VG_ECHECKSUM);
    }
    target_unchanged(&t);
    free(bad);
    vg_writer_release(&good);
    target_free(&t);
}

static void versions_and_magic(void **state)
{
    (void)state;
    target t;
    target_init(&t);
    vg_writer good, w;
    good_file(&good);
    vg_writer_init(&w);
    vg_writer_put(&w, good.buf, good.len);

    put32(w.buf + 8, VG_SNAPSHOT_VERSION + 1);
    reseal(&w);
    vg_error err = expect_refused(&t, w.buf, w.len, VG_EVERSION);
    char want[64];
    snprintf(want, sizeof(want), "version %d is newer than version %d", VG_SNAPSHOT_VERSION + 1,
             VG_SNAPSHOT_VERSION);
    assert_non_null(strstr(err.msg, want));
    put32(w.buf + 8, 0);
    reseal(&w);
    err = expect_refused(&t, w.buf, w.len, VG_EVERSION);
    snprintf(want, sizeof(want), "version 0 is older than version %d", VG_SNAPSHOT_VERSION);
    assert_non_null(strstr(err.msg, want));

    memcpy(w.buf, good.buf, good.len);
    memcpy(w.buf, "VIGILSU", 7);
    reseal(&w);
    err = expect_refused(&t, w.buf, w.len, VG_EPARSE);
    assert_string_equal(err.where, "bad@0");
    expect_refused(&t, (const uint8_t *)"", 0, VG_EPARSE);
    expect_refused(&t, (const uint8_t *)"VIGIL", 5, VG_EPARSE);
    target_unchanged(&t);
    vg_writer_release(&w);
    vg_writer_release(&good);
    target_free(&t);
}

static void another_config_is_refused(void **state)
{
    (void)state;
    vg_writer good;
    good_file(&good);
    target t;
    t.cfg = config("{\"window\": 100}");
    t.p = pipeline(t.cfg);
    feed(t.p, 0, 0, 150, -1);
    encode(t.p, -1, &t.before);
    vg_error err = expect_refused(&t, good.buf, good.len, VG_ECONFIG);
    assert_non_null(strstr(err.msg, "state was saved with a different detector configuration"));
    assert_non_null(strstr(err.msg, "window 200"));
    assert_non_null(strstr(err.msg, "window 100"));
    assert_string_equal(err.where, "bad@12");
    target_unchanged(&t);
    target_free(&t);

    /* Fewer series allowed than the file holds. */
    t.cfg = config("{\"max_series\": 2}");
    t.p = pipeline(t.cfg);
    encode(t.p, -1, &t.before);
    expect_refused(&t, good.buf, good.len, VG_EFULL);
    target_unchanged(&t);
    target_free(&t);
    vg_writer_release(&good);
}

/* Damage that keeps a valid checksum: framing and record contents. Each
 * leaves the first record good, so a partial load would show. */
static void sealed_damage_is_refused(void **state)
{
    (void)state;
    target t;
    target_init(&t);
    vg_writer good, w;
    good_file(&good);
    size_t r1 = record_at(&good, 1), r2 = record_at(&good, 2), end = good.len - 4;

    /* The second record one byte longer than its decoder reads. */
    size_t len_at = r1 + 4 + get32(good.buf + r1);
    splice(&good, &w, r2, 0, "", 1);
    put32(w.buf + len_at, get32(good.buf + len_at) + 1);
    reseal(&w);
    vg_error err = expect_refused(&t, w.buf, w.len, VG_EPARSE);
    assert_non_null(strstr(err.msg, "1 bytes left over"));
    vg_writer_release(&w);

    /* The second record cut short by 8 bytes. */
    splice(&good, &w, r2 - 8, 8, NULL, 0);
    put32(w.buf + len_at, get32(good.buf + len_at) - 8);
    reseal(&w);
    expect_refused(&t, w.buf, w.len, VG_EPARSE);
    vg_writer_release(&w);

    /* Records swapped: keys out of order. */
    vg_writer_init(&w);
    size_t r0 = record_at(&good, 0);
    vg_writer_put(&w, good.buf, r0);
    vg_writer_put(&w, good.buf + r1, r2 - r1);
    vg_writer_put(&w, good.buf + r0, r1 - r0);
    vg_writer_put(&w, good.buf + r2, good.len - r2);
    reseal(&w);
    err = expect_refused(&t, w.buf, w.len, VG_EPARSE);
    assert_non_null(strstr(err.msg, "out of order"));
    vg_writer_release(&w);

    /* The first record twice. */
    vg_writer_init(&w);
    vg_writer_put(&w, good.buf, r1);
    vg_writer_put(&w, good.buf + r0, r1 - r0);
    vg_writer_put(&w, good.buf + r2, good.len - r2);
    reseal(&w);
    expect_refused(&t, w.buf, w.len, VG_EPARSE);
    vg_writer_release(&w);

    /* Bytes after the last record; a count one too high; a huge count. */
    splice(&good, &w, end, 0, "x", 1);
    reseal(&w);
    err = expect_refused(&t, w.buf, w.len, VG_EPARSE);
    assert_non_null(strstr(err.msg, "1 bytes after the last series"));
    vg_writer_release(&w);
    splice(&good, &w, 0, 0, NULL, 0);
    put32(w.buf + 28, 4);
    reseal(&w);
    expect_refused(&t, w.buf, w.len, VG_EPARSE);
    put32(w.buf + 32, 0x40000000);
    reseal(&w);
    expect_refused(&t, w.buf, w.len, VG_EPARSE);
    vg_writer_release(&w);

    /* A creator string longer than allowed. */
    splice(&good, &w, 0, 0, NULL, 0);
    put32(w.buf + 36, 1000);
    reseal(&w);
    err = expect_refused(&t, w.buf, w.len, VG_EPARSE);
    assert_string_equal(err.where, "bad@36");
    vg_writer_release(&w);

    target_unchanged(&t);
    vg_writer_release(&good);
    target_free(&t);
}

/* ---- files --------------------------------------------------------------- */

#define PATH(buf, ...) assert_true(snprintf(buf, sizeof(buf), __VA_ARGS__) < (int)sizeof(buf))

static int write_to(void *ctx, const uint8_t *bytes, size_t len, vg_error *err)
{
    (void)err;
    return vg_writer_put(ctx, bytes, len);
}

/* The stream positions saved with a partition's state come back exactly,
 * and a file without positions gives none. */
static void positions_round_trip(void **state)
{
    (void)state;
    vg_config *cfg = config(NULL);
    vg_pipeline *p = pipeline(cfg);
    feed(p, 1, 0, 100, 3);
    vg_snapshot_positions pos = {2, {{"metrics", 3, 1234}, {"other-topic", 3, 0}}};
    vg_writer w;
    vg_writer_init(&w);
    vg_error err = {0};
    assert_int_equal(vg_snapshot_encode_at(p, 3, &pos, write_to, &w, &err), VG_OK);
    vg_pipeline *q = pipeline(cfg);
    vg_snapshot_positions back;
    memset(&back, 0xAA, sizeof(back));
    size_t loaded = 0;
    assert_int_equal(vg_snapshot_decode_at(q, w.buf, w.len, "mem", &loaded, &back, &err), VG_OK);
    assert_int_equal(loaded, 1);
    assert_int_equal(back.n, 2);
    assert_string_equal(back.v[0].topic, "metrics");
    assert_int_equal(back.v[0].partition, 3);
    assert_int_equal(back.v[0].next_offset, 1234);
    assert_string_equal(back.v[1].topic, "other-topic");
    assert_int_equal(back.v[1].next_offset, 0);
    vg_writer_reset(&w);
    assert_int_equal(vg_snapshot_encode_mem(p, 3, &w, &err), VG_OK);
    assert_int_equal(vg_snapshot_decode_at(q, w.buf, w.len, "mem", NULL, &back, &err), VG_OK);
    assert_int_equal(back.n, 0);
    vg_writer_release(&w);
    vg_pipeline_free(q);
    vg_pipeline_free(p);
    vg_config_free(cfg);
}

static void files_save_atomically_and_load(void **state)
{
    (void)state;
    char dir[] = "/tmp/vg_snapshot_XXXXXX", path[400], tmp[300];
    assert_non_null(mkdtemp(dir));
    PATH(path, "%s/s.vgstate", dir);
    PATH(tmp, "%s.tmp", path);
    vg_config *cfg = config(NULL);
    vg_pipeline *a = trained(cfg, 500);
    vg_writer mem;
    encode(a, -1, &mem);
    vg_error err = {0};
    assert_int_equal(vg_snapshot_save(a, path, -1, &err), VG_OK);
    assert_int_equal(access(tmp, F_OK), -1);  /* renamed away */
    size_t len;
    char *file = vg_test_read_file(path, &len);
    assert_non_null(file);
    assert_int_equal(len, mem.len);
    assert_memory_equal(file, mem.buf, len);
    free(file);

    vg_pipeline *b = pipeline(cfg);
    size_t loaded = 0;
    assert_int_equal(vg_snapshot_load(b, path, &loaded, &err), VG_OK);
    assert_int_equal(loaded, 3);

    /* A save that cannot write leaves the old file whole. */
    feed(a, 0, 500, 600, -1);
    assert_int_equal(mkdir(tmp, 0700), 0);
    assert_int_equal(vg_snapshot_save(a, path, -1, &err), VG_EIO);
    file = vg_test_read_file(path, &len);
    assert_int_equal(len, mem.len);
    assert_memory_equal(file, mem.buf, len);
    free(file);
    rmdir(tmp);

    PATH(tmp, "%s/none.vgstate", dir);
    assert_int_equal(vg_snapshot_load(b, tmp, &loaded, &err), VG_ENOTFOUND);
    assert_int_equal(vg_snapshot_load(b, dir, &loaded, &err), VG_EIO);

    /* The replay layout: DIR/replay.vgstate, DIR created. */
    PATH(tmp, "%s/state", dir);
    assert_int_equal(vg_snapshot_save_replay(a, tmp, &err), VG_OK);
    assert_int_equal(vg_snapshot_load_replay(b, tmp, &loaded, &err), VG_OK);
    assert_int_equal(loaded, 3);
    PATH(path, "%s/replay.vgstate", tmp);
    unlink(path);
    rmdir(tmp);
    PATH(path, "%s/s.vgstate", dir);
    unlink(path);
    rmdir(dir);

    vg_writer_release(&mem);
    vg_pipeline_free(a);
    vg_pipeline_free(b);
    vg_config_free(cfg);
}

/* A symlink planted where the temp file goes is replaced, not followed. */
static void save_never_follows_a_link(void **state)
{
    (void)state;
    char dir[] = "/tmp/vg_snapshot_XXXXXX", path[400], tmp[300], victim[300];
    assert_non_null(mkdtemp(dir));
    PATH(path, "%s/s.vgstate", dir);
    PATH(tmp, "%s.tmp", path);
    PATH(victim, "%s/victim", dir);
    FILE *f = fopen(victim, "w");
    assert_non_null(f);
    fputs("precious\n", f);
    fclose(f);
    assert_int_equal(symlink(victim, tmp), 0);
    vg_config *cfg = config(NULL);
    vg_pipeline *a = trained(cfg, 100);
    vg_error err = {0};
    assert_int_equal(vg_snapshot_save(a, path, -1, &err), VG_OK);
    size_t len;
    char *text = vg_test_read_file(victim, &len);
    assert_non_null(text);
    assert_int_equal(len, 9);  /* "precious\n": untouched */
    free(text);
    assert_int_equal(access(tmp, F_OK), -1);
    unlink(path);
    unlink(victim);
    rmdir(dir);
    vg_pipeline_free(a);
    vg_config_free(cfg);
}

static void partition_paths(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(vg_snapshot_path(out, sizeof(out), "/s", "metrics.cpu-1", 3), VG_OK);
    assert_string_equal(out, "/s/metrics.cpu-1-3.vgstate");
    assert_int_equal(vg_snapshot_path(out, sizeof(out), "d", "../a b/\xc3\xa9", 0), VG_OK);
    assert_string_equal(out, "d/.._a_b___-0.vgstate");
    assert_int_equal(vg_snapshot_path(out, sizeof(out), "d", "", 12), VG_OK);
    assert_string_equal(out, "d/_-12.vgstate");
    assert_int_equal(vg_snapshot_path(out, sizeof(out), "d", "t", -1), VG_EARG);
    assert_int_equal(vg_snapshot_path(out, 12, "d", "topic", 1), VG_ERANGE);
    assert_int_equal(vg_snapshot_path(out, 18, "d", "topic", 1), VG_OK);  /* exactly fits */
    assert_string_equal(out, "d/topic-1.vgstate");
    assert_int_equal(vg_snapshot_path(out, 17, "d", "topic", 1), VG_ERANGE);
}

/* ---- corpus -------------------------------------------------------------- */

/* One case: `input` loaded under the name "input" must give what `expect`
 * says: "code N" and "where W". */
static void check_corpus_case(vg_pipeline *p, const char *dir)
{
    char key[16], value[64], *input;
    size_t len;
    FILE *f = vg_test_corpus_case(CORPUS, dir, &input, &len);
    vg_error err;
    vg_error_clear(&err);
    vg_snapshot_decode(p, input, len, "input", NULL, &err);
    int checked = 0;
    while (fscanf(f, "%15s %63s", key, value) == 2) {
        if (strcmp(key, "code") == 0 && atoi(value) != err.code)
            fail_msg("%s: code %d, expected %s (%s)", dir, err.code, value, err.msg);
        else if (strcmp(key, "where") == 0 && strcmp(err.where, value) != 0)
            fail_msg("%s: where \"%s\", expected \"%s\"", dir, err.where, value);
        checked++;
    }
    assert_int_equal(checked, 2);
    fclose(f);
    free(input);
}

static void corpus_cases(void **state)
{
    (void)state;
    vg_config *cfg = config(NULL);
    vg_pipeline *p = pipeline(cfg);
    struct dirent **names;
    int n = scandir(CORPUS, &names, NULL, alphasort);
    assert_true(n > 2);
    int cases = 0;
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.') {
            check_corpus_case(p, names[i]->d_name);
            cases++;
        }
        free(names[i]);
    }
    free(names);
    assert_true(cases >= 10);
    assert_int_equal(vg_series_table_count(vg_pipeline_series(p)), 0);
    vg_pipeline_free(p);
    vg_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crc32c_matches_the_standard),
        cmocka_unit_test(round_trip_is_byte_identical),
        cmocka_unit_test(split_replay_is_exact_for_every_detector),
        cmocka_unit_test(partition_selects_series),
        cmocka_unit_test(every_flip_and_truncation_is_refused),
        cmocka_unit_test(versions_and_magic),
        cmocka_unit_test(another_config_is_refused),
        cmocka_unit_test(sealed_damage_is_refused),
        cmocka_unit_test(positions_round_trip),
        cmocka_unit_test(files_save_atomically_and_load),
        cmocka_unit_test(save_never_follows_a_link),
        cmocka_unit_test(partition_paths),
        cmocka_unit_test(corpus_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
