import AxonHTTP
import AxonJobs
import AxonSupport
import AxonStore
import ModelKit

// A plan that continues a served model: its network, preprocessing and stored settings are fixed,
// the request brings new rows and may change the training settings.
extension TrainingPlan {
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
}
