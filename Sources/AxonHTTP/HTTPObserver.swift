/// What the server observes, for whoever keeps count (the daemon's Prometheus families).
///
/// A protocol, so this layer knows no metrics library; nil observes nothing.
public protocol HTTPObserver: Sendable {
    /// One answered request. `route` is the matched template, nil when none matched.
    func requestFinished(
        route: String?, method: HTTPMethod, status: Int, requestBytes: Int, responseBytes: Int, nanoseconds: UInt64)
    /// A request refused for `reason` before or instead of its handler (also passed to
    /// `requestFinished`).
    func rejected(_ reason: HTTPRejection)
    /// `source` reads the requests received and not yet completed, when the observer wants it.
    func observeInFlight(_ source: @escaping @Sendable () -> Int)
    /// `source` reads the connections closed at the request deadline, when the observer wants it.
    func observeTimeouts(_ source: @escaping @Sendable () -> Int)
}

/// Why a request was refused before (or instead of) its handler.
public enum HTTPRejection: Sendable, CaseIterable {
    /// 413: the body is larger than the configured limit.
    case bodyTooLarge
    /// 503: the request arrived while the server was draining.
    case draining
    /// 503: the drain deadline answered the request before its handler finished.
    case drainDeadline
}
