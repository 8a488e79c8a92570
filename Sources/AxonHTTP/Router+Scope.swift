/// Access scopes attached at registration, e.g. `router.post("/train", scope: .admin, async: train)`.
/// Routes registered without one get `AccessPolicy.defaultScope(method:path:)`.
extension Router {
    /// Registers a synchronous handler that requires `scope`.
    public mutating func on<R: ResponseGenerator>(
        _ method: HTTPMethod, _ template: String, scope: AccessScope, _ handler: @escaping @Sendable (Request) throws -> R
    ) {
        on(method, template, handler)
        scopes[Self.scopeKey(method, template)] = scope
    }

    /// Registers an asynchronous handler that requires `scope`.
    public mutating func on<R: ResponseGenerator>(
        _ method: HTTPMethod, _ template: String, scope: AccessScope,
        async handler: @escaping @Sendable (Request) async throws -> R
    ) {
        on(method, template, async: handler)
        scopes[Self.scopeKey(method, template)] = scope
    }

    /// A synchronous `GET` route requiring `scope`.
    public mutating func get<R: ResponseGenerator>(
        _ template: String, scope: AccessScope, _ handler: @escaping @Sendable (Request) throws -> R
    ) {
        on(.get, template, scope: scope, handler)
    }
    /// An asynchronous `GET` route requiring `scope`.
    public mutating func get<R: ResponseGenerator>(
        _ template: String, scope: AccessScope, async handler: @escaping @Sendable (Request) async throws -> R
    ) {
        on(.get, template, scope: scope, async: handler)
    }
    /// A synchronous `POST` route requiring `scope`.
    public mutating func post<R: ResponseGenerator>(
        _ template: String, scope: AccessScope, _ handler: @escaping @Sendable (Request) throws -> R
    ) {
        on(.post, template, scope: scope, handler)
    }
    /// An asynchronous `POST` route requiring `scope`.
    public mutating func post<R: ResponseGenerator>(
        _ template: String, scope: AccessScope, async handler: @escaping @Sendable (Request) async throws -> R
    ) {
        on(.post, template, scope: scope, async: handler)
    }
    /// An asynchronous `PUT` route requiring `scope`.
    public mutating func put<R: ResponseGenerator>(
        _ template: String, scope: AccessScope, async handler: @escaping @Sendable (Request) async throws -> R
    ) {
        on(.put, template, scope: scope, async: handler)
    }
    /// An asynchronous `DELETE` route requiring `scope`.
    public mutating func delete<R: ResponseGenerator>(
        _ template: String, scope: AccessScope, async handler: @escaping @Sendable (Request) async throws -> R
    ) {
        on(.delete, template, scope: scope, async: handler)
    }

    /// The scope attached to `method` + `template` at registration, if any (`HEAD` uses `GET`'s).
    public func attachedScope(method: HTTPMethod, template: String) -> AccessScope? {
        // Runs per request: skip the key's allocation when no route attached a scope.
        guard !scopes.isEmpty else { return nil }
        return scopes[Self.scopeKey(method, template)] ?? (method == .head ? scopes[Self.scopeKey(.get, template)] : nil)
    }

    /// The scope a request needs: the one attached to its route, else the policy's default by
    /// method and route template (or raw path when nothing matched).
    func requiredScope(for match: Match, method: HTTPMethod, path: String, policy: AccessPolicy) -> AccessScope {
        if case .found(_, let template, _) = match {
            return attachedScope(method: method, template: template) ?? policy.defaultScope(method: method, path: template)
        }
        return policy.defaultScope(method: method, path: path)
    }

    // `match` reports templates exactly as registered, so they key the table as they are.
    private static func scopeKey(_ method: HTTPMethod, _ template: String) -> String {
        "\(method.rawValue) \(template)"
    }
}
