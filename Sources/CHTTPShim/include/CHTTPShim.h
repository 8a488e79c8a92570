#pragma once
/*
 * CHTTPShim: the HTTP daemon over libmicrohttpd. Knows HTTP, nothing of models.
 *
 * Why it exists: MHD_start_daemon is variadic (Swift cannot call it), and the
 * suspend/resume and shutdown rules of libmicrohttpd are easy to get fatally
 * wrong (see shared/notes/libmicrohttpd.md). This library owns all of them, asks
 * one callback about each request that carries a body when its headers arrive,
 * and hands each complete request to another.
 *
 * Conventions: every exported symbol starts with hs_; handles are opaque;
 * functions return 0 or a negative errno and never print or exit.
 */
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A running daemon. Created by hs_server_start, freed by hs_server_destroy. */
typedef struct hs_server hs_server;

/** One request, handed to the callback when complete. Answered exactly once with hs_respond. */
typedef struct hs_request hs_request;

/** A response under construction; hs_respond takes ownership of it. */
typedef struct hs_response hs_response;

/** Why the shim hands a request over. Anything but HS_OUTCOME_OK must be answered inside the callback. */
typedef enum hs_outcome {
    /** The request and its whole body arrived within the limits. */
    HS_OUTCOME_OK = 0,
    /** The body is larger than max_body_bytes, or the limit hs_request_stream_body set (from Content-Length, or counted while reading). */
    HS_OUTCOME_BODY_TOO_LARGE = 1,
    /** The server is draining: the request arrived on an open connection after hs_server_stop began. */
    HS_OUTCOME_DRAINING = 2,
    /** The body buffer could not be allocated. */
    HS_OUTCOME_NO_MEMORY = 3,
} hs_outcome;

/**
 * Called once per request on a libmicrohttpd thread. The callback may answer at once
 * (hs_respond before it returns: the fast path) or later from any thread, in which case
 * the connection stays suspended until hs_respond. Requests whose outcome is not
 * HS_OUTCOME_OK must be answered before the callback returns.
 */
typedef void (*hs_handler)(hs_request *request, void *context);

/**
 * Called on a libmicrohttpd thread when a request's headers are complete, before a byte of its
 * body is read, for every request that announces a body (Content-Length above 0, or
 * Transfer-Encoding) or whose outcome is already decided (HS_OUTCOME_DRAINING, or
 * HS_OUTCOME_BODY_TOO_LARGE from Content-Length). It either answers at once (hs_respond before
 * it returns: no byte of the body is stored) or returns without answering, and the request goes
 * on to hs_handler once its body has arrived. An answer goes out at once, and the connection
 * closes after it (libmicrohttpd cannot skip an unread body); except that a refused request
 * declaring at most 64 KiB is answered once its body has been read and dropped, which keeps
 * a kept-alive connection open. Requests
 * whose outcome is not HS_OUTCOME_OK must be answered here. It must not keep the request past
 * its return unless it answered; state for the final call goes in hs_request_set_user.
 * Requests without a body skip it: hs_handler alone decides them (answering a bodyless request
 * this early would cost its keep-alive, for no memory saved).
 */
typedef void (*hs_header_handler)(hs_request *request, void *context);

/** Frees what hs_request_set_user attached, when the request ends before hs_handler took it. */
typedef void (*hs_user_release)(void *user);

/**
 * Called on a libmicrohttpd thread with each chunk of a body that the header handler redirected
 * with hs_request_stream_body, in order, with the state hs_request_set_user attached (NULL when
 * none). `data` is valid only during the call. Returns 0 to go on, or nonzero to stop: the rest
 * of the body is then read and dropped, and hs_handler gets the request once it has arrived,
 * as usual. Each call costs the connection's polling thread the time it takes: keep it to
 * work proportional to the chunk.
 */
typedef int (*hs_body_handler)(hs_request *request, void *user, const uint8_t *data, size_t length, void *context);

