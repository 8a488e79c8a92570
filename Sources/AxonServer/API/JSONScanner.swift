import AxonHTTP
import AxonSupport

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
///
/// The type is split by concern: this file holds the cursor, the structure (objects, arrays,
/// depth) and the errors; strings, numbers, skipped values and tensors are extensions in
/// `JSONScanner+*.swift`, which is why the state below is internal rather than private: only
/// those extensions move it.
struct JSONScanner {
    /// The body; the scanner never holds it beyond its caller's scope.
    let bytes: UnsafeBufferPointer<UInt8>
    /// The next byte to read.
    var index = 0
    let limits: JSONLimits
    /// Objects and arrays open at the current position.
    var depth = 0

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

    mutating func skipWhitespace() {
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
    mutating func enter(at path: @autoclosure () -> String) throws(APIError) {
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

    mutating func literal(_ text: StaticString, at path: String) throws(APIError) {
        let count = text.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw syntaxError(expected: "\(text)", at: path) }
        for k in 0 ..< count where bytes[index + k] != text.utf8Start[k] {
            throw syntaxError(expected: "\(text)", at: path)
        }
        index += count
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
