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
 * hs_respond, one for the Swift side. It is freed in request_release, by whichever drops the
 * last one; so a responder never touches freed memory even if libmicrohttpd completes the
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
 */
#define _GNU_SOURCE
#include "CHTTPShim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/param.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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
    pthread_cond_t reaper_wake;     /* with track_lock: stop_reaper wakes the reaper early */
    struct track *track_head;       /* guarded by track_lock */
    bool reaper_stop;               /* guarded by track_lock */
    bool reaper_running;
    pthread_t reaper;
    atomic_uint_fast64_t timed_out;
    hs_stream *streams_head;        /* guarded by lock */
    atomic_uint_fast64_t open_streams;
};

uint64_t hs_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(unsigned int ms) {
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---------------------------------------------------------------- responses */

int hs_response_create(unsigned int status, const void *body, size_t length, hs_response **out) {
    if (out == NULL || status < 100 || status > 599 || (body == NULL && length > 0)) return -EINVAL;
    hs_response *r = malloc(sizeof *r);
    if (r == NULL) return -ENOMEM;
    /* MUST_COPY: the caller's buffer may be freed as soon as this returns. */
    r->mhd = MHD_create_response_from_buffer(length, (void *)(length > 0 ? body : ""), MHD_RESPMEM_MUST_COPY);
    if (r->mhd == NULL) {
        free(r);
        return -ENOMEM;
    }
    r->status = status;
    r->stream = NULL;
    *out = r;
    return 0;
}

/* ---------------------------------------------------------------- streams */

int hs_stream_create(size_t capacity, hs_stream **out) {
    if (out == NULL || capacity == 0) return -EINVAL;
    hs_stream *st = calloc(1, sizeof *st);
    if (st == NULL) return -ENOMEM;
    pthread_mutex_init(&st->lock, NULL);
    atomic_init(&st->refs, 1);
    st->limit = capacity;
    *out = st;
    return 0;
}

static void stream_release(hs_stream *st) {
    if (atomic_fetch_sub(&st->refs, 1) != 1) return;
    pthread_mutex_destroy(&st->lock);
    free(st->buffer);
    free(st);
}

/* Resumes the stream's connection if the reader suspended it. Called without the lock. */
static void stream_wake(hs_stream *st) {
    pthread_mutex_lock(&st->lock);
    bool resume = st->suspended;
    st->suspended = false;
    struct MHD_Connection *c = st->connection;
    hs_server *s = st->server;
    if (resume) atomic_fetch_add(&s->resuming, 1);
    pthread_mutex_unlock(&st->lock);
    if (resume) {
        MHD_resume_connection(c);
        atomic_fetch_sub(&s->resuming, 1);
    }
}

/* The reader runs again (or never will): the suspension it counted is over. Lock held. */
static void stream_uncount(hs_stream *st) {
    if (!st->counted) return;
    st->counted = false;
    atomic_fetch_sub(&st->server->suspended, 1);
}

static ssize_t stream_reader(void *cls, uint64_t position, char *out, size_t max) {
    (void)position;
    hs_stream *st = cls;
    pthread_mutex_lock(&st->lock);
    stream_uncount(st);
    if (st->length > 0) {
        size_t n = st->length < max ? st->length : max;
        memcpy(out, st->buffer, n);
        memmove(st->buffer, st->buffer + n, st->length - n);
        st->length -= n;
        pthread_mutex_unlock(&st->lock);
        return (ssize_t)n;
    }
    if (st->ended || st->server == NULL) {
        pthread_mutex_unlock(&st->lock);
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    /* Nothing to send: park the connection until a write (returning 0 unsuspended would make
     * the polling thread spin). Counted as suspended so the daemon is never stopped under it. */
    st->suspended = true;
    st->counted = true;
    atomic_fetch_add(&st->server->suspended, 1);
    MHD_suspend_connection(st->connection);
    pthread_mutex_unlock(&st->lock);
    return 0;
}

/* libmicrohttpd is done with the response: the connection completed, failed or closed. */
static void stream_gone(void *cls) {
    hs_stream *st = cls;
    pthread_mutex_lock(&st->lock);
    st->gone = true;
    st->ended = true;
    if (st->server != NULL) stream_uncount(st);
    hs_server *s = st->server;
    pthread_mutex_unlock(&st->lock);
    if (s != NULL) {
        pthread_mutex_lock(&s->lock);
        if (st->prev != NULL) st->prev->next = st->next; else if (s->streams_head == st) s->streams_head = st->next;
        if (st->next != NULL) st->next->prev = st->prev;
        st->prev = st->next = NULL;
        pthread_mutex_unlock(&s->lock);
        atomic_fetch_sub(&s->open_streams, 1);
    }
    stream_release(st);
}

int hs_response_create_stream(unsigned int status, hs_stream *stream, hs_response **out) {
    if (out == NULL || stream == NULL || status < 100 || status > 599) return -EINVAL;
    hs_response *r = malloc(sizeof *r);
    if (r == NULL) return -ENOMEM;
    atomic_fetch_add(&stream->refs, 1);
    r->mhd = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_reader, stream, stream_gone);
    if (r->mhd == NULL) {
        stream_release(stream);
        free(r);
        return -ENOMEM;
    }
    r->status = status;
    r->stream = stream;
    *out = r;
    return 0;
}

/* The answer carrying `st` goes to the request's connection: from now on the reader may run.
 * A stream answered while the server drains ends at once. */
static void stream_attach(hs_stream *st, hs_server *s, struct MHD_Connection *c) {
    pthread_mutex_lock(&st->lock);
    st->server = s;
    st->connection = c;
    pthread_mutex_unlock(&st->lock);
    pthread_mutex_lock(&s->lock);
    st->prev = NULL;
    st->next = s->streams_head;
    if (s->streams_head != NULL) s->streams_head->prev = st;
    s->streams_head = st;
    pthread_mutex_unlock(&s->lock);
    atomic_fetch_add(&s->open_streams, 1);
    if (atomic_load(&s->draining)) hs_stream_finish(st);
}

int hs_stream_write(hs_stream *stream, const void *data, size_t length, int force) {
    hs_stream *st = stream;
    if (st == NULL || (data == NULL && length > 0)) return -EINVAL;
    pthread_mutex_lock(&st->lock);
    if (st->ended) {
        pthread_mutex_unlock(&st->lock);
        return -EPIPE;
    }
    if (st->length + length > st->limit && !force) {
        pthread_mutex_unlock(&st->lock);
        return -ENOBUFS;
    }
    if (st->length + length > st->capacity) {
        size_t capacity = st->capacity > 0 ? st->capacity : 1024;
        while (capacity < st->length + length) capacity *= 2;
        uint8_t *grown = realloc(st->buffer, capacity);
        if (grown == NULL) {
            pthread_mutex_unlock(&st->lock);
            return -ENOMEM;
        }
        st->buffer = grown;
        st->capacity = capacity;
    }
    memcpy(st->buffer + st->length, data, length);
    st->length += length;
    pthread_mutex_unlock(&st->lock);
    stream_wake(st);
    return 0;
}

void hs_stream_finish(hs_stream *stream) {
    if (stream == NULL) return;
    pthread_mutex_lock(&stream->lock);
    stream->ended = true;
    pthread_mutex_unlock(&stream->lock);
    stream_wake(stream);
}

int hs_stream_is_open(hs_stream *stream) {
    pthread_mutex_lock(&stream->lock);
    int open = stream->ended ? 0 : 1;
    pthread_mutex_unlock(&stream->lock);
    return open;
}

void hs_stream_release(hs_stream *stream) {
    if (stream == NULL) return;
    hs_stream_finish(stream);
    stream_release(stream);
}

uint64_t hs_server_open_streams(const hs_server *server) { return atomic_load(&server->open_streams); }

/* Ends every stream being sent (the drain): each flushes what it holds, then its body ends. */
static void finish_streams(hs_server *s) {
    pthread_mutex_lock(&s->lock);
    size_t count = 0;
    for (hs_stream *st = s->streams_head; st != NULL; st = st->next) count++;
    hs_stream **list = count > 0 ? calloc(count, sizeof *list) : NULL;
    size_t taken = 0;
    if (list != NULL) {
        for (hs_stream *st = s->streams_head; st != NULL && taken < count; st = st->next) {
            atomic_fetch_add(&st->refs, 1);
            list[taken++] = st;
        }
    }
    pthread_mutex_unlock(&s->lock);
    for (size_t i = 0; i < taken; i++) {
        hs_stream_finish(list[i]);
        stream_release(list[i]);
    }
    free(list);
}

int hs_response_add_header(hs_response *response, const char *name, const char *value) {
    if (response == NULL || name == NULL || value == NULL) return -EINVAL;
    return MHD_add_response_header(response->mhd, name, value) == MHD_YES ? 0 : -EINVAL;
}

void hs_response_destroy(hs_response *response) {
    if (response == NULL) return;
    MHD_destroy_response(response->mhd);
    free(response);
}

/* The one place an answer reaches libmicrohttpd. Shared responses (the server's fallbacks)
 * are queued as they are; owned ones get Connection: close while draining, so keep-alive
 * clients reconnect (and are refused) instead of reusing a connection that is about to close. */
static enum MHD_Result queue_answer(hs_server *s, struct MHD_Connection *c, hs_response *r, bool owned) {
    if (owned && atomic_load(&s->draining)) {
        (void)MHD_add_response_header(r->mhd, MHD_HTTP_HEADER_CONNECTION, "close");
    }
    if (r->stream != NULL) stream_attach(r->stream, s, c);
    enum MHD_Result result = MHD_queue_response(c, r->status, r->mhd);
    if (owned) hs_response_destroy(r);
    return result;
}

/* ---------------------------------------------------------------- requests */

static void request_release(hs_request *r) {
    if (atomic_fetch_sub(&r->refs, 1) != 1) return;
    if (r->answer != NULL && !r->answer_shared) hs_response_destroy(r->answer);
    if (r->user != NULL && r->server->user_release != NULL) r->server->user_release(r->user);
    pthread_mutex_destroy(&r->lock);
    free(r->body);
    free(r);
}

/* Removes a request from the suspended list, once: after MHD re-entered the handler for it
 * or completed it. in_suspended_list is only written by the connection's own worker thread. */
static void unlink_suspended(hs_server *s, hs_request *r) {
    if (!r->in_suspended_list) return;
    pthread_mutex_lock(&s->lock);
    if (r->prev != NULL) r->prev->next = r->next;
    else s->suspended_head = r->next;
    if (r->next != NULL) r->next->prev = r->prev;
    r->prev = r->next = NULL;
    r->in_suspended_list = false;
    pthread_mutex_unlock(&s->lock);
    atomic_fetch_sub(&s->suspended, 1);
}

/* ---------------------------------------------------------------- request deadlines */

static void arm_deadline(hs_server *s, struct track *t) {
    if (t != NULL) atomic_store_explicit(&t->deadline_ns, hs_monotonic_ns() + s->request_timeout_ns, memory_order_relaxed);
}

/* The request has arrived whole (or will never be read): from here it takes as long as its
 * handler and the client's reading take, which the deadline is not about. */
static void disarm_deadline(struct track *t) {
    if (t != NULL) atomic_store_explicit(&t->deadline_ns, 0, memory_order_relaxed);
}

static void track_started(hs_server *s, struct MHD_Connection *connection, void **socket_context) {
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

static void track_closed(hs_server *s, void **socket_context) {
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
 * 0.9.75 reports MHD_CONNECTION_NOTIFY_CLOSED, whose handler (track_closed) unlinks the record
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

static void stop_reaper(hs_server *s) {
    if (!s->reaper_running) return;
    pthread_mutex_lock(&s->track_lock);
    s->reaper_stop = true;
    pthread_cond_signal(&s->reaper_wake);
    pthread_mutex_unlock(&s->track_lock);
    pthread_join(s->reaper, NULL);
    s->reaper_running = false;
}

/* ---------------------------------------------------------------- request callbacks */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *connection) {
    hs_server *s = cls;
    size_t n = strlen(uri);
    hs_request *r = calloc(1, sizeof *r + n + 1);
    if (r == NULL) return NULL; /* the access handler drops the connection */
    if (pthread_mutex_init(&r->lock, NULL) != 0) {
        free(r);
        return NULL;
    }
    atomic_init(&r->refs, 1);
    r->server = s;
    r->start_ns = hs_monotonic_ns();
    if (s->request_timeout_ns > 0) {
        const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        r->track = info != NULL ? info->socket_context : NULL;
    }
    memcpy(r->target, uri, n + 1);
    char *q = memchr(r->target, '?', n);
    if (q != NULL) {
        *q = '\0';
        r->path_length = (size_t)(q - r->target);
        r->query = q + 1;
    } else {
        r->path_length = n;
        r->query = r->target + n;
    }
    atomic_fetch_add(&s->active, 1);
    return r;
}

static void on_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    hs_server *s = cls;
    (void)connection;
    (void)toe;
    hs_request *r = *con_cls;
    if (r == NULL) return;
    *con_cls = NULL;
    /* The connection waits for its next request now: its clock starts here (NOTIFY_CLOSED,
     * which frees the record, always comes after the last request's completion). */
    arm_deadline(s, r->track);
    /* A resumed request whose client went away is completed without the handler being
     * re-entered: it stops counting as suspended here instead. */
    unlink_suspended(s, r);
    atomic_fetch_sub(&s->active, 1);
    request_release(r);
}

/* Passes a chunk of a streamed body to the body handler, within the request's own limit. */
static void stream_chunk(hs_server *s, hs_request *r, const char *data, size_t size) {
    if (size > r->body_limit || r->received > r->body_limit - size) {
        r->outcome = HS_OUTCOME_BODY_TOO_LARGE;
        return;
    }
    r->received += size;
    if (r->stream_stopped) return;
    if (s->body_handler(r, r->user, (const uint8_t *)data, size, s->context) != 0) r->stream_stopped = true;
}

/* Appends a body chunk; past the limit (or out of memory) the body is dropped and the rest discarded. */
static void collect_body(hs_server *s, hs_request *r, const char *data, size_t size) {
    /* No lock for state: once the request is ST_DEFERRED only this thread touches it. */
    if (r->outcome != HS_OUTCOME_OK || r->state == ST_DEFERRED) return;
    if (r->streaming) {
        stream_chunk(s, r, data, size);
        return;
    }
    r->received += size;
    if (size > s->max_body_bytes || r->body_length > s->max_body_bytes - size) {
        r->outcome = HS_OUTCOME_BODY_TOO_LARGE;
        free(r->body);
        r->body = NULL;
        r->body_length = r->body_capacity = 0;
        return;
    }
    size_t needed = r->body_length + size;
    if (needed > r->body_capacity) {
        /* Doubling: a body that trickles in costs memory only as fast as it arrives. */
        size_t capacity = r->body_capacity > 0 ? r->body_capacity : 4096;
        while (capacity < needed) capacity = capacity > SIZE_MAX / 2 ? needed : capacity * 2;
        size_t ceiling = r->declared > 0 ? r->declared : (size_t)s->max_body_bytes;
        if (capacity > ceiling) capacity = ceiling;
        uint8_t *grown = realloc(r->body, capacity);
        if (grown == NULL) {
            r->outcome = HS_OUTCOME_NO_MEMORY;
            free(r->body);
            r->body = NULL;
            r->body_length = r->body_capacity = 0;
            return;
        }
        r->body = grown;
        r->body_capacity = capacity;
    }
    memcpy(r->body + r->body_length, data, size);
    r->body_length = needed;
}

/* Calls `callback` with the request handed to the Swift side, and returns with the request
 * lock held: the caller queues an answer given meanwhile (take_answer) or decides what next. */
static void hand_over(hs_server *s, hs_request *r, hs_handler callback) {
    r->state = ST_HANDLING;
    atomic_fetch_add(&r->refs, 1); /* the Swift side's reference, dropped by hs_respond */
    callback(r, s->context);
    pthread_mutex_lock(&r->lock);
}

/* With the request lock held: queues the answer the callback gave before it returned, and
 * unlocks; false (still locked) when there is none. */
static bool take_answer(hs_server *s, hs_request *r, struct MHD_Connection *c, enum MHD_Result *result) {
    if (r->state != ST_ANSWERED) return false;
    hs_response *answer = r->answer;
    bool owned = !r->answer_shared;
    r->answer = NULL;
    r->state = ST_QUEUED;
    pthread_mutex_unlock(&r->lock);
    *result = queue_answer(s, c, answer, owned);
    return true;
}

/* Hands the complete request to Swift and queues the answer, or suspends until it comes. */
static enum MHD_Result dispatch(hs_server *s, hs_request *r, struct MHD_Connection *c) {
    disarm_deadline(r->track);
    hand_over(s, r, s->handler);
    enum MHD_Result result;
    if (take_answer(s, r, c, &result)) return result;
    /* No answer yet. Outcomes other than OK must be answered synchronously (the connection
     * is not to wait for them); a missing answer there is a caller bug: send 500. */
    hs_response *fallback = NULL;
    if (r->outcome != HS_OUTCOME_OK) {
        fallback = s->internal_error;
    } else {
        pthread_mutex_lock(&s->lock);
        if (s->closing) {
            fallback = s->forced_unavailable;
        } else {
            r->in_suspended_list = true;
            r->prev = NULL;
            r->next = s->suspended_head;
            if (r->next != NULL) r->next->prev = r;
            s->suspended_head = r;
            atomic_fetch_add(&s->suspended, 1);
        }
        pthread_mutex_unlock(&s->lock);
    }
    if (fallback != NULL) {
        r->forced = true;
        r->state = ST_QUEUED;
        pthread_mutex_unlock(&r->lock);
        return queue_answer(s, c, fallback, false);
    }
    /* Suspend under the request lock: a responder on another thread must not try to resume
     * before the connection is actually suspended. */
    MHD_suspend_connection(c);
    r->state = ST_SUSPENDED;
    pthread_mutex_unlock(&r->lock);
    return MHD_YES;
}

/* Largest declared body read (and dropped, never stored) after the header handler refused the
 * request, so that the answer keeps the connection open: libmicrohttpd 0.9.75 closes every
 * connection answered before its body was read (MHD_queue_response sets discard_request). A
 * client refused on a kept-alive connection (a 401, then the same request with a token) keeps
 * it; a larger upload is answered at once and loses it, rather than being read through. */
#define REFUSAL_DRAIN_LIMIT ((size_t)64 << 10)

/* Headers complete, body unread: asks the header handler whether to read it. True when the
 * request was answered (queued in *result): the body is never read, and libmicrohttpd closes
 * the connection after the answer. False when the body is to be read: to keep, or (a refusal
 * of a small body, ST_DEFERRED) to drop before the stored answer is queued. */
static bool answered_early(hs_server *s, hs_request *r, struct MHD_Connection *c, enum MHD_Result *result) {
    if (s->header_handler == NULL) {
        if (r->outcome == HS_OUTCOME_OK) return false;
        *result = dispatch(s, r, c);
        return true;
    }
    r->deciding = true;
    hand_over(s, r, s->header_handler);
    r->deciding = false;
    if (r->state == ST_ANSWERED && r->outcome == HS_OUTCOME_OK && r->declared > 0 && r->declared <= REFUSAL_DRAIN_LIMIT) {
        r->state = ST_DEFERRED;
        pthread_mutex_unlock(&r->lock);
        return false;
    }
    if (take_answer(s, r, c, result)) {
        disarm_deadline(r->track);
        return true;
    }
    /* Not answered: the header handler let the request go on and, by contract, kept nothing.
     * Its reference comes back here; libmicrohttpd still holds one, so this never frees. */
    bool proceed = r->outcome == HS_OUTCOME_OK;
    if (proceed) {
        r->state = ST_COLLECTING;
    } else {
        /* An early outcome left unanswered is a caller bug: the body cannot be waited for. */
        r->forced = true;
        r->state = ST_QUEUED;
    }
    pthread_mutex_unlock(&r->lock);
    atomic_fetch_sub(&r->refs, 1);
    if (proceed) return false;
    disarm_deadline(r->track);
    *result = queue_answer(s, c, s->internal_error, false);
    return true;
}

/* Bodies up to this size skip the header handler: see on_access. */
#define SMALL_BODY_DECIDED_LATE ((size_t)16 << 10)

/* Largest first reservation for a body with a Content-Length: a client must send more than
 * this before the buffer grows toward what it declared (doubling, in collect_body). */
#define BODY_FIRST_RESERVATION ((size_t)1 << 20)

/* Reserves the body buffer once the header handler let the request go on. */
static void reserve_body(hs_request *r) {
    /* Chunked: collect_body grows from 4 KiB. Refused: the body is dropped as it arrives.
     * Streamed: never stored. */
    if (r->declared == 0 || r->state == ST_DEFERRED || r->streaming) return;
    size_t first = r->declared < BODY_FIRST_RESERVATION ? r->declared : BODY_FIRST_RESERVATION;
    r->body = malloc(first);
    if (r->body == NULL) {
        /* Answered 500 (HS_OUTCOME_NO_MEMORY) once the body has been discarded. */
        r->outcome = HS_OUTCOME_NO_MEMORY;
        return;
    }
    r->body_capacity = first;
}

/* MHD re-entered the handler after a resume: queue the stored answer. Only now does the
 * request stop counting as suspended, so hs_server_stop never stops with one outstanding. */
static enum MHD_Result queue_resumed(hs_server *s, hs_request *r, struct MHD_Connection *c) {
    pthread_mutex_lock(&r->lock);
    hs_response *answer = r->answer;
    bool owned = !r->answer_shared;
    r->answer = NULL;
    r->state = ST_QUEUED;
    pthread_mutex_unlock(&r->lock);

    enum MHD_Result result = queue_answer(s, c, answer != NULL ? answer : s->internal_error,
                                          owned && answer != NULL);
    unlink_suspended(s, r);
    return result;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *connection, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls) {
    hs_server *s = cls;
    (void)url;
    (void)version;
    hs_request *r = *con_cls;
    if (r == NULL) return MHD_NO; /* out of memory in on_uri: drop the connection */

    enum MHD_Result result;
    if (!r->first_call_done) {
        r->first_call_done = true;
        r->connection = connection;
        r->method = method;
        if (atomic_load(&s->draining)) {
            r->outcome = HS_OUTCOME_DRAINING;
            return answered_early(s, r, connection, &result) ? result : MHD_YES;
        }
        bool has_body;
        const char *length = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
                                                         MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (length != NULL) {
            /* MHD has already rejected malformed lengths; a declared body over the limit is
             * answered now, before a byte of it is read. */
            char *end = NULL;
            errno = 0;
            unsigned long long declared = strtoull(length, &end, 10);
            r->announced = errno != 0 ? UINT64_MAX : (uint64_t)declared;
            if (errno != 0 || declared > s->max_body_bytes) r->outcome = HS_OUTCOME_BODY_TOO_LARGE;
            else r->declared = (size_t)declared;
            has_body = r->outcome != HS_OUTCOME_OK || declared > 0;
        } else {
            has_body = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
                                                   MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
        }
        if (!has_body) return MHD_YES;
        if (r->outcome == HS_OUTCOME_OK && r->declared > 0 && r->declared <= SMALL_BODY_DECIDED_LATE) {
            /* A small body (a one-row prediction is a few hundred bytes) is decided once, at the
             * final call, like a request without one: an early refusal would wait for it anyway
             * (ST_DEFERRED), libmicrohttpd buffers this much per connection on its own, and a
             * second hand-over to Swift per request costs the hot path more than it saves. */
            reserve_body(r);
            return MHD_YES;
        }
        if (answered_early(s, r, connection, &result)) return result;
        reserve_body(r);
        return MHD_YES;
    }

    if (*upload_data_size > 0) {
        collect_body(s, r, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }

    switch (r->state) {
    case ST_COLLECTING:
        return dispatch(s, r, connection);
    case ST_RESUMING:
        return queue_resumed(s, r, connection);
    case ST_DEFERRED:
        /* The refused request's body has been read and dropped: its answer can go now. */
        disarm_deadline(r->track);
        pthread_mutex_lock(&r->lock);
        r->state = ST_ANSWERED;
        (void)take_answer(s, r, connection, &result);
        return result;
    default:
        /* Already queued: libmicrohttpd does not call again, but never queue twice. */
        return MHD_YES;
    }
}

int hs_respond(hs_request *request, hs_response *response) {
    hs_request *r = request;
    hs_server *s = r->server;
    pthread_mutex_lock(&r->lock);
    int result = 0;
    bool resume = false;
    bool shared = response == NULL;
    if (r->forced) {
        result = -ECANCELED;
    } else if (r->state == ST_HANDLING) {
        r->answer = shared ? s->internal_error : response;
        r->answer_shared = shared;
        response = NULL;
        r->state = ST_ANSWERED;
    } else if (r->state == ST_SUSPENDED) {
        r->answer = shared ? s->internal_error : response;
        r->answer_shared = shared;
        response = NULL;
        r->state = ST_RESUMING;
        resume = true;
        /* Counted while the request still counts as suspended, so the daemon is alive now
         * and stop waits until MHD_resume_connection below has returned. */
        atomic_fetch_add(&s->resuming, 1);
    } else {
        result = -EALREADY;
    }
    struct MHD_Connection *c = r->connection;
    pthread_mutex_unlock(&r->lock);
    /* The connection cannot complete before it is resumed, so c is still valid here. */
    if (resume) {
        MHD_resume_connection(c);
        atomic_fetch_sub(&s->resuming, 1);
    }
    hs_response_destroy(response);
    request_release(r);
    return result;
}

const char *hs_request_method(const hs_request *request) { return request->method; }
const char *hs_request_path(const hs_request *request) { return request->target; }
size_t hs_request_path_length(const hs_request *request) { return request->path_length; }
const char *hs_request_query(const hs_request *request) { return request->query; }
hs_outcome hs_request_outcome(const hs_request *request) { return request->outcome; }
const uint8_t *hs_request_body(const hs_request *request) { return request->body_length > 0 ? request->body : NULL; }
size_t hs_request_body_length(const hs_request *request) { return request->body_length; }
uint64_t hs_request_start_ns(const hs_request *request) { return request->start_ns; }
void hs_request_set_user(hs_request *request, void *user) { request->user = user; }

int hs_request_stream_body(hs_request *request, uint64_t max_bytes) {
    hs_request *r = request;
    /* Only while the header handler runs: the body has not been read yet. */
    if (r->server->body_handler == NULL || !r->deciding) return -EINVAL;
    if (r->announced > max_bytes || r->announced > SIZE_MAX) {
        r->outcome = HS_OUTCOME_BODY_TOO_LARGE;
        return -EFBIG;
    }
    if (r->outcome == HS_OUTCOME_BODY_TOO_LARGE) {
        /* Refused by the server-wide limit only: this request has its own. */
        r->outcome = HS_OUTCOME_OK;
        r->declared = (size_t)r->announced;
    }
    r->streaming = true;
    r->body_limit = max_bytes;
    return 0;
}

uint64_t hs_request_received_bytes(const hs_request *request) { return request->received; }

void *hs_request_take_user(hs_request *request) {
    void *user = request->user;
    request->user = NULL;
    return user;
}

const char *hs_request_header(const hs_request *request, const char *name) {
    if (request->connection == NULL || name == NULL) return NULL;
    return MHD_lookup_connection_value(request->connection, MHD_HEADER_KIND, name);
}

/* ---------------------------------------------------------------- server */

static void free_server(hs_server *s) {
    free(s->workers);
    hs_response_destroy(s->forced_unavailable);
    hs_response_destroy(s->internal_error);
    pthread_cond_destroy(&s->reaper_wake);
    pthread_mutex_destroy(&s->track_lock);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static int make_fallback(unsigned int status, const char *content_type, const char *body, hs_response **out) {
    const char *text = body != NULL ? body : "";
    int rc = hs_response_create(status, text, strlen(text), out);
    if (rc != 0) return rc;
    if (content_type != NULL && (rc = hs_response_add_header(*out, MHD_HTTP_HEADER_CONTENT_TYPE, content_type)) != 0)
        return rc;
    if (status == 503) return hs_response_add_header(*out, MHD_HTTP_HEADER_CONNECTION, "close");
    return 0;
}

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

static void on_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
    struct worker *w = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        if (w->server->request_timeout_ns > 0) track_started(w->server, connection, socket_context);
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        track_closed(w->server, socket_context);
        atomic_fetch_sub(&w->connections, 1);
    }
}

static void stop_workers(hs_server *s) {
    for (unsigned int i = 0; i < s->worker_count; i++) {
        if (s->workers[i].daemon != NULL) MHD_stop_daemon(s->workers[i].daemon);
        s->workers[i].daemon = NULL;
    }
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

/* Stops accepting: the blocked accept returns, the thread ends and the port refuses new
 * connections. libmicrohttpd never saw the listening socket, so it can be closed at once. */
static void stop_accepting(hs_server *s) {
    if (!s->acceptor_running) return;
    (void)shutdown(s->listen_fd, SHUT_RDWR);
    pthread_join(s->acceptor, NULL);
    s->acceptor_running = false;
    close(s->listen_fd);
    s->listen_fd = -1;
}

static int open_listener(const struct sockaddr_storage *address, socklen_t length, int *out) {
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

static uint16_t bound_port(int fd) {
    struct sockaddr_storage address;
    socklen_t length = sizeof address;
    if (getsockname(fd, (struct sockaddr *)&address, &length) != 0) return 0;
    if (address.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&address)->sin_port);
    return ntohs(((struct sockaddr_in6 *)&address)->sin6_port);
}

int hs_server_start(const hs_config *config, hs_handler handler, void *context, hs_server **out) {
    if (config == NULL || handler == NULL || out == NULL || config->threads < 1 || config->threads > 1024)
        return -EINVAL;

    struct sockaddr_storage address;
    memset(&address, 0, sizeof address);
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_NO_LISTEN_SOCKET;
    socklen_t address_length;
    const char *host = config->host != NULL ? config->host : "127.0.0.1";
    struct sockaddr_in *v4 = (struct sockaddr_in *)&address;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&address;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(config->port);
        address_length = sizeof *v4;
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(config->port);
        address_length = sizeof *v6;
        flags |= MHD_USE_IPv6;
    } else {
        return -EINVAL;
    }

    hs_server *s = calloc(1, sizeof *s);
    if (s == NULL) return -ENOMEM;
    pthread_condattr_t monotonic;
    bool cond_ready = pthread_condattr_init(&monotonic) == 0;
    if (cond_ready) {
        cond_ready = pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC) == 0 &&
                     pthread_cond_init(&s->reaper_wake, &monotonic) == 0;
        pthread_condattr_destroy(&monotonic);
    }
    if (!cond_ready) {
        free(s);
        return -ENOMEM;
    }
    if (pthread_mutex_init(&s->track_lock, NULL) != 0) {
        pthread_cond_destroy(&s->reaper_wake);
        free(s);
        return -ENOMEM;
    }
    if (pthread_mutex_init(&s->lock, NULL) != 0) {
        pthread_mutex_destroy(&s->track_lock);
        pthread_cond_destroy(&s->reaper_wake);
        free(s);
        return -ENOMEM;
    }
    s->handler = handler;
    s->header_handler = config->header_handler;
    s->user_release = config->user_release;
    s->body_handler = config->body_handler;
    s->request_timeout_ns = (uint64_t)config->request_timeout_seconds * 1000000000u;
    atomic_init(&s->timed_out, 0);
    s->context = context;
    s->max_body_bytes = config->max_body_bytes;
    s->listen_fd = -1;
    atomic_init(&s->draining, false);
    atomic_init(&s->active, 0);
    atomic_init(&s->suspended, 0);
    atomic_init(&s->resuming, 0);
    int rc = make_fallback(503, config->error_content_type, config->forced_unavailable_body, &s->forced_unavailable);
    if (rc == 0) rc = make_fallback(500, config->error_content_type, config->internal_error_body, &s->internal_error);
    if (rc != 0) {
        free_server(s);
        return rc;
    }

    bool tls = config->tls_cert_pem != NULL || config->tls_key_pem != NULL;
    if (tls) {
        if (config->tls_cert_pem == NULL || config->tls_key_pem == NULL) {
            free_server(s);
            return -EINVAL;
        }
        if (!hs_tls_supported()) {
            free_server(s);
            return -ENOTSUP;
        }
        flags |= MHD_USE_TLS;
    }

    s->workers = calloc(config->threads, sizeof *s->workers);
    if (s->workers == NULL) {
        free_server(s);
        return -ENOMEM;
    }
    s->worker_count = config->threads;

    struct MHD_OptionItem options[12];
    int n = 0;
    options[n++] = (struct MHD_OptionItem){MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, s};
    options[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, s};
    int notify_slot = n; /* its closure is the worker, set per daemon below */
    options[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, NULL};
    if (config->connection_timeout_seconds > 0)
        options[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)config->connection_timeout_seconds, NULL};
    if (config->connection_limit > 0) {
        /* The limit is the server's: each worker takes its share, rounded up. */
        unsigned int share = (config->connection_limit + config->threads - 1) / config->threads;
        options[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, (intptr_t)share, NULL};
    }
    if (tls) {
        /* GnuTLS parses both PEMs inside MHD_start_daemon (gnutls_certificate_set_x509_key_mem
         * copies them), so the caller's strings need to live only for this call. */
        options[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)config->tls_key_pem};
        options[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)config->tls_cert_pem};
    }
    options[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};

    /* MHD_start_daemon is variadic, which is why this shim exists; MHD_OPTION_ARRAY keeps
     * the option list data instead of code. No MHD_USE_ERROR_LOG: the shim never prints. */
    rc = open_listener(&address, address_length, &s->listen_fd);
    if (rc != 0) {
        free_server(s);
        return rc;
    }
    s->port = bound_port(s->listen_fd);
    for (unsigned int i = 0; i < s->worker_count; i++) {
        atomic_init(&s->workers[i].connections, 0);
        s->workers[i].server = s;
        options[notify_slot].ptr_value = &s->workers[i];
        s->workers[i].daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_access, s,
                                                MHD_OPTION_ARRAY, options, MHD_OPTION_END);
        if (s->workers[i].daemon == NULL) {
            stop_workers(s);
            close(s->listen_fd);
            free_server(s);
            return -EADDRINUSE;
        }
    }
    if (s->request_timeout_ns > 0) {
        if (pthread_create(&s->reaper, NULL, reaper_loop, s) != 0) {
            stop_workers(s);
            close(s->listen_fd);
            free_server(s);
            return -ENOMEM;
        }
        s->reaper_running = true;
    }
    if (pthread_create(&s->acceptor, NULL, accept_loop, s) != 0) {
        stop_reaper(s);
        stop_workers(s);
        close(s->listen_fd);
        free_server(s);
        return -ENOMEM;
    }
    s->acceptor_running = true;
    *out = s;
    return 0;
}

