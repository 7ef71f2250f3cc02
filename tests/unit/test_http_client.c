/* The HTTP client's URL redaction: what reaches the logs of a URL that
 * carries credentials or tokens. */
#include "tests/unit/helpers.h"

#include "streams/http_client.h"

static void credentials_and_queries_are_hidden(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"http://127.0.0.1:9093/api/v2/alerts", "http://127.0.0.1:9093/api/v2/alerts"},
        {"https://admin:s3cret@am.example:9093/api/v2/alerts",
         "https://***@am.example:9093/api/v2/alerts"},
        {"http://token@am/api/v2/alerts?key=abc", "http://***@am/api/v2/alerts?***"},
        {"http://am/x?user=a@b", "http://am/x?***"},  /* an '@' in the query is no userinfo */
        {"am:9093", "am:9093"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[256];
        assert_string_equal(vg_url_redact(cases[i][0], out, sizeof(out)), cases[i][1]);
    }
    char tiny[8];  /* truncates, never overflows */
    assert_string_equal(vg_url_redact("https://u:p@host/path", tiny, sizeof(tiny)), "https:/");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(credentials_and_queries_are_hidden),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
