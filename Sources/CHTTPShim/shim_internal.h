/*
 * CHTTPShim over libmicrohttpd 0.9.75. See include/CHTTPShim.h for the contract.
 *
 * Life of a request:
 *   URI log callback   allocates the hs_request (raw target copied: MHD edits its own copy).
 *   first handler call headers complete, no body read. A request that announces a body, or
 *                      whose outcome is already decided (draining, Content-Length over the
 *                      limit), goes to the header handler, which answers at once (route, token,
 *                      limit: the body is never stored) or lets it go on; only then is
 *                      body memory reserved, and lazily (see reserve_body). A refusal of a
 *                      small body waits for it to be dropped (ST_DEFERRED, keeps the connection).
 *   body calls         append to the body, or discard once over the limit (chunked); for a
 *                      request the header handler set streaming (hs_request_stream_body), pass
 *                      each chunk to the body handler instead, within that request's limit.
 *   final call         hands the request to Swift; queues the answer if Swift gave it
 *                      synchronously, otherwise suspends the connection.
 *   resumed call       queues the answer given later from another thread.
 *   NOTIFY_COMPLETED   drops libmicrohttpd's reference.
 *
 * Ownership: a request holds one reference for libmicrohttpd and, from the hand-over to
 * hs_respond, one for the Swift side. It is freed in shim_request_release, by whichever drops
 * the last one; so a responder never touches freed memory even if libmicrohttpd completes the
 * request the instant it is resumed, and a late answer after a forced 503 is still safe.
 *
 * Accepting: the shim owns the listening socket and one acceptor thread, which hands each
 * connection (MHD_add_connection) to the one of `threads` single-threaded daemons that has the
 * fewest open connections. With libmicrohttpd's own thread pool, whichever worker woke first
 * accepted a whole burst (wrk's 16 connections were seen split 16/0 and 13/3 over two
 * threads, one idle while the other's tail latency doubled), and handing connections to the
 * pool spreads them by descriptor number, which holes in the descriptor table skew (3/5 seen).
 *
 * Request deadline: libmicrohttpd's connection timeout is an idle timeout, which a client
 * sending a byte every few seconds never trips, and it calls no handler before the headers are
 * complete. So the shim keeps a record of every open connection (NOTIFY_CONNECTION) with the
 * time by which its current request must have arrived whole: set at accept and when a request
 * completes, cleared when the final handler call (or an early answer) shows the request
 * arrived. A reaper thread shuts down connections past it; see reap_expired for why that can
 * never hit another connection's descriptor.
 *
 * Locks: the request lock guards state and answer; the server lock guards the list of
 * suspended requests; the track lock guards the list of connection records. The only nesting
 * is request lock -> server lock (in the final call); hs_server_stop takes them one at a time,
 * never nested; the track lock is never held with another.
 *
 * Files: shim_internal.h (this overview, the shared structs, what the files call of each
 * other), shim.c (the request callbacks: URI, access handler, completion), shim_request.c
 * (responses, hs_respond and the request accessors), shim_stream.c (streamed bodies),
 * shim_deadline.c (connection records and the reaper), shim_accept.c (the listening socket
 * and the acceptor thread), shim_server.c (start, stop and the drain).
 */
#ifndef CHTTPSHIM_INTERNAL_H
#define CHTTPSHIM_INTERNAL_H

/* Included first by every shim file: accept4 and the other GNU extensions need it before any
 * system header. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "CHTTPShim.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

struct hs_response {
    struct MHD_Response *mhd;
    unsigned int status;
    hs_stream *stream; /* the body of a streamed response, NULL otherwise */
};

/* A streamed body. One reference for the writer (hs_stream_release), one for the MHD response
 * (its free callback), one for each drain pass that holds it. The connection is suspended only
 * by the reader, under the lock, when nothing is buffered; the writer resumes it outside the
 * lock, after clearing `suspended` under it, so a suspension always precedes its resume. A
 * suspended connection cannot complete, so `connection` is valid whenever `suspended` is set. */
struct hs_stream {
    pthread_mutex_t lock;
    atomic_int refs;
    uint8_t *buffer;
    size_t length, capacity, limit;
    bool ended;          /* no more writes; the body ends once the buffer is sent */
    bool gone;           /* libmicrohttpd released the response: the client will read nothing more */
    bool suspended;      /* suspended by the reader, not yet resumed */
    bool counted;        /* counted in server->suspended until the reader runs again */
    hs_server *server;   /* set when answered; the server's list of streams holds it */
    struct MHD_Connection *connection;
    hs_stream *prev, *next; /* guarded by the server lock */
};

enum request_state {
    ST_COLLECTING, /* receiving headers and body; Swift has not seen it */
    ST_HANDLING,   /* handed to Swift, no answer yet, connection not suspended */
    ST_ANSWERED,   /* answered while the handler still runs on the MHD thread */
    ST_SUSPENDED,  /* connection suspended, waiting for the answer */
    ST_RESUMING,   /* answer stored and resume called; MHD has not re-entered yet */
    ST_QUEUED,     /* answer queued to libmicrohttpd */
    ST_DEFERRED,   /* refused from its headers; the answer waits for the small body to be dropped */
};

