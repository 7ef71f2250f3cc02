/* See http_daemon.h. */
#include "src/http_daemon.h"

#ifdef VIGIL_HAVE_MHD
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/listen_addr.h"
#include "core/log.h"

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[256];
    vsnprintf(line, sizeof(line), fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    vg_warn("http (%s): %s", (const char *)cls, line);
}

struct MHD_Daemon *vg_http_daemon_start(const vg_http_daemon_opts *o, uint16_t *port,
                                        vg_error *err)
{
    vg_listen_addr a;
    const char *why = vg_listen_parse(o->listen, &a);
    if (why != NULL) {
        vg_error_set_at(err, VG_ECONFIG, o->listen, "%s: \"%s\" %s", o->what, o->listen, why);
        return NULL;
    }
    unsigned flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (a.ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    errno = 0;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, o->handler, o->cls,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, (void *)o->what,  /* first */
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a.ss,
        MHD_OPTION_CONNECTION_LIMIT, o->conn_max,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->conn_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, o->idle_s,
        MHD_OPTION_NOTIFY_COMPLETED, o->completed, NULL,
        MHD_OPTION_END);
    if (d == NULL) {
        vg_error_set_at(err, VG_EIO, o->listen, "cannot serve %s here: %s", o->what,
                        errno != 0 ? strerror(errno) : "libmicrohttpd refused");
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    if (info == NULL || info->port == 0) {
        vg_error_set_at(err, VG_EIO, o->listen, "%s: cannot tell which port was bound", o->what);
        MHD_stop_daemon(d);
        return NULL;
    }
    *port = info->port;
    return d;
}
#endif
