/* Incremental checkpoints (models/state_store.h): a delta saves only what
 * changed, and base + log always load as the state of some checkpoint —
 * after a crash at any byte of a segment, after a crash in the middle of a
 * compaction, and after a series went away. The writer thread runs here,
 * so the test also runs under TSan (.ci/run). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "engine/pipeline.h"
#include "models/snapshot.h"
#include "models/snapshot_delta.h"
#include "models/state_store.h"
#include "tests/unit/helpers.h"

#define PART   3
#define STEP   60000
#define SERIES 6
#define SMALL  "{\"max_series\": 64}"  /* quick to create */

typedef struct fixture {
    char            dir[64];
    char            base[128], delta[128];
    vg_config      *cfg;
    vg_pipeline    *p;
    vg_state_store *store;
    int64_t         offset;  /* the stream position saved with each checkpoint */
} fixture;


static void feed(vg_pipeline *p, uint32_t s, size_t from, size_t to)
{
    char key[32];
    snprintf(key, sizeof(key), "load{series=\"%u\"}", s);
    vg_origin origin = {"test", PART, 0};
    vg_batch b;
    vg_batch_init(&b);
    for (size_t i = from; i < to; i++)
        vg_batch_push(&b, key, strlen(key), (int64_t)i * STEP,
                      50.0 + 10.0 * sin(0.3 * (double)i + s) + (double)(i % 7), &origin);
    vg_pipeline_process(p, &b);
    vg_batch_release(&b);
}

static void open_store(fixture *f, int compact_percent)
{
    vg_error err = {0};
    f->store = vg_state_store_open(f->dir, "g", compact_percent, &err);
    if (f->store == NULL)
        fail_msg("store: %s", err.msg);
}

static void setup(fixture *f, const char *cfg_text, int compact_percent)
{
    memset(f, 0, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/vg_state_store_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->base, sizeof(f->base), "%s/g-%d.vgstate", f->dir, PART);
    snprintf(f->delta, sizeof(f->delta), "%s/g-%d.vgdelta", f->dir, PART);
    f->cfg = vg_test_config(cfg_text);
    f->p = vg_test_pipeline(f->cfg);
    for (uint32_t s = 0; s < SERIES; s++)
        feed(f->p, s, 0, 60);
    open_store(f, compact_percent);
}

static void teardown(fixture *f)
{
    vg_state_store_close(f->store);
    vg_pipeline_free(f->p);
    vg_config_free(f->cfg);
    unlink(f->base);
    unlink(f->delta);
    rmdir(f->dir);
}

static vg_snapshot_positions positions(int64_t offset)
{
    vg_snapshot_positions pos = {.n = 1};
    snprintf(pos.v[0].topic, sizeof(pos.v[0].topic), "metrics");
    pos.v[0].partition = PART;
    pos.v[0].next_offset = offset;
    return pos;
}

/* Saves partition PART and waits: returns the outcome. */
static vg_state_saved save(fixture *f, int full)
{
    vg_snapshot_positions pos = positions(++f->offset);
    vg_error err = {0};
    vg_state_store_save(f->store, f->p, PART, &pos, full, &err);
    vg_state_saved r;
    assert_int_equal(vg_state_store_results(f->store, 1, &r, 1), 1);
    assert_int_equal(r.partition, PART);
    if (r.rc != VG_OK)
        fail_msg("save: %s %s", r.err.where, r.err.msg);
    return r;
}

/* The bytes of p's whole snapshot of PART (the state to compare). */
static void image(vg_pipeline *p, vg_writer *out)
{
    vg_error err = {0};
    vg_writer_init(out);
    assert_int_equal(vg_snapshot_encode_mem(p, PART, out, &err), VG_OK);
}

/* Loads base + log into a new pipeline and returns its image. */
static vg_snapshot_merge_info load(const fixture *f, vg_writer *out, int64_t *offset)
{
    vg_pipeline *q = vg_test_pipeline(f->cfg);
    vg_snapshot_positions pos = {0};
    vg_snapshot_merge_info info = {0};
    vg_error err = {0};
    if (vg_snapshot_load_merged(q, f->base, NULL, &pos, &info, &err) != VG_OK)
        fail_msg("load: %s %s", err.where, err.msg);
    assert_int_equal(pos.n, 1);
    *offset = pos.v[0].next_offset;
    image(q, out);
    vg_pipeline_free(q);
    return info;
}

