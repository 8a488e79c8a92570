import AxonAPI
import AxonSupport
import CHTTPShim
import Foundation
import Logging
import Synchronization

/// Axon's HTTP server: libmicrohttpd through CHTTPShim, requests routed by a `Router`.
///
/// Start it, read `port`, and stop it with `stop(drainTimeout:)`, which stops accepting,
/// answers 503 to new requests on open connections, lets in-flight requests finish within the
/// timeout and only then shuts the daemon down.
public final class HTTPServer: Sendable {
    /// What a stop did.
    public struct StopReport: Sendable, Equatable {
        /// Requests the drain deadline answered with 503 because their handler had not finished.
        public var forcedRequests: Int
        /// False when this call found the server never started or already stopping.
        public var didStop: Bool
    }

    private struct Handle: @unchecked Sendable {
        let server: OpaquePointer
        let context: Unmanaged<Responder>
    }

    private enum State {
        case idle
        case running(Handle, port: Int)
        /// The handle stays readable until the state leaves `stopping`, then it is destroyed.
        case stopping(Handle)
        case stopped
    }

    /// The configuration the server was created with.
    public let configuration: HTTPServerConfiguration
    private let responder: Responder
    private let logger: Logger
    private let state = Mutex<State>(.idle)

    /// A server that will route requests through `router`, recording each in `metrics` when given.
    /// Nothing binds before `start()`.
    public init(configuration: HTTPServerConfiguration, router: Router, logger: Logger, metrics: (any HTTPObserver)? = nil) {
        self.configuration = configuration
        self.logger = logger
        self.responder = Responder(
            router: router, logger: logger, accessLog: configuration.accessLog, maxBodyBytes: configuration.maxBodyBytes,
            access: configuration.access, cors: configuration.cors, metrics: metrics)
        // Weak: the metrics outlive the server in tests and would otherwise keep it alive.
        metrics?.observeInFlight { [weak self] in self?.inFlight.active ?? 0 }
        metrics?.observeTimeouts { [weak self] in self?.timedOutConnections ?? 0 }
    }

    /// Binds and starts serving. Throws for invalid settings or a port that cannot be bound.
    public func start() throws(HTTPServerError) {
        try configuration.validate()
        let pem = configuration.tls.isEnabled ? try Self.readPEM(configuration.tls) : nil
        raiseOpenFileLimit()
        let forced = ErrorEnvelope(code: APIError.draining.code, message: "the drain deadline passed before this request finished")
        let internalError = ErrorEnvelope(code: APIError.internalError.code, message: APIError.internalError.message)
        let context = Unmanaged.passRetained(responder)
        var server: OpaquePointer?
        let result = configuration.host.withCString { host in
            Response.jsonContentType.withCString { contentType in
                String(decoding: forced.encoded(), as: UTF8.self).withCString { forcedBody in
                    String(decoding: internalError.encoded(), as: UTF8.self).withCString { internalBody in
                        var config = hs_config(
                            host: host, port: UInt16(configuration.port), threads: UInt32(configuration.threads),
                            max_body_bytes: configuration.maxBodyBytes,
                            connection_timeout_seconds: UInt32(configuration.connectionTimeoutSeconds),
                            connection_limit: UInt32(configuration.connectionLimit),
                            request_timeout_seconds: UInt32(configuration.requestTimeoutSeconds),
                            header_handler: shimHeaderHandler, user_release: shimUserRelease, body_handler: shimBodyHandler,
                            error_content_type: contentType,
                            forced_unavailable_body: forcedBody, internal_error_body: internalBody,
                            tls_cert_pem: nil, tls_key_pem: nil)
                        guard let pem else { return hs_server_start(&config, shimHandler, context.toOpaque(), &server) }
                        return pem.certificate.withCString { certificate in
                            pem.key.withCString { key in
                                config.tls_cert_pem = certificate
                                config.tls_key_pem = key
                                return hs_server_start(&config, shimHandler, context.toOpaque(), &server)
                            }
                        }
                    }
                }
            }
        }
        guard result == 0, let server else {
            context.release()
            if result == -EINVAL { throw .invalidConfiguration("host \(configuration.host) is not a numeric IPv4 or IPv6 address") }
            if result == -ENOTSUP { throw .invalidConfiguration("tls: this libmicrohttpd was built without TLS support") }
            if pem != nil && result == -EADDRINUSE {
                throw .invalidConfiguration(
                    "tls: libmicrohttpd refused the certificate or key, or port \(configuration.port) is in use "
                        + "(check that tls.cert_file and tls.key_file are a matching unencrypted PEM pair)")
            }
            throw .bindFailed(host: configuration.host, port: configuration.port, errno: -result)
        }
        let port = Int(hs_server_port(server))
        let started = state.withLock { state -> Bool in
            guard case .idle = state else { return false }
            state = .running(Handle(server: server, context: context), port: port)
            return true
        }
        guard started else {
            _ = hs_server_stop(server, 0, nil)
            _ = hs_server_destroy(server)
            context.release()
            throw .alreadyStarted
        }
    }

