/* A loopback TCP relay: listens on 127.0.0.1:port and forwards every
 * connection, byte for byte in both directions, to 127.0.0.1:target.
 *
 * It gives the embedded broker a fixed bootstrap port, which librdkafka 2.0.2
 * cannot bind itself (see broker.h). One thread accepts; each connection gets
 * its own thread copying with blocking reads and writes, so a slow side only
 * ever stalls its own connection. */
#ifndef VG_STREAMS_TCP_RELAY_H
#define VG_STREAMS_TCP_RELAY_H

#include "core/error.h"

typedef struct vg_tcp_relay vg_tcp_relay;

/* Binds 127.0.0.1:port (1..65535) and starts forwarding to target_port.
 * Returns a new relay (stop it with vg_tcp_relay_stop) or NULL with err set:
 * VG_EIO when the port cannot be bound, VG_ENOMEM. */
vg_tcp_relay *vg_tcp_relay_start(int port, int target_port, vg_error *err);

/* Closes the listener and every connection, joins the threads, frees the
 * relay. NULL does nothing. */
void vg_tcp_relay_stop(vg_tcp_relay *r);

#endif
