import Prometheus
import Synchronization

/// Inference families: rows predicted by model and version, predict duration by model, and the
/// distribution of rows per predict call. Model labels exist only for loaded models: call
/// `forget(model:)` when one is unloaded or deleted.
public final class InferenceMetrics: Sendable {
    static let rowsName = "axon_inference_rows_total"
    static let durationName = "axon_inference_predict_duration_seconds"
    static let batchName = "axon_inference_batch_size_rows"
    private static let rowsHelp = "Rows predicted, by model and version."
    private static let durationHelp = "Time spent computing one predict call (decoding excluded), by model."

    /// Bounds of the rows-per-call histogram: powers of four from 1 to 65536.
    public static let batchBuckets: [Double] = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536]

    private final class ModelSeries: Sendable {
        let duration: DurationHistogram
        let rows = Mutex<[(version: Int, counter: Counter)]>([])
        init(duration: DurationHistogram) { self.duration = duration }
    }

    private let registry: PrometheusCollectorRegistry
    private let buckets: [Duration]
    private let batch: ValueHistogram
    private let models = Mutex<[String: ModelSeries]>([:])

    init(registry: PrometheusCollectorRegistry, buckets: [Duration]) {
        self.registry = registry
        self.buckets = buckets
        batch = registry.valueHistogram(
            name: Self.batchName, buckets: Self.batchBuckets, help: "Rows per predict call, all models.")
    }

    /// Records one predict call on `model` at `version` that predicted `rows` rows in `duration`.
    public func observe(model: String, version: Int, rows: Int, duration: Duration) {
        let series = models.withLock { models in
            if let found = models[model] { return found }
            let created = ModelSeries(
                duration: registry.durationHistogram(
                    name: Self.durationName, labels: [("model", model)], buckets: buckets, help: Self.durationHelp))
            models[model] = created
            return created
        }
        let counter = series.rows.withLock { list in
            for entry in list where entry.version == version { return entry.counter }
            let counter = registry.counter(
                name: Self.rowsName, labels: [("model", model), ("version", String(version))], help: Self.rowsHelp)
            list.append((version, counter))
            return counter
        }
        counter.increment(by: Int64(max(0, rows)))
        series.duration.record(duration)
        batch.record(Double(rows))
    }

    /// Drops every series labelled with `model` (after it is unloaded or deleted).
    public func forget(model: String) {
        guard let series = models.withLock({ $0.removeValue(forKey: model) }) else { return }
        registry.unregisterDurationHistogram(series.duration)
        for entry in series.rows.withLock({ $0 }) { registry.unregisterCounter(entry.counter) }
    }
}
