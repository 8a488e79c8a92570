import AxonJobs
import AxonStore
import AxonAPI
import Checkpoint
import ModelKit

// The management routes' views (AxonAPI) built from what the store holds.

extension ModelSummary {
    init(_ stored: StoredModel) {
        self.init(
            name: stored.name, version: stored.version, task: stored.task.rawValue, createdAt: stored.createdAt.iso8601,
            parameterCount: stored.parameterCount, inputs: stored.inputWidth, outputs: stored.outputWidth)
    }
}

extension ArchitectureView {
    init(_ configuration: ModelConfiguration) {
        self.init(
            layers: configuration.layerSizes, activations: configuration.activations.map(\.rawValue),
            loss: configuration.loss.name)
    }
}

extension TrainingView {
    init(_ c: TrainingConfiguration) {
        self.init(
            epochs: c.epochs, batchSize: c.batchSize, seed: c.seed,
            optimizer: Optimizer(
                name: c.optimizer.kind.rawValue, learningRate: c.optimizer.learningRate,
                momentum: c.optimizer.kind == .sgd ? c.optimizer.momentum : nil,
                weightDecay: c.optimizer.kind == .adamW ? c.optimizer.weightDecay : nil),
            l1: c.regularization.l1, l2: c.regularization.l2, dropout: c.regularization.dropout,
            validationSplit: c.validationFraction,
            earlyStopping: c.earlyStopping.map { Stopping(patience: $0.patience, minDelta: $0.minDelta, restoreBestWeights: $0.restoreBestWeights) },
            normalize: c.normalization.rawValue, normalizeTargets: c.normalizeTargets == true)
    }
}

extension VersionView {
    init(_ info: ModelVersionInfo, classes: [String]) {
        self.init(
            version: info.version, current: info.isCurrent, createdAt: info.metadata?.createdAt.iso8601,
            parentVersion: info.metadata?.parentVersion,
            metrics: info.metadata?.metrics.map { MetricsView($0, classes: classes) })
    }
}

extension ModelDetail {
    init(_ stored: StoredModel, versions: [ModelVersionInfo]) {
        self.init(
            name: stored.name, version: stored.version, task: stored.task.rawValue, createdAt: stored.createdAt.iso8601,
            parentVersion: stored.parentVersion, parameterCount: stored.parameterCount,
            architecture: ArchitectureView(stored.configuration),
            input: TensorSchema(name: PredictRoutes.inputTensorName, shape: [-1, stored.inputWidth]),
            output: TensorSchema(
                name: PredictRoutes.outputTensorName, shape: [-1, stored.outputWidth],
                classes: stored.task == .classification ? ModelDetail.classNames(stored) : nil),
            versions: versions.map { VersionView($0, classes: stored.classLabels) },
            training: stored.training.map(TrainingView.init),
            settings: stored.training.map {
                ResolvedSettings(model: stored.model, training: $0, rows: nil, why: ResolvedSettings.reasons(in: stored.metadata.annotations))
            },
            metrics: stored.metrics.map { MetricsView($0, classes: stored.classLabels) },
            preprocessing: stored.preprocessing.map { PreprocessingView($0, normalizer: stored.model.normalizer) })
    }

    static func classNames(_ stored: StoredModel) -> [String] {
        stored.classLabels.isEmpty ? (0 ..< max(stored.outputWidth, 2)).map(String.init) : stored.classLabels
    }
}

extension PreprocessingView {
    init(_ preprocessing: Preprocessing, normalizer: Normalizer) {
        let columns = preprocessing.columns.enumerated().map { k, column in
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
        self.init(missingValues: preprocessing.missingValues.rawValue, encodedWidth: preprocessing.encodedWidth, columns: columns)
    }

    static func scaler(_ normalizer: Normalizer, input: Int) -> Scaler? {
        switch normalizer {
        case .none: return nil
        case .standard(let s): return Scaler(kind: "standard", mean: s.mean[input], std: s.standardDeviation[input])
        case .minMax(let s): return Scaler(kind: "min_max", min: s.minimum[input], range: s.range[input])
        }
    }
}
