/* Helpers shared by the cmocka unit tests (cmocka 1.1.5 has no double
 * comparison). */
#ifndef VG_TESTS_UNIT_HELPERS_H
#define VG_TESTS_UNIT_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

/* Fails the test unless |a - b| <= tol (NaN equals NaN). */
#define assert_double_near(a, b, tol) \
    vg_test_assert_near((a), (b), (tol), #a, #b, __FILE__, __LINE__)
void vg_test_assert_near(double a, double b, double tol, const char *ea,
                         const char *eb, const char *file, int line);

/* Deterministic pseudo-random numbers for fixtures (splitmix64). */
uint64_t vg_test_rand(uint64_t *s);
double vg_test_uniform(uint64_t *s);   /* [0,1) */
double vg_test_normal(uint64_t *s);    /* N(0,1), Box-Muller */

/* Reads a whole file into a new NUL-terminated buffer (caller frees); NULL on error. */
char *vg_test_read_file(const char *path, size_t *len);

/* One bad-input corpus case: reads DIR/NAME/input into *input (new, caller
 * frees; *len its size) and returns DIR/NAME/expect opened for reading
 * (caller fcloses). Fails the test when either is missing. */
FILE *vg_test_corpus_case(const char *dir, const char *name, char **input, size_t *len);

/* A config from JSON text (NULL: the defaults) and a pipeline over it;
 * either fails the test with the error rather than return NULL. */
struct vg_config;
struct vg_pipeline;
/* Sink hooks a test's capturing sink shares: flush has nothing to wait
 * for; close frees the state open allocated. */
int vg_test_sink_flush(void *self, int timeout_ms);
void vg_test_sink_free(void *self);

struct vg_config *vg_test_config(const char *text);
struct vg_pipeline *vg_test_pipeline(const struct vg_config *cfg);

/* A detector driven as the pipeline drives it: configured from cfg_text
 * (JSON, NULL: defaults), one state block, a window of `window` values. */
struct vg_detector_ops;
struct vg_window;
typedef struct vg_test_run {
    const struct vg_detector_ops *d;
    void                         *params, *state;
    struct vg_window             *w;
} vg_test_run;
void vg_test_run_open(vg_test_run *r, const struct vg_detector_ops *d, const char *cfg_text,
                      uint32_t window);
void vg_test_run_close(vg_test_run *r);
/* Saves from's state into out (init()'ed by the caller, who releases it)
 * and loads it into to, asserting every byte is read; copies the window. */
struct vg_writer;
void vg_test_run_copy(vg_test_run *to, const vg_test_run *from, struct vg_writer *out);

/* One HTTP/1.0 exchange with 127.0.0.1:port: sends `request` (the whole
 * request text), reads until the server closes. Returns the status (-1:
 * could not connect); head[hcap] and body[bcap] get the headers and body. */
int vg_test_http(uint16_t port, const char *request, char *head, size_t hcap, char *body,
                 size_t bcap);

#endif
