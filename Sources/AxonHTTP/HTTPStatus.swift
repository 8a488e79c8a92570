/// An HTTP status code.
public struct HTTPStatus: Hashable, Sendable, CustomStringConvertible {
    /// The numeric code, 100...599.
    public let code: Int

    /// Wraps a status code; codes outside 100...599 are programmer errors.
    public init(_ code: Int) {
        precondition((100...599).contains(code), "HTTP status \(code) is outside 100...599")
        self.code = code
    }

    /// 200 OK.
    public static let ok = HTTPStatus(200)
    /// 201 Created.
    public static let created = HTTPStatus(201)
    /// 202 Accepted.
    public static let accepted = HTTPStatus(202)
    /// 204 No Content.
    public static let noContent = HTTPStatus(204)
    /// 304 Not Modified: the client's cached copy is current (no body).
    public static let notModified = HTTPStatus(304)
    /// 400 Bad Request: malformed or invalid input.
    public static let badRequest = HTTPStatus(400)
    /// 401 Unauthorized.
    public static let unauthorized = HTTPStatus(401)
    /// 403 Forbidden.
    public static let forbidden = HTTPStatus(403)
    /// 404 Not Found.
    public static let notFound = HTTPStatus(404)
    /// 405 Method Not Allowed (with an `Allow` header).
    public static let methodNotAllowed = HTTPStatus(405)
    /// 409 Conflict.
    public static let conflict = HTTPStatus(409)
    /// 413 Content Too Large.
    public static let contentTooLarge = HTTPStatus(413)
    /// 415 Unsupported Media Type.
    public static let unsupportedMediaType = HTTPStatus(415)
    /// 422 Unprocessable Content: valid JSON that makes no sense for the target.
    public static let unprocessableContent = HTTPStatus(422)
    /// 500 Internal Server Error.
    public static let internalServerError = HTTPStatus(500)
    /// 503 Service Unavailable: starting or draining.
    public static let serviceUnavailable = HTTPStatus(503)

    /// The numeric code as text.
    public var description: String { String(code) }
}
