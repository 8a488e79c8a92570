/*
 * The Swift side's view of a request and its answers: responses, hs_respond and the request
 * accessors. A request's references and its state machine are described in shim_internal.h.
 */
#include "shim_internal.h"

#include <stdlib.h>
#include <string.h>

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

int hs_response_add_header(hs_response *response, const char *name, const char *value) {
    if (response == NULL || name == NULL || value == NULL) return -EINVAL;
    return MHD_add_response_header(response->mhd, name, value) == MHD_YES ? 0 : -EINVAL;
}

void hs_response_destroy(hs_response *response) {
    if (response == NULL) return;
    MHD_destroy_response(response->mhd);
    free(response);
}

/* ---------------------------------------------------------------- requests */

void shim_request_release(hs_request *r) {
    if (atomic_fetch_sub(&r->refs, 1) != 1) return;
    if (r->answer != NULL && !r->answer_shared) hs_response_destroy(r->answer);
    if (r->user != NULL && r->server->user_release != NULL) r->server->user_release(r->user);
    pthread_mutex_destroy(&r->lock);
    free(r->body);
    free(r);
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
    shim_request_release(r);
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
