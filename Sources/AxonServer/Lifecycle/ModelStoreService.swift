import AxonHTTP
import AxonStore
import Logging
import ServiceLifecycle

/// Runs a `ModelStore` inside the daemon's `ServiceGroup`: loads every model, then marks the
/// daemon ready, then (with a watch interval) rescans the state directory until shutdown.
///
/// Listed before the HTTP service, so shutdown stops it after the server has drained.
public struct ModelStoreService: Service {
    /// The store this service loads and watches.
    public let store: ModelStore
    /// Marked `ready` once loading has finished.
    public let readiness: Readiness
    /// How often to rescan for versions other processes wrote; nil never rescans.
    public let watchInterval: Duration?
    private let logger: Logger
    private let listening: @Sendable () async -> Void

    /// A service for `store`. `listening` returns once the port is bound: readiness never
    /// precedes it, whichever finishes first.
    public init(
        store: ModelStore, readiness: Readiness, watchInterval: Duration?, logger: Logger,
        listening: @escaping @Sendable () async -> Void = {}
    ) {
        self.store = store
        self.readiness = readiness
        self.watchInterval = watchInterval
        self.logger = logger
        self.listening = listening
    }

    /// Loads, marks ready, then watches (or waits) until graceful shutdown or cancellation.
    public func run() async throws {
        await store.load()
        await listening()
        readiness.markReady()
        guard let interval = watchInterval else {
            try? await gracefulShutdown()
            return
        }
        logger.info("watching the state directory", metadata: ["store.watch_interval": "\(interval)"])
        let store = self.store
        await cancelWhenGracefulShutdown { await store.watch(every: interval) }
        logger.info("stopped watching the state directory")
    }
}
