import AxonHTTP
import AxonJobs
import AxonSupport
import AxonStore
import ModelKit

// Building a `TrainingPlan` (AxonJobs) from a request: every default filled in and every
// size checked, so a bad request is answered at once (400/413/422) instead of failing later in
// the queue.
extension TrainingPlan {
    private static func unprocessable(_ message: String, code: String = "invalid_training_request") -> APIError {
        APIError(status: .unprocessableContent, code: code, message: message)
    }

    /// Checks the data against the limits and returns the input matrix (empty when the rows
    /// came as a table: `request.table`).
    private static func inputMatrix(_ request: TrainRequest, limits: ServerLimits) throws(APIError) -> Matrix {
        guard let shape = request.inputShape else { throw .badRequest("missing field inputs", code: "missing_field") }
        if request.table != nil { return Matrix(rows: shape[0], columns: 0) }
        guard shape.count == 2, shape[0] > 0, shape[1] > 0 else {
            throw .badRequest("inputs must be a non-empty array of rows (arrays of numbers), got shape \(shape)")
        }
        guard shape[0] <= limits.maxRowsPerRequest else {
            throw .limitExceeded(key: "limits.max_rows_per_request", limit: limits.maxRowsPerRequest, needed: shape[0], what: "inputs as rows")
        }
        guard shape[1] <= limits.maxFeatures else {
            throw .limitExceeded(key: "limits.max_features", limit: limits.maxFeatures, needed: shape[1], what: "inputs rows as features")
        }
        do {
            return try Matrix(rows: shape[0], columns: shape[1], values: request.inputs)
        } catch {
            throw .badRequest(DataErrorText.describe(error, field: "inputs"))
        }
    }

