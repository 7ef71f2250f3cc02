/* Listen addresses of vigil's HTTP servers (/metrics, the remote-write
 * receiver): "host:port" or "[v6-host]:port", numeric or "localhost". */
#ifndef VG_CORE_LISTEN_ADDR_H
#define VG_CORE_LISTEN_ADDR_H

#include <jansson.h>
#include <sys/socket.h>

#include "core/config_table.h"

/* A resolved listen address. */
typedef struct vg_listen_addr {
    struct sockaddr_storage ss;
    socklen_t               len;
} vg_listen_addr;

/* Splits "host:port" or "[host]:port" and resolves it without any lookup
 * beyond the text itself ("localhost" is 127.0.0.1). Returns NULL or why not. */
const char *vg_listen_parse(const char *text, vg_listen_addr *out);

/* Checks the "listen" key of config object obj (section: "metrics",
 * "remote_write") holding `listen`: 0, or VG_ECONFIG with err at the key's
 * position saying what is wrong. */
int vg_listen_check(const vg_conf_doc *doc, const json_t *obj, const char *section,
                    const char *listen, vg_error *err);

#endif
