import AxonSupport
import AxonHTTP
import ModelKit

/// Reads a CSV training body as it arrives, chunk by chunk, into the rows and targets of a
/// `TrainRequest`: the body is never held whole, only the one field a chunk boundary cut.
///
/// The grammar is RFC 4180 with the leniencies Axon has always had: a record ends at LF, CR LF
/// or a lone CR; empty lines are skipped; blanks (space, tab) around a field are dropped; a
/// field in double quotes may hold commas, line breaks and `""` for a quote. The first record
/// is the header; every other one must have as many fields.
///
/// Input cells are numbers while every one is: they go straight into a row-major `[Float]`
/// (`DecimalFloat` reads them from the bytes, rounded as `Float(String)` rounds). The first
/// empty or text cell turns the rows read so far into a `TableBuilder` and the rest of the body
/// is read as a table (`Preprocessing` encodes it later). Target cells are kept as text, and as
/// numbers while every one is a finite number.
///
/// Bounded before anything grows: the header against `limits.max_features` field by field,
/// each field against `limits.max_string_bytes` / `limits.max_number_bytes` while it is read,
/// and every row against `RowBudget` before its first value is stored. Errors name the line,
/// the column and (a short excerpt of) the value.
struct CSVTrainingReader {
    enum Phase { case header, rows }
    /// Where the reader is inside the current field, for a field read byte by byte (quoted,
    /// text, or cut by a chunk boundary). `idle`: between fields.
    enum FieldState { case idle, start, unquoted, quoted, quote, closed }

    let limits: ServerLimits
    let target: String?
    /// Content-Length, when known: the rows are reserved once their size per row is seen.
    private let expectedBytes: Int?

    var phase = Phase.header
    var state = FieldState.idle
    /// The current field's content so far (quotes removed), when it is read byte by byte.
    var field: [UInt8] = []
    var fieldQuoted = false
    /// Physical line of the next byte (1-based; LF, CR LF and CR each end one).
    var line = 1
    private var recordLine = 1
    private var lastWasCR = false
    /// Body bytes before the current chunk.
    var offset = 0
    private var headerEnd = 0
    var inRecord = false
    /// Field index in the current record.
    var column = 0

    var header: [String] = []
    var targetColumn = 0
    /// Input columns: the header's fields but the target.
    var width = 0
    var budget: RowBudget?
    private(set) var rows = 0
    var inputs: [Float] = []
    var table: TableBuilder?
    var targetNumbers: [Float] = []
    var targetsNumeric = true
    /// While every target is a number: each target cell's text, back to back, and where each
    /// ends (a later text target makes them all labels, spelled as sent).
    var labelBytes: [UInt8] = []
    var labelEnds: [Int] = []
    /// Once a target is text: the distinct labels (at most `limits.max_classes`) and each
    /// row's, so a column of repeated labels costs 4 bytes a row.
    var classes: [String: Int32] = [:]
    var classNames: [String] = []
    var rowClasses: [Int32] = []

    /// A reader for a body whose target column is `target` (default: the last).
    init(target: String?, limits: ServerLimits, expectedBytes: Int? = nil) {
        self.target = target
        self.limits = limits
        self.expectedBytes = expectedBytes
    }

    private static let comma = UInt8(ascii: ",")
    private static let lf = UInt8(ascii: "\n")
    private static let cr = UInt8(ascii: "\r")
    private static let quote = UInt8(ascii: "\"")

