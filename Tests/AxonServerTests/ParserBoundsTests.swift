@testable import AxonHTTP
import Testing

@testable import AxonServer

/// The JSON scanner's own bounds: depth (skipped values included), string and number length,
/// and error messages that quote only an excerpt.
@Suite("parser bounds")
struct ParserBoundsTests {
    var limits: ServerLimits {
        var limits = ServerLimits()
        limits.maxJSONDepth = 16
        limits.maxStringBytes = 100
        limits.maxNumberBytes = 40
        return limits
    }

    /// Skips one whole value and expects the end; the error if any.
    func skip(_ text: String) -> APIError? {
        let bytes = Array(text.utf8)
        do {
            try bytes.withUnsafeBufferPointer { (buffer) throws(APIError) in
                var scanner = JSONScanner(buffer, limits: JSONLimits(limits))
                try scanner.skipValue(at: "$")
                try scanner.expectEnd()
            }
            return nil
        } catch {
            return error
        }
    }

    @Test("skipping checks well-formed JSON of every kind")
    func skipsValidValues() {
        for text in [#"{"a":[1,{"b":null},true,false,"x\"y"],"c":{}}"#, "[]", "{}", "[[],[[]]]", "-1.5e3", #""s""#, "null",
                     #"{"a":{"b":{"c":[1,2,{"d":[]}]}}}"#] {
            #expect(skip(text) == nil, "\(text)")
        }
        for text in ["[1,]", #"{"a":1,}"#, "{1:2}", #"{"a" 1}"#, "[1 2]", "[", #"{"a":[}"#, "tru", "[}", "{]"] {
            #expect(skip(text)?.status == .badRequest, "\(text)")
        }
    }

    @Test("a value nested past limits.max_json_depth is a 413 naming the key, even when only skipped")
    func depth() {
        #expect(skip(String(repeating: "[", count: 16) + String(repeating: "]", count: 16)) == nil)
        let deep = skip(String(repeating: "[", count: 17) + String(repeating: "]", count: 17))
        #expect(deep?.status == .contentTooLarge && deep?.code == "limit_exceeded")
        #expect(deep?.message.contains("limits.max_json_depth is 16") == true)
        // Hundreds of thousands of levels: no recursion, so no stack to overflow.
        let hostile = skip(String(repeating: #"{"a":"#, count: 300_000))
        #expect(hostile?.status == .contentTooLarge)
    }

    @Test("depth counts through objects and arrays the routes read as well")
    func depthThroughReaders() {
        let body = Array((#"{"a":"# + String(repeating: "[", count: 20) + String(repeating: "]", count: 20) + "}").utf8)
        var caught: APIError?
        do {
            try body.withUnsafeBufferPointer { (buffer) throws(APIError) in
                var scanner = JSONScanner(buffer, limits: JSONLimits(limits))
                try scanner.readObject(at: "$") { (scanner, key) throws(APIError) in try scanner.skipValue(at: key) }
            }
        } catch {
            caught = error
        }
        #expect(caught?.code == "limit_exceeded")
    }

    @Test("a string longer than limits.max_string_bytes is a 413 that quotes none of it")
    func longString() {
        #expect(skip("\"" + String(repeating: "x", count: 100) + "\"") == nil)
        let error = skip("\"" + String(repeating: "x", count: 5_000) + "\"")
        #expect(error?.status == .contentTooLarge)
        #expect(error?.message.contains("limits.max_string_bytes") == true)
        #expect((error?.message.utf8.count ?? .max) < 300)
    }

    @Test("a number longer than limits.max_number_bytes is a 413, and any number error quotes an excerpt")
    func longNumber() {
        let long = skip("1" + String(repeating: "0", count: 1_000_000))
        #expect(long?.status == .contentTooLarge && long?.message.contains("limits.max_number_bytes") == true)
        #expect((long?.message.utf8.count ?? .max) < 300)
        // Within the length limit, a skipped value may be any JSON number, even past Float's range.
        #expect(skip("1" + String(repeating: "0", count: 39)) == nil)
        var wide = ServerLimits()
        wide.maxNumberBytes = 1 << 20
        let bytes = Array(("1" + String(repeating: "0", count: 100_000)).utf8)
        var caught: APIError?
        do {
            try bytes.withUnsafeBufferPointer { (buffer) throws(APIError) in
                var scanner = JSONScanner(buffer, limits: JSONLimits(wide))
                _ = try scanner.readNumber(at: "x")
            }
        } catch {
            caught = error
        }
        #expect(caught?.code == "non_finite_number")
        #expect((caught?.message.utf8.count ?? .max) < 300, "the message echoes the whole token")
    }

    @Test("an unknown key is quoted as an excerpt")
    func unknownKeyExcerpt() {
        let key = String(repeating: "k", count: 50_000)
        let error = PredictRoutes.unknownKey(key, allowed: "model, inputs")
        #expect(error.message.utf8.count < 300)
        #expect(error.message.contains("(50000 bytes)"))
    }
}
