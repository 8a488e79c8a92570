import AxonSupport
import AxonHTTP
import ModelKit

extension CSVTrainingReader {
    /// The input column of the current field (the target's column is not an input).
    var inputIndex: Int { column < targetColumn ? column : column - 1 }

    /// `CSV line 7, column 3 ("x2")`: where the current field is, for an error message.
    func place(_ column: Int) -> String {
        let name = column < header.count ? " (\"\(header[column].excerpt)\")" : ""
        return "CSV line \(line), column \(column + 1)\(name)"
    }

    /// A field's bytes for an error message, quoted: whole when short, else a prefix and the length.
    static func excerpt(_ bytes: some Collection<UInt8>) -> String {
        let text = String(decoding: bytes.prefix(64), as: UTF8.self)
        return bytes.count > 64 ? "\"\(text.prefix(48))…\" (\(bytes.count) bytes)" : "\"\(text)\""
    }

    /// The error for a field found longer than any cell of its column may be, while it is read.
    func tooLong(count: Int) -> APIError {
        switch phase {
        case .header:
            return .limitExceeded(
                key: "limits.max_string_bytes", limit: limits.maxStringBytes, needed: count,
                what: "the CSV header's column \(column + 1) name (at least)", unit: .bytes)
        case .rows where column == targetColumn || table != nil:
            return .limitExceeded(
                key: "limits.max_string_bytes", limit: limits.maxStringBytes, needed: count,
                what: "\(place(column)) (at least; \(Self.excerpt(field)))", unit: .bytes)
        case .rows:
            return .limitExceeded(
                key: "limits.max_number_bytes", limit: limits.maxNumberBytes, needed: count,
                what: "\(place(column)) (at least; \(Self.excerpt(field)))")
        }
    }

    private func text(_ content: UnsafeBufferPointer<UInt8>) throws(APIError) -> String {
        guard let text = String(validating: content, as: UTF8.self) else {
            throw .badRequest("\(place(column)) is not valid UTF-8", code: "invalid_utf8")
        }
        return text
    }

    mutating func headerCell(_ content: UnsafeBufferPointer<UInt8>) throws(APIError) {
        guard content.count <= limits.maxStringBytes else {
            throw .limitExceeded(
                key: "limits.max_string_bytes", limit: limits.maxStringBytes, needed: content.count,
                what: "the CSV header's column \(column + 1) name", unit: .bytes)
        }
        header.append(try text(content))
    }

    /// The header is complete: finds the target, and sizes the row budget.
    mutating func startRows() throws(APIError) {
        guard header.count >= 2 else { throw .badRequest("the CSV header has \(header.count) column; expected features and a target") }
        if let target {
            guard let found = header.firstIndex(of: target) else {
                throw .badRequest("target=\(target.excerpt) is not a CSV column; columns: \(header.joined(separator: ", ").excerpt)")
            }
            targetColumn = found
        } else {
            targetColumn = header.count - 1
        }
        width = header.count - 1
        budget = RowBudget(width: width, limits: limits)
        phase = .rows
    }

    /// An input cell read byte by byte: a number, or (turning the rows into a table) text or
    /// missing. A number Float cannot hold (`1e99`, `inf`, `nan`) is an error, not a category.
    mutating func inputCell(_ content: UnsafeBufferPointer<UInt8>) throws(APIError) {
        guard !content.isEmpty else {
            startTable()
            table!.append(.missing, to: inputIndex)
            return
        }
        if table == nil, content.count > limits.maxNumberBytes {
            // Too long for a number: text when it is not one (and short enough for text).
            guard content.count <= limits.maxStringBytes, DecimalFloat.number(content) == nil else {
                throw .limitExceeded(
                    key: "limits.max_number_bytes", limit: limits.maxNumberBytes, needed: content.count,
                    what: "\(place(column)) (\(Self.excerpt(content)))")
            }
        } else if table != nil, content.count > limits.maxStringBytes {
            throw tooLong(count: content.count)
        } else if let value = DecimalFloat.number(content) {
            guard value.isFinite else { throw .badRequest("\(place(column)): \(Self.excerpt(content)) is not a finite number") }
            if table == nil {
                inputs.append(value)
            } else {
                table!.append(.number(value), to: inputIndex)
            }
            return
        }
        let cell = TableBuilder.Cell.text(try text(content))
        startTable()
        table!.append(cell, to: inputIndex)
    }

