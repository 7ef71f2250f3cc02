/* Helpers shared by the unit tests; see helpers.h. */
#include "tests/unit/helpers.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/detector.h"
#include "engine/pipeline.h"

void vg_test_assert_near(double a, double b, double tol, const char *ea,
                         const char *eb, const char *file, int line)
{
    if (isnan(a) && isnan(b))
        return;
    if (fabs(a - b) <= tol)
        return;
    print_error("%s = %.17g, %s = %.17g, differ by more than %g\n", ea, a, eb, b, tol);
    _fail(file, line);
}

uint64_t vg_test_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double vg_test_uniform(uint64_t *s)
{
    return (double)(vg_test_rand(s) >> 11) * 0x1.0p-53;
}

double vg_test_normal(uint64_t *s)
{
    double u1 = vg_test_uniform(s), u2 = vg_test_uniform(s);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

char *vg_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf != NULL) {
        buf[n] = '\0';
        if (len != NULL)
            *len = (size_t)n;
    }
    return buf;
}

FILE *vg_test_corpus_case(const char *dir, const char *name, char **input, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s/input", dir, name);
    *input = vg_test_read_file(path, len);
    if (*input == NULL)
        print_error("cannot read %s\n", path);
    assert_non_null(*input);
    snprintf(path, sizeof(path), "%s/%s/expect", dir, name);
    FILE *expect = fopen(path, "r");
    if (expect == NULL)
        print_error("cannot read %s\n", path);
    assert_non_null(expect);
    return expect;
}

void vg_test_run_open(vg_test_run *r, const vg_detector_ops *d, const char *cfg_text,
                      uint32_t window)
{
    r->d = d;
    r->params = calloc(1, d->params_size);
    assert_non_null(r->params);
    json_t *cfg = NULL;
    if (cfg_text != NULL) {
        cfg = json_loads(cfg_text, 0, NULL);
        assert_non_null(cfg);
    }
    vg_error err = {0};
    assert_int_equal(d->configure(r->params, NULL, cfg, window, &err), 0);
    json_decref(cfg);
    r->state = malloc(d->state_size(r->params));
    assert_non_null(r->state);
    d->init(r->state, r->params, 42);
    r->w = vg_window_new(window, &err);
    assert_non_null(r->w);
}

void vg_test_run_close(vg_test_run *r)
{
    free(r->params);
    free(r->state);
    vg_window_free(r->w);
}

void vg_test_run_copy(vg_test_run *to, const vg_test_run *from, vg_writer *out)
{
    assert_int_equal(from->d->save(from->state, from->params, out), 0);
    vg_reader in;
    vg_reader_init(&in, out->buf, out->len);
    vg_error err = {0};
    assert_int_equal(to->d->load(to->state, to->params, &in, &err), 0);
    assert_int_equal(vg_reader_left(&in), 0);
    memcpy(to->w, from->w, vg_window_bytes(from->w->cap));
}

int vg_test_http(uint16_t port, const char *request, char *head, size_t hcap, char *body,
                 size_t bcap)
{
    int status = -1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct timeval tv = {.tv_sec = 10};  /* a hung server fails the test, not hangs it */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return status;
    }
    size_t n = strlen(request);
    assert_int_equal(write(fd, request, n), (ssize_t)n);
    static char raw[16384];
    size_t len = 0;
    ssize_t got;
    while (len < sizeof(raw) - 1 && (got = read(fd, raw + len, sizeof(raw) - 1 - len)) > 0)
        len += (size_t)got;
    raw[len] = '\0';
    close(fd);
    char *end = strstr(raw, "\r\n\r\n");
    assert_non_null(end);
    size_t hlen = (size_t)(end - raw), blen = len - hlen - 4;
    assert_true(hlen < hcap && blen < bcap);
    memcpy(head, raw, hlen);
    head[hlen] = '\0';
    memcpy(body, end + 4, blen);
    body[blen] = '\0';
    assert_int_equal(sscanf(raw, "HTTP/1.%*d %d", &status), 1);
    return status;
}

vg_config *vg_test_config(const char *text)
{
    vg_error err = {0};
    vg_config *cfg = text ? vg_config_load_string(text, "<test>", &err)
                          : vg_config_default(&err);
    if (cfg == NULL)
        fail_msg("config: %s %s", err.where, err.msg);
    return cfg;
}

vg_pipeline *vg_test_pipeline(const vg_config *cfg)
{
    vg_error err = {0};
    vg_pipeline *p = vg_pipeline_new(cfg, &err);
    if (p == NULL)
        fail_msg("pipeline: %s %s", err.where, err.msg);
    return p;
}

int vg_test_sink_flush(void *self, int timeout_ms)
{
    (void)self;
    (void)timeout_ms;
    return 0;
}

void vg_test_sink_free(void *self)
{
    free(self);
}
