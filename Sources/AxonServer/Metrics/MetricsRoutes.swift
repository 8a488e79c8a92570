/// `GET /metrics`: the Prometheus exposition, answered synchronously (a scrape is cheap and must
/// not queue behind handlers on the cooperative pool).
public enum MetricsRoutes {
    /// The scrape path.
    public static let path = "/metrics"

    /// Registers `GET /metrics` on `router`; with `debug`, also `POST /debug/metrics/models/{name}`.
    public static func register(on router: inout Router, metrics: AxonMetrics, debug: Bool = false) {
        let headers: HTTPHeaders = ["Content-Type": AxonMetrics.contentType]
        router.get(path) { _ in Response(status: .ok, headers: headers, body: metrics.exposition()) }
        if debug { registerDebug(on: &router, metrics: metrics) }
    }

    private static let okBody = Array(#"{"status":"ok"}"#.utf8)

    /// Test machinery (only with `--enable-debug-routes`): records one predict, one epoch and
    /// one checkpoint for model `{name}` through the same calls the store and jobs make, so a
    /// scraper can see the per-model families without training a model. `DELETE` forgets it.
    private static func registerDebug(on router: inout Router, metrics: AxonMetrics) {
        router.post("/debug/metrics/models/{name}") { request in
            let name = try request.parameters.require("name")
            guard (1...64).contains(name.utf8.count) else { throw APIError.badRequest("model name must be 1...64 bytes") }
            metrics.inference.observe(model: name, version: 1, rows: 1, duration: .microseconds(100))
            metrics.training.epochCompleted(model: name, trainLoss: 1, validationLoss: 1)
            metrics.store.checkpointWritten(model: name, bytes: 0, duration: .milliseconds(1))
            return Response.json(bytes: okBody)
        }
        router.delete("/debug/metrics/models/{name}") { request in
            metrics.forget(model: try request.parameters.require("name"))
            return Response.json(bytes: okBody)
        }
    }
}
