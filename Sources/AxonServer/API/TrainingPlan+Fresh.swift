import AxonHTTP
import AxonJobs
import AxonSupport
import AxonStore
import ModelKit

// A plan for a new model: the task, the output layer, the settings and the network chosen from
// the data and the request, in the order `fresh` lists its steps.
extension TrainingPlan {
    /// A plan for a new model (or a retrain from scratch of an existing name).
    ///
    /// Everything the request sizes is checked before it is allocated: the classes against
    /// `limits.max_classes` before the one-hot targets exist, the layers against
    /// `limits.max_layers` and `limits.max_parameters_per_model`, and the whole job (data, split,
    /// every layer's workspaces, optimizer state, evaluation) against `limits.max_job_bytes` and
    /// `limits.max_job_flops`. The steps run in this order, so a request with several faults is
    /// answered with the first.
    static func fresh(_ request: TrainRequest, limits: ServerLimits) throws(APIError) -> TrainingPlan {
        guard let name = request.model else { throw .badRequest("missing field model", code: "missing_field") }
        do { _ = try ModelStore.validate(name) } catch { throw .badRequest(error.message, code: error.code) }
        let inputs = try inputMatrix(request, limits: limits)
        guard let targets = request.targets else { throw .badRequest("missing field targets", code: "missing_field") }
        guard targets.count == inputs.rows else {
            throw unprocessable("targets has \(targets.count) values; inputs has \(inputs.rows) rows", code: "shape_mismatch")
        }
        let (task, taskReason) = chooseTask(request.task, targets: targets)
        let head = try outputHead(task: task, lossName: request.loss ?? (task == .classification ? "cross_entropy" : "mse"), targets: targets, limits: limits)
        let chosen = chooseDefaults(request, task: task, rows: inputs.rows, features: inputs.columns, outputs: head.outputs, limits: limits)
        let training = try freshSettings(request, task: task, defaults: chosen, rows: inputs.rows, limits: limits)
        let prepared = try prepare(request, inputs: inputs, training: training, limits: limits)
        // Text columns widen the inputs (one-hot): the hidden layer is sized for what the network sees.
        let defaults = prepared.width == inputs.columns
            ? chosen : chooseDefaults(request, task: task, rows: inputs.rows, features: prepared.width, outputs: head.outputs, limits: limits)
        let configuration = try network(request, head: head, hiddenWidth: defaults.hiddenWidth, prepared: prepared, limits: limits)
        try checkJobCost(configuration, rows: inputs.rows, training: training, limits: limits, extraBytes: prepared.tableBytes)
        let encoded = try prepared.encode()
        let dataset = try dataset(
            inputs: encoded, targets: targets, classLabels: task == .classification ? head.classLabels : nil, outputs: head.outputs, model: nil)
        let start = try startModel(configuration, training: training, prepared: prepared, encoded: encoded)
        var plan = TrainingPlan(
            name: name, start: start, configuration: training, dataset: dataset, parentVersion: nil, preprocessing: prepared.preprocessing)
        plan.reasons = freshReasons(request, task: task, taskReason: taskReason, defaults: defaults)
        return plan
    }

    /// The task as given, else inferred from the targets, with the reason for the answer.
    private static func chooseTask(
        _ given: ModelConfiguration.Task?, targets: TrainRequest.Targets
    ) -> (task: ModelConfiguration.Task, reason: String?) {
        if let given { return (given, nil) }
        switch targets {
        case .labels:
            return (.classification, "classification: the targets are strings or booleans")
        case .vectors:
            return (.regression, "regression: the targets are vectors of numbers")
        case .numbers(let values):
            let (inferred, why) = ModelConfiguration.Task.inferred(fromNumbers: values)
            return (inferred, "\(inferred.rawValue): \(why)")
        }
    }

    /// The output layer and loss a new model's task, loss name and targets call for.
    struct OutputHead {
        var outputs: Int
        var activation: Activation
        var loss: Loss
        /// A classifier's class names in output order; empty for regression.
        var classLabels: [String]
    }

