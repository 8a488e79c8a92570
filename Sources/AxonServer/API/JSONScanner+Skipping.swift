import AxonHTTP

/// Values a route ignores, checked and skipped without recursion.
extension JSONScanner {
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
}
