/* Loopback TCP relay; see tcp_relay.h.
 *
 * Stopping: a pipe whose read end is in every poll set. Writing one byte to
 * it wakes the acceptor and every connection thread at once (nobody reads
 * it, so it stays readable), and each thread closes its own sockets. */
#include "streams/tcp_relay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"

typedef struct relay_conn {
    struct vg_tcp_relay *r;
    int                  fd[2];  /* client, upstream */
    pthread_t            thread;
    struct relay_conn   *next;
} relay_conn;

struct vg_tcp_relay {
    int             listen_fd;
    int             target_port;
    int             stop_pipe[2];
    pthread_t       acceptor;
    pthread_mutex_t lock;   /* guards conns */
    relay_conn     *conns;
};

static int connect_loopback(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* Writes all of buf; 0 or -1 when the peer is gone. */
static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static void *conn_main(void *arg)
{
    relay_conn *c = arg;
    char buf[65536];
    struct pollfd pfd[3] = {
        {.fd = c->fd[0], .events = POLLIN},
        {.fd = c->fd[1], .events = POLLIN},
        {.fd = c->r->stop_pipe[0], .events = POLLIN},
    };
    for (;;) {
        if (poll(pfd, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pfd[2].revents != 0)
            break;
        int closed = 0;
        for (int i = 0; i < 2 && !closed; i++) {
            if (pfd[i].revents == 0)
                continue;
            ssize_t n = recv(c->fd[i], buf, sizeof(buf), 0);
            if (n < 0 && errno == EINTR)
                continue;
            closed = n <= 0 || write_all(c->fd[1 - i], buf, (size_t)n) != 0;
        }
        if (closed)
            break;
    }
    /* shutdown() first: it wakes a peer thread blocked on the other side. */
    shutdown(c->fd[0], SHUT_RDWR);
    shutdown(c->fd[1], SHUT_RDWR);
    return NULL;
}

/* Joins and frees connections whose thread has finished, or all of them. */
static void reap_conns(vg_tcp_relay *r, int all)
{
    pthread_mutex_lock(&r->lock);
    relay_conn **pp = &r->conns;
    while (*pp != NULL) {
        relay_conn *c = *pp;
        if (!all && pthread_tryjoin_np(c->thread, NULL) != 0) {
            pp = &c->next;
            continue;
        }
        if (all)
            pthread_join(c->thread, NULL);
        close(c->fd[0]);
        close(c->fd[1]);
        *pp = c->next;
        free(c);
    }
    pthread_mutex_unlock(&r->lock);
}

static void start_conn(vg_tcp_relay *r, int client)
{
    int upstream = connect_loopback(r->target_port);
    relay_conn *c = upstream >= 0 ? calloc(1, sizeof(*c)) : NULL;
    if (c == NULL) {
        vg_warn("relay: cannot reach 127.0.0.1:%d: %s", r->target_port, strerror(errno));
        goto out_close;
    }
    c->r = r;
    c->fd[0] = client;
    c->fd[1] = upstream;
    pthread_mutex_lock(&r->lock);
    int rc = pthread_create(&c->thread, NULL, conn_main, c);
    if (rc == 0) {
        c->next = r->conns;
        r->conns = c;
    }
    pthread_mutex_unlock(&r->lock);
    if (rc == 0)
        return;
    free(c);
out_close:
    if (upstream >= 0)
        close(upstream);
    close(client);
}

static void *accept_main(void *arg)
{
    vg_tcp_relay *r = arg;
    struct pollfd pfd[2] = {
        {.fd = r->listen_fd, .events = POLLIN},
        {.fd = r->stop_pipe[0], .events = POLLIN},
    };
    for (;;) {
        if (poll(pfd, 2, -1) < 0 && errno != EINTR)
            break;
        if (pfd[1].revents != 0)
            break;
        if (pfd[0].revents == 0)
            continue;
        int client = accept4(r->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (client < 0)
            continue;
        int one = 1;
        setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        reap_conns(r, 0);
        start_conn(r, client);
    }
    return NULL;
}

static int listen_loopback(int port, vg_error *err)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return vg_error_set(err, VG_EIO, "socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(fd, 64) != 0) {
        vg_error_set(err, VG_EIO, "cannot listen on 127.0.0.1:%d: %s", port, strerror(errno));
        close(fd);
        return VG_EIO;
    }
    return fd;
}

vg_tcp_relay *vg_tcp_relay_start(int port, int target_port, vg_error *err)
{
    if (port < 1 || port > 65535) {
        vg_error_set(err, VG_EARG, "port %d is not in 1..65535", port);
        return NULL;
    }
    vg_tcp_relay *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        vg_error_set(err, VG_ENOMEM, "relay");
        return NULL;
    }
    r->target_port = target_port;
    r->listen_fd = listen_loopback(port, err);
    if (r->listen_fd < 0)
        goto out_free_relay;
    if (pipe2(r->stop_pipe, O_CLOEXEC) != 0) {
        vg_error_set(err, VG_EIO, "pipe: %s", strerror(errno));
        goto out_close_listener;
    }
    pthread_mutex_init(&r->lock, NULL);
    if (pthread_create(&r->acceptor, NULL, accept_main, r) != 0) {
        vg_error_set(err, VG_ENOMEM, "relay thread");
        goto out_close_pipe;
    }
    return r;

out_close_pipe:
    pthread_mutex_destroy(&r->lock);
    close(r->stop_pipe[0]);
    close(r->stop_pipe[1]);
out_close_listener:
    close(r->listen_fd);
out_free_relay:
    free(r);
    return NULL;
}

void vg_tcp_relay_stop(vg_tcp_relay *r)
{
    if (r == NULL)
        return;
    char one = 1;
    while (write(r->stop_pipe[1], &one, 1) < 0 && errno == EINTR)
        ;
    pthread_join(r->acceptor, NULL);
    reap_conns(r, 1);
    pthread_mutex_destroy(&r->lock);
    close(r->listen_fd);
    close(r->stop_pipe[0]);
    close(r->stop_pipe[1]);
    free(r);
}