uint16_t hs_server_port(const hs_server *server) { return server->port; }
int hs_tls_supported(void) { return MHD_is_feature_supported(MHD_FEATURE_TLS) == MHD_YES ? 1 : 0; }
int hs_server_is_draining(const hs_server *server) { return atomic_load(&server->draining) ? 1 : 0; }
uint64_t hs_server_active_requests(const hs_server *server) { return atomic_load(&server->active); }
uint64_t hs_server_suspended_requests(const hs_server *server) { return atomic_load(&server->suspended); }
uint64_t hs_server_timed_out_connections(const hs_server *server) { return atomic_load(&server->timed_out); }

/* Waits until *counter is zero or the deadline passes; true when it reached zero. */
static bool wait_for_zero(atomic_uint_fast64_t *counter, uint64_t deadline_ns) {
    for (;;) {
        if (atomic_load(counter) == 0) return true;
        if (hs_monotonic_ns() >= deadline_ns) return false;
        sleep_ms(1);
    }
}

/* Answers every still-suspended request with the forced 503 and resumes it. */
static unsigned int force_suspended(hs_server *s) {
    /* Collect under the server lock (with a reference each), then lock each request alone:
     * the final call nests request -> server, so nesting the other way would deadlock. */
    pthread_mutex_lock(&s->lock);
    s->closing = true;
    size_t count = 0;
    for (hs_request *r = s->suspended_head; r != NULL; r = r->next) count++;
    hs_request **list = count > 0 ? calloc(count, sizeof *list) : NULL;
    size_t taken = 0;
    if (list != NULL) {
        for (hs_request *r = s->suspended_head; r != NULL && taken < count; r = r->next) {
            atomic_fetch_add(&r->refs, 1);
            list[taken++] = r;
        }
    }
    pthread_mutex_unlock(&s->lock);

    unsigned int forced = 0;
    for (size_t i = 0; i < taken; i++) {
        hs_request *r = list[i];
        pthread_mutex_lock(&r->lock);
        bool resume = false;
        if (r->state == ST_SUSPENDED) {
            r->forced = true;
            r->answer = s->forced_unavailable;
            r->answer_shared = true;
            r->state = ST_RESUMING;
            resume = true;
        }
        struct MHD_Connection *c = r->connection;
        pthread_mutex_unlock(&r->lock);
        if (resume) {
            MHD_resume_connection(c);
            forced++;
        }
        request_release(r);
    }
    free(list);
    return forced;
}

