import Logging
import ServiceLifecycle

/// Runs an `HTTPServer` inside a swift-service-lifecycle `ServiceGroup`: starts it, logs the
/// bound address, and on graceful shutdown marks the daemon draining and drains the server.
public struct HTTPServerService: Service {
    /// The server this service runs.
    public let server: HTTPServer
    /// Flipped to `draining` when shutdown begins, so `/readyz` answers 503 at once.
    public let readiness: Readiness
    /// How long in-flight requests get to finish before they are answered 503.
    public let drainTimeout: Duration
    private let logger: Logger
    private let onListening: @Sendable (String) -> Void
    private let onDrain: @Sendable () -> Void

    /// A service for `server`. `onListening` runs once the port is bound (with its address);
    /// `onDrain` the moment the drain begins, before in-flight requests have finished (it must
    /// not block: the drain waits for it).
    public init(
        server: HTTPServer, readiness: Readiness, drainTimeout: Duration, logger: Logger,
        onListening: @escaping @Sendable (String) -> Void = { _ in }, onDrain: @escaping @Sendable () -> Void = {}
    ) {
        self.server = server
        self.readiness = readiness
        self.drainTimeout = drainTimeout
        self.logger = logger
        self.onListening = onListening
        self.onDrain = onDrain
    }

    /// Serves until graceful shutdown (or cancellation), then drains.
    public func run() async throws {
        if server.port == nil { try server.start() }
        let address = server.boundAddress ?? "?"
        logger.notice("axond listening", metadata: ["http.address": "\(address)"])
        onListening(address)
        // Cancellation is the forceful fallback: drain either way so no suspended connection
        // is left behind.
        try? await gracefulShutdown()
        readiness.markDraining()
        onDrain()
        logger.notice("draining HTTP server", metadata: ["drain.timeout": "\(drainTimeout)"])
        let report = await server.stop(drainTimeout: drainTimeout)
        logger.notice("HTTP server stopped", metadata: ["http.forced": "\(report.forcedRequests)"])
    }
}
