import AxonHTTP
import AxonStore
import ModelKit

extension TableReader {
    /// Rows for a model with `preprocessing`, encoded as they are read: objects keyed by
    /// column name, or arrays of cells in training column order (one object or one flat array
    /// is one row). Every row is counted against `limits.max_rows_per_request` and the
    /// request budget (`Inference.checkCost`) before its encoded values are allocated.
    static func predictionRows(
        _ scanner: inout JSONScanner, field: String, stored: StoredModel, preprocessing: Preprocessing, limits: ServerLimits
    ) throws(APIError) -> InferenceRows {
        var reader = PredictionRowReader(field: field, stored: stored, preprocessing: preprocessing, limits: limits)
        var rows = 0
        switch (scanner.peek(), scanner.peekFirstElement()) {
        case (UInt8(ascii: "{"), _):
            try reader.objectRow(&scanner, 0, path: field)
            rows = 1
        case (UInt8(ascii: "["), let first?) where first != UInt8(ascii: "[") && first != UInt8(ascii: "{"):
            try reader.arrayRow(&scanner, 0, path: field)
            rows = 1
        default:
            try scanner.readArray(at: field) { (scanner, row) throws(APIError) in
                let path = "\(field)[\(row)]"
                switch scanner.peek() {
                case UInt8(ascii: "{"): try reader.objectRow(&scanner, row, path: path)
                case UInt8(ascii: "["): try reader.arrayRow(&scanner, row, path: path)
                default: throw scanner.typeError(path, expected: "a row: an object of columns or an array of values")
                }
                rows = row + 1
            }
        }
        guard rows > 0 else { throw .badRequest("\(field) has no rows") }
        // Each row was admitted by the budget as it began; the last check's forward pass (of
        // the whole batch) decides where it runs.
        return InferenceRows(values: reader.values, rows: rows, width: reader.width, flops: reader.flops)
    }
}

/// Reads prediction rows for a model with preprocessing one row at a time, each admitted by
/// the limits before its encoded values exist, each cell encoded into its row as it is read.
private struct PredictionRowReader {
    let field: String
    let stored: StoredModel
    let preprocessing: Preprocessing
    let limits: ServerLimits
    /// Encoded values per row.
    let width: Int
    /// Columns per row as sent.
    let columns: Int
    /// The encoded rows, row-major.
    var values: [Float] = []
    /// Which columns the current object row has named.
    var seen: [Bool]
    /// The forward pass of the rows admitted so far, from the budget check of the last one.
    var flops = 0

    init(field: String, stored: StoredModel, preprocessing: Preprocessing, limits: ServerLimits) {
        self.field = field
        self.stored = stored
        self.preprocessing = preprocessing
        self.limits = limits
        width = preprocessing.encodedWidth
        columns = preprocessing.columns.count
        seen = [Bool](repeating: false, count: columns)
    }

    /// Admits row `row` (rows and budget), then makes room for its encoded values.
    mutating func startRow(_ row: Int) throws(APIError) {
        try Inference.checkRowLimit(row + 1, field: field, limits: limits)
        flops = try Inference.checkCost(of: stored, rows: row + 1, limits: limits).flops
        values.append(contentsOf: repeatElement(0, count: width))
    }

    mutating func encode(_ cell: TableBuilder.Cell, column: Int, row: Int) throws(APIError) {
        let base = row * width
        let (width, field, preprocessing) = (width, field, preprocessing)
        try values.withUnsafeMutableBufferPointer { (buffer) throws(APIError) in
            do throws(PreprocessingError) {
                try preprocessing.encode(cell, column: column, rowIndex: row, into: UnsafeMutableBufferPointer(rebasing: buffer[base ..< base + width]))
            } catch {
                throw APIError(preprocessing: error, field: field)
            }
        }
    }

    /// One row as an object keyed by column name; every column must be there (null for missing).
    mutating func objectRow(_ scanner: inout JSONScanner, _ row: Int, path: String) throws(APIError) {
        try startRow(row)
        for k in seen.indices { seen[k] = false }
        try scanner.readObject(at: path) { (scanner, key) throws(APIError) in
            guard let column = preprocessing.positions[key] else {
                let known = preprocessing.names.map { "its columns: \($0.joined(separator: ", "))" } ?? "its columns have no names; send rows as arrays"
                throw APIError.badRequest(
                    "\(path).\(key.excerpt) is not a column of model \"\(stored.name)\"; \(known.excerpt)", code: "unknown_field")
            }
            guard !seen[column] else { throw APIError.badRequest("\(path) has \"\(key.excerpt)\" twice") }
            seen[column] = true
            try encode(try TableReader.cell(&scanner, at: "\(path).\(key)"), column: column, row: row)
        }
        if let missing = seen.firstIndex(of: false) {
            throw APIError.badRequest(
                "\(path) has no \(preprocessing.label(missing)); model \"\(stored.name)\" needs every column (null for a missing value)",
                code: "missing_field")
        }
    }

    /// One row as an array of cells in training column order.
    mutating func arrayRow(_ scanner: inout JSONScanner, _ row: Int, path: String) throws(APIError) {
        try startRow(row)
        var count = 0
        try scanner.readArray(at: path) { (scanner, column) throws(APIError) in
            guard column < columns else {
                throw APIError(
                    status: .unprocessableContent, code: "shape_mismatch",
                    message: "\(path) has more than \(columns) values; model \"\(stored.name)\" has \(columns) columns")
            }
            try encode(try TableReader.cell(&scanner, at: "\(path)[\(column)]"), column: column, row: row)
            count = column + 1
        }
        guard count == columns else {
            throw APIError(
                status: .unprocessableContent, code: "shape_mismatch",
                message: "\(path) has \(count) values; model \"\(stored.name)\" has \(columns) columns")
        }
    }
}
