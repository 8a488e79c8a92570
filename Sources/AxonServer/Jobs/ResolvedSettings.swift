import ModelKit

/// Every setting a training run used, whether the request gave it or a default chose it, and
/// why each default was chosen: what `GET /jobs/{id}` and `GET /models/{name}` report as
/// `settings`, so a user sees what they got.
public struct ResolvedSettings: Sendable, Codable, Equatable {
    /// The early-stopping rule in the request's own field names.
    public struct Stopping: Sendable, Codable, Equatable {
        var patience: Int
        var minDelta: Float
        var restoreBestWeights: Bool
        enum CodingKeys: String, CodingKey { case patience, minDelta = "min_delta", restoreBestWeights = "restore_best_weights" }
    }

    var task: String
    var layers: [Int]
    var activation: String
    var loss: String
    var optimizer: String
    var learningRate: Float
    /// How the rate changes over the run ("cosine to 3e-05 over 200 epochs"); nil when constant.
    var learningRateSchedule: String?
    var batchSize: Int
    var epochs: Int
    /// The optimizer-step budget: epochs x batches per epoch (nil where the row count is unknown).
    var steps: Int?
    var validationSplit: Double
    var l2: Float
    var earlyStopping: Stopping?
    var normalize: String
    var normalizeTargets: Bool
    /// Threads each step ran on (`training.threads`); a seed gives the same weights again only
    /// with the same count.
    var threads: Int?
    /// Why each default was chosen, keyed by the request field; fields the request gave are absent.
    var why: [String: String]

    enum CodingKeys: String, CodingKey {
        case task, layers, activation, loss, optimizer, epochs, steps, normalize, why, l2, threads
        case learningRate = "learning_rate", learningRateSchedule = "learning_rate_schedule", batchSize = "batch_size", validationSplit = "validation_split"
        case earlyStopping = "early_stopping", normalizeTargets = "normalize_targets"
    }

    /// Annotation keys that carry the reasons in a checkpoint: `why.<field>`.
    static let annotationPrefix = "why."

    /// The settings of `model` trained with `training` on `rows` rows (before the validation
    /// split; nil when unknown), with `why` from the plan or the stored annotations.
    init(model: Model, training: TrainingConfiguration, rows: Int?, why: [String: String]) {
        let configuration = model.configuration
        task = configuration.task.rawValue
        layers = configuration.layerSizes
        activation = configuration.activations.count > 1 ? configuration.activations[0].rawValue : "none"
        loss = ArchitectureView.lossName(configuration.loss)
        optimizer = training.optimizer.kind.rawValue
        learningRate = training.optimizer.learningRate
        switch training.schedule {
        case .constant: learningRateSchedule = nil
        case .step(let every, let factor): learningRateSchedule = "times \(factor) every \(every) epochs"
        case .exponential(let factor): learningRateSchedule = "times \(factor) every epoch"
        case .cosine(let epochs, let minimum): learningRateSchedule = "cosine to \(minimum) over \(epochs) epochs"
        }
        batchSize = training.batchSize
        epochs = training.epochs
        if let rows {
            let trainingRows = max(1, rows - Int((Double(rows) * training.validationFraction).rounded()))
            steps = training.epochs * ((trainingRows + training.batchSize - 1) / training.batchSize)
        }
        validationSplit = training.validationFraction
        l2 = training.regularization.l2
        earlyStopping = training.earlyStopping.map {
            Stopping(patience: $0.patience, minDelta: $0.minDelta, restoreBestWeights: $0.restoreBestWeights)
        }
        normalize = training.normalization.rawValue
        normalizeTargets = model.targetStandardizer != nil || training.normalizeTargets == true
        threads = configuration.trainingThreads(for: training)
        self.why = why
    }

    /// The reasons stored in a checkpoint's annotations.
    static func reasons(in annotations: [String: String]) -> [String: String] {
        var reasons: [String: String] = [:]
        for (key, value) in annotations where key.hasPrefix(annotationPrefix) {
            reasons[String(key.dropFirst(annotationPrefix.count))] = value
        }
        return reasons
    }
}
