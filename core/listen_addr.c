/* Listen addresses; see listen_addr.h. */
#include "core/listen_addr.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *vg_listen_parse(const char *text, vg_listen_addr *out)
{
    char host[64];
    const char *colon = strrchr(text, ':');
    if (colon == NULL)
        return "must be host:port";
    size_t hlen = (size_t)(colon - text);
    const char *h = text;
    if (hlen >= 2 && text[0] == '[' && text[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    if (hlen == 0 || hlen >= sizeof(host))
        return "needs a host before the port (0.0.0.0 for every interface)";
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    const char *port = colon + 1;
    if (*port == '\0' || strlen(port) > 5 || strspn(port, "0123456789") != strlen(port) ||
        atoi(port) > 65535)
        return "port must be a number from 0 to 65535";
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof(host), "127.0.0.1");

    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    if (getaddrinfo(host, port, &hints, &res) != 0 || res == NULL)
        return "host must be a numeric IPv4 or IPv6 address or localhost";
    memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
    out->len = res->ai_addrlen;
    freeaddrinfo(res);
    return NULL;
}

int vg_listen_check(const vg_conf_doc *doc, const json_t *obj, const char *section,
                    const char *listen, vg_error *err)
{
    vg_listen_addr a;
    const char *why = vg_listen_parse(listen, &a);
    if (why == NULL)
        return VG_OK;
    char where[64];
    vg_conf_where(doc, obj, "listen", 0, where, sizeof(where));
    return vg_error_set_at(err, VG_ECONFIG, where, "%s.listen: \"%s\" %s", section, listen,
                           why);
}
