import AxonHTTP
/// `GET /metrics`: the Prometheus exposition, answered synchronously (a scrape is cheap and must
/// not queue behind handlers on the cooperative pool).
public enum MetricsRoutes {
    /// The scrape path.
    public static let path = "/metrics"

    /// Registers `GET /metrics` on `router`.
    public static func register(on router: inout Router, metrics: AxonMetrics) {
        let headers: HTTPHeaders = ["Content-Type": AxonMetrics.contentType]
        router.get(path) { _ in Response(status: .ok, headers: headers, body: metrics.exposition()) }
    }
}
