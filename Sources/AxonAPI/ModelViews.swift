/// The JSON shapes of the management routes (snake_case keys throughout).
///
/// The server builds them from its stored models (AxonServer's `ModelViews+Store.swift`);
/// clients such as `axon` decode them.
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

/// The training settings of a version, in the request's own field names.
public struct TrainingView: Codable, Sendable, Equatable {
    /// The optimizer and its rates.
    public struct Optimizer: Codable, Sendable, Equatable {
        /// `sgd`, `adam` or `adamw`.
        public var name: String
        /// The initial learning rate.
        public var learningRate: Float
        /// SGD momentum.
        public var momentum: Float?
        /// AdamW decoupled weight decay.
        public var weightDecay: Float?
        enum CodingKeys: String, CodingKey { case name, momentum, learningRate = "learning_rate", weightDecay = "weight_decay" }

        /// An optimizer from its fields.
        public init(name: String, learningRate: Float, momentum: Float? = nil, weightDecay: Float? = nil) {
            self.name = name
            self.learningRate = learningRate
            self.momentum = momentum
            self.weightDecay = weightDecay
        }
    }

    /// The early-stopping rule.
    public struct Stopping: Codable, Sendable, Equatable {
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

    /// Epochs requested.
    public var epochs: Int
    /// Rows per optimizer step.
    public var batchSize: Int
    /// Seed of the initial weights and the shuffles.
    public var seed: UInt64
    /// The optimizer and its rates.
    public var optimizer: Optimizer
    /// L1 penalty.
    public var l1: Float
    /// L2 penalty.
    public var l2: Float
    /// Dropout rate of the hidden layers.
    public var dropout: Float
    /// Fraction of the rows held out for validation.
    public var validationSplit: Double
    /// The early-stopping rule; nil when off.
    public var earlyStopping: Stopping?
    /// Input scaling: `standard`, `min_max` or `none`.
    public var normalize: String
    /// Whether regression targets are standardized.
    public var normalizeTargets: Bool

    enum CodingKeys: String, CodingKey {
        case epochs, seed, optimizer, l1, l2, dropout, normalize
        case batchSize = "batch_size", validationSplit = "validation_split", earlyStopping = "early_stopping"
        case normalizeTargets = "normalize_targets"
    }

    /// Settings from their fields.
    public init(
        epochs: Int, batchSize: Int, seed: UInt64, optimizer: Optimizer, l1: Float, l2: Float, dropout: Float,
        validationSplit: Double, earlyStopping: Stopping?, normalize: String, normalizeTargets: Bool
    ) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.seed = seed
        self.optimizer = optimizer
        self.l1 = l1
        self.l2 = l2
        self.dropout = dropout
        self.validationSplit = validationSplit
        self.earlyStopping = earlyStopping
        self.normalize = normalize
        self.normalizeTargets = normalizeTargets
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

/// How a model turns its columns into inputs: each column's kind, the categories it one-hot
/// encodes (the first `shownCategories`), the value imputed for a missing cell, and the scaler
/// applied to a numeric column afterwards.
public struct PreprocessingView: Codable, Sendable, Equatable {
    /// One input column.
    public struct Column: Codable, Sendable, Equatable {
        /// The column's name (a CSV header cell or a JSON key); nil for unnamed columns.
        public var name: String?
        /// `numeric` or `categorical`.
        public var kind: String
        /// `[first, end)` of the column in the encoded input row.
        public var inputs: [Int]
        /// The value a missing numeric cell is replaced with.
        public var imputed: Float?
        /// The first `shownCategories` categories, in encoding order.
        public var categories: [String]?
        /// How many categories the column encodes.
        public var categoryCount: Int?
        /// Whether a missing cell has a category of its own.
        public var missingCategory: Bool?
        /// Missing cells seen in training.
        public var missingCount: Int
        /// The scaler applied after imputation (numeric columns).
        public var scaler: Scaler?

        enum CodingKeys: String, CodingKey {
            case name, kind, inputs, imputed, categories, scaler
            case categoryCount = "category_count", missingCategory = "missing_category", missingCount = "missing_count"
        }

        /// A column from its fields.
        public init(
            name: String?, kind: String, inputs: [Int], imputed: Float? = nil, categories: [String]? = nil,
            categoryCount: Int? = nil, missingCategory: Bool? = nil, missingCount: Int, scaler: Scaler? = nil
        ) {
            self.name = name
            self.kind = kind
            self.inputs = inputs
            self.imputed = imputed
            self.categories = categories
            self.categoryCount = categoryCount
            self.missingCategory = missingCategory
            self.missingCount = missingCount
            self.scaler = scaler
        }
    }

    /// `standard`: `(x - mean) / std`; `min_max`: `(x - min) / range`.
    public struct Scaler: Codable, Sendable, Equatable {
        /// `standard` or `min_max`.
        public var kind: String
        /// Standard: the mean subtracted.
        public var mean: Float?
        /// Standard: the deviation divided by.
        public var std: Float?
        /// Min-max: the minimum subtracted.
        public var min: Float?
        /// Min-max: the range divided by.
        public var range: Float?

        /// A scaler from its fields.
        public init(kind: String, mean: Float? = nil, std: Float? = nil, min: Float? = nil, range: Float? = nil) {
            self.kind = kind
            self.mean = mean
            self.std = std
            self.min = min
            self.range = range
        }
    }

    /// Categories listed per column; `category_count` tells how many there are.
    public static let shownCategories = 20

    /// `impute` or `refuse`.
    public var missingValues: String
    /// Width of an encoded input row.
    public var encodedWidth: Int
    /// The input columns, in order.
    public var columns: [Column]

    enum CodingKeys: String, CodingKey {
        case columns
        case missingValues = "missing_values", encodedWidth = "encoded_width"
    }

    /// A view from its fields.
    public init(missingValues: String, encodedWidth: Int, columns: [Column]) {
        self.missingValues = missingValues
        self.encodedWidth = encodedWidth
        self.columns = columns
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
