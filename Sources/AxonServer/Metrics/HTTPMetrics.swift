import Prometheus
import Synchronization

/// HTTP families: requests by route, method and status; duration by route; bytes; in-flight
/// requests (read from the server at scrape time); and the 413/503 rejections the shim decides before any handler runs.
///
/// Series are resolved once per route and kept, so a request costs one dictionary lookup on the
/// template it already carries, a short scan for its (method, status) counter under one lock, a few atomics and one histogram
/// update.
public final class HTTPMetrics: Sendable {
    /// Why a request was refused before (or instead of) its handler.
    public enum Rejection: Sendable, CaseIterable {
        /// 413: the body is larger than the configured limit.
        case bodyTooLarge
        /// 503: the request arrived while the server was draining.
        case draining
        /// 503: the drain deadline answered the request before its handler finished.
        case drainDeadline

        var label: String {
            switch self {
            case .bodyTooLarge: "body_too_large"
            case .draining: "draining"
            case .drainDeadline: "drain_deadline"
            }
        }

        var status: String {
            switch self {
            case .bodyTooLarge: "413"
            case .draining, .drainDeadline: "503"
            }
        }
    }

    /// The `route` label of requests that matched no route: one value, so junk paths stay bounded.
    public static let unmatchedRoute = "unmatched"
    /// The `method` label of methods outside the standard set (clients may send any token).
    public static let otherMethod = "other"

    static let requestsName = "axon_http_requests_total"
    static let durationName = "axon_http_request_duration_seconds"
    static let requestBytesName = "axon_http_request_bytes_total"
    static let responseBytesName = "axon_http_response_bytes_total"
    static let inFlightName = "axon_http_requests_in_flight"
    static let rejectionsName = "axon_http_rejections_total"

    private static let requestsHelp = "HTTP requests answered, by route template, method and status code."
    private static let durationHelp = "Time from the request line to the answer being handed to the server, by route template."
    private static let requestBytesHelp = "Request body bytes received, by route template."
    private static let responseBytesHelp = "Response body bytes sent, by route template."

    private final class RouteSeries: Sendable {
        let route: String
        let duration: DurationHistogram
        let requestBytes: Counter
        let responseBytes: Counter

        init(route: String, registry: PrometheusCollectorRegistry, buckets: [Duration]) {
            self.route = route
            let labels = [("route", route)]
            duration = registry.durationHistogram(name: HTTPMetrics.durationName, labels: labels, buckets: buckets, help: HTTPMetrics.durationHelp)
            requestBytes = registry.counter(name: HTTPMetrics.requestBytesName, labels: labels, help: HTTPMetrics.requestBytesHelp)
            responseBytes = registry.counter(name: HTTPMetrics.responseBytesName, labels: labels, help: HTTPMetrics.responseBytesHelp)
        }
    }

    // A route's series and its (method, status) counters: a handful per route, so a scan of
    // small strings beats hashing a composite key.
    private struct RouteEntry {
        let series: RouteSeries
        var counters: [(method: String, status: Int, counter: Counter)] = []
    }

    private let registry: PrometheusCollectorRegistry
    private let buckets: [Duration]
    // One lock per request: the route lookup and its counter lookup happen under it together.
    private let routes = Mutex<[String: RouteEntry]>([:])
    private let inFlight: Gauge
    private let inFlightSource = Mutex<(@Sendable () -> Int)?>(nil)
    private let rejections: [Counter]

    init(registry: PrometheusCollectorRegistry, buckets: [Duration]) {
        self.registry = registry
        self.buckets = buckets
        inFlight = registry.gauge(
            name: Self.inFlightName, help: "Requests received and not yet completed (answered and sent, or aborted), read when scraped.")
        rejections = Rejection.allCases.map { reason in
            registry.counter(
                name: Self.rejectionsName, labels: [("reason", reason.label), ("status", reason.status)],
                help: "Requests refused without running their handler: 413 over the body limit, 503 while draining or at the drain deadline.")
        }
    }

    /// Creates the series of `route` (and its `method`/`status` counter at zero) so the families
    /// appear in the exposition before the first request.
    public func prepare(route: String, method: HTTPMethod, status: Int) {
        _ = series(route: route, method: Self.methodLabel(method), status: status)
    }

    /// Makes the in-flight gauge read `source` at each scrape (the server's own count of
    /// requests received and not yet completed), instead of two atomic updates per request.
    public func observeInFlight(_ source: @escaping @Sendable () -> Int) {
        inFlightSource.withLock { $0 = source }
    }

    /// Sets the in-flight gauge from its source; called once per scrape.
    func refreshInFlight() {
        if let source = inFlightSource.withLock({ $0 }) { inFlight.set(Double(source())) }
    }

    /// Records one answered request. `route` is the matched template, nil when none matched.
    public func requestFinished(
        route: String?, method: HTTPMethod, status: Int, requestBytes: Int, responseBytes: Int, nanoseconds: UInt64
    ) {
        let (series, counter) = series(route: route ?? Self.unmatchedRoute, method: Self.methodLabel(method), status: status)
        counter.increment()
        series.duration.recordNanoseconds(Int64(clamping: nanoseconds))
        if requestBytes > 0 { series.requestBytes.increment(by: Int64(requestBytes)) }
        if responseBytes > 0 { series.responseBytes.increment(by: Int64(responseBytes)) }
    }

    /// Counts a request refused for `reason` (it is also counted by `requestFinished`).
    public func rejected(_ reason: Rejection) {
        switch reason {
        case .bodyTooLarge: rejections[0].increment()
        case .draining: rejections[1].increment()
        case .drainDeadline: rejections[2].increment()
        }
    }

    private func series(route: String, method: String, status: Int) -> (RouteSeries, Counter) {
        routes.withLock { routes in
            if let entry = routes[route] {
                for counter in entry.counters where counter.status == status && counter.method == method {
                    return (entry.series, counter.counter)
                }
            }
            var entry = routes[route] ?? RouteEntry(series: RouteSeries(route: route, registry: registry, buckets: buckets))
            let counter = registry.counter(
                name: Self.requestsName, labels: [("route", route), ("method", method), ("status", String(status))],
                help: Self.requestsHelp)
            entry.counters.append((method, status, counter))
            routes[route] = entry
            return (entry.series, counter)
        }
    }

    private static func methodLabel(_ method: HTTPMethod) -> String {
        switch method.rawValue {
        case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS": method.rawValue
        default: otherMethod
        }
    }
}
