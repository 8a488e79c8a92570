/// Settings for one call of `Trainer.fit`.
public struct TrainingConfiguration: Sendable, Equatable, Codable {
    /// Passes over the training data.
    public var epochs: Int
    /// Rows per mini-batch; the last partial batch of an epoch is kept.
    public var batchSize: Int
    /// Reshuffle the training rows before every epoch.
    public var shuffle: Bool
    /// Seed for shuffling, dropout and the validation split.
    public var seed: UInt64
    /// The update rule.
    public var optimizer: OptimizerConfiguration
    /// Learning-rate decay by epoch.
    public var schedule: LearningRateSchedule
    /// Penalties, dropout and clipping.
    public var regularization: Regularization
    /// Stop when the monitored loss stops improving (nil trains all epochs).
    public var earlyStopping: EarlyStopping?
    /// Fraction of the training data held out for validation when `fit` gets no validation set
    /// (0 disables the split).
    public var validationFraction: Double
    /// Normalizer fitted on the training split when the model has none yet.
    public var normalization: Normalizer.Kind
    /// Standardize the targets of a regression model with identity outputs, fitted on the
    /// training split, when the model has no target standardizer yet (nil or false: the
    /// network learns the targets as given). Optional so that configurations stored before it
    /// existed decode, and encode, unchanged.
    public var normalizeTargets: Bool?
    /// Threads each training step runs on (nil: 1). Above 1 every batch is split among them
    /// (`Trainer+Parallel.swift`); the weights a seed gives then depend on the thread count.
    /// Each thread calls OpenBLAS: keep OpenBLAS itself at one thread (`BLAS.setThreadCount(1)`,
    /// as axond does), or the threads queue for its thread team. A small network gets fewer
    /// threads (`ModelConfiguration.trainingThreads(for:)`). Optional so that configurations
    /// stored before it existed decode, and encode, unchanged.
    public var threads: Int?

    /// Creates a configuration; defaults match the peers' benchmark settings (Adam 1e-3, batch 32).
    public init(
        epochs: Int = 10, batchSize: Int = 32, shuffle: Bool = true, seed: UInt64 = 0,
        optimizer: OptimizerConfiguration = .adam(), schedule: LearningRateSchedule = .constant,
        regularization: Regularization = Regularization(), earlyStopping: EarlyStopping? = nil,
        validationFraction: Double = 0, normalization: Normalizer.Kind = .none, normalizeTargets: Bool? = nil,
        threads: Int? = nil
    ) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.seed = seed
        self.optimizer = optimizer
        self.schedule = schedule
        self.regularization = regularization
        self.earlyStopping = earlyStopping
        self.validationFraction = validationFraction
        self.normalization = normalization
        self.normalizeTargets = normalizeTargets
        self.threads = threads
    }

    /// Throws the first setting that is out of range.
    public func validate() throws(TrainingError) {
        if epochs < 1 { throw .invalidHyperparameter(name: "epochs", value: Double(epochs), allowed: ">= 1") }
        if batchSize < 1 || batchSize > 1 << 16 {
            throw .invalidHyperparameter(name: "batch_size", value: Double(batchSize), allowed: "1...65536")
        }
        if !(validationFraction >= 0 && validationFraction < 1) {
            throw .invalidHyperparameter(name: "validation_fraction", value: validationFraction, allowed: "[0, 1)")
        }
        if let threads, !(1 ... Trainer.maximumThreads).contains(threads) {
            throw .invalidHyperparameter(name: "threads", value: Double(threads), allowed: "1...\(Trainer.maximumThreads)")
        }
        try optimizer.validate()
        try schedule.validate()
        try regularization.validate()
        try earlyStopping?.validate()
    }
}

/// Penalties and noise that fight overfitting.
public struct Regularization: Sendable, Equatable, Codable {
    /// L1 strength: adds `l1 * sign(w)` to each weight gradient (biases are not penalized).
    public var l1: Float
    /// L2 strength: adds `l2 * w` to each weight gradient, i.e. penalty `l2 / 2 * ||w||^2`.
    /// (For decoupled decay use `OptimizerConfiguration.adamW`.)
    public var l2: Float
    /// Probability of zeroing a hidden unit during training (inverted dropout; never at inference).
    public var dropout: Float
    /// Rescale the whole gradient when its L2 norm exceeds this (nil: no clipping).
    public var gradientClipNorm: Float?

    /// Creates a regularization setting; the defaults disable everything.
    public init(l1: Float = 0, l2: Float = 0, dropout: Float = 0, gradientClipNorm: Float? = nil) {
        self.l1 = l1
        self.l2 = l2
        self.dropout = dropout
        self.gradientClipNorm = gradientClipNorm
    }

    /// Throws the first setting that is out of range.
    public func validate() throws(TrainingError) {
        if !(l1 >= 0 && l1.isFinite) { throw .invalidHyperparameter(name: "regularization.l1", value: Double(l1), allowed: ">= 0") }
        if !(l2 >= 0 && l2.isFinite) { throw .invalidHyperparameter(name: "regularization.l2", value: Double(l2), allowed: ">= 0") }
        if !(dropout >= 0 && dropout < 1) {
            throw .invalidHyperparameter(name: "regularization.dropout", value: Double(dropout), allowed: "[0, 1)")
        }
        if let norm = gradientClipNorm, !(norm > 0 && norm.isFinite) {
            throw .invalidHyperparameter(name: "regularization.gradient_clip_norm", value: Double(norm), allowed: "> 0")
        }
    }
}

/// Stops training when the monitored loss (validation loss if there is a validation set,
/// training loss otherwise) has not improved by `minDelta` for `patience` epochs.
public struct EarlyStopping: Sendable, Equatable, Codable {
    /// Epochs without improvement to tolerate.
    public var patience: Int
    /// Smallest decrease that counts as an improvement.
    public var minDelta: Float
    /// Put back the weights of the best epoch when training stops (early or not).
    public var restoreBestWeights: Bool

    /// Creates an early-stopping rule.
    public init(patience: Int = 5, minDelta: Float = 0, restoreBestWeights: Bool = true) {
        self.patience = patience
        self.minDelta = minDelta
        self.restoreBestWeights = restoreBestWeights
    }

    /// Throws the first setting that is out of range.
    public func validate() throws(TrainingError) {
        if patience < 1 { throw .invalidHyperparameter(name: "early_stopping.patience", value: Double(patience), allowed: ">= 1") }
        if !(minDelta >= 0 && minDelta.isFinite) {
            throw .invalidHyperparameter(name: "early_stopping.min_delta", value: Double(minDelta), allowed: ">= 0")
        }
    }
}
