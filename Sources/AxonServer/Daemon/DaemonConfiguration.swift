import AxonHTTP
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging

/// Everything `axond serve` configures.
public struct DaemonConfiguration: Sendable, Equatable {
    /// The HTTP server settings.
    public var http = HTTPServerConfiguration()
    /// Directory for checkpoints and other state; created when missing.
    public var stateDirectory: String = "./var"
    /// Serve the models found in `stateDirectory` and never write there (`read_only`): the
    /// directory must exist, and training, rollback and delete are refused with 405.
    public var readOnly = false
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
    /// Loss-curve points kept per job (`jobs.history_points`); longer runs are evenly decimated.
    public var jobHistoryPoints = 1_000
    /// Where large predictions and evaluations run (`inference.*`).
    public var inference = InferenceConfiguration()
    /// Server-Sent Event streams open at once (`events.max_streams`); more get 503.
    public var maxEventStreams = 100
    /// Seconds between the keep-alive comments of an event stream (`events.heartbeat_seconds`).
    public var eventHeartbeat: Duration = .seconds(15)
    /// Lowest level the log writes (`log.level`).
    public var logLevel: Logger.Level = .info
    /// Text lines for people or JSON objects for machines (`log.format`).
    public var logFormat: LogFormat = .text
    /// Instrumentation and `/metrics` (`metrics.*`).
    public var metrics = MetricsConfiguration()
    /// Serves the web console at `/ui` (`ui.enabled`).
    public var enableConsole = true

    /// The defaults: loopback:8080, state in ./var, 30 s drain, no debug routes.
    public init() {}
}

/// The bounded pool that runs predictions too costly for a polling thread, and evaluations.
public struct InferenceConfiguration: Sendable, Equatable {
    /// Threads of the pool.
    public var threads = 1
    /// Requests waiting for a pool thread; more are answered 503 `overloaded`.
    public var queueLimit = 64
    /// Predictions that cost more floating-point operations than this run in the pool; cheaper
    /// ones answer on the polling thread, the fastest path.
    public var asyncThresholdFlops = 10_000_000

    /// The defaults above.
    public init() {}
}

/// Bounds on request and model sizes. Each is a configuration key (`limits.<name>`), except
/// the threads a training job may use (`training.threads`).
public struct ServerLimits: Sendable, Equatable {
    /// Threads each training job runs on (`training.threads`): every batch is split among
    /// them. By default one per core but one, so that on two cores training leaves a core to
    /// the HTTP polling thread.
    public var trainingThreads = ServerLimits.defaultTrainingThreads
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
    /// Working memory of one inference or evaluate request: the rows through every layer, the
    /// outputs and the response buffer, in bytes.
    public var maxRequestBytes = 512 << 20
    /// Floating-point operations of one inference or evaluate request.
    public var maxRequestFlops = 50_000_000_000
    /// Memory one training job holds: dataset, one-hot targets, validation split, every
    /// layer's workspaces, parameters, gradients, optimizer moments, evaluation and history.
    public var maxJobBytes = 4 << 30
    /// Floating-point operations of one training job (forward and backward over every epoch).
    public var maxJobFlops = 1_000_000_000_000_000
    /// Memory held by the datasets and start models of queued jobs, all together.
    public var maxQueuedJobBytes = 8 << 30
    /// Classes of one classifier (its confusion matrix is classes x classes).
    public var maxClasses = 1_024
    /// Categories of all text columns of one model together: the one-hot inputs they add.
    public var maxCategories = 4_096
    /// Layers of one network, input and output included.
    public var maxLayers = 256
    /// Nesting depth of a JSON body, skipped values included.
    public var maxJSONDepth = 64
    /// Bytes of one string token (a key, model name or class label) in JSON or CSV.
    public var maxStringBytes = 65_536
    /// Characters of one number token in JSON or CSV.
    public var maxNumberBytes = 256
    /// Bytes of one training body (`POST /train`, `POST /models/{name}/train`), read as it
    /// arrives instead of held whole; other bodies get `limits.max_body_bytes`.
    public var maxTrainBodyBytes = 4 << 30

    /// The defaults above.
    public init() {}

    /// One per online core but one, at least one.
    public static var defaultTrainingThreads: Int { max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)) - 1) }
}
