import AxonHTTP
import Prometheus
import Synchronization

/// HTTP families: requests by route, method and status; duration by route; bytes; in-flight
/// requests (read from the server at scrape time); and the 413/503 rejections the shim decides before any handler runs.
///
/// Series are resolved once per (route, method, status) and kept in tables of set-once slots, so a
/// request finds its counter and histogram with a short hash of the template it already carries and
/// a few atomic loads: no lock, no label strings, no allocation. What remains per request is the
/// Prometheus updates themselves (three atomic counters and one histogram).
public final class HTTPMetrics: HTTPObserver {
    /// Why a request was refused; the HTTP layer's own type.
    public typealias Rejection = HTTPRejection

    /// The `route` label of requests that matched no route: one value, so junk paths stay bounded.
    public static let unmatchedRoute = "unmatched"
    /// The `method` label of methods outside the standard set (clients may send any token).
    public static let otherMethod = "other"

    private final class RouteSeries: Sendable {
        let route: String
        let duration: DurationHistogram
        let requestBytes: Counter
        let responseBytes: Counter

        init(route: String, registry: PrometheusCollectorRegistry, buckets: [Duration]) {
            self.route = route
            let labels = [("route", route)]
            duration = registry.durationHistogram(
                name: "axon_http_request_duration_seconds", labels: labels, buckets: buckets,
                help: "Time from the request line to the answer being handed to the server, by route template.")
            requestBytes = registry.counter(
                name: "axon_http_request_bytes_total", labels: labels, help: "Request body bytes received, by route template.")
            responseBytes = registry.counter(
                name: "axon_http_response_bytes_total", labels: labels, help: "Response body bytes sent, by route template.")
        }
    }

    // The (method, status) counter of one route, with its route's series.
    private final class CounterEntry: Sendable {
        let key: Int
        let series: RouteSeries
        let counter: Counter
        init(key: Int, series: RouteSeries, counter: Counter) {
            self.key = key
            self.series = series
            self.counter = counter
        }
    }

    // A route's series and its counters. Both tables only ever gain entries (routes and their
    // series are never dropped), which is what lets requests read them without a lock.
    private final class RouteEntry: Sendable {
        let series: RouteSeries
        let counters = SetOnceTable<CounterEntry>(capacity: 64)
        init(series: RouteSeries) { self.series = series }
    }

    private let registry: PrometheusCollectorRegistry
    private let buckets: [Duration]
    private let routeTable = SetOnceTable<RouteEntry>(capacity: 128)
    // Routes and counters that did not fit in the tables (keyed "route key" for counters).
    private struct Overflow {
        var routes: [String: RouteEntry] = [:]
        var counters: [String: CounterEntry] = [:]
    }
    // Serializes creating series (rare), so two threads never register one label set twice.
    private let creation = Mutex<Overflow>(Overflow())
    private let inFlight: ScrapedGauge
    private let timeouts: ScrapedCounter
    private let rejections: [Counter]

    init(registry: PrometheusCollectorRegistry, buckets: [Duration]) {
        self.registry = registry
        self.buckets = buckets
        inFlight = ScrapedGauge(registry.gauge(
            name: "axon_http_requests_in_flight", help: "Requests received and not yet completed (answered and sent, or aborted), read when scraped."))
        timeouts = ScrapedCounter(registry.counter(
            name: "axon_http_request_timeouts_total",
            help: "Connections closed because their request had not arrived whole within http.request_timeout_seconds."))
        rejections = Rejection.allCases.map { reason in
            registry.counter(
                name: "axon_http_rejections_total", labels: [("reason", reason.label), ("status", reason.status)],
                help: "Requests refused without running their handler: 413 over the body limit, 503 while draining or at the drain deadline.")
        }
    }

    /// Creates the series of `route` (and its `method`/`status` counter at zero) so the families
    /// appear in the exposition before the first request.
    public func prepare(route: String, method: HTTPMethod, status: Int) {
        _ = counterEntry(route: route, method: method, status: status)
    }

    /// Makes the in-flight gauge read `source` at each scrape (the server's own count of
    /// requests received and not yet completed), instead of two atomic updates per request.
    public func observeInFlight(_ source: @escaping @Sendable () -> Int) {
        inFlight.observe(source)
    }

    /// Makes the timeout counter follow `source`, the server's count of connections it closed at
    /// the request deadline.
    public func observeTimeouts(_ source: @escaping @Sendable () -> Int) {
        timeouts.observe(source)
    }

    /// Reads the values kept elsewhere; called once per scrape.
    func refresh() {
        inFlight.refresh()
        timeouts.refresh()
    }

