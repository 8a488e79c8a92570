import AxonHTTP
import AxonSupport
import AxonStore
import ModelKit

/// Rows parsed from an inference request, in row-major order.
struct InferenceRows {
    /// The values, `rows x width`.
    var values: [Float]
    /// Number of rows.
    var rows: Int
    /// Values per row.
    var width: Int
    /// Floating-point operations of the forward pass, from the cost check that admitted the
    /// rows; where the prediction runs is decided by it.
    var flops: Int
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
        let cost = try checkCost(of: model, rows: rows, limits: limits)
        return InferenceRows(values: values, rows: rows, width: width, flops: cost.flops)
    }

    /// What answering `rows` rows with `model` costs: the forward pass (ModelKit's estimate:
    /// input, output and the scratch of every layer's width) plus the answer, every output
    /// written as text (with class probabilities, classes and labels for a classifier), plus
    /// `extraBytes` (an evaluation's confusion matrix).
    static func cost(of model: StoredModel, rows: Int, extraBytes: Int = 0) -> ComputeCost {
        var cost = model.configuration.predictionCost(rows: rows)
        let outputs = model.outputWidth
        // Up to 16 characters a float as text; a classifier also answers max(outputs, 2)
        // probabilities, a class index and its label per row.
        var perRow = ComputeCost.saturating(16, outputs)
        if model.task == .classification {
            let probabilities = ComputeCost.saturating(20, max(outputs, 2))
            perRow = ComputeCost.saturating(perRow, plus: ComputeCost.saturating(probabilities, plus: model.longestClassLabelBytes + 32))
        }
        cost.bytes = ComputeCost.saturating(cost.bytes, plus: ComputeCost.saturating(rows, perRow))
        cost.bytes = ComputeCost.saturating(cost.bytes, plus: extraBytes)
        return cost
    }

    /// 413 when answering would hold more than `limits.max_request_bytes` or compute more than
    /// `limits.max_request_flops`; checked before the forward pass allocates anything.
    @discardableResult
    static func checkCost(of model: StoredModel, rows: Int, limits: ServerLimits, extraBytes: Int = 0) throws(APIError) -> ComputeCost {
        let cost = cost(of: model, rows: rows, extraBytes: extraBytes)
        try APIError.checkBudget(
            cost,
            bytes: ("limits.max_request_bytes", limits.maxRequestBytes), flops: ("limits.max_request_flops", limits.maxRequestFlops),
            what: "\(rows) rows through model \"\(model.name)\" (\(model.configuration.layerSizes.count) layers, \(model.parameterCount) parameters, \(model.outputWidth) outputs)")
        return cost
    }

    /// 413 when a request carries more rows than `limits.max_rows_per_request`.
    static func checkRowLimit(_ rows: Int, field: String, limits: ServerLimits) throws(APIError) {
        guard rows <= limits.maxRowsPerRequest else {
            throw .limitExceeded(key: "limits.max_rows_per_request", limit: limits.maxRowsPerRequest, needed: rows, what: "\(field) as rows")
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
                result = [Float].filled(with: 0, count: outputs)
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

extension APIError {
    /// The answer to a preprocessing error: 413 past `limits.max_categories`, 422 for a cell
    /// the model cannot take (missing values refused, text in a numeric column), naming the
    /// row and column.
    init(preprocessing error: PreprocessingError, field: String) {
        switch error {
        case .tooManyCategories(let column, let needed, let limit):
            self = .limitExceeded(
                key: "limits.max_categories", limit: limit, needed: needed,
                what: "the categories of \(field)'s text columns (counted up to column \(column))")
        case .missingRefused(let row, let column):
            self = APIError(
                status: .unprocessableContent, code: "missing_value",
                message: "\(field)[\(row)] has no value for column \(column); missing_values is refuse")
        case .textInNumericColumn(let row, let column, let text):
            self = APIError(
                status: .unprocessableContent, code: "invalid_input",
                message: "\(field)[\(row)] column \(column) is \"\(text.excerpt)\"; the column is numeric")
        case .columnCountMismatch(let expected, let got):
            self = APIError(status: .unprocessableContent, code: "shape_mismatch", message: "\(field) has \(got) columns; the model has \(expected)")
        case .invalid:
            self = .internalError
        }
    }
}