/** Daemon settings. Strings are copied or used only during hs_server_start. */
typedef struct hs_config {
    /** Numeric IPv4 or IPv6 address to bind; NULL means 127.0.0.1. */
    const char *host;
    /** TCP port; 0 binds an ephemeral port (read it back with hs_server_port). */
    uint16_t port;
    /** Polling threads (>= 1). */
    unsigned int threads;
    /** Largest accepted request body in bytes. */
    uint64_t max_body_bytes;
    /** Idle connection timeout in seconds; 0 means none. */
    unsigned int connection_timeout_seconds;
    /** Largest number of open connections; 0 means libmicrohttpd's default. */
    unsigned int connection_limit;
    /**
     * Seconds a request may take to arrive whole, headers and body, counted from accept (or
     * from the end of the previous request on a kept-alive connection); a connection still
     * receiving its request then is closed, however steadily it trickles. 0 means none.
     */
    unsigned int request_timeout_seconds;
    /** Decides each request from its headers before its body is read; NULL hands every request to the handler whole. */
    hs_header_handler header_handler;
    /** Frees a request's user state (see hs_request_set_user); may be NULL when none is ever set. */
    hs_user_release user_release;
    /** Receives the bodies hs_request_stream_body redirects; NULL when no request streams. */
    hs_body_handler body_handler;
    /** Content-Type of the two bodies below. */
    const char *error_content_type;
    /** Body of the 503 the shim sends itself when the drain deadline forces an unanswered request. */
    const char *forced_unavailable_body;
    /** Body of the 500 the shim sends when an answer is missing or could not be built. */
    const char *internal_error_body;
    /** PEM certificate (chain) for HTTPS, NUL-terminated; NULL (with tls_key_pem NULL) serves plain HTTP. */
    const char *tls_cert_pem;
    /** PEM private key matching tls_cert_pem; both or neither must be set. */
    const char *tls_key_pem;
} hs_config;

/** 1 when the linked libmicrohttpd was built with TLS (HTTPS) support, else 0. */
int hs_tls_supported(void);

/**
 * Starts a daemon. On success stores the handle in *out and returns 0; otherwise returns
 * -EINVAL (bad configuration), -ENOTSUP (TLS asked for but libmicrohttpd lacks it), -ENOMEM,
 * or -EADDRINUSE (libmicrohttpd could not bind or start; also a certificate or key it refused).
 * `context` is passed to every handler call; the caller keeps it alive until hs_server_destroy.
 */
int hs_server_start(const hs_config *config, hs_handler handler, void *context, hs_server **out);

/** The bound TCP port (the ephemeral one when the configuration asked for port 0). */
uint16_t hs_server_port(const hs_server *server);

/** 1 once hs_server_stop has begun, else 0. */
int hs_server_is_draining(const hs_server *server);

/** Requests received and not yet completed (answered and sent, or aborted). */
uint64_t hs_server_active_requests(const hs_server *server);

/** Requests whose connection is suspended (or resumed but not yet re-entered): stop waits for these. */
uint64_t hs_server_suspended_requests(const hs_server *server);

/** Connections closed because their request had not arrived whole within request_timeout_seconds. */
uint64_t hs_server_timed_out_connections(const hs_server *server);

/**
 * Graceful stop: stops accepting, answers 503 to new requests on open connections, waits up
 * to `drain_timeout_ms` for in-flight requests, answers the ones still unanswered with the
 * forced 503, then stops the daemon. Blocks: never call it from the handler or from a thread
 * that in-flight handlers need. Stores in *forced (may be NULL) how many requests were forced.
 * Returns 0 when stopped, or -EBUSY when suspended connections did not resume within a further
 * second after forcing: the daemon is then left quiesced (stopping it would abort the process)
 * and the call may be repeated. Calling it again after success returns 0.
 */
int hs_server_stop(hs_server *server, unsigned int drain_timeout_ms, unsigned int *forced);

/** Frees a server. It must be stopped first (hs_server_stop returned 0); returns -EBUSY otherwise. */
int hs_server_destroy(hs_server *server);

/** The request method ("GET", ...). Only valid inside the handler callback. */
const char *hs_request_method(const hs_request *request);

/** The raw request path, percent-encoded as sent, without the query. Not NUL-terminated: see hs_request_path_length. Valid until hs_respond. */
const char *hs_request_path(const hs_request *request);

/** Length in bytes of hs_request_path. */
size_t hs_request_path_length(const hs_request *request);

/** The raw query string after '?', NUL-terminated ("" when absent). Valid until hs_respond. */
const char *hs_request_query(const hs_request *request);

/** Why the request was handed over. */
hs_outcome hs_request_outcome(const hs_request *request);

/** The received body, or NULL when empty; the request owns it. Valid until hs_respond. */
const uint8_t *hs_request_body(const hs_request *request);

/** Length in bytes of the body (0 when empty or discarded). */
size_t hs_request_body_length(const hs_request *request);

