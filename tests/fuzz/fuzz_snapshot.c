/* Fuzz target: snapshot loading over arbitrary bytes. Each input is loaded
 * twice into a pipeline holding one trained series: as it is, and "sealed"
 * (the state id set to the pipeline's and the checksum recomputed) so that
 * mutations get past the checksum into the framing and every detector's
 * record decoder. A refused load must leave the pipeline byte-identical; an
 * accepted one must re-save into a file that loads again. Each is also
 * merged with an empty delta log (the walk compaction makes of a base):
 * never a crash, and a file that loads comes out byte for byte as it went
 * in. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "models/crc32c.h"
#include "models/snapshot.h"
#include "models/snapshot_delta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define STATE_ID_AT 12

static vg_pipeline *trained(const vg_config *cfg)
{
    vg_error err;
    vg_pipeline *p = vg_pipeline_new(cfg, &err);
    vg_assert(p != NULL);
    vg_batch b;
    vg_batch_init(&b);
    for (int i = 0; i < 60; i++)
        vg_batch_push(&b, "m", 1, i * 60000, (double)(i % 7), NULL);
    vg_pipeline_process(p, &b);
    vg_batch_release(&b);
    return p;
}

static void saved(vg_pipeline *p, vg_writer *out)
{
    vg_error err;
    vg_writer_init(out);
    vg_assert(vg_snapshot_encode_mem(p, -1, out, &err) == VG_OK);
}

static int put(void *ctx, const uint8_t *bytes, size_t len, vg_error *err)
{
    (void)err;
    return vg_writer_put(ctx, bytes, len);
}

static void try_merge(const uint8_t *data, size_t size, int loads)
{
    vg_writer out;
    vg_writer_init(&out);
    vg_error err;
    int rc = vg_snapshot_merge(data, size, NULL, 0, "input", put, &out, NULL, &err);
    if (loads)
        vg_assert(rc == VG_OK && out.len == size && memcmp(out.buf, data, size) == 0);
    vg_writer_release(&out);
}

static void try_load(const vg_config *cfg, const uint8_t *data, size_t size)
{
    vg_pipeline *p = trained(cfg);
    vg_writer before, after;
    saved(p, &before);
    vg_error err;
    size_t loaded;
    int rc = vg_snapshot_decode(p, data, size, "input", &loaded, &err);
    saved(p, &after);
    try_merge(data, size, rc == VG_OK);
    if (rc != VG_OK) {
        vg_assert(rc == VG_EPARSE || rc == VG_EVERSION || rc == VG_ECHECKSUM ||
                  rc == VG_ECONFIG || rc == VG_EFULL || rc == VG_ENOMEM);
        vg_assert(err.code == rc && loaded == 0);
        vg_assert(after.len == before.len && memcmp(after.buf, before.buf, before.len) == 0);
    } else {
        vg_pipeline *q = trained(cfg);
        vg_assert(vg_snapshot_decode(q, after.buf, after.len, "resaved", NULL, &err) == VG_OK);
        vg_pipeline_free(q);
    }
    vg_writer_release(&before);
    vg_writer_release(&after);
    vg_pipeline_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static vg_config *cfg;
    vg_error err;
    if (cfg == NULL)
        cfg = vg_config_default(&err);
    vg_assert(cfg != NULL);
    try_load(cfg, data, size);
    if (size < STATE_ID_AT + 8 + 4)
        return 0;

    uint8_t *sealed = malloc(size);
    vg_assert(sealed != NULL);
    memcpy(sealed, data, size);
    vg_pipeline *p = trained(cfg);
    uint64_t id = vg_pipeline_state_id(p);
    vg_pipeline_free(p);
    for (int i = 0; i < 8; i++)
        sealed[STATE_ID_AT + i] = (uint8_t)(id >> (8 * i));
    uint32_t crc = vg_crc32c(sealed, size - 4);
    for (int i = 0; i < 4; i++)
        sealed[size - 4 + i] = (uint8_t)(crc >> (8 * i));
    try_load(cfg, sealed, size);
    free(sealed);
    return 0;
}
