import AxonAPI
import ModelKit

// The settings a run used (AxonAPI's `ResolvedSettings`) from the model and training configuration.

extension ResolvedSettings {
    /// Annotation keys that carry the reasons in a checkpoint: `why.<field>`.
    public static let annotationPrefix = "why."

    /// The settings of `model` trained with `training` on `rows` rows (before the validation
    /// split; nil when unknown), with `why` from the plan or the stored annotations.
    public init(model: Model, training: TrainingConfiguration, rows: Int?, why: [String: String]) {
        let configuration = model.configuration
        let schedule: String? =
            switch training.schedule {
            case .constant: nil
            case .step(let every, let factor): "times \(factor) every \(every) epochs"
            case .exponential(let factor): "times \(factor) every epoch"
            case .cosine(let epochs, let minimum): "cosine to \(minimum) over \(epochs) epochs"
            }
        var steps: Int?
        if let rows {
            let trainingRows = max(1, rows - Int((Double(rows) * training.validationFraction).rounded()))
            steps = training.epochs * ((trainingRows + training.batchSize - 1) / training.batchSize)
        }
        self.init(
            task: configuration.task.rawValue, layers: configuration.layerSizes,
            activation: configuration.activations.count > 1 ? configuration.activations[0].rawValue : "none",
            loss: configuration.loss.name, optimizer: training.optimizer.kind.rawValue,
            learningRate: training.optimizer.learningRate, learningRateSchedule: schedule, batchSize: training.batchSize,
            epochs: training.epochs, steps: steps, validationSplit: training.validationFraction, l2: training.regularization.l2,
            earlyStopping: training.earlyStopping.map {
                Stopping(patience: $0.patience, minDelta: $0.minDelta, restoreBestWeights: $0.restoreBestWeights)
            },
            normalize: training.normalization.rawValue,
            normalizeTargets: model.targetStandardizer != nil || training.normalizeTargets == true, why: why)
        threads = configuration.trainingThreads(for: training)
    }

    /// The reasons stored in a checkpoint's annotations.
    public static func reasons(in annotations: [String: String]) -> [String: String] {
        var reasons: [String: String] = [:]
        for (key, value) in annotations where key.hasPrefix(annotationPrefix) {
            reasons[String(key.dropFirst(annotationPrefix.count))] = value
        }
        return reasons
    }
}
