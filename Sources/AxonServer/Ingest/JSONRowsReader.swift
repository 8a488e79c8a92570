import AxonSupport
import AxonHTTP
import ModelKit

/// The rows of `inputs` or `targets` in a JSON training body, read token by token as they
/// arrive (`JSONTrainingReader` carries a token a chunk boundary cuts and hands it back whole).
///
/// `inputs` is an array of rows: arrays of numbers (stored row-major as they come, the fast
/// path), arrays of cells that may be strings, booleans or null (a table, switched to at the
/// first such cell), or objects keyed by column name (a table whose columns are the keys in
/// order of first appearance). `targets` is an array of numbers, strings, booleans, or
/// non-empty arrays of numbers, one kind throughout.
struct JSONRowsReader {
    enum Field: String { case inputs, targets }

    /// Where the reader is in the array.
    enum Position {
        /// Expecting an element, or `]` when `first`.
        case element
        case afterElement
        /// Inside an array row: expecting a cell, or `]` when `first`.
        case cell
        case afterCell
        /// Inside an object row: expecting a key, or `}` when `first`.
        case key
        case colon
        case value
        case afterValue
    }

    let field: Field
    let limits: ServerLimits
    var position = Position.element
    var first = true
    var isClosed = false
    var rows = 0
    /// Cells of the current row so far.
    var cells = 0
    /// Cells of row 0 (every array row must have as many).
    var width = 0
    private var budget: RowBudget?
    var values: [Float] = []
    var table: TableBuilder?
    var isObjects = false
    var names: [String] = []
    private var columns: [String: Int] = [:]
    private var seen: [Bool] = []
    private var column = 0
    var labels: [String] = []
    /// The kind of the targets: 0 numbers, 1 strings, 2 arrays, 3 booleans.
    var kind: Int?
    /// Numbers of a flat `inputs` list (refused once it closes, naming its shape).
    var flat = 0
    /// `numericRun`'s buffer, kept between runs.
    var scratch: [Float] = []

    /// The body's declared length: once `sampleRows` rows are in, storage for the rest is
    /// reserved from their size, within the row budget.
    private let expectedBytes: Int?
    /// Body offset of the first row.
    private var firstRow = -1

    init(field: Field, limits: ServerLimits, expectedBytes: Int? = nil) {
        self.field = field
        self.limits = limits
        self.expectedBytes = expectedBytes
    }

    private static let sampleRows = 64

    /// Reserves the rows the rest of the body will likely hold (its declared length over the
    /// bytes per row so far, plus a tenth), within the row budget: address space only until
    /// the rows arrive, and the copies of growing by doubling saved for most bodies.
    private mutating func reserve(at position: Int) {
        guard let expectedBytes, let budget, firstRow >= 0, position > firstRow, expectedBytes > position, table == nil else { return }
        let perRow = Double(position - firstRow) / Double(rows)
        let estimate = Double(rows) + Double(expectedBytes - position) / perRow * 1.1 + 16
        let capacity = min(budget.rows, Int(min(estimate, Double(Int32.max))))
        values.reserveCapacity(capacity * max(width, 1))
    }

    private var path: String { "\(field.rawValue)[\(rows)]" }

    /// Reads from `start`; returns where it stopped and whether the chunk ended inside a token
    /// that starts there (the caller carries it over and hands it back to `acceptToken`).
    mutating func consume(_ base: UnsafePointer<UInt8>, from start: Int, to end: Int, offset: Int) throws(APIError) -> (next: Int, cut: Bool) {
        var i = start
        while i < end, !isClosed {
            if table == nil, position == .cell || position == .afterCell {
                i = try numericRun(base, from: i, to: end, offset: offset)
                guard i < end else { break }
            } else if kind == 0, position == .element {
                i = try numericTargets(base, from: i, to: end)
                guard i < end, !isClosed else { break }
            }
            let byte = base[i]
            if JSONTrainingReader.isWhitespace(byte) {
                i &+= 1
                continue
            }
            if byte == UInt8(ascii: "\"") || JSONTrainingReader.continuesScalar(byte) {
                var k = i &+ 1
                if byte == UInt8(ascii: "\"") {
                    while k < end, base[k] != UInt8(ascii: "\"") { k &+= base[k] == UInt8(ascii: "\\") ? 2 : 1 }
                    k &+= 1
                } else {
                    while k < end, JSONTrainingReader.continuesScalar(base[k]) { k &+= 1 }
                    // A scalar that reaches the chunk's end may go on in the next one.
                    if k >= end { return (i, true) }
                }
                if k > end { return (i, true) }
                try acceptToken(UnsafeBufferPointer(start: base + i, count: k &- i), at: offset &+ i)
                i = k
                continue
            }
            try acceptByte(byte, at: offset &+ i)
            i &+= 1
        }
        return (i, false)
    }

