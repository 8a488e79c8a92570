/// Liveness and readiness probes: `/healthz`, `/readyz` and the KServe V2 aliases
/// `/v2/health/live`, `/v2/health/ready`. All synchronous: probes must stay cheap under load.
public enum HealthRoutes {
    // Constant bodies: the probes are the hottest routes and allocate nothing to encode.
    private static let liveBody = Array(#"{"status":"live"}"#.utf8)
    private static let readyBody = Array(#"{"status":"ready"}"#.utf8)

    /// Registers the four probe routes on `router`.
    public static func register(on router: inout Router, readiness: Readiness) {
        let live: @Sendable (Request) -> Response = { _ in Response.json(bytes: liveBody) }
        let ready: @Sendable (Request) throws -> Response = { _ in
            switch readiness.phase {
            case .ready: return Response.json(bytes: readyBody)
            case .starting: throw APIError.notReady
            case .draining: throw APIError.draining
            }
        }
        router.get("/healthz", live)
        router.get("/v2/health/live", live)
        router.get("/readyz", ready)
        router.get("/v2/health/ready", ready)
    }
}
