/* The /metrics server: its config, and real requests over 127.0.0.1 from a
 * plain socket client (status line, content type, body), readiness
 * changes, wrong paths and methods, a port already taken, and a clean stop. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "tests/unit/helpers.h"

#include "core/config_table.h"
#include "src/http_server.h"
#include "core/metrics.h"

typedef struct reply {
    int  status;      /* -1: could not connect */
    char head[1024];  /* status line and headers */
    char body[8192];
} reply;

/* One HTTP/1.0 request; the server closes the connection after replying. */
static reply request(uint16_t port, const char *method, const char *path)
{
    reply r;
    char req[256];
    snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", method, path);
    r.status = vg_test_http(port, req, r.head, sizeof(r.head), r.body, sizeof(r.body));
    return r;
}

static vg_http_server *start(const char *listen, const vg_metrics *reg)
{
    vg_http_params prm = {0};
    vg_error err = {0};
    snprintf(prm.listen, sizeof(prm.listen), "%s", listen);
    vg_http_server *srv = vg_http_start(&prm, reg, &err);
    if (srv == NULL)
        fail_msg("start on %s: %s: %s", listen, err.where, err.msg);
    return srv;
}

static int configure(const char *json, vg_http_params *prm, vg_error *err)
{
    vg_conf_doc *doc = vg_conf_doc_load_string(json, "vigil.json", err);
    assert_non_null(doc);
    int rc = vg_http_configure(doc, json_object_get(vg_conf_doc_root(doc), "metrics"), prm, err);
    vg_conf_doc_free(doc);
    return rc;
}

static void config_defaults_and_checks(void **state)
{
    (void)state;
    vg_http_params prm = {0};
    vg_error err = {0};
    assert_int_equal(vg_http_configure(NULL, NULL, &prm, &err), VG_OK);
    assert_string_equal(prm.listen, "127.0.0.1:9464");
    assert_int_equal(configure("{\"metrics\": {\"listen\": \"127.0.0.1:0\"}}", &prm, &err), VG_OK);
    assert_string_equal(prm.listen, "127.0.0.1:0");
    assert_int_equal(configure("{\"metrics\": {\"listen\": \"[::1]:9464\"}}", &prm, &err), VG_OK);
    assert_int_equal(configure("{\"metrics\": {\"listen\": \"localhost:1\"}}", &prm, &err), VG_OK);

    static const char *const bad[] = {
        "9464", ":9464", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:9x",
        "example.com:9464", "300.1.1.1:9464",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char json[160];
        snprintf(json, sizeof(json), "{\"metrics\": {\n  \"listen\": \"%s\"}}", bad[i]);
        err = (vg_error){0};
        assert_int_equal(configure(json, &prm, &err), VG_ECONFIG);
        assert_string_equal(err.where, "vigil.json:2:3");
        assert_non_null(strstr(err.msg, "metrics.listen"));
    }
    assert_int_equal(configure("{\"metrics\": {\"port\": 9464}}", &prm, &err), VG_ECONFIG);
    assert_non_null(strstr(err.msg, "port"));
}

#ifdef VIGIL_HAVE_MHD

static void serves_metrics_health_and_readiness(void **state)
{
    (void)state;
    vg_metrics *reg = vg_metrics_new(2, NULL);
    vg_metric_desc d = {VG_METRIC_COUNTER, "t_requests", "Requests.", {NULL}, 0, NULL, 0};
    vg_metric_child *c = vg_metrics_plain(vg_metrics_register(reg, &d, NULL));
    vg_metrics_inc(c, 3);

    vg_http_server *srv = start("127.0.0.1:0", reg);
    uint16_t port = vg_http_port(srv);
    assert_true(port != 0);

    reply r = request(port, "GET", "/metrics");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.head, "Content-Type: text/plain; version=0.0.4"));
    assert_string_equal(r.body, "# HELP t_requests_total Requests.\n"
                                "# TYPE t_requests_total counter\n"
                                "t_requests_total 3\n");
    vg_metrics_inc(c, 2);
    r = request(port, "GET", "/metrics");
    assert_non_null(strstr(r.body, "t_requests_total 5\n"));

    r = request(port, "HEAD", "/metrics");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "");

    r = request(port, "GET", "/healthz");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "ok\n");

    r = request(port, "GET", "/readyz");
    assert_int_equal(r.status, 503);
    assert_string_equal(r.body, "not ready: starting\n");
    vg_http_set_ready(srv, "partitions not assigned");
    r = request(port, "GET", "/readyz");
    assert_int_equal(r.status, 503);
    assert_string_equal(r.body, "not ready: partitions not assigned\n");
    vg_http_set_ready(srv, NULL);
    r = request(port, "GET", "/readyz");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "ready\n");

    r = request(port, "GET", "/nope");
    assert_int_equal(r.status, 404);
    r = request(port, "POST", "/metrics");
    assert_int_equal(r.status, 405);
    assert_non_null(strstr(r.head, "Allow: GET, HEAD"));

    vg_http_stop(srv);
    r = request(port, "GET", "/healthz");  /* nobody listens any more */
    assert_int_equal(r.status, -1);
    vg_metrics_free(reg);
}

static void port_taken_is_an_error(void **state)
{
    (void)state;
    vg_metrics *reg = vg_metrics_new(1, NULL);
    vg_http_server *srv = start("127.0.0.1:0", reg);
    vg_http_params prm = {0};
    snprintf(prm.listen, sizeof(prm.listen), "127.0.0.1:%u", (unsigned)vg_http_port(srv));
    vg_error err = {0};
    assert_null(vg_http_start(&prm, reg, &err));
    assert_int_equal(err.code, VG_EIO);
    assert_string_equal(err.where, prm.listen);
    snprintf(prm.listen, sizeof(prm.listen), "nonsense");
    assert_null(vg_http_start(&prm, reg, &err));
    assert_int_equal(err.code, VG_ECONFIG);
    vg_http_stop(srv);
    vg_http_stop(NULL);
    vg_metrics_free(reg);
}

#define SERVER_TESTS cmocka_unit_test(serves_metrics_health_and_readiness), \
                     cmocka_unit_test(port_taken_is_an_error)

#else /* built without libmicrohttpd: starting says so */

static void start_says_why_not(void **state)
{
    (void)state;
    vg_http_params prm = {"127.0.0.1:0"};
    vg_error err = {0};
    assert_null(vg_http_start(&prm, NULL, &err));
    assert_int_equal(err.code, VG_ESTATE);
    assert_non_null(strstr(err.msg, "libmicrohttpd"));
}

#define SERVER_TESTS cmocka_unit_test(start_says_why_not)

#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(config_defaults_and_checks),
        SERVER_TESTS,
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
