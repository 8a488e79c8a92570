/// Every setting a training run used, whether the request gave it or a default chose it, and
/// why each default was chosen: what `GET /jobs/{id}` and `GET /models/{name}` report as
/// `settings`, so a user sees what they got.
public struct ResolvedSettings: Sendable, Codable, Equatable {
    /// The early-stopping rule in the request's own field names.
    public typealias Stopping = EarlyStoppingView

    /// `classification` or `regression`.
    public var task: String
    /// Layer widths, input first.
    public var layers: [Int]
    /// The hidden layers' activation (`none` without hidden layers).
    public var activation: String
    /// The loss's wire name.
    public var loss: String
    /// `sgd`, `adam` or `adamw`.
    public var optimizer: String
    /// The initial learning rate.
    public var learningRate: Float
    /// How the rate changes over the run ("cosine to 3e-05 over 200 epochs"); nil when constant.
    public var learningRateSchedule: String?
    /// Rows per optimizer step.
    public var batchSize: Int
    /// Epochs requested.
    public var epochs: Int
    /// The optimizer-step budget: epochs x batches per epoch (nil where the row count is unknown).
    public var steps: Int?
    /// Fraction of the rows held out for validation.
    public var validationSplit: Double
    /// L2 penalty.
    public var l2: Float
    /// The early-stopping rule; nil when off.
    public var earlyStopping: Stopping?
    /// Input scaling: `standard`, `min_max` or `none`.
    public var normalize: String
    /// Whether regression targets are standardized.
    public var normalizeTargets: Bool
    /// Threads each step ran on (`training.threads`); a seed gives the same weights again only
    /// with the same count.
    public var threads: Int?
    /// Why each default was chosen, keyed by the request field; fields the request gave are absent.
    public var why: [String: String]

    enum CodingKeys: String, CodingKey {
        case task, layers, activation, loss, optimizer, epochs, steps, normalize, why, l2, threads
        case learningRate = "learning_rate", learningRateSchedule = "learning_rate_schedule", batchSize = "batch_size", validationSplit = "validation_split"
        case earlyStopping = "early_stopping", normalizeTargets = "normalize_targets"
    }

    /// Settings from their fields.
    public init(
        task: String, layers: [Int], activation: String, loss: String, optimizer: String, learningRate: Float,
        learningRateSchedule: String?, batchSize: Int, epochs: Int, steps: Int?, validationSplit: Double, l2: Float,
        earlyStopping: Stopping?, normalize: String, normalizeTargets: Bool, why: [String: String]
    ) {
        self.task = task
        self.layers = layers
        self.activation = activation
        self.loss = loss
        self.optimizer = optimizer
        self.learningRate = learningRate
        self.learningRateSchedule = learningRateSchedule
        self.batchSize = batchSize
        self.epochs = epochs
        self.steps = steps
        self.validationSplit = validationSplit
        self.l2 = l2
        self.earlyStopping = earlyStopping
        self.normalize = normalize
        self.normalizeTargets = normalizeTargets
        self.why = why
    }
}
