/// The life of a training job.
public enum JobStatus: String, Sendable, Codable, Equatable {
    /// Waiting for a training slot (`--max-training-jobs`) or its model's training lock.
    case queued
    /// Training on its own thread.
    case running
    /// Trained, installed and checkpointed: `version` serves.
    case succeeded
    /// Stopped by an error (see `error`); the model keeps its previous version.
    case failed
    /// Cancelled by `DELETE /jobs/{id}`; nothing was installed.
    case cancelled

    /// Whether the job has ended.
    public var isFinished: Bool { self == .succeeded || self == .failed || self == .cancelled }
}

/// What `GET /jobs/{id}` answers: a consistent copy of one job's state.
public struct JobSnapshot: Sendable, Codable {
    /// One finished epoch of the loss curve.
    public struct Epoch: Sendable, Codable, Equatable {
        /// Zero-based epoch index (counted across warm starts).
        public var epoch: Int
        /// Mean training loss.
        public var trainLoss: Double?
        /// Validation loss, when there is a validation split.
        public var validationLoss: Double?
        /// Rows per second in that epoch.
        public var samplesPerSecond: Double?

        enum CodingKeys: String, CodingKey {
            case epoch, trainLoss = "train_loss", validationLoss = "validation_loss", samplesPerSecond = "samples_per_second"
        }

        /// An epoch from its figures.
        public init(epoch: Int, trainLoss: Double?, validationLoss: Double?, samplesPerSecond: Double?) {
            self.epoch = epoch
            self.trainLoss = trainLoss
            self.validationLoss = validationLoss
            self.samplesPerSecond = samplesPerSecond
        }
    }

    /// An error that ended the job: the code and message an error answer carries.
    public typealias Failure = ErrorEnvelope.Body

    /// The job id.
    public var id: String
    /// The model it trains.
    public var model: String
    /// `train` (a new network) or `continue` (warm start from the current version).
    public var kind: String
    /// Where the job is.
    public var status: JobStatus
    /// When it was submitted, started and finished (ISO 8601).
    public var createdAt: String
    /// When it started running.
    public var startedAt: String?
    /// When it ended.
    public var finishedAt: String?
    /// Epochs requested.
    public var epochs: Int
    /// Epochs finished so far.
    public var epoch: Int
    /// Training rows (after the validation split).
    public var rows: Int
    /// The loss curve.
    public var history: [Epoch]
    /// Why training stopped: completed, early_stopped or cancelled.
    public var stopReason: String?
    /// Early stopping restored the weights of this epoch.
    public var restoredEpoch: Int?
    /// Recent throughput in rows per second.
    public var samplesPerSecond: Double?
    /// Estimated seconds until the last epoch ends (running jobs).
    public var etaSeconds: Double?
    /// The version installed (succeeded jobs).
    public var version: UInt64?
    /// The version it continued from.
    public var parentVersion: UInt64?
    /// Metrics of the installed version on the validation split (or the training rows).
    public var metrics: MetricsView?
    /// The error of a failed job.
    public var error: Failure?
    /// What a queued job waits for besides a slot: its model's training lock, and who holds it.
    public var waitingFor: String?
    /// Every setting the run uses and why each default was chosen.
    public var settings: ResolvedSettings?

    enum CodingKeys: String, CodingKey {
        case id, model, kind, status, epochs, epoch, rows, history, version, metrics, error
        case createdAt = "created_at", startedAt = "started_at", finishedAt = "finished_at"
        case stopReason = "stop_reason", restoredEpoch = "restored_epoch", samplesPerSecond = "samples_per_second"
        case etaSeconds = "eta_seconds", parentVersion = "parent_version", waitingFor = "waiting_for", settings
    }

    /// A job as submitted; the rest is filled in as it runs.
    public init(
        id: String, model: String, kind: String, status: JobStatus, createdAt: String, epochs: Int, epoch: Int, rows: Int,
        history: [Epoch], parentVersion: UInt64? = nil
    ) {
        self.id = id
        self.model = model
        self.kind = kind
        self.status = status
        self.createdAt = createdAt
        self.epochs = epochs
        self.epoch = epoch
        self.rows = rows
        self.history = history
        self.parentVersion = parentVersion
    }
}

/// `GET /jobs`: the most recent jobs first (`?limit=` of them).
public struct JobList: Codable, Sendable {
    /// The jobs.
    public var jobs: [JobSnapshot]

    /// A list of `jobs`.
    public init(jobs: [JobSnapshot]) {
        self.jobs = jobs
    }
}
