import ModelKit

/// A validated training job: the data set, the network to start from and the settings, with
/// every default filled in. AxonServer builds it from a request before the job is queued.
public struct TrainingPlan: Sendable {
    /// The model the result is installed as.
    public var name: String
    /// The network to train: fresh (seeded) for a new model, the current version to continue.
    public var start: Model
    /// Epochs, batch size, optimizer, regularization, early stopping.
    public var configuration: TrainingConfiguration
    /// Training rows (the validation split is taken inside by the seed).
    public var dataset: Dataset
    /// The version this run continues, if any; its optimizer state is loaded when the job starts.
    public var parentVersion: UInt64?
    /// Why each setting the request left out got its value, keyed by the request field
    /// (`task`, `layers`, `batch_size`, ...): reported with the job and stored with the model.
    public var reasons: [String: String] = [:]
    /// How the request's columns became `dataset`'s inputs, stored with the result.
    public var preprocessing: Preprocessing?

    /// A plan to train `start` on `dataset` as model `name`.
    public init(
        name: String, start: Model, configuration: TrainingConfiguration, dataset: Dataset, parentVersion: UInt64? = nil,
        reasons: [String: String] = [:], preprocessing: Preprocessing? = nil
    ) {
        self.name = name
        self.start = start
        self.configuration = configuration
        self.dataset = dataset
        self.parentVersion = parentVersion
        self.reasons = reasons
        self.preprocessing = preprocessing
    }

    /// Bytes the plan holds while it waits in the queue: its rows and targets, and the model
    /// it starts from.
    public var heldBytes: Int {
        let values = dataset.count * (dataset.featureCount + dataset.targets.columns) + start.parameterCount
        return values * MemoryLayout<Float>.size
    }
}
