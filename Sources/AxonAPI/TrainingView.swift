/// The training settings of a version, in the request's own field names.
public struct TrainingView: Codable, Sendable, Equatable {
    /// The optimizer and its rates.
    public struct Optimizer: Codable, Sendable, Equatable {
        /// `sgd`, `adam` or `adamw`.
        public var name: String
        /// The initial learning rate.
        public var learningRate: Float
        /// SGD momentum.
        public var momentum: Float?
        /// AdamW decoupled weight decay.
        public var weightDecay: Float?
        enum CodingKeys: String, CodingKey { case name, momentum, learningRate = "learning_rate", weightDecay = "weight_decay" }

        /// An optimizer from its fields.
        public init(name: String, learningRate: Float, momentum: Float? = nil, weightDecay: Float? = nil) {
            self.name = name
            self.learningRate = learningRate
            self.momentum = momentum
            self.weightDecay = weightDecay
        }
    }

    /// The early-stopping rule.
    public typealias Stopping = EarlyStoppingView

    /// Epochs requested.
    public var epochs: Int
    /// Rows per optimizer step.
    public var batchSize: Int
    /// Seed of the initial weights and the shuffles.
    public var seed: UInt64
    /// The optimizer and its rates.
    public var optimizer: Optimizer
    /// L1 penalty.
    public var l1: Float
    /// L2 penalty.
    public var l2: Float
    /// Dropout rate of the hidden layers.
    public var dropout: Float
    /// Fraction of the rows held out for validation.
    public var validationSplit: Double
    /// The early-stopping rule; nil when off.
    public var earlyStopping: Stopping?
    /// Input scaling: `standard`, `min_max` or `none`.
    public var normalize: String
    /// Whether regression targets are standardized.
    public var normalizeTargets: Bool

    enum CodingKeys: String, CodingKey {
        case epochs, seed, optimizer, l1, l2, dropout, normalize
        case batchSize = "batch_size", validationSplit = "validation_split", earlyStopping = "early_stopping"
        case normalizeTargets = "normalize_targets"
    }

    /// Settings from their fields.
    public init(
        epochs: Int, batchSize: Int, seed: UInt64, optimizer: Optimizer, l1: Float, l2: Float, dropout: Float,
        validationSplit: Double, earlyStopping: Stopping?, normalize: String, normalizeTargets: Bool
    ) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.seed = seed
        self.optimizer = optimizer
        self.l1 = l1
        self.l2 = l2
        self.dropout = dropout
        self.validationSplit = validationSplit
        self.earlyStopping = earlyStopping
        self.normalize = normalize
        self.normalizeTargets = normalizeTargets
    }
}
