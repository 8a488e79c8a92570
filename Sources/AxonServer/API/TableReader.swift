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
