/*
 * Streamed response bodies (hs_stream_*): a buffer the Swift side writes and libmicrohttpd's
 * content reader drains, parking the connection while it is empty.
 */
#include "shim_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

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
void shim_stream_attach(hs_stream *st, hs_server *s, struct MHD_Connection *c) {
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
void shim_finish_streams(hs_server *s) {
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