    /// Whether the linked libmicrohttpd supports HTTPS.
    public static var isTLSSupported: Bool { hs_tls_supported() == 1 }

    private static func readPEM(_ tls: TLSConfiguration) throws(HTTPServerError) -> (certificate: String, key: String) {
        func read(_ path: String, key: String) throws(HTTPServerError) -> String {
            guard let data = FileManager.default.contents(atPath: path), !data.isEmpty else {
                throw .invalidConfiguration("\(key): cannot read \(path) (missing, empty or unreadable)")
            }
            // A NUL inside would silently truncate the PEM the C side sees.
            guard !data.contains(0), let text = String(data: data, encoding: .utf8), text.contains("-----BEGIN ") else {
                throw .invalidConfiguration("\(key): \(path) is not a PEM file")
            }
            return text
        }
        return (try read(tls.certificateFile ?? "", key: "tls.cert_file"), try read(tls.keyFile ?? "", key: "tls.key_file"))
    }

    /// The bound port once started (the ephemeral one when configured with port 0), else nil.
    public var port: Int? {
        state.withLock { state in
            if case .running(_, let port) = state { return port }
            return nil
        }
    }

    /// `host:port` once started, IPv6 hosts in brackets.
    public var boundAddress: String? {
        port.map { configuration.host.contains(":") ? "[\(configuration.host)]:\($0)" : "\(configuration.host):\($0)" }
    }

    /// Whether a stop has begun (new requests are refused).
    public var isDraining: Bool {
        state.withLock { state in
            switch state {
            // The shim's flag, not the state: it turns when new requests start getting 503.
            case .running(let handle, _), .stopping(let handle): hs_server_is_draining(handle.server) != 0
            case .stopped: true
            case .idle: false
            }
        }
    }

    /// Requests received and not yet completed, and those among them whose connection is
    /// suspended waiting for an asynchronous answer (zeros when not running).
    public var inFlight: (active: Int, suspended: Int) {
        state.withLock { state in
            guard case .running(let handle, _) = state else { return (0, 0) }
            return (Int(hs_server_active_requests(handle.server)), Int(hs_server_suspended_requests(handle.server)))
        }
    }

    /// Streamed responses (`Response.eventStream`) being sent now (0 when not running).
    public var openStreams: Int {
        state.withLock { state in
            guard case .running(let handle, _) = state else { return 0 }
            return Int(hs_server_open_streams(handle.server))
        }
    }

    /// Connections closed because their request had not arrived whole within
    /// `requestTimeoutSeconds` (0 when not running).
    public var timedOutConnections: Int {
        state.withLock { state in
            guard case .running(let handle, _) = state else { return 0 }
            return Int(hs_server_timed_out_connections(handle.server))
        }
    }

