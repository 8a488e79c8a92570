import Logging

/// Everything `axond serve` configures.
public struct DaemonConfiguration: Sendable, Equatable {
    /// The HTTP server settings.
    public var http = HTTPServerConfiguration()
    /// Directory for checkpoints and other state; created when missing.
    public var stateDirectory: String = "./var"
    /// How long in-flight requests get on SIGTERM/SIGINT before they are answered 503.
    public var drainTimeout: Duration = .seconds(30)
    /// Adds the benchmark and test routes under `/debug/` (off in production).
    public var enableDebugRoutes = false
    /// Versions kept on disk per model; older ones are pruned after each new version.
    public var retainedVersions = 5
    /// How often to rescan the state directory for versions other processes wrote; `nil` never.
    public var watchInterval: Duration? = nil
    /// Training jobs that may run at once; the others queue.
    public var maxTrainingJobs = 1
    /// Job records kept for `GET /jobs` and on disk (`jobs.retain`); the oldest finished go first.
    public var retainedJobs = 1_000
    /// How long a queued job waits for its model's training lock (another replica, or another
    /// job here, training the same model) before it fails with `training_locked`.
    public var trainingLockTimeout: Duration = .seconds(600)
    /// Size limits on what requests may ask for; exceeding one is a 4xx naming the key.
    public var limits = ServerLimits()
    /// Lowest level the log writes (`log.level`).
    public var logLevel: Logger.Level = .info
    /// Text lines for people or JSON objects for machines (`log.format`).
    public var logFormat: LogFormat = .text
    /// Instrumentation and `/metrics` (`metrics.*`).
    public var metrics = MetricsConfiguration()

    /// The defaults: loopback:8080, state in ./var, 30 s drain, no debug routes.
    public init() {}
}

/// Bounds on request and model sizes. Each is a configuration key (`limits.<name>`).
public struct ServerLimits: Sendable, Equatable {
    /// Rows in one predict, evaluate or train request.
    public var maxRowsPerRequest = 1_000_000
    /// Features (input width) of a model.
    public var maxFeatures = 65_536
    /// Trainable parameters of one model.
    public var maxParametersPerModel = 50_000_000
    /// Epochs times training rows of one job: bounds the work a single request can start.
    public var maxEpochRowsPerJob = 1_000_000_000
    /// Models the store holds.
    public var maxModels = 1_000
    /// Jobs waiting in the training queue.
    public var maxQueuedJobs = 100

    /// The defaults above.
    public init() {}
}
