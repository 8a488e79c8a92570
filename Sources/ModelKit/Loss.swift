/// The training objective. Each loss averages over the samples of a batch and, for several
/// outputs, sums over outputs (cross-entropies) or averages over them (mse, mae, huber).
public enum Loss: Sendable, Equatable, Codable {
    /// Mean squared error, `mean((p - y)^2)`.
    case meanSquaredError
    /// Mean absolute error, `mean(|p - y|)`.
    case meanAbsoluteError
    /// Huber loss: quadratic within `delta` of the target, linear beyond.
    case huber(delta: Float)
    /// Binary cross-entropy on sigmoid outputs (targets in [0, 1]; binary or multi-label).
    case binaryCrossEntropy
    /// Cross-entropy on softmax outputs (one-hot targets). Computed from the logits with the
    /// log-sum-exp trick and fused with softmax in the gradient (`p - y`).
    case softmaxCrossEntropy

    /// The name requests and responses use (`loss` in `/train`, the architecture of a model).
    public var name: String {
        switch self {
        case .softmaxCrossEntropy: "cross_entropy"
        case .binaryCrossEntropy: "binary_cross_entropy"
        case .meanSquaredError: "mse"
        case .meanAbsoluteError: "mae"
        case .huber: "huber"
        }
    }

    /// Whether the loss defines a classification task.
    public var isClassification: Bool {
        switch self {
        case .binaryCrossEntropy, .softmaxCrossEntropy: true
        case .meanSquaredError, .meanAbsoluteError, .huber: false
        }
    }

    /// The output activations the loss can be paired with.
    public var compatibleOutputs: Set<Activation> {
        switch self {
        case .meanSquaredError, .meanAbsoluteError, .huber: [.identity, .sigmoid]
        case .binaryCrossEntropy: [.sigmoid]
        case .softmaxCrossEntropy: [.softmax]
        }
    }
}
