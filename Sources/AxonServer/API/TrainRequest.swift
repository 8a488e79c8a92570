import AxonHTTP
import AxonJobs
import AxonSupport
import ModelKit

/// A training request as sent (JSON body or CSV + query), before defaults and validation
/// against the data. Every optional field falls back to a default in `TrainingPlan`.
struct TrainRequest: Sendable {
    /// Targets as sent: class names, numbers (class indices or regression values), or vectors.
    enum Targets: Sendable {
        case labels([String])
        case numbers([Float])
        case vectors([Float], width: Int)

        var count: Int {
            switch self {
            case .labels(let values): values.count
            case .numbers(let values): values.count
            case .vectors(let values, let width): width == 0 ? 0 : values.count / width
            }
        }
    }

    var model: String?
    var task: ModelConfiguration.Task?
    var layers: [Int]?
    var activation: Activation?
    var loss: String?
    var optimizer: String?
    var learningRate: Float?
    var momentum: Float?
    var weightDecay: Float?
    var epochs: Int?
    var batchSize: Int?
    var seed: UInt64?
    var l1: Float?
    var l2: Float?
    var dropout: Float?
    var gradientClipNorm: Float?
    var validationSplit: Double?
    /// nil: default; `.some(nil)`: explicitly disabled.
    var earlyStopping: EarlyStopping??
    var normalize: Normalizer.Kind?
    /// Standardize regression targets (default true for a new regression model).
    var normalizeTargets: Bool?
    /// Rows of numbers, row-major (the fast path: no text, no missing cells).
    var inputs: [Float] = []
    /// `[rows, columns]` of the rows as sent (of `table` when there is one).
    var inputShape: [Int]?
    /// The rows as a table, when they hold text or missing cells or came as JSON objects;
    /// `inputs` is then empty.
    var table: Table?
    /// Input column names: the CSV header without the target, or the keys of JSON objects.
    var columnNames: [String]?
    /// What to do with missing cells (default: impute).
    var missingValues: Preprocessing.MissingValues?
    var targets: Targets?
    /// `?wait=true`.
    var wait = false
    /// The version to evaluate (`POST /models/{name}/evaluate` only, see `parse(json:allowingVersion:)`).
    var version: UInt64?
    /// The top-level JSON keys, in order.
    var seenKeys: [String] = []

    static let jsonKeys = "model, task, layers, activation, loss, optimizer, epochs, batch_size, seed, l1, l2, dropout, gradient_clip_norm, validation_split, early_stopping, normalize, normalize_targets, missing_values, inputs, targets"

    // MARK: - JSON

    /// Parses a whole JSON body; every field is type-checked and unknown fields are refused.
    /// `allowingVersion` accepts a positive integer `version` (the evaluate route's). The same
    /// reader takes a streamed body chunk by chunk (`TrainingBodyReader`).
    static func parse(json body: [UInt8], allowingVersion: Bool = false, limits: ServerLimits) throws(APIError) -> TrainRequest {
        var reader = JSONTrainingReader(limits: limits, allowingVersion: allowingVersion)
        try body.withUnsafeBufferPointer { (bytes) throws(APIError) in try reader.consume(bytes) }
        return try reader.finish()
    }

