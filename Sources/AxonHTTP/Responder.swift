import CHTTPShim
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The request handle the shim lends until `hs_respond`; the wrapper lets it cross into a Task.
struct RequestHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// The one boundary between the shim and the router: it copies each request out of C, runs the
/// handler, turns every result or error into exactly one response, echoes the request id and
/// writes the access-log line.
final class Responder: Sendable {
    let router: Router
    let logger: Logger
    let accessLog: Bool
    let maxBodyBytes: UInt64
    /// Request metrics; nil when instrumentation is off.
    let metrics: (any HTTPObserver)?
    let access: AccessPolicy
    let cors: CORSPolicy
    private let capturedHeaders: [String]

    init(
        router: Router, logger: Logger, accessLog: Bool, maxBodyBytes: UInt64, access: AccessPolicy = AccessPolicy(),
        cors: CORSPolicy = CORSPolicy(), metrics: (any HTTPObserver)? = nil
    ) {
        self.router = router
        self.logger = logger
        self.accessLog = accessLog
        self.maxBodyBytes = maxBodyBytes
        self.metrics = metrics
        self.access = access
        self.cors = cors
        // The CORS headers cost three lookups per request, so only a CORS-enabled server reads them.
        capturedHeaders = Self.baseHeaders + (cors.enabled ? CORSPolicy.requestHeaders : [])
    }

    // Headers are only readable during the shim callback, so the ones Axon uses are copied here.
    // Inference-Header-Content-Length splits a KServe V2 binary-tensor body into JSON and bytes;
    // Last-Event-ID resumes an event stream; If-None-Match revalidates the console's files.
    private static let baseHeaders = [
        "Content-Type", "Content-Length", "Accept", "Authorization", "X-Request-Id", "Inference-Header-Content-Length",
        "Last-Event-ID", "If-None-Match",
    ]

    /// What the headers decided for a request that announced a body, carried from `decide` to
    /// `handle` through the shim (`hs_request_set_user`): the final call then neither copies the
    /// headers again nor routes twice.
    final class Pending {
        let request: Request
        let endpoint: Router.Endpoint
        let start: UInt64
        /// The sink a streaming route reads the body with, chunk by chunk (`receive`).
        var sink: (any BodySink)?
        /// What the sink threw: the rest of the body was dropped, and this answers the request.
        var failure: (any Error)?

        init(request: Request, endpoint: Router.Endpoint, start: UInt64) {
            self.request = request
            self.endpoint = endpoint
            self.start = start
        }

        /// Hands a body chunk to the sink; false stops the body (the sink failed).
        func receive(_ chunk: UnsafeBufferPointer<UInt8>) -> Bool {
            guard let sink, failure == nil else { return false }
            do {
                try sink.receive(chunk)
                return true
            } catch {
                failure = error
                return false
            }
        }
    }

    /// What `route` decided: an answer now, or the endpoint to run.
    private enum Decision {
        case answer(Response)
        case run(Router.Endpoint)
    }

    /// Called by the shim on a libmicrohttpd thread when the headers of a request that announces
    /// a body are complete, before a byte of the body is read. Refusals (draining, CORS
    /// preflight, token, body over the limit by Content-Length, unknown route or method) are
    /// answered here, so a large upload without a valid token costs no memory; a request that
    /// may go on leaves its decision with the shim for `handle`.
    func decide(_ handle: RequestHandle) {
        let p = handle.pointer
        var request = read(p, body: [])
        let start = hs_request_start_ns(p)
        switch route(&request, outcome: hs_request_outcome(p), deciding: true) {
        case .answer(let response):
            send(response, for: request, start: start, to: handle)
        case .run(let endpoint):
            let pending = Pending(request: request, endpoint: endpoint, start: start)
            if case .streaming(let streaming) = endpoint {
                // The route's own body limit, and the body to the sink as it arrives.
                guard hs_request_stream_body(p, streaming.maxBodyBytes) != -EFBIG else {
                    metrics?.rejected(.bodyTooLarge)
                    return send(streaming.tooLarge.response, for: request, start: start, to: handle)
                }
                do {
                    pending.sink = try streaming.open(request)
                } catch {
                    return send(errorResponse(error, for: request), for: request, start: start, to: handle)
                }
            }
            hs_request_set_user(p, Unmanaged.passRetained(pending).toOpaque())
        }
    }

    /// Called by the shim on a libmicrohttpd thread with each chunk of a streamed body; false
    /// stops the body.
    func receive(_ chunk: UnsafeBufferPointer<UInt8>, for pending: Pending) -> Bool {
        pending.receive(chunk)
    }

