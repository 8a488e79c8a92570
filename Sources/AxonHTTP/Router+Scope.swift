/// Access scopes attached at registration, e.g. `router.post("/train", scope: .admin, async: train)`.
/// Routes registered without one get `AccessPolicy.defaultScope(method:path:)`.
extension Router {
    /// Requires `scope` for `method` + `template` (registration passes it on).
    mutating func attach(_ scope: AccessScope, method: HTTPMethod, template: String) {
        scopes[Self.scopeKey(method, template)] = scope
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
