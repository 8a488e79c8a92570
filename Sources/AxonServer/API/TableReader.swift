import AxonHTTP
import AxonSupport
import AxonStore
import ModelKit

/// Reads JSON rows that are more than numbers: rows whose cells may be strings, booleans or
/// null, and rows as objects keyed by column name. Used for training data (into a `Table`)
/// and, cell by cell, for predictions of models that have `Preprocessing`.
///
/// Bounded like the numeric path: rows by `limits.max_rows_per_request`, columns by
/// `limits.max_features`, each string by the scanner's `limits.max_string_bytes`.
enum TableReader {
    /// Whether `byte` starts a cell the numeric reader cannot take: a string, boolean or null.
    static func startsNonNumericCell(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "n") || byte == UInt8(ascii: "t") || byte == UInt8(ascii: "f")
    }

    /// One cell: a number, a string (empty means missing), a boolean (as the text `true` or
    /// `false`) or null (missing).
    static func cell(_ scanner: inout JSONScanner, at path: @autoclosure () -> String) throws(APIError) -> TableBuilder.Cell {
        switch scanner.peek() ?? 0 {
        case UInt8(ascii: "\""):
            let text = try scanner.readString(at: path())
            return text.isEmpty ? .missing : .text(text)
        case UInt8(ascii: "n"):
            guard scanner.readNull() else { throw scanner.syntaxError(expected: "null", at: path()) }
            return .missing
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            return .text(try scanner.readBool(at: path()) ? "true" : "false")
        case UInt8(ascii: "-"), UInt8(ascii: "0") ... UInt8(ascii: "9"), UInt8(ascii: "N"), UInt8(ascii: "I"):
            return .number(Float(try scanner.readNumber(at: path())))
        default:
            throw scanner.typeError(path(), expected: "a number, a string or null")
        }
    }

    static func checkRow(_ row: Int, field: String, limits: ServerLimits) throws(APIError) {
        guard row < limits.maxRowsPerRequest else {
            throw .limitExceeded(key: "limits.max_rows_per_request", limit: limits.maxRowsPerRequest, needed: row + 1, what: "\(field) as rows (at least)")
        }
    }

    static func checkColumn(_ column: Int, field: String, limits: ServerLimits) throws(APIError) {
        guard column < limits.maxFeatures else {
            throw .limitExceeded(key: "limits.max_features", limit: limits.maxFeatures, needed: column + 1, what: "\(field) columns (at least)")
        }
    }

    /// Training rows as arrays of cells, all as wide as the first.
    static func arrayRows(_ scanner: inout JSONScanner, at field: String, limits: ServerLimits) throws(APIError) -> Table {
        var builder = TableBuilder(columns: 0)
        var rows = 0
        try scanner.readArray(at: field) { (scanner, row) throws(APIError) in
            try checkRow(row, field: field, limits: limits)
            let path = "\(field)[\(row)]"
            guard scanner.peek() == UInt8(ascii: "[") else { throw scanner.typeError(path, expected: "an array like \(field)[0]") }
            var width = 0
            try scanner.readArray(at: path) { (scanner, column) throws(APIError) in
                if row == 0 {
                    try checkColumn(column, field: field, limits: limits)
                    builder.addColumn(missingRows: 0)
                } else if column >= builder.columnCount {
                    throw raggedRow(path, count: column + 1, first: builder.columnCount, field: field)
                }
                builder.append(try cell(&scanner, at: "\(path)[\(column)]"), to: column)
                width = column + 1
            }
            guard width > 0 else { throw .badRequest("\(path) is empty; a row needs at least one value") }
            guard width == builder.columnCount else { throw raggedRow(path, count: width, first: builder.columnCount, field: field) }
            rows = row + 1
        }
        guard rows > 0 else { throw .badRequest("\(field) has no rows") }
        return builder.table(names: nil)
    }

    /// Training rows as objects. The columns are every key seen, in order of first
    /// appearance; a key a row leaves out is a missing cell of that row.
    static func objectRows(_ scanner: inout JSONScanner, at field: String, limits: ServerLimits) throws(APIError) -> (table: Table, names: [String]) {
        var builder = TableBuilder(columns: 0)
        var names: [String] = []
        var positions: [String: Int] = [:]
        var seen: [Bool] = []
        var rows = 0
        try scanner.readArray(at: field) { (scanner, row) throws(APIError) in
            try checkRow(row, field: field, limits: limits)
            let path = "\(field)[\(row)]"
            guard scanner.peek() == UInt8(ascii: "{") else { throw scanner.typeError(path, expected: "an object like \(field)[0]") }
            for k in seen.indices { seen[k] = false }
            try scanner.readObject(at: path) { (scanner, key) throws(APIError) in
                let column: Int
                if let known = positions[key] {
                    guard !seen[known] else { throw .badRequest("\(path) has \"\(key.excerpt)\" twice") }
                    column = known
                } else {
                    try checkColumn(names.count, field: field, limits: limits)
                    column = names.count
                    names.append(key)
                    positions[key] = column
                    seen.append(false)
                    builder.addColumn(missingRows: row)
                }
                seen[column] = true
                builder.append(try cell(&scanner, at: "\(path).\(key)"), to: column)
            }
            for (column, present) in seen.enumerated() where !present { builder.append(.missing, to: column) }
            rows = row + 1
        }
        guard rows > 0 else { throw .badRequest("\(field) has no rows") }
        guard !names.isEmpty else { throw .badRequest("\(field) rows are empty objects; name at least one column") }
        return (builder.table(names: names), names)
    }

    static func raggedRow(_ path: String, count: Int, first: Int, field: String) -> APIError {
        APIError(status: .unprocessableContent, code: "ragged_array", message: "\(path) has \(count) values; \(field)[0] has \(first)")
    }
}