    /// Turns the numeric rows read so far (and the current row's first cells) into a table.
    private mutating func startTable() {
        guard table == nil else { return }
        var builder = TableBuilder(columns: width)
        inputs.withUnsafeBufferPointer { values in
            for (index, value) in values.enumerated() { builder.append(.number(value), to: index % width) }
        }
        inputs = []
        table = builder
    }

    /// A target cell: kept as text, and as a number while every target is a finite one.
    /// `number` is its value when the fast path already read it.
    mutating func targetCell(_ content: UnsafeBufferPointer<UInt8>, number: Float?) throws(APIError) {
        guard content.count <= limits.maxStringBytes else { throw tooLong(count: content.count) }
        if targetsNumeric {
            if let value = number ?? DecimalFloat.number(content), value.isFinite {
                // Bounded like the rows: the text kept for a later switch to labels.
                guard labelBytes.count &+ content.count <= limits.maxJobBytes else {
                    throw .limitExceeded(
                        key: "limits.max_job_bytes", limit: limits.maxJobBytes, needed: labelBytes.count &+ content.count,
                        what: "the targets' text read so far (up to \(place(column)))", unit: .bytes)
                }
                targetNumbers.append(value)
                labelBytes.append(contentsOf: content)
                labelEnds.append(labelBytes.count)
                return
            }
            try startLabels()
        }
        try addLabel(try text(content))
    }

    /// The first text target: every target so far becomes a label, spelled as sent.
    private mutating func startLabels() throws(APIError) {
        targetsNumeric = false
        targetNumbers = []
        rowClasses.reserveCapacity(labelEnds.count)
        let bytes = labelBytes
        var start = 0
        for end in labelEnds {
            // Numbers as sent: ASCII.
            try addLabel(String(decoding: bytes[start ..< end], as: UTF8.self))
            start = end
        }
        labelBytes = []
        labelEnds = []
    }

    /// One row's label; refused once there are more distinct labels than a classifier may have
    /// classes (`limits.max_classes`: the one-hot targets are rows x classes).
    private mutating func addLabel(_ label: String) throws(APIError) {
        if let known = classes[label] {
            rowClasses.append(known)
            return
        }
        guard classNames.count < limits.maxClasses else {
            throw .limitExceeded(
                key: "limits.max_classes", limit: limits.maxClasses, needed: classNames.count + 1,
                what: "the targets as classes (at least; \(place(column)) is \(label.excerpt))")
        }
        classes[label] = Int32(classNames.count)
        rowClasses.append(Int32(classNames.count))
        classNames.append(label)
    }

    /// Ends the body: the last record may lack its line break. Fills `request`'s rows, column
    /// names and targets.
    mutating func finish(into request: inout TrainRequest) throws(APIError) {
        if inRecord {
            if state == .quoted { throw .badRequest("\(place(column)): the quoted field never closes", code: "invalid_csv") }
            if state == .idle {
                // The body ends right after a comma: the last field is empty.
                field.removeAll()
            }
            try storeField()
            try endRecord(at: offset)
        }
        guard phase == .rows else { throw .badRequest("the CSV body is empty; expected a header row and data rows") }
        let names = header.enumerated().filter { $0.offset != targetColumn }.map(\.element)
        request.columnNames = names
        request.inputShape = [rows, width]
        if let table {
            request.table = table.table(names: names)
            request.inputs = []
        } else {
            request.inputs = inputs
        }
        if targetsNumeric {
            request.targets = .numbers(targetNumbers)
        } else {
            request.targets = .labels(rowClasses.map { classNames[Int($0)] })
        }
    }
}