    private static func outputHead(
        task: ModelConfiguration.Task, lossName: String, targets: TrainRequest.Targets, limits: ServerLimits
    ) throws(APIError) -> OutputHead {
        switch task {
        case .classification:
            let classLabels = try distinctClasses(targets, limits: limits)
            switch lossName {
            case "cross_entropy":
                return OutputHead(outputs: classLabels.count, activation: .softmax, loss: .softmaxCrossEntropy, classLabels: classLabels)
            case "binary_cross_entropy":
                guard classLabels.count == 2 else {
                    throw unprocessable("loss binary_cross_entropy needs 2 classes; targets hold \(classLabels.count)")
                }
                return OutputHead(outputs: 1, activation: .sigmoid, loss: .binaryCrossEntropy, classLabels: classLabels)
            default:
                throw unprocessable("loss \(lossName.excerpt) does not fit a classifier; use cross_entropy or binary_cross_entropy")
            }
        case .regression:
            let loss: Loss
            switch lossName {
            case "mse": loss = .meanSquaredError
            case "mae": loss = .meanAbsoluteError
            case "huber": loss = .huber(delta: 1)
            default: throw unprocessable("loss \(lossName.excerpt) does not fit regression; use mse, mae or huber")
            }
            switch targets {
            case .labels: throw unprocessable("targets are strings; regression needs numbers (or set task to classification)")
            case .numbers: return OutputHead(outputs: 1, activation: .identity, loss: loss, classLabels: [])
            case .vectors(_, let width): return OutputHead(outputs: width, activation: .identity, loss: loss, classLabels: [])
            }
        }
    }

    /// A new classifier's classes: the distinct labels sorted, or 0...the largest class index;
    /// counted against `limits.max_classes` before anything their size exists.
    private static func distinctClasses(_ targets: TrainRequest.Targets, limits: ServerLimits) throws(APIError) -> [String] {
        let classLabels: [String]
        switch targets {
        case .labels(let values):
            let distinct = Set(values)
            try checkClasses(distinct.count, limits: limits)
            classLabels = distinct.sorted()
        case .numbers(let values):
            // Bounded as Float before any conversion: Int(1e30) would trap.
            guard values.allSatisfy({ $0 >= 0 && $0.rounded() == $0 && $0 < Float(Int32.max) }) else {
                throw unprocessable("classification targets must be class labels or non-negative integer class indices")
            }
            let top = Int(values.max() ?? 0)
            try checkClasses(top + 1, limits: limits)
            classLabels = (0 ... top).map(String.init)
        case .vectors: throw unprocessable("targets are vectors; a classifier takes one class index or label per row")
        }
        guard classLabels.count >= 2 else {
            throw unprocessable("targets hold \(classLabels.count) class; a classifier needs at least 2")
        }
        return classLabels
    }

    /// The settings ModelKit chooses for `rows` x `features` data (`TrainingDefaults`).
    private static func chooseDefaults(
        _ request: TrainRequest, task: ModelConfiguration.Task, rows: Int, features: Int, outputs: Int, limits: ServerLimits
    ) -> TrainingDefaults {
        TrainingDefaults.choose(
            rows: rows, features: features, outputs: outputs, task: task, batchSize: request.batchSize,
            validationFraction: request.validationSplit, maximumEpochRows: limits.maxEpochRowsPerJob)
    }

    /// A new model's training settings: `defaults`, overridden by what the request gives.
    private static func freshSettings(
        _ request: TrainRequest, task: ModelConfiguration.Task, defaults: TrainingDefaults, rows: Int, limits: ServerLimits
    ) throws(APIError) -> TrainingConfiguration {
        if request.normalizeTargets != nil, task == .classification {
            throw unprocessable("normalize_targets applies to regression; these targets train a classifier")
        }
        let base = TrainingConfiguration(
            epochs: defaults.epochs, batchSize: defaults.batchSize, seed: 0, optimizer: .adam(learningRate: defaults.learningRate),
            schedule: defaults.schedule, regularization: Regularization(l2: defaults.l2), earlyStopping: defaults.earlyStopping,
            validationFraction: defaults.validationFraction, normalization: .standard, normalizeTargets: task == .regression ? true : nil)
        // The settings come first: the preprocessing is fitted on the training split they define.
        var training = try settings(request, base: base, rows: rows, limits: limits)
        // The anneal belongs to the default rate, and spans the epochs really run.
        if request.learningRate != nil || request.optimizer != nil {
            training.schedule = .constant
        } else if case .cosine = defaults.schedule {
            training.schedule = TrainingDefaults.annealed(epochs: training.epochs, learningRate: training.optimizer.learningRate)
        }
        return training
    }