/* An open connection and the deadline of the request it is receiving. */
struct track {
    int fd;
    atomic_uint_fast64_t deadline_ns; /* 0: no request is being received (handled, or answering) */
    struct track *prev, *next;        /* guarded by the server's track lock */
};

struct hs_request {
    pthread_mutex_t lock;
    atomic_int refs;
    hs_server *server;
    struct MHD_Connection *connection;
    const char *method;
    enum request_state state;
    hs_outcome outcome;
    bool first_call_done;
    bool forced;         /* answered by the shim; Swift's answer will be discarded */
    bool answer_shared;  /* answer is one of the server's fallbacks: queue it, never free it */
    bool in_suspended_list;
    hs_request *prev, *next;
    uint64_t start_ns;
    hs_response *answer;
    struct track *track; /* the connection's record, NULL without a request deadline */
    void *user;          /* hs_request_set_user; freed with the server's user_release */
    uint8_t *body;
    size_t body_length;
    size_t body_capacity;
    size_t declared;     /* Content-Length, 0 when absent (chunked) */
    uint64_t announced;  /* Content-Length as sent, even over the limit; 0 when absent */
    bool deciding;       /* inside the header handler: the body is still unread */
    bool streaming;      /* the body goes to the body handler (hs_request_stream_body) */
    bool stream_stopped; /* the body handler asked for no more: the rest is dropped */
    uint64_t body_limit; /* the streamed body's limit */
    uint64_t received;   /* body bytes received, stored or streamed */
    size_t path_length;
    const char *query;  /* points into target */
    char target[];      /* raw request target, NUL-terminated; '?' replaced by NUL */
};

/* One polling thread: a libmicrohttpd daemon without a listening socket of its own. */
struct worker {
    struct MHD_Daemon *daemon;
    hs_server *server;
    atomic_uint connections; /* handed over and not yet closed */
};

struct hs_server {
    struct worker *workers;
    unsigned int worker_count;
    hs_handler handler;
    hs_header_handler header_handler;
    hs_user_release user_release;
    hs_body_handler body_handler;
    void *context;
    uint64_t max_body_bytes;
    uint16_t port;
    int listen_fd;                  /* ours, not libmicrohttpd's: see accept_loop */
    pthread_t acceptor;
    bool acceptor_running;
    atomic_bool draining;
    atomic_uint_fast64_t active;    /* URI seen, not yet completed */
    atomic_uint_fast64_t suspended; /* suspended, not yet re-entered and queued */
    atomic_uint_fast64_t resuming;  /* hs_respond calls inside MHD_resume_connection */
    bool stopped;
    bool closing;                   /* guarded by lock: no new suspensions */
    pthread_mutex_t lock;
    hs_request *suspended_head;     /* guarded by lock */
    hs_response *forced_unavailable;
    hs_response *internal_error;
    uint64_t request_timeout_ns;    /* 0: no deadline, no records, no reaper */
    pthread_mutex_t track_lock;
    pthread_cond_t reaper_wake;     /* with track_lock: shim_stop_reaper wakes the reaper early */
    struct track *track_head;       /* guarded by track_lock */
    bool reaper_stop;               /* guarded by track_lock */
    bool reaper_running;
    pthread_t reaper;
    atomic_uint_fast64_t timed_out;
    hs_stream *streams_head;        /* guarded by lock */
    atomic_uint_fast64_t open_streams;
};

/* ---------------------------------------------------------------- shared helpers */

static inline void sleep_ms(unsigned int ms) {
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static inline void arm_deadline(hs_server *s, struct track *t) {
    if (t != NULL) atomic_store_explicit(&t->deadline_ns, hs_monotonic_ns() + s->request_timeout_ns, memory_order_relaxed);
}

/* The request has arrived whole (or will never be read): from here it takes as long as its
 * handler and the client's reading take, which the deadline is not about. */
static inline void disarm_deadline(struct track *t) {
    if (t != NULL) atomic_store_explicit(&t->deadline_ns, 0, memory_order_relaxed);
}

/* ---------------------------------------------------------------- across files */

/* What the shim's files call of each other: hidden, so that only the hs_ API of CHTTPShim.h
 * is exported. */
#pragma GCC visibility push(hidden)

/* shim.c: the libmicrohttpd request callbacks the daemons are started with. */
void *shim_on_uri(void *cls, const char *uri, struct MHD_Connection *connection);
void shim_on_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                       enum MHD_RequestTerminationCode toe);
enum MHD_Result shim_on_access(void *cls, struct MHD_Connection *connection, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **con_cls);

/* shim_request.c */
void shim_request_release(hs_request *r);

/* shim_stream.c */
void shim_stream_attach(hs_stream *st, hs_server *s, struct MHD_Connection *c);
void shim_finish_streams(hs_server *s);

/* shim_deadline.c */
void shim_track_started(hs_server *s, struct MHD_Connection *connection, void **socket_context);
void shim_track_closed(hs_server *s, void **socket_context);
int shim_start_reaper(hs_server *s);
void shim_stop_reaper(hs_server *s);

/* shim_accept.c */
int shim_open_listener(const struct sockaddr_storage *address, socklen_t length, int *out);
uint16_t shim_bound_port(int fd);
int shim_start_accepting(hs_server *s);
void shim_stop_accepting(hs_server *s);

#pragma GCC visibility pop

#endif
