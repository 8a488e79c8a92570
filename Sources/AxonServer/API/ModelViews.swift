import AxonStore
import Checkpoint
import ModelKit

/// The JSON shapes of the management routes (snake_case keys throughout).
struct ModelSummary: Encodable, Sendable {
    var name: String
    var version: UInt64
    var task: String
    var createdAt: String
    var parameterCount: Int
    var inputs: Int
    var outputs: Int

    enum CodingKeys: String, CodingKey {
        case name, version, task, inputs, outputs
        case createdAt = "created_at", parameterCount = "parameter_count"
    }

    init(_ stored: StoredModel) {
        name = stored.name
        version = stored.version
        task = stored.task.rawValue
        createdAt = stored.createdAt.iso8601
        parameterCount = stored.parameterCount
        inputs = stored.inputWidth
        outputs = stored.outputWidth
    }
}

/// `GET /models`.
struct ModelList: Encodable, Sendable {
    var models: [ModelSummary]
    /// Models on disk that do not serve because `limits.max_models` were loaded first.
    var skipped: [String]
}

/// A tensor in a model's schema: name, FP32, shape with -1 for the row count.
struct TensorSchema: Encodable, Sendable {
    var name: String
    var datatype = "FP32"
    var shape: [Int]
    var classes: [String]?
}

/// Network shape.
struct ArchitectureView: Encodable, Sendable {
    var layers: [Int]
    var activations: [String]
    var loss: String

    init(_ configuration: ModelConfiguration) {
        layers = configuration.layerSizes
        activations = configuration.activations.map(\.rawValue)
        loss = Self.lossName(configuration.loss)
    }

    static func lossName(_ loss: Loss) -> String {
        switch loss {
        case .softmaxCrossEntropy: "cross_entropy"
        case .binaryCrossEntropy: "binary_cross_entropy"
        case .meanSquaredError: "mse"
        case .meanAbsoluteError: "mae"
        case .huber: "huber"
        }
    }
}

/// The training settings of a version, in the request's own field names.
struct TrainingView: Encodable, Sendable {
    struct Optimizer: Encodable, Sendable {
        var name: String
        var learningRate: Float
        var momentum: Float?
        var weightDecay: Float?
        enum CodingKeys: String, CodingKey { case name, momentum, learningRate = "learning_rate", weightDecay = "weight_decay" }
    }

    struct Stopping: Encodable, Sendable {
        var patience: Int
        var minDelta: Float
        var restoreBestWeights: Bool
        enum CodingKeys: String, CodingKey { case patience, minDelta = "min_delta", restoreBestWeights = "restore_best_weights" }
    }

    var epochs: Int
    var batchSize: Int
    var seed: UInt64
    var optimizer: Optimizer
    var l1: Float
    var l2: Float
    var dropout: Float
    var validationSplit: Double
    var earlyStopping: Stopping?
    var normalize: String
    var normalizeTargets: Bool

    enum CodingKeys: String, CodingKey {
        case epochs, seed, optimizer, l1, l2, dropout, normalize
        case batchSize = "batch_size", validationSplit = "validation_split", earlyStopping = "early_stopping"
        case normalizeTargets = "normalize_targets"
    }

    init(_ c: TrainingConfiguration) {
        epochs = c.epochs
        batchSize = c.batchSize
        seed = c.seed
        optimizer = Optimizer(
            name: c.optimizer.kind.rawValue, learningRate: c.optimizer.learningRate,
            momentum: c.optimizer.kind == .sgd ? c.optimizer.momentum : nil,
            weightDecay: c.optimizer.kind == .adamW ? c.optimizer.weightDecay : nil)
        l1 = c.regularization.l1
        l2 = c.regularization.l2
        dropout = c.regularization.dropout
        validationSplit = c.validationFraction
        earlyStopping = c.earlyStopping.map { Stopping(patience: $0.patience, minDelta: $0.minDelta, restoreBestWeights: $0.restoreBestWeights) }
        normalize = c.normalization.rawValue
        normalizeTargets = c.normalizeTargets == true
    }
}

/// One entry of `GET /models/{name}/versions`.
struct VersionView: Encodable, Sendable {
    var version: UInt64
    var current: Bool
    var createdAt: String?
    var parentVersion: UInt64?
    var metrics: MetricsView?

    enum CodingKeys: String, CodingKey { case version, current, metrics, createdAt = "created_at", parentVersion = "parent_version" }

    init(_ info: ModelVersionInfo, classes: [String]) {
        version = info.version
        current = info.isCurrent
        createdAt = info.metadata?.createdAt.iso8601
        parentVersion = info.metadata?.parentVersion
        metrics = info.metadata?.metrics.map { MetricsView($0, classes: classes) }
    }
}

/// `GET /models/{name}/versions`.
struct VersionList: Encodable, Sendable {
    var model: String
    var currentVersion: UInt64
    var versions: [VersionView]
    enum CodingKeys: String, CodingKey { case model, versions, currentVersion = "current_version" }
}