/**
 * Attaches caller state to a request, from the header handler, for hs_handler to take back
 * with hs_request_take_user. If the request ends first (the client leaves mid-body, the server
 * stops), the configured user_release frees it. Only valid on the libmicrohttpd thread.
 */
void hs_request_set_user(hs_request *request, void *user);

/** Returns the state hs_request_set_user attached (NULL when none) and detaches it: the caller now owns it. */
void *hs_request_take_user(hs_request *request);

/**
 * From the header handler: hands this request's body to the configured body_handler chunk by
 * chunk instead of storing it, and lets it be up to `max_bytes` long instead of max_body_bytes
 * (a body that turns out longer is dropped from there and the request reaches hs_handler with
 * HS_OUTCOME_BODY_TOO_LARGE). A request refused by max_body_bytes from its Content-Length is
 * accepted again when that length is within `max_bytes`. Returns 0; -EFBIG when the declared
 * Content-Length exceeds `max_bytes` (the outcome is then HS_OUTCOME_BODY_TOO_LARGE, to be
 * answered); -EINVAL without a body_handler or outside the header handler.
 */
int hs_request_stream_body(hs_request *request, uint64_t max_bytes);

/** Body bytes received so far, stored or streamed. */
uint64_t hs_request_received_bytes(const hs_request *request);

/** Monotonic clock reading (ns) when the request line arrived. */
uint64_t hs_request_start_ns(const hs_request *request);

/** A request header by case-insensitive name, or NULL. Only valid inside the handler callback. */
const char *hs_request_header(const hs_request *request, const char *name);

/** Creates a response with a copy of `body` (may be NULL when length is 0). Returns 0, -EINVAL (status outside 100...599) or -ENOMEM. */
int hs_response_create(unsigned int status, const void *body, size_t length, hs_response **out);

/** Adds a header (both strings are copied). Returns 0, or -EINVAL for names or values libmicrohttpd refuses (e.g. containing CR or LF). */
int hs_response_add_header(hs_response *response, const char *name, const char *value);

/** Frees a response that was not handed to hs_respond. */
void hs_response_destroy(hs_response *response);

/**
 * A response body written while it is sent (Server-Sent Events): the writer appends bytes from
 * any thread; libmicrohttpd sends them as they come, chunked, and the connection is suspended
 * while nothing is buffered, so an idle stream costs no polling. The writer's reference is
 * dropped with hs_stream_release; the response holds its own until libmicrohttpd is done.
 */
typedef struct hs_stream hs_stream;

/** Creates a stream buffering at most `capacity` bytes not yet sent (writes beyond it are
 *  refused unless forced). Returns 0, -EINVAL or -ENOMEM. */
int hs_stream_create(size_t capacity, hs_stream **out);

/** A response whose body is `stream`, sent with chunked encoding. Returns 0, -EINVAL or -ENOMEM. */
int hs_response_create_stream(unsigned int status, hs_stream *stream, hs_response **out);

/**
 * Appends `length` bytes. Returns 0; -ENOBUFS when they do not fit in the capacity (nothing is
 * written; `force` writes them anyway, for a final event that must not be lost); -EPIPE when the
 * stream has ended (finished, the client went away, or the server is draining).
 */
int hs_stream_write(hs_stream *stream, const void *data, size_t length, int force);

/** Ends the body once what is buffered has been sent. Later writes answer -EPIPE. */
void hs_stream_finish(hs_stream *stream);

/** 1 while writes can still reach the client, else 0. */
int hs_stream_is_open(hs_stream *stream);

/** Drops the writer's reference (and finishes the stream). */
void hs_stream_release(hs_stream *stream);

/** Streams being sent now. */
uint64_t hs_server_open_streams(const hs_server *server);

/**
 * Answers a request, from any thread, exactly once. Takes ownership of `response` and ends
 * the caller's use of `request` whatever the result: neither may be touched afterwards.
 * A NULL `response` answers with the configured internal-error 500 (for when building the
 * real answer failed).
 * Returns 0, or -ECANCELED when the drain deadline already answered the request with 503
 * (the response is discarded).
 */
int hs_respond(hs_request *request, hs_response *response);


/** CLOCK_MONOTONIC in nanoseconds, the clock of hs_request_start_ns. */
uint64_t hs_monotonic_ns(void);

/** The git commit `make` compiled in (see build_info.c), or "unknown". Never NULL. */
const char *hs_build_commit(void);

#ifdef __cplusplus
}
#endif
