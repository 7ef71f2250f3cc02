/* Sharded scoring (engine/shard.c): whatever the number of workers and the
 * batch sizes, the sinks, the hook, the stats and every series' saved state
 * are those of one thread, pipelined or not; state saved by one worker
 * count resumes under another. Runs under ThreadSanitizer too (.ci/run). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "core/series_key.h"
#include "engine/config.h"
#include "engine/pipeline.h"
#include "tests/unit/helpers.h"

#define SERIES 40
#define STEPS  500

/* What a run gave: every event's JSON line and every hook result, in order. */
typedef struct outputs {
    vg_writer events;
    vg_writer results;
} outputs;

static int record_emit(void *self, const vg_event *ev)
{
    char line[8192];
    int n = vg_event_encode(ev, line, sizeof(line));
    assert_true(n > 0);
    vg_writer_put(&((outputs *)self)->events, line, (size_t)n);
    return 0;
}

static void record_close(void *self)
{
    (void)self;
}

static const vg_sink_ops record_ops = {
    .name = "record", .emit = record_emit, .close = record_close, .records_muted = 1,
};

static void record_hook(void *ctx, const vg_batch *b, const vg_point *pt,
                        const vg_point_result *r)
{
    outputs *o = ctx;
    vg_writer_put(&o->results, vg_batch_key(b, pt), pt->key_len);
    vg_writer_i64(&o->results, pt->ts_ms);
    vg_writer_f64(&o->results, r->score);
    vg_writer_f64s(&o->results, r->raw, r->n_detectors);
    vg_writer_u32(&o->results, (uint32_t)r->alert);
    vg_writer_u32(&o->results, (uint32_t)r->event);
}

/* SERIES interleaved series (the order changes every step), with spikes
 * and a burst of new series late on, in batches of varying size: a few
 * points (scored on the caller's thread alone) up to thousands. */
static void feed(vg_pipeline *p, size_t from_step, size_t to_step)
{
    vg_batch b;
    vg_batch_init(&b);
    uint64_t seed = 7 + from_step;
    size_t sizes[] = {3, 700, 50, 4000, 129};
    size_t k = 0;
    for (size_t t = from_step; t < to_step; t++) {
        for (size_t j = 0; j < SERIES; j++) {
            size_t s = (j * 7 + t) % SERIES;
            char key[32];
            snprintf(key, sizeof(key), "%s_%zu", t > 400 && s % 5 == 0 ? "late" : "m", s);
            double v = 10.0 * (double)s + vg_test_normal(&seed);
            /* spikes, and a fault on the series about to be replaced (five
             * times the spikes: past what their tail has learnt, it fires) */
            if (t % 97 == s)
                v += 60.0;
            else if (s % 5 == 0 && t >= 396 && t <= 400)
                v += 300.0;
            vg_batch_push(&b, key, strlen(key), (int64_t)t * 60000, v, NULL);
        }
        if (b.n >= sizes[k % 5] || t + 1 == to_step) {
            assert_true(vg_pipeline_process(p, &b) >= 0);
            vg_batch_reset(&b);
            k++;
        }
    }
    vg_batch_release(&b);
}

static vg_pipeline *pipeline(vg_config *cfg, int workers, outputs *o)
{
    vg_error err = {0};
    cfg->workers = workers;
    vg_pipeline *p = vg_pipeline_new(cfg, &err);
    assert_non_null(p);
    assert_int_equal(vg_pipeline_workers(p), (size_t)workers);
    vg_sink *sink = malloc(sizeof(*sink));
    *sink = (vg_sink){&record_ops, o};
    assert_int_equal(vg_pipeline_add_sink(p, sink), 0);
    vg_pipeline_set_hook(p, record_hook, o);
    return p;
}

typedef struct saver {
    vg_pipeline *p;
    vg_writer   *out;
} saver;

static void save_one(void *ctx, void *block, const char *key, size_t key_len)
{
    saver *sv = ctx;
    vg_writer_u32(sv->out, (uint32_t)key_len);
    vg_writer_put(sv->out, key, key_len);
    assert_int_equal(vg_pipeline_save_series(sv->p, block, sv->out), 0);
}

/* Every series' state, as a snapshot sees it. */
static void save_all(vg_pipeline *p, vg_writer *out)
{
    saver sv = {p, out};
    vg_series_table_foreach(vg_pipeline_series(p), save_one, &sv);
}

static void load_all(vg_pipeline *p, const vg_writer *saved)
{
    vg_reader in;
    vg_reader_init(&in, saved->buf, saved->len);
    while (vg_reader_left(&in) > 0) {
        uint32_t len;
        char key[64];
        vg_reader_u32(&in, &len);
        assert_true(len < sizeof(key));
        vg_reader_get(&in, key, len);
        vg_error err = {0};
        assert_int_equal(vg_pipeline_load_series(p, key, len, &in, &err), 0);
    }
}

