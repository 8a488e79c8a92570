/*
 * Load client for Benchmarks/http/drain.sh. Unlike wrk it tells a refused connection (the
 * server stopped accepting: expected during a drain) from a request that was sent on an
 * accepted connection and never answered (a failure the drain must never cause).
 *
 * usage: drain_client PORT PATH CONNECTIONS SECONDS
 * Each of CONNECTIONS threads sends GET PATH over keep-alive, reconnecting after
 * `Connection: close` or a refused connect, until SECONDS pass. Prints one line:
 *   DRAIN ok=N refused503=N other=N refused_connect=N dropped=N
 * where dropped counts requests written in full on an established connection that got no
 * complete response (the connection was closed or reset, or 10 s passed).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int port;
static const char *path;
static double deadline;
static atomic_long ok, refused503, other, refused_connect, dropped;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int open_connection(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct timeval timeout = {.tv_sec = 10, .tv_usec = 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Reads one response; returns its status (and whether the server will close), or -1. */
static int read_response(int fd, int *closing) {
    char buffer[8192];
    size_t used = 0;
    char *end = NULL;
    while (end == NULL) {
        if (used == sizeof buffer - 1) return -1;
        ssize_t n = recv(fd, buffer + used, sizeof buffer - 1 - used, 0);
        if (n <= 0) return -1;
        used += (size_t)n;
        buffer[used] = '\0';
        end = strstr(buffer, "\r\n\r\n");
    }
    int status = 0;
    if (sscanf(buffer, "HTTP/1.%*d %d", &status) != 1) return -1;
    long length = 0;
    for (char *line = strstr(buffer, "\r\n"); line != NULL && line < end; line = strstr(line + 2, "\r\n")) {
        if (strncasecmp(line + 2, "Content-Length:", 15) == 0) length = strtol(line + 17, NULL, 10);
        if (strncasecmp(line + 2, "Connection: close", 17) == 0) *closing = 1;
    }
    long have = (long)(used - (size_t)(end + 4 - buffer));
    while (have < length) {
        ssize_t n = recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) return -1;
        have += n;
    }
    return status;
}

static void *run(void *arg) {
    (void)arg;
    char request[512];
    int length = snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
    int fd = -1;
    while (now() < deadline) {
        if (fd < 0) {
            fd = open_connection();
            if (fd < 0) {
                atomic_fetch_add(&refused_connect, 1);
                usleep(1000);
                continue;
            }
        }
        if (send(fd, request, (size_t)length, MSG_NOSIGNAL) != length) {
            /* Nothing of this request reached the server's handler: not an accepted request. */
            close(fd);
            fd = -1;
            atomic_fetch_add(&refused_connect, 1);
            continue;
        }
        int closing = 0;
        int status = read_response(fd, &closing);
        if (status < 0) {
            atomic_fetch_add(&dropped, 1);
            closing = 1;
        } else if (status >= 200 && status < 300) {
            atomic_fetch_add(&ok, 1);
        } else if (status == 503) {
            atomic_fetch_add(&refused503, 1);
        } else {
            atomic_fetch_add(&other, 1);
        }
        if (closing) {
            close(fd);
            fd = -1;
        }
    }
    if (fd >= 0) close(fd);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s PORT PATH CONNECTIONS SECONDS\n", argv[0]);
        return 2;
    }
    port = atoi(argv[1]);
    path = argv[2];
    int connections = atoi(argv[3]);
    deadline = now() + atof(argv[4]);
    if (connections < 1 || connections > 1024) return 2;
    pthread_t threads[1024];
    for (int i = 0; i < connections; i++) pthread_create(&threads[i], NULL, run, NULL);
    for (int i = 0; i < connections; i++) pthread_join(threads[i], NULL);
    printf("DRAIN ok=%ld refused503=%ld other=%ld refused_connect=%ld dropped=%ld\n", atomic_load(&ok),
           atomic_load(&refused503), atomic_load(&other), atomic_load(&refused_connect), atomic_load(&dropped));
    return 0;
}
