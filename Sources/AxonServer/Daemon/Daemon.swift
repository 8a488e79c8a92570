import AxonHTTP
import AxonJobs
import AxonStore
import AxonSupport
import Foundation
import Logging
import ModelKit
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
    /// Every metric family; `metrics.configuration.enabled` decides instrumentation and `/metrics`.
    public let metrics: AxonMetrics
    /// Every model; loaded from `configuration.stateDirectory` when `run()` starts.
    public let store: ModelStore
    /// The training queue (`max_training_jobs` at once).
    public let jobs: JobScheduler
    /// The jobs' and models' Server-Sent Events.
    public let events: JobEvents
    private let logger: Logger
    /// Opened by `triggerGracefulShutdown()`.
    private let shutdownRequested = Latch()

    /// A daemon for `configuration`, logging through `logger`, recording into `metrics` and
    /// notifying systemd through `notifier` (read from the process environment by default).
    public init(
        configuration: DaemonConfiguration, logger: Logger, metrics: AxonMetrics? = nil,
        notifier: SystemdNotifier = SystemdNotifier()
    ) {
        self.configuration = configuration
        self.logger = logger
        self.notifier = notifier
        let metrics = metrics ?? AxonMetrics(configuration: configuration.metrics)
        self.metrics = metrics
        let recorder = Self.recorder(metrics)
        let store = ModelStore(
            stateDirectory: configuration.stateDirectory, retainedVersions: configuration.retainedVersions,
            maxModels: configuration.limits.maxModels, logger: logger, metrics: recorder,
            readOnly: configuration.readOnly)
        let events = JobEvents(maxStreams: configuration.maxEventStreams, heartbeat: configuration.eventHeartbeat)
        let jobs = JobScheduler(
            store: store, maxRunning: configuration.maxTrainingJobs, maxQueued: configuration.limits.maxQueuedJobs,
            lockTimeout: configuration.trainingLockTimeout, retain: configuration.retainedJobs,
            historyPoints: configuration.jobHistoryPoints,
            maxQueuedBytes: configuration.limits.maxQueuedJobBytes, logger: logger, metrics: recorder?.training,
            observer: events)
        self.store = store
        self.jobs = jobs
        self.events = events
        // The events, not the scheduler: it holds the training metrics, which would hold it back.
        recorder?.training.observeEvents(open: { events.openStreams }, dropped: { events.droppedEvents })
        readiness = Readiness(onChange: SystemdReadinessReporter(notifier: notifier, configuration: configuration).report)
    }

    /// The daemon's routes. Later features register theirs here.
    public func makeRouter() -> Router {
        makeRouter(context: makeContext())
    }

    /// What the API routes share, with its own inference pool.
    func makeContext() -> APIContext {
        APIContext(
            store: store, jobs: jobs, events: events, limits: configuration.limits, inference: configuration.inference,
            metrics: Self.recorder(metrics))
    }

    func makeRouter(context: APIContext) -> Router {
        var router = Router()
        HealthRoutes.register(on: &router, readiness: readiness)
        if configuration.enableDebugRoutes { DebugRoutes.register(on: &router) }
        if metrics.configuration.enabled {
            MetricsRoutes.register(on: &router, metrics: metrics)
        }
        APIRoutes.register(on: &router, context: context)
        if configuration.enableConsole { ConsoleRoutes.register(on: &router) }
        return router
    }

    /// With metrics off nothing records: the store, jobs, routes and server get no instance.
    private static func recorder(_ metrics: AxonMetrics) -> AxonMetrics? {
        metrics.configuration.enabled ? metrics : nil
    }

    /// Runs until SIGTERM or SIGINT, then drains within the drain timeout and returns.
    ///
    /// Every long-lived part is a `Service` of one `ServiceGroup`, listed in start order and
    /// stopped in reverse: the HTTP server drains first, then the store stops watching, the
    /// inference pool answers what it holds, the event streams' heartbeat ends, the job records
    /// are handed on, and the watchdog stops last.
    public func run() async throws {
        // ModelKit's products are small: OpenBLAS threads would cost more than they save.
        BLAS.setThreadCount(1)
        if configuration.readOnly {
            // No job journal either: it lives in the state directory. Jobs cannot be submitted.
            logger.notice(
                "read-only: serving the state directory without writing to it; training, rollback and delete are refused",
                metadata: ["state.dir": "\(configuration.stateDirectory)"])
        } else {
            try FileManager.default.createDirectory(
                atPath: configuration.stateDirectory, withIntermediateDirectories: true)
            // Before the port is bound: the jobs of the previous run are listed from the first request.
            jobs.restore(stateDirectory: configuration.stateDirectory)
        }
        let serviceGroup = ServiceGroup(configuration: groupConfiguration())
        try await serviceGroup.run()
    }

    /// Drains and stops a running daemon as SIGTERM does (for embedding and tests).
    public func triggerGracefulShutdown() {
        shutdownRequested.open()
    }

    private func groupConfiguration() -> ServiceGroupConfiguration {
        let context = makeContext()
        let server = HTTPServer(
            configuration: configuration.http, router: makeRouter(context: context), logger: logger,
            metrics: Self.recorder(metrics)?.http)
        let listening = Latch()
        let (jobs, notifier, host) = (self.jobs, self.notifier, configuration.http.host)
        let http = HTTPServerService(
            server: server, readiness: readiness, drainTimeout: configuration.drainTimeout, logger: logger,
            onListening: { _ in
                notifier.status("listening on \(host):\(server.port ?? 0)")
                listening.open()
            },
            // Queued jobs would never run in this process: their waiters hear so now. On a
            // thread of its own: their records are written (fsync) before the waiters are told.
            onDrain: { DedicatedThread.start("axon-drain-jobs") { jobs.beginDrain() } })
        // The store marks the daemon ready (and so sends READY=1) once every model has loaded
        // and the port is bound.
        let store = ModelStoreService(
            store: self.store, readiness: readiness, watchInterval: configuration.watchInterval, logger: logger,
            listening: { await listening.wait() })
        let watchdog = SystemdWatchdog(notifier: notifier, logger: logger)
        let services: [any Service] = [
            ShutdownStep(name: "axon-stop-watchdog") { watchdog?.stop() },
            // At graceful shutdown the records are handed to the next run; jobs still training
            // then are listed by it as interrupted.
            ShutdownStep(name: "axon-close-jobs") { jobs.close() },
            // After the HTTP drain, which already ended the streams' bodies: the heartbeat stops.
            ShutdownStep(name: "axon-close-events") { events.close() },
            // After the drain: predictions still queued for the pool are answered, then its threads end.
            ShutdownStep(name: "axon-stop-inference") { context.shutdown() },
            store,
            http,
        ]
        // SIGTERM and SIGINT drain. ServiceGroup registers its signal sources, and awaits their
        // registration, before it starts any service, so no signal finds the default action
        // once the port is bound.
        let request = ServiceGroupConfiguration.ServiceConfiguration(
            service: ShutdownRequest(latch: shutdownRequested), successTerminationBehavior: .gracefullyShutdownGroup)
        var group = ServiceGroupConfiguration(
            services: [request] + services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        // Cancellation is the fallback if the drain itself hangs past its own deadline.
        group.maximumGracefulShutdownDuration = configuration.drainTimeout + .seconds(5)
        return group
    }
}
