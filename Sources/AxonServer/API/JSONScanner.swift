import AxonHTTP
import AxonSupport
#if canImport(Glibc)
import Glibc
#endif

/// A pull parser over the bytes of a JSON body: the hot inference routes read their few keys
/// and their number tensors straight from the bytes, without building a generic JSON tree.
///
/// It accepts exactly RFC 8259 JSON. NaN and Infinity tokens, numbers outside the Float32
/// range, and strings that are not UTF-8 are rejected with an error naming the field path.
///
/// It is bounded: objects and arrays nest at most `limits.maxDepth` deep (values only skipped
/// count too, and skipping never recurses), a string holds at most `limits.maxStringBytes`
/// bytes and a number at most `limits.maxNumberBytes` characters; past any of them the request
/// is a 413 naming the key. Error messages quote at most a short excerpt of a token.
struct JSONScanner {
    private let bytes: UnsafeBufferPointer<UInt8>
    private(set) var index = 0
    private let limits: JSONLimits
    /// Objects and arrays open at the current position.
    private var depth = 0

    /// A scanner over `bytes`, which must outlive it.
    init(_ bytes: UnsafeBufferPointer<UInt8>, limits: JSONLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    /// A scanner at `position`, the start of a value `depth` levels deep that an earlier
    /// scanner skipped: reads it again once what it means is known.
    init(_ bytes: UnsafeBufferPointer<UInt8>, limits: JSONLimits, at position: Int, depth: Int) {
        self.bytes = bytes
        self.limits = limits
        self.index = position
        self.depth = depth
    }

    /// The next significant byte, without consuming it (nil at the end).
    mutating func peek() -> UInt8? {
        skipWhitespace()
        return index < bytes.count ? bytes[index] : nil
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    /// Consumes `byte` or throws naming what was found instead.
    mutating func expect(_ byte: UInt8, at path: @autoclosure () -> String) throws(APIError) {
        guard peek() == byte else { throw syntaxError(expected: "'\(Character(Unicode.Scalar(byte)))'", at: path()) }
        index += 1
    }

    /// Throws unless only whitespace remains.
    mutating func expectEnd() throws(APIError) {
        if peek() != nil { throw syntaxError(expected: "end of body", at: "$") }
    }

    /// A 400 naming what the parser expected and what it found.
    func syntaxError(expected: String, at path: String) -> APIError {
        let found: String
        if index >= bytes.count {
            found = "end of body"
        } else {
            let byte = bytes[index]
            found = byte >= 0x20 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
        }
        return .badRequest("malformed JSON at \(path) (byte \(index)): expected \(expected), found \(found)", code: "invalid_json")
    }

    /// Iterates the members of an object: calls `member` with each key, positioned at its value.
    /// Paths here and below are autoclosures: they are spelled out only for an error message.
    mutating func readObject(
        at path: @autoclosure () -> String, _ member: (inout JSONScanner, String) throws(APIError) -> Void
    ) throws(APIError) {
        guard peek() == UInt8(ascii: "{") else { throw typeError(path(), expected: "an object") }
        try enter(at: path())
        defer { depth -= 1 }
        index += 1
        if peek() == UInt8(ascii: "}") {
            index += 1
            return
        }
        while true {
            let key = try readString(at: path())
            try expect(UInt8(ascii: ":"), at: path() + "." + key)
            try member(&self, key)
            switch peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                return
            default: throw syntaxError(expected: "',' or '}'", at: path())
            }
        }
    }

    /// Iterates the elements of an array, calling `element` with each zero-based position.
    mutating func readArray(
        at path: @autoclosure () -> String, _ element: (inout JSONScanner, Int) throws(APIError) -> Void
    ) throws(APIError) {
        guard peek() == UInt8(ascii: "[") else { throw typeError(path(), expected: "an array") }
        try enter(at: path())
        defer { depth -= 1 }
        index += 1
        if peek() == UInt8(ascii: "]") {
            index += 1
            return
        }
        var position = 0
        while true {
            try element(&self, position)
            position += 1
            switch peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                return
            default: throw syntaxError(expected: "',' or ']'", at: "\(path())[\(position - 1)]")
            }
        }
    }

