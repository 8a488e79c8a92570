/*
 * Request deadlines: a record of every open connection with the time by which its request
 * must have arrived whole, and the reaper thread that shuts down the connections past it
 * (see the overview in shim_internal.h).
 */
#include "shim_internal.h"

#include <stdlib.h>
#include <sys/param.h>

void shim_track_started(hs_server *s, struct MHD_Connection *connection, void **socket_context) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct track *t = info != NULL ? malloc(sizeof *t) : NULL;
    /* Out of memory: the connection lives without a deadline (the idle timeout still holds). */
    if (t == NULL) return;
    t->fd = info->connect_fd;
    atomic_init(&t->deadline_ns, 0);
    arm_deadline(s, t);
    pthread_mutex_lock(&s->track_lock);
    t->prev = NULL;
    t->next = s->track_head;
    if (t->next != NULL) t->next->prev = t;
    s->track_head = t;
    pthread_mutex_unlock(&s->track_lock);
    *socket_context = t;
}

void shim_track_closed(hs_server *s, void **socket_context) {
    struct track *t = *socket_context;
    if (t == NULL) return;
    *socket_context = NULL;
    pthread_mutex_lock(&s->track_lock);
    if (t->prev != NULL) t->prev->next = t->next;
    else s->track_head = t->next;
    if (t->next != NULL) t->next->prev = t->prev;
    pthread_mutex_unlock(&s->track_lock);
    free(t);
}

/*
 * Shuts down every connection whose request is past its deadline.
 *
 * Why this can never hit another connection's descriptor (fd reuse): the descriptor is shut
 * down only while its record is on the list, and only under the track lock. libmicrohttpd
 * 0.9.75 reports MHD_CONNECTION_NOTIFY_CLOSED, whose handler (shim_track_closed) unlinks the record
 * under the same lock, *before* it closes the descriptor, on every path that closes one
 * (MHD_cleanup_connections, and the failure path of new_connection_process_ after STARTED); a
 * connection it refuses earlier never gets a record. So while the reaper holds the lock and
 * sees the record, the descriptor is still open and still this connection's: its number cannot
 * have been handed to a new socket or file yet. The acceptor never touches records.
 *
 * shutdown(), not close(): the descriptor stays libmicrohttpd's. The peer gets a FIN, and the
 * worker's epoll reports HUP; libmicrohttpd then ends the request and closes the connection on
 * its own thread, through the usual NOTIFY_COMPLETED and NOTIFY_CLOSED.
 */
static void reap_expired(hs_server *s) {
    uint64_t now = hs_monotonic_ns();
    for (struct track *t = s->track_head; t != NULL; t = t->next) {
        uint64_t deadline = atomic_load_explicit(&t->deadline_ns, memory_order_relaxed);
        if (deadline == 0 || deadline > now) continue;
        /* Cleared so a connection libmicrohttpd has not closed yet is shut down only once. A
         * request dispatched meanwhile loses its connection: it missed its deadline anyway. */
        atomic_store_explicit(&t->deadline_ns, 0, memory_order_relaxed);
        /* Counted before the client can see the close, so whoever sees it also sees the count. */
        atomic_fetch_add(&s->timed_out, 1);
        (void)shutdown(t->fd, SHUT_RDWR);
    }
}

static void *reaper_loop(void *argument) {
    hs_server *s = argument;
    /* An eighth of the timeout, within 50 ms...1 s: a connection is closed at most that late,
     * and the scan (a few thousand loads at most) runs rarely enough to cost nothing. */
    uint64_t period = MIN(MAX(s->request_timeout_ns / 8, 50000000u), 1000000000u);
    pthread_mutex_lock(&s->track_lock);
    while (!s->reaper_stop) {
        reap_expired(s);
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        uint64_t ns = (uint64_t)until.tv_nsec + period;
        until.tv_sec += (time_t)(ns / 1000000000u);
        until.tv_nsec = (long)(ns % 1000000000u);
        (void)pthread_cond_timedwait(&s->reaper_wake, &s->track_lock, &until);
    }
    pthread_mutex_unlock(&s->track_lock);
    return NULL;
}

/* Starts the reaper thread (only with a request deadline); -ENOMEM when it cannot. */
int shim_start_reaper(hs_server *s) {
    if (pthread_create(&s->reaper, NULL, reaper_loop, s) != 0) return -ENOMEM;
    s->reaper_running = true;
    return 0;
}

void shim_stop_reaper(hs_server *s) {
    if (!s->reaper_running) return;
    pthread_mutex_lock(&s->track_lock);
    s->reaper_stop = true;
    pthread_cond_signal(&s->reaper_wake);
    pthread_mutex_unlock(&s->track_lock);
    pthread_join(s->reaper, NULL);
    s->reaper_running = false;
}
