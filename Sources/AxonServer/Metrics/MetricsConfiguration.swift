import Foundation

/// Settings of Axon's Prometheus metrics.
public struct MetricsConfiguration: Sendable, Equatable {
    /// Whether requests are instrumented and `GET /metrics` is served. Off, the families still
    /// exist in memory (call sites stay one line) but nothing per request is recorded.
    public var enabled = true
    /// Upper bounds of the request- and predict-duration histograms, ascending.
    public var durationBuckets: [Duration] = MetricsConfiguration.defaultDurationBuckets

    /// 50 µs to 10 s in 1-2.5-5 steps: resolves sub-millisecond inference and slow training calls alike.
    public static let defaultDurationBuckets: [Duration] = [
        .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500),
        .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    /// The defaults: enabled, `defaultDurationBuckets`.
    public init() {}

    /// Parses a comma-separated list of bucket bounds in seconds (`0.00005,0.001,1`).
    /// Throws when a value is not a positive number or the list is not strictly ascending.
    public static func parseBuckets(_ text: String) throws(MetricsConfigurationError) -> [Duration] {
        var buckets: [Duration] = []
        for piece in text.split(separator: ",", omittingEmptySubsequences: false) {
            let trimmed = piece.trimmingCharacters(in: .whitespaces)
            guard let seconds = Double(trimmed), seconds.isFinite, seconds > 0, seconds <= 86_400 else {
                throw .invalidBucket(String(trimmed))
            }
            let bound = Duration.nanoseconds(Int64((seconds * 1e9).rounded()))
            if let last = buckets.last, bound <= last { throw .bucketsNotAscending(text) }
            buckets.append(bound)
        }
        guard !buckets.isEmpty else { throw .invalidBucket(text) }
        return buckets
    }
}

/// A metrics setting that cannot be used.
public enum MetricsConfigurationError: Error, Equatable, CustomStringConvertible {
    /// A bucket bound that is not a positive number of seconds (at most one day).
    case invalidBucket(String)
    /// Bucket bounds that are not strictly ascending.
    case bucketsNotAscending(String)

    /// A sentence naming the problem.
    public var description: String {
        switch self {
        case .invalidBucket(let text): "histogram bucket \"\(text)\" is not a positive number of seconds up to 86400"
        case .bucketsNotAscending(let text): "histogram buckets \(text) must be strictly ascending"
        }
    }
}