    @inline(__always)
    private static func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }

    @inline(__always)
    private static func isTerminator(_ byte: UInt8) -> Bool { byte == comma || byte == lf || byte == cr }

    /// Reads the next chunk of the body.
    mutating func consume(_ chunk: UnsafeBufferPointer<UInt8>) throws(APIError) {
        guard let base = chunk.baseAddress, !chunk.isEmpty else { return }
        let end = chunk.count
        var i = 0
        if state != .idle { i = try readField(base, from: 0, to: end) }
        while i < end {
            if !inRecord {
                let byte = base[i]
                if byte == Self.lf || byte == Self.cr {
                    // An empty line (or the LF of a CR LF): no record.
                    countLineBreak(base, at: i)
                    i &+= 1
                    continue
                }
                try startRecord()
            }
            if phase == .rows, let next = try fastField(base, from: i, to: end) {
                i = next
                continue
            }
            state = .start
            fieldQuoted = false
            field.removeAll(keepingCapacity: true)
            i = try readField(base, from: i, to: end)
        }
        lastWasCR = base[end &- 1] == Self.cr
        offset &+= end
    }

    /// A number field read in place, without copying: the common case. Returns the index after
    /// its terminator, or nil when the field needs the byte-by-byte path (quoted, text, empty,
    /// an unusual spelling, or cut by the end of the chunk).
    @inline(__always)
    private mutating func fastField(_ base: UnsafePointer<UInt8>, from start: Int, to end: Int) throws(APIError) -> Int? {
        var i = start
        while i < end, Self.isBlank(base[i]) { i &+= 1 }
        guard let (value, stop) = DecimalFloat.parse(base, from: i, to: end), stop &- i <= limits.maxNumberBytes else { return nil }
        var k = stop
        while k < end, Self.isBlank(base[k]) { k &+= 1 }
        guard k < end, Self.isTerminator(base[k]) else { return nil }
        if column == targetColumn {
            try targetCell(UnsafeBufferPointer(start: base + i, count: stop &- i), number: value)
        } else if table == nil {
            inputs.append(value)
        } else {
            table!.append(.number(value), to: inputIndex)
        }
        return try endField(base, at: k, to: end)
    }

    /// Runs the field state machine from `start`; returns the index after the field's
    /// terminator, or `end` when the chunk ends inside the field (the state carries over).
    private mutating func readField(_ base: UnsafePointer<UInt8>, from start: Int, to end: Int) throws(APIError) -> Int {
        var i = start
        while i < end {
            switch state {
            case .start:
                let byte = base[i]
                if Self.isBlank(byte) {
                    i &+= 1
                } else if byte == Self.quote {
                    state = .quoted
                    fieldQuoted = true
                    i &+= 1
                } else if Self.isTerminator(byte) {
                    return try completeField(base, at: i, to: end)
                } else {
                    state = .unquoted
                }
            case .unquoted:
                var k = i
                while k < end, !Self.isTerminator(base[k]) { k &+= 1 }
                try append(base, i, k)
                if k < end { return try completeField(base, at: k, to: end) }
                i = k
            case .quoted:
                var k = i
                while k < end, base[k] != Self.quote {
                    if base[k] == Self.lf || base[k] == Self.cr { countLineBreak(base, at: k) }
                    k &+= 1
                }
                try append(base, i, k)
                if k < end { state = .quote }
                i = k &+ (k < end ? 1 : 0)
            case .quote:
                // A quote inside quotes: doubled it is one quote, else it closed the field.
                if base[i] == Self.quote {
                    try append(base, i, i &+ 1)
                    state = .quoted
                    i &+= 1
                } else {
                    state = .closed
                }
            case .closed:
                let byte = base[i]
                if Self.isBlank(byte) {
                    i &+= 1
                } else if Self.isTerminator(byte) {
                    return try completeField(base, at: i, to: end)
                } else {
                    throw .badRequest(
                        "\(place(column)): text after the closing quote of \(Self.excerpt(field)); a quoted field ends at its quote",
                        code: "invalid_csv")
                }
            case .idle:
                preconditionFailure("readField outside a field")
            }
        }
        return end
    }

    /// Adds `base[from ..< to]` to the current field, refusing a field longer than any cell
    /// may be before it grows further.
    private mutating func append(_ base: UnsafePointer<UInt8>, _ from: Int, _ to: Int) throws(APIError) {
        guard to > from else { return }
        let bound = max(limits.maxStringBytes, limits.maxNumberBytes)
        guard field.count &+ (to &- from) <= bound else { throw tooLong(count: field.count &+ (to &- from)) }
        field.append(contentsOf: UnsafeBufferPointer(start: base + from, count: to &- from))
    }

    /// The field ended at its terminator `base[at]`: its cell is stored, then the terminator
    /// read. Returns the index after it.
    private mutating func completeField(_ base: UnsafePointer<UInt8>, at index: Int, to end: Int) throws(APIError) -> Int {
        try storeField()
        return try endField(base, at: index, to: end)
    }

    /// Stores the current field's cell, blanks trimmed.
    mutating func storeField() throws(APIError) {
        state = .idle
        var low = 0
        var high = field.count
        while low < high, Self.isBlank(field[low]) { low &+= 1 }
        while high > low, Self.isBlank(field[high &- 1]) { high &-= 1 }
        try field.withUnsafeBufferPointer { (all) throws(APIError) in
            let content = UnsafeBufferPointer(rebasing: all[low ..< high])
            switch phase {
            case .header: try headerCell(content)
            case .rows where column == targetColumn: try targetCell(content, number: nil)
            case .rows: try inputCell(content)
            }
        }
    }

    /// Reads the comma or line break after a field at `base[index]`.
    private mutating func endField(_ base: UnsafePointer<UInt8>, at index: Int, to end: Int) throws(APIError) -> Int {
        if base[index] == Self.comma {
            column &+= 1
            switch phase {
            case .header:
                // Features and the target: one more than the features a model may have.
                guard column <= limits.maxFeatures else {
                    throw .limitExceeded(
                        key: "limits.max_features", limit: limits.maxFeatures, needed: column,
                        what: "the CSV header's feature columns (at least)")
                }
            case .rows:
                guard column < header.count else {
                    throw .badRequest("CSV line \(recordLine) has more than \(header.count) fields; the header has \(header.count)", code: "ragged_array")
                }
            }
            return index &+ 1
        }
        countLineBreak(base, at: index)
        try endRecord(at: offset &+ index &+ 1)
        return index &+ 1
    }

    /// Counts the line break at `base[index]`: a CR, or an LF that does not follow a CR.
    @inline(__always)
    private mutating func countLineBreak(_ base: UnsafePointer<UInt8>, at index: Int) {
        if base[index] == Self.cr || !(index > 0 ? base[index &- 1] == Self.cr : lastWasCR) { line &+= 1 }
    }

    private mutating func startRecord() throws(APIError) {
        inRecord = true
        column = 0
        recordLine = line
        if phase == .rows, let budget, rows >= budget.rows {
            throw budget.refusal(after: rows, place: "CSV line \(line)")
        }
    }

    /// The record ended; `position` is the body offset after its line break.
    mutating func endRecord(at position: Int) throws(APIError) {
        inRecord = false
        switch phase {
        case .header:
            try startRows()
            headerEnd = position
        case .rows:
            guard column &+ 1 == header.count else {
                throw .badRequest("CSV line \(recordLine) has \(column &+ 1) fields; the header has \(header.count)", code: "ragged_array")
            }
            rows &+= 1
            if rows == Self.sampleRows { reserve(at: position) }
        }
        column = 0
    }

    /// Rows read before the storage is reserved for the whole body, from their bytes per row.
    private static let sampleRows = 64

    /// Reserves the rows the rest of the body will likely hold (its declared length over the
    /// bytes per row so far, plus a tenth), within the row budget: address space only until
    /// the rows arrive, and one growth step saved for most bodies.
    private mutating func reserve(at position: Int) {
        guard let expectedBytes, let budget, position > headerEnd, expectedBytes > position else { return }
        let perRow = Double(position - headerEnd) / Double(rows)
        let estimate = Double(rows) + Double(expectedBytes - position) / perRow * 1.1 + 16
        let capacity = min(budget.rows, Int(min(estimate, Double(Int32.max))))
        if table == nil { inputs.reserveCapacity(capacity * width) }
        if targetsNumeric {
            targetNumbers.reserveCapacity(capacity)
            labelEnds.reserveCapacity(capacity)
        } else {
            rowClasses.reserveCapacity(capacity)
        }
    }
}