    /// Called by the shim on a libmicrohttpd thread, once per request, when it has arrived whole.
    func handle(_ handle: RequestHandle) {
        let p = handle.pointer
        let length = hs_request_body_length(p)
        let body = length > 0 ? Array(UnsafeBufferPointer(start: hs_request_body(p), count: length)) : []
        let outcome = hs_request_outcome(p)
        guard let user = hs_request_take_user(p) else {
            // No body announced: `decide` never ran, everything is decided here.
            var request = read(p, body: body)
            let start = hs_request_start_ns(p)
            switch route(&request, outcome: outcome, deciding: false) {
            case .answer(let response): send(response, for: request, start: start, to: handle)
            case .run(let endpoint): run(endpoint, request, start: start, to: handle)
            }
            return
        }
        let pending = Unmanaged<Pending>.fromOpaque(user).takeRetainedValue()
        var request = pending.request
        request.body = body
        request.receivedBytes = Int(hs_request_received_bytes(p))
        switch outcome {
        case HS_OUTCOME_OK:
            if let sink = pending.sink {
                if let failure = pending.failure {
                    return send(errorResponse(failure, for: request), for: request, start: pending.start, to: handle)
                }
                return finish(sink, request, start: pending.start, to: handle)
            }
            run(pending.endpoint, request, start: pending.start, to: handle)
        case HS_OUTCOME_BODY_TOO_LARGE:
            // A chunked body, counted past the limit while it was discarded.
            metrics?.rejected(.bodyTooLarge)
            let refusal = if case .streaming(let streaming) = pending.endpoint { streaming.tooLarge } else { APIError.contentTooLarge(limit: maxBodyBytes) }
            send(refusal.response, for: request, start: pending.start, to: handle)
        default:
            logger.error("request body could not be allocated", metadata: ["http.request_id": "\(request.id)"])
            send(APIError.internalError.response, for: request, start: pending.start, to: handle)
        }
    }

    /// Copies a request out of the shim; headers are only readable during the shim's callbacks.
    private func read(_ p: OpaquePointer, body: [UInt8]) -> Request {
        let method = HTTPMethod(rawValue: String(cString: hs_request_method(p)))
        let path = String(
            decoding: UnsafeRawBufferPointer(start: hs_request_path(p), count: hs_request_path_length(p)), as: UTF8.self)
        var headers = HTTPHeaders()
        for name in capturedHeaders {
            // Explicit withCString: the implicit String-to-pointer conversion allocates for
            // small strings, and this runs once per header name per request.
            if let value = name.withCString({ hs_request_header(p, $0) }) {
                headers.add(name: name, value: String(cString: value))
            }
        }
        let id = RequestID.sanitized(headers["X-Request-Id"]) ?? RequestID.generate()
        return Request(
            method: method, path: path, query: String(cString: hs_request_query(p)), headers: headers, body: body, id: id)
    }

    /// Everything decided before a handler runs, in order: draining, CORS preflight, token, body
    /// limit, route. Sets the route template (and parameters) on `request` for logs and metrics.
    /// `deciding`: called from `decide`, where a streaming route may still take a body over
    /// `limits.max_body_bytes` (its own limit is applied there).
    private func route(_ request: inout Request, outcome: hs_outcome, deciding: Bool) -> Decision {
        switch outcome {
        case HS_OUTCOME_OK, HS_OUTCOME_BODY_TOO_LARGE:
            break
        case HS_OUTCOME_DRAINING:
            request.route = routeTemplate(router.match(method: request.method, path: request.path))
            metrics?.rejected(.draining)
            return .answer(APIError.draining.response)
        default:
            logger.error("request body could not be allocated", metadata: ["http.request_id": "\(request.id)"])
            return .answer(APIError.internalError.response)
        }
        if let preflight = cors.preflightResponse(for: request) { return .answer(preflight) }
        let match = router.match(method: request.method, path: request.path)
        if access.isEnabled {
            let scope = router.requiredScope(for: match, method: request.method, path: request.path, policy: access)
            if let denial = access.denial(for: scope, authorization: request.headers["Authorization"]) {
                return .answer(denial.response)
            }
        }
        // After the token: a client without one learns nothing, not even the body limit.
        if outcome == HS_OUTCOME_BODY_TOO_LARGE, !(deciding && match.isStreaming) {
            request.route = routeTemplate(match)
            metrics?.rejected(.bodyTooLarge)
            return .answer(APIError.contentTooLarge(limit: maxBodyBytes).response)
        }
        switch match {
        case .found(let endpoint, let template, let parameters):
            request.route = template
            request.parameters = parameters
            return .run(endpoint)
        case .methodNotAllowed(let template, let allowed):
            request.route = template
            return .answer(APIError.methodNotAllowed(method: request.method, path: request.path, allowed: allowed).response)
        case .notFound:
            return .answer(APIError.routeNotFound(path: request.path).response)
        case .malformedPath:
            return .answer(APIError.malformedPath(request.path).response)
        }
    }

    /// Runs a matched handler: on this thread for a synchronous endpoint, in a Task otherwise.
    private func run(_ endpoint: Router.Endpoint, _ request: Request, start: UInt64, to handle: RequestHandle) {
        switch endpoint {
        case .sync(let handler):
            let response: Response
            do {
                response = try handler(request)
            } catch {
                response = errorResponse(error, for: request)
            }
            send(response, for: request, start: start, to: handle)
        case .deferrable(let handler):
            deferrable(handler, request, start: start, handle: handle)
        case .async(let handler):
            Task {
                let response: Response
                do {
                    response = try await handler(request)
                } catch {
                    response = self.errorResponse(error, for: request)
                }
                self.send(response, for: request, start: start, to: handle)
            }
        case .streaming(let streaming):
            // A body small enough to arrive with the head (`decide` never ran): read whole.
            guard request.body.count <= streaming.maxBodyBytes else {
                return send(streaming.tooLarge.response, for: request, start: start, to: handle)
            }
            let sink: any BodySink
            do {
                sink = try streaming.open(request)
                try request.body.withUnsafeBufferPointer { try sink.receive($0) }
            } catch {
                return send(errorResponse(error, for: request), for: request, start: start, to: handle)
            }
            finish(sink, request, start: start, to: handle)
        }
    }