    /// A token (string, number or literal) at body offset `at`.
    mutating func acceptToken(_ token: UnsafeBufferPointer<UInt8>, at offset: Int) throws(APIError) {
        switch position {
        case .element:
            try startRow(at: offset)
            if field == .inputs {
                // A flat list of numbers: counted, for the error that names its shape.
                guard rows == flat, token[0] == UInt8(ascii: "-") || token[0] &- UInt8(ascii: "0") <= 9 else {
                    throw .badRequest("\(path) is \(Self.kindName(token[0])); \(field.rawValue) must be an array of rows (arrays of numbers or objects)")
                }
                var scanner = JSONScanner(token, limits: JSONLimits(limits), at: 0, depth: 2)
                _ = try Self.number(token, scanner: &scanner, at: path)
                flat &+= 1
            } else {
                try scalarTarget(token)
            }
            rows &+= 1
            position = .afterElement
        case .cell:
            if field == .targets {
                guard token[0] == UInt8(ascii: "-") || token[0] &- UInt8(ascii: "0") <= 9 else {
                    throw .badRequest("\(path) must be a non-empty array of numbers; \(path)[\(cells)] is \(Self.kindName(token[0]))")
                }
            }
            let cell = try Self.cell(token, limits: limits, at: "\(path)[\(cells)]")
            if case .number(let value) = cell, table == nil {
                try numberCell(value)
                return
            }
            try checkCell()
            startTable()
            if rows == 0 { table!.addColumn(missingRows: 0) }
            table!.append(cell, to: cells)
            cells &+= 1
            position = .afterCell
        case .key:
            guard token[0] == UInt8(ascii: "\"") else { throw syntax("a key or '}'", token[0], offset) }
            var scanner = JSONScanner(token, limits: JSONLimits(limits), at: 0, depth: 3)
            let key = try scanner.readString(at: path)
            if let known = columns[key] {
                guard !seen[known] else { throw .badRequest("\(path) has \"\(key.excerpt)\" twice") }
                column = known
            } else {
                try TableReader.checkColumn(names.count, field: field.rawValue, limits: limits)
                column = names.count
                names.append(key)
                columns[key] = column
                seen.append(false)
                table!.addColumn(missingRows: rows)
            }
            seen[column] = true
            position = .colon
        case .value:
            table!.append(try Self.cell(token, limits: limits, at: "\(path).\(names[column])"), to: column)
            position = .afterValue
        case .afterElement, .afterCell, .colon, .afterValue:
            throw syntax(position == .colon ? "':'" : "',' or a closing bracket", token[0], offset)
        }
    }

    private func syntax(_ expected: String, _ byte: UInt8, _ offset: Int) -> APIError {
        let found = byte >= 0x20 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
        return .badRequest("malformed JSON at \(path) (byte \(offset)): expected \(expected), found \(found)", code: "invalid_json")
    }