int hs_server_stop(hs_server *server, unsigned int drain_timeout_ms, unsigned int *forced) {
    hs_server *s = server;
    if (forced != NULL) *forced = 0;
    if (s == NULL) return -EINVAL;
    if (s->stopped) return 0;
    if (!atomic_load(&s->draining)) {
        /* Refuse new connections first, so the Connection: close answers below make clients
         * reconnect into a refused port rather than into a backlog nobody accepts; then
         * answer 503 at once, and only then wait for the acceptor thread to end. */
        if (s->acceptor_running) (void)shutdown(s->listen_fd, SHUT_RDWR);
        atomic_store(&s->draining, true);
        stop_accepting(s);
    }
    /* Open streams would otherwise hold the drain to its deadline: each sends what it holds,
     * then ends its body cleanly. */
    finish_streams(s);
    uint64_t deadline = hs_monotonic_ns() + (uint64_t)drain_timeout_ms * 1000000u;
    (void)wait_for_zero(&s->active, deadline);
    unsigned int n = force_suspended(s);
    if (forced != NULL) *forced = n;
    /* libmicrohttpd aborts the process if it is stopped with a suspended connection; a
     * request counts as suspended until MHD re-entered the handler and queued its answer. */
    uint64_t grace = hs_monotonic_ns() + 1000000000u;
    if (!wait_for_zero(&s->suspended, grace) || !wait_for_zero(&s->resuming, grace)) return -EBUSY;
    /* The reaper kept cutting off slow uploads during the drain; the records go with the
     * workers, which report every connection closed as they stop. */
    stop_reaper(s);
    stop_workers(s);
    s->stopped = true;
    return 0;
}

int hs_server_destroy(hs_server *server) {
    if (server == NULL) return 0;
    if (!server->stopped) return -EBUSY;
    free_server(server);
    return 0;
}