static void assert_same(const vg_writer *a, const vg_writer *b)
{
    assert_int_equal(a->len, b->len);
    assert_memory_equal(a->buf, b->buf, a->len);
}

static int append_to(void *ctx, const uint8_t *bytes, size_t len, vg_error *err)
{
    (void)err;
    return vg_writer_put(ctx, bytes, len);
}

static void put_file(const char *path, const uint8_t *bytes, size_t len)
{
    FILE *o = fopen(path, "wb");
    assert_non_null(o);
    assert_int_equal(fwrite(bytes, 1, len, o), len);
    assert_int_equal(fclose(o), 0);
}

static size_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (size_t)st.st_size : 0;
}

static void a_delta_holds_only_the_changed_series(void **state)
{
    (void)state;
    fixture f;
    setup(&f, SMALL, 10000);
    vg_state_saved whole = save(&f, 0);  /* nothing on disk yet: whole */
    assert_true(whole.full);
    assert_int_equal(file_size(f.base), whole.bytes);
    feed(f.p, 1, 60, 61);
    vg_state_saved delta = save(&f, 0);
    assert_false(delta.full);
    /* one series of six, plus framing */
    assert_true(delta.bytes < whole.bytes / SERIES + 200);
    assert_true(delta.bytes > whole.bytes / SERIES / 2);
    vg_state_saved idle = save(&f, 0);  /* no change but the position */
    assert_true(idle.bytes < 200);

    vg_writer want, got;
    int64_t offset;
    image(f.p, &want);
    vg_snapshot_merge_info info = load(&f, &got, &offset);
    assert_same(&want, &got);
    assert_int_equal(offset, f.offset);
    assert_int_equal(info.segments, 2);
    assert_int_equal(info.torn, 0);
    vg_writer_release(&want);
    vg_writer_release(&got);
    teardown(&f);
}

/* A save holds the state as it was at the call, while scoring goes on:
 * the writer encodes copies of the changed blocks (the loop keeps changing
 * the blocks themselves; under TSan this is the race check). */
static void a_save_is_the_state_at_its_call(void **state)
{
    (void)state;
    fixture f;
    setup(&f, SMALL, 10000);
    save(&f, 1);
    for (uint32_t s = 0; s < SERIES; s++)
        feed(f.p, s, 60, 80);
    vg_writer want, got;
    image(f.p, &want);
    vg_snapshot_positions pos = {.n = 1};
    snprintf(pos.v[0].topic, sizeof(pos.v[0].topic), "metrics");
    pos.v[0].partition = PART;
    pos.v[0].next_offset = ++f.offset;
    vg_error err = {0};
    assert_int_equal(vg_state_store_save(f.store, f.p, PART, &pos, 0, &err), VG_OK);
    for (size_t i = 80; i < 400; i += 20)  /* meanwhile, more points */
        for (uint32_t s = 0; s < SERIES; s++)
            feed(f.p, s, i, i + 20);
    vg_state_saved r;
    assert_int_equal(vg_state_store_results(f.store, 1, &r, 1), 1);
    assert_int_equal(r.rc, VG_OK);
    assert_false(r.full);
    int64_t offset;
    load(&f, &got, &offset);
    assert_same(&want, &got);
    vg_writer_release(&want);
    vg_writer_release(&got);
    teardown(&f);
}

/* Whether to cut the log at byte `cut`: every byte of the header and
 * around each segment's end, every 37th elsewhere (loads are not free). */
static int worth_cutting(size_t cut, const vg_delta_scan *scan, const uint8_t *log)
{
    if (cut <= VG_DELTA_HEADER_BYTES + 16 || cut % 37 == 0)
        return 1;
    for (size_t k = 0; k < scan->n; k++) {
        size_t end = (size_t)(scan->v[k].body - log) + scan->v[k].len + 4;
        if (cut + 12 >= end && cut <= end + 12)
            return 1;
    }
    return 0;
}

/* Cutting the log anywhere loads the last checkpoint wholly in it, with
 * its positions; a flipped byte in the last segment drops that segment
 * alone. */
