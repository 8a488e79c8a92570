import AxonStore
import Prometheus
import Synchronization

/// Inference families: rows predicted by model and version, predict duration by model, and the
/// distribution of rows per predict call. Model labels exist only for loaded models: series are
/// created only while the model serves (`ModelSeriesGate`) and dropped by `forget(model:)` when
/// it is unloaded or deleted.
public final class InferenceMetrics: Sendable {
    /// Bounds of the rows-per-call histogram: powers of four from 1 to 65536.
    public static let batchBuckets: [Double] = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536]

    /// The series one model version records into, resolved once by `series(model:version:)`:
    /// recording through it takes no lock and allocates nothing. It stays valid until
    /// `forget(model:)` drops the model; after that it records into series no scrape shows.
    public final class Series: Sendable {
        private let model: ModelSeries
        private let rows: Counter
        private let duration: DurationHistogram
        private let batch: ValueHistogram

        fileprivate init(model: ModelSeries, rows: Counter, batch: ValueHistogram) {
            self.model = model
            self.rows = rows
            self.duration = model.duration
            self.batch = batch
        }

        /// Whether `forget(model:)` dropped this series' model since it was resolved.
        var isForgotten: Bool { model.forgotten.load(ordering: .acquiring) }

        /// Records one predict call that predicted `rows` rows in `duration`.
        public func record(rows: Int, duration: Duration) {
            self.rows.increment(by: Int64(max(0, rows)))
            self.duration.record(duration)
            batch.record(Double(rows))
        }

        /// Records one predict call that predicted `rows` rows in `nanoseconds` (from
        /// `MonotonicClock`, which is cheaper to read per request than `ContinuousClock`).
        public func record(rows: Int, nanoseconds: UInt64) {
            self.rows.increment(by: Int64(max(0, rows)))
            duration.recordNanoseconds(Int64(clamping: nanoseconds))
            batch.record(Double(rows))
        }
    }

    fileprivate final class ModelSeries: Sendable {
        let duration: DurationHistogram
        let rows = Mutex<[(version: Int, counter: Counter)]>([])
        let forgotten = Atomic<Bool>(false)
        init(duration: DurationHistogram) { self.duration = duration }
    }

    // A cached series, the snapshot it was resolved for and the model version it belongs to: a
    // snapshot's identity can be reused after it is freed, so a hit also compares name and version.
    private struct CachedSeries {
        let snapshot: ObjectIdentifier
        let name: String
        let version: UInt64
        let series: Series
    }

    private let registry: PrometheusCollectorRegistry
    private let buckets: [Duration]
    private let batch: ValueHistogram
    private let poolWaiting: ScrapedGauge
    private let poolBusy: ScrapedGauge
    private let poolRejections: ScrapedCounter
    private let gate: ModelSeriesGate
    private let models = Mutex<[String: ModelSeries]>([:])
    // Direct-mapped by snapshot address: a collision only costs the next prediction a lookup by
    // name, and stale entries of replaced snapshots are overwritten as they collide.
    private let bySnapshot = Mutex<[CachedSeries?]>(Array(repeating: nil, count: InferenceMetrics.snapshotCacheSlots))
    private static let snapshotCacheSlots = 64

    init(registry: PrometheusCollectorRegistry, buckets: [Duration], models: ModelSeriesGate) {
        self.registry = registry
        self.buckets = buckets
        self.gate = models
        batch = registry.valueHistogram(
            name: "axon_inference_batch_size_rows", buckets: Self.batchBuckets, help: "Rows per predict call, all models.")
        poolWaiting = ScrapedGauge(registry.gauge(
            name: "axon_inference_pool_waiting",
            help: "Predictions and evaluations waiting for an inference pool thread (at most inference.queue_limit), read when scraped."))
        poolBusy = ScrapedGauge(registry.gauge(
            name: "axon_inference_pool_busy_threads",
            help: "Inference pool threads running a prediction or evaluation (at most inference.threads), read when scraped."))
        poolRejections = ScrapedCounter(registry.counter(
            name: "axon_inference_pool_rejections_total",
            help: "Requests answered 503 overloaded because every inference pool thread was busy and inference.queue_limit requests already waited."))
    }

    /// Makes the pool families read the inference pool at each scrape.
    func observePool(
        waiting: @escaping @Sendable () -> Int, busy: @escaping @Sendable () -> Int, rejected: @escaping @Sendable () -> Int
    ) {
        poolWaiting.observe(waiting)
        poolBusy.observe(busy)
        poolRejections.observe(rejected)
    }

    /// Reads the pool; called once per scrape.
    func refreshPool() {
        poolWaiting.refresh()
        poolBusy.refresh()
        poolRejections.refresh()
    }

    /// Records one predict call on `model` at `version` that predicted `rows` rows in `duration`.
    /// Looks the series up each time; hot paths keep `series(model:version:)` instead.
    public func observe(model: String, version: Int, rows: Int, duration: Duration) {
        series(model: model, version: version)?.record(rows: rows, duration: duration)
    }

    /// The series of `model` at `version`, created on first use; nil when the model does not
    /// exist (deleted while the prediction ran): nothing is recorded for it.
    public func series(model: String, version: Int) -> Series? {
        gate.ifExists(model) { create(model: model, version: version) }
    }

    private func create(model: String, version: Int) -> Series {
        let series = models.withLock { models in
            if let found = models[model] { return found }
            let created = ModelSeries(
                duration: registry.durationHistogram(
                    name: "axon_inference_predict_duration_seconds", labels: [("model", model)], buckets: buckets,
                    help: "Time spent computing one predict call (decoding excluded), by model."))
            models[model] = created
            return created
        }
        let counter = series.rows.withLock { list in
            for entry in list where entry.version == version { return entry.counter }
            let counter = registry.counter(
                name: "axon_inference_rows_total", labels: [("model", model), ("version", String(version))],
                help: "Rows predicted, by model and version.")
            list.append((version, counter))
            return counter
        }
        return Series(model: series, rows: counter, batch: batch)
    }

    /// The series a served snapshot records into: found by the snapshot's identity under one
    /// short lock (an integer key, so no hashing of the model name), created on first use.
    func series(for stored: StoredModel) -> Series? {
        let key = ObjectIdentifier(stored)
        // Objects are at least 16-byte aligned: the bits above those pick the slot.
        let slot = Int(truncatingIfNeeded: UInt(bitPattern: key) >> 4) & (Self.snapshotCacheSlots - 1)
        let cached = bySnapshot.withLock { $0[slot] }
        if let cached, cached.snapshot == key, cached.version == stored.version, !cached.series.isForgotten,
            cached.name == stored.name
        {
            return cached.series
        }
        guard let created = series(model: stored.name, version: Int(clamping: stored.version)) else { return nil }
        bySnapshot.withLock { entries in
            entries[slot] = CachedSeries(snapshot: key, name: stored.name, version: stored.version, series: created)
        }
        return created
    }

    /// Drops every series labelled with `model` (after it is unloaded or deleted).
    public func forget(model: String) {
        bySnapshot.withLock { entries in
            for index in entries.indices where entries[index]?.name == model { entries[index] = nil }
        }
        guard let series = models.withLock({ $0.removeValue(forKey: model) }) else { return }
        // A series resolved before this line may still be cached under a snapshot; the flag
        // keeps it from being handed out again.
        series.forgotten.store(true, ordering: .releasing)
        registry.unregisterDurationHistogram(series.duration)
        for entry in series.rows.withLock({ $0 }) { registry.unregisterCounter(entry.counter) }
    }
}
