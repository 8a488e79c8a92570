/// Which update rule training uses, with its hyperparameters.
///
/// The rules follow PyTorch's definitions (so results can be compared with the peers):
/// sgd keeps a velocity `v = momentum * v + g` and steps along `v` (or `g + momentum * v` with
/// Nesterov); adam steps by `lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + epsilon)`;
/// adamw additionally shrinks every weight and bias by `lr * weightDecay` before that step.
public struct OptimizerConfiguration: Sendable, Equatable, Codable {
    /// The update rule.
    public enum Kind: String, Sendable, Equatable, Codable {
        /// Stochastic gradient descent, optionally with (Nesterov) momentum.
        case sgd
        /// Adam.
        case adam
        /// Adam with decoupled weight decay.
        case adamW = "adamw"
    }

    /// The update rule.
    public var kind: Kind
    /// Base learning rate (before any schedule).
    public var learningRate: Float
    /// sgd momentum in [0, 1); 0 disables the velocity buffer.
    public var momentum: Float
    /// Use Nesterov momentum (sgd with momentum > 0 only).
    public var nesterov: Bool
    /// Adam first-moment decay in [0, 1).
    public var beta1: Float
    /// Adam second-moment decay in [0, 1).
    public var beta2: Float
    /// Adam denominator guard, > 0.
    public var epsilon: Float
    /// adamw decoupled weight decay, >= 0.
    public var weightDecay: Float

    /// Plain or momentum sgd.
    public static func sgd(learningRate: Float = 0.01, momentum: Float = 0, nesterov: Bool = false) -> Self {
        Self(kind: .sgd, learningRate: learningRate, momentum: momentum, nesterov: nesterov,
             beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0)
    }

    /// Adam with PyTorch's defaults.
    public static func adam(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) -> Self {
        Self(kind: .adam, learningRate: learningRate, momentum: 0, nesterov: false,
             beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: 0)
    }

    /// AdamW with PyTorch's defaults.
    public static func adamW(
        learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0.01
    ) -> Self {
        Self(kind: .adamW, learningRate: learningRate, momentum: 0, nesterov: false,
             beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay)
    }

    /// Whether the rule keeps a first-moment (velocity) buffer.
    public var usesFirstMoment: Bool { kind != .sgd || momentum > 0 }
    /// Whether the rule keeps a second-moment buffer.
    public var usesSecondMoment: Bool { kind != .sgd }

    /// Throws the first hyperparameter that is out of range.
    public func validate() throws(TrainingError) {
        func check(_ ok: Bool, _ name: String, _ value: Float, _ range: String) throws(TrainingError) {
            if !ok { throw .invalidHyperparameter(name: name, value: Double(value), allowed: range) }
        }
        try check(learningRate > 0 && learningRate.isFinite, "optimizer.learning_rate", learningRate, "> 0")
        switch kind {
        case .sgd:
            try check(momentum >= 0 && momentum < 1, "optimizer.momentum", momentum, "[0, 1)")
            try check(!nesterov || momentum > 0, "optimizer.nesterov", momentum, "momentum > 0 when nesterov is set")
        case .adam, .adamW:
            try check(beta1 >= 0 && beta1 < 1, "optimizer.beta1", beta1, "[0, 1)")
            try check(beta2 >= 0 && beta2 < 1, "optimizer.beta2", beta2, "[0, 1)")
            try check(epsilon > 0 && epsilon.isFinite, "optimizer.epsilon", epsilon, "> 0")
            try check(weightDecay >= 0 && weightDecay.isFinite, "optimizer.weight_decay", weightDecay, ">= 0")
        }
    }
}

/// How the learning rate changes from epoch to epoch.
///
/// The epoch counter lives in `OptimizerState`, so a warm start continues the schedule.
public enum LearningRateSchedule: Sendable, Equatable, Codable {
    /// The base learning rate throughout.
    case constant
    /// Multiplies the rate by `factor` every `every` epochs.
    case step(every: Int, factor: Float)
    /// Multiplies the rate by `factor` after every epoch.
    case exponential(factor: Float)
    /// Cosine annealing from the base rate to `minimum` over `epochs` epochs, then `minimum`.
    case cosine(epochs: Int, minimum: Float)

    /// The learning rate for the zero-based `epoch`.
    public func learningRate(base: Float, epoch: Int) -> Float {
        switch self {
        case .constant:
            return base
        case .step(let every, let factor):
            return base * Float(power(Double(factor), Double(epoch / every)))
        case .exponential(let factor):
            return base * Float(power(Double(factor), Double(epoch)))
        case .cosine(let epochs, let minimum):
            let progress = Double(min(epoch, epochs)) / Double(epochs)
            let weight = Float(0.5 * (1 + cosineOf(Double.pi * progress)))
            let span: Float = base - minimum
            return minimum + span * weight
        }
    }

    /// Throws when a parameter is out of range.
    public func validate() throws(TrainingError) {
        switch self {
        case .constant:
            return
        case .step(let every, let factor):
            if every < 1 { throw .invalidHyperparameter(name: "schedule.every", value: Double(every), allowed: ">= 1") }
            if !(factor > 0 && factor <= 1) { throw .invalidHyperparameter(name: "schedule.factor", value: Double(factor), allowed: "(0, 1]") }
        case .exponential(let factor):
            if !(factor > 0 && factor <= 1) { throw .invalidHyperparameter(name: "schedule.factor", value: Double(factor), allowed: "(0, 1]") }
        case .cosine(let epochs, let minimum):
            if epochs < 1 { throw .invalidHyperparameter(name: "schedule.epochs", value: Double(epochs), allowed: ">= 1") }
            if !(minimum >= 0 && minimum.isFinite) { throw .invalidHyperparameter(name: "schedule.minimum", value: Double(minimum), allowed: ">= 0") }
        }
    }
}