    /// Records one answered request. `route` is the matched template, nil when none matched.
    public func requestFinished(
        route: String?, method: HTTPMethod, status: Int, requestBytes: Int, responseBytes: Int, nanoseconds: UInt64
    ) {
        let entry = counterEntry(route: route ?? Self.unmatchedRoute, method: method, status: status)
        entry.counter.increment()
        entry.series.duration.recordNanoseconds(Int64(clamping: nanoseconds))
        if requestBytes > 0 { entry.series.requestBytes.increment(by: Int64(requestBytes)) }
        if responseBytes > 0 { entry.series.responseBytes.increment(by: Int64(responseBytes)) }
    }

    /// Counts a request refused for `reason` (it is also counted by `requestFinished`).
    public func rejected(_ reason: Rejection) {
        switch reason {
        case .bodyTooLarge: rejections[0].increment()
        case .draining: rejections[1].increment()
        case .drainDeadline: rejections[2].increment()
        }
    }

    // The hot path: a template hash, one or two probes per table, no lock once the entry exists.
    private func counterEntry(route: String, method: HTTPMethod, status: Int) -> CounterEntry {
        let methodIndex = Self.methodIndex(method)
        let key = methodIndex << 16 | (status & 0xFFFF)
        let routeHash = Self.hash(route)
        if let routeEntry = routeTable.find(hash: routeHash, where: { $0.series.route == route }),
            let entry = routeEntry.counters.find(hash: Self.hash(key: key), where: { $0.key == key })
        {
            return entry
        }
        return createEntry(route: route, routeHash: routeHash, methodIndex: methodIndex, status: status, key: key)
    }

    private func createEntry(route: String, routeHash: Int, methodIndex: Int, status: Int, key: Int) -> CounterEntry {
        creation.withLock { overflow -> CounterEntry in
            let routeEntry: RouteEntry
            if let found = routeTable.find(hash: routeHash, where: { $0.series.route == route }) ?? overflow.routes[route] {
                routeEntry = found
            } else {
                routeEntry = RouteEntry(series: RouteSeries(route: route, registry: registry, buckets: buckets))
                if !routeTable.insert(routeEntry, hash: routeHash) { overflow.routes[route] = routeEntry }
            }
            if let found = routeEntry.counters.find(hash: Self.hash(key: key), where: { $0.key == key }) { return found }
            let overflowKey = "\(route) \(key)"
            if let found = overflow.counters[overflowKey] { return found }
            let counter = registry.counter(
                name: "axon_http_requests_total",
                labels: [("route", route), ("method", Self.methodLabels[methodIndex]), ("status", String(status))],
                help: "HTTP requests answered, by route template, method and status code.")
            let entry = CounterEntry(key: key, series: routeEntry.series, counter: counter)
            if !routeEntry.counters.insert(entry, hash: Self.hash(key: key)) { overflow.counters[overflowKey] = entry }
            return entry
        }
    }

    // FNV-1a over the template's bytes: templates are short, and this avoids Hasher's
    // per-process seeding and finalization on every request.
    private static func hash(_ route: String) -> Int {
        func fnv(_ bytes: some Sequence<UInt8>) -> Int {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
            return Int(truncatingIfNeeded: hash)
        }
        // Iterating `utf8` directly costs several times more per byte than a buffer.
        return route.utf8.withContiguousStorageIfAvailable { fnv($0) } ?? fnv(route.utf8)
    }

    // Spreads (method index, status) keys, which differ mostly in a few low bits, over the table.
    private static func hash(key: Int) -> Int { key &* 0x9E37_79B9 }

    // Label values of the standard methods, and `other` last, at `methodIndex`.
    private static let methodLabels = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", otherMethod]

    // The standard methods' tokens packed big-endian into an integer, at their `methodIndex`.
    private static let methodCodes: [UInt64] = methodLabels.dropLast().map { pack($0.utf8) ?? 0 }

    // Up to 8 bytes as one integer, so a method is found by integer comparisons instead of
    // string comparisons (which take a slow path for tokens built from C strings).
    private static func pack(_ bytes: some Collection<UInt8>) -> UInt64? {
        guard bytes.count <= 8 else { return nil }
        var value: UInt64 = 0
        for byte in bytes { value = value << 8 | UInt64(byte) }
        return value
    }

    private static func methodIndex(_ method: HTTPMethod) -> Int {
        let utf8 = method.rawValue.utf8
        guard let code = utf8.withContiguousStorageIfAvailable({ pack($0) }) ?? pack(utf8), code != 0 else { return 7 }
        return methodCodes.firstIndex(of: code) ?? 7
    }
}

extension HTTPRejection {
    /// The `reason` label.
    var label: String {
        switch self {
        case .bodyTooLarge: "body_too_large"
        case .draining: "draining"
        case .drainDeadline: "drain_deadline"
        }
    }

    /// The `status` label.
    var status: String {
        switch self {
        case .bodyTooLarge: "413"
        case .draining, .drainDeadline: "503"
        }
    }
}