    /// Reads the member `key` (anything but the rows of `inputs` and `targets`, which
    /// `JSONTrainingReader` reads as they arrive) from `scanner`, positioned at its value.
    mutating func read(_ key: String, from scanner: inout JSONScanner, limits: ServerLimits) throws(APIError) {
        seenKeys.append(key)
        switch key {
        case "model": model = try scanner.readString(at: key)
        case "task":
            let text = try scanner.readString(at: key)
            guard let value = ModelConfiguration.Task(rawValue: text) else {
                throw .badRequest("task must be classification or regression, got \"\(text.excerpt)\"")
            }
            task = value
        case "layers": layers = try Self.readLayers(&scanner, limits: limits)
        case "activation":
            let text = try scanner.readString(at: key)
            guard let value = Activation(rawValue: text), Activation.hidden.contains(value) else {
                throw .badRequest("activation must be one of relu, leaky_relu, sigmoid, tanh; got \"\(text.excerpt)\"")
            }
            activation = value
        case "loss": loss = try scanner.readString(at: key)
        case "optimizer": try readOptimizer(&scanner)
        case "learning_rate": learningRate = Float(try scanner.readNumber(at: key))
        case "epochs": epochs = try Self.integer(&scanner, key)
        case "batch_size": batchSize = try Self.integer(&scanner, key)
        case "seed": seed = try scanner.readUnsigned(at: key)
        case "l1": l1 = Float(try scanner.readNumber(at: key))
        case "l2": l2 = Float(try scanner.readNumber(at: key))
        case "dropout": dropout = Float(try scanner.readNumber(at: key))
        case "gradient_clip_norm": gradientClipNorm = Float(try scanner.readNumber(at: key))
        case "validation_split": validationSplit = try scanner.readNumber(at: key)
        case "early_stopping": earlyStopping = .some(try Self.readEarlyStopping(&scanner))
        case "normalize":
            let text = try scanner.readString(at: key)
            guard let kind = Normalizer.Kind(rawValue: text) else {
                throw .badRequest("normalize must be standard, min_max or none; got \"\(text.excerpt)\"")
            }
            normalize = kind
        case "normalize_targets": normalizeTargets = try scanner.readBool(at: key)
        case "missing_values":
            let text = try scanner.readString(at: key)
            guard let policy = Preprocessing.MissingValues(rawValue: text) else {
                throw .badRequest("missing_values must be impute or refuse; got \"\(text.excerpt)\"")
            }
            missingValues = policy
        case "inputs": try readInputs(&scanner, limits: limits)
        case "targets": targets = try Self.readTargets(&scanner)
        default: throw PredictRoutes.unknownKey(key, allowed: Self.jsonKeys)
        }
    }

    static let defaultEarlyStopping = EarlyStopping(patience: 10, minDelta: 1e-4, restoreBestWeights: true)

    /// `layers`: sizes counted against `limits.max_layers` as they are read.
    private static func readLayers(_ scanner: inout JSONScanner, limits: ServerLimits) throws(APIError) -> [Int] {
        var sizes: [Int] = []
        try scanner.readArray(at: "layers") { (scanner, k) throws(APIError) in
            guard k < limits.maxLayers else {
                throw .limitExceeded(key: "limits.max_layers", limit: limits.maxLayers, needed: k + 1, what: "layers (at least)")
            }
            let value = try scanner.readUnsigned(at: "layers[\(k)]")
            guard value >= 1, value <= UInt64(ModelConfiguration.maximumLayerSize) else {
                throw .badRequest("layers[\(k)] is \(value); layer sizes must be in 1...\(ModelConfiguration.maximumLayerSize)")
            }
            sizes.append(Int(value))
        }
        return sizes
    }

    /// `optimizer`: a name, or an object with the name and its settings.
    private mutating func readOptimizer(_ scanner: inout JSONScanner) throws(APIError) {
        if scanner.peek() == UInt8(ascii: "\"") {
            optimizer = try scanner.readString(at: "optimizer")
            return
        }
        try scanner.readObject(at: "optimizer") { (scanner, field) throws(APIError) in
            let path = "optimizer." + field
            switch field {
            case "name": optimizer = try scanner.readString(at: path)
            case "learning_rate": learningRate = Float(try scanner.readNumber(at: path))
            case "momentum": momentum = Float(try scanner.readNumber(at: path))
            case "weight_decay": weightDecay = Float(try scanner.readNumber(at: path))
            default: throw PredictRoutes.unknownKey(path, allowed: "name, learning_rate, momentum, weight_decay")
            }
        }
    }

    /// `early_stopping`: null or false (off), true (the default rule), or the rule's settings.
    private static func readEarlyStopping(_ scanner: inout JSONScanner) throws(APIError) -> EarlyStopping? {
        if scanner.readNull() { return nil }
        if scanner.peek() == UInt8(ascii: "f") || scanner.peek() == UInt8(ascii: "t") {
            return try scanner.readBool(at: "early_stopping") ? defaultEarlyStopping : nil
        }
        var rule = defaultEarlyStopping
        try scanner.readObject(at: "early_stopping") { (scanner, field) throws(APIError) in
            let path = "early_stopping." + field
            switch field {
            case "patience": rule.patience = try integer(&scanner, path)
            case "min_delta": rule.minDelta = Float(try scanner.readNumber(at: path))
            case "restore_best_weights": rule.restoreBestWeights = try scanner.readBool(at: path)
            default: throw PredictRoutes.unknownKey(path, allowed: "patience, min_delta, restore_best_weights")
            }
        }
        return rule
    }