    /// The network: `request.layers`, checked against the encoded inputs and the outputs, or
    /// one hidden layer of `hiddenWidth`; within `limits.max_layers` and
    /// `limits.max_parameters_per_model`.
    private static func network(
        _ request: TrainRequest, head: OutputHead, hiddenWidth: Int, prepared: PreparedInputs, limits: ServerLimits
    ) throws(APIError) -> ModelConfiguration {
        let width = prepared.width
        var sizes = request.layers ?? [width, hiddenWidth, head.outputs]
        if request.layers != nil {
            guard sizes.count >= 2 else { throw .badRequest("layers must list at least the input and output sizes, got \(sizes)") }
            guard sizes[0] == width else {
                let what = prepared.preprocessing?.hasCategoricalColumns == true ? "encoded inputs (one-hot categories included)" : "features"
                throw unprocessable("layers[0] is \(sizes[0]); inputs rows have \(width) \(what)", code: "shape_mismatch")
            }
            guard sizes[sizes.count - 1] == head.outputs else {
                throw unprocessable(
                    "layers[\(sizes.count - 1)] is \(sizes[sizes.count - 1]); the targets need \(head.outputs) outputs", code: "shape_mismatch")
            }
        }
        guard sizes.count <= limits.maxLayers else {
            throw .limitExceeded(key: "limits.max_layers", limit: limits.maxLayers, needed: sizes.count, what: "layers")
        }
        sizes[0] = width
        let configuration: ModelConfiguration
        do {
            configuration = try ModelConfiguration(
                layerSizes: sizes, hiddenActivation: request.activation ?? .relu, outputActivation: head.activation, loss: head.loss,
                classLabels: head.classLabels)
        } catch {
            throw unprocessable("the network cannot be built: \(error)")
        }
        guard configuration.parameterCount <= limits.maxParametersPerModel else {
            throw .limitExceeded(
                key: "limits.max_parameters_per_model", limit: limits.maxParametersPerModel, needed: configuration.parameterCount,
                what: "layers \(sizes.count > 8 ? "(\(sizes.count) sizes)" : "\(sizes)") as parameters")
        }
        return configuration
    }

    /// The untrained network. With one-hot columns its input scaler is fitted here (numeric
    /// columns, training rows only), so one-hot inputs stay 0/1 instead of the trainer fitting
    /// one over every encoded column.
    private static func startModel(
        _ configuration: ModelConfiguration, training: TrainingConfiguration, prepared: PreparedInputs, encoded: Matrix
    ) throws(APIError) -> Model {
        let start = Model(configuration: configuration, seed: training.seed)
        guard let preprocessing = prepared.preprocessing, preprocessing.hasCategoricalColumns else { return start }
        let rows = prepared.trainingRows.map { encoded.gatheringRows($0) } ?? encoded
        do {
            return try start.replacingNormalizer(preprocessing.normalizer(training.normalization, fittedOn: rows))
        } catch {
            throw .internalError
        }
    }

