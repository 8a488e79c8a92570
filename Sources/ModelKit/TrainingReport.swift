/// What one epoch achieved; passed to the progress callback and kept in the report.
public struct EpochProgress: Sendable, Equatable {
    /// Zero-based epoch index, counted across warm starts (`OptimizerState.epoch`).
    public var epoch: Int
    /// Mean training loss over the epoch's batches (before regularization penalties).
    public var trainLoss: Double
    /// Mean loss on the validation set after the epoch, if there is one.
    public var validationLoss: Double?
    /// Training throughput of the epoch (rows per second of wall time, validation excluded).
    public var samplesPerSecond: Double
    /// Learning rate used during the epoch.
    public var learningRate: Float
}

/// The outcome of `Trainer.fit`.
public struct TrainingReport: Sendable, Equatable {
    /// Why the loop ended.
    public enum StopReason: String, Sendable, Equatable, Codable {
        /// Every requested epoch ran.
        case completed
        /// Early stopping ran out of patience.
        case earlyStopped = "early_stopped"
        /// The cancellation check returned true between two steps.
        case cancelled
    }

    /// Why the loop ended.
    public var stopReason: StopReason
    /// One entry per finished epoch, evenly decimated past `Trainer.historyCapacity` (the
    /// last epoch always included).
    public var history: [EpochProgress]
    /// Epochs that finished in this call (the history may keep fewer).
    public var epochsRun: Int
    /// The epoch whose weights the model holds after restoring the best ones (nil if none
    /// were restored).
    public var restoredEpoch: Int?
    /// The monitored loss (validation, else training) of `restoredEpoch`.
    public var restoredLoss: Double?
    /// Wall time of the epoch loop in seconds (validation included, data preparation excluded).
    public var seconds: Double
    /// Training rows processed per second over the whole loop.
    public var samplesPerSecond: Double
}
