// The JSON shapes of the management routes (snake_case keys throughout). The server builds
// them from its stored models (AxonServer's `ModelViews+Store.swift`); clients such as `axon`
// decode them.

/// One entry of `GET /models`, and the answer of a rollback: a model and the version that serves.
public struct ModelSummary: Codable, Sendable, Equatable {
    /// The model's name.
    public var name: String
    /// The version that serves.
    public var version: UInt64
    /// `classification` or `regression`.
    public var task: String
    /// When that version was trained (ISO 8601).
    public var createdAt: String
    /// Weights and biases.
    public var parameterCount: Int
    /// Width of an encoded input row.
    public var inputs: Int
    /// Width of an output row.
    public var outputs: Int

    enum CodingKeys: String, CodingKey {
        case name, version, task, inputs, outputs
        case createdAt = "created_at", parameterCount = "parameter_count"
    }

    /// A summary from its fields.
    public init(name: String, version: UInt64, task: String, createdAt: String, parameterCount: Int, inputs: Int, outputs: Int) {
        self.name = name
        self.version = version
        self.task = task
        self.createdAt = createdAt
        self.parameterCount = parameterCount
        self.inputs = inputs
        self.outputs = outputs
    }
}

/// `GET /models`.
public struct ModelList: Codable, Sendable, Equatable {
    /// The serving models.
    public var models: [ModelSummary]
    /// Models on disk that do not serve because `limits.max_models` were loaded first.
    public var skipped: [String]

    /// A list from its fields.
    public init(models: [ModelSummary], skipped: [String]) {
        self.models = models
        self.skipped = skipped
    }
}

/// A tensor in a model's schema: name, FP32, shape with -1 for the row count.
public struct TensorSchema: Codable, Sendable, Equatable {
    /// The tensor's name.
    public var name: String
    /// Always FP32.
    public var datatype = "FP32"
    /// -1 for the rows, then the width.
    public var shape: [Int]
    /// A classifier's class names, in output order.
    public var classes: [String]?

    /// A schema from its fields.
    public init(name: String, shape: [Int], classes: [String]? = nil) {
        self.name = name
        self.shape = shape
        self.classes = classes
    }
}

/// Network shape.
public struct ArchitectureView: Codable, Sendable, Equatable {
    /// Layer widths, input first.
    public var layers: [Int]
    /// One activation per weight layer.
    public var activations: [String]
    /// The loss's wire name (`cross_entropy`, `mse`, ...).
    public var loss: String

    /// An architecture from its fields.
    public init(layers: [Int], activations: [String], loss: String) {
        self.layers = layers
        self.activations = activations
        self.loss = loss
    }
}

/// One entry of `GET /models/{name}/versions`.
public struct VersionView: Codable, Sendable, Equatable {
    /// The version number.
    public var version: UInt64
    /// Whether this version serves.
    public var current: Bool
    /// When it was trained (ISO 8601).
    public var createdAt: String?
    /// The version it continued from.
    public var parentVersion: UInt64?
    /// Its training metrics.
    public var metrics: MetricsView?

    enum CodingKeys: String, CodingKey { case version, current, metrics, createdAt = "created_at", parentVersion = "parent_version" }

    /// A version from its fields.
    public init(version: UInt64, current: Bool, createdAt: String?, parentVersion: UInt64?, metrics: MetricsView?) {
        self.version = version
        self.current = current
        self.createdAt = createdAt
        self.parentVersion = parentVersion
        self.metrics = metrics
    }
}

/// `GET /models/{name}/versions`.
public struct VersionList: Codable, Sendable, Equatable {
    /// The model's name.
    public var model: String
    /// The version that serves.
    public var currentVersion: UInt64
    /// Every retained version.
    public var versions: [VersionView]
    enum CodingKeys: String, CodingKey { case model, versions, currentVersion = "current_version" }

    /// A list from its fields.
    public init(model: String, currentVersion: UInt64, versions: [VersionView]) {
        self.model = model
        self.currentVersion = currentVersion
        self.versions = versions
    }
}

/// `GET /models/{name}`: everything about the serving version.
public struct ModelDetail: Codable, Sendable, Equatable {
    /// The model's name.
    public var name: String
    /// The version described (the one that serves).
    public var version: UInt64
    /// The version that serves.
    public var currentVersion: UInt64
    /// `classification` or `regression`.
    public var task: String
    /// When this version was trained (ISO 8601).
    public var createdAt: String
    /// The version it continued from.
    public var parentVersion: UInt64?
    /// Weights and biases.
    public var parameterCount: Int
    /// Layers, activations and loss.
    public var architecture: ArchitectureView
    /// The input tensor.
    public var input: TensorSchema
    /// The output tensor, with a classifier's class names.
    public var output: TensorSchema
    /// Every retained version.
    public var versions: [VersionView]
    /// The training settings, in the request's field names.
    public var training: TrainingView?
    /// Every setting the run used and why each default was chosen.
    public var settings: ResolvedSettings?
    /// The metrics of this version.
    public var metrics: MetricsView?
    /// How columns become inputs (models trained from tables).
    public var preprocessing: PreprocessingView?

    enum CodingKeys: String, CodingKey {
        case name, version, task, architecture, input, output, versions, training, settings, metrics, preprocessing
        case currentVersion = "current_version", createdAt = "created_at", parentVersion = "parent_version"
        case parameterCount = "parameter_count"
    }

    /// A detail from its fields.
    public init(
        name: String, version: UInt64, task: String, createdAt: String, parentVersion: UInt64?, parameterCount: Int,
        architecture: ArchitectureView, input: TensorSchema, output: TensorSchema, versions: [VersionView],
        training: TrainingView?, settings: ResolvedSettings?, metrics: MetricsView?, preprocessing: PreprocessingView?
    ) {
        self.name = name
        self.version = version
        currentVersion = version
        self.task = task
        self.createdAt = createdAt
        self.parentVersion = parentVersion
        self.parameterCount = parameterCount
        self.architecture = architecture
        self.input = input
        self.output = output
        self.versions = versions
        self.training = training
        self.settings = settings
        self.metrics = metrics
        self.preprocessing = preprocessing
    }
}

/// `POST /models/{name}/evaluate`.
public struct EvaluationView: Codable, Sendable, Equatable {
    /// The model's name.
    public var model: String
    /// The version evaluated.
    public var version: UInt64
    /// The metrics on the rows sent.
    public var metrics: MetricsView

    /// An evaluation from its fields.
    public init(model: String, version: UInt64, metrics: MetricsView) {
        self.model = model
        self.version = version
        self.metrics = metrics
    }
}

/// `DELETE /models/{name}`.
public struct ModelDeleted: Codable, Sendable, Equatable {
    /// The model's name.
    public var model: String
    /// Always true.
    public var deleted: Bool

    /// An answer from its fields.
    public init(model: String, deleted: Bool) {
        self.model = model
        self.deleted = deleted
    }
}

/// The body of `POST /models/{name}/rollback`.
public struct RollbackRequest: Codable, Sendable, Equatable {
    /// The retained version to serve again.
    public var version: UInt64

    /// A request for `version`.
    public init(version: UInt64) {
        self.version = version
    }
}
