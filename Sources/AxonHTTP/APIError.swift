import AxonAPI
import Foundation

/// An error that knows its HTTP answer. The server's one error boundary asks every thrown error
/// for this; anything that does not conform becomes a bare 500 whose detail goes only to the log.
public protocol HTTPResponseError: Error {
    /// The status to answer with.
    var status: HTTPStatus { get }
    /// A stable machine-readable code, snake_case (`not_found`).
    var code: String { get }
    /// A message for the person reading the response.
    var message: String { get }
    /// Extra response headers (e.g. `Allow` on a 405).
    var headers: HTTPHeaders { get }
}

extension HTTPResponseError {
    /// No extra headers by default.
    public var headers: HTTPHeaders { [:] }
}

/// The errors of the HTTP layer itself, each with the status it maps to.
public struct APIError: HTTPResponseError, Equatable, CustomStringConvertible {
    /// The status to answer with.
    public let status: HTTPStatus
    /// The machine-readable code.
    public let code: String
    /// The human-readable message.
    public let message: String
    private let extraHeaders: [HTTPHeaders.Field]

    /// An error with an explicit status, code and message.
    public init(status: HTTPStatus, code: String, message: String, headers: HTTPHeaders = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.extraHeaders = Array(headers)
    }

    /// Extra response headers.
    public var headers: HTTPHeaders { HTTPHeaders(extraHeaders.map { ($0.name, $0.value) }) }

    /// `code: message`.
    public var description: String { "\(code): \(message)" }

    /// 404: no route matches `path`.
    public static func routeNotFound(path: String) -> APIError {
        APIError(status: .notFound, code: "not_found", message: "no route for path \(path)")
    }

    /// 405: the path exists but not for `method`; `allowed` goes into the `Allow` header.
    public static func methodNotAllowed(method: HTTPMethod, path: String, allowed: [HTTPMethod]) -> APIError {
        let allow = allowed.map(\.rawValue).joined(separator: ", ")
        return APIError(
            status: .methodNotAllowed, code: "method_not_allowed",
            message: "\(method) is not allowed on \(path); allowed: \(allow)", headers: ["Allow": allow])
    }

    /// 413: the body exceeds the configured limit.
    public static func contentTooLarge(limit: UInt64) -> APIError {
        APIError(
            status: .contentTooLarge, code: "content_too_large",
            message: "request body exceeds the limit of \(limit) bytes (limits.max_body_bytes, axond --max-body-bytes)")
    }

    /// 503: the server is shutting down.
    public static let draining = APIError(
        status: .serviceUnavailable, code: "draining", message: "the server is shutting down; retry on another instance")

    /// 503: the server is not ready yet.
    public static let notReady = APIError(
        status: .serviceUnavailable, code: "not_ready", message: "the server is starting and not ready yet")

    /// 400: the path has a broken percent escape.
    public static func malformedPath(_ path: String) -> APIError {
        APIError(status: .badRequest, code: "malformed_path", message: "path \(path) has an invalid percent-encoding")
    }

    /// 400: a malformed or invalid request, with what is wrong.
    public static func badRequest(_ message: String, code: String = "bad_request") -> APIError {
        APIError(status: .badRequest, code: code, message: message)
    }

    /// 400 from a JSON decoding failure, naming the coding path of the offending field.
    public static func invalidJSON(_ error: DecodingError) -> APIError {
        func path(_ context: DecodingError.Context, appending key: CodingKey? = nil) -> String {
            let keys = context.codingPath + (key.map { [$0] } ?? [])
            let text = keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return text.isEmpty ? "$" : "$" + text
        }
        switch error {
        case .keyNotFound(let key, let context):
            return .badRequest("missing field \(path(context, appending: key))", code: "invalid_json")
        case .typeMismatch(let type, let context):
            return .badRequest("field \(path(context)) must be \(type)", code: "invalid_json")
        case .valueNotFound(let type, let context):
            return .badRequest("field \(path(context)) must be a \(type), not null", code: "invalid_json")
        case .dataCorrupted(let context):
            return .badRequest(
                "malformed JSON at \(path(context)): \(context.debugDescription)", code: "invalid_json")
        @unknown default:
            return .badRequest("malformed JSON", code: "invalid_json")
        }
    }

    /// 500 with a generic message; the detail belongs in the log.
    public static let internalError = APIError(
        status: .internalServerError, code: "internal", message: "internal server error")
}

extension HTTPResponseError {
    /// The error as a JSON envelope response.
    public var response: Response {
        var response = Response.json(bytes: ErrorEnvelope(code: code, message: message).encoded(), status: status)
        for field in headers { response.headers[field.name] = field.value }
        return response
    }
}
