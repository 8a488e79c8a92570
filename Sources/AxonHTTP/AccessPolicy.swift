/// Bearer-token access control with two scopes (`read`, `admin`), applied to every request by
/// the responder before its handler runs.
///
/// Off when no token is configured. With only an admin token, reads stay open and everything
/// else needs the admin token; with both, reads need either token. A read token alone is
/// rejected by the configuration (it would leave training open while predictions are closed).
public struct AccessPolicy: Sendable, Equatable {
    /// Grants `read` (`auth.read_token`, `AXON_READ_TOKEN`); nil leaves reads open.
    public var readToken: String?
    /// Grants `admin` and `read` (`auth.admin_token`, `AXON_ADMIN_TOKEN`); nil turns auth off.
    public var adminToken: String?
    /// Whether `/metrics` needs the read token (`auth.protect_metrics`).
    public var protectMetrics = false
    /// Whether the probes need the read token (`auth.protect_health`); Kubernetes probes
    /// send no token, so keep them open there.
    public var protectHealth = false

    /// No tokens: everything open.
    public init() {}

    /// Whether any token is configured.
    public var isEnabled: Bool { readToken != nil || adminToken != nil }

    // The probe paths of HealthRoutes; listed here so a default never locks a kubelet out.
    private static let healthPaths: Set<String> = ["/healthz", "/readyz", "/v2/health/live", "/v2/health/ready"]
    // Last-segment forms of the inference protocols: TF-Serving verbs and KServe V2 `/infer`.
    private static let readVerbs = [":predict", ":evaluate", ":classify", ":regress"]
    private static let readLastSegments: Set<String> = ["infer", "predict", "evaluate"]

    /// The scope of a route registered without one, by method and path (or route template):
    /// `GET`/`HEAD` read (probes and `/metrics` open unless protected), `OPTIONS` open,
    /// `POST`s to predict/evaluate/infer read, every other method admin. Routes other code
    /// registers are thereby protected without its cooperation; unknown forms default to admin.
    public func defaultScope(method: HTTPMethod, path: String) -> AccessScope {
        switch method {
        case .options:
            return .open
        case .get, .head:
            if Self.healthPaths.contains(path) { return protectHealth ? .read : .open }
            if path == "/metrics" { return protectMetrics ? .read : .open }
            return .read
        case .post:
            let last = path.split(separator: "/").last.map(String.init) ?? ""
            if Self.readVerbs.contains(where: { last.hasSuffix($0) }) || Self.readLastSegments.contains(last) {
                return .read
            }
            return .admin
        default:
            return .admin
        }
    }

    /// The error to answer instead of running the handler, or nil when the request may proceed.
    /// A missing, malformed or unknown token is a 401; the read token on an admin route a 403.
    public func denial(for scope: AccessScope, authorization: String?) -> APIError? {
        guard isEnabled, scope != .open else { return nil }
        if scope == .read && readToken == nil { return nil }
        guard let presented = Self.bearerToken(authorization) else {
            return .unauthorized("this route needs a bearer token (Authorization: Bearer <token>)", code: "missing_token")
        }
        // Both comparisons always run, so timing does not tell which token was close.
        // UTF-8 views compare in place: no per-request copies of the secrets.
        let isAdmin = adminToken.map { ConstantTime.equals(presented, $0.utf8) } ?? false
        let isReader = readToken.map { ConstantTime.equals(presented, $0.utf8) } ?? false
        switch scope {
        case .open:
            return nil
        case .read:
            return isAdmin || isReader ? nil : .unauthorized("the bearer token is not valid", code: "invalid_token")
        case .admin:
            if isAdmin { return nil }
            if isReader { return .forbidden(scope: .admin) }
            return .unauthorized("the bearer token is not valid", code: "invalid_token")
        }
    }

    /// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), else
    /// nil. Works on the UTF-8 bytes in place: this runs on every protected request.
    static func bearerToken(_ header: String?) -> Substring.UTF8View? {
        guard let header else { return nil }
        let bytes = Substring(header).utf8
        guard let space = bytes.firstIndex(of: UInt8(ascii: " ")) else { return nil }
        let scheme = bytes[..<space]
        // ORing 0x20 lower-cases ASCII letters; only 'B'/'b' etc. map onto these letters.
        guard scheme.count == 6, zip(scheme, "bearer".utf8).allSatisfy({ $0 | 0x20 == $1 }) else { return nil }
        var token = bytes[bytes.index(after: space)...]
        let blank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        while let first = token.first, blank(first) { token = token.dropFirst() }
        while let last = token.last, blank(last) { token = token.dropLast() }
        return token.isEmpty ? nil : token
    }
}

extension APIError {
    /// 401 with `WWW-Authenticate: Bearer` (RFC 6750): no usable token.
    public static func unauthorized(_ message: String, code: String) -> APIError {
        let challenge = code == "invalid_token" ? #"Bearer realm="axon", error="invalid_token""# : #"Bearer realm="axon""#
        return APIError(status: .unauthorized, code: code, message: message, headers: ["WWW-Authenticate": challenge])
    }

    /// 403: a valid token whose scope is too small for the route.
    public static func forbidden(scope: AccessScope) -> APIError {
        APIError(
            status: .forbidden, code: "insufficient_scope", message: "this route needs the \(scope) token",
            headers: ["WWW-Authenticate": #"Bearer realm="axon", error="insufficient_scope", scope="\#(scope)""#])
    }
}
