import Checkpoint
import Foundation
import ModelKit

/// One version of one model, as served: an immutable snapshot that any number of threads may
/// use at once (`model.predict` only reads).
///
/// A class so handing out the current version costs one reference-count increment, and so an
/// install can replace it atomically by swapping one reference.
public final class StoredModel: Sendable {
    /// The model's name.
    public let name: String
    /// This snapshot's version number (1, 2, ...).
    public let version: UInt64
    /// The network; call `predict` on it directly, outside any actor.
    public let model: Model
    /// Training configuration, final metrics, creation time, parent version, annotations.
    public let metadata: ModelMetadata
    /// Whether the version's file holds optimizer state to continue training from
    /// (`ModelStore.optimizerState(name:version:)` reads it).
    public let hasOptimizerState: Bool
    /// Bytes of the longest class label, which sizes the labels an answer writes per row.
    public let longestClassLabelBytes: Int
    /// How raw columns become the network's inputs, for a model trained on named, text or
    /// missing cells; nil when the model takes numeric rows as they are.
    public let preprocessing: Preprocessing?
    /// Whether rows must go through `preprocessing` even when they are all numbers (text
    /// columns make the encoded row wider than the table). Stored: every prediction asks.
    public let takesTableRows: Bool

    /// Wraps one version.
    public init(name: String, version: UInt64, model: Model, metadata: ModelMetadata, hasOptimizerState: Bool) {
        self.name = name
        self.version = version
        self.model = model
        self.metadata = metadata
        self.hasOptimizerState = hasOptimizerState
        self.longestClassLabelBytes = model.configuration.classLabels.map(\.utf8.count).max() ?? 0
        self.preprocessing = metadata.preprocessing
        self.takesTableRows = metadata.preprocessing?.hasCategoricalColumns ?? false
    }

    /// The model's shape and objective.
    public var configuration: ModelConfiguration { model.configuration }
    /// Regression or classification.
    public var task: ModelConfiguration.Task { model.configuration.task }
    /// Class names in output order (empty for regression or unnamed classes).
    public var classLabels: [String] { model.configuration.classLabels }
    /// Input width (features per row).
    public var inputWidth: Int { model.configuration.inputCount }
    /// Output width (values per row).
    public var outputWidth: Int { model.configuration.outputCount }
    /// Trainable weights and biases.
    public var parameterCount: Int { model.parameterCount }
    /// When this version was created.
    public var createdAt: Date { metadata.createdAt }
    /// The version this one was trained from, if any.
    public var parentVersion: UInt64? { metadata.parentVersion }
    /// The training configuration that produced this version, if recorded.
    public var training: TrainingConfiguration? { metadata.training }
    /// The final metrics of that training run, if recorded.
    public var metrics: ModelMetrics? { metadata.metrics }

}

/// One retained version of a model, as `ModelStore.versions(name:)` lists it.
public struct ModelVersionInfo: Sendable {
    /// The version number.
    public var version: UInt64
    /// Whether this version currently serves.
    public var isCurrent: Bool
    /// The version's metadata; nil if its file could not be read (the reason is logged).
    public var metadata: ModelMetadata?
}
