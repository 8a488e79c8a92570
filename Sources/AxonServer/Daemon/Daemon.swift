import Foundation
import Logging
import ServiceLifecycle

/// The Axon daemon as a library: configuration in, a running server out, drained on
/// SIGTERM/SIGINT. `axond` is a thin `main` around it; tests can run it without one.
public struct Daemon: Sendable {
    /// The configuration it runs with.
    public let configuration: DaemonConfiguration
    /// Readiness, marked `ready` once state has loaded; its transitions reach systemd.
    public let readiness: Readiness
    /// systemd's notify socket (`READY=1`, `STOPPING=1`, `WATCHDOG=1`, `STATUS=`); a no-op
    /// when not run by systemd.
    public let notifier: SystemdNotifier
    private let logger: Logger

    /// A daemon for `configuration`, logging through `logger`, notifying systemd through
    /// `notifier` (read from the process environment by default).
    public init(configuration: DaemonConfiguration, logger: Logger, notifier: SystemdNotifier = SystemdNotifier()) {
        self.configuration = configuration
        self.logger = logger
        self.notifier = notifier
        readiness = Readiness(onChange: SystemdReadinessReporter(notifier: notifier, configuration: configuration).report)
    }

    /// The daemon's routes. Later features register theirs here.
    public func makeRouter() -> Router {
        var router = Router()
        HealthRoutes.register(on: &router, readiness: readiness)
        if configuration.enableDebugRoutes { DebugRoutes.register(on: &router) }
        return router
    }

    /// Runs until SIGTERM or SIGINT, then drains within the drain timeout and returns.
    public func run() async throws {
        try FileManager.default.createDirectory(
            atPath: configuration.stateDirectory, withIntermediateDirectories: true)
        let server = HTTPServer(configuration: configuration.http, router: makeRouter(), logger: logger)
        try server.start()
        let readiness = self.readiness
        // READY=1 goes out from markReady, i.e. only after the port is bound (and, once the
        // store loads checkpoints before this point, after they are loaded).
        let service = HTTPServerService(
            server: server, readiness: readiness, drainTimeout: configuration.drainTimeout, logger: logger,
            onListening: { [notifier] address in
                notifier.status("listening on \(address)")
                readiness.markReady()
            })
        let watchdog = SystemdWatchdog(notifier: notifier, logger: logger)
        defer { watchdog?.stop() }
        var group = ServiceGroupConfiguration(services: [service], logger: logger)
        // Cancellation is the fallback if the drain itself hangs past its own deadline.
        group.maximumGracefulShutdownDuration = configuration.drainTimeout + .seconds(5)
        let serviceGroup = ServiceGroup(configuration: group)
        // Signals are caught by the shim's process-wide handler rather than ServiceGroup's
        // Dispatch sources: those register asynchronously and, under load, a SIGTERM could
        // still meet the default action and kill the process instead of draining it.
        let watcher = try ShutdownSignalWatcher(signals: [SIGTERM, SIGINT], logger: logger) {
            await serviceGroup.triggerGracefulShutdown()
        }
        defer { watcher.stop() }
        try await serviceGroup.run()
    }
}