    /// Raises the soft open-file limit toward the hard one so that `connectionLimit` connections
    /// and the daemon's own files fit (systemd and most shells start at a soft 1024), and logs
    /// what it set, or why the limit cannot be reached.
    private func raiseOpenFileLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        let plan = OpenFileLimit.plan(connectionLimit: configuration.connectionLimit, soft: limit.rlim_cur, hard: limit.rlim_max)
        let metadata: Logger.Metadata = [
            "http.connection_limit": "\(configuration.connectionLimit)", "rlimit.nofile.needed": "\(plan.needed)",
            "rlimit.nofile.hard": "\(limit.rlim_max)",
        ]
        if plan.soft != limit.rlim_cur {
            let previous = limit.rlim_cur
            limit.rlim_cur = plan.soft
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
                logger.info(
                    "raised the open-file limit (RLIMIT_NOFILE)",
                    metadata: metadata.merging(["rlimit.nofile.from": "\(previous)", "rlimit.nofile.to": "\(plan.soft)"]) { $1 })
            } else {
                logger.warning("could not raise the open-file limit (RLIMIT_NOFILE)", metadata: metadata.merging(["errno": "\(errno)"]) { $1 })
            }
        }
        if plan.soft < plan.needed {
            logger.warning(
                """
                the open-file hard limit is below http.connection_limit plus the daemon's own files; connections \
                beyond it wait in the accept backlog (raise LimitNOFILE or lower http.connection_limit)
                """, metadata: metadata)
        }
    }

    /// Drains and stops on a dedicated thread, so the blocking wait never occupies the
    /// cooperative pool that the handlers being drained need.
    public func stop(drainTimeout: Duration) async -> StopReport {
        await DedicatedThread.run("axon-http-drain") { self.stopBlocking(drainTimeout: drainTimeout) }
    }

    /// Drains and stops on the calling thread. Never call it from a handler or the cooperative pool.
    public func stopBlocking(drainTimeout: Duration) -> StopReport {
        let handle: Handle? = state.withLock { state in
            guard case .running(let handle, _) = state else { return nil }
            state = .stopping(handle)
            return handle
        }
        guard let handle else { return StopReport(forcedRequests: 0, didStop: false) }
        let (seconds, attoseconds) = drainTimeout.components
        let millis = max(0, min(Int64(UInt32.max), seconds * 1000 + attoseconds / 1_000_000_000_000_000))
        var forced: UInt32 = 0
        var result = hs_server_stop(handle.server, UInt32(millis), &forced)
        while result == -EBUSY {
            // A resumed connection has not been re-entered yet; stopping now would abort the
            // process, so keep waiting (each call waits up to another second).
            logger.warning("HTTP drain: suspended connections still resuming; waiting")
            result = hs_server_stop(handle.server, 0, &forced)
        }
        // Leave `stopping` first: isDraining reads the handle under the same lock.
        state.withLock { $0 = .stopped }
        _ = hs_server_destroy(handle.server)
        handle.context.release()
        if forced > 0 {
            logger.warning("HTTP drain deadline passed; unfinished requests answered 503", metadata: ["http.forced": "\(forced)"])
        }
        return StopReport(forcedRequests: Int(forced), didStop: true)
    }

    deinit {
        // A server dropped while running would leave libmicrohttpd threads calling a freed
        // responder; stopping here (without a drain) keeps that impossible.
        state.withLock { state in
            if case .running(let handle, _) = state {
                var forced: UInt32 = 0
                var result = hs_server_stop(handle.server, 0, &forced)
                while result == -EBUSY { result = hs_server_stop(handle.server, 0, &forced) }
                _ = hs_server_destroy(handle.server)
                handle.context.release()
                state = .stopped
            }
        }
    }
}

/// The shim's callbacks: capture-free functions, so they convert to C function pointers.
private let shimHandler: hs_handler = { request, context in
    guard let request, let context else { return }
    Unmanaged<Responder>.fromOpaque(context).takeUnretainedValue().handle(RequestHandle(pointer: request))
}

private let shimHeaderHandler: hs_header_handler = { request, context in
    guard let request, let context else { return }
    Unmanaged<Responder>.fromOpaque(context).takeUnretainedValue().decide(RequestHandle(pointer: request))
}

/// Hands a chunk of a streamed body to its request's sink; nonzero stops the body.
private let shimBodyHandler: hs_body_handler = { _, user, data, length, context in
    guard let user, let context else { return 1 }
    let responder = Unmanaged<Responder>.fromOpaque(context).takeUnretainedValue()
    let pending = Unmanaged<Responder.Pending>.fromOpaque(user).takeUnretainedValue()
    return responder.receive(UnsafeBufferPointer(start: data, count: data == nil ? 0 : length), for: pending) ? 0 : 1
}

/// Frees a `Responder.Pending` whose request ended before its body arrived.
private let shimUserRelease: hs_user_release = { user in
    guard let user else { return }
    Unmanaged<Responder.Pending>.fromOpaque(user).release()
}

/// How far the soft open-file limit must go for a connection limit.
enum OpenFileLimit {
    /// Descriptors the daemon needs besides connections: the store's and journal's files, logs,
    /// each polling thread's epoll and event descriptors, the listening socket, and headroom.
    static let reserve: rlim_t = 1024
    /// libmicrohttpd's own connection limit when none is configured (FD_SETSIZE - 4).
    static let libraryDefaultConnections: rlim_t = 1020

    /// The soft limit to set: raised toward `needed` (never beyond `hard`), never lowered.
    static func plan(connectionLimit: Int, soft: rlim_t, hard: rlim_t) -> (needed: rlim_t, soft: rlim_t) {
        let connections = connectionLimit > 0 ? rlim_t(connectionLimit) : libraryDefaultConnections
        let needed = connections + reserve
        guard soft < needed else { return (needed, soft) }
        // RLIM_INFINITY is the largest rlim_t, so min() keeps a finite target.
        return (needed, max(soft, min(needed, hard)))
    }
}