    /// One more object or array opens at `path`: a 413 past `limits.maxDepth`.
    private mutating func enter(at path: @autoclosure () -> String) throws(APIError) {
        guard depth < limits.maxDepth else { throw tooDeep(at: path()) }
        depth += 1
    }

    private func tooDeep(at path: String) -> APIError {
        .limitExceeded(
            key: "limits.max_json_depth", limit: limits.maxDepth, needed: depth + 1,
            what: "the value at \(path.excerpt) (byte \(index)) opens a level deeper than allowed: its nesting")
    }

    /// The first significant byte inside the array that comes next, without consuming
    /// anything: tells a list of objects from a list of numbers. Nil when the next value is not
    /// an array or is an empty one.
    mutating func peekFirstElement() -> UInt8? {
        guard peek() == UInt8(ascii: "[") else { return nil }
        var probe = index + 1
        while probe < bytes.count {
            switch bytes[probe] {
            case 0x20, 0x0A, 0x0D, 0x09: probe += 1
            case UInt8(ascii: "]"): return nil
            default: return bytes[probe]
            }
        }
        return nil
    }

    /// A 400 saying the value at `path` has the wrong JSON type.
    func typeError(_ path: String, expected: String) -> APIError {
        let found: String
        switch index < bytes.count ? bytes[index] : 0 {
        case UInt8(ascii: "{"): found = "an object"
        case UInt8(ascii: "["): found = "an array"
        case UInt8(ascii: "\""): found = "a string"
        case UInt8(ascii: "t"), UInt8(ascii: "f"): found = "a boolean"
        case UInt8(ascii: "n"): found = "null"
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): found = "a number"
        case 0: found = "end of body"
        default: return syntaxError(expected: expected, at: path)
        }
        return .badRequest("\(path) must be \(expected), got \(found)")
    }

    /// Reads a string value (escapes decoded, UTF-8 verified).
    mutating func readString(at path: @autoclosure () -> String) throws(APIError) -> String {
        guard peek() == UInt8(ascii: "\"") else { throw typeError(path(), expected: "a string") }
        index += 1
        let start = index
        var plain = true
        var ascii = true
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                break
            } else if byte == UInt8(ascii: "\\") {
                plain = false
                index += 2
            } else if byte < 0x20 {
                throw syntaxError(expected: "no control characters in strings", at: path())
            } else {
                if byte >= 0x80 { ascii = false }
                index += 1
            }
        }
        if index - start > limits.maxStringBytes {
            throw .limitExceeded(
                key: "limits.max_string_bytes", limit: limits.maxStringBytes, needed: min(index, bytes.count) - start,
                what: "the string at \(path().excerpt) (byte \(start - 1))", unit: .bytes)
        }
        guard index < bytes.count else { throw syntaxError(expected: "closing '\"'", at: path()) }
        let raw = UnsafeBufferPointer(rebasing: bytes[start ..< index])
        index += 1
        if plain {
            // Keys and names are ASCII: valid UTF-8 by construction, and String(decoding:) is
            // specialized, where String(validating:) takes a generic path (measured ~0.1 µs a
            // string, 7 strings a V2 request).
            if ascii { return String(decoding: raw, as: UTF8.self) }
            guard let text = String(validating: raw, as: UTF8.self) else {
                throw .badRequest("\(path()) is not valid UTF-8", code: "invalid_utf8")
            }
            return text
        }
        return try unescape(raw, at: path())
    }

    private func unescape(_ raw: UnsafeBufferPointer<UInt8>, at path: String) throws(APIError) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = 0
        func hex(_ at: Int) -> UInt32? {
            guard at + 4 <= raw.count else { return nil }
            var value: UInt32 = 0
            for k in at ..< at + 4 {
                let b = raw[k]
                let digit: UInt32
                switch b {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(b - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(b - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(b - UInt8(ascii: "A") + 10)
                default: return nil
                }
                value = value << 4 | digit
            }
            return value
        }
        let bad = APIError.badRequest("\(path) has an invalid escape sequence", code: "invalid_json")
        while i < raw.count {
            let byte = raw[i]
            guard byte == UInt8(ascii: "\\") else {
                out.append(byte)
                i += 1
                continue
            }
            guard i + 1 < raw.count else { throw bad }
            let escaped = raw[i + 1]
            i += 2
            switch escaped {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escaped)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                guard var scalar = hex(i) else { throw bad }
                i += 4
                if (0xD800 ..< 0xDC00).contains(scalar) {
                    guard i + 1 < raw.count, raw[i] == UInt8(ascii: "\\"), raw[i + 1] == UInt8(ascii: "u"),
                        let low = hex(i + 2), (0xDC00 ..< 0xE000).contains(low)
                    else { throw bad }
                    i += 6
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw bad }
                out.append(contentsOf: String(Character(unicode)).utf8)
            default: throw bad
            }
        }
        guard let text = String(validating: out, as: UTF8.self) else {
            throw .badRequest("\(path) is not valid UTF-8", code: "invalid_utf8")
        }
        return text
    }

    /// The longest number token the scanner takes (`limits.max_number_bytes`).
    var maxNumberBytes: Int { limits.maxNumberBytes }

    /// Moves past `count` bytes another reader has already checked (a number token).
    mutating func skip(_ count: Int) {
        precondition(count >= 0 && index + count <= bytes.count, "skip within the bytes")
        index += count
    }

    /// Moves back to `position`, a value's start read from `index` at the same nesting level:
    /// a reader that guessed a value's shape wrong reads it again another way.
    mutating func rewind(to position: Int) {
        precondition(position >= 0 && position <= index, "rewind only backwards")
        index = position
    }

    /// Whether the next value is `null` (consumed if so).
    mutating func readNull() -> Bool {
        guard peek() == UInt8(ascii: "n"), index + 4 <= bytes.count, bytes[index + 1] == UInt8(ascii: "u"),
            bytes[index + 2] == UInt8(ascii: "l"), bytes[index + 3] == UInt8(ascii: "l")
        else { return false }
        index += 4
        return true
    }

    /// Reads a non-negative integer (e.g. a version or a seed), within `UInt64`.
    mutating func readUnsigned(at path: @autoclosure () -> String) throws(APIError) -> UInt64 {
        skipWhitespace()
        // Plain digits are read exactly over the whole UInt64 range (through a Double, integers
        // above 2^53 would lose their last digits); other spellings (1e3, 5.0, -0) take the
        // number path below.
        var end = index
        var exact: UInt64 = 0
        var fits = true
        while end < bytes.count, bytes[end] >= UInt8(ascii: "0"), bytes[end] <= UInt8(ascii: "9"), fits {
            let (times10, overflow) = exact.multipliedReportingOverflow(by: 10)
            let (sum, carry) = times10.addingReportingOverflow(UInt64(bytes[end] - UInt8(ascii: "0")))
            fits = !overflow && !carry
            exact = sum
            end += 1
        }
        let plain = fits && end > index && (bytes[index] != UInt8(ascii: "0") || end == index + 1)
            && (end == bytes.count || (bytes[end] != UInt8(ascii: ".") && bytes[end] | 0x20 != UInt8(ascii: "e")))
        if plain {
            index = end
            return exact
        }
        let value = try readNumber(at: path())
        guard value >= 0, value < 18_446_744_073_709_551_616.0, value.rounded() == value else {
            throw .badRequest("\(path()) must be an integer in 0...\(UInt64.max), got \(value)")
        }
        return UInt64(value)
    }

    /// Reads a number, rejecting NaN/Infinity tokens with a message that says so, and (unless
    /// `float32` is false, for a value that is only skipped) one outside the 32-bit float range.
    mutating func readNumber(at path: @autoclosure () -> String, float32: Bool = true) throws(APIError) -> Double {
        switch scanNumber(float32: float32) {
        case .success(let value): return value
        case .failure(let failure): throw numberError(failure, at: path())
        }
    }

    /// Why `scanNumber` found no acceptable number; the scanner's index is left where the
    /// message about it should point.
    enum NumberFailure: Error {
        case endOfBody
        case nonFinite(negative: Bool, nan: Bool)
        case notANumber
        case noFractionDigit
        case noExponentDigit
        case tooLong(Range<Int>)
        case outOfFloatRange(Range<Int>)
    }

    /// The error a number's failure answers, naming `path`.
    func numberError(_ failure: NumberFailure, at path: String) -> APIError {
        switch failure {
        case .endOfBody: syntaxError(expected: "a number", at: path)
        case .nonFinite(let negative, let nan):
            .badRequest("\(path) is \(negative ? "-" : "")\(nan ? "NaN" : "Infinity"); only finite numbers are accepted", code: "non_finite_number")
        case .notANumber: typeError(path, expected: "a number")
        case .noFractionDigit: syntaxError(expected: "a digit after '.'", at: path)
        case .noExponentDigit: syntaxError(expected: "a digit in the exponent", at: path)
        case .tooLong(let range):
            .limitExceeded(
                key: "limits.max_number_bytes", limit: limits.maxNumberBytes, needed: range.count,
                what: "the number at \(path.excerpt) (\(token(range)))")
        case .outOfFloatRange(let range):
            .badRequest("\(path) is \(token(range)), outside the 32-bit float range", code: "non_finite_number")
        }
    }

    /// Scans a number without naming where it is: the hot path of every tensor, where building
    /// the element's path for each number would cost more than parsing it. Callers turn a
    /// failure into an error with `numberError(_:at:)`.
    @inline(__always)
    mutating func scanNumber(float32: Bool = true) -> Result<Double, NumberFailure> {
        skipWhitespace()
        let start = index
        var negative = false
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        guard index < bytes.count else { return .failure(.endOfBody) }
        let first = bytes[index]
        if first == UInt8(ascii: "N") || first == UInt8(ascii: "I") || first == UInt8(ascii: "i") || first == UInt8(ascii: "n") && !negative && !isNullAhead() {
            return .failure(.nonFinite(negative: negative, nan: first == UInt8(ascii: "N") || first == UInt8(ascii: "n")))
        }
        guard first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else {
            index = start
            return .failure(.notANumber)
        }
        // Digits accumulate into a 64-bit mantissa; beyond 19 digits or a large exponent the
        // token goes to strtod, which rounds correctly in every case.
        var mantissa: UInt64 = 0
        var digits = 0
        var exponent = 0
        var exact = true
        if first == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                if digits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(bytes[index] &- UInt8(ascii: "0"))
                    if mantissa != 0 { digits += 1 }
                } else {
                    exact = false
                }
                index += 1
            }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            let fractionStart = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                if digits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(bytes[index] &- UInt8(ascii: "0"))
                    if mantissa != 0 { digits += 1 }
                    exponent -= 1
                } else {
                    exact = false
                }
                index += 1
            }
            guard index > fractionStart else { return .failure(.noFractionDigit) }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            var negativeExponent = false
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                negativeExponent = bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            let exponentStart = index
            var value = 0
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                if value < 100_000 { value = value * 10 + Int(bytes[index] - UInt8(ascii: "0")) }
                index += 1
            }
            guard index > exponentStart else { return .failure(.noExponentDigit) }
            exponent += negativeExponent ? -value : value
        }
        guard index - start <= limits.maxNumberBytes else { return .failure(.tooLong(start ..< index)) }
        var result: Double
        if exact, mantissa < 1 << 53, exponent >= -22, exponent <= 22 {
            // Both operands exact in Double: one correctly rounded operation (Clinger's fast path).
            result = exponent < 0 ? Double(mantissa) / Self.powersOfTen[-exponent] : Double(mantissa) * Self.powersOfTen[exponent]
            if negative { result = -result }
        } else {
            result = slowParse(start ..< index)
        }
        guard !float32 || result.isFinite && abs(result) <= Double(Float.greatestFiniteMagnitude) else {
            return .failure(.outOfFloatRange(start ..< index))
        }
        return .success(result)
    }

    /// The bytes of a token for an error message: a short excerpt, never megabytes.
    private func token(_ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self).excerpt
    }

    private func isNullAhead() -> Bool {
        index + 4 <= bytes.count && bytes[index + 1] == UInt8(ascii: "u") && bytes[index + 2] == UInt8(ascii: "l")
    }

    private func slowParse(_ range: Range<Int>) -> Double {
        let length = range.count
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: length + 1) { buffer in
            for k in 0 ..< length { buffer[k] = CChar(bitPattern: bytes[range.lowerBound + k]) }
            buffer[length] = 0
            return strtod(buffer.baseAddress!, nil)
        }
    }

    private static let powersOfTen: [Double] = (0 ... 22).map { exponent in
        var value = 1.0
        for _ in 0 ..< exponent { value *= 10 }
        return value
    }

    /// Skips any value (for keys a route ignores, such as KServe `parameters`), checking it is
    /// well-formed JSON. A loop with a counter, not recursion: how deep a skipped value nests
    /// is the client's choice, and it is bounded by `limits.maxDepth` like everything else.
    mutating func skipValue(at path: String) throws(APIError) {
        let base = depth
        // Open containers below `base`: a bit per level, set for an object (a key comes next).
        var objects: [Bool] = []
        var expectingKey = false
        repeat {
            if expectingKey {
                // Inside an object: a key and a colon, then its value.
                _ = try readString(at: path)
                try expect(UInt8(ascii: ":"), at: path)
            }
            switch peek() {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let isObject = bytes[index] == UInt8(ascii: "{")
                try enter(at: path)
                index += 1
                objects.append(isObject)
                let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
                if peek() == close {
                    index += 1
                    objects.removeLast()
                    depth -= 1
                } else {
                    expectingKey = isObject
                    continue
                }
            case UInt8(ascii: "\""): _ = try readString(at: path)
            case UInt8(ascii: "t"): try literal("true", at: path)
            case UInt8(ascii: "f"): try literal("false", at: path)
            case UInt8(ascii: "n"): if !readNull() { throw syntaxError(expected: "null", at: path) }
            // Any JSON number: an ignored value is only checked for its syntax and length.
            default: _ = try readNumber(at: path, float32: false)
            }
            // A value ended: close every container it completes, or step to the next member.
            expectingKey = false
            while let isObject = objects.last {
                let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
                switch peek() {
                case UInt8(ascii: ","):
                    index += 1
                    expectingKey = isObject
                case close:
                    index += 1
                    objects.removeLast()
                    depth -= 1
                    continue
                default:
                    throw syntaxError(expected: isObject ? "',' or '}'" : "',' or ']'", at: path)
                }
                break
            }
        } while !objects.isEmpty
        assert(depth == base, "skipValue leaves the depth as it found it")
    }

    /// Reads `true` or `false`.
    mutating func readBool(at path: @autoclosure () -> String) throws(APIError) -> Bool {
        switch peek() {
        case UInt8(ascii: "t"):
            try literal("true", at: path())
            return true
        case UInt8(ascii: "f"):
            try literal("false", at: path())
            return false
        default: throw typeError(path(), expected: "a boolean")
        }
    }

    private mutating func literal(_ text: StaticString, at path: String) throws(APIError) {
        let count = text.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw syntaxError(expected: "\(text)", at: path) }
        for k in 0 ..< count where bytes[index + k] != text.utf8Start[k] {
            throw syntaxError(expected: "\(text)", at: path)
        }
        index += count
    }

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
        var shape = [Int](repeating: -1, count: depth)
        // Element paths such as `inputs[3][17]` are only spelled out for an error message:
        // formatting one per number would cost more than parsing it.
        var position = [Int](repeating: 0, count: depth)
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

/// The bounds a `JSONScanner` enforces, from the `limits.*` keys.
struct JSONLimits: Sendable {
    /// Objects and arrays open at once (`limits.max_json_depth`).
    var maxDepth: Int
    /// Bytes of one string as sent (`limits.max_string_bytes`).
    var maxStringBytes: Int
    /// Characters of one number (`limits.max_number_bytes`).
    var maxNumberBytes: Int

    init(_ limits: ServerLimits) {
        maxDepth = limits.maxJSONDepth
        maxStringBytes = limits.maxStringBytes
        maxNumberBytes = limits.maxNumberBytes
    }
}
