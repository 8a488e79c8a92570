#if canImport(Glibc)
import AxonHTTP
import AxonSupport
import Glibc
#endif
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

    /// Parses a JSON body; every field is type-checked and unknown fields are refused.
    /// `allowingVersion` accepts a positive integer `version` (the evaluate route's).
    static func parse(json body: [UInt8], allowingVersion: Bool = false, limits: ServerLimits) throws(APIError) -> TrainRequest {
        var request = TrainRequest()
        try body.withUnsafeBufferPointer { (bytes) throws(APIError) in
            var scanner = JSONScanner(bytes, limits: JSONLimits(limits))
            try scanner.readObject(at: "$") { (scanner, key) throws(APIError) in
                if allowingVersion, key == "version" {
                    request.seenKeys.append(key)
                    let version = try scanner.readUnsigned(at: key)
                    guard version > 0 else { throw .badRequest("version must be a positive integer, got 0", code: "invalid_version") }
                    request.version = version
                    return
                }
                try request.read(key, from: &scanner, limits: limits)
            }
            try scanner.expectEnd()
        }
        return request
    }

    private mutating func read(_ key: String, from scanner: inout JSONScanner, limits: ServerLimits) throws(APIError) {
        seenKeys.append(key)
        switch key {
        case "model": model = try scanner.readString(at: key)
        case "task":
            let text = try scanner.readString(at: key)
            guard let value = ModelConfiguration.Task(rawValue: text) else {
                throw .badRequest("task must be classification or regression, got \"\(text.excerpt)\"")
            }
            task = value
        case "layers":
            var sizes: [Int] = []
            try scanner.readArray(at: key) { (scanner, k) throws(APIError) in
                guard k < limits.maxLayers else {
                    throw .limitExceeded(key: "limits.max_layers", limit: limits.maxLayers, needed: k + 1, what: "layers (at least)")
                }
                let value = try scanner.readUnsigned(at: "layers[\(k)]")
                guard value >= 1, value <= UInt64(ModelConfiguration.maximumLayerSize) else {
                    throw .badRequest("layers[\(k)] is \(value); layer sizes must be in 1...\(ModelConfiguration.maximumLayerSize)")
                }
                sizes.append(Int(value))
            }
            layers = sizes
        case "activation":
            let text = try scanner.readString(at: key)
            guard let value = Activation(rawValue: text), Activation.hidden.contains(value) else {
                throw .badRequest("activation must be one of relu, leaky_relu, sigmoid, tanh; got \"\(text.excerpt)\"")
            }
            activation = value
        case "loss": loss = try scanner.readString(at: key)
        case "optimizer":
            if scanner.peek() == UInt8(ascii: "\"") {
                optimizer = try scanner.readString(at: key)
            } else {
                try scanner.readObject(at: key) { (scanner, field) throws(APIError) in
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
        case "learning_rate": learningRate = Float(try scanner.readNumber(at: key))
        case "epochs": epochs = try Self.integer(&scanner, key)
        case "batch_size": batchSize = try Self.integer(&scanner, key)
        case "seed": seed = try scanner.readUnsigned(at: key)
        case "l1": l1 = Float(try scanner.readNumber(at: key))
        case "l2": l2 = Float(try scanner.readNumber(at: key))
        case "dropout": dropout = Float(try scanner.readNumber(at: key))
        case "gradient_clip_norm": gradientClipNorm = Float(try scanner.readNumber(at: key))
        case "validation_split": validationSplit = try scanner.readNumber(at: key)
        case "early_stopping":
            if scanner.readNull() {
                earlyStopping = .some(nil)
            } else if scanner.peek() == UInt8(ascii: "f") || scanner.peek() == UInt8(ascii: "t") {
                earlyStopping = try scanner.readBool(at: key) ? .some(Self.defaultEarlyStopping) : .some(nil)
            } else {
                var rule = Self.defaultEarlyStopping
                try scanner.readObject(at: key) { (scanner, field) throws(APIError) in
                    let path = "early_stopping." + field
                    switch field {
                    case "patience": rule.patience = try Self.integer(&scanner, path)
                    case "min_delta": rule.minDelta = Float(try scanner.readNumber(at: path))
                    case "restore_best_weights": rule.restoreBestWeights = try scanner.readBool(at: path)
                    default: throw PredictRoutes.unknownKey(path, allowed: "patience, min_delta, restore_best_weights")
                    }
                }
                earlyStopping = .some(rule)
            }
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
        case "inputs":
            if scanner.peekFirstElement() == UInt8(ascii: "{") {
                let read = try TableReader.objectRows(&scanner, at: key, limits: limits)
                (table, columnNames) = (read.table, read.table.names)
                inputShape = [read.table.rows, read.table.columns.count]
                return
            }
            let start = scanner.index
            do throws(APIError) {
                inputShape = try scanner.readTensor(at: key, into: &inputs, maxDepth: 2)
            } catch {
                // A string, boolean or null cell: the rows are a table, read again as one.
                guard let next = scanner.peek(), TableReader.startsNonNumericCell(next) else { throw error }
                scanner.rewind(to: start)
                inputs = []
                let read = try TableReader.arrayRows(&scanner, at: key, limits: limits)
                table = read
                inputShape = [read.rows, read.columns.count]
            }
        case "targets": targets = try Self.readTargets(&scanner)
        default: throw PredictRoutes.unknownKey(key, allowed: Self.jsonKeys)
        }
    }

    static let defaultEarlyStopping = EarlyStopping(patience: 10, minDelta: 1e-4, restoreBestWeights: true)

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
            func number<T: LosslessStringConvertible>(_ type: T.Type) throws(APIError) -> T {
                guard let parsed = T(value) else { throw .badRequest("query parameter \(name)=\(value) is not a valid number") }
                return parsed
            }
            if name == "wait" {
                guard value == "true" || value == "false" else { throw .badRequest("query parameter wait must be true or false, got \(value)") }
                wait = value == "true"
                continue
            }
            guard csv else {
                throw .badRequest("unknown query parameter \(name); a JSON body takes only wait (settings go in the body)", code: "unknown_field")
            }
            switch name {
            case "model": model = value
            case "target": target = value
            case "task":
                guard let parsed = ModelConfiguration.Task(rawValue: value) else { throw .badRequest("task must be classification or regression, got \(value)") }
                task = parsed
            case "layers":
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
                layers = sizes
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
        return target
    }

    // MARK: - CSV

    /// Reads a CSV body with a header row; `target` names the target column (default: the last).
    ///
    /// The header's field count is checked against `limits.max_features` before anything is
    /// split or reserved, the rows against `limits.max_rows_per_request`, and storage is
    /// reserved for no more values than the body can hold (a value takes at least two bytes).
    mutating func read(csv body: [UInt8], target: String?, limits: ServerLimits, bytePath: Bool = true) throws(APIError) {
        guard let text = String(validating: body, as: UTF8.self) else {
            throw .badRequest("the CSV body is not valid UTF-8", code: "invalid_utf8")
        }
        let headerEnd = text.utf8.firstIndex { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") } ?? text.utf8.endIndex
        let headerLine = text[text.startIndex ..< headerEnd]
        let headerFields = headerLine.utf8.reduce(1) { $1 == UInt8(ascii: ",") ? $0 + 1 : $0 }
        // Features and the target: one more than the features a model may have.
        guard headerFields - 1 <= limits.maxFeatures else {
            throw .limitExceeded(
                key: "limits.max_features", limit: limits.maxFeatures, needed: headerFields - 1, what: "the CSV header's feature columns")
        }
        // An ASCII body is read as bytes: there every character is one byte except CR LF, a line
        // break either way, so the lines and fields are the ones the character path finds.
        let ascii = bytePath && body.allSatisfy { $0 < 0x80 }
        var ranges: [Range<Int>] = []
        var lines: [Substring] = []
        if ascii {
            // Ranges for the header and at most limits.max_rows_per_request rows; past that, only counted.
            var counted = 0
            body.withUnsafeBufferPointer { bytes in
                var start = 0
                for index in 0 ... bytes.count where index == bytes.count || bytes[index] == UInt8(ascii: "\n") || bytes[index] == UInt8(ascii: "\r") {
                    if index > start {
                        if counted <= limits.maxRowsPerRequest { ranges.append(start ..< index) }
                        counted += 1
                    }
                    start = index + 1
                }
            }
            if counted > ranges.count {
                throw .limitExceeded(
                    key: "limits.max_rows_per_request", limit: limits.maxRowsPerRequest, needed: counted - 1, what: "the CSV body's data rows")
            }
        } else {
            lines = text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
        }
        let lineCount = ascii ? ranges.count : lines.count
        guard lineCount > 0 else { throw .badRequest("the CSV body is empty; expected a header row and data rows") }
        guard lineCount - 1 <= limits.maxRowsPerRequest else {
            throw .limitExceeded(
                key: "limits.max_rows_per_request", limit: limits.maxRowsPerRequest, needed: lineCount - 1, what: "the CSV body's data rows")
        }
        let headerText = ascii ? Substring(String(decoding: body[ranges[0]], as: UTF8.self)) : lines.removeFirst()
        let header = headerText.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.csvField
        }
        for (column, name) in header.enumerated() where name.utf8.count > limits.maxStringBytes {
            throw .limitExceeded(
                key: "limits.max_string_bytes", limit: limits.maxStringBytes, needed: name.utf8.count,
                what: "the CSV header's column \(column + 1) name", unit: .bytes)
        }
        guard header.count >= 2 else { throw .badRequest("the CSV header has \(header.count) column; expected features and a target") }
        let targetColumn: Int
        if let target {
            guard let found = header.firstIndex(of: target) else {
                throw .badRequest("target=\(target.excerpt) is not a CSV column; columns: \(header.joined(separator: ", ").excerpt)")
            }
            targetColumn = found
        } else {
            targetColumn = header.count - 1
        }
        columnNames = header.enumerated().filter { $0.offset != targetColumn }.map(\.element)
        var labels: [String] = []
        var numbers: [Float] = []
        var numericTargets = true
        let present = (lineCount - 1).multipliedReportingOverflow(by: header.count - 1)
        inputs.reserveCapacity(min(present.overflow ? .max : present.partialValue, body.count / 2))
        if ascii {
            var builder: TableBuilder?
            if try !readRows(body, ranges[1...], header: header, targetColumn: targetColumn, labels: &labels, numbers: &numbers,
                             numeric: &numericTargets, table: &builder, limits: limits) {
                // A text or empty cell: read every row again, as a table.
                inputs = []
                labels = []
                numbers = []
                numericTargets = true
                builder = TableBuilder(columns: header.count - 1)
                _ = try readRows(body, ranges[1...], header: header, targetColumn: targetColumn, labels: &labels, numbers: &numbers,
                                 numeric: &numericTargets, table: &builder, limits: limits)
                table = builder?.table(names: columnNames)
            }
            inputShape = [lineCount - 1, header.count - 1]
            targets = numericTargets ? .numbers(numbers) : .labels(labels)
            return
        }
        // The fast path: every input cell a number. The first text or empty cell ends it, and
        // the rows are read again as a table.
        var isTable = ascii
        rows: for (k, line) in lines.enumerated() where !isTable {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            let row = k + 2
            guard fields.count == header.count else {
                throw .badRequest("CSV line \(row) has \(fields.count) fields; the header has \(header.count)", code: "ragged_array")
            }
            for (column, field) in fields.enumerated() {
                let trimmed = field.csvField
                if column == targetColumn {
                    try Self.appendTarget(trimmed, row: row, column: header[column], labels: &labels, numbers: &numbers, numeric: &numericTargets, limits: limits)
                    continue
                }
                guard let value = try Self.csvNumber(trimmed, row: row, column: header[column], limits: limits) else {
                    isTable = true
                    break rows
                }
                inputs.append(value)
            }
        }
        if isTable {
            inputs = []
            labels = []
            numbers = []
            numericTargets = true
            var builder = TableBuilder(columns: header.count - 1)
            for (k, line) in lines.enumerated() {
                let fields = line.split(separator: ",", omittingEmptySubsequences: false)
                let row = k + 2
                guard fields.count == header.count else {
                    throw .badRequest("CSV line \(row) has \(fields.count) fields; the header has \(header.count)", code: "ragged_array")
                }
                var input = 0
                for (column, field) in fields.enumerated() {
                    let trimmed = field.csvField
                    if column == targetColumn {
                        try Self.appendTarget(trimmed, row: row, column: header[column], labels: &labels, numbers: &numbers, numeric: &numericTargets, limits: limits)
                        continue
                    }
                    if trimmed.isEmpty {
                        builder.append(.missing, to: input)
                    } else if let value = try Self.csvNumber(trimmed, row: row, column: header[column], limits: limits, allowingText: true) {
                        builder.append(.number(value), to: input)
                    } else {
                        builder.append(.text(trimmed), to: input)
                    }
                    input += 1
                }
            }
            table = builder.table(names: columnNames)
        }
        inputShape = [lines.count, header.count - 1]
        targets = numericTargets ? .numbers(numbers) : .labels(labels)
    }

    /// The rows of an ASCII body, read as bytes: each input cell parsed by `strtof` straight
    /// from the body (what `Float(String)` calls, in the C locale). A cell it does not take
    /// whole and finite, or longer than the limit `csvNumber` applies, goes through `csvNumber`
    /// as a String, as on the character path. Without a `table` builder the rows are numbers
    /// into `inputs`, and the first text or empty cell returns false; with one, every cell is
    /// a number, text or missing.
    private mutating func readRows(
        _ body: [UInt8], _ lines: ArraySlice<Range<Int>>, header: [String], targetColumn: Int,
        labels: inout [String], numbers: inout [Float], numeric: inout Bool, table: inout TableBuilder?, limits: ServerLimits
    ) throws(APIError) -> Bool {
        let isTable = table != nil
        let longest = isTable ? limits.maxStringBytes : limits.maxNumberBytes
        let columns = header.count
        // strtof reads the process's locale; only its decimal point matters to it.
        let dotDecimal = localeconv().pointee.decimal_point.map { $0.pointee == CChar(UInt8(ascii: ".")) && $0[1] == 0 } ?? false
        return try body.withUnsafeBufferPointer { (bytes) throws(APIError) -> Bool in
            try withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { (scratch) throws(APIError) -> Bool in
                for (k, line) in lines.enumerated() {
                    let row = k + 2
                    var fields = 1
                    for index in line where bytes[index] == UInt8(ascii: ",") { fields += 1 }
                    guard fields == columns else {
                        throw .badRequest("CSV line \(row) has \(fields) fields; the header has \(columns)", code: "ragged_array")
                    }
                    var column = 0
                    var start = line.lowerBound
                    var index = line.lowerBound
                    while true {
                        guard index == line.upperBound || bytes[index] == UInt8(ascii: ",") else {
                            index += 1
                            continue
                        }
                        // The field without surrounding blanks and quotes (`csvField`).
                        var low = start
                        var high = index
                        while low < high, Self.isCSVPadding(bytes[low]) { low += 1 }
                        while high > low, Self.isCSVPadding(bytes[high - 1]) { high -= 1 }
                        let field = UnsafeBufferPointer(rebasing: bytes[low ..< high])
                        if column == targetColumn {
                            try Self.appendTarget(
                                String(decoding: field, as: UTF8.self), row: row, column: header[column], labels: &labels, numbers: &numbers,
                                numeric: &numeric, limits: limits)
                        } else if isTable {
                            let input = column < targetColumn ? column : column - 1
                            if field.isEmpty {
                                table!.append(.missing, to: input)
                            } else if dotDecimal, field.count <= longest, let value = Self.parseFloat(field, scratch: scratch) {
                                table!.append(.number(value), to: input)
                            } else {
                                let text = String(decoding: field, as: UTF8.self)
                                if let value = try Self.csvNumber(text, row: row, column: header[column], limits: limits, allowingText: true) {
                                    table!.append(.number(value), to: input)
                                } else {
                                    table!.append(.text(text), to: input)
                                }
                            }
                        } else if dotDecimal, field.count <= longest, let value = Self.parseFloat(field, scratch: scratch) {
                            inputs.append(value)
                        } else if let value = try Self.csvNumber(String(decoding: field, as: UTF8.self), row: row, column: header[column], limits: limits) {
                            inputs.append(value)
                        } else {
                            return false
                        }
                        column += 1
                        if index == line.upperBound { break }
                        index += 1
                        start = index
                    }
                }
                return true
            }
        }
    }

    @inline(__always)
    private static func isCSVPadding(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\"")
    }

    /// `field` as a finite Float when `strtof` takes all of it without a range error; nil
    /// otherwise (the caller then asks `Float(String)`, which calls `strtof_l` in the C locale:
    /// the same function whenever the process's decimal point is `.`, checked by the caller).
    @inline(__always)
    private static func parseFloat(_ field: UnsafeBufferPointer<UInt8>, scratch: UnsafeMutableBufferPointer<CChar>) -> Float? {
        guard !field.isEmpty, field.count < scratch.count else { return nil }
        for k in 0 ..< field.count { scratch[k] = CChar(bitPattern: field[k]) }
        scratch[field.count] = 0
        var end: UnsafeMutablePointer<CChar>?
        errno = 0
        let value = strtof(scratch.baseAddress!, &end)
        guard errno == 0, end == scratch.baseAddress! + field.count, value.isFinite else { return nil }
        return value
    }

    /// Appends one CSV target cell, as a label and (while every one so far is) as a number.
    private static func appendTarget(
        _ text: String, row: Int, column: String, labels: inout [String], numbers: inout [Float], numeric: inout Bool, limits: ServerLimits
    ) throws(APIError) {
        guard text.utf8.count <= limits.maxStringBytes else {
            throw .limitExceeded(
                key: "limits.max_string_bytes", limit: limits.maxStringBytes, needed: text.utf8.count,
                what: "CSV line \(row), column \(column.excerpt)", unit: .bytes)
        }
        labels.append(text)
        if numeric {
            if let value = Float(text), value.isFinite { numbers.append(value) } else { numeric = false }
        }
    }

    /// A CSV input cell as a number, or nil when it is empty or text. A cell that reads as a
    /// number but not a finite one (`1e99`, `inf`, `nan`) is an error, not a category. Text
    /// is bounded by `limits.max_string_bytes` when `allowingText`, else numbers by
    /// `limits.max_number_bytes`.
    private static func csvNumber(_ text: String, row: Int, column: String, limits: ServerLimits, allowingText: Bool = false) throws(APIError) -> Float? {
        let bound = allowingText ? ("limits.max_string_bytes", limits.maxStringBytes) : ("limits.max_number_bytes", limits.maxNumberBytes)
        guard text.utf8.count <= bound.1 else {
            if !allowingText, text.utf8.count <= limits.maxStringBytes, Double(text) == nil { return nil }
            throw .limitExceeded(
                key: bound.0, limit: bound.1, needed: text.utf8.count,
                what: "CSV line \(row), column \(column.excerpt) (\"\(text.excerpt)\")", unit: allowingText ? .bytes : .count)
        }
        // Outside Float's range (1e99, 1e-50) Float(text) is nil, but the cell is still a number.
        guard let value = Float(text) ?? (Double(text) != nil ? .infinity : nil) else { return nil }
        guard value.isFinite else {
            throw .badRequest("CSV line \(row), column \(column.excerpt): \"\(text.excerpt)\" is not a finite number")
        }
        return value
    }
}

extension Substring {
    /// The field without surrounding blanks and quotes.
    fileprivate var csvField: String {
        var slice = self[...]
        while let first = slice.first, first == " " || first == "\t" || first == "\"" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" || last == "\"" { slice = slice.dropLast() }
        return String(slice)
    }
}
