import Prometheus
import Synchronization

/// HTTP families: requests by route, method and status; duration by route; bytes; in-flight
/// requests; and the 413/503 rejections the shim decides before any handler runs.
///
/// Series are resolved once per route and kept, so a request costs one dictionary lookup on the
/// template it already carries, a short scan for its (method, status) counter and a few atomics.
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
    private static let knownMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

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
        // (method, status) pairs seen on this route: a handful, so a scan beats hashing a key.
        let counters = Mutex<[(method: String, status: Int, counter: Counter)]>([])

        init(route: String, registry: PrometheusCollectorRegistry, buckets: [Duration]) {
            self.route = route
            let labels = [("route", route)]
            duration = registry.durationHistogram(name: HTTPMetrics.durationName, labels: labels, buckets: buckets, help: HTTPMetrics.durationHelp)
            requestBytes = registry.counter(name: HTTPMetrics.requestBytesName, labels: labels, help: HTTPMetrics.requestBytesHelp)
            responseBytes = registry.counter(name: HTTPMetrics.responseBytesName, labels: labels, help: HTTPMetrics.responseBytesHelp)
        }

        func counter(method: String, status: Int, registry: PrometheusCollectorRegistry) -> Counter {
            counters.withLock { list in
                for entry in list where entry.status == status && entry.method == method { return entry.counter }
                let counter = registry.counter(
                    name: HTTPMetrics.requestsName,
                    labels: [("route", route), ("method", method), ("status", String(status))],
                    help: HTTPMetrics.requestsHelp)
                list.append((method, status, counter))
                return counter
            }
        }
    }

    private let registry: PrometheusCollectorRegistry
    private let buckets: [Duration]
    private let routes = Mutex<[String: RouteSeries]>([:])
    private let inFlight: Gauge
    private let rejections: [Counter]

    init(registry: PrometheusCollectorRegistry, buckets: [Duration]) {
        self.registry = registry
        self.buckets = buckets
        inFlight = registry.gauge(
            name: Self.inFlightName, help: "Requests received whose answer has not been handed to the server yet.")
        rejections = Rejection.allCases.map { reason in
            registry.counter(
                name: Self.rejectionsName, labels: [("reason", reason.label), ("status", reason.status)],
                help: "Requests refused without running their handler: 413 over the body limit, 503 while draining or at the drain deadline.")
        }
    }

    /// Creates the series of `route` (and its `method`/`status` counter at zero) so the families
    /// appear in the exposition before the first request.
    public func prepare(route: String, method: HTTPMethod, status: Int) {
        _ = series(for: route).counter(method: Self.methodLabel(method), status: status, registry: registry)
    }

    /// Marks a request as received; pair each call with one `requestFinished`.
    public func requestStarted() {
        inFlight.increment()
    }

    /// Records one answered request. `route` is the matched template, nil when none matched.
    public func requestFinished(
        route: String?, method: HTTPMethod, status: Int, requestBytes: Int, responseBytes: Int, nanoseconds: UInt64
    ) {
        inFlight.decrement()
        let series = series(for: route ?? Self.unmatchedRoute)
        series.counter(method: Self.methodLabel(method), status: status, registry: registry).increment()
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

    private func series(for route: String) -> RouteSeries {
        routes.withLock { routes in
            if let found = routes[route] { return found }
            let created = RouteSeries(route: route, registry: registry, buckets: buckets)
            routes[route] = created
            return created
        }
    }

    private static func methodLabel(_ method: HTTPMethod) -> String {
        knownMethods.contains(method.rawValue) ? method.rawValue : otherMethod
    }
}
