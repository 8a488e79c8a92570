import AxonHTTP
import AxonJobs
import AxonSupport
import AxonStore
import ModelKit

// Building a `TrainingPlan` (AxonJobs) from a request: every default filled in and every
// size checked, so a bad request is answered at once (400/413/422) instead of failing later in
// the queue.
extension TrainingPlan {
    /// A 422: valid JSON that cannot train as asked.
    static func unprocessable(_ message: String, code: String = "invalid_training_request") -> APIError {
        APIError(status: .unprocessableContent, code: code, message: message)
    }

    /// Checks the data against the limits and returns the input matrix (empty when the rows
    /// came as a table: `request.table`).
    static func inputMatrix(_ request: TrainRequest, limits: ServerLimits) throws(APIError) -> Matrix {
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

    /// The data set of `inputs` and `targets` for a network of `outputs` outputs: with
    /// `classLabels`, class indices (one column for a single sigmoid output, else one-hot),
    /// otherwise the numbers or vectors as they are. `model` names an existing model in errors.
    static func dataset(
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
    static func settings(
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