static void a_torn_log_loads_the_last_whole_checkpoint(void **state)
{
    (void)state;
    fixture f;
    setup(&f, SMALL, 10000);
    enum { CHECKPOINTS = 4 };
    vg_writer at[CHECKPOINTS];
    save(&f, 1);
    image(f.p, &at[0]);
    for (int k = 1; k < CHECKPOINTS; k++) {
        feed(f.p, (uint32_t)k, 60, 60 + (size_t)k);
        save(&f, 0);
        image(f.p, &at[k]);
    }
    size_t len = 0, base_len = 0;
    uint8_t *log = vg_snapshot_read_file(f.delta, &len, NULL);
    uint8_t *base = vg_snapshot_read_file(f.base, &base_len, NULL);
    assert_non_null(log);
    assert_non_null(base);
    vg_delta_scan scan;
    assert_int_equal(vg_delta_scan_log(log, len, base_len, vg_delta_base_crc(base, base_len),
                                       &scan), VG_OK);
    assert_int_equal(scan.n, CHECKPOINTS - 1);
    assert_int_equal(scan.good_len, len);
    size_t cuts = 0;
    for (size_t cut = 0; cut <= len; cut++) {
        if (!worth_cutting(cut, &scan, log))
            continue;
        put_file(f.delta, log, cut);
        vg_writer got;
        int64_t offset;
        vg_snapshot_merge_info info = load(&f, &got, &offset);
        size_t k = 0;  /* the segments wholly before the cut */
        while (k < scan.n && (size_t)(scan.v[k].body - log) + scan.v[k].len + 4 <= cut)
            k++;
        assert_int_equal(info.segments, k);
        assert_same(&at[k], &got);
        assert_int_equal(offset, (int64_t)k + 1);  /* its positions with it */
        vg_writer_release(&got);
        cuts++;
    }
    assert_true(cuts > 100);
    size_t last = (size_t)(scan.v[scan.n - 1].body - log);
    log[last + 20] ^= 0x40;  /* inside the last segment */
    put_file(f.delta, log, len);
    vg_writer got;
    int64_t offset;
    vg_snapshot_merge_info info = load(&f, &got, &offset);
    assert_int_equal(info.segments, CHECKPOINTS - 2);
    assert_int_equal(info.torn, len - (last - 4));
    assert_same(&at[CHECKPOINTS - 2], &got);
    vg_writer_release(&got);
    for (int k = 0; k < CHECKPOINTS; k++)
        vg_writer_release(&at[k]);
    free(scan.v);
    free(log);
    free(base);
    teardown(&f);
}

/* Compaction (after every load, and once the log outgrows its share of
 * the base) merges the log into a new base and removes the log. A crash
 * after the new base's rename but before the log's removal leaves a log
 * over the old base: it is ignored, not applied twice; a crash before the
 * rename leaves the old base, over which the log still applies. */
static void compaction_and_a_crash_inside_it(void **state)
{
    (void)state;
    fixture f;
    setup(&f, SMALL, 10000);
    save(&f, 1);
    feed(f.p, 2, 60, 62);
    save(&f, 0);
    size_t old_len = 0, log_len = 0;
    uint8_t *old_base = vg_snapshot_read_file(f.base, &old_len, NULL);
    uint8_t *log = vg_snapshot_read_file(f.delta, &log_len, NULL);
    assert_non_null(old_base);
    assert_non_null(log);
    vg_state_store_close(f.store);
    open_store(&f, 1);
    vg_pipeline *q = vg_test_pipeline(f.cfg);
    vg_snapshot_positions pos;
    vg_error err = {0};
    assert_int_equal(vg_state_store_load(f.store, q, PART, NULL, &pos, NULL, &err), VG_OK);
    vg_pipeline_free(q);
    vg_state_store_close(f.store);  /* finishes the compaction */
    open_store(&f, 1);
    assert_int_equal(file_size(f.delta), 0);

    vg_writer want, got;
    int64_t offset;
    image(f.p, &want);
    vg_snapshot_merge_info info = load(&f, &got, &offset);
    assert_same(&want, &got);
    assert_int_equal(offset, 2);
    assert_int_equal(info.segments, 0);
    vg_writer_release(&got);

    put_file(f.delta, log, log_len);  /* crash between rename and unlink */
    info = load(&f, &got, &offset);
    assert_true(info.stale);
    assert_int_equal(info.segments, 0);
    assert_same(&want, &got);
    vg_writer_release(&got);
    put_file(f.base, old_base, old_len);  /* crash before the rename */
    info = load(&f, &got, &offset);
    assert_int_equal(info.segments, 1);
    assert_same(&want, &got);
    vg_writer_release(&got);

    /* a log grown past compact_percent of the base compacts by itself */
    save(&f, 1);
    feed(f.p, 3, 60, 70);
    save(&f, 0);
    vg_state_store_close(f.store);
    open_store(&f, 1);
    assert_int_equal(file_size(f.delta), 0);
    vg_writer_release(&want);
    image(f.p, &want);
    load(&f, &got, &offset);
    assert_same(&want, &got);
    vg_writer_release(&got);
    free(log);
    free(old_base);
    vg_writer_release(&want);
    teardown(&f);
}

