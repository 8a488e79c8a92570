/// Cross-origin resource sharing: off by default; when on, only origins on the allow-list get
/// `Access-Control-Allow-Origin`, and `OPTIONS` preflights are answered before routing and auth
/// (browsers send preflights without credentials).
public struct CORSPolicy: Sendable, Equatable {
    /// Whether CORS headers are sent at all (`cors.enabled`).
    public var enabled = false
    /// Origins allowed, exactly as browsers send them (`https://app.example.com`); `*` allows
    /// any origin (`cors.allowed_origins`).
    public var allowedOrigins: [String] = []
    /// How long browsers may cache a preflight answer (`cors.max_age_seconds`).
    public var maxAgeSeconds = 600

    /// CORS off.
    public init() {}

    /// The request headers the policy reads; the responder copies them only when CORS is on.
    static let requestHeaders = ["Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"]
    private static let allowedMethods = "GET, HEAD, POST, PUT, DELETE"
    private static let allowedHeaders = "Authorization, Content-Type, X-Request-Id"

    /// Whether `origin` is on the allow-list.
    public func allows(_ origin: String) -> Bool {
        enabled && allowedOrigins.contains { $0 == "*" || $0 == origin }
    }

    /// The answer to a preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`),
    /// or nil when the request is not one or CORS is off.
    public func preflightResponse(for request: Request) -> Response? {
        guard enabled, request.method == .options, let origin = request.headers["Origin"],
            request.headers["Access-Control-Request-Method"] != nil
        else { return nil }
        guard allows(origin) else {
            return APIError(
                status: .forbidden, code: "cors_origin_not_allowed",
                message: "origin \(origin) is not in cors.allowed_origins"
            ).response
        }
        var response = Response(status: .noContent)
        response.headers["Access-Control-Allow-Methods"] = Self.allowedMethods
        response.headers["Access-Control-Allow-Headers"] = Self.allowedHeaders
        response.headers["Access-Control-Max-Age"] = String(maxAgeSeconds)
        return response
    }

    /// Adds the allow-origin headers to `response` when the request came from an allowed origin.
    public func decorate(_ response: inout Response, for request: Request) {
        guard enabled, let origin = request.headers["Origin"], allows(origin) else { return }
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = "X-Request-Id"
        // The answer depends on Origin, so shared caches must key on it.
        response.headers["Vary"] = "Origin"
    }
}
