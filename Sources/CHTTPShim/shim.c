/*
 * The request callbacks libmicrohttpd calls for every request: the URI log callback, the
 * access handler (headers, body chunks, the final and the resumed call) and completion. The
 * life of a request is described in shim_internal.h.
 */
#include "shim_internal.h"

#include <stdlib.h>
#include <string.h>

uint64_t hs_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The one place an answer reaches libmicrohttpd. Shared responses (the server's fallbacks)
 * are queued as they are; owned ones get Connection: close while draining, so keep-alive
 * clients reconnect (and are refused) instead of reusing a connection that is about to close. */
static enum MHD_Result queue_answer(hs_server *s, struct MHD_Connection *c, hs_response *r, bool owned) {
    if (owned && atomic_load(&s->draining)) {
        (void)MHD_add_response_header(r->mhd, MHD_HTTP_HEADER_CONNECTION, "close");
    }
    if (r->stream != NULL) shim_stream_attach(r->stream, s, c);
    enum MHD_Result result = MHD_queue_response(c, r->status, r->mhd);
    if (owned) hs_response_destroy(r);
    return result;
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

/* ---------------------------------------------------------------- request callbacks */

void *shim_on_uri(void *cls, const char *uri, struct MHD_Connection *connection) {
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

void shim_on_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
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
    shim_request_release(r);
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

/* Bodies up to this size skip the header handler: see shim_on_access. */
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

/* The first call: the headers are complete and no byte of the body has been read. Decides
 * whether the request is answered from its headers (draining, a declared body over the
 * limit, the header handler's word) or its body is read, and reserves the body's memory. */
static enum MHD_Result on_headers(hs_server *s, hs_request *r, struct MHD_Connection *connection, const char *method) {
    enum MHD_Result result;
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

enum MHD_Result shim_on_access(void *cls, struct MHD_Connection *connection, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **con_cls) {
    hs_server *s = cls;
    (void)url;
    (void)version;
    hs_request *r = *con_cls;
    if (r == NULL) return MHD_NO; /* out of memory in shim_on_uri: drop the connection */

    if (!r->first_call_done) return on_headers(s, r, connection, method);

    if (*upload_data_size > 0) {
        collect_body(s, r, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }

    enum MHD_Result result;
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