    /// A punctuation byte at body offset `at`.
    mutating func acceptByte(_ byte: UInt8, at offset: Int) throws(APIError) {
        switch (position, byte) {
        case (.element, UInt8(ascii: "[")):
            guard flat == 0 else { throw .badRequest("\(path) is an array; expected a number like its siblings", code: "ragged_array") }
            try startRow(at: offset)
            if field == .targets { try targetKind(2) }
            position = .cell
            first = true
            cells = 0
        case (.element, UInt8(ascii: "{")) where field == .inputs:
            try startRow(at: offset)
            if rows == 0 {
                isObjects = true
                table = TableBuilder(columns: 0)
            }
            guard isObjects else { throw TableReader.raggedRow(path, count: 1, first: width, field: field.rawValue) }
            for k in seen.indices { seen[k] = false }
            position = .key
            first = true
        case (.element, UInt8(ascii: "]")) where first, (.afterElement, UInt8(ascii: "]")):
            isClosed = true
        case (.afterElement, UInt8(ascii: ",")):
            position = .element
            first = false
        case (.cell, UInt8(ascii: "]")) where first:
            throw .badRequest("\(path) is empty; a row needs at least one value")
        case (.cell, UInt8(ascii: "[")) where rows == 0 && cells == 0:
            // The depth is fixed by the first row.
            throw .badRequest("\(field.rawValue) is nested deeper than \(field == .inputs ? 2 : 1) levels")
        case (.cell, UInt8(ascii: "[")), (.cell, UInt8(ascii: "{")):
            throw .badRequest("\(path)[\(cells)] is \(byte == UInt8(ascii: "[") ? "an array" : "an object"); expected a number like its siblings", code: "ragged_array")
        case (.afterCell, UInt8(ascii: ",")):
            position = .cell
            first = false
        case (.afterCell, UInt8(ascii: "]")):
            try endArrayRow()
        case (.key, UInt8(ascii: "}")) where first, (.afterValue, UInt8(ascii: "}")):
            for (k, present) in seen.enumerated() where !present { table!.append(.missing, to: k) }
            rows &+= 1
            position = .afterElement
        case (.colon, UInt8(ascii: ":")):
            position = .value
        case (.afterValue, UInt8(ascii: ",")):
            position = .key
            first = false
        default:
            switch position {
            case .element where byte == UInt8(ascii: "{"):
                throw .badRequest("\(path) must be a number, a string, a boolean or an array of numbers, got an object")
            case .element: throw syntax("a row", byte, offset)
            case .afterElement, .afterCell: throw syntax("',' or ']'", byte, offset)
            case .cell, .value: throw syntax("a value", byte, offset)
            case .key: throw syntax("a key", byte, offset)
            case .colon: throw syntax("':'", byte, offset)
            case .afterValue: throw syntax("',' or '}'", byte, offset)
            }
        }
    }

    /// A new element begins: refused when one more row would cross a limit.
    mutating func startRow(at offset: Int) throws(APIError) {
        if rows == 0 { firstRow = offset }
        if field == .inputs, rows == Self.sampleRows { reserve(at: offset) }
        if field == .inputs, rows > 0 {
            let budget = budget ?? RowBudget(width: max(width, names.count), limits: limits)
            guard rows < budget.rows else { throw budget.refusal(after: rows, place: path) }
        }
        try TableReader.checkRow(rows, field: field.rawValue, limits: limits)
        if field == .targets, rows > 0 { try checkTargetBytes(rows: rows &+ 1, width: max(width, 1)) }
    }

    /// Target vectors as wide as a network's output, within the job's memory
    /// (`limits.max_job_bytes`): the data's share of `rows` rows of `width` outputs.
    private func checkTargetBytes(rows: Int, width: Int) throws(APIError) {
        let bytes = ModelConfiguration.trainingDataBytes(rows: rows, inputs: 0, outputs: width)
        guard bytes <= limits.maxJobBytes else {
            throw .limitExceeded(
                key: "limits.max_job_bytes", limit: limits.maxJobBytes, needed: bytes,
                what: "the targets read so far (\(rows) of \(width) values, up to \(path))", unit: .bytes)
        }
    }

    /// Before a cell of an array row is stored: within `limits.max_features` on row 0 (a
    /// target vector within the job's memory), within row 0's width after it.
    @inline(__always)
    private func checkCell() throws(APIError) {
        if rows == 0 {
            if field == .inputs {
                try TableReader.checkColumn(cells, field: field.rawValue, limits: limits)
            } else {
                try checkTargetBytes(rows: 1, width: cells &+ 1)
            }
        } else if cells >= width {
            throw TableReader.raggedRow(path, count: cells &+ 1, first: width, field: field.rawValue)
        }
    }

    @inline(__always)
    private mutating func numberCell(_ value: Float) throws(APIError) {
        try checkCell()
        values.append(value)
        cells &+= 1
        position = .afterCell
    }

    mutating func endArrayRow() throws(APIError) {
        if rows == 0 {
            width = cells
            if field == .inputs { budget = RowBudget(width: width, limits: limits) }
        } else if cells != width {
            throw TableReader.raggedRow(path, count: cells, first: width, field: field.rawValue)
        }
        rows &+= 1
        position = .afterElement
    }
}