/* A series evicted after a checkpoint does not come back at load: the next
 * segment lists the live keys. */
static void an_evicted_series_stays_gone(void **state)
{
    (void)state;
    fixture f;
    setup(&f, "{\"max_series\": 6}", 10000);
    save(&f, 1);
    feed(f.p, SERIES, 0, 3);  /* a seventh series evicts the first */
    vg_state_saved r = save(&f, 0);
    assert_false(r.full);
    vg_writer want, got;
    int64_t offset;
    image(f.p, &want);
    load(&f, &got, &offset);
    assert_same(&want, &got);
    vg_pipeline *q = vg_test_pipeline(f.cfg);
    vg_snapshot_positions pos;
    size_t loaded = 0;
    assert_int_equal(vg_snapshot_load_merged(q, f.base, &loaded, &pos, NULL, NULL), VG_OK);
    assert_int_equal(loaded, SERIES);
    assert_null(vg_series_table_find(vg_pipeline_series(q), "load{series=\"0\"}", 16));
    vg_pipeline_free(q);
    vg_writer_release(&want);
    vg_writer_release(&got);
    teardown(&f);
}

/* Compaction walks the base beside the log and copies the runs of records
 * the log left alone as they are: changed records, new keys that sort
 * between old ones ("load{series=\"100\"}" falls between 10 and 11),
 * evictions and several segments must all land in the right places, and
 * the compacted base must be the state itself, byte for byte. */
static void compaction_interleaves_changes_with_untouched_runs(void **state)
{
    (void)state;
    fixture f;
    setup(&f, "{\"max_series\": 24}", 10000);
    for (uint32_t s = SERIES; s < 20; s++)
        feed(f.p, s, 0, 60);
    save(&f, 1);
    for (uint32_t k = 0; k < 3; k++) {
        for (uint32_t s = k; s < 20; s += 3)
            feed(f.p, s, 60 + k, 61 + k);
        for (uint32_t s = 100 + 2 * k; s < 102 + 2 * k; s++)  /* 26 series: 2 evicted */
            feed(f.p, s, 0, 3);
        vg_state_saved r = save(&f, 0);
        assert_false(r.full);
    }
    vg_writer want, got, merged;
    int64_t offset;
    image(f.p, &want);
    load(&f, &got, &offset);  /* base + three segments */
    assert_same(&want, &got);
    vg_writer_release(&got);

    size_t base_len = 0, log_len = 0;
    uint8_t *base = vg_snapshot_read_file(f.base, &base_len, NULL);
    uint8_t *log = vg_snapshot_read_file(f.delta, &log_len, NULL);
    assert_non_null(base);
    assert_non_null(log);
    vg_writer_init(&merged);
    vg_error err = {0};
    vg_snapshot_merge_info info = {0};
    assert_int_equal(vg_snapshot_merge(base, base_len, log, log_len, "t", append_to,
                                       &merged, &info, &err), VG_OK);
    assert_int_equal(info.segments, 3);
    vg_writer file;  /* the whole snapshot a save at the last position writes */
    vg_writer_init(&file);
    vg_snapshot_positions at = positions(f.offset);
    assert_int_equal(vg_snapshot_encode_at(f.p, PART, &at, append_to, &file, &err), VG_OK);
    assert_same(&file, &merged);  /* the merge is that snapshot, byte for byte */

    vg_state_store_close(f.store);
    open_store(&f, 1);
    feed(f.p, 7, 70, 71);
    save(&f, 0);  /* a log past 1 % of the base: compacted after this segment */
    vg_state_store_close(f.store);
    open_store(&f, 10000);
    assert_int_equal(file_size(f.delta), 0);
    vg_writer_reset(&file);
    at = positions(f.offset);
    assert_int_equal(vg_snapshot_encode_at(f.p, PART, &at, append_to, &file, &err), VG_OK);
    size_t compacted_len = 0;
    uint8_t *compacted = vg_snapshot_read_file(f.base, &compacted_len, NULL);
    assert_non_null(compacted);
    assert_int_equal(compacted_len, file.len);
    assert_memory_equal(compacted, file.buf, file.len);
    free(compacted);
    vg_writer_release(&file);
    free(base);
    free(log);
    vg_writer_release(&merged);
    vg_writer_release(&want);
    teardown(&f);
}

