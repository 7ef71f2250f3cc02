/* `vigil broker --control` commands; see broker_control.h. The mock
 * cluster's fault calls are thread-safe (they post to the cluster's own
 * thread), so commands apply while clients are connected. */
#include "streams/broker_control.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The Kafka API keys a test may want to fail (Kafka protocol numbers). */
static const struct {
    const char *name;
    int16_t     key;
} apis[] = {
    {"Produce", 0},       {"Fetch", 1},         {"ListOffsets", 2},  {"Metadata", 3},
    {"OffsetCommit", 8},  {"OffsetFetch", 9},   {"FindCoordinator", 10},
    {"JoinGroup", 11},    {"Heartbeat", 12},    {"LeaveGroup", 13},  {"SyncGroup", 14},
    {"ApiVersions", 18},  {"InitProducerId", 22},
};

static int api_key(const char *name)
{
    for (size_t i = 0; i < sizeof(apis) / sizeof(apis[0]); i++)
        if (strcasecmp(apis[i].name, name) == 0)
            return apis[i].key;
    return -1;
}

/* A Kafka error by its librdkafka name (e.g. REQUEST_TIMED_OUT): only broker
 * errors (codes >= 1); -1 when unknown. */
static int error_code(const char *name)
{
    const struct rd_kafka_err_desc *descs;
    size_t n;
    rd_kafka_get_err_descs(&descs, &n);
    for (size_t i = 0; i < n; i++)
        if (descs[i].code > 0 && descs[i].name != NULL && strcasecmp(descs[i].name, name) == 0)
            return descs[i].code;
    return -1;
}

static int parse_num(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v = s ? strtol(s, &end, 10) : 0;
    if (s == NULL || *s == '\0' || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int vg__broker_control(rd_kafka_mock_cluster_t *mock, const char *line, vg_error *err)
{
    char buf[256];
    if (snprintf(buf, sizeof(buf), "%s", line) >= (int)sizeof(buf))
        return vg_error_set(err, VG_EARG, "command longer than %zu bytes", sizeof(buf) - 1);
    char *save = NULL;
    const char *cmd = strtok_r(buf, " \t\r\n", &save);
    if (cmd == NULL || cmd[0] == '#')
        return VG_OK;
    const char *a1 = strtok_r(NULL, " \t\r\n", &save);
    const char *a2 = strtok_r(NULL, " \t\r\n", &save);
    const char *a3 = strtok_r(NULL, " \t\r\n", &save);
    long id, n;
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (strcmp(cmd, "down") == 0 || strcmp(cmd, "up") == 0) {
        if (parse_num(a1, 1, 16, &id) != 0 || a2 != NULL)
            return vg_error_set(err, VG_EARG, "%s: expected '%s BROKER_ID'", cmd, cmd);
        e = cmd[0] == 'd' ? rd_kafka_mock_broker_set_down(mock, (int32_t)id)
                          : rd_kafka_mock_broker_set_up(mock, (int32_t)id);
    } else if (strcmp(cmd, "rtt") == 0) {
        if (parse_num(a1, 1, 16, &id) != 0 || parse_num(a2, 0, 600000, &n) != 0 || a3 != NULL)
            return vg_error_set(err, VG_EARG, "rtt: expected 'rtt BROKER_ID MS'");
        e = rd_kafka_mock_broker_set_rtt(mock, (int32_t)id, (int)n);
    } else if (strcmp(cmd, "errors") == 0) {
        int key = a1 ? api_key(a1) : -1;
        int code = a3 ? error_code(a3) : -1;
        if (key < 0 || parse_num(a2, 1, 100000, &n) != 0 || code < 0 ||
            strtok_r(NULL, " \t\r\n", &save) != NULL)
            return vg_error_set(err, VG_EARG,
                                "errors: expected 'errors API COUNT ERROR' with a known API "
                                "and Kafka error name");
        rd_kafka_resp_err_t *codes = malloc((size_t)n * sizeof(*codes));
        if (codes == NULL)
            return vg_error_set(err, VG_ENOMEM, "errors: %ld codes", n);
        for (long i = 0; i < n; i++)
            codes[i] = (rd_kafka_resp_err_t)code;
        rd_kafka_mock_push_request_errors_array(mock, (int16_t)key, (size_t)n, codes);
        free(codes);
    } else if (strcmp(cmd, "clear") == 0) {
        int key = a1 ? api_key(a1) : -1;
        if (key < 0 || a2 != NULL)
            return vg_error_set(err, VG_EARG, "clear: expected 'clear API' with a known API");
        rd_kafka_mock_clear_request_errors(mock, (int16_t)key);
    } else {
        return vg_error_set(err, VG_EARG, "unknown command '%s' (down, up, rtt, errors, clear)",
                            cmd);
    }
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
        return vg_error_set(err, VG_EARG, "%s: %s", cmd, rd_kafka_err2str(e));
    return VG_OK;
}