extension TableReader {
    /// Rows for a model with `preprocessing`, encoded as they are read: objects keyed by
    /// column name, or arrays of cells in training column order (one object or one flat array
    /// is one row). Every row is counted against `limits.max_rows_per_request` and the
    /// request budget (`Inference.checkCost`) before its encoded values are allocated.
    static func predictionRows(
        _ scanner: inout JSONScanner, field: String, stored: StoredModel, preprocessing: Preprocessing, limits: ServerLimits
    ) throws(APIError) -> InferenceRows {
        let width = preprocessing.encodedWidth
        let columns = preprocessing.columns.count
        var values: [Float] = []
        var rows = 0
        var seen = [Bool](repeating: false, count: columns)
        // The forward pass of the rows admitted so far, from the budget check of the last one.
        var flops = 0

        func startRow(_ row: Int) throws(APIError) {
            try Inference.checkRowLimit(row + 1, field: field, limits: limits)
            flops = try Inference.checkCost(of: stored, rows: row + 1, limits: limits).flops
            values.append(contentsOf: repeatElement(0, count: width))
        }
        func encode(_ cell: TableBuilder.Cell, column: Int, row: Int) throws(APIError) {
            let base = row * width
            try values.withUnsafeMutableBufferPointer { (buffer) throws(APIError) in
                do throws(PreprocessingError) {
                    try preprocessing.encode(cell, column: column, rowIndex: row, into: UnsafeMutableBufferPointer(rebasing: buffer[base ..< base + width]))
                } catch {
                    throw APIError(preprocessing: error, field: field)
                }
            }
        }
        func objectRow(_ scanner: inout JSONScanner, _ row: Int, path: String) throws(APIError) {
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
                try encode(try cell(&scanner, at: "\(path).\(key)"), column: column, row: row)
            }
            if let missing = seen.firstIndex(of: false) {
                throw APIError.badRequest(
                    "\(path) has no \(preprocessing.label(missing)); model \"\(stored.name)\" needs every column (null for a missing value)",
                    code: "missing_field")
            }
        }
        func arrayRow(_ scanner: inout JSONScanner, _ row: Int, path: String) throws(APIError) {
            try startRow(row)
            var count = 0
            try scanner.readArray(at: path) { (scanner, column) throws(APIError) in
                guard column < columns else {
                    throw APIError(
                        status: .unprocessableContent, code: "shape_mismatch",
                        message: "\(path) has more than \(columns) values; model \"\(stored.name)\" has \(columns) columns")
                }
                try encode(try cell(&scanner, at: "\(path)[\(column)]"), column: column, row: row)
                count = column + 1
            }
            guard count == columns else {
                throw APIError(
                    status: .unprocessableContent, code: "shape_mismatch",
                    message: "\(path) has \(count) values; model \"\(stored.name)\" has \(columns) columns")
            }
        }

        switch (scanner.peek(), scanner.peekFirstElement()) {
        case (UInt8(ascii: "{"), _):
            try objectRow(&scanner, 0, path: field)
            rows = 1
        case (UInt8(ascii: "["), let first?) where first != UInt8(ascii: "[") && first != UInt8(ascii: "{"):
            try arrayRow(&scanner, 0, path: field)
            rows = 1
        default:
            try scanner.readArray(at: field) { (scanner, row) throws(APIError) in
                let path = "\(field)[\(row)]"
                switch scanner.peek() {
                case UInt8(ascii: "{"): try objectRow(&scanner, row, path: path)
                case UInt8(ascii: "["): try arrayRow(&scanner, row, path: path)
                default: throw scanner.typeError(path, expected: "a row: an object of columns or an array of values")
                }
                rows = row + 1
            }
        }
        guard rows > 0 else { throw .badRequest("\(field) has no rows") }
        // Each row was admitted by the budget as it began; the last check's forward pass (of
        // the whole batch) decides where it runs.
        return InferenceRows(values: values, rows: rows, width: width, flops: flops)
    }
}