    /// Answers a streamed request from a `Task`, once its body went through `sink`.
    private func finish(_ sink: any BodySink, _ request: Request, start: UInt64, to handle: RequestHandle) {
        Task {
            let response: Response
            do {
                response = try await sink.finish()
            } catch {
                response = self.errorResponse(error, for: request)
            }
            self.send(response, for: request, start: start, to: handle)
        }
    }

    /// Runs a deferrable handler: its answer now, or its work on its executor, answered from there.
    private func deferrable(_ handler: Router.DeferrableHandler, _ request: Request, start: UInt64, handle: RequestHandle) {
        let reply: Router.Reply
        do {
            reply = try handler(request)
        } catch {
            return send(errorResponse(error, for: request), for: request, start: start, to: handle)
        }
        switch reply {
        case .now(let response):
            send(response, for: request, start: start, to: handle)
        case .later(let executor, let work):
            do {
                try executor.execute({ Result { try work() } }, then: { result in
                    let response: Response
                    switch result {
                    case .success(let answer): response = answer
                    case .failure(let error): response = self.errorResponse(error, for: request)
                    }
                    self.send(response, for: request, start: start, to: handle)
                })
            } catch {
                send(errorResponse(error, for: request), for: request, start: start, to: handle)
            }
        }
    }

    /// The template a match names, so requests refused before their handler are still logged
    /// and counted under their route.
    private func routeTemplate(_ match: Router.Match) -> String? {
        switch match {
        case .found(_, let template, _), .methodNotAllowed(let template, _): template
        case .notFound, .malformedPath: nil
        }
    }

    /// Errors that know their status answer with it; anything else is a bare 500 whose detail
    /// goes only to the log.
    func errorResponse(_ error: any Error, for request: Request) -> Response {
        if let known = error as? any HTTPResponseError { return known.response }
        logger.error(
            "unhandled error",
            metadata: [
                "http.request_id": "\(request.id)", "http.route": "\(request.route ?? "-")",
                "error.type": "\(String(reflecting: type(of: error)))", "error": "\(error)",
            ])
        return APIError.internalError.response
    }

    /// Hands the response to the shim. Consumes the handle: it is never touched afterwards.
    private func send(_ response: Response, for request: Request, start: UInt64, to handle: RequestHandle) {
        var response = response
        cors.decorate(&response, for: request)
        var status = response.status
        var built: OpaquePointer? = build(response, id: request.id)
        if built == nil {
            logger.error(
                "response could not be built; answering 500",
                metadata: ["http.request_id": "\(request.id)", "http.route": "\(request.route ?? "-")"])
            status = .internalServerError
            built = build(APIError.internalError.response, id: request.id)
        }
        // A nil response makes the shim send its preconfigured 500.
        let result = hs_respond(handle.pointer, built)
        if result == -ECANCELED {
            status = .serviceUnavailable
            metrics?.rejected(.drainDeadline)
        }
        guard accessLog || metrics != nil else { return }
        let elapsed = hs_monotonic_ns() &- start
        metrics?.requestFinished(
            route: request.route, method: request.method, status: status.code, requestBytes: max(request.body.count, request.receivedBytes),
            responseBytes: response.body.count, nanoseconds: elapsed)
        if accessLog {
            let micros = elapsed / 1000
            logger.info(
                "request",
                metadata: [
                    "http.method": "\(request.method)",
                    "http.route": "\(request.route ?? "-")",
                    "http.status": "\(status.code)",
                    "http.duration_us": "\(micros)",
                    "http.request_id": "\(request.id)",
                ])
        }
    }

    private func build(_ response: Response, id: String) -> OpaquePointer? {
        var out: OpaquePointer?
        let created: Int32
        if let stream = response.stream {
            created = hs_response_create_stream(UInt32(response.status.code), stream.handle, &out)
        } else {
            created = response.body.withUnsafeBytes { bytes in
                hs_response_create(UInt32(response.status.code), bytes.baseAddress, bytes.count, &out)
            }
        }
        guard created == 0, let out else { return nil }
        for field in response.headers {
            let added = field.name.withCString { name in field.value.withCString { hs_response_add_header(out, name, $0) } }
            guard added == 0 else {
                logger.error("handler produced an invalid header", metadata: ["http.header": "\(field.name)"])
                hs_response_destroy(out)
                return nil
            }
        }
        guard id.withCString({ hs_response_add_header(out, "X-Request-Id", $0) }) == 0 else {
            hs_response_destroy(out)
            return nil
        }
        return out
    }
}
