import Foundation

/// A complete HTTP request, copied out of the C shim so it can travel to any thread.
public struct Request: Sendable {
    /// The request method.
    public let method: HTTPMethod
    /// The raw path as sent, still percent-encoded, without the query.
    public let path: String
    /// The raw query string after `?` (empty when absent).
    public let query: String
    /// The headers the server reads: Content-Type, Content-Length, Accept, Authorization, X-Request-Id,
    /// Inference-Header-Content-Length, Last-Event-ID, If-None-Match (and the CORS request headers
    /// when CORS is on).
    public let headers: HTTPHeaders
    /// The request body (empty when none was sent).
    public internal(set) var body: [UInt8]
    /// The request id: the client's `X-Request-Id` when usable, else a generated one.
    public let id: String
    /// Values of the named segments of the matched route template.
    public var parameters: Parameters
    /// The matched route template (`/v1/models/{name}:predict`), for logs and metrics.
    public internal(set) var route: String?
    /// Body bytes received, also when they were streamed to a `BodySink` (`body` is then empty).
    var receivedBytes = 0

    /// Builds a request, e.g. to call a handler in a unit test without a server.
    public init(
        method: HTTPMethod, path: String, query: String = "", headers: HTTPHeaders = [:],
        body: [UInt8] = [], id: String = RequestID.generate()
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.id = id
        self.parameters = Parameters()
        self.route = nil
    }

    /// The query items, percent-decoded (`+` reads as a space); malformed items are skipped.
    public var queryItems: [(name: String, value: String)] {
        query.split(separator: "&", omittingEmptySubsequences: true).compactMap { item in
            let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (s: Substring) in PercentDecoding.decode(s.replacingOccurrences(of: "+", with: " ")) }
            guard let name = decode(pair[0]) else { return nil }
            let value = pair.count > 1 ? decode(pair[1]) : ""
            guard let value else { return nil }
            return (name, value)
        }
    }

    /// Decodes the body as JSON. Failures become a 400 naming the coding path of the bad field.
    public func decode<T: Decodable>(_ type: T.Type, decoder: JSONDecoder = JSONDecoder()) throws -> T {
        do {
            return try decoder.decode(type, from: Data(body))
        } catch let error as DecodingError {
            throw APIError.invalidJSON(error)
        }
    }
}

/// The named segment values of a matched route.
public struct Parameters: Sendable {
    private var values: [(name: String, value: String)] = []

    /// No parameters.
    public init() {}

    public mutating func append(name: String, value: String) {
        values.append((name, value))
    }

    /// The value of the segment `{name}`, or nil when the route has no such segment.
    public subscript(name: String) -> String? {
        values.first { $0.name == name }?.value
    }

    /// The value of `{name}`; a missing one is a route/handler mismatch, reported as a 500.
    public func require(_ name: String) throws -> String {
        guard let value = self[name] else { throw RouterError.missingParameter(name) }
        return value
    }

    /// Number of parameters.
    public var count: Int { values.count }
}

/// Percent-decoding of path segments and query items.
enum PercentDecoding {
    /// Decodes `%XX` escapes; nil for a broken escape or bytes that are not UTF-8.
    static func decode<S: StringProtocol>(_ text: S) -> String? {
        guard text.utf8.contains(UInt8(ascii: "%")) else { return String(text) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                return nil
            }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