    /// Encodes the targets for a classifier with `labels` (in output order).
    private static func classTargets(_ targets: TrainRequest.Targets, labels: [String], model: String?) throws(APIError) -> [Int] {
        switch targets {
        case .labels(let values):
            var index: [String: Int] = [:]
            for (k, label) in labels.enumerated() { index[label] = k }
            return try values.enumerated().map { (row, value) throws(APIError) in
                guard let k = index[value] else {
                    throw unprocessable("targets[\(row)] is \"\(value.excerpt)\"; \(model.map { "model \"\($0)\" has" } ?? "known") classes: \(labels.joined(separator: ", ").excerpt)")
                }
                return k
            }
        case .numbers(let values):
            return try values.enumerated().map { (row, value) throws(APIError) in
                // Compared as Float first: Int(1e30) would trap.
                guard value >= 0, value.rounded() == value, value < Float(labels.count) else {
                    throw unprocessable("targets[\(row)] is \(value); class indices must be integers in 0..<\(labels.count)")
                }
                return Int(value)
            }
        case .vectors:
            throw unprocessable("targets are vectors; a classifier takes one class index or label per row")
        }
    }

    /// A plan for a new model (or a retrain from scratch of an existing name).
    ///
    /// Everything the request sizes is checked before it is allocated: the classes against
    /// `limits.max_classes` before the one-hot targets exist, the layers against
    /// `limits.max_layers` and `limits.max_parameters_per_model`, and the whole job (data, split,
    /// every layer's workspaces, optimizer state, evaluation) against `limits.max_job_bytes` and
    /// `limits.max_job_flops`.
    static func fresh(_ request: TrainRequest, limits: ServerLimits) throws(APIError) -> TrainingPlan {
        guard let name = request.model else { throw .badRequest("missing field model", code: "missing_field") }
        do { _ = try ModelStore.validate(name) } catch { throw .badRequest(error.message, code: error.code) }
        let inputs = try inputMatrix(request, limits: limits)
        guard let targets = request.targets else { throw .badRequest("missing field targets", code: "missing_field") }
        guard targets.count == inputs.rows else {
            throw unprocessable("targets has \(targets.count) values; inputs has \(inputs.rows) rows", code: "shape_mismatch")
        }
        var reasons: [String: String] = [:]
        let task: ModelConfiguration.Task
        if let given = request.task {
            task = given
        } else {
            switch targets {
            case .labels:
                task = .classification
                reasons["task"] = "classification: the targets are strings or booleans"
            case .vectors:
                task = .regression
                reasons["task"] = "regression: the targets are vectors of numbers"
            case .numbers(let values):
                let (inferred, why) = ModelConfiguration.Task.inferred(fromNumbers: values)
                task = inferred
                reasons["task"] = "\(inferred.rawValue): \(why)"
            }
        }
        let lossName = request.loss ?? (task == .classification ? "cross_entropy" : "mse")
        if request.loss == nil {
            reasons["loss"] = task == .classification ? "cross_entropy: softmax over the classes" : "mse: the usual regression loss"
        }
        let outputs: Int
        let output: Activation
        let loss: Loss
        var classLabels: [String] = []
        switch task {
        case .classification:
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
            switch lossName {
            case "cross_entropy": (outputs, output, loss) = (classLabels.count, .softmax, .softmaxCrossEntropy)
            case "binary_cross_entropy":
                guard classLabels.count == 2 else {
                    throw unprocessable("loss binary_cross_entropy needs 2 classes; targets hold \(classLabels.count)")
                }
                (outputs, output, loss) = (1, .sigmoid, .binaryCrossEntropy)
            default:
                throw unprocessable("loss \(lossName.excerpt) does not fit a classifier; use cross_entropy or binary_cross_entropy")
            }
        case .regression:
            switch lossName {
            case "mse": loss = .meanSquaredError
            case "mae": loss = .meanAbsoluteError
            case "huber": loss = .huber(delta: 1)
            default: throw unprocessable("loss \(lossName.excerpt) does not fit regression; use mse, mae or huber")
            }
            output = .identity
            switch targets {
            case .labels: throw unprocessable("targets are strings; regression needs numbers (or set task to classification)")
            case .numbers: outputs = 1
            case .vectors(_, let width): outputs = width
            }
        }
        var defaults = TrainingDefaults.choose(
            rows: inputs.rows, features: inputs.columns, outputs: outputs, task: task, batchSize: request.batchSize,
            validationFraction: request.validationSplit, maximumEpochRows: limits.maxEpochRowsPerJob)
        if request.normalizeTargets != nil, task == .classification {
            throw unprocessable("normalize_targets applies to regression; these targets train a classifier")
        }
        let base = TrainingConfiguration(
            epochs: defaults.epochs, batchSize: defaults.batchSize, seed: 0, optimizer: .adam(learningRate: defaults.learningRate),
            schedule: defaults.schedule, regularization: Regularization(l2: defaults.l2), earlyStopping: defaults.earlyStopping,
            validationFraction: defaults.validationFraction, normalization: .standard, normalizeTargets: task == .regression ? true : nil)
        // The settings come first: the preprocessing is fitted on the training split they define.
        var training = try settings(request, base: base, rows: inputs.rows, limits: limits)
        // The anneal belongs to the default rate, and spans the epochs really run.
        if request.learningRate != nil || request.optimizer != nil {
            training.schedule = .constant
        } else if case .cosine = defaults.schedule {
            training.schedule = TrainingDefaults.annealed(epochs: training.epochs, learningRate: training.optimizer.learningRate)
        }
        let prepared = try prepare(request, inputs: inputs, training: training, limits: limits)
        let width = prepared.width
        if width != inputs.columns {
            // Text columns widen the inputs (one-hot): the hidden layer is sized for what the network sees.
            defaults = TrainingDefaults.choose(
                rows: inputs.rows, features: width, outputs: outputs, task: task, batchSize: request.batchSize,
                validationFraction: request.validationSplit, maximumEpochRows: limits.maxEpochRowsPerJob)
        }
        var sizes = request.layers ?? [width, defaults.hiddenWidth, outputs]
        if request.layers != nil {
            guard sizes.count >= 2 else { throw .badRequest("layers must list at least the input and output sizes, got \(sizes)") }
            guard sizes[0] == width else {
                let what = prepared.preprocessing?.hasCategoricalColumns == true ? "encoded inputs (one-hot categories included)" : "features"
                throw unprocessable("layers[0] is \(sizes[0]); inputs rows have \(width) \(what)", code: "shape_mismatch")
            }
            guard sizes[sizes.count - 1] == outputs else {
                throw unprocessable(
                    "layers[\(sizes.count - 1)] is \(sizes[sizes.count - 1]); the targets need \(outputs) outputs", code: "shape_mismatch")
            }
        }
        guard sizes.count <= limits.maxLayers else {
            throw .limitExceeded(key: "limits.max_layers", limit: limits.maxLayers, needed: sizes.count, what: "layers")
        }
        sizes[0] = width
        let configuration: ModelConfiguration
        do {
            configuration = try ModelConfiguration(
                layerSizes: sizes, hiddenActivation: request.activation ?? .relu, outputActivation: output, loss: loss,
                classLabels: classLabels)
        } catch {
            throw unprocessable("the network cannot be built: \(error)")
        }
        guard configuration.parameterCount <= limits.maxParametersPerModel else {
            throw .limitExceeded(
                key: "limits.max_parameters_per_model", limit: limits.maxParametersPerModel, needed: configuration.parameterCount,
                what: "layers \(sizes.count > 8 ? "(\(sizes.count) sizes)" : "\(sizes)") as parameters")
        }
        try checkJobCost(configuration, rows: inputs.rows, training: training, limits: limits, extraBytes: prepared.tableBytes)
        let encoded = try prepared.encode()
        let dataset = try dataset(
            inputs: encoded, targets: targets, classLabels: task == .classification ? classLabels : nil, outputs: outputs, model: nil)
        var start = Model(configuration: configuration, seed: training.seed)
        if let preprocessing = prepared.preprocessing, preprocessing.hasCategoricalColumns {
            // One-hot inputs stay 0/1: the scaler is fitted here (numeric columns, training
            // rows only), so the trainer does not fit one over every encoded column.
            let rows = prepared.trainingRows.map { encoded.gatheringRows($0) } ?? encoded
            do {
                start = try start.replacingNormalizer(preprocessing.normalizer(training.normalization, fittedOn: rows))
            } catch {
                throw .internalError
            }
        }
        // Only the reasons of settings the request left to the defaults, and still in force.
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
        var plan = TrainingPlan(
            name: name, start: start, configuration: training, dataset: dataset, parentVersion: nil, preprocessing: prepared.preprocessing)
        plan.reasons = reasons
        return plan
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

    /// What a table holds in memory: a float or an optional string per cell, plus the text.
    static func tableBytes(_ table: Table) -> Int {
        var total = 0
        for column in table.columns {
            switch column {
            case .numeric(let values): total = ComputeCost.saturating(total, plus: ComputeCost.saturating(values.count, MemoryLayout<Float>.size))
            case .text(let values):
                total = ComputeCost.saturating(total, plus: ComputeCost.saturating(values.count, MemoryLayout<String?>.stride))
                for value in values { total = ComputeCost.saturating(total, plus: value?.utf8.count ?? 0) }
            }
        }
        return total
    }

    /// Runs `body`, turning a preprocessing error into the API error that names the column.
    static func fitting<T>(_ body: () throws(PreprocessingError) -> T) throws(APIError) -> T {
        do {
            return try body()
        } catch {
            // Fitted from a request, preprocessing that does not hold together is the request's
            // columns (a CSV header naming a column twice), not a broken model: a 400, not a 500.
            if case .invalid(let reason) = error {
                throw .badRequest("inputs cannot be a table: \(reason.excerpt)", code: "invalid_input")
            }
            throw APIError(preprocessing: error, field: "inputs")
        }
    }

    /// 413 when a classifier would have more classes than `limits.max_classes`: its one-hot
    /// targets are rows x classes and its evaluation classes x classes.
    private static func checkClasses(_ count: Int, limits: ServerLimits) throws(APIError) {
        guard count <= limits.maxClasses else {
            throw .limitExceeded(key: "limits.max_classes", limit: limits.maxClasses, needed: count, what: "the targets as classes")
        }
    }

    /// 413 when the job would hold more memory than `limits.max_job_bytes` or compute more
    /// than `limits.max_job_flops` (ModelKit's estimate, summed over every layer).
    static func checkJobCost(
        _ configuration: ModelConfiguration, rows: Int, training: TrainingConfiguration, limits: ServerLimits, extraBytes: Int = 0
    ) throws(APIError) {
        var cost = configuration.trainingCost(rows: rows, training: training)
        cost.bytes = ComputeCost.saturating(cost.bytes, plus: extraBytes)
        try APIError.checkBudget(
            cost,
            bytes: ("limits.max_job_bytes", limits.maxJobBytes), flops: ("limits.max_job_flops", limits.maxJobFlops),
            what: "this training job (\(training.epochs) epochs of \(rows) rows, batch_size \(training.batchSize), \(configuration.layerSizes.count) layers)")
    }

    /// A plan that continues `current` on new data from its weights and optimizer state.
    static func continuing(_ request: TrainRequest, current: StoredModel, limits: ServerLimits) throws(APIError) -> TrainingPlan {
        for (given, field) in [(request.layers != nil, "layers"), (request.activation != nil, "activation"), (request.loss != nil, "loss"),
                               (request.task != nil, "task"), (request.normalize != nil, "normalize"), (request.normalizeTargets != nil, "normalize_targets"),
                               (request.model != nil, "model"), (request.missingValues != nil, "missing_values")] where given {
            throw .badRequest("\(field) is fixed by the existing model \"\(current.name)\" and cannot be given when continuing training", code: "unknown_field")
        }
        var inputs = try inputMatrix(request, limits: limits)
        let rows = request.table?.rows ?? inputs.rows
        var table: Table?
        if let preprocessing = current.preprocessing {
            table = try aligned(request, inputs: inputs, to: preprocessing, model: current.name)
        } else if request.table != nil {
            throw unprocessable(
                "model \"\(current.name)\" takes rows of \(current.inputWidth) numbers: it was trained without named or text columns, so its inputs cannot be objects, text or null",
                code: "shape_mismatch")
        } else if inputs.columns != current.inputWidth {
            throw unprocessable("inputs[0] has \(inputs.columns) values; model \"\(current.name)\" expects \(current.inputWidth)", code: "shape_mismatch")
        }
        guard let targets = request.targets else { throw .badRequest("missing field targets", code: "missing_field") }
        guard targets.count == rows else {
            throw unprocessable("targets has \(targets.count) values; inputs has \(rows) rows", code: "shape_mismatch")
        }
        let configuration = current.configuration
        // Checked before the targets and the table are encoded: a classifier's targets are
        // rows x classes, the encoded rows rows x the model's input width.
        // A version without recorded settings (an imported file) continues with the data's defaults.
        let chosen = TrainingDefaults.choose(
            rows: rows, features: configuration.inputCount, outputs: configuration.outputCount, task: configuration.task,
            batchSize: request.batchSize,
            validationFraction: request.validationSplit, maximumEpochRows: limits.maxEpochRowsPerJob)
        let base = current.training ?? TrainingConfiguration(
            epochs: chosen.epochs, batchSize: chosen.batchSize, seed: 0, optimizer: .adam(learningRate: chosen.learningRate),
            regularization: Regularization(l2: chosen.l2), earlyStopping: chosen.earlyStopping,
            validationFraction: chosen.validationFraction, normalization: .standard)
        var training = try settings(request, base: base, rows: rows, limits: limits)
        // The trainer counts epochs across versions, so a stored anneal would hold a continued
        // run at its floor: a continuation trains at the base rate.
        training.schedule = .constant
        try checkJobCost(configuration, rows: rows, training: training, limits: limits, extraBytes: table.map(tableBytes) ?? 0)
        if let table, let preprocessing = current.preprocessing {
            inputs = try fitting { () throws(PreprocessingError) in try preprocessing.encode(table) }
        }
        let labels = configuration.classLabels.isEmpty
            ? (0 ..< max(configuration.outputCount, 2)).map(String.init) : configuration.classLabels
        let dataset = try dataset(
            inputs: inputs, targets: targets, classLabels: configuration.task == .classification ? labels : nil,
            outputs: configuration.outputCount, model: current.name)
        return TrainingPlan(
            name: current.name, start: current.model, configuration: training, dataset: dataset, parentVersion: current.version,
            preprocessing: current.preprocessing)
    }

    /// The request's rows as a table in the column order of `preprocessing`, matched by name
    /// when both sides name their columns, else by position; nil when the numeric rows already
    /// are the encoded rows (no categorical columns, same order).
    private static func aligned(
        _ request: TrainRequest, inputs: Matrix, to preprocessing: Preprocessing, model: String
    ) throws(APIError) -> Table? {
        let expected = preprocessing.columns.count
        let given: Table
        if let table = request.table {
            given = table
        } else {
            guard inputs.columns == expected else {
                throw unprocessable("inputs[0] has \(inputs.columns) values; model \"\(model)\" has \(expected) columns", code: "shape_mismatch")
            }
            let identity = request.columnNames == nil || preprocessing.names == nil || request.columnNames == preprocessing.names
            if identity, !preprocessing.hasCategoricalColumns { return nil }
            let columns = (0 ..< inputs.columns).map { k in
                Table.Column.numeric((0 ..< inputs.rows).map { inputs[$0, k] })
            }
            given = Table(names: request.columnNames, columns: columns)
        }
        guard let names = preprocessing.names, let sent = given.names else {
            guard given.columns.count == expected else {
                throw unprocessable("inputs[0] has \(given.columns.count) values; model \"\(model)\" has \(expected) columns", code: "shape_mismatch")
            }
            return given
        }
        var byName: [String: Int] = [:]
        for (k, name) in sent.enumerated() { byName[name] = k }
        for name in sent where preprocessing.positions[name] == nil {
            throw .badRequest(
                "inputs has column \"\(name.excerpt)\", which model \"\(model)\" does not have; its columns: \(names.joined(separator: ", ").excerpt)",
                code: "unknown_field")
        }
        let columns = try names.map { (name) throws(APIError) -> Table.Column in
            guard let k = byName[name] else {
                throw .badRequest("inputs has no column \"\(name.excerpt)\"; model \"\(model)\" needs every one of \(names.joined(separator: ", ").excerpt)", code: "missing_field")
            }
            return given.columns[k]
        }
        return Table(names: names, columns: columns)
    }
    /// The data set of `inputs` and `targets` for a network of `outputs` outputs: with
    /// `classLabels`, class indices (one column for a single sigmoid output, else one-hot),
    /// otherwise the numbers or vectors as they are. `model` names an existing model in errors.
    private static func dataset(
        inputs: Matrix, targets: TrainRequest.Targets, classLabels: [String]?, outputs: Int, model: String?
    ) throws(APIError) -> Dataset {
        let owner = model.map { "model \"\($0)\"" } ?? "the network"
        do {
            if let classLabels {
                let indices = try classTargets(targets, labels: classLabels, model: model)
                if outputs == 1 {
                    return try Dataset(inputs: inputs, targets: Matrix(rows: indices.count, columns: 1, values: indices.map(Float.init)))
                }
                return try Dataset(inputs: inputs, classLabels: indices, classCount: outputs)
            }
            switch targets {
            case .labels:
                throw unprocessable(model.map { "targets are strings; model \"\($0)\" is a regression model" }
                    ?? "targets are strings; regression needs numbers (or set task to classification)")
            case .numbers(let values):
                guard outputs == 1 else {
                    throw unprocessable("targets are numbers; \(owner) has \(outputs) outputs, so each target needs \(outputs) values")
                }
                return try Dataset(inputs: inputs, targets: Matrix(rows: values.count, columns: 1, values: values))
            case .vectors(let values, let width):
                guard width == outputs else {
                    throw unprocessable("targets[0] has \(width) values; \(owner) has \(outputs) outputs", code: "shape_mismatch")
                }
                return try Dataset(inputs: inputs, targets: Matrix(rows: values.count / width, columns: width, values: values))
            }
        } catch let error as APIError {
            throw error
        } catch let error as DataError {
            throw .badRequest(DataErrorText.describe(error, field: "inputs"))
        } catch {
            throw .internalError
        }
    }

    /// The training settings: `base` (the stored run's when continuing, else the defaults
    /// chosen from the data) overridden by what the request gives, validated by ModelKit.
    private static func settings(
        _ request: TrainRequest, base: TrainingConfiguration, rows: Int, limits: ServerLimits
    ) throws(APIError) -> TrainingConfiguration {
        var training = base
        // The server's, never a stored run's: a continuation runs on this server's cores.
        training.threads = limits.trainingThreads > 1 ? limits.trainingThreads : nil
        if let epochs = request.epochs { training.epochs = epochs }
        if let batchSize = request.batchSize { training.batchSize = batchSize }
        if let seed = request.seed { training.seed = seed }
        if let name = request.optimizer {
            let rate = request.learningRate
            switch name {
            case "adam": training.optimizer = .adam(learningRate: rate ?? 1e-3)
            case "adamw": training.optimizer = .adamW(learningRate: rate ?? 1e-3, weightDecay: request.weightDecay ?? 0.01)
            case "sgd": training.optimizer = .sgd(learningRate: rate ?? 0.01, momentum: request.momentum ?? 0)
            default: throw .badRequest("optimizer.name must be adam, adamw or sgd; got \"\(name.excerpt)\"")
            }
        } else if let rate = request.learningRate {
            training.optimizer.learningRate = rate
        }
        if let momentum = request.momentum { training.optimizer.momentum = momentum }
        if let decay = request.weightDecay { training.optimizer.weightDecay = decay }
        if let l1 = request.l1 { training.regularization.l1 = l1 }
        if let l2 = request.l2 { training.regularization.l2 = l2 }
        if let dropout = request.dropout { training.regularization.dropout = dropout }
        if let clip = request.gradientClipNorm { training.regularization.gradientClipNorm = clip }
        if let split = request.validationSplit { training.validationFraction = split }
        if let rule = request.earlyStopping { training.earlyStopping = rule }
        if let kind = request.normalize { training.normalization = kind }
        if let normalizeTargets = request.normalizeTargets { training.normalizeTargets = normalizeTargets }
        do {
            try training.validate()
        } catch {
            switch error {
            case .invalidHyperparameter(let name, let value, let allowed):
                let field = name == "validation_fraction" ? "validation_split" : name.replacingRegularizationPrefix
                throw .badRequest("\(field) is \(value); allowed: \(allowed)", code: "invalid_hyperparameter")
            default:
                throw .badRequest("invalid training settings: \(error)", code: "invalid_hyperparameter")
            }
        }
        if training.validationFraction > 0 {
            let held = Int((Double(rows) * training.validationFraction).rounded())
            guard held >= 1, held < rows else {
                throw unprocessable("validation_split \(training.validationFraction) leaves no rows on one side of \(rows) rows")
            }
        }
        let work = training.epochs.multipliedReportingOverflow(by: rows)
        guard !work.overflow, work.partialValue <= limits.maxEpochRowsPerJob else {
            throw .limitExceeded(
                key: "limits.max_epoch_rows_per_job", limit: limits.maxEpochRowsPerJob, needed: work.overflow ? .max : work.partialValue,
                what: "epochs x rows (\(training.epochs) x \(rows))")
        }
        return training
    }
}

extension String {
    /// `regularization.l2` -> `l2`: the request names these fields at the top level.
    fileprivate var replacingRegularizationPrefix: String {
        hasPrefix("regularization.") ? String(dropFirst("regularization.".count)) : self
    }
}
