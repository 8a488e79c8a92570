/// The events of `GET /jobs/{id}/events` and `GET /events` (docs/events.md), by their `event:`
/// name. The final events (`succeeded`, `failed`, `cancelled`) carry the whole `JobSnapshot`.
public enum JobEventName: String, Sendable, CaseIterable {
    /// The job waits for a slot or its model's training lock (`JobStage`).
    case queued
    /// The job started training (`JobStage`).
    case started
    /// One epoch finished (`JobProgress`).
    case epoch
    /// Trained and installed (`JobSnapshot`).
    case succeeded
    /// Stopped by an error (`JobSnapshot` with `error`).
    case failed
    /// Cancelled by `DELETE /jobs/{id}` (`JobSnapshot`).
    case cancelled
    /// A model was installed, rolled back or deleted (`ModelChange`; `GET /events` only).
    case model

    /// Whether the event ends a job's stream.
    public var isFinal: Bool { self == .succeeded || self == .failed || self == .cancelled }
}

/// The data of `queued` and `started`: who, where and, when waiting, for what.
public struct JobStage: Codable, Sendable, Equatable {
    /// The job id.
    public var job: String
    /// The model it trains.
    public var model: String
    /// `queued` or `running`, as it was then (also when replayed from a later record).
    public var status: String
    /// Epochs requested.
    public var epochs: Int
    /// Training rows (after the validation split).
    public var rows: Int
    /// What a queued job waits for besides a slot: its model's training lock, and who holds it.
    public var waitingFor: String?

    enum CodingKeys: String, CodingKey { case job, model, status, epochs, rows, waitingFor = "waiting_for" }

    /// The stage of `snapshot` as it was at `status`.
    public init(_ snapshot: JobSnapshot, status: JobStatus) {
        job = snapshot.id
        model = snapshot.model
        self.status = status.rawValue
        epochs = snapshot.epochs
        rows = snapshot.rows
        waitingFor = status == .queued ? snapshot.waitingFor : nil
    }
}

/// The data of `epoch`: one finished epoch.
public struct JobProgress: Codable, Sendable, Equatable {
    /// The job id.
    public var job: String
    /// Zero-based epoch index (counted across warm starts).
    public var epoch: Int
    /// Epochs requested.
    public var epochs: Int
    /// Mean training loss.
    public var trainLoss: Double?
    /// Validation loss, when there is a validation split.
    public var validationLoss: Double?
    /// Rows per second in that epoch.
    public var samplesPerSecond: Double?
    /// Estimated seconds until the last epoch ends.
    public var etaSeconds: Double?

    enum CodingKeys: String, CodingKey {
        case job, epoch, epochs, trainLoss = "train_loss", validationLoss = "validation_loss"
        case samplesPerSecond = "samples_per_second", etaSeconds = "eta_seconds"
    }

    /// Epoch `point` of `snapshot`.
    public init(_ snapshot: JobSnapshot, _ point: JobSnapshot.Epoch) {
        job = snapshot.id
        epoch = point.epoch
        epochs = snapshot.epochs
        trainLoss = point.trainLoss
        validationLoss = point.validationLoss
        samplesPerSecond = point.samplesPerSecond
        etaSeconds = snapshot.etaSeconds
    }
}

/// The data of `model` on `GET /events`.
public struct ModelChange: Codable, Sendable, Equatable {
    /// The model's name.
    public var model: String
    /// `installed`, `rolled_back` or `deleted`.
    public var change: String
    /// The version that serves now (nil once deleted).
    public var version: UInt64?

    /// A change from its fields.
    public init(model: String, change: String, version: UInt64?) {
        self.model = model
        self.change = change
        self.version = version
    }
}