    /// `inputs` in a whole body: rows of numbers, or a table (rows as objects, or cells that
    /// are strings, booleans or null). A streamed body's rows are read by `JSONTrainingReader`.
    private mutating func readInputs(_ scanner: inout JSONScanner, limits: ServerLimits) throws(APIError) {
        if scanner.peekFirstElement() == UInt8(ascii: "{") {
            let read = try TableReader.objectRows(&scanner, at: "inputs", limits: limits)
            (table, columnNames) = (read.table, read.table.names)
            inputShape = [read.table.rows, read.table.columns.count]
            return
        }
        let start = scanner.index
        do throws(APIError) {
            inputShape = try scanner.readTensor(at: "inputs", into: &inputs, maxDepth: 2)
        } catch {
            // A string, boolean or null cell: the rows are a table, read again as one.
            guard let next = scanner.peek(), TableReader.startsNonNumericCell(next) else { throw error }
            scanner.rewind(to: start)
            inputs = []
            let read = try TableReader.arrayRows(&scanner, at: "inputs", limits: limits)
            table = read
            inputShape = [read.rows, read.columns.count]
        }
    }

    private static func integer(_ scanner: inout JSONScanner, _ path: String) throws(APIError) -> Int {
        let value = try scanner.readUnsigned(at: path)
        guard value <= UInt64(Int32.max) else { throw .badRequest("\(path) is \(value); at most \(Int32.max)") }
        return Int(value)
    }

    private static func readTargets(_ scanner: inout JSONScanner) throws(APIError) -> Targets {
        var labels: [String] = []
        var numbers: [Float] = []
        var vectorWidth: Int?
        var kind: UInt8?
        try scanner.readArray(at: "targets") { (scanner, k) throws(APIError) in
            let path = "targets[\(k)]"
            let next = scanner.peek() ?? 0
            let current: UInt8 = switch next {
            case UInt8(ascii: "\""): 1
            case UInt8(ascii: "["): 2
            case UInt8(ascii: "t"), UInt8(ascii: "f"): 3
            default: 0
            }
            if let kind, kind != current {
                let names = ["a number", "a string", "an array", "a boolean"]
                throw .badRequest("\(path) is \(names[Int(current)]); targets[0] is \(names[Int(kind)]); use one kind for all targets")
            }
            kind = current
            switch current {
            case 1: labels.append(try scanner.readString(at: path))
            // Booleans are two class labels, "false" and "true".
            case 3: labels.append(try scanner.readBool(at: path) ? "true" : "false")
            case 2:
                let before = numbers.count
                let shape = try scanner.readTensor(at: path, into: &numbers, maxDepth: 1)
                let width = numbers.count - before
                guard shape.count == 1, width > 0 else { throw .badRequest("\(path) must be a non-empty array of numbers") }
                if let vectorWidth, vectorWidth != width {
                    throw APIError(
                        status: .unprocessableContent, code: "ragged_array", message: "\(path) has \(width) values; targets[0] has \(vectorWidth)")
                }
                vectorWidth = width
            default: numbers.append(Float(try scanner.readNumber(at: path)))
            }
        }
        switch kind {
        case 1, 3: return .labels(labels)
        case 2: return .vectors(numbers, width: vectorWidth ?? 0)
        default: return .numbers(numbers)
        }
    }

    // MARK: - Query parameters (CSV bodies, and overrides for JSON)

    static let queryKeys = "model, target, task, layers, activation, loss, optimizer, learning_rate, epochs, batch_size, seed, l1, l2, dropout, validation_split, patience, normalize, normalize_targets, missing_values, wait"

