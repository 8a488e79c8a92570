/// An early-stopping rule in the request's own field names, as the job's resolved settings and
/// the model's training configuration report it.
public struct EarlyStoppingView: Sendable, Codable, Equatable {
    /// Epochs without improvement before stopping.
    public var patience: Int
    /// The smallest change that counts as an improvement.
    public var minDelta: Float
    /// Whether the best epoch's weights are kept.
    public var restoreBestWeights: Bool
    enum CodingKeys: String, CodingKey { case patience, minDelta = "min_delta", restoreBestWeights = "restore_best_weights" }

    /// A rule from its fields.
    public init(patience: Int, minDelta: Float, restoreBestWeights: Bool) {
        self.patience = patience
        self.minDelta = minDelta
        self.restoreBestWeights = restoreBestWeights
    }
}
