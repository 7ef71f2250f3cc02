/* Fuzz target: the config loader (vigil.json) over arbitrary bytes, plus
 * the checks `vigil run` adds (state, metrics). A refused config must say
 * what is wrong (a VG_ECONFIG/VG_EPARSE error with a message); an accepted
 * one must pass or fail the run checks the same way, never crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/config.h"
#include "src/run.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);  /* the loader takes a C string */
    vg_assert(text != NULL);
    memcpy(text, data, size);
    text[size] = '\0';
    vg_error err;
    memset(&err, 0, sizeof(err));
    vg_config *cfg = vg_config_load_string(text, "input", &err);
    free(text);
    if (cfg == NULL) {
        vg_assert(err.code == VG_ECONFIG || err.code == VG_EPARSE || err.code == VG_ENOMEM);
        vg_assert(err.msg[0] != '\0');
        return 0;
    }
    memset(&err, 0, sizeof(err));
    int rc = vg_run_check_config(cfg, &err);
    vg_assert(rc == VG_OK || (rc == err.code && err.msg[0] != '\0'));
    vg_config_free(cfg);
    return 0;
}
