import AxonAPI
import Foundation

/// An HTTP response: status, headers and body bytes.
public struct Response: Sendable {
    /// The status code.
    public var status: HTTPStatus
    /// Header fields. `X-Request-Id` is added by the server.
    public var headers: HTTPHeaders
    /// The body bytes.
    public var body: [UInt8]
    /// A body written while it is sent, instead of `body` (Server-Sent Events).
    public var stream: EventStream?

    /// A response with the given parts.
    public init(status: HTTPStatus = .ok, headers: HTTPHeaders = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
        self.stream = nil
    }

    /// A `text/event-stream` response whose body is `stream`, unbuffered by proxies.
    public static func eventStream(_ stream: EventStream) -> Response {
        var response = Response(
            status: .ok, headers: ["Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"])
        response.stream = stream
        return response
    }

    /// The media type of every JSON body Axon sends.
    public static let jsonContentType = "application/json"

    /// A JSON response encoding `value` with sorted keys (stable bytes for clients and tests).
    public static func json<T: Encodable>(_ value: T, status: HTTPStatus = .ok) throws -> Response {
        Response(status: status, headers: ["Content-Type": jsonContentType], body: try APIJSON.encode(value))
    }

    // Shared (copy-on-write) so hot routes do not build a header list per response.
    private static let jsonHeaders: HTTPHeaders = ["Content-Type": jsonContentType]

    /// A JSON response from already encoded bytes (for constant bodies on hot paths).
    public static func json(bytes: [UInt8], status: HTTPStatus = .ok) -> Response {
        Response(status: status, headers: jsonHeaders, body: bytes)
    }

    /// A `text/plain; charset=utf-8` response.
    public static func text(_ text: String, status: HTTPStatus = .ok) -> Response {
        Response(status: status, headers: ["Content-Type": "text/plain; charset=utf-8"], body: Array(text.utf8))
    }
}

/// A value a handler returns that the server turns into a response in one place.
public protocol ResponseGenerator: Sendable {
    /// The response for `request`.
    func response(for request: Request) throws -> Response
}

extension Response: ResponseGenerator {
    /// The response itself.
    public func response(for request: Request) throws -> Response { self }
}

extension ResponseGenerator where Self: Encodable {
    /// Encodable values answer as a 200 JSON body.
    public func response(for request: Request) throws -> Response { try .json(self) }
}
