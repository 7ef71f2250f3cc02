/* Listen addresses of vigil's HTTP servers (/metrics, the remote-write
 * receiver): "host:port" or "[v6-host]:port", numeric or "localhost". */
#ifndef VG_CORE_LISTEN_ADDR_H
#define VG_CORE_LISTEN_ADDR_H

#include <sys/socket.h>

/* A resolved listen address. */
typedef struct vg_listen_addr {
    struct sockaddr_storage ss;
    socklen_t               len;
} vg_listen_addr;

/* Splits "host:port" or "[host]:port" and resolves it without any lookup
 * beyond the text itself ("localhost" is 127.0.0.1). Returns NULL or why not. */
const char *vg_listen_parse(const char *text, vg_listen_addr *out);

#endif