    /// Why each setting the request left to the defaults, and still in force, has its value.
    private static func freshReasons(
        _ request: TrainRequest, task: ModelConfiguration.Task, taskReason: String?, defaults: TrainingDefaults
    ) -> [String: String] {
        var reasons: [String: String] = [:]
        if let taskReason { reasons["task"] = taskReason }
        if request.loss == nil {
            reasons["loss"] = task == .classification ? "cross_entropy: softmax over the classes" : "mse: the usual regression loss"
        }
        for (field, reason) in defaults.reasons where reasons[field] == nil { reasons[field] = reason }
        let given: [(String, Bool)] = [
            ("layers", request.layers != nil), ("batch_size", request.batchSize != nil), ("validation_split", request.validationSplit != nil),
            ("epochs", request.epochs != nil), ("early_stopping", request.earlyStopping != nil),
            ("learning_rate", request.learningRate != nil || request.optimizer != nil), ("l2", request.l2 != nil),
        ]
        for (field, isGiven) in given where isGiven { reasons[field] = nil }
        if task == .regression, request.normalizeTargets == nil {
            reasons["normalize_targets"] = "true: regression targets are standardized on the training split and predictions mapped back"
        }
        if request.normalize == nil { reasons["normalize"] = "standard: inputs standardized on the training split" }
        return reasons
    }

    /// The request's inputs, fitted and ready to encode: the preprocessing (nil for plain
    /// numeric rows without names), the encoded width and the training rows it was fitted on.
    struct PreparedInputs {
        var preprocessing: Preprocessing?
        var width: Int
        var trainingRows: [Int]?
        /// Bytes the request's table holds while it is encoded (0 for numeric rows).
        var tableBytes: Int
        var encode: () throws(APIError) -> Matrix
    }

    /// Fits the preprocessing of a new model on the training split's rows (the rows the job
    /// will train on, `Dataset.splitOrder`), so validation rows are encoded as unseen data
    /// would be. Categories are counted against `limits.max_categories` while they are found;
    /// nothing the size of the encoded rows exists yet.
    private static func prepare(
        _ request: TrainRequest, inputs: Matrix, training: TrainingConfiguration, limits: ServerLimits
    ) throws(APIError) -> PreparedInputs {
        let policy = request.missingValues ?? .impute
        let rows = request.table?.rows ?? inputs.rows
        guard request.table != nil || request.columnNames != nil else {
            return PreparedInputs(preprocessing: nil, width: inputs.columns, trainingRows: nil, tableBytes: 0) { inputs }
        }
        var trainingRows: [Int]?
        if training.validationFraction > 0 {
            do {
                trainingRows = Array(try Dataset.splitOrder(count: rows, validationFraction: training.validationFraction, seed: training.seed).training)
            } catch {
                throw .badRequest(DataErrorText.describe(error, field: "inputs"))
            }
        }
        guard let table = request.table else {
            let names = request.columnNames ?? []
            let preprocessing = try fitting { () throws(PreprocessingError) in
                try Preprocessing.numeric(names: names, inputs: inputs, trainingRows: trainingRows, missingValues: policy)
            }
            return PreparedInputs(preprocessing: preprocessing, width: inputs.columns, trainingRows: trainingRows, tableBytes: 0) { inputs }
        }
        let preprocessing = try fitting { () throws(PreprocessingError) in
            try Preprocessing.fit(table, trainingRows: trainingRows, missingValues: policy, maxCategories: limits.maxCategories)
        }
        guard preprocessing.encodedWidth > 0 else {
            throw unprocessable("the inputs encode to no values: every column is text only outside the training rows", code: "shape_mismatch")
        }
        guard preprocessing.encodedWidth <= limits.maxFeatures else {
            throw .limitExceeded(
                key: "limits.max_features", limit: limits.maxFeatures, needed: preprocessing.encodedWidth,
                what: "inputs encoded (\(preprocessing.categoryCount) one-hot categories included)")
        }
        return PreparedInputs(
            preprocessing: preprocessing, width: preprocessing.encodedWidth, trainingRows: trainingRows, tableBytes: tableBytes(table)
        ) { () throws(APIError) in
            try fitting { () throws(PreprocessingError) in try preprocessing.encode(table) }
        }
    }

    /// 413 when a classifier would have more classes than `limits.max_classes`: its one-hot
    /// targets are rows x classes and its evaluation classes x classes.
    private static func checkClasses(_ count: Int, limits: ServerLimits) throws(APIError) {
        guard count <= limits.maxClasses else {
            throw .limitExceeded(key: "limits.max_classes", limit: limits.maxClasses, needed: count, what: "the targets as classes")
        }
    }
}
