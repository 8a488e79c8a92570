import AxonHTTP
import AxonSupport

/// Strings: read in place, escapes decoded only when there are any, UTF-8 verified.
extension JSONScanner {
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

    /// The text of a string's bytes `raw` (without quotes) that holds escapes.
    private func unescape(_ raw: UnsafeBufferPointer<UInt8>, at path: String) throws(APIError) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = 0
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
                guard var scalar = Self.hex(raw, at: i) else { throw bad }
                i += 4
                if (0xD800 ..< 0xDC00).contains(scalar) {
                    guard i + 1 < raw.count, raw[i] == UInt8(ascii: "\\"), raw[i + 1] == UInt8(ascii: "u"),
                        let low = Self.hex(raw, at: i + 2), (0xDC00 ..< 0xE000).contains(low)
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

    /// The four hex digits of a `\u` escape at `raw[at]`, or nil.
    private static func hex(_ raw: UnsafeBufferPointer<UInt8>, at: Int) -> UInt32? {
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
}
