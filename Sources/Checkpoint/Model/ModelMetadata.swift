#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ModelKit

/// What a stored model version records besides its network: how it was trained, how well it
/// did, when it was made and from which version.
///
/// Architecture, activations, loss, task and class labels are part of `ModelConfiguration`
/// and are stored from the model itself, so they cannot disagree with the weights.
public struct ModelMetadata: Sendable, Equatable, Codable {
    /// The settings of the training run that produced this version (nil if unknown, e.g. an
    /// imported model).
    public var training: TrainingConfiguration?
    /// Final metrics of that run.
    public var metrics: ModelMetrics?
    /// When the version was created, to the millisecond (the stored precision).
    public var createdAt: Date
    /// The version this one was trained from (warm start), if any.
    public var parentVersion: UInt64?
    /// Free-form string pairs for the layers above (e.g. the training job id or the CSV target
    /// column); stored and returned unchanged.
    public var annotations: [String: String]
    /// How raw table columns become the network's inputs (names, kinds, categories, imputed
    /// values); nil for a model that takes its numeric rows as they are.
    public var preprocessing: Preprocessing?

    /// Creates metadata; `createdAt` is truncated to whole milliseconds, the precision a
    /// checkpoint keeps, so a value survives a save and load unchanged.
    public init(
        training: TrainingConfiguration? = nil,
        metrics: ModelMetrics? = nil,
        createdAt: Date = Date(),
        parentVersion: UInt64? = nil,
        annotations: [String: String] = [:],
        preprocessing: Preprocessing? = nil
    ) {
        self.training = training
        self.metrics = metrics
        self.createdAt = Self.truncatedToMilliseconds(createdAt)
        self.parentVersion = parentVersion
        self.annotations = annotations
        self.preprocessing = preprocessing
    }

    /// `createdAt` as whole milliseconds since 1970-01-01T00:00:00Z.
    public var createdAtMilliseconds: Int64 { Self.milliseconds(createdAt) }

    static func milliseconds(_ date: Date) -> Int64 {
        let value = (date.timeIntervalSince1970 * 1000).rounded(.down)
        // Dates beyond ±292 million years cannot come from a clock; clamp instead of trapping.
        if !(value > -9.2e18 && value < 9.2e18) { return value > 0 ? Int64(9.2e18) : Int64(-9.2e18) }
        return Int64(value)
    }

    static func date(milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    static func truncatedToMilliseconds(_ date: Date) -> Date {
        self.date(milliseconds: milliseconds(date))
    }
}

/// The final figures of the training run that produced a version. Every field is optional:
/// a job records what it measured.
public struct ModelMetrics: Sendable, Equatable, Codable {
    /// Mean training loss of the last epoch.
    public var trainLoss: Double?
    /// Validation loss of the last epoch (or of the restored best epoch).
    public var validationLoss: Double?
    /// Epochs completed (counted across warm starts).
    public var epochs: Int?
    /// Why training stopped.
    public var stopReason: TrainingReport.StopReason?
    /// Training throughput over the whole run, rows per second.
    public var samplesPerSecond: Double?
    /// Wall time of the training loop in seconds.
    public var trainingSeconds: Double?
    /// Loss of the final model on the evaluation set (validation split, else training data).
    public var evaluationLoss: Double?
    /// Regression metrics on the evaluation set.
    public var regression: RegressionMetrics?
    /// Classification metrics on the evaluation set.
    public var classification: ClassificationMetrics?

    /// Creates a metrics record; omitted figures stay nil.
    public init(
        trainLoss: Double? = nil, validationLoss: Double? = nil, epochs: Int? = nil,
        stopReason: TrainingReport.StopReason? = nil, samplesPerSecond: Double? = nil,
        trainingSeconds: Double? = nil, evaluationLoss: Double? = nil,
        regression: RegressionMetrics? = nil, classification: ClassificationMetrics? = nil
    ) {
        self.trainLoss = trainLoss
        self.validationLoss = validationLoss
        self.epochs = epochs
        self.stopReason = stopReason
        self.samplesPerSecond = samplesPerSecond
        self.trainingSeconds = trainingSeconds
        self.evaluationLoss = evaluationLoss
        self.regression = regression
        self.classification = classification
    }
}
