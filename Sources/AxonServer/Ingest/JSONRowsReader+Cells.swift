import AxonHTTP
import ModelKit

extension JSONRowsReader {
    /// One cell token: a number, a string (empty means missing), a boolean (the text `true` or
    /// `false`) or null (missing), read and checked as `TableReader.cell` reads it.
    static func cell(_ token: UnsafeBufferPointer<UInt8>, limits: ServerLimits, at path: @autoclosure () -> String) throws(APIError) -> TableBuilder.Cell {
        var scanner = JSONScanner(token, limits: JSONLimits(limits), at: 0, depth: 3)
        let cell: TableBuilder.Cell
        switch token[0] {
        case UInt8(ascii: "-"), UInt8(ascii: "0") ... UInt8(ascii: "9"):
            cell = .number(try number(token, scanner: &scanner, at: path()))
        default:
            cell = try TableReader.cell(&scanner, at: path())
        }
        guard scanner.index == token.count else { throw scanner.syntaxError(expected: "',' or ']'", at: path()) }
        return cell
    }

    /// A number token the fast path did not take: checked by `JSONScanner` (its messages for
    /// NaN, Infinity, missing digits, length and range), then rounded by `Float(String)`.
    static func number(_ token: UnsafeBufferPointer<UInt8>, scanner: inout JSONScanner, at path: @autoclosure () -> String) throws(APIError) -> Float {
        if token.count <= scanner.maxNumberBytes, let (value, end) = DecimalFloat.parseJSON(token.baseAddress!, from: 0, to: token.count),
            end == token.count
        {
            scanner.skip(token.count)
            return value
        }
        _ = try scanner.readNumber(at: path())
        guard scanner.index == token.count else { throw scanner.syntaxError(expected: "',' or ']'", at: path()) }
        return Float(String(decoding: token, as: UTF8.self)) ?? .infinity
    }

    /// The kind of every target must be the kind of the first: 0 numbers, 1 strings, 2
    /// arrays, 3 booleans.
    mutating func targetKind(_ current: Int) throws(APIError) {
        if let kind, kind != current {
            let names = ["a number", "a string", "an array", "a boolean"]
            throw .badRequest("targets[\(rows)] is \(names[current]); targets[0] is \(names[kind]); use one kind for all targets")
        }
        kind = current
    }

    /// A target that is a number, a string or a boolean.
    mutating func scalarTarget(_ token: UnsafeBufferPointer<UInt8>) throws(APIError) {
        let path = "targets[\(rows)]"
        var scanner = JSONScanner(token, limits: JSONLimits(limits), at: 0, depth: 2)
        switch token[0] {
        case UInt8(ascii: "\""):
            try targetKind(1)
            labels.append(try scanner.readString(at: path))
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            try targetKind(3)
            // Booleans are two class labels, "false" and "true".
            labels.append(try scanner.readBool(at: path) ? "true" : "false")
        default:
            try targetKind(0)
            values.append(try Self.number(token, scanner: &scanner, at: path))
        }
        guard scanner.index == token.count else { throw scanner.syntaxError(expected: "',' or ']'", at: path) }
    }

    /// Puts what was read into `request`.
    func finish(into request: inout TrainRequest) throws(APIError) {
        switch field {
        case .targets:
            switch kind {
            case 1, 3: request.targets = .labels(labels)
            case 2: request.targets = .vectors(values, width: width)
            default: request.targets = .numbers(values)
            }
        case .inputs:
            request.inputs = []
            request.table = nil
            request.columnNames = nil
            if isObjects {
                guard rows > 0 else { throw .badRequest("inputs has no rows") }
                guard !names.isEmpty else { throw .badRequest("inputs rows are empty objects; name at least one column") }
                request.table = table!.table(names: names)
                request.columnNames = names
                request.inputShape = [rows, names.count]
            } else if let table {
                request.table = table.table(names: nil)
                request.inputShape = [rows, width]
            } else if flat > 0 {
                request.inputShape = [flat]
            } else {
                request.inputs = values
                request.inputShape = rows == 0 ? [0] : [rows, width]
            }
        }
    }

    /// What a token starting with `byte` is, for a message.
    static func kindName(_ byte: UInt8) -> String {
        switch byte {
        case UInt8(ascii: "\""): "a string"
        case UInt8(ascii: "t"), UInt8(ascii: "f"): "a boolean"
        case UInt8(ascii: "n"): "null"
        default: "a number"
        }
    }

    /// The numeric rows read so far (and the current row's cells) become a table.
    mutating func startTable() {
        guard table == nil else { return }
        var builder = TableBuilder(columns: rows == 0 ? 0 : width)
        if rows == 0 {
            for (k, value) in values.enumerated() {
                builder.addColumn(missingRows: 0)
                builder.append(.number(value), to: k)
            }
        } else {
            for (k, value) in values.enumerated() { builder.append(.number(value), to: k % width) }
        }
        values = []
        table = builder
    }
}
