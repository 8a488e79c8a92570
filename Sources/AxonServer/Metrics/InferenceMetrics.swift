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

    /// The series one model version records into, resolved once by `series(model:version:)`:
    /// recording through it takes no lock and allocates nothing. It stays valid until
    /// `forget(model:)` drops the model; after that it records into series no scrape shows.
    public final class Series: Sendable {
        let owner: ObjectIdentifier
        private let rows: Counter
        private let duration: DurationHistogram
        private let batch: ValueHistogram

        init(owner: ObjectIdentifier, rows: Counter, duration: DurationHistogram, batch: ValueHistogram) {
            self.owner = owner
            self.rows = rows
            self.duration = duration
            self.batch = batch
        }

        /// Records one predict call that predicted `rows` rows in `duration`.
        public func record(rows: Int, duration: Duration) {
            self.rows.increment(by: Int64(max(0, rows)))
            self.duration.record(duration)
            batch.record(Double(rows))
        }
    }

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
    /// Looks the series up each time; hot paths keep `series(model:version:)` instead.
    public func observe(model: String, version: Int, rows: Int, duration: Duration) {
        series(model: model, version: version).record(rows: rows, duration: duration)
    }

    /// The series of `model` at `version`, created on first use.
    public func series(model: String, version: Int) -> Series {
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
        return Series(owner: ObjectIdentifier(self), rows: counter, duration: series.duration, batch: batch)
    }

    /// Drops every series labelled with `model` (after it is unloaded or deleted).
    public func forget(model: String) {
        guard let series = models.withLock({ $0.removeValue(forKey: model) }) else { return }
        registry.unregisterDurationHistogram(series.duration)
        for entry in series.rows.withLock({ $0 }) { registry.unregisterCounter(entry.counter) }
    }
}
