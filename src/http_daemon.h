/* Starting a libmicrohttpd daemon the way vigil's HTTP servers (/metrics,
 * the remote-write receiver) do: one internal polling thread on a numeric
 * listen address, connection limits, MHD's log routed to vigil's, the port
 * actually bound (port 0: the system's choice) read back. */
#ifndef VG_SRC_HTTP_DAEMON_H
#define VG_SRC_HTTP_DAEMON_H

#ifdef VIGIL_HAVE_MHD
#include <microhttpd.h>
#include <stdint.h>

#include "core/error.h"

typedef struct vg_http_daemon_opts {
    const char                   *listen;     /* "host:port" (core/listen_addr.h) */
    const char                   *what;       /* names the server in errors and logs */
    MHD_AccessHandlerCallback     handler;
    void                         *cls;
    MHD_RequestCompletedCallback  completed;  /* NULL-able */
    unsigned                      conn_max, conn_per_ip, idle_s;  /* per_ip 0: no limit */
} vg_http_daemon_opts;

/* Returns the running daemon and sets *port, or NULL with err set
 * (VG_ECONFIG for a bad address, VG_EIO when it cannot be bound). */
struct MHD_Daemon *vg_http_daemon_start(const vg_http_daemon_opts *o, uint16_t *port,
                                        vg_error *err);
#endif

#endif
