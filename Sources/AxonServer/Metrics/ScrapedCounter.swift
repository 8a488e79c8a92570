import Prometheus
import Synchronization

/// A Prometheus counter fed at scrape time from a count something else keeps (an atomic in the
/// shim, a field under the inference pool's lock), so the event itself costs nothing extra.
/// The source may restart from zero (a server stopped and started again); the counter then
/// carries on from where it was, as a counter must.
final class ScrapedCounter: Sendable {
    private let counter: Counter
    private struct State {
        var source: (@Sendable () -> Int)?
        var last = 0
    }
    private let state = Mutex(State())

    init(_ counter: Counter) {
        self.counter = counter
    }

    /// Reads `source` at each scrape from now on.
    func observe(_ source: @escaping @Sendable () -> Int) {
        state.withLock { $0 = State(source: source, last: 0) }
    }

    /// Adds what the source counted since the last scrape.
    func refresh() {
        let delta = state.withLock { state -> Int in
            guard let source = state.source else { return 0 }
            let now = source()
            defer { state.last = now }
            return now >= state.last ? now - state.last : now
        }
        if delta > 0 { counter.increment(by: Int64(delta)) }
    }
}

/// A Prometheus gauge set at scrape time from a value something else keeps.
final class ScrapedGauge: Sendable {
    private let gauge: Gauge
    private let source = Mutex<(@Sendable () -> Int)?>(nil)

    init(_ gauge: Gauge) {
        self.gauge = gauge
    }

    /// Reads `source` at each scrape from now on.
    func observe(_ source: @escaping @Sendable () -> Int) {
        self.source.withLock { $0 = source }
    }

    /// Sets the gauge from its source.
    func refresh() {
        if let source = source.withLock({ $0 }) { gauge.set(Double(source())) }
    }
}
