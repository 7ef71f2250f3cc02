/* A minimal HTTP client over libcurl; see http_client.h.
 *
 * "Expect:" is sent empty: curl otherwise asks for 100-continue on bodies
 * over 1 KiB and waits a second for an answer many small servers never give. */
#include "streams/http_client.h"

#include <stdlib.h>
#include <string.h>

#ifdef VIGIL_HAVE_CURL
#include <curl/curl.h>
#include <pthread.h>

struct vg_http {
    CURL              *curl;
    struct curl_slist *headers;
    const atomic_int  *abort;
    char              *reply;   /* the current post's reply buffer */
    size_t             reply_len, reply_cap;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_reply(char *data, size_t size, size_t nmemb, void *ctx)
{
    vg_http *h = ctx;
    size_t n = size * nmemb;
    size_t room = h->reply_cap > h->reply_len + 1 ? h->reply_cap - h->reply_len - 1 : 0;
    size_t keep = n < room ? n : room;
    if (keep > 0) {
        memcpy(h->reply + h->reply_len, data, keep);
        h->reply_len += keep;
        h->reply[h->reply_len] = '\0';
    }
    return n;
}

static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    const vg_http *h = ctx;
    return h->abort != NULL && atomic_load(h->abort) ? 1 : 0;
}

vg_http *vg_http_new(const char *url, int timeout_ms, const atomic_int *abort, vg_error *err)
{
    static const char *const json[] = {"Content-Type: application/json", NULL};
    return vg_http_new_with(url, timeout_ms, abort, json, err);
}

vg_http *vg_http_new_with(const char *url, int timeout_ms, const atomic_int *abort,
                          const char *const *headers, vg_error *err)
{
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK) {
        vg_error_set(err, VG_EIO, "libcurl: %s", curl_easy_strerror(global_rc));
        return NULL;
    }
    vg_http *h = calloc(1, sizeof(*h));
    if (h == NULL) {
        vg_error_set(err, VG_ENOMEM, "http client");
        return NULL;
    }
    h->abort = abort;
    h->curl = curl_easy_init();
    struct curl_slist *more = curl_slist_append(NULL, "Expect:");
    h->headers = more;
    for (size_t i = 0; headers[i] != NULL && more != NULL; i++)
        more = curl_slist_append(h->headers, headers[i]);
    if (h->curl == NULL || more == NULL) {
        vg_error_set(err, VG_ENOMEM, "http client");
        goto out_free_curl;
    }
    CURL *c = h->curl;
    int bad = curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->headers) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_reply) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_WRITEDATA, h) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_XFERINFODATA, h) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L) != CURLE_OK;
    if (bad) {
        char shown[1100];
        vg_error_set(err, VG_ECONFIG, "libcurl refused the options for %s",
                     vg_url_redact(url, shown, sizeof(shown)));
        goto out_free_curl;
    }
    return h;

out_free_curl:
    vg_http_free(h);
    return NULL;
}

void vg_http_free(vg_http *h)
{
    if (h == NULL)
        return;
    curl_slist_free_all(h->headers);
    curl_easy_cleanup(h->curl);
    free(h);
}

int vg_http_post_json(vg_http *h, const char *body, size_t len, char *reply, size_t cap,
                      vg_error *err)
{
    return vg_http_post(h, body, len, reply, cap, err);
}

int vg_http_post(vg_http *h, const char *body, size_t len, char *reply, size_t cap,
                 vg_error *err)
{
    h->reply = reply;
    h->reply_len = 0;
    h->reply_cap = cap;
    if (cap > 0)
        reply[0] = '\0';
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    CURLcode rc = curl_easy_perform(h->curl);
    h->reply = NULL;
    if (rc != CURLE_OK)
        return vg_error_set(err, VG_EIO, "%s", curl_easy_strerror(rc));
    long status = 0;
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
    return status > 0 ? (int)status : vg_error_set(err, VG_EIO, "no HTTP status");
}

#else /* !VIGIL_HAVE_CURL */

vg_http *vg_http_new_with(const char *url, int timeout_ms, const atomic_int *abort,
                          const char *const *headers, vg_error *err)
{
    (void)url, (void)timeout_ms, (void)abort, (void)headers;
    vg_error_set(err, VG_ECONFIG, "vigil was built without libcurl: no HTTP outputs");
    return NULL;
}

vg_http *vg_http_new(const char *url, int timeout_ms, const atomic_int *abort, vg_error *err)
{
    return vg_http_new_with(url, timeout_ms, abort, NULL, err);
}

void vg_http_free(vg_http *h)
{
    (void)h;
}

int vg_http_post(vg_http *h, const char *body, size_t len, char *reply, size_t cap,
                 vg_error *err)
{
    (void)h, (void)body, (void)len, (void)reply, (void)cap;
    return vg_error_set(err, VG_EIO, "vigil was built without libcurl");
}

int vg_http_post_json(vg_http *h, const char *body, size_t len, char *reply, size_t cap,
                      vg_error *err)
{
    return vg_http_post(h, body, len, reply, cap, err);
}

#endif

char *vg_url_redact(const char *url, char *out, size_t cap)
{
    const char *scheme = strstr(url, "://");
    const char *host = scheme != NULL ? scheme + 3 : url;
    size_t authority = strcspn(host, "/?#");
    const char *at = memchr(host, '@', authority);
    const char *query = strchr(host, '?');
    int path_len = (int)(query != NULL ? (size_t)(query - host) : strlen(host));
    if (at != NULL)
        snprintf(out, cap, "%.*s***@%.*s%s", (int)(host - url), url,
                 path_len - (int)(at + 1 - host), at + 1, query != NULL ? "?***" : "");
    else
        snprintf(out, cap, "%.*s%.*s%s", (int)(host - url), url, path_len, host,
                 query != NULL ? "?***" : "");
    return out;
}
