import AxonAPI
import CHTTPShim
import Foundation
import Metrics
import Prometheus

/// Every metric Axon exports, registered once in one Prometheus registry.
///
/// The daemon owns one and passes it to the code that records: `metrics.inference.observe(...)`,
/// `metrics.training.jobFinished(...)`, `metrics.store.checkpointWritten(...)`. Tests create their
/// own, so nothing depends on the process-wide `MetricsSystem`.
///
/// Families are registered on the registry directly rather than through swift-metrics'
/// `Counter(label:)`: swift-metrics has no help text, and `PrometheusMetricsFactory` registers
/// every family with an empty one. `axond` bootstraps `MetricsSystem` with a factory over this same
/// registry, so metrics recorded by libraries through swift-metrics appear in the same exposition.
public final class AxonMetrics: Sendable {
    /// The media type of the exposition: Prometheus text format 0.0.4.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// The registry holding every family.
    public let registry: PrometheusCollectorRegistry
    /// The settings the families were created with.
    public let configuration: MetricsConfiguration
    /// Requests, durations, bytes, rejections.
    public let http: HTTPMetrics
    /// Predictions.
    public let inference: InferenceMetrics
    /// Training jobs.
    public let training: TrainingMetrics
    /// The model store and its checkpoints.
    public let store: StoreMetrics
    /// Per-model series exist only for models the store serves.
    let models = ModelSeriesGate()
    private let process: ProcessMetrics

    /// Registers every family in `registry` (a fresh one by default). `commit` labels `axon_build_info`.
    public init(
        configuration: MetricsConfiguration = MetricsConfiguration(), registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        commit: String = AxonBuildInfo.commit
    ) {
        self.registry = registry
        self.configuration = configuration
        http = HTTPMetrics(registry: registry, buckets: configuration.durationBuckets)
        inference = InferenceMetrics(registry: registry, buckets: configuration.durationBuckets, models: models)
        training = TrainingMetrics(registry: registry, models: models)
        store = StoreMetrics(registry: registry, buckets: configuration.durationBuckets, models: models)
        process = ProcessMetrics(registry: registry)
        registry.gauge(
            name: "axon_build_info", labels: [("version", AxonVersion.current), ("commit", commit)],
            help: "Always 1; the labels name the running build."
        ).set(to: 1)
        // The scrape route's series exist at zero, so every HTTP family is in the first scrape.
        http.prepare(route: MetricsRoutes.path, method: .get, status: 200)
    }

    /// The exposition in Prometheus text format, process values refreshed first.
    public func exposition() -> [UInt8] {
        process.update()
        http.refresh()
        inference.refreshPool()
        training.refresh()
        return registry.emitToBuffer()
    }

    /// Drops every series labelled with `model`: call it when a model is unloaded or deleted,
    /// after it stopped serving, so model labels stay bounded by the loaded models.
    public func forget(model: String) {
        models.dropping {
            inference.forget(model: model)
            training.forget(model: model)
            store.forget(model: model)
        }
    }

    /// Creates per-model series only for models `serves` says exist (the store's serving
    /// table); until then, for any model. The store calls it once, at creation.
    public func attachModels(serves: @escaping @Sendable (String) -> Bool) {
        models.attach(serves: serves)
    }
}

/// What `axon_build_info` reports about the running binary.
public enum AxonBuildInfo {
    /// The source commit: `AXON_BUILD_COMMIT` from the environment when set (an override, e.g.
    /// for a binary built outside git), else the commit `make` compiled in, else "unknown".
    public static let commit: String = resolveCommit(
        environment: ProcessInfo.processInfo.environment["AXON_BUILD_COMMIT"], embedded: embeddedCommit)

    /// The commit compiled into this binary by `make` (`Sources/CHTTPShim/build_info.c`), or
    /// "unknown" for a plain `swift build`.
    public static var embeddedCommit: String { String(cString: hs_build_commit()) }

    /// The first of `environment` and `embedded` that is a usable label value (1 to 64 letters,
    /// digits and `-._+`, as `git describe` prints), else "unknown".
    public static func resolveCommit(environment: String?, embedded: String) -> String {
        for candidate in [environment, embedded] {
            if let candidate, isUsable(candidate) { return candidate }
        }
        return "unknown"
    }

    private static func isUsable(_ value: String) -> Bool {
        !value.isEmpty && value.utf8.count <= 64
            && value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-._+".contains($0)) }
    }
}

extension AxonMetrics {
    /// Points the process-wide `MetricsSystem` at this registry, so anything recording through
    /// swift-metrics lands in the same exposition. Call once, from the executable (tests never do).
    public func bootstrapMetricsSystem() {
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    }
}
