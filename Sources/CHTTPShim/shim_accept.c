/*
 * Accepting: the shim's own listening socket, and the acceptor thread that hands each
 * connection to the worker daemon with the fewest open connections (see the overview in
 * shim_internal.h for why not libmicrohttpd's own thread pool).
 */
#include "shim_internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

/* The worker with the fewest open connections; ties go to the lowest index. */
static struct worker *least_loaded(hs_server *s) {
    struct worker *best = &s->workers[0];
    unsigned int fewest = atomic_load(&best->connections);
    for (unsigned int i = 1; i < s->worker_count; i++) {
        unsigned int count = atomic_load(&s->workers[i].connections);
        if (count < fewest) {
            fewest = count;
            best = &s->workers[i];
        }
    }
    return best;
}

/* Accepts until the listening socket is shut down (accept then fails with EINVAL). */
static void *accept_loop(void *argument) {
    hs_server *s = argument;
    for (;;) {
        struct sockaddr_storage peer;
        socklen_t length = sizeof peer;
        int fd = accept4(s->listen_fd, (struct sockaddr *)&peer, &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            struct worker *w = least_loaded(s);
            atomic_fetch_add(&w->connections, 1);
            /* On refusal (connection limit, no memory) libmicrohttpd closes fd itself, and
             * never reports the connection closed: take it off the count here. */
            if (MHD_add_connection(w->daemon, fd, (const struct sockaddr *)&peer, length) != MHD_YES)
                atomic_fetch_sub(&w->connections, 1);
            continue;
        }
        switch (errno) {
        case EINTR:
        case ECONNABORTED:
        case EAGAIN:
        case EPROTO:
            continue;
        case EMFILE:
        case ENFILE:
        case ENOBUFS:
        case ENOMEM:
            /* Out of descriptors or memory: pending connections wait in the backlog
             * rather than the thread spinning on the same error. */
            sleep_ms(10);
            continue;
        default:
            return NULL;
        }
    }
}

/* Starts the acceptor thread; -ENOMEM when it cannot. */
int shim_start_accepting(hs_server *s) {
    if (pthread_create(&s->acceptor, NULL, accept_loop, s) != 0) return -ENOMEM;
    s->acceptor_running = true;
    return 0;
}

/* Stops accepting: the blocked accept returns, the thread ends and the port refuses new
 * connections. libmicrohttpd never saw the listening socket, so it can be closed at once. */
void shim_stop_accepting(hs_server *s) {
    if (!s->acceptor_running) return;
    (void)shutdown(s->listen_fd, SHUT_RDWR);
    pthread_join(s->acceptor, NULL);
    s->acceptor_running = false;
    close(s->listen_fd);
    s->listen_fd = -1;
}

int shim_open_listener(const struct sockaddr_storage *address, socklen_t length, int *out) {
    int fd = socket(address->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int on = 1;
    /* As libmicrohttpd does for its own socket: a restart can bind while old connections
     * sit in TIME_WAIT; IPv6 stays IPv6-only, like MHD_USE_IPv6 without dual stack. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        (address->ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) != 0) ||
        bind(fd, (const struct sockaddr *)address, length) != 0 || listen(fd, SOMAXCONN) != 0) {
        int error = errno;
        close(fd);
        return error == EADDRINUSE || error == EACCES || error == EADDRNOTAVAIL ? -EADDRINUSE : -error;
    }
    *out = fd;
    return 0;
}

uint16_t shim_bound_port(int fd) {
    struct sockaddr_storage address;
    socklen_t length = sizeof address;
    if (getsockname(fd, (struct sockaddr *)&address, &length) != 0) return 0;
    if (address.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&address)->sin_port);
    return ntohs(((struct sockaddr_in6 *)&address)->sin6_port);
}