/* After a load only later changes are saved; after a failed save the next
 * one is whole (what reached the disk is unsure). */
static void loads_count_as_saved_and_failures_save_whole(void **state)
{
    (void)state;
    fixture f;
    setup(&f, SMALL, 10000);
    save(&f, 1);
    vg_pipeline *q = vg_test_pipeline(f.cfg);
    vg_snapshot_positions pos;
    size_t loaded = 0;
    vg_error err = {0};
    assert_int_equal(vg_state_store_load(f.store, q, PART, &loaded, &pos, NULL, &err), VG_OK);
    assert_int_equal(loaded, SERIES);
    vg_pipeline_free(f.p);
    f.p = q;
    f.offset = pos.v[0].next_offset - 1;  /* the same position again */
    vg_state_saved r = save(&f, 0);
    assert_false(r.full);
    assert_int_equal(r.bytes, 0);  /* nothing changed: nothing written */

    assert_int_equal(mkdir(f.delta, 0700), 0);  /* the log cannot be written */
    feed(f.p, 0, 60, 61);
    vg_snapshot_positions at = {.n = 0};
    vg_state_store_save(f.store, f.p, PART, &at, 0, &err);
    vg_state_saved fail;
    assert_int_equal(vg_state_store_results(f.store, 1, &fail, 1), 1);
    assert_int_not_equal(fail.rc, VG_OK);
    assert_int_equal(rmdir(f.delta), 0);
    r = save(&f, 0);
    assert_true(r.full);
    vg_state_store_reset(f.store);  /* a reloaded pipeline */
    r = save(&f, 0);
    assert_true(r.full);
    teardown(&f);
}

/* A partition saved before any of its series arrived (a member that was
 * assigned it, then killed) loads as empty state with its position: the
 * merge of zero series must not fail (under UBSan it once did: qsort of
 * no entries from a NULL array). */
static void an_empty_partition_loads(void **state)
{
    (void)state;
    fixture f;
    setup(&f, SMALL, 10000);
    vg_pipeline *empty = vg_test_pipeline(f.cfg);
    vg_pipeline_free(f.p);
    f.p = empty;
    save(&f, 1);
    vg_snapshot_positions pos;
    size_t loaded = 1;
    vg_error err = {0};
    /* loading also hands the writer a compaction of what it loaded */
    assert_int_equal(vg_state_store_load(f.store, f.p, PART, &loaded, &pos, NULL, &err), VG_OK);
    assert_int_equal(loaded, 0);
    assert_int_equal(pos.v[0].next_offset, f.offset);
    feed(f.p, 0, 0, 5);  /* the next save follows the compaction */
    save(&f, 0);
    vg_writer a, b;
    int64_t offset = 0;
    image(f.p, &a);
    load(&f, &b, &offset);
    assert_int_equal(offset, f.offset);
    assert_same(&a, &b);
    vg_writer_release(&a);
    vg_writer_release(&b);
    teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_delta_holds_only_the_changed_series),
        cmocka_unit_test(a_save_is_the_state_at_its_call),
        cmocka_unit_test(a_torn_log_loads_the_last_whole_checkpoint),
        cmocka_unit_test(compaction_and_a_crash_inside_it),
        cmocka_unit_test(an_evicted_series_stays_gone),
        cmocka_unit_test(compaction_interleaves_changes_with_untouched_runs),
        cmocka_unit_test(loads_count_as_saved_and_failures_save_whole),
        cmocka_unit_test(an_empty_partition_loads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
