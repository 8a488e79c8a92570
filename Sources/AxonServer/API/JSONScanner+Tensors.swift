import AxonHTTP
import AxonSupport

/// Number tensors: nested rectangular arrays read into a flat row-major buffer.
extension JSONScanner {
    /// Reads a number or a (nested, rectangular) array of numbers, appending the values in
    /// row-major order to `values` and returning the shape (`[]` for a scalar).
    ///
    /// A ragged array throws naming the first element whose length differs, e.g.
    /// `inputs[3] has 63 values; model "digits" expects 64` when `innermost` gives the expected
    /// width of the last dimension, else compared with its first sibling.
    mutating func readTensor(
        at path: @autoclosure () -> String, into values: inout [Float], innermost: (count: Int, owner: String)? = nil, maxDepth: Int = 8
    ) throws(APIError) -> [Int] {
        // The depth is fixed by the leading brackets of the first element.
        var depth = 0
        var probe = index
        while probe < bytes.count {
            let byte = bytes[probe]
            if byte == UInt8(ascii: "[") {
                depth += 1
            } else if byte != 0x20, byte != 0x0A, byte != 0x0D, byte != 0x09 {
                break
            }
            probe += 1
        }
        guard depth <= maxDepth else { throw .badRequest("\(path()) is nested deeper than \(maxDepth) levels") }
        var shape = [Int].filled(with: -1, count: depth)
        // Element paths such as `inputs[3][17]` are only spelled out for an error message:
        // formatting one per number would cost more than parsing it.
        var position = [Int].filled(with: 0, count: depth)
        try readTensorLevel(base: path, position: &position, level: 0, shape: &shape, values: &values, innermost: innermost)
        return shape.map { max($0, 0) }
    }

    /// `base` followed by the first `level` indices of `position`, e.g. `inputs[3][17]`.
    private static func elementPath(_ base: String, _ position: [Int], _ level: Int) -> String {
        var path = base
        for index in position.prefix(level) { path += "[\(index)]" }
        return path
    }

    /// The innermost array of a tensor, its numbers appended to `values`; returns how many.
    /// `readArray` with a call per element does the same, but this is the loop every number of
    /// every prediction passes through, so it is written out: no closure, no recursion.
    private mutating func readNumberRow(
        base: () -> String, position: inout [Int], level: Int, values: inout [Float]
    ) throws(APIError) -> Int {
        try enter(at: Self.elementPath(base(), position, level))
        defer { depth -= 1 }
        index += 1
        if peek() == UInt8(ascii: "]") {
            index += 1
            return 0
        }
        var count = 0
        if let run = scanNumberRun(into: &values) {
            count = run.count
            if run.closed { return count }
        }
        while true {
            position[level] = count
            if peek() == UInt8(ascii: "[") {
                throw .badRequest(
                    "\(Self.elementPath(base(), position, level + 1)) is an array; expected a number like its siblings",
                    code: "ragged_array")
            }
            switch scanNumber() {
            case .success(let value): values.append(Float(value))
            case .failure(let failure): throw numberError(failure, at: Self.elementPath(base(), position, level + 1))
            }
            count += 1
            switch peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                return count
            default:
                throw syntaxError(expected: "',' or ']'", at: "\(Self.elementPath(base(), position, level))[\(count - 1)]")
            }
        }
    }

    /// Numbers of the common spelling from `index` on, read in bulk by `DecimalFloat.scanRow`
    /// (the training reader's row scanner) and appended to `values`: how many, and whether the
    /// row's `]` was read too; nil when it took none. It stops at anything unusual (a blank, an
    /// exponent, a long number) for the general loop to read.
    private mutating func scanNumberRun(into values: inout [Float]) -> (count: Int, closed: Bool)? {
        guard let base = bytes.baseAddress else { return nil }
        let capacity = 256, longest = limits.maxNumberBytes
        var total = 0
        let closed = withUnsafeTemporaryAllocation(of: Float.self, capacity: capacity) { buffer in
            // scanRow stops short of the end of the buffer (it reads ahead); the last bytes of a
            // small body are most of its row, so they get one more run in a padded copy.
            var tail = false
            while true {
                let run = tail
                    ? DecimalFloat.scanRowTail(base, from: index, to: bytes.count, into: buffer.baseAddress!, capacity: capacity, longest: longest)
                    : DecimalFloat.scanRow(base, from: index, to: bytes.count, into: buffer.baseAddress!, capacity: capacity, longest: longest)
                values.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[0 ..< run.count]))
                index = run.next
                total += run.count
                if run.closed { return true }
                if run.count == capacity { continue }
                guard !tail, bytes.count - index < capacity else { return false }
                tail = true
            }
        }
        return total > 0 ? (total, closed) : nil
    }

    private mutating func readTensorLevel(
        base: () -> String, position: inout [Int], level: Int, shape: inout [Int], values: inout [Float],
        innermost: (count: Int, owner: String)?
    ) throws(APIError) {
        if level == shape.count {
            guard peek() != UInt8(ascii: "[") else {
                throw .badRequest("\(Self.elementPath(base(), position, level)) is an array; expected a number like its siblings", code: "ragged_array")
            }
            values.append(Float(try readNumber(at: Self.elementPath(base(), position, level))))
            return
        }
        guard peek() == UInt8(ascii: "[") else {
            let path = Self.elementPath(base(), position, level)
            if peek().map({ $0 == UInt8(ascii: "-") || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) }) == true {
                throw .badRequest("\(path) is a number; expected an array like its siblings", code: "ragged_array")
            }
            throw typeError(path, expected: "an array of numbers")
        }
        var count = 0
        if level == shape.count - 1 {
            count = try readNumberRow(base: base, position: &position, level: level, values: &values)
        } else {
            try readArray(at: Self.elementPath(base(), position, level)) { (scanner, index) throws(APIError) in
                position[level] = index
                try scanner.readTensorLevel(
                    base: base, position: &position, level: level + 1, shape: &shape, values: &values, innermost: innermost)
                count = index + 1
            }
        }
        if level == shape.count - 1, let innermost, level > 0 || shape.count == 1, count != innermost.count {
            // Well-formed, but wrong for the model: 422, as when the width is checked after parsing.
            throw APIError(
                status: .unprocessableContent, code: "shape_mismatch",
                message: "\(Self.elementPath(base(), position, level)) has \(count) values; \(innermost.owner) expects \(innermost.count)")
        }
        if shape[level] < 0 {
            shape[level] = count
        } else if shape[level] != count {
            // Each array is well-formed on its own (a schema cannot say that siblings agree in
            // length), so this is a 422 like a width the model refuses, not a 400.
            throw APIError(
                status: .unprocessableContent, code: "ragged_array",
                message: "\(Self.elementPath(base(), position, level)) has \(count) values; its first sibling has \(shape[level])")
        }
    }
}
