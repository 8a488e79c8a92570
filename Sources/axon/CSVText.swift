import AxonAPI

/// Rows as people type them: comma-separated cells, quoted with `"` where a cell holds a
/// comma, a quote (doubled) or a line break (RFC 4180).
enum CSVText {
    /// The records of `text`; blank lines are skipped.
    static func records(_ text: String) throws(CLIError) -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var cell = ""
        var quoted = false
        var wasQuoted = false
        var characters = text.makeIterator()
        var lookahead: Character?
        func endRecord() {
            record.append(cell)
            if !(record.count == 1 && record[0].isEmpty && !wasQuoted) { records.append(record) }
            record = []
            cell = ""
            wasQuoted = false
        }
        while let character = lookahead ?? characters.next() {
            lookahead = nil
            if quoted {
                if character == "\"" {
                    let next = characters.next()
                    if next == "\"" {
                        cell.append("\"")
                    } else {
                        quoted = false
                        lookahead = next
                    }
                } else {
                    cell.append(character)
                }
                continue
            }
            switch character {
            case "\"" where cell.isEmpty:
                quoted = true
                wasQuoted = true
            case ",":
                record.append(cell)
                cell = ""
            case "\n", "\r\n", "\r":
                endRecord()
            default:
                cell.append(character)
            }
        }
        guard !quoted else { throw .usage("a quoted cell is not closed: \"\(cell.prefix(40))") }
        if !cell.isEmpty || !record.isEmpty || wasQuoted { endRecord() }
        return records
    }

    /// A cell as the API takes it: a decimal number, missing when empty, else text (a category).
    static func cell(_ text: String) -> TableCell {
        let trimmed = Substring(text).trimmingSpaces
        if trimmed.isEmpty { return .missing }
        if isDecimal(trimmed), let value = Double(trimmed), value.isFinite { return .number(value) }
        return .text(text)
    }

    /// `[+-]digits[.digits][e[+-]digits]`: what JSON calls a number (Swift's `Double` also
    /// reads "nan", "inf" and hexadecimal, which are categories here).
    static func isDecimal(_ text: String) -> Bool {
        var bytes = Array(text.utf8)[...]
        if let first = bytes.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
        func digits() -> Int {
            let count = bytes.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }.count
            bytes = bytes.dropFirst(count)
            return count
        }
        var mantissa = digits()
        if bytes.first == UInt8(ascii: ".") {
            bytes = bytes.dropFirst()
            mantissa += digits()
        }
        guard mantissa > 0 else { return false }
        if let e = bytes.first, e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            if let sign = bytes.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
            guard digits() > 0 else { return false }
        }
        return bytes.isEmpty
    }
}