static void assert_same(const vg_writer *a, const vg_writer *b)
{
    assert_true(a->len > 0);
    assert_int_equal(a->len, b->len);
    assert_memory_equal(a->buf, b->buf, a->len);
}

static void outputs_init(outputs *o)
{
    vg_writer_init(&o->events);
    vg_writer_init(&o->results);
}

static void outputs_release(outputs *o)
{
    vg_writer_release(&o->events);
    vg_writer_release(&o->results);
}

/* The series are hours old: no paging warm-up (alert.warmup_s). */
#define NO_WARMUP "\"alert\": {\"warmup_s\": 0, \"warmup_points\": 0}"

/* One worker, 2, 3 and 4 (pipelined or not): same events, results, stats
 * and saved state;
 * with a cap of SERIES, the late series evict the ones they replace
 * mid-batch, some with an incident firing. */
static void any_worker_count_is_one_thread(void **state)
{
    (void)state;
    const char *configs[] = {"{" NO_WARMUP "}", "{\"max_series\": 40, " NO_WARMUP "}"};
    for (size_t c = 0; c < 2; c++) {
        vg_error err = {0};
        vg_config *cfg = vg_config_load_string(configs[c], "<test>", &err);
        assert_non_null(cfg);
        outputs one, many;
        vg_writer state_one, state_many;
        outputs_init(&one);
        vg_writer_init(&state_one);
        vg_pipeline *p1 = pipeline(cfg, 1, &one);
        feed(p1, 0, STEPS);
        save_all(p1, &state_one);
        for (int workers = 2; workers <= 4; workers++) {
            outputs_init(&many);
            vg_writer_init(&state_many);
            vg_pipeline *pn = pipeline(cfg, workers, &many);
            /* 3 and 4 pipelined: a batch scored while the next is taken */
            vg_pipeline_set_pipelined(pn, workers > 2);
            feed(pn, 0, STEPS);
            save_all(pn, &state_many);
            assert_same(&one.events, &many.events);
            assert_same(&one.results, &many.results);
            assert_same(&state_one, &state_many);
            assert_memory_equal(vg_pipeline_get_stats(p1), vg_pipeline_get_stats(pn),
                                sizeof(vg_pipeline_stats));
            vg_pipeline_free(pn);
            outputs_release(&many);
            vg_writer_release(&state_many);
        }
        if (c == 1) {
            assert_true(vg_series_table_evicted(vg_pipeline_series(p1)) > 0);
            assert_non_null(memmem(one.events.buf, one.events.len, "\"evicted\"", 9));
        }
        assert_true(vg_pipeline_get_stats(p1)->events_firing > 0);
        vg_pipeline_free(p1);
        outputs_release(&one);
        vg_writer_release(&state_one);
        vg_config_free(cfg);
    }
}

/* State saved by 4 workers halfway resumes under 2 exactly as one
 * uninterrupted worker goes on. */
static void saved_state_resumes_under_other_workers(void **state)
{
    (void)state;
    vg_error err = {0};
    vg_config *cfg = vg_config_load_string("{" NO_WARMUP "}", "<test>", &err);
    assert_non_null(cfg);
    outputs whole, first, second;
    outputs_init(&whole);
    outputs_init(&first);
    outputs_init(&second);
    vg_pipeline *p1 = pipeline(cfg, 1, &whole);
    feed(p1, 0, STEPS / 2);
    vg_writer_reset(&whole.results);
    vg_writer_reset(&whole.events);
    feed(p1, STEPS / 2, STEPS);

    vg_writer saved;
    vg_writer_init(&saved);
    vg_pipeline *p4 = pipeline(cfg, 4, &first);
    vg_pipeline_set_pipelined(p4, 1);
    feed(p4, 0, STEPS / 2);
    save_all(p4, &saved);
    vg_pipeline *p2 = pipeline(cfg, 2, &second);
    load_all(p2, &saved);
    feed(p2, STEPS / 2, STEPS);
    assert_same(&whole.results, &second.results);
    assert_same(&whole.events, &second.events);

    vg_pipeline_free(p1);
    vg_pipeline_free(p2);
    vg_pipeline_free(p4);
    outputs_release(&whole);
    outputs_release(&first);
    outputs_release(&second);
    vg_writer_release(&saved);
    vg_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(any_worker_count_is_one_thread),
        cmocka_unit_test(saved_state_resumes_under_other_workers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
