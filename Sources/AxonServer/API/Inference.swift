import ModelKit

/// Rows parsed from an inference request, in row-major order.
struct InferenceRows {
    /// The values, `rows x width`.
    var values: [Float]
    /// Number of rows.
    var rows: Int
    /// Values per row.
    var width: Int
}

/// The shared core of the three inference protocols: validation against the model, the
/// forward pass and the per-row classes, written by each protocol in its own shape.
enum Inference {
    /// Checks `shape` (from `JSONScanner.readTensor`) against the model and the row limit and
    /// returns the rows. A 1-D array is one row when `vectorIsRow`, else one value per row.
    static func rows(
        values: [Float], shape: [Int], field: String, model: StoredModel, limits: ServerLimits, vectorIsRow: Bool
    ) throws(APIError) -> InferenceRows {
        let width = model.inputWidth
        let rows: Int
        let columns: Int
        switch shape.count {
        case 0:
            throw .badRequest("\(field) must be an array of rows, got a number")
        case 1:
            (rows, columns) = vectorIsRow ? (1, shape[0]) : (shape[0], 1)
        case 2:
            (rows, columns) = (shape[0], shape[1])
        default:
            throw .badRequest("\(field) must have 1 or 2 dimensions, got \(shape.count) (shape \(shape))", code: "shape_mismatch")
        }
        guard rows > 0 else { throw .badRequest("\(field) has no rows") }
        guard columns == width else {
            let what = shape.count == 1 && vectorIsRow ? field : "\(field)[0]"
            throw APIError(
                status: .unprocessableContent, code: "shape_mismatch",
                message: "\(what) has \(columns) values; model \"\(model.name)\" expects \(width)")
        }
        try checkRowLimit(rows, field: field, limits: limits)
        return InferenceRows(values: values, rows: rows, width: width)
    }

    /// 413 when a request carries more rows than `limits.max_rows_per_request`.
    static func checkRowLimit(_ rows: Int, field: String, limits: ServerLimits) throws(APIError) {
        guard rows <= limits.maxRowsPerRequest else {
            throw APIError(
                status: .contentTooLarge, code: "limit_exceeded",
                message: "\(field) has \(rows) rows; limits.max_rows_per_request is \(limits.maxRowsPerRequest)")
        }
    }

    /// Runs the model: the allocation-free single-row path for one row, BLAS for a batch.
    /// Non-finite outputs (a regression model pushed far outside its training range) are a 422:
    /// JSON cannot carry them.
    static func run(_ stored: StoredModel, _ input: InferenceRows) throws(APIError) -> [Float] {
        let model = stored.model
        let outputs = model.configuration.outputCount
        var result: [Float]
        do {
            if input.rows == 1 {
                result = [Float](repeating: 0, count: outputs)
                try input.values.withUnsafeBufferPointer { (row) throws(DataError) in
                    try result.withUnsafeMutableBufferPointer { (destination) throws(DataError) in
                        try model.predict(row: row, into: destination)
                    }
                }
            } else {
                let matrix = try Matrix(rows: input.rows, columns: input.width, values: input.values)
                result = try model.predict(rows: matrix).values
            }
        } catch {
            throw APIError(status: .unprocessableContent, code: "invalid_input", message: DataErrorText.describe(error, field: "inputs"))
        }
        if let bad = result.firstIndex(where: { !$0.isFinite }) {
            throw APIError(
                status: .unprocessableContent, code: "non_finite_output",
                message: "model \"\(stored.name)\" produced a non-finite output for row \(bad / outputs); the input is far outside the training range")
        }
        return result
    }

    /// The predicted class index of each row (argmax; one sigmoid output thresholds at 0.5).
    static func classes(_ outputs: [Float], width: Int) -> [Int] {
        let rows = outputs.count / width
        var classes = [Int]()
        classes.reserveCapacity(rows)
        for row in 0 ..< rows {
            let base = row * width
            if width == 1 {
                classes.append(outputs[base] >= 0.5 ? 1 : 0)
                continue
            }
            var best = 0
            for k in 1 ..< width where outputs[base + k] > outputs[base + best] { best = k }
            classes.append(best)
        }
        return classes
    }

    /// The label of class `index`: its name when the model has names, else the index.
    static func label(_ stored: StoredModel, _ index: Int) -> String {
        let labels = stored.classLabels
        return index < labels.count ? labels[index] : String(index)
    }

    /// Writes `rows` rows of `width` floats as a nested array.
    static func writeRows(_ values: [Float], width: Int, to writer: inout JSONWriter) {
        values.withUnsafeBufferPointer { buffer in
            writer.byte(UInt8(ascii: "["))
            var start = 0
            while start < buffer.count {
                if start > 0 { writer.byte(UInt8(ascii: ",")) }
                writer.floatArray(UnsafeBufferPointer(rebasing: buffer[start ..< start + width]))
                start += width
            }
            writer.byte(UInt8(ascii: "]"))
        }
    }

    /// A response buffer large enough for `floats` numbers and some keys, so it never grows.
    static func writer(floats: Int) -> JSONWriter {
        JSONWriter(capacity: 128 + floats * 16)
    }
}

/// Sentences for ModelKit's data errors, naming the request field.
enum DataErrorText {
    static func describe(_ error: DataError, field: String) -> String {
        switch error {
        case .empty: return "\(field) is empty"
        case .raggedRow(let row, let expected, let columns): return "\(field)[\(row)] has \(columns) values; \(field)[0] has \(expected)"
        case .shapeMismatch(let rows, let columns, let count): return "\(field) has \(count) values; shape \(rows)x\(columns) needs \(rows * columns)"
        case .nonFiniteInput(let row, let column, let value): return "\(field)[\(row)][\(column)] is \(value); only finite numbers are accepted"
        case .nonFiniteTarget(let row, let column, let value): return "targets[\(row)][\(column)] is \(value); only finite numbers are accepted"
        case .rowCountMismatch(let inputs, let targets): return "inputs has \(inputs) rows but targets has \(targets)"
        case .featureCountMismatch(let expected, let got): return "\(field) rows have \(got) values; the model expects \(expected)"
        case .targetCountMismatch(let expected, let got): return "targets rows have \(got) values; the model has \(expected) outputs"
        case .classLabelOutOfRange(let row, let label, let count): return "targets[\(row)] is class \(label); the model has classes 0..<\(count)"
        case .targetOutsideUnitInterval(let row, let column, let value): return "targets[\(row)][\(column)] is \(value); binary cross-entropy needs values in [0, 1]"
        case .invalidSplit(let fraction, let rows): return "validation_split \(fraction) leaves no rows on one side of \(rows) rows"
        }
    }
}
