/*
 * The server: start (the workers' daemons, the listening socket, the reaper and the
 * acceptor), stop with its drain, and the counters the Swift side reads.
 */
#include "shim_internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static void on_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
    struct worker *w = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        if (w->server->request_timeout_ns > 0) shim_track_started(w->server, connection, socket_context);
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        shim_track_closed(w->server, socket_context);
        atomic_fetch_sub(&w->connections, 1);
    }
}

static void stop_workers(hs_server *s) {
    for (unsigned int i = 0; i < s->worker_count; i++) {
        if (s->workers[i].daemon != NULL) MHD_stop_daemon(s->workers[i].daemon);
        s->workers[i].daemon = NULL;
    }
}

/* The socket address of config's host and port; adds MHD_USE_IPv6 to *flags for an IPv6
 * host. False when the host is not a numeric address. */
static bool parse_address(const hs_config *config, struct sockaddr_storage *address, socklen_t *length,
                          unsigned int *flags) {
    memset(address, 0, sizeof *address);
    const char *host = config->host != NULL ? config->host : "127.0.0.1";
    struct sockaddr_in *v4 = (struct sockaddr_in *)address;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)address;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(config->port);
        *length = sizeof *v4;
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(config->port);
        *length = sizeof *v6;
        *flags |= MHD_USE_IPv6;
    } else {
        return false;
    }
    return true;
}

/* The server's locks and its reaper's condition variable (on the monotonic clock); false,
 * with nothing left initialized, when one cannot be made. */
static bool init_locks(hs_server *s) {
    pthread_condattr_t monotonic;
    bool cond_ready = pthread_condattr_init(&monotonic) == 0;
    if (cond_ready) {
        cond_ready = pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC) == 0 &&
                     pthread_cond_init(&s->reaper_wake, &monotonic) == 0;
        pthread_condattr_destroy(&monotonic);
    }
    if (!cond_ready) return false;
    if (pthread_mutex_init(&s->track_lock, NULL) != 0) {
        pthread_cond_destroy(&s->reaper_wake);
        return false;
    }
    if (pthread_mutex_init(&s->lock, NULL) != 0) {
        pthread_mutex_destroy(&s->track_lock);
        pthread_cond_destroy(&s->reaper_wake);
        return false;
    }
    return true;
}

/* A server with its locks, settings and fallback answers, no socket and no threads yet. */
static int new_server(const hs_config *config, hs_handler handler, void *context, hs_server **out) {
    hs_server *s = calloc(1, sizeof *s);
    if (s == NULL) return -ENOMEM;
    if (!init_locks(s)) {
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
    *out = s;
    return 0;
}

/* Adds MHD_USE_TLS to *flags when config has a certificate and key: both or neither, and
 * only where libmicrohttpd was built with TLS. */
static int tls_flags(const hs_config *config, unsigned int *flags) {
    bool tls = config->tls_cert_pem != NULL || config->tls_key_pem != NULL;
    if (!tls) return 0;
    if (config->tls_cert_pem == NULL || config->tls_key_pem == NULL) return -EINVAL;
    if (!hs_tls_supported()) return -ENOTSUP;
    *flags |= MHD_USE_TLS;
    return 0;
}

#define OPTION_SLOTS 12

/* Fills `options` (room for OPTION_SLOTS) for every worker daemon; returns the index of the
 * NOTIFY_CONNECTION option. */
static int fill_options(const hs_config *config, bool tls, hs_server *s, struct MHD_OptionItem options[OPTION_SLOTS]) {
    int n = 0;
    options[n++] = (struct MHD_OptionItem){MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)shim_on_uri, s};
    options[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)shim_on_completed, s};
    int notify_slot = n; /* its closure is the worker, set per daemon by start_workers */
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
    return notify_slot;
}

/* One single-threaded daemon per worker, without a listening socket; -EADDRINUSE when one
 * does not start (those started are left for stop_workers). */
static int start_workers(hs_server *s, unsigned int flags, struct MHD_OptionItem *options, int notify_slot) {
    /* MHD_start_daemon is variadic, which is why this shim exists; MHD_OPTION_ARRAY keeps
     * the option list data instead of code. No MHD_USE_ERROR_LOG: the shim never prints. */
    for (unsigned int i = 0; i < s->worker_count; i++) {
        atomic_init(&s->workers[i].connections, 0);
        s->workers[i].server = s;
        options[notify_slot].ptr_value = &s->workers[i];
        s->workers[i].daemon = MHD_start_daemon(flags, 0, NULL, NULL, shim_on_access, s,
                                                MHD_OPTION_ARRAY, options, MHD_OPTION_END);
        if (s->workers[i].daemon == NULL) return -EADDRINUSE;
    }
    return 0;
}

/* Undoes a start that failed part-way: each step is a no-op where it had not been reached. */
static void abandon_start(hs_server *s) {
    shim_stop_reaper(s);
    stop_workers(s);
    if (s->listen_fd >= 0) close(s->listen_fd);
    free_server(s);
}

/* In steps: the address, the server (locks, settings, fallback answers), TLS, the workers'
 * daemons, the listening socket, the reaper, then the acceptor, which makes it reachable. */
int hs_server_start(const hs_config *config, hs_handler handler, void *context, hs_server **out) {
    if (config == NULL || handler == NULL || out == NULL || config->threads < 1 || config->threads > 1024)
        return -EINVAL;

    struct sockaddr_storage address;
    socklen_t address_length;
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_NO_LISTEN_SOCKET;
    if (!parse_address(config, &address, &address_length, &flags)) return -EINVAL;

    hs_server *s;
    int rc = new_server(config, handler, context, &s);
    if (rc != 0) return rc;
    rc = tls_flags(config, &flags);
    if (rc == 0) {
        s->workers = calloc(config->threads, sizeof *s->workers);
        if (s->workers == NULL) rc = -ENOMEM;
        else s->worker_count = config->threads;
    }
    if (rc != 0) {
        free_server(s);
        return rc;
    }

    struct MHD_OptionItem options[OPTION_SLOTS];
    int notify_slot = fill_options(config, (flags & MHD_USE_TLS) != 0, s, options);
    rc = shim_open_listener(&address, address_length, &s->listen_fd);
    if (rc == 0) {
        s->port = shim_bound_port(s->listen_fd);
        rc = start_workers(s, flags, options, notify_slot);
    }
    if (rc == 0 && s->request_timeout_ns > 0) rc = shim_start_reaper(s);
    if (rc == 0) rc = shim_start_accepting(s);
    if (rc != 0) {
        abandon_start(s);
        return rc;
    }
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
        shim_request_release(r);
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
        shim_stop_accepting(s);
    }
    /* Open streams would otherwise hold the drain to its deadline: each sends what it holds,
     * then ends its body cleanly. */
    shim_finish_streams(s);
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
    shim_stop_reaper(s);
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
