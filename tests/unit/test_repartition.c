/* The re-keyed record format of streams/repartition.c (the producer and
 * the topics are exercised end to end by tests/cli/test_kafka_repartition.sh). */
#include <math.h>
#include <string.h>

#include "streams/repartition.h"
#include "tests/unit/helpers.h"

static void decode_reads_what_send_writes(void **state)
{
    (void)state;
    int64_t ts = 0;
    double v = 0;
    const char *rec = "1700000000000 0.10000000000000001";
    assert_int_equal(vg__repartition_decode(rec, strlen(rec), &ts, &v), VG_OK);
    assert_true(ts == 1700000000000LL);
    assert_true(v == 0.1);  /* %.17g round-trips exactly */
    rec = "-5 -1e+300";
    assert_int_equal(vg__repartition_decode(rec, strlen(rec), &ts, &v), VG_OK);
    assert_true(ts == -5 && v == -1e300);
}

static void decode_rejects_malformed_records(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "1700000000000", "1700000000000 ", " 1.5", "x 1.5", "17 1.5 2", "17 1.5x",
        "17  1.5", "17\t1.5",
        "1 1.00000000000000000000000000000000000000000000000000000000000000000000000",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t ts;
        double v;
        assert_int_equal(vg__repartition_decode(bad[i], strlen(bad[i]), &ts, &v), VG_EPARSE);
    }
    int64_t ts;
    double v;
    assert_int_equal(vg__repartition_decode(NULL, 0, &ts, &v), VG_EPARSE);
}

static void topic_name_is_bounded(void **state)
{
    (void)state;
    char name[256], group[300];
    assert_int_equal(vg__repartition_topic_name("vigil", "metrics", name, sizeof(name)), VG_OK);
    assert_string_equal(name, "vigil-metrics-repartition");
    memset(group, 'g', 240);
    group[240] = '\0';
    /* Kafka topic names stop at 249 characters. */
    assert_int_equal(vg__repartition_topic_name(group, "metrics", name, sizeof(name)),
                     VG_ERANGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decode_reads_what_send_writes),
        cmocka_unit_test(decode_rejects_malformed_records),
        cmocka_unit_test(topic_name_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