/// `GET /models/{name}`: everything about the serving version.
struct ModelDetail: Encodable, Sendable {
    var name: String
    var version: UInt64
    var currentVersion: UInt64
    var task: String
    var createdAt: String
    var parentVersion: UInt64?
    var parameterCount: Int
    var architecture: ArchitectureView
    var input: TensorSchema
    var output: TensorSchema
    var versions: [VersionView]
    var training: TrainingView?
    var settings: ResolvedSettings?
    var metrics: MetricsView?
    var preprocessing: PreprocessingView?

    enum CodingKeys: String, CodingKey {
        case name, version, task, architecture, input, output, versions, training, settings, metrics, preprocessing
        case currentVersion = "current_version", createdAt = "created_at", parentVersion = "parent_version"
        case parameterCount = "parameter_count"
    }

    init(_ stored: StoredModel, versions: [ModelVersionInfo]) {
        name = stored.name
        version = stored.version
        currentVersion = stored.version
        task = stored.task.rawValue
        createdAt = stored.createdAt.iso8601
        parentVersion = stored.parentVersion
        parameterCount = stored.parameterCount
        architecture = ArchitectureView(stored.configuration)
        input = TensorSchema(name: PredictRoutes.inputTensorName, shape: [-1, stored.inputWidth])
        output = TensorSchema(
            name: PredictRoutes.outputTensorName, shape: [-1, stored.outputWidth],
            classes: stored.task == .classification ? ModelDetail.classNames(stored) : nil)
        self.versions = versions.map { VersionView($0, classes: stored.classLabels) }
        training = stored.training.map(TrainingView.init)
        settings = stored.training.map {
            ResolvedSettings(model: stored.model, training: $0, rows: nil, why: ResolvedSettings.reasons(in: stored.metadata.annotations))
        }
        metrics = stored.metrics.map { MetricsView($0, classes: stored.classLabels) }
        preprocessing = stored.preprocessing.map { PreprocessingView($0, normalizer: stored.model.normalizer) }
    }

    static func classNames(_ stored: StoredModel) -> [String] {
        stored.classLabels.isEmpty ? (0 ..< max(stored.outputWidth, 2)).map(String.init) : stored.classLabels
    }
}

/// How a model turns its columns into inputs: each column's kind, the categories it one-hot
/// encodes (the first `shownCategories`), the value imputed for a missing cell, and the scaler
/// applied to a numeric column afterwards.
struct PreprocessingView: Encodable, Sendable {
    struct Column: Encodable, Sendable {
        var name: String?
        var kind: String
        /// `[first, end)` of the column in the encoded input row.
        var inputs: [Int]
        var imputed: Float?
        var categories: [String]?
        var categoryCount: Int?
        var missingCategory: Bool?
        var missingCount: Int
        var scaler: Scaler?

        enum CodingKeys: String, CodingKey {
            case name, kind, inputs, imputed, categories, scaler
            case categoryCount = "category_count", missingCategory = "missing_category", missingCount = "missing_count"
        }
    }

    /// `standard`: `(x - mean) / std`; `min_max`: `(x - min) / range`.
    struct Scaler: Encodable, Sendable {
        var kind: String
        var mean: Float?
        var std: Float?
        var min: Float?
        var range: Float?
    }

    /// Categories listed per column; `category_count` tells how many there are.
    static let shownCategories = 20

    var missingValues: String
    var encodedWidth: Int
    var columns: [Column]

    enum CodingKeys: String, CodingKey {
        case columns
        case missingValues = "missing_values", encodedWidth = "encoded_width"
    }

    init(_ preprocessing: Preprocessing, normalizer: Normalizer) {
        missingValues = preprocessing.missingValues.rawValue
        encodedWidth = preprocessing.encodedWidth
        columns = preprocessing.columns.enumerated().map { k, column in
            let start = preprocessing.offsets[k]
            switch column.kind {
            case .numeric:
                return Column(
                    name: column.name, kind: column.kind.rawValue, inputs: [start, start + 1], imputed: column.fill,
                    missingCount: column.missingCount, scaler: Self.scaler(normalizer, input: start))
            case .categorical:
                return Column(
                    name: column.name, kind: column.kind.rawValue, inputs: [start, start + column.width],
                    categories: Array(column.categories.prefix(Self.shownCategories)), categoryCount: column.categories.count,
                    missingCategory: column.missingCategory, missingCount: column.missingCount)
            }
        }
    }

    static func scaler(_ normalizer: Normalizer, input: Int) -> Scaler? {
        switch normalizer {
        case .none: return nil
        case .standard(let s): return Scaler(kind: "standard", mean: s.mean[input], std: s.standardDeviation[input])
        case .minMax(let s): return Scaler(kind: "min_max", min: s.minimum[input], range: s.range[input])
        }
    }
}

/// `POST /models/{name}/evaluate`.
struct EvaluationView: Encodable, Sendable {
    var model: String
    var version: UInt64
    var metrics: MetricsView
}