    /// Applies query parameters. `csv` allows the training settings; JSON bodies take only `wait`.
    mutating func apply(query items: [(name: String, value: String)], csv: Bool, limits: ServerLimits) throws(APIError) -> String? {
        var target: String?
        for (name, value) in items {
            if name == "wait" {
                guard value == "true" || value == "false" else { throw .badRequest("query parameter wait must be true or false, got \(value)") }
                wait = value == "true"
                continue
            }
            guard csv else {
                throw .badRequest("unknown query parameter \(name); a JSON body takes only wait (settings go in the body)", code: "unknown_field")
            }
            if name == "target" {
                target = value
            } else {
                try applySetting(name, value, limits: limits)
            }
        }
        return target
    }

    /// One training setting from the query of a CSV body.
    private mutating func applySetting(_ name: String, _ value: String, limits: ServerLimits) throws(APIError) {
        func number<T: LosslessStringConvertible>(_ type: T.Type) throws(APIError) -> T {
            guard let parsed = T(value) else { throw .badRequest("query parameter \(name)=\(value) is not a valid number") }
            return parsed
        }
        switch name {
        case "model": model = value
        case "task":
            guard let parsed = ModelConfiguration.Task(rawValue: value) else { throw .badRequest("task must be classification or regression, got \(value)") }
            task = parsed
        case "layers": layers = try Self.queryLayers(value, limits: limits)
        case "activation":
            guard let parsed = Activation(rawValue: value), Activation.hidden.contains(parsed) else {
                throw .badRequest("activation must be one of relu, leaky_relu, sigmoid, tanh; got \(value)")
            }
            activation = parsed
        case "loss": loss = value
        case "optimizer": optimizer = value
        case "learning_rate": learningRate = try number(Float.self)
        case "epochs": epochs = try number(Int.self)
        case "batch_size": batchSize = try number(Int.self)
        case "seed": seed = try number(UInt64.self)
        case "l1": l1 = try number(Float.self)
        case "l2": l2 = try number(Float.self)
        case "dropout": dropout = try number(Float.self)
        case "validation_split": validationSplit = try number(Double.self)
        case "patience":
            let patience = try number(Int.self)
            earlyStopping = patience == 0 ? .some(nil) : .some(EarlyStopping(patience: patience, minDelta: 1e-4))
        case "normalize":
            guard let kind = Normalizer.Kind(rawValue: value) else { throw .badRequest("normalize must be standard, min_max or none; got \(value)") }
            normalize = kind
        case "normalize_targets":
            guard value == "true" || value == "false" else {
                throw .badRequest("query parameter normalize_targets must be true or false, got \(value)")
            }
            normalizeTargets = value == "true"
        case "missing_values":
            guard let policy = Preprocessing.MissingValues(rawValue: value) else {
                throw .badRequest("missing_values must be impute or refuse; got \(value)")
            }
            missingValues = policy
        default: throw .badRequest("unknown query parameter \(name); allowed: \(Self.queryKeys)", code: "unknown_field")
        }
    }

    /// `layers=4,16,3`: sizes counted against `limits.max_layers` as they are read.
    private static func queryLayers(_ value: String, limits: ServerLimits) throws(APIError) -> [Int] {
        var sizes: [Int] = []
        for part in value.split(separator: ",") {
            guard sizes.count < limits.maxLayers else {
                throw .limitExceeded(key: "limits.max_layers", limit: limits.maxLayers, needed: sizes.count + 1, what: "layers (at least)")
            }
            guard let size = Int(part), size >= 1, size <= ModelConfiguration.maximumLayerSize else {
                throw .badRequest("query parameter layers=\(value) must be comma-separated sizes in 1...\(ModelConfiguration.maximumLayerSize)")
            }
            sizes.append(size)
        }
        return sizes
    }

    // MARK: - CSV

    /// Reads a whole CSV body with a header row; `target` names the target column (default:
    /// the last). The same reader takes a streamed body chunk by chunk (`TrainingBodyReader`).
    mutating func read(csv body: [UInt8], target: String?, limits: ServerLimits) throws(APIError) {
        var reader = CSVTrainingReader(target: target, limits: limits)
        try body.withUnsafeBufferPointer { (bytes) throws(APIError) in try reader.consume(bytes) }
        try reader.finish(into: &self)
    }
}
